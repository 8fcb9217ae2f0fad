/* mod_oauth_as: public JWKs of clients (stubs until implemented). */
#include "oas_jwk.h"

apr_status_t oas_jwk_parse(oas_jwk_t **pk, const char **perr, apr_pool_t *p, const char *json,
                           apr_size_t len)
{
    (void)p;
    (void)json;
    (void)len;
    *pk = NULL;
    *perr = "not implemented";
    return APR_ENOTIMPL;
}

apr_status_t oas_jwks_parse(apr_array_header_t **pkeys, const char **perr, apr_pool_t *p,
                            const char *json, apr_size_t len)
{
    (void)p;
    (void)json;
    (void)len;
    *pkeys = NULL;
    *perr = "not implemented";
    return APR_ENOTIMPL;
}

apr_status_t oas_jwks_load_file(apr_array_header_t **pkeys, const char **perr, apr_pool_t *p,
                                const char *path)
{
    (void)p;
    (void)path;
    *pkeys = NULL;
    *perr = "not implemented";
    return APR_ENOTIMPL;
}

apr_status_t oas_jwk_thumbprint(const char **ptp, apr_pool_t *p, const oas_jwk_t *k)
{
    (void)p;
    (void)k;
    *ptp = NULL;
    return APR_ENOTIMPL;
}
