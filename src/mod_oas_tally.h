/* mod_oauth_as: lifecycle of the tally (src/oas_tally.h), the shared-memory table of the
 * counters and single-use markers: made once in the parent, kept across graceful restarts. */
#ifndef MOD_OAS_TALLY_H
#define MOD_OAS_TALLY_H

#include "mod_oas_private.h"
#include "oas_tally.h"

/** Bytes of the tally for a store of `store_bytes`: half of it, at least
 * OAS_TALLY_MIN_BYTES. */
apr_size_t oas_mod_tally_bytes(apr_size_t store_bytes);

/** post_config, real pass only: create (first time, or when the size changed) or reuse the
 * segment kept in retained data, and attach it in the parent. */
apr_status_t oas_mod_tally_post_config(server_rec *s, apr_pool_t *pconf, apr_size_t bytes);

/** child_init: attach in pchild (the lock words name this process). */
apr_status_t oas_mod_tally_child_init(apr_pool_t *pchild, server_rec *s);

/** The tally of this process, or NULL when none is configured. */
oas_tally_t *oas_mod_tally(void);

#endif
