/* mod_oauth_as: the engine's context for a request, and which store serves each kind. */
#include "mod_oas_store.h"
#include "mod_oas_dbd.h"
#include "mod_oas_shm.h"
#include "mod_oas_tally.h"

/* The store of kind OAS_CTX_* for the context's issuer: the database store takes a pooled
 * connection of this request (NULL when none can be had, logged). Counters, and the markers
 * of a node whose short-lived store is its shared memory, go to the tally; their events
 * (refusals) to the short-lived store's figures in server-status. */
static oas_store_t *ctx_open(void *baton, int kind)
{
    oas_ctx_t *x = baton;
    int which = kind == OAS_CTX_LONG ? oas_iss_store_long(x->iss) : oas_iss_store_short(x->iss);

    if ((kind == OAS_CTX_COUNTERS || (kind == OAS_CTX_REPLAY && which == OAS_STORE_SHM)) &&
        oas_mod_tally())
        return oas_tally_store(oas_mod_tally(), x->p, oas_ctx_store(x, OAS_CTX_SHORT));
    return which == OAS_STORE_DBD ? oas_mod_dbd_store((request_rec *)x->log)
                                  : oas_mod_shm_store();
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
