/* mod_oauth_as: the public keys of a client (OAuthASClientJWKS) when a JWT it signed is
 * verified: client assertions, request objects. A file's keys were read at start-up; a
 * jwks_uri's are fetched, cached across children and refetched on an unknown kid. */
#ifndef OAS_CLIENT_KEYS_H
#define OAS_CLIENT_KEYS_H

#include "oas_conf.h"
#include "oas_ctx.h"
#include "oas_err.h"

/** The keys (struct oas_jwk_t *) to verify a JWT of client c whose header names kid (NULL:
 * none). A jwks_uri client's keys come from the shared cache; an unknown kid refetches them
 * at most once per 60 s. Never blocks longer than the fetch timeout.
 * @return APR_SUCCESS with *pkeys set (possibly without a key of that kid: the caller's
 *         verification then fails); APR_EINVAL with *err set (401 invalid_client, the log
 *         detail says why: no keys configured, fetch failed, document unusable) */
apr_status_t oas_client_keys(apr_array_header_t **pkeys, oas_err_t *err, oas_ctx_t *x,
                             const oas_client_t *c, const char *kid);

#endif
