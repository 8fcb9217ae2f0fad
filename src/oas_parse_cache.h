/* mod_oauth_as: a small per-process cache of things parsed from bytes read at every request
 * (a registered client's record, a metadata document): the read stays (it is what makes a
 * change or a deletion immediate), only the parse is saved. An entry is named (who it is: an
 * owner such as the issuer, compared by address, and a name such as the client id) and keeps
 * a copy of the bytes it was parsed from, compared byte for byte (cheaper than a digest, and
 * no collision to argue about): the same name with other bytes is a miss, parsed anew, and
 * replaces it. Direct-mapped by the name (a newer name takes its slot), so bounded by the
 * number of slots (and the size of what is parsed); striped locks. Each entry lives in its
 * own pool with a reference count: one for the slot, one per request holding it; an evicted
 * or replaced entry is freed when its last request ends. No I/O. */
#ifndef OAS_PARSE_CACHE_H
#define OAS_PARSE_CACHE_H

#include "oas.h"

typedef struct oas_parse_cache_t oas_parse_cache_t;

/** Parse len bytes into *pval, everything in p (the entry's pool: it must hold no pointer
 * into the request). On refusal *pwhy (static, or in p) says why. */
typedef apr_status_t oas_parse_cache_fn(void **pval, const char **pwhy, apr_pool_t *p,
                                        const char *bytes, apr_size_t len, void *baton);

/** A cache of `slots` entries (at least 1) for the process whose pool is p: its slots are
 * emptied when p goes (an entry a request still holds then is freed with that request); NULL
 * when its locks cannot be made. */
oas_parse_cache_t *oas_parse_cache_create(apr_pool_t *p, int slots);

/** What parse made of bytes under (owner, name): the cached value when the slot holds them
 * and the same bytes, else parsed now (outside the locks) and cached. The value stays valid while
 * pool p (the request's) lives, whatever happens to the slot meanwhile. Without a cache
 * (pc NULL) the bytes are parsed into p. A refusal is not cached.
 * @return parse's status; on refusal *pwhy in p */
apr_status_t oas_parse_cache_get(void **pval, const char **pwhy, oas_parse_cache_t *pc,
                                 const void *owner, const char *name, const char *bytes,
                                 apr_size_t len, oas_parse_cache_fn *parse, void *baton,
                                 apr_pool_t *p);

/** Figures for tests: hits, misses (parses), and entries alive (cached or still held). */
void oas_parse_cache_counts(oas_parse_cache_t *pc, apr_uint64_t *hits, apr_uint64_t *misses,
                            apr_uint64_t *alive);

#endif
