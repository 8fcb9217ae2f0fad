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
    if (!x->opened[kind]) {
        if (x->open)
            x->store[kind] = x->open(x->open_baton, kind);
        x->opened[kind] = 1;
    }
    return x->store[kind];
}
