/* mod_oauth_as: owns the shared-memory segment of the tally (mod_oas_tally.h). */
#include "mod_oas_private.h"

#include <apr_shm.h>

#include "mod_oas_tally.h"

#define OAS_TALLY_RETAINED_KEY "mod_oauth_as-tally"

/* Survives restarts: allocated by ap_retained_data_create(), zeroed the first time. */
typedef struct {
    apr_shm_t *shm;
    apr_size_t bytes; /* asked for at creation */
} oas_tally_retained_t;

/* Set in post_config (parent) and again in child_init; read-only at request time. */
static oas_tally_t *tally;

static apr_status_t tally_forget(void *data)
{
    (void)data;
    tally = NULL;
    return APR_SUCCESS;
}

apr_size_t oas_mod_tally_bytes(apr_size_t store_bytes)
{
    /* the markers of a FAPI 2.0 flow (two assertions, three DPoP proofs) stay ~1,200
     * record-seconds: at an eighth the default held 800 such flows/s, under what one node
     * answers; at half it holds ~2,550 (80 % of its records) */
    apr_size_t b = store_bytes / 2;

    return b < OAS_TALLY_MIN_BYTES ? OAS_TALLY_MIN_BYTES : b;
}

static apr_status_t tally_create(oas_tally_retained_t *ret, server_rec *s, apr_size_t bytes)
{
    apr_status_t rv = apr_shm_create(&ret->shm, bytes, NULL, s->process->pool);

    if (rv == APR_SUCCESS &&
        (rv = oas_tally_format(apr_shm_baseaddr_get(ret->shm), apr_shm_size_get(ret->shm),
                               apr_time_sec(apr_time_now()))) != APR_SUCCESS)
        apr_shm_destroy(ret->shm);
    if (rv != APR_SUCCESS) {
        ret->shm = NULL;
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, OAS_LOGNO(01012)
                     "cannot create the counters' table of %" APR_SIZE_T_FMT " bytes", bytes);
        return rv;
    }
    ret->bytes = bytes;
    return APR_SUCCESS;
}

static apr_status_t tally_attach(oas_tally_retained_t *ret, apr_pool_t *p)
{
    return oas_tally_attach(&tally, p, apr_shm_baseaddr_get(ret->shm),
                            apr_shm_size_get(ret->shm));
}

apr_status_t oas_mod_tally_post_config(server_rec *s, apr_pool_t *pconf, apr_size_t bytes)
{
    oas_tally_retained_t *ret = ap_retained_data_get(OAS_TALLY_RETAINED_KEY);
    apr_status_t rv;

    if (!ret)
        ret = ap_retained_data_create(OAS_TALLY_RETAINED_KEY, sizeof(*ret));
    /* kept with its counts and markers across a graceful restart, unless its size changed
     * (old children keep their own mapping of the old one until they exit) */
    if (ret->shm && ret->bytes != bytes) {
        apr_shm_destroy(ret->shm);
        ret->shm = NULL;
    }
    if (!ret->shm && (rv = tally_create(ret, s, bytes)) != APR_SUCCESS)
        return rv;
    if ((rv = tally_attach(ret, pconf)) != APR_SUCCESS) {
        /* a segment of another layout (a build restarted gracefully into this one) */
        apr_shm_destroy(ret->shm);
        ret->shm = NULL;
        if ((rv = tally_create(ret, s, bytes)) != APR_SUCCESS ||
            (rv = tally_attach(ret, pconf)) != APR_SUCCESS)
            return rv;
    }
    apr_pool_cleanup_register(pconf, NULL, tally_forget, apr_pool_cleanup_null);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, OAS_LOGNO(01013)
                 "counters' table: %" APR_SIZE_T_FMT " bytes, %u records",
                 apr_shm_size_get(ret->shm), oas_tally_slots(tally));
    return APR_SUCCESS;
}

apr_status_t oas_mod_tally_child_init(apr_pool_t *pchild, server_rec *s)
{
    oas_tally_retained_t *ret = ap_retained_data_get(OAS_TALLY_RETAINED_KEY);
    apr_status_t rv;

    if (!tally || !ret || !ret->shm)
        return APR_SUCCESS; /* none in this generation */
    if ((rv = tally_attach(ret, pchild)) != APR_SUCCESS) {
        tally = NULL;
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, OAS_LOGNO(01014)
                     "cannot attach the counters' table in this child");
    }
    return rv;
}

oas_tally_t *oas_mod_tally(void)
{
    return tally;
}
