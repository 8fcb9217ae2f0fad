/* mod_oauth_as: the engine's per-request context (oas_ctx.h). */
#include <string.h>

#include "oas_ctx.h"

void oas_ctx_init(oas_ctx_t *x, apr_pool_t *p, const oas_issuer_t *iss, apr_int64_t now)
{
    memset(x, 0, sizeof(*x));
    x->p = p;
    x->iss = iss;
    x->now = now;
    x->addr = "";
}

oas_store_t *oas_ctx_store(oas_ctx_t *x, int kind)
{
    if (!x->open && !x->store[kind] && kind > OAS_CTX_LONG)
        return oas_ctx_store(x, OAS_CTX_SHORT); /* as it is now: tests swap stores */
    if (!x->opened[kind]) {
        if (x->open)
            x->store[kind] = x->open(x->open_baton, kind);
        x->opened[kind] = 1;
    }
    return x->store[kind];
}

apr_status_t oas_store_refused(oas_ctx_t *x, oas_err_t *e, apr_status_t rv, const char *what)
{
    apr_status_t r = oas_err_store(e, x->p, rv, what);

    /* live records give way to nothing: the store frees itself as they expire */
    if (APR_STATUS_IS_ENOSPC(rv))
        e->retry_after = oas_iss_short_lived(x->iss);
    return r;
}
