/* Unit tests: the database store (oas_store_dbd.c) through the oas_store.h interface, on
 * sqlite3 (in memory, and a file shared by threads racing for one take). */
#include "unit.h"

#include <stdlib.h>
#include <unistd.h>

#include <apr_atomic.h>
#include <apr_dbd.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "oas_log.h"
#include "oas_store_dbd.h"

#define NS OAS_NS_TEST
#define HOUR apr_time_from_sec(3600)

#include "store_common.h"

typedef struct {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    apr_hash_t *prepared;
} conn_t;

/* The store logs each failed call through the core's log bridge (oas_log.h): this test's
 * bridge counts the lines, and those that quote a key or a value given to the store. */
static volatile apr_uint32_t errors_seen, lines_leaking;
static int log_baton; /* the store's log baton: stands in for the glue's request_rec */
#define SECRET_KEY "k-not-for-the-log"
#define SECRET_VALUE "v-not-for-the-log"

/* Registered before any statement is prepared, so it runs after their finalizers. */
static apr_status_t close_conn(void *data)
{
    conn_t *c = data;
    apr_dbd_close(c->driver, c->handle);
    return APR_SUCCESS;
}

static int log_everything(void *baton, int level)
{
    return 1;
}

/* Thread-safe (test_race_threads' stores log from their threads): counts, never asserts. */
static void count_line(const char *file, int line, int level, apr_status_t rv, void *baton,
                       const char *msg)
{
    if (baton == &log_baton && level == OAS_LOG_ERR && strncmp(msg, "OAS00202: ", 10) == 0)
        apr_atomic_inc32(&errors_seen);
    if (strstr(msg, SECRET_KEY) || strstr(msg, SECRET_VALUE) || strchr(msg, '\n'))
        apr_atomic_inc32(&lines_leaking);
}

/* Prepares every statement of the store anew into the hash c->prepared (made by the caller;
 * a store made on it sees the new ones); stops at the first failure and returns its code, 0
 * when all are prepared. */
static int prepare_all(conn_t *c, apr_pool_t *p)
{
    int i;
    int rc;

    for (i = 0; oas_dbd_statements[i].label; i++) {
        apr_dbd_prepared_t *stmt = NULL;
        rc = apr_dbd_prepare(c->driver, p, c->handle, oas_dbd_statements[i].sql,
                             oas_dbd_statements[i].label, &stmt);
        if (rc)
            return rc;
        apr_hash_set(c->prepared, oas_dbd_statements[i].label, APR_HASH_KEY_STRING, stmt);
    }
    return 0;
}

/* OAS_TEST_PGSQL="host=… dbname=…" (test_410 sets it): the tests of pg_tests[] run again on
 * that PostgreSQL database (emptied by each), instead of the SQLite ones: the same statements
 * must behave the same on both. */
static const char *pg_params;

/* A bare connection: to params (SQLite), or to the PostgreSQL database when testing it. */
static conn_t *open_conn(apr_pool_t *p, const char *params)
{
    conn_t *c = apr_pcalloc(p, sizeof(*c));

    assert_int_equal(apr_dbd_init(p), APR_SUCCESS);
    assert_int_equal(apr_dbd_get_driver(p, pg_params ? "pgsql" : "sqlite3", &c->driver),
                     APR_SUCCESS);
    assert_int_equal(apr_dbd_open(c->driver, p, pg_params ? pg_params : params, &c->handle),
                     APR_SUCCESS);
    apr_pool_cleanup_register(p, c, close_conn, apr_pool_cleanup_null);
    return c;
}

/* A connection with the schema and every statement prepared, like mod_dbd gives; on
 * PostgreSQL, on an emptied table. */
static conn_t *mkconn(apr_pool_t *p, const char *params)
{
    conn_t *c = open_conn(p, params);
    const char *err;
    int nrows;

    assert_int_equal(oas_dbd_schema_ensure(&err, p, c->driver, c->handle), APR_SUCCESS);
    if (pg_params)
        assert_int_equal(apr_dbd_query(c->driver, c->handle, &nrows,
                                       "DELETE FROM oauth_as_store"),
                         0);
    c->prepared = apr_hash_make(p);
    assert_int_equal(prepare_all(c, p), 0);
    return c;
}

static oas_store_t *mkstore(apr_pool_t *p, conn_t *c, oas_dbd_purge_t *purge)
{
    oas_store_t *st;
    assert_int_equal(oas_dbd_store_make(&st, p, c->driver, c->handle, c->prepared, purge,
                                        &log_baton),
                     APR_SUCCESS);
    return st;
}

static int count_rows(apr_pool_t *p, conn_t *c)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int n = -1;

    assert_int_equal(apr_dbd_select(c->driver, p, c->handle, &res,
                                    "SELECT COUNT(*) FROM oauth_as_store", 0),
                     0);
    while (apr_dbd_get_row(c->driver, p, res, &row, -1) == 0)
        n = atoi(apr_dbd_get_entry(c->driver, row, 0));
    return n;
}

static void test_basic(void **state)
{
    apr_pool_t *p = *state;
    oas_store_t *st = mkstore(p, mkconn(p, ":memory:"), NULL);
    apr_time_t exp = apr_time_now() + HOUR;

    assert_string_equal(st->name, "dbd");
    store_check_put_get(p, st, exp);
    store_check_take_del(p, st, exp);
    assert_int_equal(errors_seen, 0);
}

static void test_put_new(void **state)
{
    apr_pool_t *p = *state;

    store_check_put_new(p, mkstore(p, mkconn(p, ":memory:"), NULL));
}

static void test_namespaces(void **state)
{
    apr_pool_t *p = *state;

    store_check_namespaces(p, mkstore(p, mkconn(p, ":memory:"), NULL));
}

/* Expired rows are never returned, taken or deleted, and the purge removes them. */
static void test_expiry_and_purge(void **state)
{
    apr_pool_t *p = *state;
    conn_t *c = mkconn(p, ":memory:");
    oas_dbd_purge_t purge = {0};
    oas_store_t *st = mkstore(p, c, &purge);
    char *v;
    apr_size_t n;
    int gone;

    assert_int_equal(oas_store_put(st, p, NS, "past", "x", 1, apr_time_now() - 1), APR_SUCCESS);
    assert_true(purge.last != 0); /* the first write ran the purge and set the clock */
    assert_int_equal(oas_store_get(st, p, NS, "past", &v, &n), APR_NOTFOUND);
    assert_int_equal(oas_store_take(st, p, NS, "past", &v, &n), APR_NOTFOUND);
    assert_int_equal(oas_store_del(st, p, NS, "past"), APR_NOTFOUND);
    assert_int_equal(oas_store_put(st, p, NS, "soon", "x", 1, apr_time_now() + 1000), APR_SUCCESS);
    assert_int_equal(oas_store_put(st, p, NS, "live", "x", 1, apr_time_now() + HOUR),
                     APR_SUCCESS);
    apr_sleep(5000);
    assert_int_equal(oas_store_take(st, p, NS, "soon", &v, &n), APR_NOTFOUND);
    assert_int_equal(count_rows(p, c), 3); /* within the interval: not purged yet */
    assert_int_equal(oas_dbd_store_purge(&gone, st, p), APR_SUCCESS);
    assert_int_equal(gone, 2);
    assert_int_equal(count_rows(p, c), 1);
    purge.last = 0; /* the interval has passed: the next write purges by itself */
    assert_int_equal(oas_store_put(st, p, NS, "old2", "x", 1, apr_time_now() - 1), APR_SUCCESS);
    assert_int_equal(oas_store_put(st, p, NS, "new", "x", 1, apr_time_now() + HOUR), APR_SUCCESS);
    assert_int_equal(count_rows(p, c), 3);
    purge.last = 0;
    assert_int_equal(oas_store_put(st, p, NS, "new", "y", 1, apr_time_now() + HOUR), APR_SUCCESS);
    assert_int_equal(count_rows(p, c), 2);
}

/* Values are bytes: binary, NULs, invalid UTF-8 and large JSON round-trip exactly. */
static void test_values_round_trip(void **state)
{
    apr_pool_t *p = *state;
    oas_store_t *st = mkstore(p, mkconn(p, ":memory:"), NULL);
    apr_time_t exp = apr_time_now() + HOUR;
    apr_size_t sizes[] = {1, 2, 3, 127, 128, 129, 4096, 65536};
    unsigned char *big = apr_palloc(p, 65536);
    static const char json[] = "{\"sub\":\"al\xc3\xaf" "ce\",\"scope\":\"openid\",\"n\":1}";
    static const char nul[] = {'a', '\0', 'b'};
    char *v;
    apr_size_t n;
    size_t i;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        fill(big, sizes[i], (unsigned int)i);
        assert_int_equal(oas_store_put(st, p, NS, "bin", big, sizes[i], exp), APR_SUCCESS);
        assert_int_equal(oas_store_get(st, p, NS, "bin", &v, &n), APR_SUCCESS);
        assert_int_equal(n, sizes[i]);
        assert_memory_equal(v, big, sizes[i]);
        assert_int_equal(v[n], '\0');
    }
    assert_int_equal(oas_store_put(st, p, NS, "nul", nul, 3, exp), APR_SUCCESS);
    assert_int_equal(oas_store_take(st, p, NS, "nul", &v, &n), APR_SUCCESS);
    assert_int_equal(n, 3);
    assert_memory_equal(v, nul, 3);
    assert_int_equal(oas_store_put(st, p, NS, "json", json, strlen(json), exp), APR_SUCCESS);
    assert_int_equal(oas_store_take(st, p, NS, "json", &v, &n), APR_SUCCESS);
    assert_string_equal(v, json);
    /* a quote in a value is data, never SQL */
    assert_int_equal(oas_store_put(st, p, NS, "q'); DROP TABLE oauth_as_store; --", "it's", 4,
                     exp),
                     APR_SUCCESS);
    assert_int_equal(oas_store_get(st, p, NS, "q'); DROP TABLE oauth_as_store; --", &v, &n),
                     APR_SUCCESS);
    assert_string_equal(v, "it's");
}

/* Schema: idempotent, versioned, a newer database refused; missing statements refused. */
static void test_schema(void **state)
{
    apr_pool_t *p = *state;
    conn_t *c = mkconn(p, ":memory:");
    oas_store_t *st;
    const char *err;
    int nrows;

    assert_int_equal(oas_dbd_schema_ensure(&err, p, c->driver, c->handle), APR_SUCCESS);
    assert_null(err);
    assert_int_equal(apr_dbd_query(c->driver, c->handle, &nrows,
                                   "UPDATE oauth_as_schema SET version = 99"),
                     0);
    assert_int_equal(oas_dbd_schema_ensure(&err, p, c->driver, c->handle), APR_EINVAL);
    assert_non_null(strstr(err, "99"));
    apr_hash_set(c->prepared, "oauth_as_take", APR_HASH_KEY_STRING, NULL);
    assert_int_equal(oas_dbd_store_make(&st, p, c->driver, c->handle, c->prepared, NULL,
                                        &log_baton),
                     APR_EINVAL);
    assert_null(st);
}

/* The database fails under the store: an error, logged once per call (OAS00202, through the
 * bridge with the store's baton, quoting neither key nor value), never a crash. */
static void test_db_errors(void **state)
{
    apr_pool_t *p = *state;
    conn_t *c = mkconn(p, ":memory:");
    oas_store_t *st = mkstore(p, c, NULL);
    char *v;
    apr_size_t n;
    int nrows;

    errors_seen = lines_leaking = 0;
    assert_int_equal(apr_dbd_query(c->driver, c->handle, &nrows, "DROP TABLE oauth_as_store"), 0);
    assert_int_equal(oas_store_put(st, p, NS, SECRET_KEY, SECRET_VALUE, sizeof(SECRET_VALUE) - 1,
                                   apr_time_now() + HOUR),
                     APR_EGENERAL);
    assert_int_equal(oas_store_put_new(st, p, NS, SECRET_KEY, SECRET_VALUE,
                                       sizeof(SECRET_VALUE) - 1, apr_time_now() + HOUR),
                     APR_EGENERAL);
    assert_int_equal(oas_store_get(st, p, NS, SECRET_KEY, &v, &n), APR_EGENERAL);
    assert_int_equal(oas_store_take(st, p, NS, SECRET_KEY, &v, &n), APR_EGENERAL);
    assert_int_equal(oas_store_del(st, p, NS, SECRET_KEY), APR_EGENERAL);
    assert_int_equal(oas_dbd_store_purge(NULL, st, p), APR_EGENERAL);
    assert_int_equal(errors_seen, 6);
    assert_int_equal(lines_leaking, 0);
    errors_seen = 0;
}

/* ---- repairing the connection within a call (what the glue does for pgsql) ---- */

static int recoveries;
static int recover_ok;

/* Stands in for a reconnect: the table is back and the statements are prepared anew. */
static apr_status_t fake_recover(void *baton, const char *op, int rc, const char *msg)
{
    conn_t *c = baton;
    apr_pool_t *p = apr_hash_pool_get(c->prepared);
    int nrows;

    (void)op;
    (void)rc;
    assert_non_null(msg); /* the driver's, for the glue's log line */
    assert_null(strchr(msg, '\n'));
    recoveries++;
    if (!recover_ok)
        return APR_EGENERAL;
    if (apr_dbd_query(c->driver, c->handle, &nrows,
                      "CREATE TABLE IF NOT EXISTS oauth_as_store (k CHAR(64) PRIMARY KEY, "
                      "v TEXT NOT NULL, exp BIGINT NOT NULL, c INTEGER NOT NULL DEFAULT 0, "
                      "n BIGINT NOT NULL DEFAULT 0)"))
        return APR_EGENERAL;
    return prepare_all(c, p) ? APR_EGENERAL : APR_SUCCESS;
}

static oas_store_t *mkstore_recover(apr_pool_t *p, conn_t *c)
{
    oas_store_t *st;
    assert_int_equal(oas_dbd_store_make(&st, p, c->driver, c->handle, c->prepared, NULL,
                                        &log_baton),
                     APR_SUCCESS);
    oas_dbd_store_set_recover(st, fake_recover, c);
    return st;
}

static void drop(conn_t *c)
{
    int nrows;
    assert_int_equal(apr_dbd_query(c->driver, c->handle, &nrows, "DROP TABLE oauth_as_store"), 0);
}

/* get/put are retried once after a repair; take/put_new/del never are, but a store that has
 * not yet run anything probes first, so a connection broken while idle is repaired before. */
static void test_recover(void **state)
{
    apr_pool_t *p = *state;
    conn_t *c = mkconn(p, ":memory:");
    oas_store_t *st = mkstore_recover(p, c);
    char *v;
    apr_size_t n;

    errors_seen = recoveries = 0;
    recover_ok = 1;
    drop(c);
    assert_int_equal(oas_store_get(st, p, NS, "k", &v, &n), APR_NOTFOUND);
    assert_int_equal(recoveries, 1);
    drop(c);
    assert_int_equal(oas_store_put(st, p, NS, "k", "v", 1, apr_time_now() + HOUR), APR_SUCCESS);
    assert_int_equal(recoveries, 2);
    assert_int_equal(errors_seen, 0);
    /* the store has run statements: a failing take is an error, not retried */
    drop(c);
    assert_int_equal(oas_store_take(st, p, NS, "k", &v, &n), APR_EGENERAL);
    assert_int_equal(oas_store_del(st, p, NS, "k"), APR_EGENERAL);
    assert_int_equal(oas_store_put_new(st, p, NS, "k", "v", 1, apr_time_now() + HOUR),
                     APR_EGENERAL);
    assert_int_equal(recoveries, 2);
    assert_int_equal(errors_seen, 3);
    /* fresh stores (a new request): the probe fails and repairs; the statement runs once */
    st = mkstore_recover(p, c);
    assert_int_equal(oas_store_put_new(st, p, NS, "k", "v", 1, apr_time_now() + HOUR),
                     APR_SUCCESS);
    assert_int_equal(recoveries, 3);
    st = mkstore_recover(p, c);
    drop(c);
    assert_int_equal(oas_store_take(st, p, NS, "k", &v, &n), APR_NOTFOUND);
    assert_int_equal(recoveries, 4);
    st = mkstore_recover(p, c);
    drop(c);
    assert_int_equal(oas_store_del(st, p, NS, "k"), APR_NOTFOUND);
    assert_int_equal(recoveries, 5);
    /* a healthy connection is probed once per store, and never repaired */
    st = mkstore_recover(p, c);
    assert_int_equal(oas_store_put(st, p, NS, "t", "w", 1, apr_time_now() + HOUR), APR_SUCCESS);
    assert_int_equal(oas_store_take(st, p, NS, "t", &v, &n), APR_SUCCESS);
    assert_string_equal(v, "w");
    assert_int_equal(recoveries, 5);
    /* a repair that fails: the error is reported once, nothing else happens */
    recover_ok = 0;
    st = mkstore_recover(p, c);
    drop(c);
    assert_int_equal(oas_store_get(st, p, NS, "k", &v, &n), APR_EGENERAL);
    assert_int_equal(oas_store_take(st, p, NS, "k", &v, &n), APR_EGENERAL);
    assert_int_equal(recoveries, 7);
    assert_int_equal(errors_seen, 5);
    errors_seen = 0;
}

/* ---- classes, counters, the cap on best-effort rows, the schema upgrade (issue 14) ---- */

static int query_int(apr_pool_t *p, conn_t *c, const char *sql)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int n = -1;

    assert_int_equal(apr_dbd_select(c->driver, p, c->handle, &res, sql, 0), 0);
    while (apr_dbd_get_row(c->driver, p, res, &row, -1) == 0)
        n = atoi(apr_dbd_get_entry(c->driver, row, 0));
    return n;
}

/* A store of one's own (a thread's) on a new connection to path (or the PostgreSQL
 * database); NULL when anything fails (the thread counts it as an error). */
static oas_store_t *thread_store(apr_pool_t *p, const char *path)
{
    conn_t *c = apr_pcalloc(p, sizeof(*c));
    oas_store_t *st;
    int nrows;

    apr_dbd_get_driver(p, pg_params ? "pgsql" : "sqlite3", &c->driver);
    if (apr_dbd_open(c->driver, p, pg_params ? pg_params : path, &c->handle) != APR_SUCCESS)
        return NULL;
    apr_pool_cleanup_register(p, c, close_conn, apr_pool_cleanup_null);
    if (!pg_params)
        apr_dbd_query(c->driver, c->handle, &nrows, "PRAGMA busy_timeout = 10000");
    c->prepared = apr_hash_make(p);
    (void)prepare_all(c, p); /* a missing statement makes the store refuse */
    return oas_dbd_store_make(&st, p, c->driver, c->handle, c->prepared, NULL, NULL) ? NULL : st;
}

/* incr: starts at delta, adds (negative too), keeps its expiry, starts anew once expired or
 * over a row that is not a counter; get reads it as the fallback's "count expires"; every
 * call is one statement. */
static void test_incr(void **state)
{
    apr_pool_t *p = *state;
    oas_dbd_stats_t stats;
    oas_store_t *st = mkstore(p, mkconn(p, ":memory:"), NULL);
    apr_time_t exp = apr_time_now() + HOUR, got;
    apr_int64_t n;
    char *v;
    apr_size_t len;

    memset(&stats, 0, sizeof(stats));
    oas_dbd_store_set_limits(st, &stats, 0);
    assert_non_null(st->incr);
    assert_int_equal(oas_store_incr(st, p, NS, "c", 1, exp, &n, &got), APR_SUCCESS);
    assert_int_equal(n, 1);
    assert_int_equal(got, exp);
    assert_int_equal(stats.statements, 1);
    assert_int_equal(oas_store_incr(st, p, NS, "c", 5, exp + HOUR, &n, &got), APR_SUCCESS);
    assert_int_equal(n, 6);
    assert_int_equal(got, exp); /* a live counter keeps its window */
    assert_int_equal(oas_store_incr(st, p, NS, "c", -2, exp, &n, NULL), APR_SUCCESS);
    assert_int_equal(n, 4);
    assert_int_equal(stats.statements, 3);
    assert_int_equal(oas_store_get(st, p, NS, "c", &v, &len), APR_SUCCESS);
    assert_string_equal(v, apr_psprintf(p, "4 %" APR_TIME_T_FMT, exp));
    /* expired: starts anew with the new expiry */
    assert_int_equal(oas_store_incr(st, p, NS, "old", 7, apr_time_now() - 1, &n, NULL),
                     APR_SUCCESS);
    assert_int_equal(oas_store_incr(st, p, NS, "old", 1, exp, &n, &got), APR_SUCCESS);
    assert_int_equal(n, 1);
    assert_int_equal(got, exp);
    /* a plain value under the key is not a count */
    assert_int_equal(oas_store_put(st, p, NS, "plain", "42", 2, exp), APR_SUCCESS);
    assert_int_equal(oas_store_incr(st, p, NS, "plain", 3, exp, &n, NULL), APR_SUCCESS);
    assert_int_equal(n, 3);
    /* a put over a counter makes it a value again */
    assert_int_equal(oas_store_put(st, p, NS, "c", "x", 1, exp), APR_SUCCESS);
    assert_int_equal(oas_store_get(st, p, NS, "c", &v, &len), APR_SUCCESS);
    assert_string_equal(v, "x");
    assert_int_equal(oas_store_incr(st, p, NS, "c", 1, exp, &n, NULL), APR_SUCCESS);
    assert_int_equal(n, 1);
    assert_int_equal(oas_store_take(st, p, NS, "c", &v, &len), APR_SUCCESS);
    assert_string_equal(v, apr_psprintf(p, "1 %" APR_TIME_T_FMT, exp));
    assert_int_equal(st->incr(st, p, NS, NULL, 0, 1, exp, &n, NULL), APR_EINVAL);
}

/* Each row carries its namespace's class (oas_store_ns_class). */
static void test_classes(void **state)
{
    apr_pool_t *p = *state;
    conn_t *c = mkconn(p, ":memory:");
    oas_store_t *st = mkstore(p, c, NULL);
    apr_time_t exp = apr_time_now() + HOUR;
    oas_dbd_usage_t u;
    apr_int64_t n;

    assert_int_equal(oas_store_put(st, p, OAS_NS_CODE, "a", "x", 1, exp), APR_SUCCESS);
    assert_int_equal(oas_store_put_new(st, p, OAS_NS_REFRESH, "b", "x", 1, exp), APR_SUCCESS);
    assert_int_equal(oas_store_put(st, p, OAS_NS_CODE_USED, "c", "x", 1, exp), APR_SUCCESS);
    assert_int_equal(oas_store_put_new(st, p, OAS_NS_REFRESH_USED, "d", "x", 1, exp),
                     APR_SUCCESS);
    assert_int_equal(oas_store_incr(st, p, OAS_NS_QUOTA, "e", 1, exp, &n, NULL), APR_SUCCESS);
    assert_int_equal(query_int(p, c, "SELECT COUNT(*) FROM oauth_as_store WHERE c = 0"), 2);
    assert_int_equal(query_int(p, c, "SELECT COUNT(*) FROM oauth_as_store WHERE c = 1"), 3);
    /* server-status's figures */
    assert_int_equal(oas_dbd_usage(&u, p, c->driver, c->handle), APR_SUCCESS);
    assert_int_equal(u.rows[OAS_STORE_LIVE], 2);
    assert_int_equal(u.rows[OAS_STORE_BEST_EFFORT], 3);
    assert_int_equal(u.bytes[OAS_STORE_LIVE], 2 * (2 + 84)); /* 't' + "x", key and numbers */
    assert_int_equal(u.bytes[OAS_STORE_BEST_EFFORT], 2 * (2 + 84) + (1 + 84));
}

/* Best-effort rows beyond the cap give way, the soonest to expire first, by the writes
 * themselves (every cap / 8, at least OAS_DBD_TRIM_MIN_STEP) and by the purge; live rows
 * never; evictions and statements counted. */
static void test_cap(void **state)
{
    apr_pool_t *p = *state;
    conn_t *c = mkconn(p, ":memory:");
    oas_dbd_purge_t purge = {0};
    oas_dbd_stats_t stats;
    oas_store_t *st = mkstore(p, c, &purge);
    apr_time_t base = apr_time_now() + HOUR;
    apr_int64_t n;
    char *v;
    apr_size_t len;
    int gone;
    int i;

    memset(&stats, 0, sizeof(stats));
    purge.off = 1; /* the purge is tested below, by hand */
    oas_dbd_store_set_limits(st, &stats, 40);
    for (i = 0; i < 50; i++)
        assert_int_equal(oas_store_put(st, p, OAS_NS_CODE, apr_itoa(p, i), "live", 4, base),
                         APR_SUCCESS);
    for (i = 0; i < 100; i++)
        assert_int_equal(oas_store_put(st, p, OAS_NS_CODE_USED, apr_itoa(p, i), "t", 1,
                                       base + i),
                         APR_SUCCESS);
    /* 100 writes, a trim every 16: the last one after the 96th */
    assert_int_equal(query_int(p, c, "SELECT COUNT(*) FROM oauth_as_store WHERE c = 1"), 44);
    assert_int_equal(query_int(p, c, "SELECT COUNT(*) FROM oauth_as_store WHERE c = 0"), 50);
    assert_int_equal(stats.ev[OAS_STORE_EV_EVICTED], 56);
    assert_int_equal(stats.statements, 150 + 6);
    assert_int_equal(oas_store_get(st, p, OAS_NS_CODE_USED, "0", &v, &len), APR_NOTFOUND);
    assert_int_equal(oas_store_get(st, p, OAS_NS_CODE_USED, "99", &v, &len), APR_SUCCESS);
    assert_int_equal(oas_dbd_store_trim(&gone, st, p), APR_SUCCESS);
    assert_int_equal(gone, 4);
    assert_int_equal(query_int(p, c, "SELECT COUNT(*) FROM oauth_as_store WHERE c = 1"), 40);
    assert_int_equal(oas_store_get(st, p, OAS_NS_CODE_USED, "59", &v, &len), APR_NOTFOUND);
    assert_int_equal(oas_store_get(st, p, OAS_NS_CODE_USED, "60", &v, &len), APR_SUCCESS);
    /* counters are best-effort rows too; the purge trims as well */
    for (i = 0; i < 10; i++)
        assert_int_equal(oas_store_incr(st, p, OAS_NS_AUTHFAIL, apr_itoa(p, i), 1, base + 1000,
                                        &n, NULL),
                         APR_SUCCESS);
    assert_int_equal(oas_dbd_store_purge(&gone, st, p), APR_SUCCESS);
    assert_int_equal(query_int(p, c, "SELECT COUNT(*) FROM oauth_as_store WHERE c = 1"), 40);
    assert_int_equal(query_int(p, c, "SELECT COUNT(*) FROM oauth_as_store WHERE c = 0"), 50);
    assert_int_equal(oas_store_incr(st, p, OAS_NS_AUTHFAIL, "9", 1, base, &n, NULL),
                     APR_SUCCESS);
    assert_int_equal(n, 2); /* the newest counters stayed */
    /* the background purge's own statements do the same (no trim by the writes here) */
    oas_dbd_store_set_limits(st, &stats, 0);
    for (i = 0; i < 10; i++)
        assert_int_equal(oas_store_put(st, p, OAS_NS_REFRESH_USED, apr_itoa(p, i), "m", 1,
                                       base + 2000),
                         APR_SUCCESS);
    gone = 0;
    assert_int_equal(oas_dbd_purge_expired(NULL, &gone, 40, p, c->driver, c->handle),
                     APR_SUCCESS);
    assert_int_equal(gone, 10); /* tombstones 70..79: the markers and counters are newer */
    assert_int_equal(query_int(p, c, "SELECT COUNT(*) FROM oauth_as_store WHERE c = 1"), 40);
    assert_int_equal(query_int(p, c, "SELECT COUNT(*) FROM oauth_as_store WHERE c = 0"), 50);
    /* no cap: nothing is trimmed */
    assert_int_equal(oas_dbd_store_trim(&gone, st, p), APR_SUCCESS);
    assert_int_equal(gone, 0);
}

/* Under a flood every counter of one second has the same expiry: the trim still keeps
 * exactly the cap (ties broken by key), not none of them. */
static void test_cap_ties(void **state)
{
    apr_pool_t *p = *state;
    conn_t *c = mkconn(p, ":memory:");
    oas_store_t *st = mkstore(p, c, NULL);
    apr_time_t exp = apr_time_from_sec(apr_time_sec(apr_time_now()) + 60);
    apr_int64_t n;
    int gone;
    int i;

    oas_dbd_store_set_limits(st, NULL, 10);
    for (i = 0; i < 30; i++)
        assert_int_equal(oas_store_incr(st, p, OAS_NS_AUTHFAIL, apr_itoa(p, i), 1, exp, &n,
                                        NULL),
                         APR_SUCCESS);
    assert_int_equal(oas_dbd_store_trim(&gone, st, p), APR_SUCCESS);
    assert_int_equal(gone, 20);
    assert_int_equal(query_int(p, c, "SELECT COUNT(*) FROM oauth_as_store WHERE c = 1"), 10);
    assert_int_equal(oas_dbd_store_trim(&gone, st, p), APR_SUCCESS);
    assert_int_equal(gone, 0);
}

/* A version-1 database (the tables of 0.x) is upgraded in place: its rows stay readable and
 * live; the upgrade is idempotent and survives a rival that added the columns first. */
static void test_upgrade_v1(void **state)
{
    static const char *const v1[] = {
        "CREATE TABLE oauth_as_schema (version INTEGER NOT NULL)",
        "CREATE TABLE oauth_as_store (k CHAR(64) PRIMARY KEY, v TEXT NOT NULL, "
        "exp BIGINT NOT NULL)",
        "CREATE INDEX oauth_as_store_exp ON oauth_as_store (exp)",
        "INSERT INTO oauth_as_schema (version) VALUES (1)", NULL};
    apr_pool_t *p = *state;
    conn_t *c;
    oas_store_t *st;
    const char *err = NULL;
    char *v;
    apr_size_t len;
    apr_int64_t n;
    int nrows;
    int round;
    int i;

    for (round = 0; round < 2; round++) {
        c = open_conn(p, ":memory:");
        if (pg_params) { /* the shared database: back to version 1 */
            assert_int_equal(apr_dbd_query(c->driver, c->handle, &nrows,
                                           "DROP TABLE IF EXISTS oauth_as_store"),
                             0);
            assert_int_equal(apr_dbd_query(c->driver, c->handle, &nrows,
                                           "DROP TABLE IF EXISTS oauth_as_schema"),
                             0);
        }
        for (i = 0; v1[i]; i++)
            assert_int_equal(apr_dbd_query(c->driver, c->handle, &nrows, v1[i]), 0);
        assert_int_equal(apr_dbd_query(c->driver, c->handle, &nrows,
                                       "INSERT INTO oauth_as_store VALUES ('"
                                       "00000000000000000000000000000000"
                                       "00000000000000000000000000000000', 'told', 1)"),
                         0);
        if (round == 1) /* a rival process added the columns and has not yet set version 2 */
            assert_int_equal(apr_dbd_query(c->driver, c->handle, &nrows,
                                           "ALTER TABLE oauth_as_store ADD COLUMN c INTEGER "
                                           "NOT NULL DEFAULT 0"),
                             0);
        c->prepared = apr_hash_make(p);
        assert_int_not_equal(prepare_all(c, p), 0); /* the v1 table lacks the new columns */
        assert_int_equal(oas_dbd_schema_ensure(&err, p, c->driver, c->handle), APR_SUCCESS);
        assert_null(err);
        assert_int_equal(query_int(p, c, "SELECT MAX(version) FROM oauth_as_schema"),
                         OAS_DBD_SCHEMA_VERSION);
        assert_int_equal(query_int(p, c, "SELECT COUNT(*) FROM oauth_as_store WHERE c = 0 AND "
                                         "n = 0 AND v = 'told'"),
                         1);
        assert_int_equal(oas_dbd_schema_ensure(&err, p, c->driver, c->handle), APR_SUCCESS);
        assert_int_equal(prepare_all(c, p), 0);
        st = mkstore(p, c, NULL);
        store_check_put_get(p, st, apr_time_now() + HOUR);
        assert_int_equal(oas_store_incr(st, p, OAS_NS_QUOTA, "q", 2, apr_time_now() + HOUR, &n,
                                        NULL),
                         APR_SUCCESS);
        assert_int_equal(n, 2);
        assert_int_equal(oas_store_get(st, p, NS, "never", &v, &len), APR_NOTFOUND);
    }
}

/* A database out of room: APR_ENOSPC (the store is full: 503 + Retry-After), counted. */
static void test_full(void **state)
{
    apr_pool_t *p = *state;
    conn_t *c = mkconn(p, ":memory:");
    oas_store_t *st = mkstore(p, c, NULL);
    oas_dbd_stats_t stats;
    char *big = apr_palloc(p, 8192);
    apr_status_t rv = APR_SUCCESS;
    int nrows;
    int i;

    memset(&stats, 0, sizeof(stats));
    memset(big, 'x', 8192);
    oas_dbd_store_set_limits(st, &stats, 0);
    errors_seen = 0;
    apr_dbd_query(c->driver, c->handle, &nrows, "PRAGMA max_page_count = 16"); /* a row: "16" */
    for (i = 0; i < 100 && rv == APR_SUCCESS; i++)
        rv = oas_store_put(st, p, NS, apr_itoa(p, i), big, 8192, apr_time_now() + HOUR);
    assert_int_equal(rv, APR_ENOSPC);
    assert_true(i > 1);
    assert_int_equal(stats.ev[OAS_STORE_EV_FULL], 1);
    assert_int_equal(errors_seen, 1);
    errors_seen = 0;
}

/* ---- threads, each with its own connection to one file (or the PostgreSQL database) ---- */

#define RACERS 8
#define RACE_KEYS 40
#define INCRS 50

typedef struct {
    const char *path;
    apr_pool_t *p;
    volatile apr_uint32_t *go, *wins, *errors;
    apr_int64_t max_seen; /* incr_thread: the highest count it was given */
} racer_t;

/* A racer's store, once every racer has one and the start is given; NULL (counted) if none. */
static oas_store_t *racer_store(racer_t *rc)
{
    oas_store_t *st = thread_store(rc->p, rc->path);

    if (!st) {
        apr_atomic_inc32(rc->errors);
        return NULL;
    }
    while (!apr_atomic_read32(rc->go))
        apr_sleep(100);
    return st;
}

/* Runs fn in RACERS threads released together; returns when all are done. */
static void run_racers(apr_pool_t *p, racer_t *racers, const char *path, apr_thread_start_t fn,
                       volatile apr_uint32_t *wins, volatile apr_uint32_t *errors)
{
    static volatile apr_uint32_t go;
    apr_thread_t *threads[RACERS];
    int i;

    go = *wins = *errors = 0;
    for (i = 0; i < RACERS; i++) {
        memset(&racers[i], 0, sizeof(racers[i]));
        racers[i].path = path;
        apr_pool_create(&racers[i].p, p);
        racers[i].go = &go;
        racers[i].wins = wins;
        racers[i].errors = errors;
        assert_int_equal(apr_thread_create(&threads[i], NULL, fn, &racers[i], p), APR_SUCCESS);
    }
    apr_atomic_set32(&go, 1);
    for (i = 0; i < RACERS; i++) {
        apr_status_t trv;
        assert_int_equal(apr_thread_join(&trv, threads[i]), APR_SUCCESS);
    }
}

/* A fresh SQLite file's path; rm_db removes it with its WAL files. */
static const char *tmp_db(apr_pool_t *p)
{
    char tmpl[] = "/tmp/oas-dbd-XXXXXX";
    int fd = mkstemp(tmpl);

    assert_true(fd >= 0);
    close(fd);
    return apr_pstrdup(p, tmpl);
}

static void rm_db(apr_pool_t *p, const char *path)
{
    unlink(path);
    unlink(apr_pstrcat(p, path, "-wal", NULL));
    unlink(apr_pstrcat(p, path, "-shm", NULL));
}

static void *APR_THREAD_FUNC incr_thread(apr_thread_t *t, void *data)
{
    racer_t *rc = data;
    oas_store_t *st = racer_store(rc);
    int i;

    (void)t;
    for (i = 0; st && i < INCRS; i++) {
        apr_int64_t n = 0;
        if (oas_store_incr(st, rc->p, OAS_NS_AUTHFAIL, "shared", 1, apr_time_now() + HOUR, &n,
                           NULL) != APR_SUCCESS)
            apr_atomic_inc32(rc->errors);
        else if (n > rc->max_seen)
            rc->max_seen = n;
    }
    return NULL;
}

/* Every increment counted once: no lost update across connections (processes, hosts). */
static void test_incr_threads(void **state)
{
    apr_pool_t *p = *state;
    static volatile apr_uint32_t wins, errors;
    racer_t racers[RACERS];
    const char *path = tmp_db(p);
    oas_store_t *st = mkstore(p, mkconn(p, path), NULL);
    apr_int64_t n = 0, top = 0;
    int i;

    run_racers(p, racers, path, incr_thread, &wins, &errors);
    for (i = 0; i < RACERS; i++)
        top = racers[i].max_seen > top ? racers[i].max_seen : top;
    assert_int_equal(errors, 0);
    assert_int_equal(top, RACERS * INCRS); /* some caller saw the full count */
    assert_int_equal(oas_store_incr(st, p, OAS_NS_AUTHFAIL, "shared", 0, apr_time_now() + HOUR,
                                    &n, NULL),
                     APR_SUCCESS);
    assert_int_equal(n, RACERS * INCRS);
    rm_db(p, path);
}

static void *APR_THREAD_FUNC race_thread(apr_thread_t *t, void *data)
{
    racer_t *rc = data;
    oas_store_t *st = racer_store(rc);
    int i;

    (void)t;
    for (i = 0; st && i < RACE_KEYS; i++) {
        apr_status_t rv = oas_store_take(st, rc->p, NS, apr_itoa(rc->p, i), NULL, NULL);
        if (rv == APR_SUCCESS)
            apr_atomic_inc32(rc->wins);
        else if (rv != APR_NOTFOUND)
            apr_atomic_inc32(rc->errors);
    }
    return NULL;
}

/* Every key taken by many threads at once: exactly one wins each. */
static void test_race_threads(void **state)
{
    apr_pool_t *p = *state;
    static volatile apr_uint32_t wins, errors;
    racer_t racers[RACERS];
    const char *path = tmp_db(p);
    conn_t *c = mkconn(p, path);
    oas_store_t *st = mkstore(p, c, NULL);
    int i;

    for (i = 0; i < RACE_KEYS; i++)
        assert_int_equal(oas_store_put(st, p, NS, apr_itoa(p, i), "v", 1, apr_time_now() + HOUR),
                         APR_SUCCESS);
    run_racers(p, racers, path, race_thread, &wins, &errors);
    assert_int_equal(errors, 0);
    assert_int_equal(wins, RACE_KEYS); /* every key taken exactly once */
    assert_int_equal(count_rows(p, c), 0);
    rm_db(p, path);
}

int main(void)
{
    int rc;
    const struct CMUnitTest pg_tests[] = {
        UNIT_TEST(test_basic),          UNIT_TEST(test_put_new),
        UNIT_TEST(test_namespaces),     UNIT_TEST(test_values_round_trip),
        UNIT_TEST(test_incr),           UNIT_TEST(test_incr_threads),
        UNIT_TEST(test_classes),        UNIT_TEST(test_cap),
        UNIT_TEST(test_cap_ties),       UNIT_TEST(test_upgrade_v1),
    };
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_basic),          UNIT_TEST(test_put_new),
        UNIT_TEST(test_namespaces),     UNIT_TEST(test_expiry_and_purge),
        UNIT_TEST(test_values_round_trip), UNIT_TEST(test_schema),
        UNIT_TEST(test_db_errors),      UNIT_TEST(test_recover),
        UNIT_TEST(test_race_threads),   UNIT_TEST(test_incr),
        UNIT_TEST(test_incr_threads),   UNIT_TEST(test_classes),
        UNIT_TEST(test_cap),            UNIT_TEST(test_upgrade_v1),
            UNIT_TEST(test_cap_ties),
        UNIT_TEST(test_full),
    };

    oas_log_set(log_everything, count_line);
    pg_params = getenv("OAS_TEST_PGSQL");
    if (pg_params && *pg_params) {
        printf("on PostgreSQL: %d tests\n", (int)(sizeof(pg_tests) / sizeof(pg_tests[0])));
        rc = UNIT_RUN(pg_tests);
    }
    else {
        pg_params = NULL;
        rc = UNIT_RUN(tests);
    }
    oas_log_set(NULL, NULL);
    return rc;
}
