/* mod_oauth_as: mod_status report (server-status and server-status?auto): occupancy of the
 * shared-memory store and which store each issuer uses. */
#ifndef MOD_OAS_STATUS_H
#define MOD_OAS_STATUS_H

#include "mod_oas_private.h"

/** mod_status's optional status_hook: appends our section (flags: AP_STATUS_*).
 * Takes the store's lock only to copy its counters. @return OK */
int oas_mod_status_hook(request_rec *r, int flags);

#endif
