/* mod_oauth_as: what every store backend shares (oas_store.h). */
#include <stdio.h>

#include "oas_store.h"

apr_status_t oas_store_incr(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                            apr_int64_t delta, apr_time_t expires, apr_int64_t *pcount,
                            apr_time_t *pexpires)
{
    apr_int64_t count = 0, until = 0;
    char *val, buf[64];
    apr_size_t len;
    apr_status_t rv;

    if (st->incr)
        return st->incr(st, p, ns, key, strlen(key), delta, expires, pcount, pexpires);
    rv = oas_store_get(st, p, ns, key, &val, &len);
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND)
        return rv;
    if (rv != APR_SUCCESS ||
        sscanf(val, "%" APR_INT64_T_FMT " %" APR_INT64_T_FMT, &count, &until) != 2 ||
        until <= 0) {
        count = 0;
        until = expires;
    }
    count += delta;
    len = (apr_size_t)apr_snprintf(buf, sizeof(buf), "%" APR_INT64_T_FMT " %" APR_INT64_T_FMT,
                                   count, until);
    if ((rv = oas_store_put(st, p, ns, key, buf, len, (apr_time_t)until)) != APR_SUCCESS)
        return rv;
    *pcount = count;
    if (pexpires)
        *pexpires = (apr_time_t)until;
    return APR_SUCCESS;
}
