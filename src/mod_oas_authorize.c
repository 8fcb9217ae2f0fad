/* mod_oauth_as: the authorization endpoint (RFC 6749 §4.1.1-4.1.2, OIDC Core §3.1.2,
 * RFC 9126 §4 for request_uri) and the consent decision posted back to it. */
#include <apr_strings.h>
#include <ap_expr.h>
#include <http_protocol.h>
#include <http_request.h>

#include "mod_oas_endpoints.h"
#include "mod_oas_request.h"
#include "mod_oas_store.h"
#include "oas_authz.h"
#include "oas_consent.h"
#include "oas_form.h"
#include "oas_jsonr.h"
#include "oas_jsonw.h"
#include "oas_json.h"
#include "oas_token.h"
#include "oas_uri.h"
#include "oas_util.h"

#define TXN_TTL 600 /* seconds a consent page stays answerable */

/* What travels from the validated request to the code: the grant, the state to echo and
 * the PAR request_uri to use up when the authorization ends. */
typedef struct {
    oas_grant_t *grant;
    const char *state;
    const char *request_uri; /* the opaque part after the urn prefix, or NULL */
} pending_t;

static int error_page(request_rec *r, int status, const char *title, const char *text)
{
    return oas_mod_send_error_page(r, status, title, text);
}

/* Ends an authorization that came through PAR: its request_uri ru is dead from now on
 * (ru NULL, a front-channel request: nothing to do). */
static apr_status_t use_up_request_uri(request_rec *r, const oas_issuer_t *iss, const char *ru)
{
    oas_store_t *st = oas_mod_store_short(r, iss);

    if (!ru)
        return APR_SUCCESS;
    return st ? oas_store_take(st, r->pool, OAS_NS_REQUEST_URI, ru, NULL, NULL) : APR_ENOTIMPL;
}

/* The answer when use_up_request_uri failed with rv. A PAR authorization ends once: when
 * another tab or a concurrent request already ended it (a code or an error), this one gets
 * no authorization response at all. */
static int request_uri_not_used_up(request_rec *r, apr_status_t rv)
{
    if (rv == APR_NOTFOUND)
        return error_page(r, HTTP_BAD_REQUEST, "Request expired",
                          "This authorization request has expired or was already used "
                          "(invalid_request_uri). Please start again from the application.");
    return oas_mod_store_failure(r, rv, "using up a request_uri", 0);
}

static int redirect_with(request_rec *r, const char *uri, apr_array_header_t *pairs,
                         const oas_issuer_t *iss, const char *state)
{
    if (state) {
        APR_ARRAY_PUSH(pairs, const char *) = "state";
        APR_ARRAY_PUSH(pairs, const char *) = state;
    }
    APR_ARRAY_PUSH(pairs, const char *) = "iss"; /* RFC 9207 */
    APR_ARRAY_PUSH(pairs, const char *) = iss->issuer;
    return oas_mod_redirect(r, oas_uri_add_query(r->pool, uri, pairs));
}

/* RFC 6749 §4.1.2.1: the error goes back to the (trusted) redirect URI. */
static int redirect_error(request_rec *r, const oas_issuer_t *iss, const char *uri,
                          const char *state, const char *error, const char *desc,
                          const char *request_uri)
{
    apr_array_header_t *pairs = apr_array_make(r->pool, 8, sizeof(const char *));
    apr_status_t rv = use_up_request_uri(r, iss, request_uri);

    if (rv != APR_SUCCESS)
        return request_uri_not_used_up(r, rv);
    APR_ARRAY_PUSH(pairs, const char *) = "error";
    APR_ARRAY_PUSH(pairs, const char *) = error;
    if (desc) {
        APR_ARRAY_PUSH(pairs, const char *) = "error_description";
        APR_ARRAY_PUSH(pairs, const char *) = desc;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAS_LOGNO(00140)
                  "authorization error redirected to the client: %s (%s)", error,
                  desc ? desc : "");
    return redirect_with(r, uri, pairs, iss, state);
}

/* State and nonce come from the client, up to the body limit, and JSON escaping may double
 * them: a code or consent record larger than the store keeps is the client's
 * invalid_request, not a busy server. */
static int too_large(request_rec *r, const oas_issuer_t *iss, const pending_t *pd)
{
    return redirect_error(r, iss, pd->grant->redirect_uri, pd->state, "invalid_request",
                          "the authorization request is too large", pd->request_uri);
}

/* Issues the code: the single point where a PAR request_uri is used up, so exactly one code
 * is ever issued for it (SECURITY.md §2: consumed at code issuance, not at first GET). */
static int issue_code(request_rec *r, const oas_issuer_t *iss, const pending_t *pd)
{
    oas_store_t *st = oas_mod_store_short(r, iss);
    apr_array_header_t *pairs = apr_array_make(r->pool, 8, sizeof(const char *));
    const char *code, *json;
    apr_status_t rv;

    if (!st)
        return oas_mod_store_failure(r, APR_ENOTIMPL, "issuing a code", 0);
    if (oas_random_token(&code, r->pool, OAS_TOKEN_BYTES) != APR_SUCCESS ||
        oas_grant_to_json(&json, r->pool, pd->grant) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    if (strlen(json) > OAS_STORE_MAX_VALUE)
        return too_large(r, iss, pd);
    if ((rv = use_up_request_uri(r, iss, pd->request_uri)) != APR_SUCCESS)
        return request_uri_not_used_up(r, rv);
    rv = oas_store_put_new(st, r->pool, OAS_NS_CODE, code, json, strlen(json),
                           apr_time_now() + apr_time_from_sec(oas_iss_code_ttl(iss)));
    if (rv != APR_SUCCESS)
        return oas_mod_store_failure(r, rv, "storing a code", 0);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAS_LOGNO(00141)
                  "issued an authorization code to client %s for %s", pd->grant->client_id,
                  pd->grant->sub);
    APR_ARRAY_PUSH(pairs, const char *) = "code";
    APR_ARRAY_PUSH(pairs, const char *) = code;
    return redirect_with(r, pd->grant->redirect_uri, pairs, iss, pd->state);
}

/* The user's claims, evaluated now from the OAuthASClaim expressions. */
static const char *eval_claims(request_rec *r, const oas_issuer_t *iss)
{
    json_t *o;
    int i;

    if (!iss->claims || !iss->claims->nelts)
        return NULL;
    o = oas_json_adopt(r->pool, json_object());
    for (i = 0; i < iss->claims->nelts; i++) {
        const oas_claim_t *c = &APR_ARRAY_IDX(iss->claims, i, oas_claim_t);
        const char *err = NULL;
        const char *v = ap_expr_str_exec(r, (const ap_expr_info_t *)c->expr, &err);
        if (err) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAS_LOGNO(00142)
                          "OAuthASClaim %s: %s", c->name, err);
            continue;
        }
        if (v && *v)
            json_object_set_new(o, c->name, json_string(v));
    }
    return oas_json_dumps(r->pool, o, 0);
}

/* Key of a remembered consent: user, client, the set of scopes (order-free), resource. */
static const char *consent_key(request_rec *r, const oas_authz_req_t *req, const char *user)
{
    apr_array_header_t *s = oas_scope_split(r->pool, req->scope);

    qsort(s->elts, s->nelts, sizeof(const char *), oas_cmp_strp);
    return apr_pstrcat(r->pool, user, "\n", req->client->id, "\n", apr_array_pstrcat(r->pool, s, ' '),
                       "\n", req->resource ? req->resource : "", NULL);
}

static int consent_remembered(request_rec *r, const oas_issuer_t *iss, const char *key)
{
    oas_store_t *st = oas_mod_store_long(r, iss);
    char *v;
    apr_size_t n;

    return st && oas_store_get(st, r->pool, OAS_NS_CONSENT, key, &v, &n) == APR_SUCCESS;
}

static void remember_consent(request_rec *r, const oas_issuer_t *iss, const oas_client_t *c,
                             const char *key)
{
    oas_store_t *st = oas_mod_store_long(r, iss);
    apr_time_t exp = apr_time_now() + apr_time_from_sec(oas_client_rt_ttl(iss, c));

    if (!st || oas_store_put(st, r->pool, OAS_NS_CONSENT, key, "1", 1, exp) != APR_SUCCESS)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAS_LOGNO(00143)
                      "could not remember the consent of %s for client %s", r->user, c->id);
}

/* Stores the validated request as a transaction and shows the consent page. */
static int show_consent(request_rec *r, const oas_issuer_t *iss, const oas_authz_req_t *req,
                        const pending_t *pd)
{
    oas_store_t *st = oas_mod_store_short(r, iss);
    oas_consent_view_t v;
    const char *txn, *csrf, *grant, *rec;
    oas_jsonw_t o;
    apr_status_t rv;

    if (!st)
        return oas_mod_store_failure(r, APR_ENOTIMPL, "starting a consent", 0);
    if (oas_random_token(&txn, r->pool, OAS_TOKEN_BYTES) ||
        oas_random_token(&csrf, r->pool, OAS_TOKEN_BYTES) ||
        oas_grant_to_json(&grant, r->pool, pd->grant))
        return HTTP_INTERNAL_SERVER_ERROR;
    oas_jsonw_init(&o, r->pool, 1024);
    oas_jsonw_str(&o, "u", r->user);
    oas_jsonw_str(&o, "csrf", csrf);
    oas_jsonw_raw(&o, "g", grant);
    oas_jsonw_str_keep_empty(&o, "st", pd->state);
    oas_jsonw_str(&o, "par", pd->request_uri);
    if (!(rec = oas_jsonw_end(&o)))
        return HTTP_INTERNAL_SERVER_ERROR;
    if (strlen(rec) > OAS_STORE_MAX_VALUE)
        return too_large(r, iss, pd);
    rv = oas_store_put_new(st, r->pool, OAS_NS_TXN, txn, rec, strlen(rec),
                           apr_time_now() + apr_time_from_sec(TXN_TTL));
    if (rv != APR_SUCCESS)
        return oas_mod_store_failure(r, rv, "starting a consent", 0);

    v.client = req->client;
    v.user = r->user;
    v.scope = req->scope;
    v.resource = req->resource;
    v.action = r->uri;
    v.txn = txn;
    v.csrf = csrf;
    return oas_mod_send_html(r, HTTP_OK,
                             oas_consent_render(r->pool, iss->consent_tmpl, iss, &v));
}

/* The consent form came back: check the CSRF token and the user, then take the
 * transaction (one decision per transaction, even when posted twice at once). */
static int consent_decision(request_rec *r, const oas_issuer_t *iss, apr_table_t *form)
{
    oas_store_t *st = oas_mod_store_short(r, iss);
    const char *txn = apr_table_get(form, "txn");
    const char *csrf = apr_table_get(form, "csrf");
    const char *decision = apr_table_get(form, "decision");
    const char *origin = apr_table_get(r->headers_in, "Origin");
    const char *site = apr_table_get(r->headers_in, "Sec-Fetch-Site");
    char *val;
    apr_size_t len;
    oas_jobj_t o;
    pending_t pd;
    const char *gj;
    apr_status_t rv;

    /* Our pages send Referrer-Policy: no-referrer, under which browsers serialize the Origin
     * of the page's own form POST as "null" (Fetch: "serializing a request origin"); Chromium
     * adds Sec-Fetch-Site: same-origin, which no page can forge.  So "null" passes only with
     * that; any other Origin must be our own. */
    if ((site && !strcmp(site, "cross-site")) ||
        (origin && !(site && !strcmp(origin, "null") && !strcmp(site, "same-origin")) &&
         strcmp(origin, apr_pstrcat(r->pool, ap_http_scheme(r), "://",
                                    apr_table_get(r->headers_in, "Host"), NULL))))
        return error_page(r, HTTP_FORBIDDEN, "Request refused",
                          "The consent form was submitted from another site.");
    if (!txn || !csrf || !decision)
        return error_page(r, HTTP_FORBIDDEN, "Request refused",
                          "The consent form is incomplete (missing CSRF token or decision).");
    if (!st)
        return oas_mod_store_failure(r, APR_ENOTIMPL, "reading a consent", 0);
    rv = oas_store_get(st, r->pool, OAS_NS_TXN, txn, &val, &len);
    if (rv == APR_NOTFOUND)
        return error_page(r, HTTP_BAD_REQUEST, "Request expired",
                          "This consent request has expired or was already answered. Please "
                          "start again from the application.");
    if (rv != APR_SUCCESS)
        return oas_mod_store_failure(r, rv, "reading a consent", 0);
    if (oas_jsonr_parse(&o, r->pool, val, len) != APR_SUCCESS || !oas_jobj_str(&o, "u") ||
        strcmp(oas_jobj_str(&o, "u"), r->user) ||
        !oas_secure_streq(csrf, oas_jobj_str(&o, "csrf") ? oas_jobj_str(&o, "csrf") : ""))
        return error_page(r, HTTP_FORBIDDEN, "Request refused",
                          "The consent form does not belong to this user or session.");
    if (strcmp(decision, "allow") && strcmp(decision, "deny"))
        return error_page(r, HTTP_BAD_REQUEST, "Invalid request", "Unknown decision.");
    gj = oas_jobj_object(&o, "g");
    if (!gj || oas_grant_from_json(&pd.grant, r->pool, gj, strlen(gj)) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    pd.state = oas_jobj_str(&o, "st");
    pd.request_uri = oas_jobj_str(&o, "par");
    rv = oas_store_take(st, r->pool, OAS_NS_TXN, txn, NULL, NULL);
    if (rv == APR_NOTFOUND)
        return error_page(r, HTTP_BAD_REQUEST, "Request expired",
                          "This consent request was already answered.");
    if (rv != APR_SUCCESS)
        return oas_mod_store_failure(r, rv, "taking a consent", 0);
    if (!strcmp(decision, "deny"))
        return redirect_error(r, iss, pd.grant->redirect_uri, pd.state, "access_denied",
                              "the user denied the request", pd.request_uri);
    {
        const oas_client_t *c = oas_issuer_client(iss, pd.grant->client_id);
        oas_authz_req_t req;
        if (!c)
            return error_page(r, HTTP_BAD_REQUEST, "Invalid request", "Unknown client.");
        memset(&req, 0, sizeof(req));
        req.client = c;
        req.scope = pd.grant->scope;
        req.resource = pd.grant->resource;
        remember_consent(r, iss, c, consent_key(r, &req, r->user));
    }
    return issue_code(r, iss, &pd);
}

/* Loads the parameters pushed for request_uri (RFC 9126 §4); only client_id of the front
 * request is looked at, and it must name the client that pushed. */
static int load_pushed(apr_table_t **pparams, const char **pru, request_rec *r,
                       const oas_issuer_t *iss, apr_table_t *front)
{
    oas_store_t *st = oas_mod_store_short(r, iss);
    const char *ru = apr_table_get(front, "request_uri");
    const char *cid = apr_table_get(front, "client_id");
    apr_size_t plen = sizeof(OAS_REQUEST_URI_PREFIX) - 1;
    char *val;
    apr_size_t len;
    oas_jobj_t o;
    const char *pcid;
    int i;
    apr_status_t rv;

    *pparams = NULL;
    if (!st)
        return oas_mod_store_failure(r, APR_ENOTIMPL, "reading a request_uri", 0);
    if (!cid)
        return error_page(r, HTTP_BAD_REQUEST, "Invalid request",
                          "The client_id parameter is missing (invalid_request).");
    if (strncmp(ru, OAS_REQUEST_URI_PREFIX, plen) || strlen(ru) > plen + 64 ||
        (rv = oas_store_get(st, r->pool, OAS_NS_REQUEST_URI, ru + plen, &val, &len)) ==
            APR_NOTFOUND)
        return error_page(r, HTTP_BAD_REQUEST, "Request expired",
                          "This authorization request is unknown, has expired or was already "
                          "used (invalid_request_uri). Please start again from the application.");
    if (rv != APR_SUCCESS)
        return oas_mod_store_failure(r, rv, "reading a request_uri", 0);
    if (oas_jsonr_parse(&o, r->pool, val, len) != APR_SUCCESS ||
        !(pcid = oas_jobj_str(&o, OAS_PAR_RECORD_CLIENT)) || strcmp(pcid, cid))
        return error_page(r, HTTP_BAD_REQUEST, "Invalid request",
                          "This authorization request belongs to another client "
                          "(invalid_request_uri).");
    *pparams = apr_table_make(r->pool, o.n);
    for (i = 0; i < o.n; i++) {
        if (o.m[i].type == OAS_JSON_STRING && strcmp(o.m[i].key, OAS_PAR_RECORD_CLIENT))
            apr_table_setn(*pparams, o.m[i].key, o.m[i].str);
    }
    *pru = ru + plen;
    return OK;
}

/* Reads the request's parameters: the query for GET; the query and the form body for POST
 * (RFC 6749 §3.1: a parameter may not appear twice, not even once in each). */
static int read_params(apr_table_t **pparams, const char **pdup, request_rec *r,
                       const oas_issuer_t *iss)
{
    const char *data = r->args ? r->args : "";
    const char *perr;
    int status;

    *pparams = NULL;
    *pdup = NULL;
    if (r->method_number == M_POST) {
        char *body;
        apr_size_t len = 0;
        if ((status =
                 oas_mod_read_form_raw(&body, &len, &perr, r, (apr_size_t)oas_iss_max_body(iss))))
            return status;
        if (!body)
            return error_page(r, HTTP_BAD_REQUEST, "Invalid request", perr);
        data = *data ? apr_pstrcat(r->pool, data, "&", body, NULL) : body;
    }
    if (oas_form_parse_first(pparams, pdup, r->pool, data, strlen(data), OAS_MAX_FORM_PAIRS) !=
        APR_SUCCESS)
        return error_page(r, HTTP_BAD_REQUEST, "Invalid request",
                          "The request is malformed (bad encoding, control characters or too "
                          "many or too long parameters).");
    return OK;
}

int oas_mod_authorize(request_rec *r, const oas_issuer_t *iss)
{
    apr_table_t *params;
    const char *dup, *prompt;
    oas_authz_req_t *req;
    oas_err_t err;
    pending_t pd;
    int status;

    if ((status = oas_mod_check_method(r, 1, 1)) != OK)
        return status;
    if (r->header_only) /* HEAD: a link scanner or prefetch must change nothing */
        return oas_mod_send_html(r, HTTP_OK, "");
    if ((status = read_params(&params, &dup, r, iss)) != OK || !params)
        return status;

    prompt = apr_table_get(params, "prompt");
    if (!r->user && !(prompt && !strcmp(prompt, "none"))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAS_LOGNO(00144)
                      "the authorization endpoint %s is not protected by any Apache "
                      "authentication (no authenticated user): add AuthType and Require",
                      r->uri);
        return error_page(r, HTTP_FORBIDDEN, "Not configured",
                          "Sign-in is not configured for this authorization server.");
    }
    if (r->method_number == M_POST && apr_table_get(params, "txn")) {
        /* RFC 6749 §3.1: no repeats, not even of txn, csrf or decision */
        if (dup)
            return error_page(r, HTTP_BAD_REQUEST, "Invalid request",
                              "The consent form was submitted with a repeated field.");
        return consent_decision(r, iss, params);
    }

    memset(&pd, 0, sizeof(pd));
    if (apr_table_get(params, "request_uri") &&
        (!dup || (strcmp(dup, "client_id") && strcmp(dup, "request_uri")))) {
        /* RFC 9126 §4: only the pushed parameters count; the rest of the query is ignored */
        if ((status = load_pushed(&params, &pd.request_uri, r, iss, params)) != OK || !params)
            return status;
        dup = NULL;
    }
    if (oas_authz_validate(&req, &err, r->pool, iss, params, dup,
                           pd.request_uri ? OAS_AUTHZ_PAR : OAS_AUTHZ_FRONT) != APR_SUCCESS) {
        if (err.page) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAS_LOGNO(00145)
                          "authorization request refused without redirect: %s", err.description);
            return error_page(r, HTTP_BAD_REQUEST, "Invalid request",
                              apr_pstrcat(r->pool, "The application sent an invalid request: ",
                                          err.description, ".", NULL));
        }
        return redirect_error(r, iss, req->redirect_uri, req->state, err.error, err.description,
                              pd.request_uri);
    }
    if (!r->user) /* prompt=none without a signed-in user */
        return redirect_error(r, iss, req->redirect_uri, req->state, "login_required",
                              "the user is not signed in", pd.request_uri);
    /* a pushed request was counted when it was pushed (D07) */
    if (!pd.request_uri && oas_mod_client_over_quota(r, iss, req->client))
        return redirect_error(r, iss, req->redirect_uri, req->state, "temporarily_unavailable",
                              "too many pending authorization requests", NULL);

    /* the user name becomes the sub claim: JSON text must be UTF-8 (RFC 8259 §8.1) */
    if (!*r->user || !oas_is_clean_utf8(r->user, strlen(r->user)))
        return error_page(r, HTTP_FORBIDDEN, "Request refused",
                          "Your user name cannot be used here (it is not UTF-8 text).");
    pd.state = req->state;
    pd.grant = apr_pcalloc(r->pool, sizeof(*pd.grant));
    pd.grant->iss = iss->issuer;
    pd.grant->client_id = req->client->id;
    pd.grant->sub = r->user;
    pd.grant->scope = req->scope;
    pd.grant->resource = req->resource;
    pd.grant->nonce = req->nonce;
    pd.grant->redirect_uri = req->redirect_uri;
    pd.grant->redirect_uri_sent = req->redirect_uri_sent;
    pd.grant->code_challenge = req->code_challenge;
    /* httpd authenticated this very request (Basic sends credentials every time) */
    pd.grant->auth_time = apr_time_sec(r->request_time);
    pd.grant->claims_json = eval_claims(r, iss);

    if (req->client->consent &&
        (req->prompt_consent || !consent_remembered(r, iss, consent_key(r, req, r->user)))) {
        if (req->prompt_none)
            return redirect_error(r, iss, req->redirect_uri, req->state, "consent_required",
                                  "the user has not approved this client", pd.request_uri);
        return show_consent(r, iss, req, &pd);
    }
    return issue_code(r, iss, &pd);
}
