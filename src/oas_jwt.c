/* mod_oauth_as: claims of a verified JWT (stubs until implemented). */
#include "oas_jwt.h"

apr_status_t oas_jwt_parse(oas_jwt_t **pc, const char **perr, apr_pool_t *p, const char *payload,
                           apr_size_t len)
{
    (void)p;
    (void)payload;
    (void)len;
    *pc = NULL;
    *perr = "not implemented";
    return APR_ENOTIMPL;
}

apr_status_t oas_jwt_check_times(const oas_jwt_t *c, apr_int64_t now, int need_exp,
                                 apr_int64_t max_lifetime, const char **perr)
{
    (void)c;
    (void)now;
    (void)need_exp;
    (void)max_lifetime;
    *perr = "not implemented";
    return APR_ENOTIMPL;
}

int oas_jwt_aud_is(const oas_jwt_t *c, const char *expected, int allow_array)
{
    (void)c;
    (void)expected;
    (void)allow_array;
    return 0;
}
