/* mod_oauth_as: the introspection endpoint (RFC 7662); the core (oas_liveness.h) answers. */
#include <http_protocol.h>

#include "mod_oas_confidential.h"
#include "mod_oas_endpoints.h"
#include "mod_oas_request.h"
#include "mod_oas_store.h"
#include "oas_liveness.h"

int oas_mod_introspect(request_rec *r, const oas_issuer_t *iss)
{
    const oas_client_t *c;
    oas_ctx_t *x;
    const char *tok;
    int status = oas_mod_confidential_request(&x, &c, &tok, r, iss);

    if (status != OK || !c)
        return status;
    return oas_mod_send_json(r, HTTP_OK, oas_introspect(x, tok));
}
