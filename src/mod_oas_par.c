/* mod_oauth_as: the pushed authorization request endpoint (RFC 9126). The request is
 * validated with the same code as /authorize and kept, under a digest of its request_uri,
 * in the short-lived store. */
#include <http_protocol.h>
#include <string.h>

#include "mod_oas_client.h"
#include "mod_oas_endpoints.h"
#include "mod_oas_request.h"
#include "mod_oas_store.h"
#include "oas_authz.h"
#include "oas_jsonw.h"
#include "oas_util.h"

int oas_mod_par(request_rec *r, const oas_issuer_t *iss)
{
    oas_store_t *st = oas_mod_store_short(r, iss);
    const oas_client_t *c;
    apr_table_t *form;
    oas_authz_req_t *req;
    oas_err_t err;
    const char *token, *rec, *body, *v;
    oas_jsonw_t o;
    apr_status_t rv;
    int i, status = oas_mod_client_request(&c, &form, r, iss);

    if (status != OK || !c)
        return status;
    /* RFC 9126 §2.1: a pushed request must not itself refer to a request_uri */
    if (apr_table_get(form, "request_uri"))
        return oas_mod_send_oauth_error(r, 400, "invalid_request",
                                        "request_uri is not allowed in a pushed request");
    apr_table_unset(form, "client_secret");
    apr_table_set(form, "client_id", c->id);
    if (oas_authz_validate(&req, &err, r->pool, iss, form, NULL, OAS_AUTHZ_PAR) !=
        APR_SUCCESS) {
        /* RFC 9126 §2.3: token-endpoint style errors, never a redirect */
        return oas_mod_send_oauth_error(r, 400, err.error, err.description);
    }
    if (!st)
        return oas_mod_store_failure(r, APR_ENOTIMPL, "storing a pushed request", 1);

    /* only what the authorization request reads: unknown parameters are ignored (RFC 6749
     * §3.1), so a body padded with them up to the size limit still fits the store. One flat
     * object: "cid" (the pushing client, not a parameter name) and the parameters. */
    oas_jsonw_init(&o, r->pool, 1024);
    oas_jsonw_str(&o, OAS_PAR_RECORD_CLIENT, c->id);
    for (i = 0; oas_authz_param_names[i]; i++) {
        if ((v = apr_table_get(form, oas_authz_param_names[i])))
            oas_jsonw_str_keep_empty(&o, oas_authz_param_names[i], v);
    }
    /* the form parser let only UTF-8 through, so the record cannot fail */
    if (!(rec = oas_jsonw_end(&o)))
        return oas_mod_send_oauth_error(r, 400, "invalid_request", "malformed parameters");
    /* JSON escaping can make the record longer than the body: too large for the store is
     * the client's problem (RFC 9126 §2.3: 413), not "the server is busy" */
    if (strlen(rec) > OAS_STORE_MAX_VALUE)
        return oas_mod_send_oauth_error(r, HTTP_REQUEST_ENTITY_TOO_LARGE, "invalid_request",
                                        "the pushed request is too large");
    /* RFC 9126 §2.3: 429 when a client pushes more than its share of the store (D07) */
    if (oas_mod_client_over_quota(r, iss, c))
        return oas_mod_send_oauth_error(r, HTTP_TOO_MANY_REQUESTS, "temporarily_unavailable",
                                        "too many pending authorization requests");
    if (oas_random_token(&token, r->pool, OAS_TOKEN_BYTES) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    rv = oas_store_put_new(st, r->pool, OAS_NS_REQUEST_URI, token, rec, strlen(rec),
                           apr_time_now() + apr_time_from_sec(oas_iss_request_uri_ttl(iss)));
    if (rv != APR_SUCCESS)
        return oas_mod_store_failure(r, rv, "storing a pushed request", 1);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAS_LOGNO(00150)
                  "pushed authorization request stored for client %s", c->id);
    body = apr_psprintf(r->pool, "{\"request_uri\":\"%s%s\",\"expires_in\":%d}",
                        OAS_REQUEST_URI_PREFIX, token, oas_iss_request_uri_ttl(iss));
    return oas_mod_send_json(r, HTTP_CREATED, body);
}
