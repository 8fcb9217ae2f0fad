/* mod_oauth_as: OAuth protocol failures as one value (STYLE.md C4). The core fills it; the
 * glue renders it once, at the edge: JSON at the token-style endpoints (RFC 6749 §5.2), a
 * redirect or an error page at the authorization endpoint (RFC 6749 §4.1.2.1), and writes
 * its detail to the log. */
#ifndef OAS_ERR_H
#define OAS_ERR_H

#include <apr_errno.h>
#include <apr_pools.h>

typedef struct oas_err_t {
    int status;              /* HTTP status: 400, 401, 403, 413, 429, 500, 503 */
    const char *error;       /* RFC error code; NULL = no error */
    const char *description; /* client-visible, our own text (RFC 6749 §5.2 charset) */
    const char *detail;      /* for the log only, never sent: starts with its own
                              * OAS_LOGNO tag; NULL = nothing to log */
    int level;               /* log level of detail (oas_log.h); 0 = OAS_LOG_INFO */
    apr_status_t rv;         /* the backend's status behind a 5xx, for the log line */
    apr_int64_t retry_after; /* seconds for Retry-After (429, 503); 0 = no header */
    int page;                /* authorize only: the redirect target is not trusted */
} oas_err_t;

/* Sets the client-visible part and clears the rest. */
#define OAS_ERR_SET(e, st, code, desc)                                                          \
    do {                                                                                        \
        oas_err_t *e_ = (e);                                                                    \
        e_->status = (st);                                                                      \
        e_->error = (code);                                                                     \
        e_->description = (desc);                                                               \
        e_->detail = NULL;                                                                      \
        e_->level = 0;                                                                          \
        e_->rv = APR_SUCCESS;                                                                   \
        e_->retry_after = 0;                                                                    \
        e_->page = 0;                                                                           \
    } while (0)

/** OAS_ERR_SET and a detail for the log (formatted in p; fmt starts with OAS_LOGNO(n)).
 * @return APR_EINVAL, so a caller can `return oas_err(...)` */
apr_status_t oas_err(oas_err_t *e, apr_pool_t *p, int status, const char *error,
                     const char *description, int level, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/** A store that failed with rv while doing `what`: 503 temporarily_unavailable with
 * Retry-After, logged as "store full" (APR_ENOSPC, a warning) or "store failure" (an error).
 * @return rv (APR_EGENERAL when rv is APR_SUCCESS) */
apr_status_t oas_err_store(oas_err_t *e, apr_pool_t *p, apr_status_t rv, const char *what);

#endif
