/* mod_oauth_as: the metrics segment's lifecycle, the count of each answered request, and the
 * scrape. Requests are counted where they end (log_transaction), from what the rendering
 * helpers noted (the OAuth error code, mod_oas_request.c), not by each handler. */
#include "mod_oas_private.h"

#include <apr_shm.h>
#include <http_protocol.h>
#include <http_request.h>
#include <scoreboard.h>

#include "mod_oas_config.h"
#include "mod_oas_metrics.h"
#include "mod_oas_request.h"
#include "mod_oas_shm.h"
#include "mod_oas_tally.h"
#include "oas_metrics.h"

#define OAS_METRICS_RETAINED_KEY "mod_oauth_as-metrics"

/* Survives restarts (ap_retained_data_create zeroes it the first time). */
typedef struct {
    apr_shm_t *shm;
} oas_metrics_retained_t;

static oas_metrics_retained_t *metrics_retained(void)
{
    oas_metrics_retained_t *ret = ap_retained_data_get(OAS_METRICS_RETAINED_KEY);

    return ret ? ret : ap_retained_data_create(OAS_METRICS_RETAINED_KEY, sizeof(*ret));
}

static apr_status_t metrics_create(oas_metrics_retained_t *ret, server_rec *s)
{
    apr_status_t rv = apr_shm_create(&ret->shm, oas_metrics_size(), NULL, s->process->pool);

    if (rv != APR_SUCCESS) {
        ret->shm = NULL;
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, OAS_LOGNO(00750)
                     "cannot create the metrics segment (%" APR_SIZE_T_FMT " bytes)",
                     oas_metrics_size());
        return rv;
    }
    oas_metrics_format(apr_shm_baseaddr_get(ret->shm), apr_shm_size_get(ret->shm));
    return APR_SUCCESS;
}

apr_status_t oas_mod_metrics_post_config(server_rec *s)
{
    oas_metrics_retained_t *ret = metrics_retained();
    apr_status_t rv;

    if (!ret->shm && (rv = metrics_create(ret, s)) != APR_SUCCESS)
        return rv;
    if (oas_metrics_attach(apr_shm_baseaddr_get(ret->shm), apr_shm_size_get(ret->shm)) !=
        APR_SUCCESS) {
        /* a segment of another build's layout, restarted gracefully into this one */
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, OAS_LOGNO(00751)
                     "retained metrics segment has an unknown layout: counters restart at 0");
        apr_shm_destroy(ret->shm);
        ret->shm = NULL;
        if ((rv = metrics_create(ret, s)) != APR_SUCCESS)
            return rv;
        return oas_metrics_attach(apr_shm_baseaddr_get(ret->shm), apr_shm_size_get(ret->shm));
    }
    return APR_SUCCESS;
}

/* The MPM runs pre_mpm at the first start and at each hard restart, never at a graceful
 * one: the counters start again with the server, as Prometheus expects of a restart. */
static int metrics_pre_mpm(apr_pool_t *p, ap_scoreboard_e sb_type)
{
    oas_metrics_retained_t *ret = ap_retained_data_get(OAS_METRICS_RETAINED_KEY);

    if (ret && ret->shm)
        oas_metrics_format(apr_shm_baseaddr_get(ret->shm), apr_shm_size_get(ret->shm));
    return OK;
}

/* Every request one of our endpoints answered, but the scrapes themselves: their final
 * status (after an internal redirect), the OAuth error noted and the time taken. */
static int metrics_log_transaction(request_rec *r)
{
    const oas_dir_conf_t *dc = ap_get_module_config(r->per_dir_config, &oauth_as_module);
    const request_rec *last = r;

    if (!dc || dc->endpoint == OAS_EP_NONE || dc->endpoint == OAS_EP_METRICS ||
        !oas_metrics_enabled())
        return DECLINED;
    while (last->next)
        last = last->next;
    oas_metrics_request(dc->endpoint, last->status, oas_mod_noted_error(r),
                        apr_time_now() - r->request_time);
    return DECLINED;
}

void oas_mod_metrics_register(apr_pool_t *p)
{
    ap_hook_pre_mpm(metrics_pre_mpm, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(metrics_log_transaction, NULL, NULL, APR_HOOK_MIDDLE);
}

int oas_mod_metrics(request_rec *r)
{
    oas_store_t *st = oas_mod_shm_store();
    oas_tally_t *tally = oas_mod_tally();
    oas_tally_stats_t ts;
    oas_shm_usage_t u;
    oas_metrics_slot_t *sum;
    int rv = oas_mod_check_method(r, 1, 0);

    if (rv != OK)
        return rv;
    if (!oas_metrics_enabled()) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAS_LOGNO(00752)
                      "metrics requested, but the metrics segment could not be attached");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    sum = apr_palloc(r->pool, sizeof(*sum));
    oas_metrics_read(sum);
    if (st && oas_shm_store_usage(&u, st) != APR_SUCCESS)
        st = NULL; /* its figures are left out of this scrape */
    if (tally)
        oas_tally_counters(tally, &ts);
    return oas_mod_send_nostore(r, HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                                oas_metrics_render(r->pool, sum, st ? &u : NULL,
                                                   tally ? &ts : NULL));
}
