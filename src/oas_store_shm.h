/* mod_oauth_as: the shared-memory store (STYLE.md C15). A fixed-capacity hash table in one
 * contiguous region, linked by 32-bit indexes so that every process may map it at its own
 * address; values live in a chunk arena. A record is charged its slot and its chunks; records
 * of the best-effort class (oas_store_ns_class) give way to any put that finds no room, oldest
 * first; live ones never do. Core files: oas_store_shm.c (the oas_store_t methods),
 * oas_shm_table.c (layout, table, eviction), oas_shm_stats.c (usage, check). */
#ifndef OAS_STORE_SHM_H
#define OAS_STORE_SHM_H

#include <apr_global_mutex.h>

#include "oas_store.h"

#define OAS_SHM_CHUNK_SIZE 128        /* bytes of value per arena chunk */
#define OAS_SHM_CHUNKS_PER_ENTRY 4    /* arena of a store sized in entries: 512 bytes each */
/* Arena of a store sized in bytes: 2 chunks per slot. Measured on the test deployment: what a
 * flow leaves for long, a redeemed code's tombstone, and a counter take 1 chunk; a pushed
 * request 2; a code 3 (more with a long state or nonce); they live until their next request. */
#define OAS_SHM_BYTES_CHUNKS_PER_ENTRY 2
#define OAS_SHM_MIN_BYTES (64 * 1024) /* the smallest store sized in bytes */
#define OAS_SHM_MAX_VALUE OAS_STORE_MAX_VALUE /* larger values are refused with APR_ENOSPC */
#define OAS_SHM_MAX_ENTRIES (1u << 24)
/* longest wait for the lock before an operation fails with APR_TIMEUP (a stopped holder) */
#define OAS_SHM_LOCK_TIMEOUT apr_time_from_sec(5)

/** Bytes a region for `entries` entries needs (OAuthASStoreSize as a bare number: 4 chunks
 * per entry), or 0 when entries is 0 or above OAS_SHM_MAX_ENTRIES. */
apr_size_t oas_shm_store_size_needed(apr_uint32_t entries);

/** Slots of a store laid out in `bytes` (oas_shm_store_format_bytes), or 0 when bytes is below
 * OAS_SHM_MIN_BYTES or would need more than OAS_SHM_MAX_ENTRIES slots. */
apr_uint32_t oas_shm_store_entries_in(apr_size_t bytes);

/** The largest region oas_shm_store_entries_in accepts (OAS_SHM_MAX_ENTRIES slots). */
apr_uint64_t oas_shm_store_max_bytes(void);

/** As oas_shm_store_format, but the region's `size` bytes are laid out whole, at
 * OAS_SHM_BYTES_CHUNKS_PER_ENTRY (OAuthASStoreSize with a unit).
 * @return APR_EINVAL when oas_shm_store_entries_in(size) is 0 or base is not 8-aligned */
apr_status_t oas_shm_store_format_bytes(void *base, apr_size_t size);

/** Initialise a fresh region: header, random salt (RAND_bytes), empty table.
 * @param base   8-byte aligned start of the region (e.g. apr_shm_baseaddr_get())
 * @param size   its size, at least oas_shm_store_size_needed(entries)
 * @return APR_EINVAL on bad sizes or alignment, APR_EGENERAL if the RNG fails */
apr_status_t oas_shm_store_format(void *base, apr_size_t size, apr_uint32_t entries);

/** Attach to a formatted region and return a store implementing oas_store.h.
 * @param pst    the store, allocated in p; usable from every thread of this process
 * @param p      lifetime of the store object (not of the region)
 * @param mutex  guards the table across processes and threads (an APR global mutex, e.g.
 *               `Mutex fcntl`); NULL only when a single thread of a single process uses
 *               the region (unit tests)
 * @return APR_EINVAL when the header is not ours (magic, version, sizes) */
apr_status_t oas_shm_store_attach(oas_store_t **pst, apr_pool_t *p, void *base, apr_size_t size,
                                  apr_global_mutex_t *mutex);

/** As oas_shm_store_attach, but the table is guarded by the lock kept inside the region
 * (oas_shm_lock.h: process-shared, robust, no priority inheritance, timed), which every
 * process and thread attached this way shares; no APR mutex is involved.
 * @return APR_EINVAL as oas_shm_store_attach, and when the region's lock is spent (every
 *         slot not recoverable: the region must be formatted again) */
apr_status_t oas_shm_store_attach_own_lock(oas_store_t **pst, apr_pool_t *p, void *base,
                                           apr_size_t size);

/** Occupancy for log lines and benchmarks: live entries (expired ones not yet reclaimed
 * included), capacity, and region bytes per entry of capacity. Any out-param may be NULL. */
void oas_shm_store_stats(oas_store_t *st, apr_uint32_t *live, apr_uint32_t *capacity,
                         apr_size_t *bytes_per_entry);

/** Changes the lock wait limit of this process's store (default OAS_SHM_LOCK_TIMEOUT; tests).
 * A negative timeout waits for ever. */
void oas_shm_store_set_lock_timeout(oas_store_t *st, apr_interval_time_t timeout);

/** Occupancy of a store, for server-status and benchmarks. */
typedef struct oas_shm_usage_t {
    apr_uint32_t entries;     /* entries in use, expired ones not yet reclaimed included */
    apr_uint32_t capacity;    /* entry slots (OAuthASStoreSize) */
    apr_uint32_t chunks_used; /* value arena chunks in use */
    apr_uint32_t chunks;      /* value arena chunks in all */
    apr_size_t value_bytes;   /* bytes of the arena in use: chunks_used * OAS_SHM_CHUNK_SIZE */
    apr_size_t bytes;         /* size of the region */
    apr_uint32_t resets;      /* times a damaged table was wiped since the region was made */
    /* by class (OAS_STORE_LIVE, OAS_STORE_BEST_EFFORT): entries, and the bytes they are
     * charged (each slot with its bucket head, each chunk with its link) */
    apr_uint32_t class_entries[OAS_STORE_CLASSES];
    apr_size_t class_bytes[OAS_STORE_CLASSES];
    apr_uint64_t events[OAS_STORE_EV_COUNT]; /* oas_store_event_e since the region was made */
} oas_shm_usage_t;

/** Copies the counters under the lock (held only for the copy) into *u.
 * @return the lock's error, with *u holding the figures read without it only (capacity,
 *         chunks, bytes, events) */
apr_status_t oas_shm_store_usage(oas_shm_usage_t *u, oas_store_t *st);

/** The figures of oas_shm_store_usage that need no lock: capacity, chunks, bytes, events (the
 * rest 0). For a process that must not wait on another (httpd's parent). */
void oas_shm_store_geometry(oas_shm_usage_t *u, oas_store_t *st);

/** Full consistency check under the lock (tests, diagnostics): every entry and chunk is on
 * exactly one list, the best-effort FIFO holds exactly the best-effort entries, checksums and
 * counters (by class too) agree. Never repairs anything.
 * @param pfree_chunks  free arena chunks (may be NULL)
 * @param p             scratch for the bitmaps
 * @return APR_SUCCESS when consistent, APR_EGENERAL when not */
apr_status_t oas_shm_store_verify(apr_uint32_t *pfree_chunks, apr_pool_t *p, oas_store_t *st);

#endif
