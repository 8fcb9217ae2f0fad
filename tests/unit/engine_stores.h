/* The stores an engine test runs against: the shm store in pool memory, and the database
 * store on an in-memory sqlite3 with the schema and every statement prepared (as mod_dbd
 * gives). Engine tests run each case on both, via ENGINE_STORES. Include after unit.h. */
#ifndef OAS_ENGINE_STORES_H
#define OAS_ENGINE_STORES_H

#include <stdlib.h>
#include <unistd.h>

#include <apr_dbd.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "oas_consent_txn.h"
#include "oas_ctx.h"
#include "oas_store_dbd.h"
#include "oas_store_shm.h"

typedef enum { ENGINE_SHM, ENGINE_SQLITE } engine_store_e;
#define ENGINE_STORES 2 /* for (k = 0; k < ENGINE_STORES; k++) run the case on store k */

static const char *const engine_store_names[ENGINE_STORES] = {"shm", "sqlite"};

typedef struct {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
} engine_dbd_conn_t;

static apr_status_t engine_close_dbd(void *data)
{
    engine_dbd_conn_t *c = data;
    apr_dbd_close(c->driver, c->handle);
    return APR_SUCCESS;
}

/* A database store on a new connection to the SQLite database path (":memory:": a fresh,
 * empty one), with the schema and every statement prepared as mod_dbd gives; threads racing
 * on one file each take a connection of their own. */
static oas_store_t *engine_dbd_store(apr_pool_t *p, const char *path)
{
    engine_dbd_conn_t *c = apr_pcalloc(p, sizeof(*c));
    apr_hash_t *prepared = apr_hash_make(p);
    oas_store_t *st = NULL;
    const char *err;
    int i, nrows;

    assert_int_equal(apr_dbd_init(p), APR_SUCCESS);
    assert_int_equal(apr_dbd_get_driver(p, "sqlite3", &c->driver), APR_SUCCESS);
    assert_int_equal(apr_dbd_open(c->driver, p, path, &c->handle), APR_SUCCESS);
    /* registered before the statements: runs after their finalizers */
    apr_pool_cleanup_register(p, c, engine_close_dbd, apr_pool_cleanup_null);
    apr_dbd_query(c->driver, c->handle, &nrows, "PRAGMA busy_timeout = 10000");
    assert_int_equal(oas_dbd_schema_ensure(&err, p, c->driver, c->handle), APR_SUCCESS);
    for (i = 0; oas_dbd_statements[i].label; i++) {
        apr_dbd_prepared_t *stmt = NULL;
        assert_int_equal(apr_dbd_prepare(c->driver, p, c->handle, oas_dbd_statements[i].sql,
                                         oas_dbd_statements[i].label, &stmt),
                         0);
        apr_hash_set(prepared, oas_dbd_statements[i].label, APR_HASH_KEY_STRING, stmt);
    }
    assert_int_equal(oas_dbd_store_make(&st, p, c->driver, c->handle, prepared, NULL, NULL),
                     APR_SUCCESS);
    return st;
}

/* A fresh, empty SQLite file for threads that race with a connection each
 * (engine_dbd_store(p, path) per thread); engine_sqlite_remove removes it, its journals too. */
static inline const char *engine_sqlite_file(apr_pool_t *p)
{
    char path[] = "/tmp/oas-engine-XXXXXX";
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    close(fd);
    return apr_pstrdup(p, path);
}

static inline void engine_sqlite_remove(apr_pool_t *p, const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    int i;

    for (i = 0; i < 4; i++)
        unlink(apr_pstrcat(p, path, suffixes[i], NULL));
}

/* A fresh, empty store of kind k in pool p (entries: shm capacity). */
static oas_store_t *engine_store(apr_pool_t *p, engine_store_e k, apr_uint32_t entries)
{
    oas_store_t *st = NULL;

    if (k == ENGINE_SHM) {
        apr_size_t sz = oas_shm_store_size_needed(entries);
        void *base = apr_palloc(p, sz);
        assert_true(sz > 0);
        assert_int_equal(oas_shm_store_format(base, sz, entries), APR_SUCCESS);
        assert_int_equal(oas_shm_store_attach(&st, p, base, sz, NULL), APR_SUCCESS);
        return st;
    }
    return engine_dbd_store(p, ":memory:");
}

/* A context for iss at time now whose short- and long-lived stores are one fresh store of
 * kind k (as with OAuthASStore shm, or dbd). */
static oas_ctx_t *engine_ctx(apr_pool_t *p, const oas_issuer_t *iss, engine_store_e k,
                             apr_int64_t now)
{
    oas_ctx_t *x = apr_palloc(p, sizeof(*x));

    oas_ctx_init(x, p, iss, now);
    x->store[OAS_CTX_SHORT] = x->store[OAS_CTX_LONG] = engine_store(p, k, 1024);
    x->opened[OAS_CTX_SHORT] = x->opened[OAS_CTX_LONG] = 1;
    x->addr = "192.0.2.1";
    return x;
}

/* A decision form (consent, sign-out) of transaction txn with its csrf token, answered with
 * decision from our own page at https://as.test. */
static inline oas_consent_form_t engine_decision_form(const char *txn, const char *csrf,
                                                      const char *decision)
{
    oas_consent_form_t f;

    memset(&f, 0, sizeof(f));
    f.txn = txn;
    f.csrf = csrf;
    f.decision = decision;
    f.origin = "https://as.test";
    f.our_origin = "https://as.test";
    return f;
}

/* A cmocka test `name` that runs name##_on(&e, p) once per store kind, each time on a fresh
 * environment (env_type) made by init(&e, p, k) in its own sub-pool of the test's pool. */
#define ENGINE_EACH_STORE(name, env_type, init)                                                    \
    static void name(void **state)                                                                 \
    {                                                                                              \
        int k_;                                                                                    \
        for (k_ = 0; k_ < ENGINE_STORES; k_++) {                                                   \
            apr_pool_t *p_;                                                                        \
            env_type e_;                                                                           \
            apr_pool_create(&p_, *state);                                                          \
            init(&e_, p_, (engine_store_e)k_);                                                     \
            name##_on(&e_, p_);                                                                    \
            apr_pool_destroy(p_);                                                                  \
        }                                                                                          \
    }

#endif
