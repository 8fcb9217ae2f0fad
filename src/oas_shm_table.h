/* mod_oauth_as: the layout of the shared-memory store's region and the table operations on
 * it (oas_shm_table.c), shared by the store's methods (oas_store_shm.c) and its counters and
 * check (oas_shm_stats.c). Internal to those three files. Core: no httpd headers. */
#ifndef OAS_SHM_TABLE_H
#define OAS_SHM_TABLE_H

#include "oas_shm_lock.h"
#include "oas_store_shm.h"
#include "oas_util.h"

#define OAS_SHM_MAGIC 0x5353414fu /* "OASS" */
/* 2: the lock of our own in the header; 3: classes, the best-effort FIFO, byte accounting,
 * event counters, the arena sized apart from the slots */
#define OAS_SHM_VERSION 3u
#define OAS_SHM_NIL 0xffffffffu
#define OAS_SHM_SALT_LEN 32
/* slot states: a random half-word is unlikely to look in use, and the checksum covers it */
#define OAS_SHM_SLOT_FREE 0u
#define OAS_SHM_SLOT_LIVE 0x554cu /* "LU": a live record, never evicted */
#define OAS_SHM_SLOT_BEST 0x4542u /* "BE": a best-effort record, on the FIFO */

/* The region header. The first block is fixed at format time, the second changes under
 * the lock, the event counters after the lock change by atomic adds without it.
 * Fixed-width types only: every process (and every build) reads the same bytes. */
typedef struct {
    apr_uint32_t magic;
    apr_uint32_t version;
    apr_uint32_t capacity; /* entry slots, also the number of buckets */
    apr_uint32_t nchunks;
    apr_uint32_t chunk_size;
    apr_uint32_t reserved;
    apr_uint64_t size; /* bytes the layout uses */
    unsigned char salt[OAS_SHM_SALT_LEN];

    apr_uint32_t busy; /* set while a holder of the lock is changing the table */
    apr_uint32_t free_entry;
    apr_uint32_t free_chunk;
    apr_uint32_t live; /* entries in use, both classes */
    apr_uint32_t free_chunks;
    apr_uint32_t cursor; /* where the next sweep starts */
    apr_uint32_t resets; /* times a damaged table was wiped */
    apr_uint32_t reserved2;
    apr_uint32_t fifo_oldest; /* the best-effort entries by insertion, oldest first */
    apr_uint32_t fifo_newest;
    apr_uint32_t class_entries[OAS_STORE_CLASSES];
    apr_uint32_t class_chunks[OAS_STORE_CLASSES];
    apr_uint32_t reserved3[2]; /* the lock starts on its own cache line (offset 128) */

    oas_shm_lock_t lock; /* initialised at format time; used when attached with it */

    apr_uint64_t events[OAS_STORE_EV_COUNT]; /* oas_store_event_e, atomic adds */
} oas_shm_hdr_t;

/* One slot: a cache line. The FIFO links are left out of the checksum, as `next` is: they
 * change when a neighbour comes or goes; every index read from them is range-checked. */
typedef struct {
    unsigned char digest[OAS_SHA256_LEN]; /* SHA-256(salt || ns || key) */
    apr_time_t expires;
    apr_uint16_t state; /* OAS_SHM_SLOT_* */
    apr_uint16_t vlen;  /* <= OAS_SHM_MAX_VALUE */
    apr_uint32_t next;  /* bucket chain, or free list */
    apr_uint32_t chunk; /* first chunk of the value, NIL when it is empty */
    apr_uint32_t sum;   /* over the fields above except next: catches half-written slots */
    apr_uint32_t older, newer; /* best-effort FIFO (NIL for live entries) */
} oas_shm_entry_t;

typedef struct {
    apr_uint64_t buckets, entries, chunk_next, chunks, total;
} oas_shm_layout_t;

typedef struct {
    oas_shm_hdr_t *hdr;
    apr_uint32_t *buckets;
    oas_shm_entry_t *entries;
    apr_uint32_t *chunk_next;
    unsigned char *chunks;
    apr_global_mutex_t *mutex;
    oas_shm_lock_t *own_lock; /* the lock in the header, or NULL (then mutex, if any) */
    apr_interval_time_t lock_timeout;
    apr_uint32_t cap;
    apr_uint32_t nchunks;
    unsigned char salt[OAS_SHM_SALT_LEN]; /* a private copy: hashing happens outside the lock */
} oas_shm_ctx_t;

/* what a record is charged: its slot with its bucket head, and each chunk with its link */
#define OAS_SHM_SLOT_BYTES  (sizeof(oas_shm_entry_t) + sizeof(apr_uint32_t))
#define OAS_SHM_CHUNK_BYTES (OAS_SHM_CHUNK_SIZE + sizeof(apr_uint32_t))

static inline apr_uint32_t oas_shm_chunks_for(apr_size_t vlen)
{
    return (apr_uint32_t)((vlen + OAS_SHM_CHUNK_SIZE - 1) / OAS_SHM_CHUNK_SIZE);
}

static inline int oas_shm_entry_class(const oas_shm_entry_t *e)
{
    return e->state == OAS_SHM_SLOT_BEST ? OAS_STORE_BEST_EFFORT : OAS_STORE_LIVE;
}

/** Offsets of a region of `entries` slots and `nchunks` chunks; 0 when impossible. */
int oas_shm_layout(oas_shm_layout_t *l, apr_uint32_t entries, apr_uint32_t nchunks);

/** Points c at the parts of the region at base. */
void oas_shm_map(oas_shm_ctx_t *c, void *base, const oas_shm_layout_t *l, apr_uint32_t entries,
                 apr_uint32_t nchunks);

/** Empty table, salt and geometry kept (format, damage). */
void oas_shm_table_reset(oas_shm_ctx_t *c);

int oas_shm_entry_ok(const oas_shm_ctx_t *c, const oas_shm_entry_t *e);
apr_uint32_t oas_shm_bucket(const oas_shm_ctx_t *c, const unsigned char *digest);

/* ---- with the lock held ---- */

/** The live entry of digest: APR_SUCCESS and *plink = the link pointing at it, or
 * APR_NOTFOUND (a damaged table is wiped on the way). */
apr_status_t oas_shm_find(apr_uint32_t **plink, oas_shm_ctx_t *c, const unsigned char *digest,
                          apr_time_t now);

/** Unlinks the entry *link points at from its chain and frees it. */
void oas_shm_remove(oas_shm_ctx_t *c, apr_uint32_t *link);

/** Reclaims the expired entries among the next few slots of the sweep cursor. */
void oas_shm_reclaim(oas_shm_ctx_t *c, apr_time_t now);

/** Writes (digest -> val) of class cls, making room by sweeping expired entries and evicting
 * best-effort ones, oldest first. APR_EEXIST (only_new), APR_ENOSPC (live records alone fill
 * the store: counted as OAS_STORE_EV_FULL, nothing changed), APR_EGENERAL (damage: wiped). */
apr_status_t oas_shm_put_locked(oas_shm_ctx_t *c, const unsigned char *digest, int cls,
                                const void *val, apr_size_t vlen, apr_time_t expires,
                                int only_new, apr_time_t now);

/** Copies the value of e (e->vlen bytes) to out. */
void oas_shm_value_read(char *out, const oas_shm_ctx_t *c, const oas_shm_entry_t *e);

/** Counts an event (atomic, lock or not). */
void oas_shm_count(oas_shm_ctx_t *c, int event);

/* ---- locking, hashing ---- */

apr_status_t oas_shm_lock(oas_shm_ctx_t *c);
void oas_shm_unlock(oas_shm_ctx_t *c);
apr_status_t oas_shm_digest(unsigned char *out, const oas_shm_ctx_t *c, int ns, const char *key,
                            apr_size_t klen);

/** Outside the lock: brings the lines a lookup (put: and a write) will touch into the cache. */
void oas_shm_prefetch(const oas_shm_ctx_t *c, const unsigned char *digest, int put);

#endif
