/* mod_oauth_as: lifecycle of the shared-memory store (STYLE.md C9, C15, P1): the segment and
 * the global mutex are made once in the parent and kept across graceful restarts. */
#ifndef MOD_OAS_SHM_H
#define MOD_OAS_SHM_H

#include "mod_oas_private.h"
#include "oas_store.h"

/** pre_config: register the mutex type OAS_MUTEX_TYPE, so the Mutex directive applies. */
apr_status_t oas_mod_shm_pre_config(apr_pool_t *pconf);

/** Bytes of the region for an OAuthASStoreSize setting (oas_iss_store_size(): > 0 entries,
 * < 0 minus KiB). */
apr_size_t oas_mod_shm_bytes(int setting);

/** post_config, real pass only: create (first time, or when the size changed) or reuse the
 * segment and mutex kept in retained data, and attach the store in the parent.
 * @param setting OAuthASStoreSize as oas_iss_store_size() gives it
 * @return APR_EINVAL for an impossible size, else the APR error that stopped creation */
apr_status_t oas_mod_shm_post_config(server_rec *s, apr_pool_t *pconf, int setting);

/** child_init: re-open the mutex in this child and attach the store in pchild.
 * Does nothing (APR_SUCCESS) when post_config did not set a store up. */
apr_status_t oas_mod_shm_child_init(apr_pool_t *pchild, server_rec *s);

/** The store of this process, or NULL when none is configured. Set up before any request;
 * safe to use from every thread (the global mutex also excludes threads). */
oas_store_t *oas_mod_shm_store(void);

#endif
