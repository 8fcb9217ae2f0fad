/* mod_oauth_as: the pushed authorization request endpoint (RFC 9126). The request is
 * validated with the same code as /authorize and kept in the short-lived store
 * (src/oas_par_record.c). */
#include <http_protocol.h>

#include "mod_oas_client.h"
#include "mod_oas_endpoints.h"
#include "mod_oas_request.h"
#include "mod_oas_store.h"
#include "oas_dpop_endpoint.h"
#include "oas_jsonw.h"
#include "oas_par_record.h"

int oas_mod_par(request_rec *r, const oas_issuer_t *iss)
{
    const oas_client_t *c;
    oas_ctx_t *x;
    apr_table_t *form;
    const char *token, *body, *nonce;
    oas_dpop_req_t dpop;
    oas_jsonw_t o;
    oas_err_t err;
    apr_status_t rv;
    int status = oas_mod_client_request(&x, &c, &form, r, iss);

    if (status != OK || !c)
        return status;
    /* RFC 9449 §10.1: a proof here binds the code to its key */
    oas_mod_dpop_in(&dpop, r);
    if ((rv = oas_dpop_at_as(&nonce, &err, x, c, &dpop, OAS_EP_PAR)) == APR_SUCCESS)
        rv = oas_par_push(&token, x, &err, c, form);
    oas_mod_dpop_nonce(r, nonce);
    if (rv != APR_SUCCESS) {
        if (err.status >= HTTP_INTERNAL_SERVER_ERROR && err.status != HTTP_SERVICE_UNAVAILABLE) {
            oas_mod_log_err(r, &err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        return oas_mod_send_err(r, &err);
    }
    oas_jsonw_init(&o, r->pool, 128);
    oas_jsonw_str(&o, "request_uri", apr_pstrcat(r->pool, OAS_REQUEST_URI_PREFIX, token, NULL));
    oas_jsonw_int(&o, "expires_in", oas_iss_request_uri_ttl(iss));
    body = oas_jsonw_end(&o);
    return oas_mod_send_json(r, HTTP_CREATED, body);
}
