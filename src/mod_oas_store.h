/* mod_oauth_as: the engine's context for a request (src/oas_ctx.h), with the stores of the
 * request's issuer opened on first use. */
#ifndef MOD_OAS_STORE_H
#define MOD_OAS_STORE_H

#include "mod_oas_private.h"
#include "oas_conf.h"
#include "oas_ctx.h"
#include "oas_store.h"

/* The engine's context for r: stores opened on first use, r as log baton. */
oas_ctx_t *oas_mod_ctx(request_rec *r, const oas_issuer_t *iss);

#endif
