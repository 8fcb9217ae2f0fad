/* mod_oauth_as: owns the shared-memory segment and global mutex behind oas_store_shm.c.
 * Both live in the process pool and are remembered in retained data, so that a graceful
 * restart keeps the codes in flight and old and new children share one lock (P1). */
#include "mod_oas_private.h"

#include <apr_shm.h>
#include <util_mutex.h>

#include "mod_oas_shm.h"
#include "oas_shm_lock.h"
#include "oas_store_shm.h"

#define OAS_SHM_RETAINED_KEY "mod_oauth_as-shm"

/* Survives restarts: allocated by ap_retained_data_create(), zeroed the first time. */
typedef struct {
    apr_shm_t *shm;
    apr_global_mutex_t *mutex;
    /* OAuthASStoreSize as oas_iss_store_size() gives it (> 0 entries, < 0 KiB): a block
     * retained by an older build holds entries here, which means the same */
    apr_int32_t setting;
    /* the mechanism is pthread: the store uses the lock in its segment. Fits in what was
     * padding, so a block retained by an older build (graceful restart into this one) reads
     * 0 here and keeps APR's mutex until a full restart. */
    int own_lock;
} oas_shm_retained_t;

/* Set in post_config (parent) and again in child_init; read-only at request time (P8). */
static oas_store_t *shm_store;

/* A statically linked module keeps its statics across generations: forget the store with
 * the pconf that saw it attached, so a generation without a store has none. */
static apr_status_t shm_store_forget(void *data)
{
    (void)data;
    shm_store = NULL;
    return APR_SUCCESS;
}

apr_status_t oas_mod_shm_pre_config(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, OAS_MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0);
}

/* Attaches this process's store to the retained segment, with the lock chosen at start. */
static apr_status_t shm_attach(oas_shm_retained_t *ret, apr_pool_t *p,
                               apr_global_mutex_t *mutex)
{
    void *base = apr_shm_baseaddr_get(ret->shm);
    apr_size_t size = apr_shm_size_get(ret->shm);

    return ret->own_lock ? oas_shm_store_attach_own_lock(&shm_store, p, base, size)
                         : oas_shm_store_attach(&shm_store, p, base, size, mutex);
}

apr_size_t oas_mod_shm_bytes(int setting)
{
    if (setting > 0)
        return oas_shm_store_size_needed((apr_uint32_t)setting);
    return (apr_size_t)-(apr_int64_t)setting * 1024;
}

/* The setting for the log: "N entries" or "N bytes". */
static const char *setting_text(apr_pool_t *p, int setting)
{
    return setting > 0 ? apr_psprintf(p, "%d entries", setting)
                       : apr_psprintf(p, "%" APR_SIZE_T_FMT " bytes", oas_mod_shm_bytes(setting));
}

/* A new anonymous segment in the process pool, formatted for the setting. */
static apr_status_t shm_create(oas_shm_retained_t *ret, server_rec *s, int setting)
{
    apr_size_t size = oas_mod_shm_bytes(setting);
    apr_status_t rv;

    rv = apr_shm_create(&ret->shm, size, NULL, s->process->pool);
    if (rv != APR_SUCCESS) {
        ret->shm = NULL;
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, OAS_LOGNO(01003)
                     "cannot create a shared-memory segment of %" APR_SIZE_T_FMT " bytes",
                     size);
        return rv;
    }
    rv = setting > 0 ? oas_shm_store_format(apr_shm_baseaddr_get(ret->shm),
                                            apr_shm_size_get(ret->shm), (apr_uint32_t)setting)
                     : oas_shm_store_format_bytes(apr_shm_baseaddr_get(ret->shm), size);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, OAS_LOGNO(01004)
                     "cannot initialise the shared-memory store");
        apr_shm_destroy(ret->shm);
        ret->shm = NULL;
        return rv;
    }
    ret->setting = setting;
    return APR_SUCCESS;
}

/* Old children of a graceful restart keep their own mapping of the segment; destroying it
 * here only unmaps it from the parent. */
static void shm_drop(oas_shm_retained_t *ret)
{
    apr_shm_destroy(ret->shm);
    ret->shm = NULL;
    ret->setting = 0;
}

apr_status_t oas_mod_shm_post_config(server_rec *s, apr_pool_t *pconf, int setting)
{
    oas_shm_retained_t *ret = ap_retained_data_get(OAS_SHM_RETAINED_KEY);
    const char *why = NULL;
    oas_shm_usage_t u;
    apr_status_t rv;

    if (setting > 0 ? oas_shm_store_size_needed((apr_uint32_t)setting) == 0
                    : oas_shm_store_entries_in(oas_mod_shm_bytes(setting)) == 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, OAS_LOGNO(01001)
                     "store size %s is out of range (1..%u entries, or %uK and up)",
                     setting_text(pconf, setting), OAS_SHM_MAX_ENTRIES, OAS_SHM_MIN_BYTES / 1024);
        return APR_EINVAL;
    }
    if (!ret)
        ret = ap_retained_data_create(OAS_SHM_RETAINED_KEY, sizeof(*ret));

    /* 1. the mutex: once per server lifetime, so every generation locks the same one.
     * A changed Mutex directive for this type therefore applies after a full restart. */
    if (!ret->mutex) {
        rv = ap_global_mutex_create(&ret->mutex, NULL, OAS_MUTEX_TYPE, NULL, s,
                                    s->process->pool, 0);
        if (rv != APR_SUCCESS) {
            ret->mutex = NULL;
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, OAS_LOGNO(01002)
                         "cannot create the global mutex %s", OAS_MUTEX_TYPE);
            return rv;
        }
        /* `Mutex pthread|default oauth-as-store` (or none): APR's robust pthread mutex is a
         * priority-inheritance futex that convoys a busy threaded server; the store uses
         * its own lock in the segment instead (robust, timed, no priority inheritance,
         * src/oas_shm_lock.h), unless this C library fails the lock's self-test. Any other
         * mechanism is APR's global mutex as configured. The APR mutex is created either
         * way, so the directive is checked as before, and is the fallback. */
        ret->own_lock = oas_shm_lock_wanted(apr_global_mutex_name(ret->mutex), &why);
        if (why)
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, OAS_LOGNO(01011)
                         "the store's own lock fails its self-test on this C library (%s): "
                         "the store uses APR's %s mutex instead (priority inheritance: slower "
                         "under contention)", why, apr_global_mutex_name(ret->mutex));
    }

    /* 2. the segment: reused with its contents unless the size changed; a segment of an
     * older layout fails to attach below and is made again */
    if (ret->shm && ret->setting != setting) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, OAS_LOGNO(01005)
                     "store size changed from %s to %s: store re-created, "
                     "its contents dropped", setting_text(pconf, ret->setting),
                     setting_text(pconf, setting));
        shm_drop(ret);
    }
    if (!ret->shm && (rv = shm_create(ret, s, setting)) != APR_SUCCESS)
        return rv;

    /* 3. attach in the parent; a segment left by another build of the module is replaced */
    rv = shm_attach(ret, pconf, ret->mutex);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, rv, s, OAS_LOGNO(01006)
                     "retained store has an unknown layout: store re-created, "
                     "its contents dropped");
        shm_drop(ret);
        if ((rv = shm_create(ret, s, setting)) != APR_SUCCESS)
            return rv;
        rv = shm_attach(ret, pconf, ret->mutex);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, OAS_LOGNO(01007)
                         "cannot attach the shared-memory store");
            return rv;
        }
    }
    apr_pool_cleanup_register(pconf, NULL, shm_store_forget, apr_pool_cleanup_null);

    /* not the counts in use: they take the lock, and the parent must not wait on a child */
    oas_shm_store_geometry(&u, shm_store);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, OAS_LOGNO(01008)
                 "shared-memory store: %" APR_SIZE_T_FMT " bytes (OAuthASStoreSize %s): %u "
                 "entries, %" APR_SIZE_T_FMT " bytes per entry, values %u chunks of %d bytes, "
                 "lock: %s", u.bytes, setting_text(pconf, setting), u.capacity,
                 (u.bytes + u.capacity - 1) / u.capacity, u.chunks, OAS_SHM_CHUNK_SIZE,
                 ret->own_lock ? "in the segment (robust, no priority inheritance)"
                               : apr_global_mutex_name(ret->mutex));
    return APR_SUCCESS;
}

apr_status_t oas_mod_shm_child_init(apr_pool_t *pchild, server_rec *s)
{
    oas_shm_retained_t *ret = ap_retained_data_get(OAS_SHM_RETAINED_KEY);
    apr_global_mutex_t *mutex;
    apr_status_t rv;

    if (!shm_store || !ret || !ret->shm || !ret->mutex)
        return APR_SUCCESS; /* no issuer uses the store in this generation */
    /* the own lock needs nothing re-opened: it is in the inherited mapping of the segment;
     * APR's mutex gets the child's own handle (file locks are per open file) */
    mutex = NULL;
    if (!ret->own_lock) {
        mutex = ret->mutex;
        rv = apr_global_mutex_child_init(&mutex, apr_global_mutex_lockfile(mutex), pchild);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, OAS_LOGNO(01009)
                         "cannot re-open the global mutex %s in this child", OAS_MUTEX_TYPE);
            shm_store = NULL;
            return rv;
        }
    }
    rv = shm_attach(ret, pchild, mutex);
    if (rv != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, OAS_LOGNO(01010)
                     "cannot attach the shared-memory store in this child");
    return rv;
}

oas_store_t *oas_mod_shm_store(void)
{
    return shm_store;
}
