/* mod_oauth_as: store selection, the engine's context and store-failure responses. */
#include "mod_oas_store.h"
#include "mod_oas_dbd.h"
#include "mod_oas_request.h"
#include "mod_oas_shm.h"

oas_store_t *oas_mod_store_short(request_rec *r, const oas_issuer_t *iss)
{
    return oas_iss_store_short(iss) == OAS_STORE_DBD ? oas_mod_dbd_store(r) : oas_mod_shm_store();
}

oas_store_t *oas_mod_store_long(request_rec *r, const oas_issuer_t *iss)
{
    return oas_iss_store_long(iss) == OAS_STORE_DBD ? oas_mod_dbd_store(r) : oas_mod_shm_store();
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
    return kind == OAS_CTX_LONG ? oas_mod_store_long(r, x->iss) : oas_mod_store_short(r, x->iss);
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
