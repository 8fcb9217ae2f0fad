/* mod_oauth_as: DPoP proof validation (oas_dpop.h). */
#include "oas_dpop.h"

apr_status_t oas_dpop_check(oas_dpop_t **pd, oas_err_t *err, oas_ctx_t *x,
                            const oas_dpop_req_t *req)
{
    (void)req;
    *pd = apr_pcalloc(x->p, sizeof(**pd));
    OAS_ERR_SET(err, 400, "invalid_dpop_proof", "DPoP is not implemented yet");
    return APR_ENOTIMPL;
}

const char *oas_dpop_htu_normalize(apr_pool_t *p, const char *url)
{
    (void)p, (void)url;
    return NULL;
}
