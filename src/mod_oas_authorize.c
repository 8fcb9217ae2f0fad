/* mod_oauth_as: the authorization endpoint (RFC 6749 §4.1.1-4.1.2, OIDC Core §3.1.2,
 * RFC 9126 §4 for request_uri, RFC 9101 for request) and the consent decision posted back
 * to it. */
#include <apr_strings.h>
#include <ap_expr.h>
#include <http_protocol.h>
#include <http_request.h>

#include "mod_oas_endpoints.h"
#include "mod_oas_request.h"
#include "mod_oas_session.h"
#include "mod_oas_store.h"
#include "oas_clients.h"
#include "oas_authz.h"
#include "oas_consent.h"
#include "oas_consent_txn.h"
#include "oas_form.h"
#include "oas_jarm.h"
#include "oas_jsonw.h"
#include "oas_par_record.h"
#include "oas_profile.h"
#include "oas_request_object.h"
#include "oas_session.h"
#include "oas_uri.h"
#include "oas_util.h"

static int error_page(request_rec *r, int status, const char *title, const char *text)
{
    return oas_mod_send_error_page(r, status, title, text);
}

/* status: 302, or 303 where the client's profile wants it for a code (FAPI 2.0 SP
 * 5.3.2.2-10: a redirect after the consent POST must not invite a re-POST).
 * jarm_aud: the client id when the response goes back as a JWT (JARM), else NULL. */
static int redirect_with(request_rec *r, oas_ctx_t *x, const char *uri,
                         apr_array_header_t *pairs, const char *state, const char *jarm_aud,
                         int status)
{
    const char *jwt;
    apr_status_t rv;

    if (state) {
        APR_ARRAY_PUSH(pairs, const char *) = "state";
        APR_ARRAY_PUSH(pairs, const char *) = state;
    }
    if (jarm_aud) { /* JARM §2.1: iss, then only inside the JWT */
        if ((rv = oas_jarm_response(&jwt, r->pool, x->iss, jarm_aud, pairs, x->now)) !=
            APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, OAS_LOGNO(00500)
                          "the JARM response to client %s could not be signed", jarm_aud);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        apr_array_clear(pairs);
        APR_ARRAY_PUSH(pairs, const char *) = "response";
        APR_ARRAY_PUSH(pairs, const char *) = jwt;
        return oas_mod_redirect(r, oas_uri_add_query(r->pool, uri, pairs), status);
    }
    APR_ARRAY_PUSH(pairs, const char *) = "iss"; /* RFC 9207 */
    APR_ARRAY_PUSH(pairs, const char *) = x->iss->issuer;
    return oas_mod_redirect(r, oas_uri_add_query(r->pool, uri, pairs), status);
}

/* RFC 6749 §4.1.2.1: the error goes back to the (trusted) redirect URI, once the PAR
 * request_uri is used up. */
static int redirect_error(request_rec *r, oas_ctx_t *x, const char *uri, const char *state,
                          const char *jarm_aud, const char *error, const char *desc,
                          const char *request_uri)
{
    apr_array_header_t *pairs = apr_array_make(r->pool, 8, sizeof(const char *));
    oas_err_t e;

    if (oas_request_uri_use_up(x, &e, request_uri) != APR_SUCCESS)
        return oas_mod_send_err_page(r, &e);
    oas_mod_note_error(r, error);
    APR_ARRAY_PUSH(pairs, const char *) = "error";
    APR_ARRAY_PUSH(pairs, const char *) = error;
    if (desc) {
        APR_ARRAY_PUSH(pairs, const char *) = "error_description";
        APR_ARRAY_PUSH(pairs, const char *) = desc;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAS_LOGNO(00140)
                  "authorization error redirected to the client: %s (%s)", error,
                  desc ? desc : "");
    return redirect_with(r, x, uri, pairs, state, jarm_aud, HTTP_MOVED_TEMPORARILY);
}

/* An engine refusal of a pending authorization: a page when the engine says so or the
 * server failed, else redirected to the client. */
static int send_err(request_rec *r, oas_ctx_t *x, const oas_err_t *e, const oas_pending_t *pd)
{
    if (e->page || e->status >= HTTP_INTERNAL_SERVER_ERROR)
        return oas_mod_send_err_page(r, e);
    oas_mod_log_err(r, e);
    return redirect_error(r, x, pd->grant->redirect_uri, pd->state,
                          pd->jarm ? pd->grant->client_id : NULL, e->error, e->description,
                          pd->request_uri);
}

/* Issues the code and redirects with it; its client joins the session s (NULL: the browser's,
 * when the grant was made in one). */
static int issue_code(request_rec *r, oas_ctx_t *x, const oas_pending_t *pd, oas_session_t *s)
{
    apr_array_header_t *pairs = apr_array_make(r->pool, 8, sizeof(const char *));
    const oas_client_t *c = oas_ctx_client(x, pd->grant->client_id);
    const char *code;
    oas_err_t e;

    if (oas_session_code(x, &e, s, oas_mod_session_cookie(r), pd->grant) != APR_SUCCESS ||
        oas_code_issue(&code, x, &e, pd) != APR_SUCCESS)
        return send_err(r, x, &e, pd);
    APR_ARRAY_PUSH(pairs, const char *) = "code";
    APR_ARRAY_PUSH(pairs, const char *) = code;
    return redirect_with(r, x, pd->grant->redirect_uri, pairs, pd->state,
                         pd->jarm ? pd->grant->client_id : NULL,
                         c && oas_client_profile(x->iss, c)->see_other ? HTTP_SEE_OTHER
                                                                       : HTTP_MOVED_TEMPORARILY);
}

/* 1 when s is valid UTF-8 (control characters allowed: JSON escapes them). */
static int utf8_valid(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t n = strlen(s), i = 0, k;

    while (i < n) {
        if (u[i] < 0x80)
            k = 1;
        else if (!(k = oas_utf8_seq_len(u + i, n - i)))
            return 0;
        i += k;
    }
    return 1;
}

const char *oas_mod_eval_claims(request_rec *r, const oas_issuer_t *iss)
{
    oas_jsonw_t o;
    int i;

    if (!iss->claims || !iss->claims->nelts)
        return NULL;
    oas_jsonw_init(&o, r->pool, 256);
    for (i = 0; i < iss->claims->nelts; i++) {
        const oas_claim_t *c = &APR_ARRAY_IDX(iss->claims, i, oas_claim_t);
        const char *err = NULL;
        const char *v = ap_expr_str_exec(r, (const ap_expr_info_t *)c->expr, &err);
        if (err) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAS_LOGNO(00142)
                          "OAuthASClaim %s: %s", c->name, err);
            continue;
        }
        if (v && *v && utf8_valid(v))
            oas_jsonw_str(&o, c->name, v);
    }
    return oas_jsonw_end(&o);
}

/* Stores the pending authorization as a transaction and shows the consent page. */
static int show_consent(request_rec *r, oas_ctx_t *x, const oas_authz_req_t *req,
                        const oas_pending_t *pd)
{
    oas_consent_view_t v;
    oas_consent_txn_t t;
    oas_err_t e;

    if (oas_consent_txn_start(&t, x, &e, pd) != APR_SUCCESS)
        return send_err(r, x, &e, pd);
    v.client = req->client;
    v.user = r->user;
    v.scope = req->scope;
    v.resource = req->resource;
    v.redirect_uri = req->redirect_uri;
    v.action = r->uri;
    v.txn = t.txn;
    v.csrf = t.csrf;
    v.other_device = 0;
    return oas_mod_send_html(r, HTTP_OK,
                             oas_consent_render(r->pool, x->iss->consent_tmpl, x->iss, &v));
}

int oas_mod_unprotected(request_rec *r, const char *what)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAS_LOGNO(00144)
                  "the %s endpoint %s is not protected by any Apache authentication (no "
                  "authenticated user): add AuthType and Require",
                  what, r->uri);
    return error_page(r, HTTP_FORBIDDEN, "Not configured",
                      "Sign-in is not configured for this authorization server.");
}

/* The consent form came back: the engine decides it, then the code or the error. */
static int consent_decision(request_rec *r, oas_ctx_t *x, apr_table_t *form)
{
    oas_consent_form_t f;
    oas_pending_t pd;
    oas_err_t e;

    oas_mod_decision_form(&f, r, form);
    if (oas_consent_decide(&pd, x, &e, &f) != APR_SUCCESS)
        return send_err(r, x, &e, &pd);
    return issue_code(r, x, &pd, NULL);
}

/* prompt=login or max_age want a sign-in now: the browser goes to OAuthASLoginURL with a
 * return to /authorize carrying a one-time sign-in transaction (orig: the parameters as they
 * came, resumed from there), and the site's sign-in is dropped (mod_oas_session.c says why);
 * where that cannot be, login_required (OIDC Core §3.1.2.6). */
static int sign_in_again(request_rec *r, oas_ctx_t *x, const oas_authz_req_t *req,
                         const apr_table_t *orig, const char *ru)
{
    apr_array_header_t *pairs = apr_array_make(r->pool, 2, sizeof(const char *));
    const char *txn, *url = x->iss->login_url;
    oas_err_t e;

    if (!url || !oas_mod_session_available())
        return redirect_error(r, x, req->redirect_uri, req->state,
                              req->jarm ? req->client->id : NULL, "login_required",
                              "the user must sign in again, which this server cannot ask for",
                              ru);
    if (oas_session_login_start(&txn, x, &e, orig) != APR_SUCCESS) {
        if (e.status >= HTTP_INTERNAL_SERVER_ERROR)
            return oas_mod_send_err_page(r, &e);
        oas_mod_log_err(r, &e);
        return redirect_error(r, x, req->redirect_uri, req->state,
                              req->jarm ? req->client->id : NULL, e.error, e.description, ru);
    }
    if (!oas_mod_session_reauth_begin(r, txn)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAS_LOGNO(00630)
                      "OAuthASLoginURL is set, but the sign-in at %s is not mod_auth_form's in "
                      "a mod_session session (Session On): login_required",
                      r->uri);
        return redirect_error(r, x, req->redirect_uri, req->state,
                              req->jarm ? req->client->id : NULL, "login_required",
                              "the user must sign in again, which this server cannot ask for",
                              ru);
    }
    APR_ARRAY_PUSH(pairs, const char *) = "return";
    APR_ARRAY_PUSH(pairs, const char *) =
        apr_pstrcat(r->pool, x->iss->issuer_origin, r->uri, "?oas_login=", txn, NULL);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAS_LOGNO(00631)
                  "%s must sign in again for client %s (%s): sent to %s", r->user,
                  req->client->id, req->prompt_login ? "prompt=login" : "max_age", url);
    return oas_mod_redirect(r, oas_uri_add_query(r->pool, url, pairs), HTTP_MOVED_TEMPORARILY);
}

int oas_mod_authorize(request_rec *r, const oas_issuer_t *iss)
{
    apr_table_t *params, *orig;
    const char *dup, *prompt, *ru = NULL, *login, *newc;
    const oas_client_t *c;
    oas_authz_req_t *req;
    oas_session_t *s;
    oas_pending_t pd;
    oas_ctx_t *x;
    oas_err_t err;
    int status, reauthed = 0, reauth;

    if ((status = oas_mod_read_params(&params, &dup, r, iss)) != OK || !params)
        return status;

    prompt = apr_table_get(params, "prompt");
    if (!r->user && !(prompt && !strcmp(prompt, "none"))) {
        return oas_mod_unprotected(r, "authorization");
    }
    x = oas_mod_ctx(r, iss);
    if (r->method_number == M_POST && apr_table_get(params, "txn")) {
        /* RFC 6749 §3.1: no repeats, not even of txn, csrf or decision */
        if (dup)
            return error_page(r, HTTP_BAD_REQUEST, "Invalid request",
                              "The consent form was submitted with a repeated field.");
        return consent_decision(r, x, params);
    }
    if ((login = apr_table_get(params, "oas_login")) && !dup) {
        /* back from OAuthASLoginURL: the request resumes, signed in again or not */
        reauthed = oas_mod_session_reauth_done(r, login) ? 1 : -1;
        if (oas_session_login_resume(&params, x, &err, login) != APR_SUCCESS)
            return oas_mod_send_err_page(r, &err);
    }
    orig = params;

    if (apr_table_get(params, "request_uri") &&
        (!dup || (strcmp(dup, "client_id") && strcmp(dup, "request_uri")))) {
        /* RFC 9126 §4: only the pushed parameters count; the rest of the query is ignored */
        if (oas_par_load(&params, &ru, x, &err, apr_table_get(params, "request_uri"),
                         apr_table_get(params, "client_id")) != APR_SUCCESS)
            return oas_mod_send_err_page(r, &err);
        dup = NULL;
    }
    else if ((c = oas_ctx_client(x, apr_table_get(params, "client_id"))) &&
             !(dup && (!strcmp(dup, "client_id") || !strcmp(dup, "request")))) {
        /* RFC 9101 §5: a request object by value; its parameters alone count (a repeat
         * outside it no longer matters), and one that does not verify is a page */
        apr_table_t *outer = params;
        if (oas_request_object_use(&params, &err, x, c, outer, OAS_AUTHZ_FRONT) != APR_SUCCESS)
            return oas_mod_send_err_page(r, &err);
        if (params != outer)
            dup = NULL;
    }
    if (oas_authz_validate_ctx(&req, &err, x, params, dup, ru ? OAS_AUTHZ_PAR : OAS_AUTHZ_FRONT) !=
        APR_SUCCESS) {
        if (err.page) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAS_LOGNO(00145)
                          "authorization request refused without redirect: %s", err.description);
            return error_page(r, HTTP_BAD_REQUEST, "Invalid request",
                              apr_pstrcat(r->pool, "The application sent an invalid request: ",
                                          err.description, ".", NULL));
        }
        return redirect_error(r, x, req->redirect_uri, req->state,
                              req->jarm ? req->client->id : NULL, err.error, err.description,
                              ru);
    }
    /* httpd authenticated this very request (Basic sends credentials every time) */
    if (oas_authz_pending(&pd, x, &err, req, ru, apr_time_sec(r->request_time)) != APR_SUCCESS)
        return send_err(r, x, &err, &pd);
    if (reauthed < 0) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAS_LOGNO(00632)
                      "back from OAuthASLoginURL without a new sign-in of the site: "
                      "login_required");
        return redirect_error(r, x, req->redirect_uri, req->state,
                              req->jarm ? req->client->id : NULL, "login_required",
                              "the user did not sign in again", ru);
    }
    /* the browser's session (OIDC: sid, auth_time), prompt and max_age */
    if (oas_session_authorize(&s, &newc, &reauth, x, &err, req, oas_mod_session_cookie(r),
                              reauthed) != APR_SUCCESS)
        return send_err(r, x, &err, &pd);
    if (newc)
        oas_mod_session_set(r, newc, oas_iss_session_ttl(iss));
    if (reauth)
        return sign_in_again(r, x, req, orig, ru);
    oas_session_join(s, pd.grant);
    pd.grant->claims_json = oas_mod_eval_claims(r, iss);

    if (oas_consent_needed(x, req)) {
        if (req->prompt_none)
            return redirect_error(r, x, req->redirect_uri, req->state,
                                  req->jarm ? req->client->id : NULL, "consent_required",
                                  "the user has not approved this client", ru);
        if (oas_session_keep(x, &err, s) != APR_SUCCESS)
            return send_err(r, x, &err, &pd);
        return show_consent(r, x, req, &pd);
    }
    return issue_code(r, x, &pd, s);
}
