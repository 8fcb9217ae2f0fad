/* mod_oauth_as: the pending authorization and issuing its code (oas_code_issue.h). */
#include "oas_code_issue.h"
#include "oas_authz.h"
#include "oas_jsonr.h"
#include "oas_throttle.h"
#include "oas_util.h"

apr_status_t oas_authz_pending(oas_pending_t *pd, oas_ctx_t *x, oas_err_t *e,
                               const oas_authz_req_t *req, const char *ru, apr_int64_t auth_time)
{
    oas_grant_t *g = apr_pcalloc(x->p, sizeof(*g));

    pd->grant = g;
    pd->state = req->state;
    pd->request_uri = ru;
    pd->jarm = req->jarm;
    pd->device = NULL;
    g->iss = x->iss->issuer;
    g->client_id = req->client->id;
    g->sub = x->user;
    g->scope = req->scope;
    g->resource = req->resource;
    g->nonce = req->nonce;
    g->redirect_uri = req->redirect_uri;
    g->redirect_uri_sent = req->redirect_uri_sent;
    g->code_challenge = req->code_challenge;
    g->dpop_jkt = req->dpop_jkt;
    g->auth_time = auth_time;
    if (!x->user) { /* prompt=none without a signed-in user */
        OAS_ERR_SET(e, 400, "login_required", "the user is not signed in");
        return APR_EINVAL;
    }
    /* the push was counted against its client already; each visit of the user may open a
     * consent transaction, so the user is counted every time */
    if (oas_quota_take(x, e, ru ? NULL : req->client, x->user) != APR_SUCCESS)
        return APR_EINVAL;
    /* the user name becomes the sub claim: JSON text must be UTF-8 (RFC 8259 §8.1) */
    if (!*x->user || !oas_is_clean_utf8(x->user, strlen(x->user))) {
        OAS_ERR_SET(e, 403, "access_denied",
                    "Your user name cannot be used here (it is not UTF-8 text).");
        e->page = 1;
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t oas_request_uri_use_up(oas_ctx_t *x, oas_err_t *e, const char *ru)
{
    oas_store_t *st;
    apr_status_t rv;
    char *val = NULL;
    apr_size_t len = 0;
    oas_jobj_t o;

    if (!ru)
        return APR_SUCCESS;
    if (!(st = oas_ctx_store(x, OAS_CTX_SHORT)))
        return oas_store_refused(x, e, APR_ENOTIMPL, "using up a request_uri");
    rv = oas_store_take(st, x->p, OAS_NS_REQUEST_URI, ru, &val, &len);
    if (rv == APR_SUCCESS && val && oas_jsonr_parse(&o, x->p, val, len) == APR_SUCCESS)
        oas_quota_give_back_address(x, oas_jobj_str(&o, OAS_PAR_RECORD_ADDRESS));
    if (rv == APR_NOTFOUND) {
        OAS_ERR_SET(e, 400, OAS_AUTHZ_GONE,
                    "This authorization request has expired or was already used "
                    "(invalid_request_uri). Please start again from the application.");
        e->page = 1;
        return rv;
    }
    if (rv != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "using up a request_uri");
    return APR_SUCCESS;
}

apr_status_t oas_authz_record_fits(oas_err_t *e, const char *rec)
{
    if (strlen(rec) <= OAS_STORE_MAX_VALUE)
        return APR_SUCCESS;
    OAS_ERR_SET(e, 400, "invalid_request", "the authorization request is too large");
    return APR_EINVAL;
}

apr_status_t oas_authz_keep(const char **ptoken, oas_ctx_t *x, oas_err_t *e, int ns,
                            const char *rec, int ttl, const char *what)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_SHORT);
    apr_status_t rv;

    *ptoken = NULL;
    if (!st)
        return oas_store_refused(x, e, APR_ENOTIMPL, what);
    if ((rv = oas_random_token(ptoken, x->p, OAS_TOKEN_BYTES)) != APR_SUCCESS) {
        OAS_ERR_SET(e, 500, "server_error", "no random token");
        e->rv = rv;
        *ptoken = NULL;
        return rv;
    }
    rv = oas_store_put_new(st, x->p, ns, *ptoken, rec, strlen(rec),
                           apr_time_now() + apr_time_from_sec(ttl));
    if (rv != APR_SUCCESS) {
        *ptoken = NULL;
        return oas_store_refused(x, e, rv, what);
    }
    return APR_SUCCESS;
}

apr_status_t oas_code_issue(const char **pcode, oas_ctx_t *x, oas_err_t *e, const oas_pending_t *pd)
{
    const char *json;
    apr_status_t rv;

    *pcode = NULL;
    if (!oas_ctx_store(x, OAS_CTX_SHORT))
        return oas_store_refused(x, e, APR_ENOTIMPL, "issuing a code");
    if ((rv = oas_grant_to_json(&json, x->p, pd->grant)) != APR_SUCCESS) {
        OAS_ERR_SET(e, 500, "server_error", "the code could not be made");
        e->rv = rv;
        return rv;
    }
    /* the code is stored before the pushed request is used up: a full store must not take
     * the pushed request without giving its code (the client could not retry) */
    if ((rv = oas_authz_record_fits(e, json)) != APR_SUCCESS ||
        (rv = oas_authz_keep(pcode, x, e, OAS_NS_CODE, json, oas_iss_code_ttl(x->iss),
                             "storing a code")) != APR_SUCCESS)
        return rv;
    if ((rv = oas_request_uri_use_up(x, e, pd->request_uri)) != APR_SUCCESS) {
        /* another request used it up first: its code is the only one */
        oas_store_del(oas_ctx_store(x, OAS_CTX_SHORT), x->p, OAS_NS_CODE, *pcode);
        *pcode = NULL;
        return rv;
    }
    OAS_CTX_LOG(x, OAS_LOG_INFO, 0,
                OAS_LOGNO(00141) "issued an authorization code to client %s for %s",
                pd->grant->client_id, pd->grant->sub);
    return APR_SUCCESS;
}
