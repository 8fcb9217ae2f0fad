/* mod_oauth_as: the table of the shared-memory store (oas_shm_table.h): bucket chains, the
 * free lists, the value arena, the FIFO of best-effort entries and the room a put makes by
 * sweeping expired entries and evicting best-effort ones. Every link is a 32-bit index so
 * processes may map the region anywhere. */
#include <openssl/crypto.h>
#include <stddef.h>
#include <string.h>

#include "oas_shm_table.h"

#define SWEEP_MAX 256   /* entries looked at per put that finds the table full */
#define RECLAIM_STEP 16 /* entries looked at by every put, full or not */
#define ALIGN8(n) (((n) + 7) & ~(apr_uint64_t)7)
#define NIL OAS_SHM_NIL

/* the lock on a cache line of its own when the region is (as apr_shm's) page-aligned */
typedef char shm_hdr_lock_offset_check[offsetof(oas_shm_hdr_t, lock) == 128 ? 1 : -1];
typedef char shm_entry_size_check[sizeof(oas_shm_entry_t) == 64 ? 1 : -1];

/* ---- layout ---- */

int oas_shm_layout(oas_shm_layout_t *l, apr_uint32_t entries, apr_uint32_t nchunks)
{
    /* a store holds at least one value of the maximum size */
    if (entries == 0 || entries > OAS_SHM_MAX_ENTRIES ||
        nchunks < OAS_SHM_MAX_VALUE / OAS_SHM_CHUNK_SIZE || nchunks >= NIL)
        return 0;
    l->buckets = ALIGN8(sizeof(oas_shm_hdr_t));
    l->entries = l->buckets + ALIGN8((apr_uint64_t)entries * sizeof(apr_uint32_t));
    l->chunk_next = l->entries + (apr_uint64_t)entries * sizeof(oas_shm_entry_t);
    l->chunks = l->chunk_next + ALIGN8((apr_uint64_t)nchunks * sizeof(apr_uint32_t));
    l->total = l->chunks + (apr_uint64_t)nchunks * OAS_SHM_CHUNK_SIZE;
    return l->total <= (apr_size_t)-1;
}

void oas_shm_map(oas_shm_ctx_t *c, void *base, const oas_shm_layout_t *l, apr_uint32_t entries,
                 apr_uint32_t nchunks)
{
    unsigned char *b = base;

    c->hdr = base;
    c->buckets = (apr_uint32_t *)(b + l->buckets);
    c->entries = (oas_shm_entry_t *)(b + l->entries);
    c->chunk_next = (apr_uint32_t *)(b + l->chunk_next);
    c->chunks = b + l->chunks;
    c->cap = entries;
    c->nchunks = nchunks;
}

/* ---- checks ---- */

static void fnv(apr_uint32_t *h, const void *data, apr_size_t len)
{
    const unsigned char *d = data;

    while (len--) {
        *h = (*h ^ *d++) * 16777619u;
    }
}

static apr_uint32_t entry_sum(const oas_shm_entry_t *e)
{
    apr_uint32_t h = 2166136261u;

    fnv(&h, e->digest, sizeof(e->digest));
    fnv(&h, &e->expires, sizeof(e->expires));
    fnv(&h, &e->state, sizeof(e->state));
    fnv(&h, &e->vlen, sizeof(e->vlen));
    fnv(&h, &e->chunk, sizeof(e->chunk));
    return h;
}

void oas_shm_table_reset(oas_shm_ctx_t *c)
{
    oas_shm_hdr_t *h = c->hdr;
    apr_uint32_t i;

    for (i = 0; i < c->cap; i++) {
        c->buckets[i] = NIL;
    }
    memset(c->entries, 0, (apr_size_t)c->cap * sizeof(oas_shm_entry_t));
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
    h->fifo_oldest = h->fifo_newest = NIL;
    memset(h->class_entries, 0, sizeof(h->class_entries));
    memset(h->class_chunks, 0, sizeof(h->class_chunks));
}

/* Damage found (index out of range, bad checksum, a cycle): the contents cannot be trusted,
 * so drop them all. Losing short-lived codes beats handing out a wrong value or crashing. */
static void table_damaged(oas_shm_ctx_t *c)
{
    oas_shm_table_reset(c);
    c->hdr->resets++;
}

/* True when the value of e is a NIL-terminated chain of exactly the chunks vlen needs. */
static int chain_ok(const oas_shm_ctx_t *c, const oas_shm_entry_t *e)
{
    apr_uint32_t n = oas_shm_chunks_for(e->vlen);
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

int oas_shm_entry_ok(const oas_shm_ctx_t *c, const oas_shm_entry_t *e)
{
    return (e->state == OAS_SHM_SLOT_LIVE || e->state == OAS_SHM_SLOT_BEST) &&
           e->sum == entry_sum(e) && chain_ok(c, e);
}

apr_uint32_t oas_shm_bucket(const oas_shm_ctx_t *c, const unsigned char *digest)
{
    apr_uint32_t v;

    memcpy(&v, digest, sizeof(v)); /* keyed by the salt, so callers cannot aim at a bucket */
    return v % c->cap;
}

/* ---- the best-effort FIFO: O(1) append and unlink, indexes checked ---- */

static int fifo_unlink(oas_shm_ctx_t *c, apr_uint32_t idx)
{
    oas_shm_hdr_t *h = c->hdr;
    oas_shm_entry_t *e = &c->entries[idx];

    if ((e->older != NIL && e->older >= c->cap) || (e->newer != NIL && e->newer >= c->cap))
        return 0;
    if (e->older != NIL)
        c->entries[e->older].newer = e->newer;
    else if (h->fifo_oldest == idx)
        h->fifo_oldest = e->newer;
    else
        return 0;
    if (e->newer != NIL)
        c->entries[e->newer].older = e->older;
    else if (h->fifo_newest == idx)
        h->fifo_newest = e->older;
    else
        return 0;
    e->older = e->newer = NIL;
    return 1;
}

static int fifo_append(oas_shm_ctx_t *c, apr_uint32_t idx)
{
    oas_shm_hdr_t *h = c->hdr;
    oas_shm_entry_t *e = &c->entries[idx];

    if (h->fifo_newest != NIL && h->fifo_newest >= c->cap)
        return 0;
    e->older = h->fifo_newest;
    e->newer = NIL;
    if (h->fifo_newest != NIL)
        c->entries[h->fifo_newest].newer = idx;
    else
        h->fifo_oldest = idx;
    h->fifo_newest = idx;
    return 1;
}

/* ---- freeing ---- */

/* Gives back n chunks of a chain that chain_ok() accepted. */
static void chunks_release(oas_shm_ctx_t *c, apr_uint32_t first, apr_uint32_t n)
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

/* The value of an entry that entry_ok() accepted goes back to the arena, and the entry off
 * its class's books (and the FIFO); 0 when the FIFO links are damaged. */
static int entry_drop_value(oas_shm_ctx_t *c, apr_uint32_t idx)
{
    oas_shm_entry_t *e = &c->entries[idx];
    int cls = oas_shm_entry_class(e);
    apr_uint32_t n = oas_shm_chunks_for(e->vlen);

    chunks_release(c, e->chunk, n);
    c->hdr->class_entries[cls]--;
    c->hdr->class_chunks[cls] -= n;
    e->chunk = NIL;
    e->vlen = 0;
    return cls == OAS_STORE_LIVE || fifo_unlink(c, idx);
}

/* Frees an entry that is already unlinked from its bucket. */
static int entry_release(oas_shm_ctx_t *c, apr_uint32_t idx)
{
    oas_shm_entry_t *e = &c->entries[idx];
    int ok = entry_drop_value(c, idx);

    memset(e, 0, sizeof(*e));
    e->next = c->hdr->free_entry;
    c->hdr->free_entry = idx;
    c->hdr->live--;
    return ok;
}

/* ---- lookups ---- */

/* Walks one bucket chain, unlinking and freeing the expired entries met on the way.
 * With a digest, stops at its live entry: APR_SUCCESS and *plink = the link pointing at it.
 * APR_NOTFOUND at the end of the chain; APR_EGENERAL when the chain is damaged. */
static apr_status_t chain_walk(apr_uint32_t **plink, oas_shm_ctx_t *c, apr_uint32_t bucket,
                               const unsigned char *digest, apr_time_t now)
{
    apr_uint32_t *link = &c->buckets[bucket];
    apr_uint32_t steps = 0;

    while (*link != NIL) {
        apr_uint32_t idx = *link;
        oas_shm_entry_t *e;

        if (idx >= c->cap || ++steps > c->cap)
            return APR_EGENERAL;
        e = &c->entries[idx];
        if (e->state != OAS_SHM_SLOT_LIVE && e->state != OAS_SHM_SLOT_BEST)
            return APR_EGENERAL;
        /* An entry passed over is only compared; the full check (checksum, value chain: a
         * walk through chunk_next, cold in a large table) is for the entry freed or found. */
        if (e->expires <= now) {
            if (!oas_shm_entry_ok(c, e))
                return APR_EGENERAL;
            *link = e->next;
            if (!entry_release(c, idx))
                return APR_EGENERAL;
            continue;
        }
        if (digest && CRYPTO_memcmp(e->digest, digest, OAS_SHA256_LEN) == 0) {
            if (!oas_shm_entry_ok(c, e))
                return APR_EGENERAL;
            *plink = link;
            return APR_SUCCESS;
        }
        link = &e->next;
    }
    return APR_NOTFOUND;
}

apr_status_t oas_shm_find(apr_uint32_t **plink, oas_shm_ctx_t *c, const unsigned char *digest,
                          apr_time_t now)
{
    apr_status_t rv = chain_walk(plink, c, oas_shm_bucket(c, digest), digest, now);

    if (rv == APR_EGENERAL) {
        table_damaged(c);
        rv = APR_NOTFOUND;
    }
    return rv;
}

void oas_shm_remove(oas_shm_ctx_t *c, apr_uint32_t *link)
{
    apr_uint32_t idx = *link;

    *link = c->entries[idx].next;
    if (!entry_release(c, idx))
        table_damaged(c);
}

/* Looks at up to n slots from the sweep cursor and reclaims the expired ones (with the rest of
 * their chains); stops early once a put of need_chunks chunks (and a slot, if need_entry)
 * fits, when n is the sweep's. */
static void cursor_sweep(oas_shm_ctx_t *c, apr_uint32_t n, int need_entry,
                         apr_uint32_t need_chunks, apr_time_t now)
{
    oas_shm_hdr_t *h = c->hdr;
    apr_uint32_t i;

    for (i = 0; i < n && i < c->cap; i++) {
        apr_uint32_t idx = h->cursor % c->cap;
        const oas_shm_entry_t *e = &c->entries[idx];

        if (n == SWEEP_MAX && (!need_entry || h->free_entry != NIL) &&
            h->free_chunks >= need_chunks)
            return;
        h->cursor = (idx + 1) % c->cap;
        if (e->state != OAS_SHM_SLOT_FREE && e->expires <= now &&
            chain_walk(NULL, c, oas_shm_bucket(c, e->digest), NULL, now) == APR_EGENERAL) {
            table_damaged(c);
            return;
        }
    }
}

/* Every put advances the sweep cursor by RECLAIM_STEP slots and reclaims the expired entries
 * met there, so expired entries do not wait for a lookup of their bucket or for a full table:
 * the count of live entries (server-status) follows the entries still in force, and the
 * table's touched memory follows it too. Before any lookup of the put, so no link the put
 * holds is moved. */
void oas_shm_reclaim(oas_shm_ctx_t *c, apr_time_t now)
{
    cursor_sweep(c, RECLAIM_STEP, 0, 0, now);
}

/* ---- making room ---- */

/* Evicts the oldest best-effort entry (an expired one is only reclaimed, not counted).
 * APR_EGENERAL when the FIFO or the chain of its bucket is damaged. */
static apr_status_t evict_oldest(oas_shm_ctx_t *c, apr_time_t now)
{
    apr_uint32_t idx = c->hdr->fifo_oldest;
    apr_uint32_t *link;
    apr_uint32_t steps = 0;
    oas_shm_entry_t *e;

    if (idx >= c->cap || c->entries[idx].state != OAS_SHM_SLOT_BEST)
        return APR_EGENERAL;
    e = &c->entries[idx];
    if (!oas_shm_entry_ok(c, e))
        return APR_EGENERAL;
    for (link = &c->buckets[oas_shm_bucket(c, e->digest)]; *link != idx;
         link = &c->entries[*link].next) {
        if (*link >= c->cap || ++steps > c->cap)
            return APR_EGENERAL;
    }
    if (e->expires > now)
        oas_shm_count(c, OAS_STORE_EV_EVICTED);
    *link = e->next;
    return entry_release(c, idx) ? APR_SUCCESS : APR_EGENERAL;
}

/* Takes n chunks off the free list as one NIL-terminated chain (NIL when n is 0).
 * APR_EGENERAL, with nothing taken, when the list is shorter than its counter says. */
static apr_status_t chunks_alloc(apr_uint32_t *pfirst, oas_shm_ctx_t *c, apr_uint32_t n)
{
    oas_shm_hdr_t *h = c->hdr;
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

static void value_write(oas_shm_ctx_t *c, apr_uint32_t k, const unsigned char *val,
                        apr_size_t vlen)
{
    apr_size_t off = 0;

    while (off < vlen) {
        apr_size_t n = vlen - off < OAS_SHM_CHUNK_SIZE ? vlen - off : OAS_SHM_CHUNK_SIZE;
        memcpy(c->chunks + (apr_size_t)k * OAS_SHM_CHUNK_SIZE, val + off, n);
        off += n;
        k = c->chunk_next[k];
    }
}

void oas_shm_value_read(char *out, const oas_shm_ctx_t *c, const oas_shm_entry_t *e)
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

/* Room for the put: the key's entry (old, or NIL) plus a free slot when old is NIL, and need
 * chunks counting old's. Order: what is free, then the oldest best-effort entries (expired or
 * not: a full store of tombstones must not sweep on every put), then a sweep for expired live
 * ones. Nothing is evicted unless evicting every best-effort entry would make the room. */
static apr_status_t make_room(apr_uint32_t **plink, oas_shm_ctx_t *c, const unsigned char *d,
                              apr_uint32_t need, int only_new, apr_time_t now)
{
    oas_shm_hdr_t *h = c->hdr;
    int swept = 0;
    apr_status_t rv;

    for (;;) {
        apr_uint32_t old, old_chunks, spare_chunks;
        int old_live;

        rv = oas_shm_find(plink, c, d, now);
        if (rv == APR_SUCCESS && only_new)
            return APR_EEXIST;
        if (rv != APR_SUCCESS)
            *plink = NULL;
        old = *plink ? **plink : NIL;
        old_chunks = (old != NIL) ? oas_shm_chunks_for(c->entries[old].vlen) : 0;
        if ((old != NIL || h->free_entry != NIL) && h->free_chunks + old_chunks >= need)
            return APR_SUCCESS;
        old_live = old != NIL && c->entries[old].state == OAS_SHM_SLOT_LIVE;
        /* the chunks every best-effort entry holds; a damaged counter only errs either way
         * in what is tried, every index used is checked */
        spare_chunks = h->free_chunks + h->class_chunks[OAS_STORE_BEST_EFFORT] +
                       (old_live ? old_chunks : 0);
        if (h->fifo_oldest != NIL && spare_chunks >= need &&
            (old != NIL || h->live < c->cap || h->class_entries[OAS_STORE_BEST_EFFORT] > 0)) {
            if (evict_oldest(c, now) != APR_SUCCESS) {
                table_damaged(c);
                return APR_EGENERAL;
            }
            continue; /* links may have moved: look the key up again */
        }
        if (swept) {
            oas_shm_count(c, OAS_STORE_EV_FULL);
            return APR_ENOSPC; /* checked before any change to this key: nothing half-written */
        }
        cursor_sweep(c, SWEEP_MAX, old == NIL, need > old_chunks ? need - old_chunks : 0, now);
        swept = 1;
    }
}

apr_status_t oas_shm_put_locked(oas_shm_ctx_t *c, const unsigned char *d, int cls,
                                const void *val, apr_size_t vlen, apr_time_t expires,
                                int only_new, apr_time_t now)
{
    apr_uint32_t need = oas_shm_chunks_for(vlen);
    apr_uint32_t *link = NULL;
    apr_uint32_t idx, first;
    oas_shm_entry_t *e;
    apr_status_t rv;

    if ((rv = make_room(&link, c, d, need, only_new, now)) != APR_SUCCESS)
        return rv;
    /* an overwrite keeps its slot and its place in the chain, its value goes back first; a
     * best-effort one goes to the new end of the FIFO below, as if inserted now */
    if (link && !entry_drop_value(c, *link)) {
        table_damaged(c);
        return APR_EGENERAL;
    }
    if (chunks_alloc(&first, c, need) != APR_SUCCESS) {
        table_damaged(c);
        return APR_EGENERAL;
    }
    if (link) {
        idx = *link;
    }
    else {
        apr_uint32_t b = oas_shm_bucket(c, d);

        idx = c->hdr->free_entry;
        if (idx >= c->cap || c->entries[idx].state != OAS_SHM_SLOT_FREE) {
            table_damaged(c);
            return APR_EGENERAL;
        }
        c->hdr->free_entry = c->entries[idx].next;
        c->hdr->live++;
        c->entries[idx].next = c->buckets[b];
        c->buckets[b] = idx;
    }
    e = &c->entries[idx];
    memcpy(e->digest, d, OAS_SHA256_LEN);
    e->expires = expires;
    e->state = cls == OAS_STORE_BEST_EFFORT ? OAS_SHM_SLOT_BEST : OAS_SHM_SLOT_LIVE;
    e->chunk = first;
    e->vlen = (apr_uint16_t)vlen;
    e->older = e->newer = NIL;
    c->hdr->class_entries[cls]++;
    c->hdr->class_chunks[cls] += need;
    if (cls == OAS_STORE_BEST_EFFORT && !fifo_append(c, idx)) {
        table_damaged(c);
        return APR_EGENERAL;
    }
    value_write(c, first, val, vlen);
    e->sum = entry_sum(e);
    return APR_SUCCESS;
}

void oas_shm_count(oas_shm_ctx_t *c, int event)
{
    if (event >= 0 && event < OAS_STORE_EV_COUNT)
        __atomic_fetch_add(&c->hdr->events[event], 1, __ATOMIC_RELAXED);
}

/* ---- locking and hashing ---- */

/* A holder that is alive but not running (stopped, swapped out, starved) would make every
 * store operation of every process wait for it: after lock_timeout the operation fails with
 * APR_TIMEUP instead (the glue answers 503 + Retry-After). A dead holder does not need it:
 * the mutex is released with it (robust pthread mutex, fcntl, flock, SysV SEM_UNDO). */
apr_status_t oas_shm_lock(oas_shm_ctx_t *c)
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

void oas_shm_unlock(oas_shm_ctx_t *c)
{
    c->hdr->busy = 0;
    if (c->own_lock)
        oas_shm_lock_release(c->own_lock);
    else if (c->mutex)
        apr_global_mutex_unlock(c->mutex);
}

apr_status_t oas_shm_digest(unsigned char *out, const oas_shm_ctx_t *c, int ns, const char *key,
                            apr_size_t klen)
{
    unsigned char nsb = (unsigned char)ns;
    oas_bytes_t parts[3] = {{c->salt, OAS_SHM_SALT_LEN}, {&nsb, 1}, {key, klen}};

    return oas_sha256_parts(out, parts, 3) ? APR_SUCCESS : APR_ENOMEM;
}

/* Outside the lock: bring the lines a lookup will read into the cache - the bucket, the first
 * entries of its chain and the first chunk of each, and for a put the free slot and chunk it
 * would take and the slots the reclaim step looks at - so that the walk under the lock does
 * not wait for memory: in a large table they are cold, and every miss under the lock is a
 * wait for every other worker. Relaxed reads of a table others may be changing: hints only,
 * every index is checked, nothing is used. */
#define PREFETCH_CHAIN 4
void oas_shm_prefetch(const oas_shm_ctx_t *c, const unsigned char *digest, int put)
{
    apr_uint32_t idx = __atomic_load_n(&c->buckets[oas_shm_bucket(c, digest)], __ATOMIC_RELAXED);
    apr_uint32_t i, k;

    for (i = 0; i < PREFETCH_CHAIN && idx < c->cap; i++) {
        const oas_shm_entry_t *e = &c->entries[idx];
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
