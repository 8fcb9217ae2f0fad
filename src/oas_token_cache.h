/* mod_oauth_as: a small per-process cache of verified access tokens, for the resource server
 * (AuthType oauth-as) where the same token comes back request after request: the token (its
 * whole text, compared byte for byte, with the issuer that verified it) names its verified
 * claims, so the signature (nine tenths of a request's work) is checked once per token and
 * process. It caches only what cannot change (the signature holds, the claims are these):
 * revocation is asked of the store on every request, so it stays immediate; the expiry is
 * checked on every hit. Direct-mapped by a cheap hash (a newer token takes its slot; equal
 * hashes are told apart by the comparison), striped locks, claims held as a jansson object
 * with atomic reference counts, shared read-only. No I/O. */
#ifndef OAS_TOKEN_CACHE_H
#define OAS_TOKEN_CACHE_H

#include <jansson.h>

#include "oas.h"

#define OAS_TOKEN_CACHE_SLOTS 1024 /* per process */
#define OAS_TOKEN_CACHE_MAX_LEN 4096 /* longer tokens are not cached (ours are < 2 KiB) */

typedef struct oas_token_cache_t oas_token_cache_t;

/** A cache in p (a process's pool), or NULL when its locks cannot be made. */
oas_token_cache_t *oas_token_cache_create(apr_pool_t *p);

/** The claims cached for token tok verified for issuer (compared by identity: the issuer's
 * configuration lives as long as the process) when its exp (plus leeway) is not past now: a
 * reference the pool p releases, and *punlinked what oas_token_cache_unlinked noted; else
 * NULL. */
json_t *oas_token_cache_get(oas_token_cache_t *tc, const void *issuer, const char *tok,
                            apr_int64_t now, apr_int64_t leeway, apr_pool_t *p, int *punlinked);

/** Note that tok has no per-token record (oas_live_claims' punlinked), if it is still cached. */
void oas_token_cache_unlinked(oas_token_cache_t *tc, const void *issuer, const char *tok);

/** Remember the verified claims of tok for issuer until exp (copies are kept). */
void oas_token_cache_put(oas_token_cache_t *tc, const void *issuer, const char *tok,
                         const json_t *claims, apr_int64_t exp);

/** Figures for tests: hits and misses so far. */
void oas_token_cache_counts(oas_token_cache_t *tc, apr_uint64_t *hits, apr_uint64_t *misses);

#endif
