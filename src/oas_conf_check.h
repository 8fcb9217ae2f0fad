/* mod_oauth_as: the configuration checks that need more than one directive: a whole
 * <OAuthASClient> block, or a whole issuer. Pure functions over the configuration model:
 * each fault is a message naming the directive (and, for a block, where it was written);
 * the glue refuses the configuration with it, at parse time or in check_config, so that
 * `apache2 -t` fails too. */
#ifndef OAS_CONF_CHECK_H
#define OAS_CONF_CHECK_H

#include "oas_conf.h"

/** What only the complete client block can tell (secret vs. authentication methods, grant
 * types vs. redirect URIs, PKCE of public clients), checked on the block as written, before
 * oas_client_resolve() fills in its defaults.
 * @return NULL when the block is consistent, else the message (allocated in p) */
const char *oas_conf_check_client(apr_pool_t *p, const oas_client_t *c);

/** What needs the whole issuer (one server's configuration): OAuthASIssuer where clients,
 * keys or endpoints are configured, a signing key, a declared resource for every audience.
 * @return NULL when the issuer is usable, else every fault found (const char *, in p) */
apr_array_header_t *oas_conf_check_issuer(apr_pool_t *p, const oas_issuer_t *iss);

#endif
