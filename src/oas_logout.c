/* mod_oauth_as: RP-Initiated Logout 1.0 (oas_logout.h). A confirmation is one record in the
 * short-lived store, among the consent transactions: {"k": "logout", "csrf": token, "sid": the
 * session it was started in ("" for none), "cid": client, "plr": post_logout_redirect_uri,
 * "st": state}; "k" keeps a consent form from deciding a logout and the reverse. */
#include <apr_strings.h>
#include <apr_uri.h>

#include "oas_authz.h"
#include "oas_clients.h"
#include "oas_code_issue.h"
#include "oas_consent.h"
#include "oas_jose.h"
#include "oas_jsonw.h"
#include "oas_jwt.h"
#include "oas_logout.h"
#include "oas_logout_default.h"
#include "oas_throttle.h"
#include "oas_uri.h"
#include "oas_util.h"

#define TXN_KIND "logout"

apr_status_t oas_logout_hint_verify(oas_logout_hint_t *h, const char **perr, apr_pool_t *p,
                                    const oas_issuer_t *iss, const char *jwt)
{
    const char *payload, *header;
    oas_jobj_t hdr;
    oas_jwt_t *c;

    memset(h, 0, sizeof(*h));
    /* oas_jws_verify takes only our keys, each with its own alg: "none", HS256 and a key of
     * another algorithm never verify */
    if (oas_jws_verify(&payload, &header, p, jwt, iss->keys) != APR_SUCCESS) {
        *perr = "not signed by this server";
        return APR_EINVAL;
    }
    if (oas_jsonr_parse(&hdr, p, header, strlen(header)) != APR_SUCCESS ||
        !oas_jwt_typ_is(oas_jobj_str(&hdr, "typ"), "JWT")) {
        *perr = "not an ID token (typ)";
        return APR_EINVAL;
    }
    if (oas_jwt_parse(&c, perr, p, payload, strlen(payload)) != APR_SUCCESS)
        return APR_EINVAL;
    if (!c->iss || strcmp(c->iss, iss->issuer)) {
        *perr = "iss is not this issuer";
        return APR_EINVAL;
    }
    if (!c->aud || !c->sub) {
        *perr = "no aud string or no sub";
        return APR_EINVAL;
    }
    h->client_id = c->aud;
    h->sub = c->sub;
    h->sid = oas_jobj_str(&c->claims, "sid");
    return APR_SUCCESS;
}

/* The client's post_logout_redirect_uri uri, when it has it exactly (no loopback port
 * latitude: RP-Initiated Logout 1.0 §3 asks for an exact match). */
static int registered(const oas_client_t *c, const char *uri)
{
    return c && uri && oas_list_has(c->post_logout_redirect_uris, uri);
}

apr_status_t oas_logout_validate(oas_logout_req_t *req, oas_ctx_t *x, oas_err_t *e,
                                 const apr_table_t *params, const char *dup)
{
    const char *hint = apr_table_get(params, "id_token_hint");
    const char *cid = apr_table_get(params, "client_id");
    const char *plr = apr_table_get(params, "post_logout_redirect_uri");
    const char *why;

    memset(req, 0, sizeof(*req));
    if (dup) {
        oas_err(e, x->p, 400, "invalid_request", "The sign-out request repeats a parameter.",
                OAS_LOG_INFO, OAS_LOGNO(06961) "end-session request refused: %s given twice", dup);
        e->page = 1;
        return APR_EINVAL;
    }
    req->state = apr_table_get(params, "state");
    if (hint) {
        if (oas_logout_hint_verify(&req->hint, &why, x->p, x->iss, hint) != APR_SUCCESS) {
            oas_err(e, x->p, 400, "invalid_request",
                    "The application's sign-out request carries an ID token this server did "
                    "not issue, or a damaged one.",
                    OAS_LOG_INFO,
                    OAS_LOGNO(06962) "end-session request refused: id_token_hint: %s", why);
            e->page = 1;
            return APR_EINVAL;
        }
        req->hint_valid = 1;
        if (cid && strcmp(cid, req->hint.client_id)) {
            oas_err(e, x->p, 400, "invalid_request",
                    "The sign-out request names another application than its ID token.",
                    OAS_LOG_INFO,
                    OAS_LOGNO(06963) "end-session request refused: client_id %s is not the "
                                     "id_token_hint's aud %s",
                    cid, req->hint.client_id);
            e->page = 1;
            return APR_EINVAL;
        }
        /* only a verified hint names the client: a bare client_id could put any name on
         * the confirmation page (and, being an https URL, have its metadata document
         * fetched for an anonymous request) */
        req->client = oas_ctx_client(x, req->hint.client_id);
    }
    if (plr && req->hint_valid) {
        if (!registered(req->client, plr)) {
            oas_err(e, x->p, 400, "invalid_request",
                    "The application asked to return to an address it has not registered.",
                    OAS_LOG_INFO,
                    OAS_LOGNO(06964) "end-session request refused: post_logout_redirect_uri "
                                     "is not one of client %s's",
                    req->hint.client_id);
            e->page = 1;
            return APR_EINVAL;
        }
        req->redirect_uri = plr;
    }
    else if (plr)
        OAS_CTX_LOG(x, OAS_LOG_INFO, 0,
                    OAS_LOGNO(06965) "end-session request without a valid id_token_hint: its "
                                     "post_logout_redirect_uri is not followed (client %s)",
                    cid ? cid : "-");
    return APR_SUCCESS;
}

int oas_logout_needs_confirmation(const oas_logout_req_t *req, const oas_session_t *s)
{
    int i;

    if (!req->hint_valid || !s || !s->sid)
        return 1;
    if (req->hint.sid)
        return strcmp(req->hint.sid, s->sid) != 0;
    for (i = 0; s->rps && i < s->rps->nelts; i++) {
        const oas_session_rp_t *rp = &APR_ARRAY_IDX(s->rps, i, oas_session_rp_t);
        if (rp->client_id && rp->sub && !strcmp(rp->client_id, req->hint.client_id) &&
            !strcmp(rp->sub, req->hint.sub))
            return 0;
    }
    return 1;
}

const char *oas_logout_next(apr_pool_t *p, const oas_issuer_t *iss, const oas_logout_req_t *req,
                            const char *signed_out)
{
    apr_array_header_t *pairs = apr_array_make(p, 2, sizeof(const char *));
    const char *next = NULL;

    if (req->redirect_uri) { /* RP-Initiated Logout 1.0 §3: state echoed */
        APR_ARRAY_PUSH(pairs, const char *) = "state";
        APR_ARRAY_PUSH(pairs, const char *) = req->state;
        next = oas_uri_add_query(p, req->redirect_uri, pairs);
        apr_array_clear(pairs);
    }
    if (!iss->logout_url)
        return next;
    APR_ARRAY_PUSH(pairs, const char *) = "return";
    APR_ARRAY_PUSH(pairs, const char *) = next ? next : signed_out;
    return oas_uri_add_query(p, iss->logout_url, pairs);
}

apr_status_t oas_logout_txn_start(oas_logout_txn_t *t, oas_ctx_t *x, oas_err_t *e,
                                  const oas_logout_req_t *req, const oas_session_t *s)
{
    const char *rec;
    oas_jsonw_t o;
    apr_status_t rv;

    t->txn = t->csrf = NULL;
    /* anyone may open a confirmation, which holds a record until it expires */
    if ((rv = oas_quota_address(x, e, 'l', "sign-out confirmations")) != APR_SUCCESS) {
        e->page = 1;
        return rv;
    }
    if ((rv = oas_random_token(&t->csrf, x->p, OAS_TOKEN_BYTES)) != APR_SUCCESS) {
        OAS_ERR_SET(e, 500, "server_error", "no random token");
        e->rv = rv;
        return rv;
    }
    oas_jsonw_init(&o, x->p, 512);
    oas_jsonw_str(&o, "k", TXN_KIND);
    oas_jsonw_str(&o, "csrf", t->csrf);
    oas_jsonw_str_keep_empty(&o, "sid", s && s->sid ? s->sid : "");
    oas_jsonw_str(&o, "cid", req->client ? req->client->id : NULL);
    oas_jsonw_str(&o, "plr", req->redirect_uri);
    oas_jsonw_str_keep_empty(&o, "st", req->state);
    rec = oas_jsonw_end(&o);
    if (!rec) {
        OAS_ERR_SET(e, 500, "server_error", "the sign-out could not be started");
        return APR_EGENERAL;
    }
    if ((rv = oas_authz_record_fits(e, rec)) != APR_SUCCESS) {
        e->page = 1;
        return rv;
    }
    return oas_authz_keep(&t->txn, x, e, OAS_NS_TXN, rec, oas_iss_consent_ttl(x->iss),
                          "starting a sign-out");
}

apr_status_t oas_logout_decide(oas_logout_req_t *req, int *allow, oas_ctx_t *x, oas_err_t *e,
                               const oas_consent_form_t *f, const oas_session_t *s)
{
    const char *k, *csrf, *sid, *cid, *plr;
    char *val;
    apr_size_t len;
    oas_jobj_t o;
    apr_status_t rv;

    memset(req, 0, sizeof(*req));
    *allow = 0;
    if ((rv = oas_decision_read(&val, &len, x, e, f, "sign-out")) != APR_SUCCESS)
        return rv;
    if (oas_jsonr_parse(&o, x->p, val, len) != APR_SUCCESS || !(k = oas_jobj_str(&o, "k")) ||
        strcmp(k, TXN_KIND) ||
        !oas_secure_streq(f->csrf, (csrf = oas_jobj_str(&o, "csrf")) ? csrf : "") ||
        !(sid = oas_jobj_str(&o, "sid")) || strcmp(sid, s && s->sid ? s->sid : "")) {
        oas_err(e, x->p, 403, "access_denied",
                "The sign-out form does not belong to this browser's session.", OAS_LOG_INFO,
                OAS_LOGNO(06967) "sign-out form refused: not a sign-out of this session, or the "
                                 "CSRF token is wrong");
        e->page = 1;
        return APR_EINVAL;
    }
    if ((rv = oas_decision_take(x, e, f, "sign-out")) != APR_SUCCESS)
        return rv;
    cid = oas_jobj_str(&o, "cid");
    plr = oas_jobj_str(&o, "plr");
    req->client = cid ? oas_ctx_client(x, cid) : NULL;
    req->redirect_uri = registered(req->client, plr) ? plr : NULL;
    req->state = oas_jobj_str(&o, "st");
    *allow = !strcmp(f->decision, "allow");
    return APR_SUCCESS;
}

int oas_logout_url_valid(apr_pool_t *p, const char *url)
{
    const unsigned char *u;

    if (url[0] != '/')
        return (!strncasecmp(url, "https://", 8) || !strncasecmp(url, "http://", 7)) &&
               oas_uri_valid_redirect(NULL, p, url);
    if (url[1] == '/' || url[1] == '\\' || strchr(url, '#'))
        return 0;
    for (u = (const unsigned char *)url; *u; u++)
        if (*u <= 0x20 || *u >= 0x7f)
            return 0;
    return 1;
}

const char *oas_logout_frame_src(apr_pool_t *p, const apr_array_header_t *frames)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(const char *));
    int i;

    for (i = 0; frames && i < frames->nelts; i++) {
        const char *o, *u = APR_ARRAY_IDX(frames, i, const char *);
        apr_uri_t uri;

        if (apr_uri_parse(p, u, &uri) != APR_SUCCESS || !uri.scheme || !uri.hostinfo ||
            (strcasecmp(uri.scheme, "https") && strcasecmp(uri.scheme, "http")) ||
            uri.user || uri.hostinfo[strspn(uri.hostinfo, "abcdefghijklmnopqrstuvwxyz"
                                                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                          "0123456789.-:[]")])
            continue; /* a source expression must not carry ';' or ',' or spaces */
        o = apr_pstrcat(p, apr_pstrdup(p, uri.scheme), "://", uri.hostinfo, NULL);
        if (!oas_list_has(out, o))
            APR_ARRAY_PUSH(out, const char *) = o;
    }
    return apr_array_pstrcat(p, out, ' ');
}

const char *oas_logout_default_template(void)
{
    return oas_logout_default_html;
}

const char *oas_logout_render(apr_pool_t *p, const oas_tmpl_t *t, const oas_issuer_t *iss,
                              const oas_logout_view_t *v)
{
    static const char *const views[] = {"confirm", "signed_out", "kept"};
    oas_tmpl_vars_t *vars = oas_tmpl_vars_make(p);
    int i;

    oas_tmpl_set(vars, views[v->view], "1");
    oas_tmpl_set(vars, "issuer", iss->issuer);
    oas_tmpl_set(vars, "user", v->user);
    if (v->client)
        oas_consent_set_client(vars, p, v->client);
    oas_tmpl_set(vars, "action", v->action);
    oas_tmpl_set(vars, "txn", v->txn);
    oas_tmpl_set(vars, "csrf", v->csrf);
    oas_tmpl_set(vars, "next", v->next);
    if (v->frames && v->frames->nelts)
        oas_tmpl_set(vars, "has_frames", "1");
    for (i = 0; v->frames && i < v->frames->nelts; i++)
        oas_tmpl_set(oas_tmpl_list_add(vars, "frames"), "url",
                     APR_ARRAY_IDX(v->frames, i, const char *));
    return oas_tmpl_render(p, t, vars);
}
