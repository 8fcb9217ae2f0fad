/* mod_oauth_as: the token endpoint (RFC 6749 §3.2, §5): the client authenticates, the core
 * checks its DPoP proof (oas_dpop_endpoint.h) and answers the grant (oas_issue.h). */
#include <http_protocol.h>

#include "mod_oas_client.h"
#include "mod_oas_endpoints.h"
#include "mod_oas_request.h"
#include "mod_oas_store.h"
#include "oas_dpop_endpoint.h"
#include "oas_issue.h"

int oas_mod_token(request_rec *r, const oas_issuer_t *iss)
{
    const oas_client_t *c;
    oas_ctx_t *x;
    apr_table_t *form;
    const char *body, *nonce;
    oas_dpop_req_t dpop;
    oas_err_t e;
    apr_status_t rv;
    int status = oas_mod_client_request(&x, &c, &form, r, iss);

    if (status != OK || !c)
        return status;
    oas_mod_dpop_in(&dpop, r);
    if ((rv = oas_dpop_at_as(&nonce, &e, x, c, &dpop, OAS_EP_TOKEN)) == APR_SUCCESS)
        rv = oas_issue_request(&body, &e, x, c, form);
    oas_mod_dpop_nonce(r, nonce);
    if (rv != APR_SUCCESS)
        return oas_mod_send_err(r, &e);
    return oas_mod_send_json(r, HTTP_OK, body);
}
