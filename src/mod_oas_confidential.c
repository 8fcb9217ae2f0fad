/* mod_oauth_as: the confidential-client front of revocation and introspection. */
#include "mod_oas_confidential.h"
#include "mod_oas_client.h"
#include "mod_oas_request.h"

int oas_mod_confidential_request(oas_ctx_t **px, const oas_client_t **pc, const char **ptok,
                                 request_rec *r, const oas_issuer_t *iss, int allow_public)
{
    apr_table_t *form;
    int status = oas_mod_client_request(px, pc, &form, r, iss);

    *ptok = NULL;
    if (status != OK || !*pc)
        return status;
    if (oas_client_is_public(*pc) && !allow_public) {
        *pc = NULL;
        return oas_mod_send_oauth_error(r, 401, "invalid_client",
                                        "this endpoint is for confidential clients");
    }
    if (!(*ptok = apr_table_get(form, "token"))) {
        *pc = NULL;
        return oas_mod_send_oauth_error(r, 400, "invalid_request",
                                        "the token parameter is missing");
    }
    return OK;
}
