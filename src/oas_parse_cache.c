/* mod_oauth_as: the per-process cache of parsed bytes (oas_parse_cache.h). */
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <stdlib.h>
#include <string.h>

#include "oas_parse_cache.h"

#define STRIPES 16 /* locks: threads of one process rarely wait on each other */

typedef struct entry_t {
    apr_pool_t *pool; /* everything of the entry, this struct too */
    oas_parse_cache_t *cache;
    const void *owner;
    const char *name;
    const char *bytes; /* a copy of those it was parsed from */
    apr_size_t len;
    void *val;
    apr_uint32_t refs; /* atomic: the slot's, plus one per request holding it */
} entry_t;

struct oas_parse_cache_t {
    apr_thread_mutex_t *locks[STRIPES];
    entry_t **slots;
    int nslots;
    apr_uint64_t hits, misses, alive; /* atomic */
    apr_uint32_t refs; /* atomic: the process pool's, plus one per entry alive, so that an
                        * entry a request still holds when the pool goes can count itself out */
};

static void cache_unref(oas_parse_cache_t *pc)
{
    if (__atomic_sub_fetch(&pc->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        free(pc->slots);
        free(pc);
    }
}

static void unref(entry_t *e)
{
    if (e && __atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        oas_parse_cache_t *pc = e->cache;
        __atomic_fetch_sub(&pc->alive, 1, __ATOMIC_RELAXED);
        apr_pool_destroy(e->pool);
        cache_unref(pc);
    }
}

static apr_status_t request_done(void *data)
{
    unref(data);
    return APR_SUCCESS;
}

static apr_status_t release_all(void *data)
{
    oas_parse_cache_t *pc = data;
    int i;

    for (i = 0; i < pc->nslots; i++) {
        unref(pc->slots[i]);
        pc->slots[i] = NULL;
    }
    cache_unref(pc);
    return APR_SUCCESS;
}

oas_parse_cache_t *oas_parse_cache_create(apr_pool_t *p, int slots)
{
    oas_parse_cache_t *pc = calloc(1, sizeof(*pc));
    int i;

    if (!pc || !(pc->slots = calloc(slots > 0 ? (size_t)slots : 1, sizeof(entry_t *)))) {
        free(pc);
        return NULL;
    }
    pc->nslots = slots > 0 ? slots : 1;
    pc->refs = 1;
    for (i = 0; i < STRIPES; i++) {
        if (apr_thread_mutex_create(&pc->locks[i], APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS) {
            cache_unref(pc);
            return NULL;
        }
    }
    /* registered after the locks: runs before they are destroyed */
    apr_pool_cleanup_register(p, pc, release_all, apr_pool_cleanup_null);
    return pc;
}

/* A new entry of name for bytes, parsed into its own pool (no parent: made and freed by any
 * thread without a lock), with one reference for the caller; NULL and *prv on refusal. */
static entry_t *parsed(apr_status_t *prv, const char **pwhy, oas_parse_cache_t *pc,
                       const void *owner, const char *name, const char *bytes, apr_size_t len,
                       oas_parse_cache_fn *parse, void *baton, apr_pool_t *p)
{
    apr_pool_t *ep;
    entry_t *e;
    const char *why = NULL;

    if ((*prv = apr_pool_create_unmanaged_ex(&ep, NULL, NULL)) != APR_SUCCESS) {
        *pwhy = "out of memory";
        return NULL;
    }
    e = apr_pcalloc(ep, sizeof(*e));
    if ((*prv = parse(&e->val, &why, ep, bytes, len, baton)) != APR_SUCCESS) {
        *pwhy = apr_pstrdup(p, why ? why : "refused");
        apr_pool_destroy(ep);
        return NULL;
    }
    e->pool = ep;
    e->cache = pc;
    e->owner = owner;
    e->name = apr_pstrdup(ep, name);
    e->bytes = apr_pmemdup(ep, bytes, len);
    e->len = len;
    e->refs = 1;
    __atomic_fetch_add(&pc->alive, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&pc->refs, 1, __ATOMIC_ACQ_REL);
    return e;
}

apr_status_t oas_parse_cache_get(void **pval, const char **pwhy, oas_parse_cache_t *pc,
                                 const void *owner, const char *name, const char *bytes,
                                 apr_size_t len, oas_parse_cache_fn *parse, void *baton,
                                 apr_pool_t *p)
{
    apr_ssize_t klen = APR_HASH_KEY_STRING;
    unsigned i;
    apr_thread_mutex_t *lock;
    entry_t *e, *old;
    apr_status_t rv;

    *pwhy = NULL;
    if (!pc)
        return parse(pval, pwhy, p, bytes, len, baton);
    i = (apr_hashfunc_default(name, &klen) ^ (unsigned)((apr_uintptr_t)owner >> 4)) %
        (unsigned)pc->nslots;
    lock = pc->locks[i % STRIPES];
    apr_thread_mutex_lock(lock);
    e = pc->slots[i];
    if (e && e->owner == owner && e->len == len && !strcmp(e->name, name) &&
        !memcmp(e->bytes, bytes, len))
        __atomic_fetch_add(&e->refs, 1, __ATOMIC_ACQ_REL); /* the request's */
    else
        e = NULL;
    apr_thread_mutex_unlock(lock);
    __atomic_fetch_add(e ? &pc->hits : &pc->misses, 1, __ATOMIC_RELAXED);
    if (!e) {
        if (!(e = parsed(&rv, pwhy, pc, owner, name, bytes, len, parse, baton, p)))
            return rv;
        __atomic_fetch_add(&e->refs, 1, __ATOMIC_ACQ_REL); /* the slot's */
        apr_thread_mutex_lock(lock);
        old = pc->slots[i];
        pc->slots[i] = e;
        apr_thread_mutex_unlock(lock);
        unref(old); /* freed now, or when the last request holding it ends */
    }
    apr_pool_cleanup_register(p, e, request_done, apr_pool_cleanup_null);
    *pval = e->val;
    return APR_SUCCESS;
}

void oas_parse_cache_counts(oas_parse_cache_t *pc, apr_uint64_t *hits, apr_uint64_t *misses,
                            apr_uint64_t *alive)
{
    *hits = __atomic_load_n(&pc->hits, __ATOMIC_RELAXED);
    *misses = __atomic_load_n(&pc->misses, __ATOMIC_RELAXED);
    *alive = __atomic_load_n(&pc->alive, __ATOMIC_RELAXED);
}
