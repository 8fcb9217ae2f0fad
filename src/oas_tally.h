/* mod_oauth_as: the tally, a compact table in shared memory for the records every flow writes
 * and nobody reads back as data: counters (the brute-force brake, the quotas) and single-use
 * markers (the jti of a client assertion or of a DPoP proof). Each is 16 bytes (a 64-bit tag
 * of a keyed digest, an expiry, a count) instead of a store entry of ~600, and each operation
 * locks two small groups of slots instead of the whole store, so that these records neither
 * fill the store nor serialise the server on its lock.
 *
 * Layout: groups of OAS_TALLY_WAYS slots (256 bytes, four cache lines) with a spin lock each.
 * A record may live in either of two groups picked by its digest, and goes to the emptier
 * (two-choice hashing: no group overflows below ~80 % of the slots in use); both are locked, the lower index first, for every
 * operation, so a check-and-insert is atomic for every thread and process.
 *
 * Classes as in the store (oas_store.h): a counter is best-effort (when both groups are full
 * of live records, the one that expires first gives way: counted); a single-use marker is
 * live (never evicted: when both groups are full of live markers the claim is refused,
 * APR_ENOSPC, and the caller answers 503). Core: no httpd headers. */
#ifndef OAS_TALLY_H
#define OAS_TALLY_H

#include "oas.h"
#include "oas_store.h"
#include "oas_util.h"

#define OAS_TALLY_WAYS 15         /* slots per group: with the lock word, 256 bytes */
#define OAS_TALLY_MIN_BYTES 65536 /* the smallest table (255 groups, 3,825 slots) */

typedef struct oas_tally_t oas_tally_t;

/* What server-status shows (read without locking: approximate while requests run). */
typedef struct {
    apr_size_t bytes;         /* of the region */
    apr_uint32_t slots;       /* in all */
    apr_uint32_t live;        /* single-use markers in their window */
    apr_uint32_t best_effort; /* counters in their window */
    apr_uint64_t evicted;     /* counters that gave way to a new record */
    apr_uint64_t full;        /* claims refused: both groups full of live markers */
    apr_uint64_t stolen;      /* group locks taken over from a process that died holding them */
} oas_tally_stats_t;

/** Bytes a table for `bytes` of region uses (rounded down to whole groups); 0 below the
 * minimum. */
apr_size_t oas_tally_size(apr_size_t bytes);

/** Formats a new region: an empty table with a fresh salt (RAND_bytes), times counted from
 * now (seconds). APR_EINVAL when too small, APR_EGENERAL without randomness. */
apr_status_t oas_tally_format(void *base, apr_size_t size, apr_int64_t now);

/** Attaches to a formatted region (in this process; the handle lives in p). APR_EINVAL when
 * the region is not a table of this layout. */
apr_status_t oas_tally_attach(oas_tally_t **pt, apr_pool_t *p, void *base, apr_size_t size);

/** The digest that names a record: SHA-256(salt || ns || key). */
void oas_tally_digest(unsigned char out[OAS_SHA256_LEN], const oas_tally_t *t, int ns,
                      const char *key, apr_size_t klen);

/** Adds delta to the counter d: a missing or expired one starts at delta (when delta > 0)
 * and lives until `until` (seconds since the epoch); a live one keeps its expiry. A counter
 * brought to 0 or below by a negative delta is removed. *n gets the new count (0 when it
 * was removed or never existed), *puntil its expiry (may be NULL). */
apr_status_t oas_tally_incr(oas_tally_t *t, const unsigned char d[OAS_SHA256_LEN],
                            apr_int64_t delta, apr_int64_t now, apr_int64_t until,
                            apr_int64_t *n, apr_int64_t *puntil);

/** The counter d by a read alone: *n and *until, or APR_NOTFOUND. */
apr_status_t oas_tally_peek(oas_tally_t *t, const unsigned char d[OAS_SHA256_LEN],
                            apr_int64_t now, apr_int64_t *n, apr_int64_t *until);

/** Marks d as used until `until`: APR_SUCCESS the first time within its window, APR_EEXIST
 * afterwards (in every thread and process), APR_ENOSPC when both its groups are full of
 * live markers. */
apr_status_t oas_tally_claim(oas_tally_t *t, const unsigned char d[OAS_SHA256_LEN],
                             apr_int64_t now, apr_int64_t until);

/** Forgets d (counter or marker); APR_NOTFOUND when there was none. */
apr_status_t oas_tally_drop(oas_tally_t *t, const unsigned char d[OAS_SHA256_LEN],
                            apr_int64_t now);

/** Slots in all. */
apr_uint32_t oas_tally_slots(const oas_tally_t *t);

/** The figures of oas_tally_stats_t but live and best_effort (0): no walk, for every scrape. */
void oas_tally_counters(const oas_tally_t *t, oas_tally_stats_t *s);

/** The figures of oas_tally_stats_t (walks the table: server-status only). */
void oas_tally_stats(const oas_tally_t *t, apr_int64_t now, oas_tally_stats_t *s);

/** A store (oas_store.h) over the tally, allocated in p, for the engine's counters and
 * single-use markers: incr, get (a counter, as "count expires" text, as the store's own
 * counters read), del, put_new (markers: an empty value only). put and take are not
 * supported (APR_ENOTIMPL). Events (note) go to `notes` (may be NULL): the store whose
 * server-status figures they belong to. */
oas_store_t *oas_tally_store(oas_tally_t *t, apr_pool_t *p, oas_store_t *notes);

#endif
