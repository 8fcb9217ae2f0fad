/* mod_oauth_as: the core's log bridge (oas_log.h). */
#include <stdarg.h>
#include <stdio.h>

#include <apr_strings.h>

#include "oas_log.h"

static int default_is_level(void *baton, int level)
{
    return level <= OAS_LOG_WARNING;
}

static void default_print(const char *file, int line, int level, apr_status_t rv, void *baton,
                          const char *msg)
{
    char buf[120];

    if (rv != APR_SUCCESS)
        fprintf(stderr, "[%d] %s (%s)\n", level, msg, apr_strerror(rv, buf, sizeof(buf)));
    else
        fprintf(stderr, "[%d] %s\n", level, msg);
}

/* set once at start-up, before threads exist; read-only afterwards */
static oas_log_is_level_fn *log_is_level = default_is_level;
static oas_log_print_fn *log_print = default_print;

void oas_log_set(oas_log_is_level_fn *is_level, oas_log_print_fn *print)
{
    log_is_level = is_level ? is_level : default_is_level;
    log_print = print ? print : default_print;
}

int oas_log_is_level(void *baton, int level)
{
    return log_is_level(baton, level);
}

void oas_log(const char *file, int line, int level, apr_status_t rv, void *baton,
             const char *fmt, ...)
{
    char msg[2048];
    va_list ap;

    if (!log_is_level(baton, level))
        return;
    va_start(ap, fmt);
    apr_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_print(file, line, level, rv, baton, msg);
}
