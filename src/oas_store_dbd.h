/* mod_oauth_as: the database store behind oas_store.h (STYLE.md C16), over any apr_dbd
 * handle (mod_dbd's pooled connections in the module, an in-memory sqlite3 in unit tests).
 * Core file: APR-util only, no httpd headers. */
#ifndef OAS_STORE_DBD_H
#define OAS_STORE_DBD_H

#include <apr_dbd.h>
#include <apr_hash.h>

#include "oas_store.h"

/* Bumped when the tables change; oauth_as_schema holds the version a database has.
 * 2: the class (c) and counter (n) columns; a version-1 database is upgraded in place. */
#define OAS_DBD_SCHEMA_VERSION 2

/* Expired rows are purged by one statement, at most this often per process. */
#define OAS_DBD_PURGE_INTERVAL apr_time_from_sec(60)

/* SQLite: how long one sqlite3_step waits for another connection's lock. apr_dbd_sqlite3
 * itself steps again after SQLITE_BUSY, 16 tries with 100 ms sleeps, so a statement waits
 * at most about 16 x (busy_timeout + 100 ms): 250 ms gives the ~5 s of waiting meant here
 * (busy_timeout = 5000 made it 82 s, far beyond httpd's Timeout and any client's). */
#define OAS_SQLITE_BUSY_TIMEOUT "PRAGMA busy_timeout = 250"

/* The statements the store runs, each under an `oauth_as_*` label. The glue registers
 * them with ap_dbd_prepare() at config time; tests prepare them with apr_dbd_prepare(). */
typedef struct {
    const char *label;
    const char *sql; /* portable: %s parameters, valid for sqlite3 (>= 3.35) and pgsql */
} oas_dbd_stmt_t;

/** The statements, terminated by { NULL, NULL }. */
extern const oas_dbd_stmt_t oas_dbd_statements[];

/* Per-process purge state, shared by every store built in the process; lock-free. */
typedef struct {
    volatile apr_uint32_t last; /* apr_time_sec() of the last purge (low 32 bits) */
    int off;                    /* a background thread purges: requests never do */
    volatile apr_uint32_t best_effort; /* best-effort rows written (the trim's cadence) */
} oas_dbd_purge_t;

/* What the stores count, for server-status and the benchmark: the glue keeps one in memory
 * shared by every process of the httpd (per process when it cannot). Lock-free. */
typedef struct {
    volatile apr_uint64_t statements; /* statements run on the database (each a round trip) */
    volatile apr_uint64_t ev[OAS_STORE_EV_COUNT]; /* oas_store_note() events */
} oas_dbd_stats_t;

/* Best-effort rows (replay tombstones, counters, reuse markers) are bounded by a cap: beyond
 * it the soonest to expire give way. A store trims each time its process has written
 * max(cap / 8, OAS_DBD_TRIM_MIN_STEP) of them (one statement, so a small cap does not cost a
 * trim per write), and every purge trims too; so the table holds at most about
 * cap + processes x max(cap / 8, 16) best-effort rows, plus the live rows, which the quotas
 * and their expiry bound. */
#define OAS_DBD_TRIM_MIN_STEP 16

/* What a best-effort row costs the database, for a cap given in bytes: its 64-digit key, a
 * short value, three integers and its entries in two indexes. */
#define OAS_DBD_ROW_BYTES 256

/* Repairs the connection after statement op failed with rc/msg (e.g. reconnects it and
 * prepares every oas_dbd_statements label again into the `prepared` hash given to
 * oas_dbd_store_make). msg: the first line of apr_dbd_error(), which never quotes a
 * statement's parameters (fit for a log).
 * @return APR_SUCCESS when the statements can be run again on the same handle */
typedef apr_status_t oas_dbd_recover_fn(void *baton, const char *op, int rc, const char *msg);

/** Create the tables if they are missing and check the schema version (idempotent; safe to
 * race with other processes and hosts: a losing CREATE is retried as a version check).
 * @param perr  on failure, what went wrong (in p)
 * @return APR_SUCCESS; APR_EGENERAL when the database refuses; APR_EINVAL when the
 *         schema is newer than this module (a downgrade) */
apr_status_t oas_dbd_schema_ensure(const char **perr, apr_pool_t *p,
                                   const apr_dbd_driver_t *driver, apr_dbd_t *handle);

/** A store over one connection. Everything is allocated in p, which must not outlive the
 * connection (for mod_dbd: r->pool, STYLE.md P9).
 * @param prepared  label -> apr_dbd_prepared_t *, holding every oas_dbd_statements label
 * @param purge     per-process purge state, or NULL to never purge
 * @param log       log baton (oas_log.h: the glue's request_rec, or NULL): each failed
 *                  database call is logged once, at error level, with the driver's message
 * @return APR_EINVAL when a statement is missing from prepared */
apr_status_t oas_dbd_store_make(oas_store_t **pst, apr_pool_t *p, const apr_dbd_driver_t *driver,
                                apr_dbd_t *handle, apr_hash_t *prepared, oas_dbd_purge_t *purge,
                                void *log);

/** Let the store repair its connection within the request (fn is called with baton). With it:
 * a failed get/put/purge (idempotent) is retried once after a successful recovery; a
 * take/put_new/del (not idempotent: a failure may hide a commit) is never retried, and is
 * instead preceded, when nothing has succeeded yet on the connection in this store, by a
 * harmless probe statement that triggers the recovery (unless the connection answered within
 * the last second: oas_dbd_store_set_conn_seen). */
void oas_dbd_store_set_recover(oas_store_t *st, oas_dbd_recover_fn *recover, void *baton);

/** PostgreSQL: let the store set the session's synchronous_commit per record kind (durable
 * only for oas_store_ns_durable namespaces), remembering it in *mode, which lives as long as
 * the pooled connection (0 at its start). Without it every commit is the database's default.
 * Call after oas_dbd_store_set_recover. */
void oas_dbd_store_set_commit_mode(oas_store_t *st, int *mode);

/** Let the store remember in *seen (which lives as long as the pooled connection, 0 at its
 * start) when a statement last succeeded on the connection: one that answered within the last
 * second needs no probe before a take/put_new/del. Call after oas_dbd_store_set_recover. */
void oas_dbd_store_set_conn_seen(oas_store_t *st, apr_time_t *seen);

/** Count statements and events in stats (may be NULL: not counted), and bound the
 * best-effort rows to cap (0: unbounded). */
void oas_dbd_store_set_limits(oas_store_t *st, oas_dbd_stats_t *stats, apr_int64_t cap);

/** Trim the best-effort rows to the store's cap now (see OAS_DBD_TRIM_MIN_STEP); counts the
 * rows deleted as OAS_STORE_EV_EVICTED. @param pn rows deleted (may be NULL) */
apr_status_t oas_dbd_store_trim(int *pn, oas_store_t *st, apr_pool_t *p);

/** Delete every expired row now (also done by the store, see OAS_DBD_PURGE_INTERVAL).
 * @param pn  rows deleted (may be NULL) */
apr_status_t oas_dbd_store_purge(int *pn, oas_store_t *st, apr_pool_t *p);

/** Delete every expired row on a connection of one's own (the background purge thread),
 * with a plain statement: no prepared statement is needed; then, when cap > 0, trim the
 * best-effort rows to cap (the evicted rows added to *ptrimmed, which may be NULL). */
apr_status_t oas_dbd_purge_expired(int *pn, int *ptrimmed, apr_int64_t cap, apr_pool_t *p,
                                   const apr_dbd_driver_t *driver, apr_dbd_t *handle);

/* What the table holds, by class (OAS_STORE_LIVE, OAS_STORE_BEST_EFFORT), for server-status. */
typedef struct {
    apr_int64_t rows[OAS_STORE_CLASSES];
    apr_int64_t bytes[OAS_STORE_CLASSES]; /* values plus the fixed columns, not the indexes */
} oas_dbd_usage_t;

/** Rows and bytes by class, in one (unprepared, whole-table) statement: for server-status,
 * not for requests. */
apr_status_t oas_dbd_usage(oas_dbd_usage_t *u, apr_pool_t *p, const apr_dbd_driver_t *driver,
                           apr_dbd_t *handle);

#endif
