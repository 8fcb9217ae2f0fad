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
#include "oas_util.h"

/* ---- SQL ---- */

/* k is the hex SHA-256 of (namespace byte || key): the database never sees a secret.
 * exp is apr_time_t (microseconds since the epoch). v is 't' + the value when it is clean
 * UTF-8 (the JSON we store, readable by an administrator), else 'b' + base64. */
#define T "oauth_as_store"
/* apr_dbd_pgsql declares %s parameters as varchar: times are cast (a no-op for SQLite) */
#define TM "CAST(%s AS BIGINT)"

const oas_dbd_stmt_t oas_dbd_statements[] = {
    {"oauth_as_put", "INSERT INTO " T " (k, v, exp) VALUES (%s, %s, " TM ") "
                     "ON CONFLICT (k) DO UPDATE SET v = excluded.v, exp = excluded.exp"},
    /* writes only over a missing or expired row: nrows 0 means a live one exists */
    {"oauth_as_put_new", "INSERT INTO " T " (k, v, exp) VALUES (%s, %s, " TM ") "
                         "ON CONFLICT (k) DO UPDATE SET v = excluded.v, exp = excluded.exp "
                         "WHERE " T ".exp <= " TM},
    {"oauth_as_get", "SELECT v FROM " T " WHERE k = %s AND exp > " TM},
    /* the commit point of codes and request_uris: read and delete in one statement */
    {"oauth_as_take", "DELETE FROM " T " WHERE k = %s AND exp > " TM " RETURNING v"},
    {"oauth_as_del", "DELETE FROM " T " WHERE k = %s AND exp > " TM},
    {"oauth_as_purge", "DELETE FROM " T " WHERE exp <= " TM},
    {NULL, NULL}};

enum { S_PUT, S_PUT_NEW, S_GET, S_TAKE, S_DEL, S_PURGE, S_COUNT };

/* The same DDL is valid for sqlite3 and pgsql (conf/schema-*.sql are copies for admins). */
static const char *const ddl[] = {
    "CREATE TABLE IF NOT EXISTS oauth_as_schema (version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS " T " (k CHAR(64) PRIMARY KEY, v TEXT NOT NULL, "
    "exp BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS oauth_as_store_exp ON " T " (exp)",
    "INSERT INTO oauth_as_schema (version) SELECT 1 "
    "WHERE NOT EXISTS (SELECT 1 FROM oauth_as_schema)",
    NULL};

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
} dbd_ctx_t;

/* ---- helpers ---- */

/* The driver's message about rc, its first line only: PostgreSQL's DETAIL and CONTEXT lines
 * may quote a row or a statement's parameters (a stored record), which must not reach a log;
 * the first line names the failure. */
static const char *db_message(dbd_ctx_t *c, int rc)
{
    const char *msg = apr_dbd_error(c->driver, c->handle, rc);

    return msg ? apr_pstrmemdup(c->p, msg, strcspn(msg, "\r\n")) : "no message";
}

static apr_status_t db_fail(dbd_ctx_t *c, const char *op, int rc)
{
    oas_log(OAS_LOG_MARK, OAS_LOG_ERR, 0, c->log, OAS_LOGNO(00202)
            OAS_DIR_STORE " dbd: %s failed in the database (%d): %s", op, rc, db_message(c, rc));
    return APR_EGENERAL;
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
    /* k is 64 hex digits in every row: the empty key matches none */
    rc = apr_dbd_pvselect(c->driver, p, c->handle, &res, c->stmt[S_GET], 1, "", "0", NULL);
    if (rc == 0) {
        while (apr_dbd_get_row(c->driver, p, res, &row, -1) == 0)
            ;
        c->verified = 1;
    }
    else if (recover(c, "probe", rc))
        c->verified = 1;
}

/* An idempotent statement (put, get, purge): rerun once after a repaired connection. */
static int pvquery_retry(dbd_ctx_t *c, apr_pool_t *p, const char *op, int *nrows, int s,
                         const char *a1, const char *a2, const char *a3)
{
    int rc = apr_dbd_pvquery(c->driver, p, c->handle, nrows, c->stmt[s], a1, a2, a3, NULL);

    if (rc != 0 && recover(c, op, rc))
        rc = apr_dbd_pvquery(c->driver, p, c->handle, nrows, c->stmt[s], a1, a2, a3, NULL);
    if (rc == 0)
        c->verified = 1;
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

static apr_status_t decode_value(char **pval, apr_size_t *plen, apr_pool_t *p, const char *s)
{
    apr_size_t n;
    char *out;

    if (!s || (s[0] != 't' && s[0] != 'b'))
        return APR_EGENERAL; /* not a row we wrote */
    if (s[0] == 't') {
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

/* A one-row select (or DELETE … RETURNING): the row loop always runs to -1 (P16). Only an
 * idempotent select is retried (retry), see probe(). */
static apr_status_t select_one(char **pval, apr_size_t *plen, dbd_ctx_t *c, apr_pool_t *p,
                               const char *op, int s, int retry, const char *k,
                               const char *now)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *v = NULL;
    int rc;
    int nrows = 0;

    /* random access: the whole result is fetched here, so a lost connection is an error
     * now; apr_dbd_pgsql's sequential mode reports it as "no rows" (a wrong NOTFOUND) */
    rc = apr_dbd_pvselect(c->driver, p, c->handle, &res, c->stmt[s], 1, k, now, NULL);
    if (rc != 0 && retry && recover(c, op, rc))
        rc = apr_dbd_pvselect(c->driver, p, c->handle, &res, c->stmt[s], 1, k, now, NULL);
    if (rc != 0)
        return db_fail(c, op, rc);
    c->verified = 1;
    while ((rc = apr_dbd_get_row(c->driver, p, res, &row, -1)) == 0) {
        if (nrows++ == 0)
            v = apr_pstrdup(p, apr_dbd_get_entry(c->driver, row, 0));
    }
    if (rc != -1)
        return db_fail(c, op, rc);
    if (nrows == 0)
        return APR_NOTFOUND;
    return decode_value(pval, plen, p, v);
}

/* ---- the oas_store.h operations ---- */

static apr_status_t write_row(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                              apr_size_t klen, const void *val, apr_size_t vlen,
                              apr_time_t expires, int only_new)
{
    dbd_ctx_t *c;
    const char *k, *v, *e;
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
    if (only_new) {
        probe(c, p);
        rc = apr_dbd_pvquery(c->driver, p, c->handle, &nrows, c->stmt[S_PUT_NEW], k, v, e,
                             time_arg(p, apr_time_now()), NULL);
        if (rc == 0)
            c->verified = 1;
    }
    else
        rc = pvquery_retry(c, p, "put", &nrows, S_PUT, k, v, e);
    if (rc != 0)
        return db_fail(c, only_new ? "put_new" : "put", rc);
    if (only_new && nrows != 1)
        return APR_EEXIST;
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
    probe(c, p);
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
    probe(c, p);
    rc = apr_dbd_pvquery(c->driver, p, c->handle, &nrows, c->stmt[S_DEL],
                         row_key(p, ns, key, klen), time_arg(p, apr_time_now()), NULL);
    if (rc != 0)
        return db_fail(c, "del", rc);
    c->verified = 1;
    return nrows > 0 ? APR_SUCCESS : APR_NOTFOUND;
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
    *pst = st;
    return APR_SUCCESS;
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

    rc = pvquery_retry(c, p, "purge", &nrows, S_PURGE, time_arg(p, apr_time_now()), NULL, NULL);
    if (pn)
        *pn = nrows;
    return rc ? db_fail(c, "purge", rc) : APR_SUCCESS;
}

/* The highest schema version recorded, or -1 when the table cannot be read. */
static int schema_version(apr_pool_t *p, const apr_dbd_driver_t *driver, apr_dbd_t *handle)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int version = -1;
    int rc;

    if (apr_dbd_select(driver, p, handle, &res, "SELECT version FROM oauth_as_schema", 0))
        return -1;
    while ((rc = apr_dbd_get_row(driver, p, res, &row, -1)) == 0) {
        const char *s = apr_dbd_get_entry(driver, row, 0);
        int v = s ? atoi(s) : 0;
        if (v > version)
            version = v;
    }
    return rc == -1 ? version : -1;
}

apr_status_t oas_dbd_schema_ensure(const char **perr, apr_pool_t *p,
                                   const apr_dbd_driver_t *driver, apr_dbd_t *handle)
{
    const char *failed = NULL;
    int version;
    int nrows;
    int rc;
    int i;

    *perr = NULL;
    if (!strcmp(apr_dbd_name(driver), "sqlite3")) {
        apr_dbd_results_t *res = NULL;
        apr_dbd_row_t *row = NULL;
        apr_dbd_query(driver, handle, &nrows, OAS_SQLITE_BUSY_TIMEOUT);
        /* readers do not block the writer; the mode sticks to the file */
        if (!apr_dbd_select(driver, p, handle, &res, "PRAGMA journal_mode=WAL", 0))
            while (apr_dbd_get_row(driver, p, res, &row, -1) == 0)
                ;
    }
    /* the usual case, read only: no write lock taken while other processes start up */
    version = schema_version(p, driver, handle);
    if (version >= 1 && version <= OAS_DBD_SCHEMA_VERSION)
        return APR_SUCCESS;
    for (i = 0; ddl[i] && !failed; i++) {
        if ((rc = apr_dbd_query(driver, handle, &nrows, ddl[i])) != 0)
            failed = apr_pstrcat(p, ddl[i], ": ", apr_dbd_error(driver, handle, rc), NULL);
    }
    /* a CREATE that lost a race with another process fails, yet the tables are there */
    version = schema_version(p, driver, handle);
    if (version < 0) {
        *perr = failed ? failed : "cannot read oauth_as_schema";
        return APR_EGENERAL;
    }
    if (version > OAS_DBD_SCHEMA_VERSION) {
        *perr = apr_psprintf(p, "the database has schema version %d, this module knows %d",
                             version, OAS_DBD_SCHEMA_VERSION);
        return APR_EINVAL;
    }
    if (version == 0) {
        *perr = "oauth_as_schema is empty";
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t oas_dbd_purge_expired(int *pn, apr_pool_t *p, const apr_dbd_driver_t *driver,
                                   apr_dbd_t *handle)
{
    int nrows = 0;
    /* our own integer in the text: no outside input reaches this statement */
    const char *sql = apr_psprintf(p, "DELETE FROM " T " WHERE exp <= %" APR_TIME_T_FMT,
                                   apr_time_now());
    int rc = apr_dbd_query(driver, handle, &nrows, sql);

    if (pn)
        *pn = nrows;
    return rc ? APR_EGENERAL : APR_SUCCESS;
}
