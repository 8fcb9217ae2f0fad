/* mod_oauth_as: a client's public keys for verifying what it signs. */
#include "oas_client_keys.h"
#include "oas_jwks_cache.h"
#include "oas_log.h"

apr_status_t oas_client_keys(apr_array_header_t **pkeys, oas_err_t *err, oas_ctx_t *x,
                             const oas_client_t *c, const char *kid)
{
    *pkeys = NULL;
    if (c->jwks) {
        *pkeys = c->jwks;
        return APR_SUCCESS;
    }
    if (c->jwks_uri)
        return oas_jwks_cache_keys(pkeys, err, x, c, kid);
    return oas_err(err, x->p, 401, "invalid_client", "client authentication failed",
                   OAS_LOG_INFO, OAS_LOGNO(06101) "client %s has no usable keys", c->id);
}
