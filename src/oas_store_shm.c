/* mod_oauth_as: the shared-memory store behind oas_store.h (STYLE.md C15).
 * Owns the layout of one region: header, bucket heads, entry slots, a value arena of
 * fixed-size chunks; every link is a 32-bit index so processes may map it anywhere. */
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stddef.h>
#include <string.h>

#include "oas_shm_lock.h"
#include "oas_store_shm.h"
#include "oas_util.h"

#define SHM_MAGIC 0x5353414fu /* "OASS" */
#define SHM_VERSION 2u /* 2: the lock of our own in the header */
#define NIL 0xffffffffu
#define SALT_LEN 32
#define SWEEP_MAX 256 /* entries looked at per put that finds the table full */
#define RECLAIM_STEP 16 /* entries looked at by every put, full or not */
#define SLOT_FREE 0u
#define SLOT_USED 0x44455355u /* "USED": a random word is unlikely to look in use */
#define ALIGN8(n) (((n) + 7) & ~(apr_uint64_t)7)

/* The region header. The first block is fixed at format time, the second changes under
 * the mutex. Fixed-width types only: every process (and every build) reads the same bytes. */
typedef struct {
    apr_uint32_t magic;
    apr_uint32_t version;
    apr_uint32_t capacity; /* entry slots, also the number of buckets */
    apr_uint32_t nchunks;
    apr_uint32_t chunk_size;
    apr_uint32_t reserved;
    apr_uint64_t size; /* bytes the layout uses */
    unsigned char salt[SALT_LEN];

    apr_uint32_t busy; /* set while a holder of the lock is changing the table */
    apr_uint32_t free_entry;
    apr_uint32_t free_chunk;
    apr_uint32_t live;
    apr_uint32_t free_chunks;
    apr_uint32_t cursor; /* where the next sweep starts */
    apr_uint32_t resets; /* times a damaged table was wiped */
    apr_uint32_t reserved2;
    unsigned char pad[32]; /* the lock starts on its own cache line (offset 128) */

    oas_shm_lock_t lock; /* initialised at format time; used when attached with it */
} shm_hdr_t;

/* the lock on a cache line of its own when the region is (as apr_shm's) page-aligned */
typedef char shm_hdr_lock_offset_check[offsetof(shm_hdr_t, lock) == 128 ? 1 : -1];

typedef struct {
    unsigned char digest[OAS_SHA256_LEN]; /* SHA-256(salt || ns || key) */
    apr_time_t expires;
    apr_uint32_t state;
    apr_uint32_t next;  /* bucket chain, or free list */
    apr_uint32_t chunk; /* first chunk of the value, NIL when it is empty */
    apr_uint32_t vlen;
    apr_uint32_t sum; /* over the fields above except next: catches half-written slots */
    apr_uint32_t reserved;
} shm_entry_t;

typedef struct {
    apr_uint64_t buckets, entries, chunk_next, chunks, total;
    apr_uint32_t nchunks;
} shm_layout_t;

typedef struct {
    shm_hdr_t *hdr;
    apr_uint32_t *buckets;
    shm_entry_t *entries;
    apr_uint32_t *chunk_next;
    unsigned char *chunks;
    apr_global_mutex_t *mutex;
    oas_shm_lock_t *own_lock; /* the lock in the header, or NULL (then mutex, if any) */
    apr_interval_time_t lock_timeout;
    apr_uint32_t cap;
    apr_uint32_t nchunks;
    unsigned char salt[SALT_LEN]; /* a private copy: hashing happens outside the lock */
} shm_ctx_t;

/* ---- layout ---- */

static int layout_get(shm_layout_t *l, apr_uint32_t entries)
{
    apr_uint64_t n;

    if (entries == 0 || entries > OAS_SHM_MAX_ENTRIES)
        return 0;
    n = (apr_uint64_t)entries * OAS_SHM_CHUNKS_PER_ENTRY;
    /* a small store still holds one value of the maximum size */
    if (n < OAS_SHM_MAX_VALUE / OAS_SHM_CHUNK_SIZE)
        n = OAS_SHM_MAX_VALUE / OAS_SHM_CHUNK_SIZE;
    l->nchunks = (apr_uint32_t)n;
    l->buckets = ALIGN8(sizeof(shm_hdr_t));
    l->entries = l->buckets + ALIGN8((apr_uint64_t)entries * sizeof(apr_uint32_t));
    l->chunk_next = l->entries + (apr_uint64_t)entries * sizeof(shm_entry_t);
    l->chunks = l->chunk_next + ALIGN8(n * sizeof(apr_uint32_t));
    l->total = l->chunks + n * OAS_SHM_CHUNK_SIZE;
    return l->total <= (apr_size_t)-1;
}

apr_size_t oas_shm_store_size_needed(apr_uint32_t entries)
{
    shm_layout_t l;

    return layout_get(&l, entries) ? (apr_size_t)l.total : 0;
}

static void ctx_map(shm_ctx_t *c, void *base, const shm_layout_t *l, apr_uint32_t entries)
{
    unsigned char *b = base;

    c->hdr = base;
    c->buckets = (apr_uint32_t *)(b + l->buckets);
    c->entries = (shm_entry_t *)(b + l->entries);
    c->chunk_next = (apr_uint32_t *)(b + l->chunk_next);
    c->chunks = b + l->chunks;
    c->cap = entries;
    c->nchunks = l->nchunks;
}

/* ---- table primitives: all called with the lock held ---- */

static apr_uint32_t chunks_for(apr_size_t vlen)
{
    return (apr_uint32_t)((vlen + OAS_SHM_CHUNK_SIZE - 1) / OAS_SHM_CHUNK_SIZE);
}

static void fnv(apr_uint32_t *h, const void *data, apr_size_t len)
{
    const unsigned char *d = data;

    while (len--) {
        *h = (*h ^ *d++) * 16777619u;
    }
}

static apr_uint32_t entry_sum(const shm_entry_t *e)
{
    apr_uint32_t h = 2166136261u;

    fnv(&h, e->digest, sizeof(e->digest));
    fnv(&h, &e->expires, sizeof(e->expires));
    fnv(&h, &e->state, sizeof(e->state));
    fnv(&h, &e->chunk, sizeof(e->chunk));
    fnv(&h, &e->vlen, sizeof(e->vlen));
    return h;
}

/* Empty table, salt and geometry kept: used by format and to recover from damage. */
static void table_reset(shm_ctx_t *c)
{
    shm_hdr_t *h = c->hdr;
    apr_uint32_t i;

    for (i = 0; i < c->cap; i++) {
        c->buckets[i] = NIL;
    }
    memset(c->entries, 0, (apr_size_t)c->cap * sizeof(shm_entry_t));
    for (i = 0; i < c->cap; i++) {
        c->entries[i].next = (i + 1 < c->cap) ? i + 1 : NIL;
    }
    for (i = 0; i < c->nchunks; i++) {
        c->chunk_next[i] = (i + 1 < c->nchunks) ? i + 1 : NIL;
    }
    h->free_entry = 0;
    h->free_chunk = 0;
    h->live = 0;
    h->free_chunks = c->nchunks;
    h->cursor = 0;
}

/* Damage found (index out of range, bad checksum, a cycle): the contents cannot be trusted,
 * so drop them all. Losing short-lived codes beats handing out a wrong value or crashing. */
static void table_damaged(shm_ctx_t *c)
{
    table_reset(c);
    c->hdr->resets++;
}

/* True when the value of e is a NIL-terminated chain of exactly the chunks vlen needs. */
static int chain_ok(const shm_ctx_t *c, const shm_entry_t *e)
{
    apr_uint32_t n = chunks_for(e->vlen);
    apr_uint32_t k = e->chunk;
    apr_uint32_t i;

    if (e->vlen > OAS_SHM_MAX_VALUE)
        return 0;
    for (i = 0; i < n; i++) {
        if (k >= c->nchunks)
            return 0;
        k = c->chunk_next[k];
    }
    return k == NIL;
}

static int entry_ok(const shm_ctx_t *c, const shm_entry_t *e)
{
    return e->state == SLOT_USED && e->sum == entry_sum(e) && chain_ok(c, e);
}

static apr_uint32_t bucket_of(const shm_ctx_t *c, const unsigned char *digest)
{
    apr_uint32_t v;

    memcpy(&v, digest, sizeof(v)); /* keyed by the salt, so callers cannot aim at a bucket */
    return v % c->cap;
}

/* Gives back n chunks of a chain that chain_ok() accepted. */
static void chunks_release(shm_ctx_t *c, apr_uint32_t first, apr_uint32_t n)
{
    apr_uint32_t k = first;

    while (n--) {
        apr_uint32_t next = c->chunk_next[k];
        c->chunk_next[k] = c->hdr->free_chunk;
        c->hdr->free_chunk = k;
        c->hdr->free_chunks++;
        k = next;
    }
}

/* Frees an entry that is already unlinked from its bucket. */
static void entry_release(shm_ctx_t *c, apr_uint32_t idx)
{
    shm_entry_t *e = &c->entries[idx];

    chunks_release(c, e->chunk, chunks_for(e->vlen));
    memset(e, 0, sizeof(*e));
    e->next = c->hdr->free_entry;
    c->hdr->free_entry = idx;
    c->hdr->live--;
}

/* Walks one bucket chain, unlinking and freeing the expired entries met on the way.
 * With a digest, stops at its live entry: APR_SUCCESS and *plink = the link pointing at it.
 * APR_NOTFOUND at the end of the chain; APR_EGENERAL when the chain is damaged. */
static apr_status_t chain_walk(apr_uint32_t **plink, shm_ctx_t *c, apr_uint32_t bucket,
                               const unsigned char *digest, apr_time_t now)
{
    apr_uint32_t *link = &c->buckets[bucket];
    apr_uint32_t steps = 0;

    while (*link != NIL) {
        apr_uint32_t idx = *link;
        shm_entry_t *e;

        if (idx >= c->cap || ++steps > c->cap)
            return APR_EGENERAL;
        e = &c->entries[idx];
        if (e->state != SLOT_USED)
            return APR_EGENERAL;
        /* An entry passed over is only compared; the full check (checksum, value chain: a
         * walk through chunk_next, cold in a large table) is for the entry freed or found. */
        if (e->expires <= now) {
            if (!entry_ok(c, e))
                return APR_EGENERAL;
            *link = e->next;
            entry_release(c, idx);
            continue;
        }
        if (digest && CRYPTO_memcmp(e->digest, digest, OAS_SHA256_LEN) == 0) {
            if (!entry_ok(c, e))
                return APR_EGENERAL;
            *plink = link;
            return APR_SUCCESS;
        }
        link = &e->next;
    }
    return APR_NOTFOUND;
}

static apr_status_t table_find(apr_uint32_t **plink, shm_ctx_t *c, const unsigned char *digest,
                               apr_time_t now)
{
    apr_status_t rv = chain_walk(plink, c, bucket_of(c, digest), digest, now);

    if (rv == APR_EGENERAL) {
        table_damaged(c);
        rv = APR_NOTFOUND;
    }
    return rv;
}

/* The free list is empty or short: reclaim expired entries from a rotating cursor until the
 * put can be served, looking at no more than SWEEP_MAX slots so a full table stays cheap. */
static void table_sweep(shm_ctx_t *c, int need_entry, apr_uint32_t need_chunks, apr_time_t now)
{
    shm_hdr_t *h = c->hdr;
    apr_uint32_t i;

    for (i = 0; i < SWEEP_MAX && i < c->cap; i++) {
        apr_uint32_t idx = h->cursor % c->cap;
        const shm_entry_t *e = &c->entries[idx];

        if ((!need_entry || h->free_entry != NIL) && h->free_chunks >= need_chunks)
            return;
        h->cursor = (idx + 1) % c->cap;
        if (e->state == SLOT_USED && e->expires <= now &&
            chain_walk(NULL, c, bucket_of(c, e->digest), NULL, now) == APR_EGENERAL) {
            table_damaged(c);
            return;
        }
    }
}

/* Every put advances the sweep cursor by RECLAIM_STEP slots and reclaims the expired entries
 * met there (with the rest of their chains), so expired entries do not wait for a lookup of
 * their bucket or for a full table: the count of live entries (server-status) follows the
 * entries still in force, and the table's touched memory follows it too. Before any lookup of
 * the put, so no link the put holds is moved. */
static void table_reclaim(shm_ctx_t *c, apr_time_t now)
{
    shm_hdr_t *h = c->hdr;
    apr_uint32_t i;

    for (i = 0; i < RECLAIM_STEP && i < c->cap; i++) {
        apr_uint32_t idx = h->cursor % c->cap;
        const shm_entry_t *e = &c->entries[idx];

        h->cursor = (idx + 1) % c->cap;
        if (e->state == SLOT_USED && e->expires <= now &&
            chain_walk(NULL, c, bucket_of(c, e->digest), NULL, now) == APR_EGENERAL) {
            table_damaged(c);
            return;
        }
    }
}

/* Takes n chunks off the free list as one NIL-terminated chain (NIL when n is 0).
 * APR_EGENERAL, with nothing taken, when the list is shorter than its counter says. */
static apr_status_t chunks_alloc(apr_uint32_t *pfirst, shm_ctx_t *c, apr_uint32_t n)
{
    shm_hdr_t *h = c->hdr;
    apr_uint32_t k = h->free_chunk;
    apr_uint32_t last = NIL;
    apr_uint32_t i;

    *pfirst = NIL;
    if (n == 0)
        return APR_SUCCESS;
    if (h->free_chunks < n)
        return APR_EGENERAL;
    for (i = 0; i < n; i++) {
        if (k >= c->nchunks)
            return APR_EGENERAL;
        last = k;
        k = c->chunk_next[k];
    }
    *pfirst = h->free_chunk;
    h->free_chunk = k;
    h->free_chunks -= n;
    c->chunk_next[last] = NIL;
    return APR_SUCCESS;
}

static void value_write(shm_ctx_t *c, apr_uint32_t k, const unsigned char *val, apr_size_t vlen)
{
    apr_size_t off = 0;

    while (off < vlen) {
        apr_size_t n = vlen - off < OAS_SHM_CHUNK_SIZE ? vlen - off : OAS_SHM_CHUNK_SIZE;
        memcpy(c->chunks + (apr_size_t)k * OAS_SHM_CHUNK_SIZE, val + off, n);
        off += n;
        k = c->chunk_next[k];
    }
}

static void value_read(char *out, const shm_ctx_t *c, const shm_entry_t *e)
{
    apr_uint32_t k = e->chunk;
    apr_size_t off = 0;

    while (off < e->vlen) {
        apr_size_t n = e->vlen - off < OAS_SHM_CHUNK_SIZE ? e->vlen - off : OAS_SHM_CHUNK_SIZE;
        memcpy(out + off, c->chunks + (apr_size_t)k * OAS_SHM_CHUNK_SIZE, n);
        off += n;
        k = c->chunk_next[k];
    }
}

/* ---- locking and hashing ---- */

/* A holder that is alive but not running (stopped, swapped out, starved) would make every
 * store operation of every process wait for it: after lock_timeout the operation fails with
 * APR_TIMEUP instead (the glue answers 503 + Retry-After). A dead holder does not need it:
 * the mutex is released with it (robust pthread mutex, fcntl, flock, SysV SEM_UNDO). */
static apr_status_t table_lock(shm_ctx_t *c)
{
    apr_status_t rv;
    int recovered = 0;

    if (c->own_lock) {
        /* EOWNERDEAD is left to the busy flag below (a holder that died outside an update
         * left the table whole); a lock moved to a spare slot says nothing: wipe */
        rv = oas_shm_lock_acquire(c->own_lock, c->lock_timeout, &recovered);
        if (rv != APR_SUCCESS)
            return rv;
        if (recovered & OAS_SHM_LOCK_MOVED)
            table_damaged(c);
    }
    else if (c->mutex) {
        rv = apr_global_mutex_timedlock(c->mutex, c->lock_timeout);
        if (rv == APR_ENOTIMPL)
            rv = apr_global_mutex_lock(c->mutex);
        if (rv != APR_SUCCESS)
            return rv;
    }
    /* A holder that died in the middle of an update left busy set: start afresh. */
    if (c->hdr->busy)
        table_damaged(c);
    c->hdr->busy = 1;
    return APR_SUCCESS;
}

static void table_unlock(shm_ctx_t *c)
{
    c->hdr->busy = 0;
    if (c->own_lock)
        oas_shm_lock_release(c->own_lock);
    else if (c->mutex)
        apr_global_mutex_unlock(c->mutex);
}

static apr_status_t key_digest(unsigned char *out, const shm_ctx_t *c, int ns, const char *key,
                               apr_size_t klen)
{
    unsigned char nsb = (unsigned char)ns;
    oas_bytes_t parts[3] = {{c->salt, SALT_LEN}, {&nsb, 1}, {key, klen}};

    return oas_sha256_parts(out, parts, 3) ? APR_SUCCESS : APR_ENOMEM;
}

static int key_bad(int ns, const char *key, apr_size_t klen)
{
    return ns < 0 || ns > 255 || (key == NULL && klen > 0);
}

/* Outside the lock: bring the lines a lookup will read into the cache - the bucket, the first
 * entries of its chain and the first chunk of each, and for a put the free slot and chunk it
 * would take and the slots the reclaim step looks at - so that the walk under the lock does
 * not wait for memory: in a large table they are cold, and every miss under the lock is a
 * wait for every other worker. Relaxed reads of a table others may be changing: hints only,
 * every index is checked, nothing is used. */
#define PREFETCH_CHAIN 4
static void table_prefetch(const shm_ctx_t *c, const unsigned char *digest, int put)
{
    apr_uint32_t idx = __atomic_load_n(&c->buckets[bucket_of(c, digest)], __ATOMIC_RELAXED);
    apr_uint32_t i, k;

    for (i = 0; i < PREFETCH_CHAIN && idx < c->cap; i++) {
        const shm_entry_t *e = &c->entries[idx];
        k = __atomic_load_n(&e->chunk, __ATOMIC_RELAXED);
        if (k < c->nchunks) {
            __builtin_prefetch(&c->chunk_next[k]);
            __builtin_prefetch(c->chunks + (apr_size_t)k * OAS_SHM_CHUNK_SIZE);
            __builtin_prefetch(c->chunks + (apr_size_t)k * OAS_SHM_CHUNK_SIZE + 64);
        }
        idx = __atomic_load_n(&e->next, __ATOMIC_RELAXED);
    }
    if (put) {
        /* the slot and the first chunk a new entry would take */
        if ((idx = __atomic_load_n(&c->hdr->free_entry, __ATOMIC_RELAXED)) < c->cap)
            __builtin_prefetch(&c->entries[idx], 1);
        if ((k = __atomic_load_n(&c->hdr->free_chunk, __ATOMIC_RELAXED)) < c->nchunks) {
            __builtin_prefetch(&c->chunk_next[k], 1);
            __builtin_prefetch(c->chunks + (apr_size_t)k * OAS_SHM_CHUNK_SIZE, 1);
        }
        k = __atomic_load_n(&c->hdr->cursor, __ATOMIC_RELAXED) % c->cap;
        for (i = 0; i < RECLAIM_STEP && k + i < c->cap; i++)
            __builtin_prefetch(&c->entries[k + i]);
    }
}

/* ---- oas_store_t methods ---- */

static apr_status_t shm_store(shm_ctx_t *c, int ns, const char *key, apr_size_t klen,
                              const void *val, apr_size_t vlen, apr_time_t expires, int only_new)
{
    unsigned char d[OAS_SHA256_LEN];
    apr_uint32_t need = chunks_for(vlen);
    apr_uint32_t *link = NULL;
    apr_uint32_t old;
    apr_uint32_t idx;
    apr_uint32_t first;
    apr_time_t now;
    shm_entry_t *e;
    int swept = 0;
    apr_status_t rv;

    if (key_bad(ns, key, klen) || (val == NULL && vlen > 0))
        return APR_EINVAL;
    if (vlen > OAS_SHM_MAX_VALUE || need > c->nchunks)
        return APR_ENOSPC;
    if ((rv = key_digest(d, c, ns, key, klen)) != APR_SUCCESS)
        return rv;
    table_prefetch(c, d, 1);
    if ((rv = table_lock(c)) != APR_SUCCESS)
        return rv;
    now = apr_time_now();
    table_reclaim(c, now);
    for (;;) {
        apr_uint32_t old_chunks;

        rv = table_find(&link, c, d, now);
        if (rv == APR_SUCCESS && only_new) {
            rv = APR_EEXIST;
            goto leave;
        }
        old = (rv == APR_SUCCESS) ? *link : NIL;
        old_chunks = (old != NIL) ? chunks_for(c->entries[old].vlen) : 0;
        if ((old != NIL || c->hdr->free_entry != NIL) && c->hdr->free_chunks + old_chunks >= need)
            break;
        if (swept) {
            rv = APR_ENOSPC; /* checked before any change: nothing half-written */
            goto leave;
        }
        table_sweep(c, old == NIL, need > old_chunks ? need - old_chunks : 0, now);
        swept = 1; /* the sweep may have moved links: look the key up again */
    }

    if (old != NIL) {
        /* overwrite in place: the slot keeps its place in the chain */
        e = &c->entries[old];
        chunks_release(c, e->chunk, chunks_for(e->vlen));
        e->chunk = NIL;
        e->vlen = 0;
    }
    if (chunks_alloc(&first, c, need) != APR_SUCCESS) {
        table_damaged(c);
        rv = APR_EGENERAL;
        goto leave;
    }
    if (old != NIL) {
        idx = old;
    }
    else {
        apr_uint32_t b = bucket_of(c, d);

        idx = c->hdr->free_entry;
        if (idx >= c->cap || c->entries[idx].state != SLOT_FREE) {
            table_damaged(c);
            rv = APR_EGENERAL;
            goto leave;
        }
        c->hdr->free_entry = c->entries[idx].next;
        c->hdr->live++;
        c->entries[idx].next = c->buckets[b];
        c->buckets[b] = idx;
    }
    e = &c->entries[idx];
    memcpy(e->digest, d, sizeof(d));
    e->expires = expires;
    e->state = SLOT_USED;
    e->chunk = first;
    e->vlen = (apr_uint32_t)vlen;
    value_write(c, first, val, vlen);
    e->sum = entry_sum(e);
    rv = APR_SUCCESS;
leave:
    table_unlock(c);
    return rv;
}

/* get, take and del: find the live entry, copy it out, and unlink it when asked. */
static apr_status_t shm_fetch(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                              apr_size_t klen, char **pval, apr_size_t *plen, int remove)
{
    shm_ctx_t *c = st->ctx;
    unsigned char d[OAS_SHA256_LEN];
    apr_uint32_t *link = NULL;
    apr_status_t rv;

    if (key_bad(ns, key, klen) || (pval && !p))
        return APR_EINVAL;
    if ((rv = key_digest(d, c, ns, key, klen)) != APR_SUCCESS)
        return rv;
    table_prefetch(c, d, 0);
    if ((rv = table_lock(c)) != APR_SUCCESS)
        return rv;
    rv = table_find(&link, c, d, apr_time_now());
    if (rv == APR_SUCCESS) {
        apr_uint32_t idx = *link;
        const shm_entry_t *e = &c->entries[idx];

        if (pval) {
            char *buf = apr_palloc(p, (apr_size_t)e->vlen + 1);
            value_read(buf, c, e);
            buf[e->vlen] = '\0';
            *pval = buf;
        }
        if (plen)
            *plen = e->vlen;
        if (remove) {
            *link = e->next;
            entry_release(c, idx);
        }
    }
    table_unlock(c);
    return rv;
}

static apr_status_t shm_put(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                            apr_size_t klen, const void *val, apr_size_t vlen, apr_time_t expires)
{
    return shm_store(st->ctx, ns, key, klen, val, vlen, expires, 0);
}

static apr_status_t shm_put_new(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                                apr_size_t klen, const void *val, apr_size_t vlen,
                                apr_time_t expires)
{
    return shm_store(st->ctx, ns, key, klen, val, vlen, expires, 1);
}

static apr_status_t shm_get(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                            apr_size_t klen, char **pval, apr_size_t *plen)
{
    return shm_fetch(st, p, ns, key, klen, pval, plen, 0);
}

static apr_status_t shm_take(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                             apr_size_t klen, char **pval, apr_size_t *plen)
{
    return shm_fetch(st, p, ns, key, klen, pval, plen, 1);
}

static apr_status_t shm_del(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                            apr_size_t klen)
{
    return shm_fetch(st, p, ns, key, klen, NULL, NULL, 1);
}

/* ---- public API ---- */

apr_status_t oas_shm_store_format(void *base, apr_size_t size, apr_uint32_t entries)
{
    shm_layout_t l;
    shm_ctx_t c;
    shm_hdr_t *h = base;

    if (!base || ((apr_uintptr_t)base & 7) || !layout_get(&l, entries) || size < l.total)
        return APR_EINVAL;
    memset(h, 0, sizeof(*h));
    ERR_clear_error();
    if (RAND_bytes(h->salt, SALT_LEN) != 1)
        return APR_EGENERAL;
    if (oas_shm_lock_init(&h->lock) != 0)
        return APR_EGENERAL;
    h->version = SHM_VERSION;
    h->capacity = entries;
    h->nchunks = l.nchunks;
    h->chunk_size = OAS_SHM_CHUNK_SIZE;
    h->size = l.total;
    memset(&c, 0, sizeof(c));
    ctx_map(&c, base, &l, entries);
    table_reset(&c);
    h->magic = SHM_MAGIC; /* last: a half-formatted region never attaches */
    return APR_SUCCESS;
}

static apr_status_t store_attach(oas_store_t **pst, apr_pool_t *p, void *base, apr_size_t size,
                                 apr_global_mutex_t *mutex, int own_lock)
{
    const shm_hdr_t *h = base;
    shm_layout_t l;
    shm_ctx_t *c;
    oas_store_t *st;

    *pst = NULL;
    if (!base || ((apr_uintptr_t)base & 7) || size < sizeof(*h))
        return APR_EINVAL;
    if (h->magic != SHM_MAGIC || h->version != SHM_VERSION || !layout_get(&l, h->capacity) ||
        h->size != l.total || l.total > size || h->nchunks != l.nchunks ||
        h->chunk_size != OAS_SHM_CHUNK_SIZE)
        return APR_EINVAL;
    if (own_lock && !oas_shm_lock_usable(&h->lock))
        return APR_EINVAL; /* every slot spent: the region must be made again */
    c = apr_pcalloc(p, sizeof(*c));
    ctx_map(c, base, &l, h->capacity);
    memcpy(c->salt, h->salt, SALT_LEN);
    c->mutex = own_lock ? NULL : mutex;
    c->own_lock = own_lock ? &c->hdr->lock : NULL;
    c->lock_timeout = OAS_SHM_LOCK_TIMEOUT;
    st = apr_pcalloc(p, sizeof(*st));
    st->name = "shm";
    st->ctx = c;
    st->put = shm_put;
    st->put_new = shm_put_new;
    st->get = shm_get;
    st->take = shm_take;
    st->del = shm_del;
    *pst = st;
    return APR_SUCCESS;
}

apr_status_t oas_shm_store_attach(oas_store_t **pst, apr_pool_t *p, void *base, apr_size_t size,
                                  apr_global_mutex_t *mutex)
{
    return store_attach(pst, p, base, size, mutex, 0);
}

apr_status_t oas_shm_store_attach_own_lock(oas_store_t **pst, apr_pool_t *p, void *base,
                                           apr_size_t size)
{
    return store_attach(pst, p, base, size, NULL, 1);
}

void oas_shm_store_stats(oas_store_t *st, apr_uint32_t *live, apr_uint32_t *capacity,
                         apr_size_t *bytes_per_entry)
{
    shm_ctx_t *c = st->ctx;

    if (live) {
        *live = 0;
        if (table_lock(c) == APR_SUCCESS) {
            *live = c->hdr->live;
            table_unlock(c);
        }
    }
    if (capacity)
        *capacity = c->cap;
    if (bytes_per_entry)
        *bytes_per_entry = (oas_shm_store_size_needed(c->cap) + c->cap - 1) / c->cap;
}

void oas_shm_store_set_lock_timeout(oas_store_t *st, apr_interval_time_t timeout)
{
    ((shm_ctx_t *)st->ctx)->lock_timeout = timeout;
}

apr_status_t oas_shm_store_usage(oas_shm_usage_t *u, oas_store_t *st)
{
    shm_ctx_t *c = st->ctx;
    apr_uint32_t live, free_chunks, resets;
    apr_status_t rv;

    memset(u, 0, sizeof(*u));
    u->capacity = c->cap;
    u->chunks = c->nchunks;
    u->bytes = oas_shm_store_size_needed(c->cap);
    if ((rv = table_lock(c)) != APR_SUCCESS)
        return rv;
    live = c->hdr->live;
    free_chunks = c->hdr->free_chunks;
    resets = c->hdr->resets;
    table_unlock(c);
    u->entries = live;
    u->chunks_used = free_chunks <= c->nchunks ? c->nchunks - free_chunks : c->nchunks;
    u->value_bytes = (apr_size_t)u->chunks_used * OAS_SHM_CHUNK_SIZE;
    u->resets = resets;
    return APR_SUCCESS;
}

/* Marks the chunks of one chain in seen[]; 0 when a chunk is out of range or seen twice. */
static int verify_chain(unsigned char *seen, const shm_ctx_t *c, apr_uint32_t k, apr_uint32_t n)
{
    while (n--) {
        if (k >= c->nchunks || seen[k])
            return 0;
        seen[k] = 1;
        k = c->chunk_next[k];
    }
    return 1;
}

static int verify_locked(apr_uint32_t *pfree_chunks, apr_pool_t *p, const shm_ctx_t *c)
{
    unsigned char *eseen = apr_pcalloc(p, c->cap);
    unsigned char *cseen = apr_pcalloc(p, c->nchunks);
    const shm_hdr_t *h = c->hdr;
    apr_uint32_t used = 0;
    apr_uint32_t nfree = 0;
    apr_uint32_t b;
    apr_uint32_t k;

    for (b = 0; b < c->cap; b++) {
        for (k = c->buckets[b]; k != NIL; k = c->entries[k].next) {
            const shm_entry_t *e = &c->entries[k];
            if (k >= c->cap || eseen[k] || !entry_ok(c, e) || bucket_of(c, e->digest) != b ||
                !verify_chain(cseen, c, e->chunk, chunks_for(e->vlen)))
                return 0;
            eseen[k] = 1;
            used++;
        }
    }
    for (k = h->free_entry; k != NIL; k = c->entries[k].next) {
        if (k >= c->cap || eseen[k] || c->entries[k].state != SLOT_FREE)
            return 0;
        eseen[k] = 1;
    }
    for (k = h->free_chunk; k != NIL; k = c->chunk_next[k]) {
        if (k >= c->nchunks || cseen[k])
            return 0;
        cseen[k] = 1;
        nfree++;
    }
    for (k = 0; k < c->cap; k++) {
        if (!eseen[k])
            return 0;
    }
    for (k = 0; k < c->nchunks; k++) {
        if (!cseen[k])
            return 0;
    }
    if (pfree_chunks)
        *pfree_chunks = nfree;
    return used == h->live && nfree == h->free_chunks;
}

apr_status_t oas_shm_store_verify(apr_uint32_t *pfree_chunks, apr_pool_t *p, oas_store_t *st)
{
    shm_ctx_t *c = st->ctx;
    apr_status_t rv;
    int ok;

    if ((rv = table_lock(c)) != APR_SUCCESS)
        return rv;
    ok = verify_locked(pfree_chunks, p, c);
    table_unlock(c);
    return ok ? APR_SUCCESS : APR_EGENERAL;
}
