/* mod_oauth_as: the shared-memory store behind oas_store.h (STYLE.md C15): the oas_store_t
 * methods, formatting a region and attaching to one. The table itself is oas_shm_table.c. */
#include <openssl/err.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "oas_shm_table.h"

#define COUNTER_MAX 64 /* the longest counter value incr reads ("count expires") */

/* ---- layout from a size ---- */

static apr_uint32_t chunks_for_entries(apr_uint32_t entries)
{
    apr_uint64_t n = (apr_uint64_t)entries * OAS_SHM_CHUNKS_PER_ENTRY;

    /* a small store still holds one value of the maximum size */
    if (n < OAS_SHM_MAX_VALUE / OAS_SHM_CHUNK_SIZE)
        n = OAS_SHM_MAX_VALUE / OAS_SHM_CHUNK_SIZE;
    return n < OAS_SHM_NIL ? (apr_uint32_t)n : OAS_SHM_NIL;
}

apr_size_t oas_shm_store_size_needed(apr_uint32_t entries)
{
    oas_shm_layout_t l;

    return oas_shm_layout(&l, entries, chunks_for_entries(entries)) ? (apr_size_t)l.total : 0;
}

apr_uint64_t oas_shm_store_max_bytes(void)
{
    oas_shm_layout_t l;

    oas_shm_layout(&l, OAS_SHM_MAX_ENTRIES, OAS_SHM_MAX_ENTRIES * OAS_SHM_BYTES_CHUNKS_PER_ENTRY);
    return l.total + OAS_SHM_SLOT_BYTES + OAS_SHM_BYTES_CHUNKS_PER_ENTRY * OAS_SHM_CHUNK_BYTES - 1;
}

/* The most slots (with their chunks) that fit in bytes: from the cost of one, then down to
 * what the alignment of the parts leaves. */
apr_uint32_t oas_shm_store_entries_in(apr_size_t bytes)
{
    apr_uint64_t per = OAS_SHM_SLOT_BYTES + OAS_SHM_BYTES_CHUNKS_PER_ENTRY * OAS_SHM_CHUNK_BYTES;
    apr_uint64_t n;
    oas_shm_layout_t l;

    if (bytes < OAS_SHM_MIN_BYTES)
        return 0;
    n = ((apr_uint64_t)bytes - sizeof(oas_shm_hdr_t)) / per;
    if (n > OAS_SHM_MAX_ENTRIES)
        return 0;
    while (n > 0 &&
           !(oas_shm_layout(&l, (apr_uint32_t)n,
                            (apr_uint32_t)n * OAS_SHM_BYTES_CHUNKS_PER_ENTRY) &&
             l.total <= bytes))
        n--;
    return (apr_uint32_t)n;
}

/* ---- oas_store_t methods ---- */

static int key_bad(int ns, const char *key, apr_size_t klen)
{
    return ns < 0 || ns > 255 || (key == NULL && klen > 0);
}

/* What every write does first: the key's digest (outside the lock), the lines it will touch
 * prefetched, the lock, and a reclaim step. On APR_SUCCESS the caller holds the lock. */
static apr_status_t write_begin(unsigned char *d, apr_time_t *pnow, oas_shm_ctx_t *c, int ns,
                                const char *key, apr_size_t klen)
{
    apr_status_t rv;

    if ((rv = oas_shm_digest(d, c, ns, key, klen)) != APR_SUCCESS)
        return rv;
    oas_shm_prefetch(c, d, 1);
    if ((rv = oas_shm_lock(c)) != APR_SUCCESS)
        return rv;
    *pnow = apr_time_now();
    oas_shm_reclaim(c, *pnow);
    return APR_SUCCESS;
}

static apr_status_t shm_store(oas_shm_ctx_t *c, int ns, const char *key, apr_size_t klen,
                              const void *val, apr_size_t vlen, apr_time_t expires, int only_new)
{
    unsigned char d[OAS_SHA256_LEN];
    apr_time_t now;
    apr_status_t rv;

    if (key_bad(ns, key, klen) || (val == NULL && vlen > 0))
        return APR_EINVAL;
    if (vlen > OAS_SHM_MAX_VALUE || oas_shm_chunks_for(vlen) > c->nchunks)
        return APR_ENOSPC;
    if ((rv = write_begin(d, &now, c, ns, key, klen)) != APR_SUCCESS)
        return rv;
    rv = oas_shm_put_locked(c, d, oas_store_ns_class(ns), val, vlen, expires, only_new, now);
    oas_shm_unlock(c);
    return rv;
}

/* get, take and del: find the live entry, copy it out, and unlink it when asked. */
static apr_status_t shm_fetch(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                              apr_size_t klen, char **pval, apr_size_t *plen, int remove)
{
    oas_shm_ctx_t *c = st->ctx;
    unsigned char d[OAS_SHA256_LEN];
    apr_uint32_t *link = NULL;
    apr_status_t rv;

    if (key_bad(ns, key, klen) || (pval && !p))
        return APR_EINVAL;
    if ((rv = oas_shm_digest(d, c, ns, key, klen)) != APR_SUCCESS)
        return rv;
    oas_shm_prefetch(c, d, 0);
    if ((rv = oas_shm_lock(c)) != APR_SUCCESS)
        return rv;
    rv = oas_shm_find(&link, c, d, apr_time_now());
    if (rv == APR_SUCCESS) {
        const oas_shm_entry_t *e = &c->entries[*link];

        if (pval) {
            char *buf = apr_palloc(p, (apr_size_t)e->vlen + 1);
            oas_shm_value_read(buf, c, e);
            buf[e->vlen] = '\0';
            *pval = buf;
        }
        if (plen)
            *plen = e->vlen;
        if (remove)
            oas_shm_remove(c, link);
    }
    oas_shm_unlock(c);
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

/* The counter is kept as the text of oas_store_incr's fallback ("count expires"), so a reader
 * through get and a backend without incr agree; under the lock, read and write are one step
 * for every process. A value that is not a counter starts again from delta. */
static apr_status_t shm_incr(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                             apr_size_t klen, apr_int64_t delta, apr_time_t expires,
                             apr_int64_t *pcount, apr_time_t *pexpires)
{
    oas_shm_ctx_t *c = st->ctx;
    unsigned char d[OAS_SHA256_LEN];
    apr_uint32_t *link = NULL;
    apr_int64_t count = 0, until = 0;
    char buf[COUNTER_MAX];
    apr_size_t len;
    apr_time_t now;
    apr_status_t rv;

    if (key_bad(ns, key, klen) || !pcount)
        return APR_EINVAL;
    if ((rv = write_begin(d, &now, c, ns, key, klen)) != APR_SUCCESS)
        return rv;
    if (oas_shm_find(&link, c, d, now) == APR_SUCCESS &&
        c->entries[*link].vlen < sizeof(buf)) {
        oas_shm_value_read(buf, c, &c->entries[*link]);
        buf[c->entries[*link].vlen] = '\0';
        if (sscanf(buf, "%" APR_INT64_T_FMT " %" APR_INT64_T_FMT, &count, &until) != 2)
            until = 0;
    }
    if (until <= 0) {
        count = 0;
        until = expires;
    }
    count += delta;
    len = (apr_size_t)apr_snprintf(buf, sizeof(buf), "%" APR_INT64_T_FMT " %" APR_INT64_T_FMT,
                                   count, until);
    rv = oas_shm_put_locked(c, d, oas_store_ns_class(ns), buf, len, (apr_time_t)until, 0, now);
    oas_shm_unlock(c);
    if (rv == APR_SUCCESS) {
        *pcount = count;
        if (pexpires)
            *pexpires = (apr_time_t)until;
    }
    return rv;
}

static void shm_note(oas_store_t *st, int event)
{
    oas_shm_count(st->ctx, event);
}

/* ---- public API ---- */

static apr_status_t format(void *base, apr_size_t size, apr_uint32_t entries,
                           apr_uint32_t nchunks)
{
    oas_shm_layout_t l;
    oas_shm_ctx_t c;
    oas_shm_hdr_t *h = base;

    if (!base || ((apr_uintptr_t)base & 7) || !oas_shm_layout(&l, entries, nchunks) ||
        size < l.total)
        return APR_EINVAL;
    memset(h, 0, sizeof(*h));
    ERR_clear_error();
    if (RAND_bytes(h->salt, OAS_SHM_SALT_LEN) != 1)
        return APR_EGENERAL;
    if (oas_shm_lock_init(&h->lock) != 0)
        return APR_EGENERAL;
    h->version = OAS_SHM_VERSION;
    h->capacity = entries;
    h->nchunks = nchunks;
    h->chunk_size = OAS_SHM_CHUNK_SIZE;
    h->size = l.total;
    memset(&c, 0, sizeof(c));
    oas_shm_map(&c, base, &l, entries, nchunks);
    oas_shm_table_reset(&c);
    h->magic = OAS_SHM_MAGIC; /* last: a half-formatted region never attaches */
    return APR_SUCCESS;
}

apr_status_t oas_shm_store_format(void *base, apr_size_t size, apr_uint32_t entries)
{
    return format(base, size, entries, chunks_for_entries(entries));
}

apr_status_t oas_shm_store_format_bytes(void *base, apr_size_t size)
{
    apr_uint32_t n = oas_shm_store_entries_in(size);

    return n ? format(base, size, n, n * OAS_SHM_BYTES_CHUNKS_PER_ENTRY) : APR_EINVAL;
}

static apr_status_t store_attach(oas_store_t **pst, apr_pool_t *p, void *base, apr_size_t size,
                                 apr_global_mutex_t *mutex, int own_lock)
{
    const oas_shm_hdr_t *h = base;
    oas_shm_layout_t l;
    oas_shm_ctx_t *c;
    oas_store_t *st;

    *pst = NULL;
    if (!base || ((apr_uintptr_t)base & 7) || size < sizeof(*h))
        return APR_EINVAL;
    if (h->magic != OAS_SHM_MAGIC || h->version != OAS_SHM_VERSION ||
        !oas_shm_layout(&l, h->capacity, h->nchunks) || h->size != l.total || l.total > size ||
        h->chunk_size != OAS_SHM_CHUNK_SIZE)
        return APR_EINVAL;
    if (own_lock && !oas_shm_lock_usable(&h->lock))
        return APR_EINVAL; /* every slot spent: the region must be made again */
    c = apr_pcalloc(p, sizeof(*c));
    oas_shm_map(c, base, &l, h->capacity, h->nchunks);
    memcpy(c->salt, h->salt, OAS_SHM_SALT_LEN);
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
    st->incr = shm_incr;
    st->note = shm_note;
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

void oas_shm_store_set_lock_timeout(oas_store_t *st, apr_interval_time_t timeout)
{
    ((oas_shm_ctx_t *)st->ctx)->lock_timeout = timeout;
}
