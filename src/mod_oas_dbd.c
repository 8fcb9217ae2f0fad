/* mod_oauth_as: `OAuthASStore dbd` glue (STYLE.md C16, P16, P17). mod_dbd owns the
 * connections and prepares our statements on each; we create the tables they need before
 * mod_dbd opens its first connection in a child, and build a store per request. */
#include "mod_oas_private.h"

#include <apr_atomic.h>
#include <apr_dbd.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <mod_dbd.h>
#include <http_protocol.h>
#include <mod_status.h>
#include <unistd.h>
#include <unixd.h>
#include <util_cfgtree.h>

#include "mod_oas_config.h"
#include "mod_oas_dbd.h"
#include "oas_directives.h"
#include "oas_store_dbd.h"

/* A child whose start found the database down retries the table check at most this often,
 * from a request that got no connection (mod_dbd itself tries to connect on every request). */
#define SCHEMA_RETRY_SEC 1
#define STORE_KEY "oauth_as-dbd-store"
#define SQLITE_CONNECT_TRIES 50 /* x 20 ms: a connection refused on a locked SQLite file */
#define CONN_KEY "oauth_as-dbd-conn" /* dbd_conn_state_t, on the connection's pool */

/* Where the tables live: mod_dbd keeps DBDriver/DBDParams private, so they are read from
 * the configuration tree (public API) for the child_init table creation. */
typedef struct {
    server_rec *s;
    const char *driver;
    const char *params;
} dbd_target_t;

/* Set at config time (check_config) in the parent, read-only in children (P8). */
static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *dbd_acquire;
static apr_array_header_t *targets; /* dbd_target_t, in pconf */
/* Per process (each child has its copy after fork). */
static oas_dbd_purge_t purge_state;
static volatile apr_uint32_t schema_ok;    /* the tables were seen in this process */
static volatile apr_uint32_t schema_tried; /* apr_time_sec() of the last attempt */
/* The stores' counters: in anonymous shared memory made once by the parent (children share
 * it across graceful restarts), in this process's memory when that cannot be had. */
static oas_dbd_stats_t local_stats;
static oas_dbd_stats_t *stats = &local_stats;

/* The best-effort rows a database keeps (oas_store_dbd.h: OAS_DBD_TRIM_MIN_STEP), from the
 * issuer's OAuthASStoreSize: a bare number N (entries of a shared-memory store) keeps N rows;
 * a size (kept as minus its KiB, issue 14's "OAuthASStoreSize 128M") one row per
 * OAS_DBD_ROW_BYTES of it. */
static apr_int64_t best_effort_cap(const server_rec *s)
{
    apr_int64_t size = oas_iss_store_size(oas_mod_issuer(s));

    return size < 0 ? -size * 1024 / OAS_DBD_ROW_BYTES : size;
}

static void share_stats(server_rec *s)
{
    apr_shm_t *shm;

    if (stats != &local_stats)
        return;
    if (apr_shm_create(&shm, sizeof(oas_dbd_stats_t), NULL, s->process->pool) == APR_SUCCESS) {
        stats = apr_shm_baseaddr_get(shm);
        memset(stats, 0, sizeof(*stats));
    }
}

static apr_status_t forget_targets(void *data)
{
    (void)data;
    targets = NULL;
    dbd_acquire = NULL;
    return APR_SUCCESS;
}

/* The last DBDriver/DBDParams among a list of directives and the containers in it that are
 * not other virtual hosts or per-directory sections (<IfModule>, <IfDefine> bodies). */
static void scan(const ap_directive_t *d, const char **pdriver, const char **pparams)
{
    for (; d; d = d->next) {
        if (!strcasecmp(d->directive, "DBDriver"))
            *pdriver = d->args;
        else if (!strcasecmp(d->directive, "DBDParams"))
            *pparams = d->args;
        else if (d->first_child && !strncasecmp(d->directive, "<If", 3))
            scan(d->first_child, pdriver, pparams);
    }
}

static const ap_directive_t *find_vhost(const ap_directive_t *d, const server_rec *s)
{
    for (; d && s->defn_name; d = d->next) {
        const ap_directive_t *v;
        if (!strcasecmp(d->directive, "<VirtualHost") && d->line_num == (int)s->defn_line_number &&
            d->filename && !strcmp(d->filename, s->defn_name))
            return d;
        if (d->first_child && !strncasecmp(d->directive, "<If", 3) &&
            (v = find_vhost(d->first_child, s)))
            return v;
    }
    return NULL;
}

/* DBD arguments are raw text: a quoted "host=... user=..." keeps its quotes in args. */
static const char *unquote(apr_pool_t *p, const char *a)
{
    apr_size_t n = a ? strlen(a) : 0;
    if (n >= 2 && (a[0] == '"' || a[0] == '\'') && a[n - 1] == a[0])
        return apr_pstrmemdup(p, a + 1, n - 2);
    return a;
}

static int fail(server_rec *s, const char *msg)
{
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL, OAS_LOGNO(00200) "%s (%s:%d)",
                 msg, s->defn_name ? s->defn_name : "main server", s->defn_line_number);
    return 1;
}

/* Whether our statements are registered already with the mod_dbd configuration of s: httpd
 * gives a virtual host without DBD directives the main server's configuration object itself
 * (it merges only modules configured in the host), and a label prepared twice on one object
 * makes mod_dbd warn (AH02653) at every configuration read: `apache2 -t`, start, restart. */
static int prepared_already(const server_rec *s)
{
    module *m = ap_find_linked_module("mod_dbd.c");
    int i;

    for (i = 0; m && i < targets->nelts; i++)
        if (ap_get_module_config(APR_ARRAY_IDX(targets, i, dbd_target_t).s->module_config, m) ==
            ap_get_module_config(s->module_config, m))
            return 1;
    return 0;
}

int oas_mod_dbd_check_config(apr_pool_t *pconf, server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) *prepare = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    server_rec *vs;
    int bad = 0;
    int i;

    dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    targets = apr_array_make(pconf, 2, sizeof(dbd_target_t));
    apr_pool_cleanup_register(pconf, NULL, forget_targets, apr_pool_cleanup_null);
    for (vs = s; vs; vs = vs->next) {
        const oas_issuer_t *iss = oas_mod_issuer(vs);
        const char *driver = NULL, *params = NULL;
        const ap_directive_t *vh;
        dbd_target_t *t;

        if (!iss->issuer ||
            (oas_iss_store_short(iss) != OAS_STORE_DBD && oas_iss_store_long(iss) != OAS_STORE_DBD))
            continue;
        if (!prepare || !dbd_acquire) {
            bad |= fail(vs, OAS_DIR_STORE " dbd needs mod_dbd: add `LoadModule dbd_module "
                            "modules/mod_dbd.so` with DBDriver and DBDParams");
            continue;
        }
        scan(ap_conftree, &driver, &params);
        if (vs->is_virtual && (vh = find_vhost(ap_conftree, vs)))
            scan(vh->first_child, &driver, &params);
        if (!driver) {
            bad |= fail(vs, OAS_DIR_STORE " dbd needs a database: DBDriver (sqlite3 or pgsql) and "
                            "DBDParams are not set for this server");
            continue;
        }
        if (!prepared_already(vs))
            for (i = 0; oas_dbd_statements[i].label; i++)
                prepare(vs, oas_dbd_statements[i].sql, oas_dbd_statements[i].label);
        share_stats(s);
        t = apr_array_push(targets);
        t->s = vs;
        t->driver = unquote(pconf, driver);
        t->params = unquote(pconf, params ? params : "");
    }
    return bad;
}

/* Creates the tables of every configured database; logs and returns the first failure. */
static apr_status_t ensure_schemas(apr_pool_t *p)
{
    apr_status_t rv = APR_SUCCESS;
    int i;

    for (i = 0; targets && i < targets->nelts; i++) {
        const dbd_target_t *t = &APR_ARRAY_IDX(targets, i, dbd_target_t);
        const apr_dbd_driver_t *driver;
        apr_dbd_t *handle = NULL;
        const char *err = NULL;
        apr_status_t r2;

        if (i > 0 && !strcmp(t->driver, APR_ARRAY_IDX(targets, i - 1, dbd_target_t).driver) &&
            !strcmp(t->params, APR_ARRAY_IDX(targets, i - 1, dbd_target_t).params))
            continue; /* the same database as the previous server */
        if ((r2 = apr_dbd_get_driver(p, t->driver, &driver)) != APR_SUCCESS)
            err = "no such apr_dbd driver";
        else if ((r2 = apr_dbd_open_ex(driver, p, t->params, &handle, &err)) != APR_SUCCESS)
            err = err ? err : "cannot connect";
        else {
            r2 = oas_dbd_schema_ensure(&err, p, driver, handle);
            apr_dbd_close(driver, handle);
        }
        if (r2 != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, r2, t->s, OAS_LOGNO(00201)
                         OAS_DIR_STORE " dbd: cannot create or check the tables in the %s "
                         "database: %s",
                         t->driver, err ? err : "unknown error");
            rv = r2;
        }
    }
    return rv;
}

/* A SQLite file the parent (root) created must stay writable by the children (User). */
static void give_to_children(apr_pool_t *p)
{
    int i;

    for (i = 0; targets && geteuid() == 0 && i < targets->nelts; i++) {
        const dbd_target_t *t = &APR_ARRAY_IDX(targets, i, dbd_target_t);
        if (strcmp(t->driver, "sqlite3") || !*t->params || *t->params == ':')
            continue;
        if (chown(t->params, ap_unixd_config.user_id, ap_unixd_config.group_id) != 0)
            ap_log_perror(APLOG_MARK, APLOG_WARNING, errno, p, OAS_LOGNO(00205)
                          OAS_DIR_STORE " dbd: cannot give %s to the server's User", t->params);
    }
}

apr_status_t oas_mod_dbd_post_config(apr_pool_t *ptemp)
{
    /* Before any child exists: children then only read the schema while mod_dbd prepares
     * our statements, and never race each other creating it. A database that is down
     * now is not fatal: children and requests try again. */
    if (targets && targets->nelts) {
        schema_ok = ensure_schemas(ptemp) == APR_SUCCESS;
        give_to_children(ptemp);
    }
    return APR_SUCCESS;
}

/* ---- the background purge: a thread per child with a connection of its own ---- */

typedef struct {
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *wake;
    apr_thread_t *thread;
    int stop;
} purger_t;

static void purge_all(apr_pool_t *p)
{
    int i;

    for (i = 0; targets && i < targets->nelts; i++) {
        const dbd_target_t *t = &APR_ARRAY_IDX(targets, i, dbd_target_t);
        const apr_dbd_driver_t *driver;
        apr_dbd_t *handle;
        const char *err = NULL;
        int n = 0, trimmed = 0;

        if (apr_dbd_get_driver(p, t->driver, &driver) != APR_SUCCESS ||
            apr_dbd_open_ex(driver, p, t->params, &handle, &err) != APR_SUCCESS)
            continue; /* database down: the next round tries again */
        if (!strcmp(t->driver, "sqlite3"))
            apr_dbd_query(driver, handle, &n, OAS_SQLITE_BUSY_TIMEOUT);
        if (oas_dbd_purge_expired(&n, &trimmed, best_effort_cap(t->s), p, driver, handle) ==
                APR_SUCCESS &&
            n + trimmed > 0)
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, t->s, OAS_LOGNO(00208)
                         OAS_DIR_STORE " dbd: purged %d expired rows, %d best-effort rows over "
                         "the cap", n, trimmed);
        if (trimmed > 0)
            apr_atomic_add64(&stats->ev[OAS_STORE_EV_EVICTED], (apr_uint64_t)trimmed);
        apr_dbd_close(driver, handle);
    }
}

static void *APR_THREAD_FUNC purge_thread(apr_thread_t *thread, void *data)
{
    purger_t *pg = data;
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    apr_thread_mutex_lock(pg->lock);
    while (!pg->stop) {
        apr_thread_cond_timedwait(pg->wake, pg->lock, OAS_DBD_PURGE_INTERVAL);
        if (pg->stop)
            break;
        apr_thread_mutex_unlock(pg->lock);
        purge_all(p); /* outside the lock: a slow database never delays shutdown's signal */
        apr_pool_clear(p);
        apr_thread_mutex_lock(pg->lock);
    }
    apr_thread_mutex_unlock(pg->lock);
    apr_pool_destroy(p);
    /* a plain return, not apr_thread_exit(): pthread_exit would skip the unwinding of this
     * frame, which AddressSanitizer then reports as a stack overflow when the thread ends */
    (void)thread;
    return NULL;
}

static apr_status_t stop_purger(void *data)
{
    purger_t *pg = data;
    apr_status_t rv;

    apr_thread_mutex_lock(pg->lock);
    pg->stop = 1;
    apr_thread_cond_signal(pg->wake);
    apr_thread_mutex_unlock(pg->lock);
    apr_thread_join(&rv, pg->thread);
    return APR_SUCCESS;
}

static void start_purger(apr_pool_t *pchild, server_rec *s)
{
    purger_t *pg = apr_pcalloc(pchild, sizeof(*pg));

    if (apr_thread_mutex_create(&pg->lock, APR_THREAD_MUTEX_DEFAULT, pchild) ||
        apr_thread_cond_create(&pg->wake, pchild) ||
        apr_thread_create(&pg->thread, NULL, purge_thread, pg, pchild)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, OAS_LOGNO(00209)
                     OAS_DIR_STORE " dbd: cannot start the purge thread; expired rows are "
                     "purged by requests instead");
        return;
    }
    purge_state.off = 1;
    apr_pool_cleanup_register(pchild, pg, stop_purger, apr_pool_cleanup_null);
}

void oas_mod_dbd_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_pool_t *p;

    if (!targets || targets->nelts == 0)
        return;
    start_purger(pchild, s);
    if (schema_ok)
        return; /* created by the parent */
    apr_pool_create(&p, pchild);
    schema_tried = (apr_uint32_t)apr_time_sec(apr_time_now());
    if (ensure_schemas(p) == APR_SUCCESS)
        schema_ok = 1;
    apr_pool_destroy(p);
}

/* The database was unreachable when this child started: try again, rarely, from a request. */
static void retry_schema(request_rec *r)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_uint32_t last = apr_atomic_read32(&schema_tried);

    if (apr_atomic_read32(&schema_ok) || now - last < SCHEMA_RETRY_SEC ||
        apr_atomic_cas32(&schema_tried, now, last) != last)
        return;
    if (ensure_schemas(r->pool) == APR_SUCCESS)
        apr_atomic_set32(&schema_ok, 1);
}

typedef struct {
    request_rec *r;
    ap_dbd_t *dbd;
} req_dbd_t;

/* Called by the store when a statement failed (pgsql only). apr_dbd_pgsql notices a server
 * that went away (database restarted) only when a statement fails; mod_dbd's next
 * apr_dbd_check_conn then quietly reconnects with PQreset, which loses the server-side
 * prepared statements while mod_dbd keeps the connection. Here: reconnect now if the
 * connection is broken, and prepare ours again, so the store can go on within this request.
 * On a healthy connection the prepares fail ("already exists"), so other failures are not
 * retried; while the database is down the reconnect fails and the old entries stay. */
static apr_status_t recover(void *baton, const char *op, int rc, const char *msg)
{
    req_dbd_t *rd = baton;
    ap_dbd_t *dbd = rd->dbd;
    apr_status_t rv;
    int i;

    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, rd->r, OAS_LOGNO(00206)
                  OAS_DIR_STORE " dbd: %s failed on a pooled connection (%d): %s; reconnecting "
                  "and preparing the statements again", op, rc, msg);
    if ((rv = apr_dbd_check_conn(dbd->driver, rd->r->pool, dbd->handle)) != APR_SUCCESS)
        return rv;
    for (i = 0; oas_dbd_statements[i].label; i++) {
        apr_dbd_prepared_t *stmt = NULL;
        if (apr_dbd_prepare(dbd->driver, dbd->pool, dbd->handle, oas_dbd_statements[i].sql,
                            oas_dbd_statements[i].label, &stmt) ||
            !stmt)
            return APR_EGENERAL;
        apr_hash_set(dbd->prepared, oas_dbd_statements[i].label, APR_HASH_KEY_STRING, stmt);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, rd->r, OAS_LOGNO(00207)
                  OAS_DIR_STORE " dbd: connection repaired, running %s again", op);
    return APR_SUCCESS;
}

/* Our state of one pooled connection, as long as it lives (mod_dbd hands it to one request
 * at a time). */
typedef struct {
    int busy_set;    /* SQLite: busy_timeout is set */
    int commit_mode; /* PostgreSQL: the session's synchronous_commit (the store's COMMIT_*) */
    apr_time_t seen; /* PostgreSQL: when a statement last succeeded on it */
} dbd_conn_state_t;

static dbd_conn_state_t *conn_state(ap_dbd_t *dbd)
{
    void *cs = NULL;

    apr_pool_userdata_get(&cs, CONN_KEY, dbd->pool);
    if (!cs) {
        cs = apr_pcalloc(dbd->pool, sizeof(dbd_conn_state_t));
        apr_pool_userdata_setn(cs, CONN_KEY, NULL, dbd->pool);
    }
    return cs;
}

static int uses_sqlite(const server_rec *s)
{
    int i;

    for (i = 0; targets && i < targets->nelts; i++) {
        const dbd_target_t *t = &APR_ARRAY_IDX(targets, i, dbd_target_t);
        if (t->s == s)
            return !strcmp(t->driver, "sqlite3");
    }
    return 0;
}

oas_store_t *oas_mod_dbd_store(request_rec *r)
{
    oas_store_t *st = NULL;
    req_dbd_t *rd;
    ap_dbd_t *dbd;
    void *cached = NULL;
    dbd_conn_state_t *cs;
    int nrows;
    int i;

    apr_pool_userdata_get(&cached, STORE_KEY, r->pool);
    if (cached)
        return *(oas_store_t **)cached; /* NULL again when this request already failed */
    cached = apr_pcalloc(r->pool, sizeof(oas_store_t *));
    apr_pool_userdata_setn(cached, STORE_KEY, NULL, r->pool);

    if (!dbd_acquire)
        return NULL; /* refused at check_config; never reached */
    if (!(dbd = dbd_acquire(r))) {
        retry_schema(r);
        dbd = dbd_acquire(r);
    }
    /* mod_dbd prepares our statements as it connects, before anyone can set a busy timeout:
     * with SQLite that fails while another process holds the file's exclusive lock for a
     * moment (the last connection to close checkpoints the WAL, e.g. children exiting in a
     * graceful restart). mod_dbd connects again on every acquire: wait like busy_timeout. */
    for (i = 0; !dbd && i < SQLITE_CONNECT_TRIES && uses_sqlite(r->server); i++) {
        apr_sleep(apr_time_from_msec(20));
        dbd = dbd_acquire(r);
    }
    if (!dbd) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAS_LOGNO(00203)
                      OAS_DIR_STORE " dbd: mod_dbd has no database connection (database down or "
                      "unreachable, see mod_dbd's message); answering 503");
        return NULL;
    }
    /* SQLite serializes writers: wait for the lock instead of failing with SQLITE_BUSY. Once
     * per connection (the setting stays with it), not a statement per request. The result is
     * not looked at: apr_dbd_sqlite3 reports the pragma's answer row as a failure. */
    cs = conn_state(dbd);
    if (!cs->busy_set && !strcmp(apr_dbd_name(dbd->driver), "sqlite3")) {
        apr_atomic_add64(&stats->statements, 1);
        apr_dbd_query(dbd->driver, dbd->handle, &nrows, OAS_SQLITE_BUSY_TIMEOUT);
        cs->busy_set = 1;
    }
    if (oas_dbd_store_make(&st, r->pool, dbd->driver, dbd->handle, dbd->prepared, &purge_state,
                           r) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAS_LOGNO(00204)
                      OAS_DIR_STORE " dbd: the oauth_as_* statements are not prepared on this "
                      "connection");
        return NULL;
    }
    oas_dbd_store_set_limits(st, stats, best_effort_cap(r->server));
    if (!strcmp(apr_dbd_name(dbd->driver), "pgsql")) {
        rd = apr_pcalloc(r->pool, sizeof(*rd));
        rd->r = r;
        rd->dbd = dbd;
        oas_dbd_store_set_recover(st, recover, rd);
        oas_dbd_store_set_commit_mode(st, &cs->commit_mode);
        oas_dbd_store_set_conn_seen(st, &cs->seen);
    }
    *(oas_store_t **)cached = st;
    return st;
}

/* The table of r's server, by class, when it has a dbd store. */
static void report_usage(request_rec *r, int flags)
{
    oas_dbd_usage_t u;
    ap_dbd_t *dbd;
    int i;

    for (i = 0; i < targets->nelts; i++)
        if (APR_ARRAY_IDX(targets, i, dbd_target_t).s == r->server)
            break;
    if (i == targets->nelts || !(dbd = dbd_acquire(r)))
        return;
    if (oas_dbd_usage(&u, r->pool, dbd->driver, dbd->handle) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAS_LOGNO(00210)
                      OAS_DIR_STORE " dbd: cannot count the rows of the table for server-status");
        return;
    }
    if (flags & AP_STATUS_SHORT) {
        ap_rprintf(r, "OAuthASDbdRowsLive: %" APR_INT64_T_FMT "\nOAuthASDbdBytesLive: %"
                   APR_INT64_T_FMT "\nOAuthASDbdRowsBestEffort: %" APR_INT64_T_FMT
                   "\nOAuthASDbdBytesBestEffort: %" APR_INT64_T_FMT "\n",
                   u.rows[OAS_STORE_LIVE], u.bytes[OAS_STORE_LIVE],
                   u.rows[OAS_STORE_BEST_EFFORT], u.bytes[OAS_STORE_BEST_EFFORT]);
        return;
    }
    ap_rprintf(r, "<tr><th>database table</th><td>live: %" APR_INT64_T_FMT " rows, about %"
               APR_INT64_T_FMT " bytes; best-effort: %" APR_INT64_T_FMT " rows (kept to %"
               APR_INT64_T_FMT "), about %" APR_INT64_T_FMT " bytes</td></tr>\n",
               u.rows[OAS_STORE_LIVE], u.bytes[OAS_STORE_LIVE], u.rows[OAS_STORE_BEST_EFFORT],
               best_effort_cap(r->server), u.bytes[OAS_STORE_BEST_EFFORT]);
}

void oas_mod_dbd_status(request_rec *r, int flags)
{
    apr_uint64_t ev[OAS_STORE_EV_COUNT];
    apr_uint64_t n;
    int i;

    if (!targets || targets->nelts == 0)
        return;
    report_usage(r, flags);
    n = apr_atomic_read64(&stats->statements);
    for (i = 0; i < OAS_STORE_EV_COUNT; i++)
        ev[i] = apr_atomic_read64(&stats->ev[i]);
    if (flags & AP_STATUS_SHORT) {
        ap_rprintf(r, "OAuthASDbdStatements: %" APR_UINT64_T_FMT "\n"
                   "OAuthASDbdEvicted: %" APR_UINT64_T_FMT "\nOAuthASDbdFull: %" APR_UINT64_T_FMT
                   "\nOAuthASDbdAuthfailRefused: %" APR_UINT64_T_FMT
                   "\nOAuthASDbdQuotaClient: %" APR_UINT64_T_FMT
                   "\nOAuthASDbdQuotaUser: %" APR_UINT64_T_FMT
                   "\nOAuthASDbdQuotaAddr: %" APR_UINT64_T_FMT "\n",
                   n, ev[OAS_STORE_EV_EVICTED], ev[OAS_STORE_EV_FULL],
                   ev[OAS_STORE_EV_AUTHFAIL_REFUSED], ev[OAS_STORE_EV_QUOTA_CLIENT],
                   ev[OAS_STORE_EV_QUOTA_USER], ev[OAS_STORE_EV_QUOTA_ADDR]);
        return;
    }
    ap_rprintf(r, "<tr><th>database store</th><td>%" APR_UINT64_T_FMT " statements run, %"
               APR_UINT64_T_FMT " best-effort rows evicted over the cap; 429s: brute-force "
               "brake %" APR_UINT64_T_FMT ", client quota %" APR_UINT64_T_FMT ", user quota %"
               APR_UINT64_T_FMT ", address quota %" APR_UINT64_T_FMT "</td></tr>\n",
               n, ev[OAS_STORE_EV_EVICTED], ev[OAS_STORE_EV_AUTHFAIL_REFUSED],
               ev[OAS_STORE_EV_QUOTA_CLIENT], ev[OAS_STORE_EV_QUOTA_USER],
               ev[OAS_STORE_EV_QUOTA_ADDR]);
}
