/* mod_oauth_as: the database store behind oas_store.h (STYLE.md C16).
 * One table of (digest, value, expiry) rows; every operation is one statement, so the
 * database alone makes take() single-use across processes and hosts. */
#include <apr_atomic.h>
#include <apr_base64.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

#include "oas_directives.h"
#include "oas_log.h"
#include "oas_store_dbd.h"
#include "oas_store_dbd_sql.h"
#include "oas_util.h"

/* ---- SQL ---- */

/* c is the record's class (oas_store_ns_class: 0 live, 1 best-effort): the trim below bounds
 * the best-effort rows. n is a counter's count (incr); such a row has v = 'n'. */
const oas_dbd_stmt_t oas_dbd_statements[] = {
    {"oauth_as_put", "INSERT INTO " T " (k, v, exp, c) VALUES (%s, %s, " TM ", " TC ") "
                     "ON CONFLICT (k) DO UPDATE SET v = excluded.v, exp = excluded.exp, "
                     "c = excluded.c, n = 0"},
    /* writes only over a missing or expired row: nrows 0 means a live one exists */
    {"oauth_as_put_new", "INSERT INTO " T " (k, v, exp, c) VALUES (%s, %s, " TM ", " TC ") "
                         "ON CONFLICT (k) DO UPDATE SET v = excluded.v, exp = excluded.exp, "
                         "c = excluded.c, n = 0 WHERE " T ".exp <= " TM},
    {"oauth_as_get", "SELECT v, n, exp FROM " T " WHERE k = %s AND exp > " TM},
    /* the commit point of codes and request_uris: read and delete in one statement */
    {"oauth_as_take", "DELETE FROM " T " WHERE k = %s AND exp > " TM " RETURNING v, n, exp"},
    {"oauth_as_del", "DELETE FROM " T " WHERE k = %s AND exp > " TM},
    {"oauth_as_purge", "DELETE FROM " T " WHERE exp <= " TM},
    /* one statement, no read before the write: a missing, expired or non-counter row starts
     * at delta with the given expiry, a live counter adds delta and keeps its own */
    {"oauth_as_incr", "INSERT INTO " T " (k, v, exp, c, n) VALUES (%s, 'n', " TM ", " TC ", " TM
                      ") ON CONFLICT (k) DO UPDATE SET "
                      "n = CASE WHEN " T ".exp <= " TM " OR " T ".v <> 'n' THEN excluded.n "
                      "ELSE " T ".n + excluded.n END, "
                      "exp = CASE WHEN " T ".exp <= " TM " OR " T ".v <> 'n' THEN excluded.exp "
                      "ELSE " T ".exp END, v = 'n', c = excluded.c RETURNING n, exp"},
    /* Bounds the best-effort rows to the cap (the parameter): those beyond it give way, the
     * soonest to expire first (in one namespace the oldest; every best-effort record has a
     * short fixed lifetime). Ties broken by k: expiries in whole seconds (the counters') tie
     * by the thousand under a flood, and deleting every tie would wipe the newest second's
     * rows too. Runs on the (c, exp, k) index; a table under the cap has no row at the
     * offset (NULL: nothing is deleted). Row values: SQLite >= 3.15, PostgreSQL. */
    {"oauth_as_trim", TRIM_SQL TM ")"},
    {NULL, NULL}};

enum { S_PUT, S_PUT_NEW, S_GET, S_TAKE, S_DEL, S_PURGE, S_INCR, S_TRIM, S_COUNT };

typedef struct {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    apr_dbd_prepared_t *stmt[S_COUNT];
    oas_dbd_purge_t *purge;
    void *log; /* log baton (oas_log.h) */
    oas_dbd_recover_fn *recover;
    void *recover_baton;
    apr_pool_t *p; /* the store's: a failure's message */
    apr_hash_t *prepared;
    int verified; /* a statement succeeded on the connection through this store */
    oas_dbd_stats_t *stats; /* or NULL */
    apr_int64_t cap;        /* best-effort rows kept (0: unbounded) */
    int *commit_mode; /* PostgreSQL: the session's synchronous_commit, kept with the pooled
                       * connection (COMMIT_*); NULL: the database's own setting throughout */
    apr_time_t *seen; /* when a statement last succeeded on the pooled connection, or NULL */
} dbd_ctx_t;

/* A connection that answered this recently needs no probe (below): a busy server's pooled
 * connections are never idle that long, so the probe costs a round trip only after a pause,
 * when a database restart may have broken the connection unseen. */
#define PROBE_AFTER_IDLE apr_time_from_sec(1)

/* A statement succeeded on the connection. */
static void verified(dbd_ctx_t *c)
{
    c->verified = 1;
    if (c->seen)
        *c->seen = apr_time_now();
}

enum { COMMIT_UNKNOWN = 0, COMMIT_DURABLE, COMMIT_ASYNC };

/* One statement about to run (every apr_dbd call below is one round trip). */
static void counted(dbd_ctx_t *c)
{
    if (c->stats)
        apr_atomic_add64(&c->stats->statements, 1);
}

static void dbd_note(oas_store_t *st, int event)
{
    dbd_ctx_t *c = st->ctx;

    if (c->stats && event >= 0 && event < OAS_STORE_EV_COUNT)
        apr_atomic_add64(&c->stats->ev[event], 1);
}

/* ---- helpers ---- */

/* The driver's message about rc, its first line only: PostgreSQL's DETAIL and CONTEXT lines
 * may quote a row or a statement's parameters (a stored record), which must not reach a log;
 * the first line names the failure. */
static const char *db_message(dbd_ctx_t *c, int rc)
{
    const char *msg = apr_dbd_error(c->driver, c->handle, rc);

    return msg ? apr_pstrmemdup(c->p, msg, strcspn(msg, "\r\n")) : "no message";
}

/* A database out of room (SQLite's SQLITE_FULL, PostgreSQL's disk_full): the store is full,
 * as a shared-memory store whose live records fill it. */
static int db_full(const char *msg)
{
    return strstr(msg, "disk is full") || strstr(msg, "No space left on device") ||
           strstr(msg, "could not extend file");
}

static apr_status_t db_fail(dbd_ctx_t *c, const char *op, int rc)
{
    const char *msg = db_message(c, rc);

    oas_log(OAS_LOG_MARK, OAS_LOG_ERR, 0, c->log, OAS_LOGNO(00202)
            OAS_DIR_STORE " dbd: %s failed in the database (%d): %s", op, rc, msg);
    if (!db_full(msg))
        return APR_EGENERAL;
    if (c->stats)
        apr_atomic_add64(&c->stats->ev[OAS_STORE_EV_FULL], 1);
    return APR_ENOSPC;
}

/* Lets the glue repair the connection after op failed, then reloads our statements from
 * the prepared hash (they are new objects after a re-prepare). 1 when they may run again. */
static int recover(dbd_ctx_t *c, const char *op, int rc)
{
    int i;

    if (!c->recover ||
        c->recover(c->recover_baton, op, rc, db_message(c, rc)) != APR_SUCCESS)
        return 0;
    for (i = 0; i < S_COUNT; i++) {
        apr_dbd_prepared_t *stmt =
            apr_hash_get(c->prepared, oas_dbd_statements[i].label, APR_HASH_KEY_STRING);
        if (!stmt)
            return 0;
        c->stmt[i] = stmt;
    }
    return 1;
}

/* Before a statement that is never retried (take, put_new, del): when nothing has run yet
 * on this connection for this store, a harmless prepared select proves it (and, failing,
 * repairs it). Why not simply retry those statements like the others: a failure reported
 * by the driver does not prove the statement did not run — the server may have committed
 * a DELETE … RETURNING and lost the connection before the rows reached us; a second try
 * would then answer "no such code" for a code this very request consumed, and a put_new
 * would find its own row (EEXIST). The commonest failure, a pooled connection whose
 * server went away while it was idle (a database restart), surfaces here on the probe
 * instead, which is safe to repeat. Failures after the probe are real ones: 503. */
static void probe(dbd_ctx_t *c, apr_pool_t *p)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int rc;

    if (!c->recover || c->verified)
        return;
    if (c->seen && *c->seen && apr_time_now() - *c->seen < PROBE_AFTER_IDLE) {
        c->verified = 1;
        return;
    }
    /* k is 64 hex digits in every row: the empty key matches none */
    counted(c);
    rc = apr_dbd_pvselect(c->driver, p, c->handle, &res, c->stmt[S_GET], 1, "", "0", NULL);
    if (rc == 0) {
        while (apr_dbd_get_row(c->driver, p, res, &row, -1) == 0)
            ;
        verified(c);
    }
    else if (recover(c, "probe", rc))
        verified(c);
}

/* PostgreSQL: the session's synchronous_commit for the records of kind want. */
static int set_commit(dbd_ctx_t *c, int want)
{
    int nrows = 0;
    int rc;

    counted(c);
    rc = apr_dbd_query(c->driver, c->handle, &nrows,
                       want == COMMIT_DURABLE ? "SET synchronous_commit TO on"
                                              : "SET synchronous_commit TO off");
    *c->commit_mode = rc == 0 ? want : COMMIT_UNKNOWN;
    return rc;
}

/* Before a write of namespace ns: the probe (above), then, on PostgreSQL, the session is
 * set to commit durably only what must survive a database crash (oas_store_ns_durable): a
 * commit that waits for the disk costs more than the rest of a statement, and a flow writes
 * about ten short-lived records. The setting stays with the pooled connection, so the SET
 * runs only when the kind of record changes (with refresh tokens, twice a flow). A SET that
 * fails leaves the mode unknown (set again next time); the write then reports the failure. */
static void before_write(dbd_ctx_t *c, apr_pool_t *p, int ns)
{
    int want = oas_store_ns_durable(ns) ? COMMIT_DURABLE : COMMIT_ASYNC;

    probe(c, p);
    if (c->commit_mode && *c->commit_mode != want)
        set_commit(c, want);
}

/* An idempotent statement (put, get, purge): rerun once after a repaired connection. */
static int pvquery_retry(dbd_ctx_t *c, apr_pool_t *p, const char *op, int *nrows, int s,
                         const char *a1, const char *a2, const char *a3, const char *a4)
{
    int rc;

    counted(c);
    rc = apr_dbd_pvquery(c->driver, p, c->handle, nrows, c->stmt[s], a1, a2, a3, a4, NULL);
    if (rc != 0 && recover(c, op, rc)) {
        counted(c);
        rc = apr_dbd_pvquery(c->driver, p, c->handle, nrows, c->stmt[s], a1, a2, a3, a4, NULL);
    }
    if (rc == 0)
        verified(c);
    return rc;
}

static const char *row_key(apr_pool_t *p, int ns, const char *key, apr_size_t klen)
{
    unsigned char d[OAS_SHA256_LEN];
    char *buf = apr_palloc(p, klen + 1);

    buf[0] = (char)ns;
    memcpy(buf + 1, key, klen);
    oas_sha256(d, buf, klen + 1);
    return oas_hex(p, d, sizeof(d));
}

static const char *encode_value(apr_pool_t *p, const void *val, apr_size_t vlen)
{
    char *out;

    if (oas_is_clean_utf8(val, vlen) && !memchr(val, '\0', vlen)) {
        out = apr_palloc(p, vlen + 2);
        out[0] = 't';
        memcpy(out + 1, val, vlen);
        out[vlen + 1] = '\0';
        return out;
    }
    out = apr_palloc(p, apr_base64_encode_len((int)vlen) + 1);
    out[0] = 'b';
    apr_base64_encode_binary(out + 1, val, (int)vlen);
    return out;
}

/* s: the v column; count, exp: the n and exp columns (a counter's value is read as the text
 * "count expires" that oas_store_incr's fallback stores). */
static apr_status_t decode_value(char **pval, apr_size_t *plen, apr_pool_t *p, const char *s,
                                 const char *count, const char *exp)
{
    apr_size_t n;
    char *out;

    if (!s || (s[0] != 't' && s[0] != 'b' && s[0] != 'n'))
        return APR_EGENERAL; /* not a row we wrote */
    if (s[0] == 'n') {
        out = apr_pstrcat(p, count ? count : "0", " ", exp ? exp : "0", NULL);
        n = strlen(out);
    }
    else if (s[0] == 't') {
        n = strlen(s + 1);
        out = apr_pstrmemdup(p, s + 1, n);
    }
    else {
        out = apr_palloc(p, apr_base64_decode_len(s + 1) + 1);
        n = (apr_size_t)apr_base64_decode_binary((unsigned char *)out, s + 1);
        out[n] = '\0';
    }
    if (pval)
        *pval = out;
    if (plen)
        *plen = n;
    return APR_SUCCESS;
}

static const char *time_arg(apr_pool_t *p, apr_time_t t)
{
    return apr_psprintf(p, "%" APR_TIME_T_FMT, t);
}

static apr_status_t check_args(oas_store_t *st, apr_pool_t *p, int ns, const char *key)
{
    return (st && p && key && ns > 0 && ns < 256) ? APR_SUCCESS : APR_EINVAL;
}

/* Runs the purge when the per-process interval has passed; one thread wins the CAS. */
static void maybe_purge(oas_store_t *st, apr_pool_t *p)
{
    dbd_ctx_t *c = st->ctx;
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_uint32_t last;

    if (!c->purge || c->purge->off)
        return;
    last = apr_atomic_read32(&c->purge->last);
    if (now - last < (apr_uint32_t)apr_time_sec(OAS_DBD_PURGE_INTERVAL) ||
        apr_atomic_cas32(&c->purge->last, now, last) != last)
        return;
    oas_dbd_store_purge(NULL, st, p);
}

/* After a best-effort row was written: every cap / 8 of them in this process, trim. A trim
 * that fails is logged and left to the next one: the write itself succeeded. */
static void wrote_best_effort(oas_store_t *st, apr_pool_t *p, int ns)
{
    dbd_ctx_t *c = st->ctx;
    apr_uint32_t step;

    if (c->cap <= 0 || !c->purge || oas_store_ns_class(ns) != OAS_STORE_BEST_EFFORT)
        return;
    step = (apr_uint32_t)(c->cap / 8 > APR_INT32_MAX ? APR_INT32_MAX : c->cap / 8);
    if (step < OAS_DBD_TRIM_MIN_STEP)
        step = OAS_DBD_TRIM_MIN_STEP;
    if ((apr_atomic_inc32(&c->purge->best_effort) + 1) % step == 0)
        oas_dbd_store_trim(NULL, st, p);
}

/* A one-row select (or DELETE … RETURNING): the row loop always runs to -1 (P16). Only an
 * idempotent select is retried (retry), see probe(). */
static apr_status_t select_one(char **pval, apr_size_t *plen, dbd_ctx_t *c, apr_pool_t *p,
                               const char *op, int s, int retry, const char *k,
                               const char *now)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *v = NULL, *count = NULL, *exp = NULL;
    int rc;
    int nrows = 0;

    /* random access: the whole result is fetched here, so a lost connection is an error
     * now; apr_dbd_pgsql's sequential mode reports it as "no rows" (a wrong NOTFOUND) */
    counted(c);
    rc = apr_dbd_pvselect(c->driver, p, c->handle, &res, c->stmt[s], 1, k, now, NULL);
    if (rc != 0 && retry && recover(c, op, rc)) {
        counted(c);
        rc = apr_dbd_pvselect(c->driver, p, c->handle, &res, c->stmt[s], 1, k, now, NULL);
    }
    if (rc != 0)
        return db_fail(c, op, rc);
    verified(c);
    while ((rc = apr_dbd_get_row(c->driver, p, res, &row, -1)) == 0) {
        if (nrows++ == 0) {
            v = apr_pstrdup(p, apr_dbd_get_entry(c->driver, row, 0));
            count = apr_pstrdup(p, apr_dbd_get_entry(c->driver, row, 1));
            exp = apr_pstrdup(p, apr_dbd_get_entry(c->driver, row, 2));
        }
    }
    if (rc != -1)
        return db_fail(c, op, rc);
    if (nrows == 0)
        return APR_NOTFOUND;
    return decode_value(pval, plen, p, v, count, exp);
}

/* ---- the oas_store.h operations ---- */

static apr_status_t write_row(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                              apr_size_t klen, const void *val, apr_size_t vlen,
                              apr_time_t expires, int only_new)
{
    dbd_ctx_t *c;
    const char *k, *v, *e, *cls;
    apr_status_t rv;
    int nrows = 0;
    int rc;

    if ((rv = check_args(st, p, ns, key)) != APR_SUCCESS || (!val && vlen))
        return APR_EINVAL;
    if (vlen > (apr_size_t)APR_INT32_MAX / 2)
        return APR_ENOSPC;
    c = st->ctx;
    maybe_purge(st, p);
    k = row_key(p, ns, key, klen);
    v = encode_value(p, val ? val : "", vlen);
    e = time_arg(p, expires);
    cls = apr_itoa(p, oas_store_ns_class(ns));
    before_write(c, p, ns);
    if (only_new) {
        counted(c);
        rc = apr_dbd_pvquery(c->driver, p, c->handle, &nrows, c->stmt[S_PUT_NEW], k, v, e, cls,
                             time_arg(p, apr_time_now()), NULL);
        if (rc == 0)
            verified(c);
    }
    else
        rc = pvquery_retry(c, p, "put", &nrows, S_PUT, k, v, e, cls);
    if (rc != 0)
        return db_fail(c, only_new ? "put_new" : "put", rc);
    if (only_new && nrows != 1)
        return APR_EEXIST;
    wrote_best_effort(st, p, ns);
    return APR_SUCCESS;
}

static apr_status_t dbd_put(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                            apr_size_t klen, const void *val, apr_size_t vlen, apr_time_t expires)
{
    return write_row(st, p, ns, key, klen, val, vlen, expires, 0);
}

static apr_status_t dbd_put_new(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                                apr_size_t klen, const void *val, apr_size_t vlen,
                                apr_time_t expires)
{
    return write_row(st, p, ns, key, klen, val, vlen, expires, 1);
}

static apr_status_t dbd_get(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                            apr_size_t klen, char **pval, apr_size_t *plen)
{
    dbd_ctx_t *c;
    apr_status_t rv;

    if ((rv = check_args(st, p, ns, key)) != APR_SUCCESS)
        return rv;
    c = st->ctx;
    return select_one(pval, plen, c, p, "get", S_GET, 1, row_key(p, ns, key, klen),
                      time_arg(p, apr_time_now()));
}

static apr_status_t dbd_take(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                             apr_size_t klen, char **pval, apr_size_t *plen)
{
    dbd_ctx_t *c;
    apr_status_t rv;

    if ((rv = check_args(st, p, ns, key)) != APR_SUCCESS)
        return rv;
    c = st->ctx;
    before_write(c, p, ns);
    return select_one(pval, plen, c, p, "take", S_TAKE, 0, row_key(p, ns, key, klen),
                      time_arg(p, apr_time_now()));
}

static apr_status_t dbd_del(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                            apr_size_t klen)
{
    dbd_ctx_t *c;
    apr_status_t rv;
    int nrows = 0;
    int rc;

    if ((rv = check_args(st, p, ns, key)) != APR_SUCCESS)
        return rv;
    c = st->ctx;
    before_write(c, p, ns);
    counted(c);
    rc = apr_dbd_pvquery(c->driver, p, c->handle, &nrows, c->stmt[S_DEL],
                         row_key(p, ns, key, klen), time_arg(p, apr_time_now()), NULL);
    if (rc != 0)
        return db_fail(c, "del", rc);
    verified(c);
    return nrows > 0 ? APR_SUCCESS : APR_NOTFOUND;
}

/* One UPSERT … RETURNING: atomic across processes and hosts, no read before the write. Not
 * retried after a repair (a failure may hide a commit: the count would be added twice). */
static apr_status_t dbd_incr(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                             apr_size_t klen, apr_int64_t delta, apr_time_t expires,
                             apr_int64_t *pcount, apr_time_t *pexpires)
{
    dbd_ctx_t *c;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *now, *count = NULL, *exp = NULL;
    apr_status_t rv;
    int rc;

    if ((rv = check_args(st, p, ns, key)) != APR_SUCCESS || !pcount)
        return APR_EINVAL;
    c = st->ctx;
    maybe_purge(st, p);
    before_write(c, p, ns);
    now = time_arg(p, apr_time_now());
    counted(c);
    rc = apr_dbd_pvselect(c->driver, p, c->handle, &res, c->stmt[S_INCR], 1,
                          row_key(p, ns, key, klen), time_arg(p, expires),
                          apr_itoa(p, oas_store_ns_class(ns)),
                          apr_psprintf(p, "%" APR_INT64_T_FMT, delta), now, now, NULL);
    if (rc != 0)
        return db_fail(c, "incr", rc);
    verified(c);
    while ((rc = apr_dbd_get_row(c->driver, p, res, &row, -1)) == 0) {
        if (!count) {
            count = apr_pstrdup(p, apr_dbd_get_entry(c->driver, row, 0));
            exp = apr_pstrdup(p, apr_dbd_get_entry(c->driver, row, 1));
        }
    }
    if (rc != -1)
        return db_fail(c, "incr", rc);
    if (!count || !exp)
        return APR_EGENERAL;
    *pcount = apr_atoi64(count);
    if (pexpires)
        *pexpires = (apr_time_t)apr_atoi64(exp);
    wrote_best_effort(st, p, ns);
    return APR_SUCCESS;
}

/* ---- construction, purge, schema ---- */

apr_status_t oas_dbd_store_make(oas_store_t **pst, apr_pool_t *p, const apr_dbd_driver_t *driver,
                                apr_dbd_t *handle, apr_hash_t *prepared, oas_dbd_purge_t *purge,
                                void *log)
{
    oas_store_t *st;
    dbd_ctx_t *c;
    int i;

    *pst = NULL;
    if (!driver || !handle || !prepared)
        return APR_EINVAL;
    c = apr_pcalloc(p, sizeof(*c));
    for (i = 0; i < S_COUNT; i++) {
        c->stmt[i] = apr_hash_get(prepared, oas_dbd_statements[i].label, APR_HASH_KEY_STRING);
        if (!c->stmt[i])
            return APR_EINVAL; /* registered too late, or the prepare failed */
    }
    c->driver = driver;
    c->handle = handle;
    c->prepared = prepared;
    c->purge = purge;
    c->log = log;
    c->p = p;
    st = apr_pcalloc(p, sizeof(*st));
    st->name = "dbd";
    st->ctx = c;
    st->put = dbd_put;
    st->put_new = dbd_put_new;
    st->get = dbd_get;
    st->take = dbd_take;
    st->del = dbd_del;
    st->incr = dbd_incr;
    st->note = dbd_note;
    *pst = st;
    return APR_SUCCESS;
}

void oas_dbd_store_set_commit_mode(oas_store_t *st, int *mode)
{
    ((dbd_ctx_t *)st->ctx)->commit_mode = mode;
}

void oas_dbd_store_set_conn_seen(oas_store_t *st, apr_time_t *seen)
{
    ((dbd_ctx_t *)st->ctx)->seen = seen;
}

void oas_dbd_store_set_recover(oas_store_t *st, oas_dbd_recover_fn *fn, void *baton)
{
    dbd_ctx_t *c = st->ctx;

    c->recover = fn;
    c->recover_baton = baton;
}

apr_status_t oas_dbd_store_purge(int *pn, oas_store_t *st, apr_pool_t *p)
{
    dbd_ctx_t *c = st->ctx;
    int nrows = 0;
    int rc;

    rc = pvquery_retry(c, p, "purge", &nrows, S_PURGE, time_arg(p, apr_time_now()), NULL, NULL,
                       NULL);
    if (pn)
        *pn = nrows;
    if (rc)
        return db_fail(c, "purge", rc);
    return c->cap > 0 ? oas_dbd_store_trim(NULL, st, p) : APR_SUCCESS;
}

void oas_dbd_store_set_limits(oas_store_t *st, oas_dbd_stats_t *stats, apr_int64_t cap)
{
    dbd_ctx_t *c = st->ctx;

    c->stats = stats;
    c->cap = cap > 0 ? cap : 0;
}

/* The rows deleted by a trim, counted as evictions. */
static void note_evicted(oas_dbd_stats_t *stats, int n)
{
    if (stats && n > 0)
        apr_atomic_add64(&stats->ev[OAS_STORE_EV_EVICTED], (apr_uint64_t)n);
}

apr_status_t oas_dbd_store_trim(int *pn, oas_store_t *st, apr_pool_t *p)
{
    dbd_ctx_t *c = st->ctx;
    int nrows = 0;
    int rc;

    if (pn)
        *pn = 0;
    if (c->cap <= 0)
        return APR_SUCCESS;
    rc = pvquery_retry(c, p, "trim", &nrows, S_TRIM, apr_ltoa(p, (long)c->cap), NULL, NULL, NULL);
    if (rc)
        return db_fail(c, "trim", rc);
    note_evicted(c->stats, nrows);
    if (pn)
        *pn = nrows;
    return APR_SUCCESS;
}
