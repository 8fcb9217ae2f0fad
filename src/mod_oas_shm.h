/* mod_oauth_as: lifecycle of the shared-memory store (STYLE.md C9, C15, P1): the segment and
 * the global mutex are made once in the parent and kept across graceful restarts. */
#ifndef MOD_OAS_SHM_H
#define MOD_OAS_SHM_H

#include "mod_oas_private.h"
#include "oas_store.h"

/** pre_config: register the mutex type OAS_MUTEX_TYPE, so the Mutex directive applies. */
apr_status_t oas_mod_shm_pre_config(apr_pool_t *pconf);

/** post_config, real pass only: create (first time, or when entries changed) or reuse the
 * segment and mutex kept in retained data, and attach the store in the parent.
 * @param entries capacity of the table (OAuthASStoreSize)
 * @return APR_EINVAL for an impossible size, else the APR error that stopped creation */
apr_status_t oas_mod_shm_post_config(server_rec *s, apr_pool_t *pconf, apr_uint32_t entries);

/** child_init: re-open the mutex in this child and attach the store in pchild.
 * Does nothing (APR_SUCCESS) when post_config did not set a store up. */
apr_status_t oas_mod_shm_child_init(apr_pool_t *pchild, server_rec *s);

/** The store of this process, or NULL when none is configured. Set up before any request;
 * safe to use from every thread (the global mutex also excludes threads). */
oas_store_t *oas_mod_shm_store(void);

#endif
