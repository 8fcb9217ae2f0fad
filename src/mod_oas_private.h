/* mod_oauth_as: included first by every glue file (src/mod_oas_*.c, mod_oauth_as.c). */
#ifndef MOD_OAS_PRIVATE_H
#define MOD_OAS_PRIVATE_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

extern module AP_MODULE_DECLARE_DATA oauth_as_module;
/* mod_oauth_as.c gets this from AP_DECLARE_MODULE */
#ifndef OAS_MODULE_FILE
APLOG_USE_MODULE(oauth_as);
#endif

#include "oas_log.h" /* OAS_LOGNO: our own log tags, see tools/lognos */

#define OAS_MUTEX_TYPE "oauth-as-store"

#endif
