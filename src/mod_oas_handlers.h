/* mod_oauth_as: one handler per endpoint kind. */
#ifndef MOD_OAS_HANDLERS_H
#define MOD_OAS_HANDLERS_H

#include "mod_oas_private.h"

/* The handler hook: serves the endpoint mounted at this <Location>, or DECLINED. */
int oas_mod_handler(request_rec *r);

/* translate_name marks a request for a virtual endpoint (all but authorize); map_to_storage
 * then answers OK for it: no file-system walk. */
int oas_mod_translate_name(request_rec *r);
int oas_mod_map_to_storage(request_rec *r);

#endif
