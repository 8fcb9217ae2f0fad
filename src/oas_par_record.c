/* mod_oauth_as: the pushed request's record (oas_par_record.h). One flat JSON object:
 * "cid" (the pushing client, not a parameter name) and the parameters. */
#include <apr_strings.h>

#include "oas_authz.h"
#include "oas_jsonr.h"
#include "oas_jsonw.h"
#include "oas_par_record.h"
#include "oas_request_object.h"
#include "oas_throttle.h"
#include "oas_util.h"

apr_status_t oas_par_push(const char **ptoken, oas_ctx_t *x, oas_err_t *e, const oas_client_t *c,
                          apr_table_t *form)
{
    oas_authz_req_t *req;
    const char *rec, *v;
    oas_jsonw_t o;
    apr_status_t rv;
    int i;

    *ptoken = NULL;
    /* RFC 9126 §2.1: a pushed request must not itself refer to a request_uri */
    if (apr_table_get(form, "request_uri")) {
        OAS_ERR_SET(e, 400, "invalid_request", "request_uri is not allowed in a pushed request");
        return APR_EINVAL;
    }
    /* RFC 9126 §3: with a request object, its parameters are the request */
    if (oas_request_object_use(&form, e, x, c, form, OAS_AUTHZ_PAR) != APR_SUCCESS)
        return APR_EINVAL;
    apr_table_unset(form, "client_secret");
    apr_table_set(form, "client_id", c->id);
    if (oas_authz_validate_ctx(&req, e, x, form, NULL, OAS_AUTHZ_PAR) != APR_SUCCESS) {
        /* RFC 9126 §2.3: token-endpoint style errors, never a redirect */
        e->page = 0;
        return APR_EINVAL;
    }
    /* RFC 9449 §10.1: a proof at PAR binds the code to its key, as dpop_jkt would; both
     * must then name the same key */
    if (x->dpop_jkt) {
        if (req->dpop_jkt && strcmp(req->dpop_jkt, x->dpop_jkt))
            return oas_err(e, x->p, 400, "invalid_request",
                           "dpop_jkt does not match the key of the DPoP proof", OAS_LOG_INFO,
                           OAS_LOGNO(06452) "pushed request of client %s refused: dpop_jkt "
                                            "differs from the DPoP proof's key",
                           c->id);
        apr_table_set(form, "dpop_jkt", x->dpop_jkt);
    }
    if (!oas_ctx_store(x, OAS_CTX_SHORT))
        return oas_store_refused(x, e, APR_ENOTIMPL, "storing a pushed request");

    /* only what the authorization request reads: unknown parameters are ignored (RFC 6749
     * §3.1), so a body padded with them up to the size limit still fits the store */
    oas_jsonw_init(&o, x->p, 1024);
    oas_jsonw_str(&o, OAS_PAR_RECORD_CLIENT, c->id);
    if ((v = oas_quota_push_address(x, c)))
        oas_jsonw_str(&o, OAS_PAR_RECORD_ADDRESS, v);
    for (i = 0; oas_authz_param_names[i]; i++) {
        if ((v = apr_table_get(form, oas_authz_param_names[i])))
            oas_jsonw_str_keep_empty(&o, oas_authz_param_names[i], v);
    }
    /* the form parser let only UTF-8 through, so the record cannot fail */
    if (!(rec = oas_jsonw_end(&o))) {
        OAS_ERR_SET(e, 400, "invalid_request", "malformed parameters");
        return APR_EINVAL;
    }
    /* JSON escaping can make the record longer than the body: too large for the store is
     * the client's problem (RFC 9126 §2.3: 413), not "the server is busy" */
    if (strlen(rec) > OAS_STORE_MAX_VALUE)
        return oas_err(
            e, x->p, 413, "invalid_request", "the pushed request is too large", OAS_LOG_INFO,
            OAS_LOGNO(03001) "pushed request of client %s refused: "
                             "its record of %" APR_SIZE_T_FMT " bytes is too large for the store",
            c->id, strlen(rec));
    /* RFC 9126 §2.3: 429 when a client pushes more than its share of the store (D07) */
    if (oas_quota_take(x, e, c, NULL) != APR_SUCCESS)
        return APR_EINVAL;
    if ((rv = oas_authz_keep(ptoken, x, e, OAS_NS_REQUEST_URI, rec, oas_iss_request_uri_ttl(x->iss),
                             "storing a pushed request")) != APR_SUCCESS)
        return rv;
    OAS_CTX_LOG(x, OAS_LOG_INFO, 0,
                OAS_LOGNO(00150) "pushed authorization request stored for client %s", c->id);
    return APR_SUCCESS;
}

/* A refusal of /authorize shown as a page (the redirect target is not known yet). */
static apr_status_t page(oas_err_t *e, const char *error, const char *desc)
{
    OAS_ERR_SET(e, 400, error, desc);
    e->page = 1;
    return APR_EINVAL;
}

apr_status_t oas_par_load(apr_table_t **pparams, const char **pru, oas_ctx_t *x, oas_err_t *e,
                          const char *ru, const char *cid)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_SHORT);
    apr_size_t plen = sizeof(OAS_REQUEST_URI_PREFIX) - 1;
    char *val;
    apr_size_t len;
    oas_jobj_t o;
    const char *pcid = NULL;
    apr_status_t rv;
    int i;

    *pparams = NULL;
    *pru = NULL;
    if (!st)
        return oas_store_refused(x, e, APR_ENOTIMPL, "reading a request_uri");
    if (!cid)
        return page(e, "invalid_request", "The client_id parameter is missing (invalid_request).");
    if (strncmp(ru, OAS_REQUEST_URI_PREFIX, plen) ||
        strlen(ru) > plen + OAS_REQUEST_URI_MAX_OPAQUE ||
        (rv = oas_store_get(st, x->p, OAS_NS_REQUEST_URI, ru + plen, &val, &len)) == APR_NOTFOUND)
        return page(e, OAS_AUTHZ_GONE,
                    "This authorization request is unknown, has expired or was already "
                    "used (invalid_request_uri). Please start again from the application.");
    if (rv != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "reading a request_uri");
    if (oas_jsonr_parse(&o, x->p, val, len) != APR_SUCCESS ||
        !(pcid = oas_jobj_str(&o, OAS_PAR_RECORD_CLIENT)) || strcmp(pcid, cid)) {
        oas_err(e, x->p, 400, "invalid_request_uri",
                "This authorization request belongs to another client (invalid_request_uri).",
                OAS_LOG_INFO, OAS_LOGNO(03002) "request_uri of client %s presented for client %s",
                pcid ? pcid : "(unreadable record)", cid);
        e->page = 1;
        return APR_EINVAL;
    }
    *pparams = apr_table_make(x->p, o.n);
    for (i = 0; i < o.n; i++) {
        if (o.m[i].type == OAS_JSON_STRING && strcmp(o.m[i].key, OAS_PAR_RECORD_CLIENT) &&
            strcmp(o.m[i].key, OAS_PAR_RECORD_ADDRESS))
            apr_table_setn(*pparams, o.m[i].key, o.m[i].str);
    }
    *pru = ru + plen;
    return APR_SUCCESS;
}
