/* mod_oauth_as: the core's log bridge (as mod_md's md_log_set). The core never includes
 * httpd's headers; the glue installs two functions at start-up that hand each line to
 * ap_log_rerror / ap_log_error, with the file and line of the core's call site.
 * Every line starts with its own tag, OAS_LOGNO(n) (tools/lognos: one use per number). */
#ifndef OAS_LOG_H
#define OAS_LOG_H

#include <apr_errno.h>

/* Our own log tags (httpd's AH numbers are reserved for httpd): see tools/lognos. */
#define OAS_LOGNO(n) "OAS" #n ": "

/* Levels: the same numbers as httpd's APLOG_* */
#define OAS_LOG_ERR     3
#define OAS_LOG_WARNING 4
#define OAS_LOG_NOTICE  5
#define OAS_LOG_INFO    6
#define OAS_LOG_DEBUG   7

#define OAS_LOG_MARK __FILE__, __LINE__

/* baton: what the caller logs for (the glue passes its request_rec, or NULL for the
 * server); the core only carries it. */
typedef int oas_log_is_level_fn(void *baton, int level);
typedef void oas_log_print_fn(const char *file, int line, int level, apr_status_t rv,
                              void *baton, const char *msg);

/** Installs the bridge (once, at start-up, before any request); NULL fns restore the
 * default (stderr, for unit tests and tools; level WARNING and above). */
void oas_log_set(oas_log_is_level_fn *is_level, oas_log_print_fn *print);

/** 1 when a line of this level would be written for baton. */
int oas_log_is_level(void *baton, int level);

/** Formats and writes one line when its level is enabled (formatting is skipped otherwise).
 * fmt starts with OAS_LOGNO(n). */
void oas_log(const char *file, int line, int level, apr_status_t rv, void *baton,
             const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#endif
