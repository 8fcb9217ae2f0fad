/* mod_oauth_as: the RFC 8414 / OpenID Connect Discovery document, built once at start-up
 * from the real configuration. */
#ifndef OAS_METADATA_H
#define OAS_METADATA_H

#include "oas_conf.h"

/** The metadata JSON text of an issuer, in p. Endpoints are published where they are
 * mounted (issuer origin + <Location> path). */
const char *oas_metadata_json(apr_pool_t *p, const oas_issuer_t *iss);

#endif
