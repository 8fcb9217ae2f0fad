/* mod_oauth_as: OAuthASEndpoint metrics (Prometheus) in httpd: the counters' shared segment
 * (one for the server, kept across graceful restarts, zeroed at a hard one), the count of
 * every request an endpoint answered (log_transaction) and the scrape's handler. */
#ifndef MOD_OAS_METRICS_H
#define MOD_OAS_METRICS_H

#include "mod_oas_private.h"

/** post_config, real pass only: create the segment once, attach it in this process. */
apr_status_t oas_mod_metrics_post_config(server_rec *s);

/** Registers pre_mpm (zeroes the counters at start and at a hard restart only) and
 * log_transaction (counts the requests of our endpoints). */
void oas_mod_metrics_register(apr_pool_t *p);

/** The handler of OAuthASEndpoint metrics: GET or HEAD, the exposition, no-store. */
int oas_mod_metrics(request_rec *r);

#endif
