/* mod_oauth_as: the keys of clients whose OAuthASClientJWKS is an https jwks_uri. The fetched
 * document is shared by every child (and, with OAuthASStore dbd, every node) in the
 * short-lived store (OAS_NS_JWKS); each process keeps the keys it parsed from it, so a request
 * re-parses nothing that did not change. The policy (INTERFACE.md, issue 15):
 *   - fetched when absent or older than OAS_JWKS_FRESH; a stale document is still used, for
 *     up to OAS_JWKS_STALE_MAX, when its refresh fails (logged);
 *   - an unknown kid refetches at most once per OAS_JWKS_REFETCH_GAP per client, the time of
 *     that attempt shared through the store;
 *   - a failed fetch is remembered for OAS_JWKS_FAIL_MEMORY: meanwhile requests without a
 *     document fail at once, with no new fetch;
 *   - one fetch at a time per client: the others wait (at most the fetch timeout) for its
 *     document, or use the stale one;
 *   - a failure is 401 invalid_client, never a 5xx; the log says why. */
#ifndef OAS_JWKS_CACHE_H
#define OAS_JWKS_CACHE_H

#include "oas_conf.h"
#include "oas_ctx.h"
#include "oas_err.h"
#include "oas_fetch.h"

#define OAS_JWKS_FRESH 3600      /* seconds a fetched document is used without a refresh */
#define OAS_JWKS_STALE_MAX 86400 /* ... and at most, while refreshes fail */
#define OAS_JWKS_REFETCH_GAP 60  /* between refetches for an unknown kid, per client */
#define OAS_JWKS_FAIL_MEMORY 60  /* a failed fetch is not retried within this */
#define OAS_JWKS_CACHE_SLOTS 256 /* clients whose keys a process keeps parsed (oas_parse_cache.h) */

/** How documents are fetched (the glue installs oas_fetch_json; unit tests a stand-in) and how
 * long a request waits for another process's fetch of the same document (milliseconds). Once
 * at start-up, before any request. */
void oas_jwks_cache_set_fetch(oas_fetch_fn *fetch, int wait_ms);

/** Once per process (child_init): the process's cache of parsed keys (bounded: the last
 * OAS_JWKS_CACHE_SLOTS clients, by client and document), in p. Without it every request
 * parses the document it reads. */
apr_status_t oas_jwks_cache_child_init(apr_pool_t *p);

/** The keys (oas_jwk_t *) of c->jwks_uri to verify a JWT whose header names kid (NULL: none).
 * The array stays valid while x->p lives.
 * @return APR_SUCCESS (the keys may lack kid: the caller's verification then fails), or
 *         APR_EINVAL with *err set: 401 invalid_client, the log detail says why */
apr_status_t oas_jwks_cache_keys(apr_array_header_t **pkeys, oas_err_t *err, oas_ctx_t *x,
                                 const oas_client_t *c, const char *kid);

/** 1 when keys (oas_jwk_t *) hold a key of that kid. */
int oas_jwks_has_kid(const apr_array_header_t *keys, const char *kid);

#endif
