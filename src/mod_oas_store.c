/* mod_oauth_as: store selection, per-client quota and store-failure responses. */
#include <stdio.h>

#include "mod_oas_dbd.h"
#include "mod_oas_request.h"
#include "mod_oas_shm.h"
#include "mod_oas_store.h"

oas_store_t *oas_mod_store_short(request_rec *r, const oas_issuer_t *iss)
{
    return oas_iss_store_short(iss) == OAS_STORE_DBD ? oas_mod_dbd_store(r) : oas_mod_shm_store();
}

oas_store_t *oas_mod_store_long(request_rec *r, const oas_issuer_t *iss)
{
    return oas_iss_store_long(iss) == OAS_STORE_DBD ? oas_mod_dbd_store(r) : oas_mod_shm_store();
}

void oas_mod_counter_get(request_rec *r, oas_store_t *st, int ns, const char *key, long *count,
                         apr_int64_t *until)
{
    char *val;
    apr_size_t len;

    *count = 0;
    *until = 0;
    if (st && oas_store_get(st, r->pool, ns, key, &val, &len) == APR_SUCCESS &&
        sscanf(val, "%ld %" APR_INT64_T_FMT, count, until) != 2) {
        *count = 0;
        *until = 0;
    }
}

apr_status_t oas_mod_counter_put(request_rec *r, oas_store_t *st, int ns, const char *key,
                                 long count, apr_int64_t until)
{
    const char *val = apr_psprintf(r->pool, "%ld %" APR_INT64_T_FMT, count, until);

    return st ? oas_store_put(st, r->pool, ns, key, val, strlen(val), apr_time_from_sec(until))
              : APR_ENOTIMPL;
}

int oas_mod_client_over_quota(request_rec *r, const oas_issuer_t *iss, const oas_client_t *c)
{
    oas_store_t *st = oas_mod_store_short(r, iss);
    apr_int64_t now = apr_time_sec(apr_time_now()), until;
    long count;

    if (oas_iss_client_quota(iss) <= 0 || !st)
        return 0;
    oas_mod_counter_get(r, st, OAS_NS_QUOTA, c->id, &count, &until);
    if (until <= now) {
        count = 0;
        until = now + (oas_iss_request_uri_ttl(iss) > oas_iss_code_ttl(iss)
                           ? oas_iss_request_uri_ttl(iss)
                           : oas_iss_code_ttl(iss));
    }
    if (count >= oas_iss_client_quota(iss)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAS_LOGNO(00162)
                      "client %s over its quota of %d authorization requests", c->id,
                      oas_iss_client_quota(iss));
        apr_table_setn(r->err_headers_out, "Retry-After",
                       apr_psprintf(r->pool, "%" APR_INT64_T_FMT, until - now));
        return 1;
    }
    oas_mod_counter_put(r, st, OAS_NS_QUOTA, c->id, count + 1, until);
    return 0;
}

int oas_mod_store_failure(request_rec *r, apr_status_t rv, const char *what, int json)
{
    oas_err_t e;

    oas_err_store(&e, r->pool, rv, what);
    if (json)
        return oas_mod_send_err(r, &e);
    oas_mod_log_err(r, &e);
    return oas_mod_send_error_page(r, HTTP_SERVICE_UNAVAILABLE, "Temporarily unavailable",
                                   "The server is busy. Please try again in a moment.");
}

static oas_store_t *ctx_open(void *baton, int kind)
{
    oas_ctx_t *x = baton;
    request_rec *r = x->log;
    int which = kind == OAS_CTX_LONG ? oas_iss_store_long(x->iss) : oas_iss_store_short(x->iss);

    return which == OAS_STORE_DBD ? oas_mod_dbd_store(r) : oas_mod_shm_store();
}

oas_ctx_t *oas_mod_ctx(request_rec *r, const oas_issuer_t *iss)
{
    oas_ctx_t *x = apr_palloc(r->pool, sizeof(*x));

    oas_ctx_init(x, r->pool, iss, apr_time_sec(apr_time_now()));
    x->addr = r->useragent_ip ? r->useragent_ip : "";
    x->user = r->user;
    x->log = r;
    x->open = ctx_open;
    x->open_baton = x;
    return x;
}
