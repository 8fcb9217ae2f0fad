/* mod_oauth_as: the bridge that writes the core's log lines (oas_log.h) through httpd's log,
 * with the module's per-directory LogLevel. The baton is the request_rec, or NULL for the
 * server. */
#include "mod_oas_private.h"

#include <http_main.h> /* ap_server_conf */

#include "mod_oas_log.h"

static int bridge_is_level(void *baton, int level)
{
    request_rec *r = baton;

    return r ? APLOG_R_MODULE_IS_LEVEL(r, APLOG_MODULE_INDEX, level)
             : APLOG_MODULE_IS_LEVEL(ap_server_conf, APLOG_MODULE_INDEX, level);
}

static void bridge_print(const char *file, int line, int level, apr_status_t rv, void *baton,
                         const char *msg)
{
    request_rec *r = baton;

    if (r)
        ap_log_rerror_(file, line, APLOG_MODULE_INDEX, level, rv, r, "%s", msg);
    else
        ap_log_error_(file, line, APLOG_MODULE_INDEX, level, rv, ap_server_conf, "%s", msg);
}

void oas_mod_log_init(void)
{
    oas_log_set(bridge_is_level, bridge_print);
}
