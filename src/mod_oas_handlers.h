/* mod_oauth_as: one handler per endpoint kind. */
#ifndef MOD_OAS_HANDLERS_H
#define MOD_OAS_HANDLERS_H

#include "mod_oas_private.h"

/* The handler hook: serves the endpoint mounted at this <Location>, or DECLINED. */
int oas_mod_handler(request_rec *r);

#endif
