/* mod_oauth_as: the error value (oas_err.h). */
#include <stdarg.h>

#include <apr_strings.h>

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

apr_status_t oas_err_store(oas_err_t *e, apr_pool_t *p, apr_status_t rv, const char *what)
{
    int full = APR_STATUS_IS_ENOSPC(rv);

    OAS_ERR_SET(e, 503, "temporarily_unavailable", "the server is busy, try again later");
    e->level = full ? OAS_LOG_WARNING : OAS_LOG_ERR;
    e->detail = apr_pstrcat(p, OAS_LOGNO(00120) "store ", full ? "full" : "failure", " while ",
                            what, NULL);
    e->rv = rv;
    e->retry_after = 5;
    return rv != APR_SUCCESS ? rv : APR_EGENERAL;
}
