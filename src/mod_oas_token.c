/* mod_oauth_as: the token endpoint (RFC 6749 §3.2, §5): the client authenticates, the core
 * (oas_issue.h) answers the grant. */
#include <http_protocol.h>

#include "mod_oas_client.h"
#include "mod_oas_endpoints.h"
#include "mod_oas_request.h"
#include "mod_oas_store.h"
#include "oas_issue.h"

int oas_mod_token(request_rec *r, const oas_issuer_t *iss)
{
    const oas_client_t *c;
    oas_ctx_t *x;
    apr_table_t *form;
    const char *body;
    oas_err_t e;
    int status = oas_mod_client_request(&x, &c, &form, r, iss);

    if (status != OK || !c)
        return status;
    if (oas_issue_request(&body, &e, x, c, form) != APR_SUCCESS)
        return oas_mod_send_err(r, &e);
    return oas_mod_send_json(r, HTTP_OK, body);
}
