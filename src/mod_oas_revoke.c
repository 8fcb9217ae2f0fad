/* mod_oauth_as: the revocation endpoint (RFC 7009); the core (oas_liveness.h) revokes. A
 * public client revokes its own tokens, identified by its client_id (§2.1): it proves no more
 * than that, and can only end what was issued to that client. */
#include <http_protocol.h>

#include "mod_oas_confidential.h"
#include "mod_oas_endpoints.h"
#include "mod_oas_request.h"
#include "mod_oas_store.h"
#include "oas_liveness.h"

int oas_mod_revoke(request_rec *r, const oas_issuer_t *iss)
{
    const oas_client_t *c;
    oas_ctx_t *x;
    const char *tok;
    oas_err_t e;
    int status = oas_mod_confidential_request(&x, &c, &tok, r, iss, 1);

    if (status != OK || !c)
        return status;
    if (oas_revoke_token(&e, x, c, tok) != APR_SUCCESS)
        return oas_mod_send_err(r, &e);
    /* RFC 7009 §2.2: unknown, foreign or already invalid tokens get 200 as well */
    return oas_mod_send_json(r, HTTP_OK, "{}");
}
