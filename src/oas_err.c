/* mod_oauth_as: the error value (oas_err.h). */
#include <stdarg.h>

#include <apr_strings.h>
#include <apr_time.h>

#include "oas_err.h"
#include "oas_log.h"

apr_status_t oas_err(oas_err_t *e, apr_pool_t *p, int status, const char *error,
                     const char *description, int level, const char *fmt, ...)
{
    va_list ap;

    OAS_ERR_SET(e, status, error, description);
    e->level = level;
    va_start(ap, fmt);
    e->detail = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    return APR_EINVAL;
}

/* The second of this process's last "store full" warning. A full store answers every request
 * that needs room with 503 until records expire: a warning a second per process says so, the
 * rest go to the debug level, so that a flood does not fill the disk as well. */
static apr_int64_t full_warned;

static int full_warning_due(void)
{
    apr_int64_t now = apr_time_sec(apr_time_now());
    apr_int64_t last = __atomic_load_n(&full_warned, __ATOMIC_RELAXED);

    return last != now && __atomic_compare_exchange_n(&full_warned, &last, now, 0,
                                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

apr_status_t oas_err_store(oas_err_t *e, apr_pool_t *p, apr_status_t rv, const char *what)
{
    int full = APR_STATUS_IS_ENOSPC(rv);

    OAS_ERR_SET(e, 503, "temporarily_unavailable", "the server is busy, try again later");
    e->level = !full ? OAS_LOG_ERR : full_warning_due() ? OAS_LOG_WARNING : OAS_LOG_DEBUG;
    e->detail = apr_pstrcat(p, OAS_LOGNO(00120) "store ", full ? "full" : "failure", " while ",
                            what, NULL);
    e->rv = rv;
    e->retry_after = 5;
    return rv != APR_SUCCESS ? rv : APR_EGENERAL;
}
