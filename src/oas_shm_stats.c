/* mod_oauth_as: what the shared-memory store tells about itself: occupancy and counters for
 * log lines, server-status and benchmarks, and the full consistency check for tests. */
#include <string.h>

#include "oas_shm_table.h"

#define NIL OAS_SHM_NIL

void oas_shm_store_stats(oas_store_t *st, apr_uint32_t *live, apr_uint32_t *capacity,
                         apr_size_t *bytes_per_entry)
{
    oas_shm_ctx_t *c = st->ctx;

    if (live) {
        *live = 0;
        if (oas_shm_lock(c) == APR_SUCCESS) {
            *live = c->hdr->live;
            oas_shm_unlock(c);
        }
    }
    if (capacity)
        *capacity = c->cap;
    if (bytes_per_entry)
        *bytes_per_entry = ((apr_size_t)c->hdr->size + c->cap - 1) / c->cap;
}

void oas_shm_store_geometry(oas_shm_usage_t *u, oas_store_t *st)
{
    oas_shm_ctx_t *c = st->ctx;
    int i;

    memset(u, 0, sizeof(*u));
    u->capacity = c->cap;
    u->chunks = c->nchunks;
    u->bytes = (apr_size_t)c->hdr->size;
    for (i = 0; i < OAS_STORE_EV_COUNT; i++) {
        u->events[i] = __atomic_load_n(&c->hdr->events[i], __ATOMIC_RELAXED);
    }
}

apr_status_t oas_shm_store_usage(oas_shm_usage_t *u, oas_store_t *st)
{
    oas_shm_ctx_t *c = st->ctx;
    oas_shm_hdr_t *h = c->hdr;
    apr_uint32_t live, free_chunks, resets, ent[OAS_STORE_CLASSES], chk[OAS_STORE_CLASSES];
    apr_status_t rv;
    int i;

    oas_shm_store_geometry(u, st);
    if ((rv = oas_shm_lock(c)) != APR_SUCCESS)
        return rv;
    live = h->live;
    free_chunks = h->free_chunks;
    resets = h->resets;
    memcpy(ent, h->class_entries, sizeof(ent));
    memcpy(chk, h->class_chunks, sizeof(chk));
    oas_shm_unlock(c);
    u->entries = live;
    u->chunks_used = free_chunks <= c->nchunks ? c->nchunks - free_chunks : c->nchunks;
    u->value_bytes = (apr_size_t)u->chunks_used * OAS_SHM_CHUNK_SIZE;
    u->resets = resets;
    for (i = 0; i < OAS_STORE_CLASSES; i++) {
        u->class_entries[i] = ent[i];
        u->class_bytes[i] = (apr_size_t)ent[i] * OAS_SHM_SLOT_BYTES +
                            (apr_size_t)chk[i] * OAS_SHM_CHUNK_BYTES;
    }
    return APR_SUCCESS;
}

/* Marks the chunks of one chain in seen[]; 0 when a chunk is out of range or seen twice. */
static int verify_chain(unsigned char *seen, const oas_shm_ctx_t *c, apr_uint32_t k,
                        apr_uint32_t n)
{
    while (n--) {
        if (k >= c->nchunks || seen[k])
            return 0;
        seen[k] = 1;
        k = c->chunk_next[k];
    }
    return 1;
}

/* The FIFO runs oldest to newest through every best-effort entry in use (eseen[] == 1) once,
 * each back link the mirror of the forward one. */
static int verify_fifo(unsigned char *eseen, const oas_shm_ctx_t *c)
{
    const oas_shm_hdr_t *h = c->hdr;
    apr_uint32_t prev = NIL;
    apr_uint32_t n = 0;
    apr_uint32_t k;

    for (k = h->fifo_oldest; k != NIL; k = c->entries[k].newer) {
        if (k >= c->cap || eseen[k] != 1 || c->entries[k].state != OAS_SHM_SLOT_BEST ||
            c->entries[k].older != prev)
            return 0;
        eseen[k] = 2;
        prev = k;
        n++;
    }
    return prev == h->fifo_newest && n == h->class_entries[OAS_STORE_BEST_EFFORT];
}

static int verify_locked(apr_uint32_t *pfree_chunks, apr_pool_t *p, const oas_shm_ctx_t *c)
{
    unsigned char *eseen = apr_pcalloc(p, c->cap);
    unsigned char *cseen = apr_pcalloc(p, c->nchunks);
    const oas_shm_hdr_t *h = c->hdr;
    apr_uint32_t ent[OAS_STORE_CLASSES] = {0, 0}, chk[OAS_STORE_CLASSES] = {0, 0};
    apr_uint32_t used = 0;
    apr_uint32_t nfree = 0;
    apr_uint32_t b;
    apr_uint32_t k;

    for (b = 0; b < c->cap; b++) {
        for (k = c->buckets[b]; k != NIL; k = c->entries[k].next) {
            const oas_shm_entry_t *e = &c->entries[k];
            if (k >= c->cap || eseen[k] || !oas_shm_entry_ok(c, e) ||
                oas_shm_bucket(c, e->digest) != b ||
                !verify_chain(cseen, c, e->chunk, oas_shm_chunks_for(e->vlen)) ||
                (e->state == OAS_SHM_SLOT_LIVE && (e->older != NIL || e->newer != NIL)))
                return 0;
            eseen[k] = 1;
            used++;
            ent[oas_shm_entry_class(e)]++;
            chk[oas_shm_entry_class(e)] += oas_shm_chunks_for(e->vlen);
        }
    }
    if (!verify_fifo(eseen, c))
        return 0;
    for (k = h->free_entry; k != NIL; k = c->entries[k].next) {
        if (k >= c->cap || eseen[k] || c->entries[k].state != OAS_SHM_SLOT_FREE)
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
    return used == h->live && nfree == h->free_chunks &&
           memcmp(ent, h->class_entries, sizeof(ent)) == 0 &&
           memcmp(chk, h->class_chunks, sizeof(chk)) == 0;
}

apr_status_t oas_shm_store_verify(apr_uint32_t *pfree_chunks, apr_pool_t *p, oas_store_t *st)
{
    oas_shm_ctx_t *c = st->ctx;
    apr_status_t rv;
    int ok;

    if ((rv = oas_shm_lock(c)) != APR_SUCCESS)
        return rv;
    ok = verify_locked(pfree_chunks, p, c);
    oas_shm_unlock(c);
    return ok ? APR_SUCCESS : APR_EGENERAL;
}
