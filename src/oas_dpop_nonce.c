/* mod_oauth_as: stateless DPoP nonces (oas_dpop_nonce.h). */
#include "oas_dpop_nonce.h"
#include "oas_keys.h"

apr_status_t oas_dpop_nonce_key(oas_dpop_nonce_key_t **pk, apr_pool_t *p,
                                const struct oas_key_t *key, const char *issuer)
{
    (void)p, (void)key, (void)issuer;
    *pk = NULL;
    return APR_ENOTIMPL;
}

const char *oas_dpop_nonce_new(apr_pool_t *p, const oas_dpop_nonce_key_t *key, apr_int64_t now)
{
    (void)p, (void)key, (void)now;
    return NULL;
}

int oas_dpop_nonce_ok(const oas_dpop_nonce_key_t *key, const char *nonce, apr_int64_t now)
{
    (void)key, (void)nonce, (void)now;
    return 0;
}
