/* mod_oauth_as: outbound https calls, the lifecycle glue (src/mod_oas_outbound.c). */
#ifndef MOD_OAS_OUTBOUND_H
#define MOD_OAS_OUTBOUND_H

#include <httpd.h>

/** post_config: libcurl's global start (once per process) and the fetch function of the
 * core's jwks_uri cache. */
apr_status_t oas_mod_outbound_post_config(apr_pool_t *pconf, server_rec *s);

/** child_init: the per-process cache of parsed client keys, and the back-channel logout
 * thread when a client may need it (oas_logout_queue.h). */
void oas_mod_outbound_child_init(apr_pool_t *pchild, server_rec *s);

#endif
