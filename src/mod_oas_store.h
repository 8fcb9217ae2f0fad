/* mod_oauth_as: which store serves an issuer's short-lived and long-lived state, and the
 * one way store failures become responses. */
#ifndef MOD_OAS_STORE_H
#define MOD_OAS_STORE_H

#include "mod_oas_private.h"
#include "oas_conf.h"
#include "oas_ctx.h"
#include "oas_store.h"

/* The store for short-lived state (codes, request_uris, transactions). NULL when the
 * database cannot be reached (logged): callers answer 503. */
oas_store_t *oas_mod_store_short(request_rec *r, const oas_issuer_t *iss);
/* The store for long-lived state (refresh tokens, remembered consents, revocations). */
oas_store_t *oas_mod_store_long(request_rec *r, const oas_issuer_t *iss);

/* The engine's context for r (src/oas_ctx.h): stores opened on first use, r as log baton. */
oas_ctx_t *oas_mod_ctx(request_rec *r, const oas_issuer_t *iss);

/* Logs a store failure and answers 503 with Retry-After (JSON when json, else a page). */
int oas_mod_store_failure(request_rec *r, apr_status_t rv, const char *what, int json);

#endif
