/* mod_oauth_as: DPoP at our endpoints (oas_dpop_endpoint.h). */
#include <apr_strings.h>

#include "oas_clients.h"
#include "oas_dpop_endpoint.h"
#include "oas_json.h"
#include "oas_keys.h"

unsigned oas_dpop_algs(const oas_issuer_t *iss)
{
    return oas_iss_client_signing_algs(iss) & ~(unsigned)OAS_ALGBIT(OAS_ALG_HS256);
}

const char *oas_dpop_token_jkt(const json_t *at)
{
    const char *jkt = oas_json_str(json_object_get(at, "cnf"), "jkt");

    return jkt && *jkt ? jkt : NULL;
}

/* The check of in's proof for endpoint ep with the nonce setting of client c (NULL: none)
 * and, at a resource, the access token tok. APR_NOTFOUND: no DPoP header (*pd untouched). */
static apr_status_t check(oas_dpop_t **pd, const char **pnonce, oas_err_t *e, oas_ctx_t *x,
                          const oas_client_t *c, const oas_dpop_req_t *in, oas_endpoint_e ep,
                          const char *tok)
{
    oas_dpop_req_t req = *in;
    apr_status_t rv;

    req.nonce_key = x->iss->dpop_nonce_key;
    req.nonce_required = c && oas_client_dpop_nonce(x->iss, c) && req.nonce_key;
    if (!in->header && !in->header_count) { /* no proof, nothing to check: a nonce to offer */
        *pnonce = req.nonce_required ? oas_dpop_nonce_new(x->p, req.nonce_key, x->now) : NULL;
        return APR_NOTFOUND;
    }
    /* RFC 9449 §4.3: the endpoint's URL as the issuer publishes it (on the OAuthASMTLSAlias
     * host, as mtls_endpoint_aliases does), never the Host header; a protected resource's
     * own URL when the caller gives it */
    if (!in->htu)
        req.htu = apr_pstrcat(x->p, x->on_mtls_alias ? x->iss->mtls_alias : x->iss->issuer_origin,
                              x->iss->endpoints[ep], NULL);
    req.access_token = tok;
    /* at our endpoints, the algorithms of that client (its profile may narrow them) */
    req.algs = c ? oas_client_signing_algs(x->iss, c) & oas_dpop_algs(x->iss)
                 : oas_dpop_algs(x->iss);
    rv = oas_dpop_check(pd, e, x, &req);
    *pnonce = (*pd)->fresh_nonce;
    return rv;
}

apr_status_t oas_dpop_at_as(const char **pnonce, oas_err_t *e, oas_ctx_t *x, const oas_client_t *c,
                            const oas_dpop_req_t *in, oas_endpoint_e ep)
{
    int mode = oas_client_dpop(x->iss, c);
    oas_dpop_t *d;
    apr_status_t rv;

    *pnonce = NULL;
    x->dpop_jkt = NULL;
    if (mode == OAS_DPOP_OFF) /* the header is ignored: Bearer tokens, unbound codes */
        return APR_SUCCESS;
    rv = check(&d, pnonce, e, x, c, in, ep, NULL);
    if (rv == APR_NOTFOUND) {
        /* Required is about the tokens: a push without a proof may still bind its code by
         * dpop_jkt, or leave the binding to the token request (RFC 9449 §10) */
        if (mode != OAS_DPOP_REQUIRED || ep != OAS_EP_TOKEN)
            return APR_SUCCESS;
        return oas_err(e, x->p, 400, "invalid_dpop_proof", "a DPoP proof is required", OAS_LOG_INFO,
                       OAS_LOGNO(06453) "client %s sent no DPoP proof (required)", c->id);
    }
    if (rv != APR_SUCCESS)
        return rv;
    x->dpop_jkt = d->jkt;
    return APR_SUCCESS;
}

/* A 401 of a resource endpoint (RFC 9449 §7.1, RFC 6750 §3.1). */
static apr_status_t refuse(oas_err_t *e, oas_ctx_t *x, const char *error, const char *desc,
                           const char *why, const json_t *at)
{
    return oas_err(e, x->p, 401, error, desc, OAS_LOG_INFO,
                   OAS_LOGNO(06454) "access token jti %s of client %s refused: %s",
                   at ? oas_json_str(at, "jti") : "?", at ? oas_json_str(at, "client_id") : "?",
                   why);
}

apr_status_t oas_dpop_at_resource(const char **pnonce, oas_err_t *e, oas_ctx_t *x, const json_t *at,
                                  const char *tok, const oas_dpop_req_t *in, oas_endpoint_e ep)
{
    const char *jkt = oas_dpop_token_jkt(at);
    const oas_client_t *c = oas_ctx_client(x, oas_json_str(at, "client_id"));
    oas_dpop_t *d;
    apr_status_t rv;

    *pnonce = NULL;
    if (!in) {
        /* RFC 9449 §7.2: a bound token is no bearer token */
        if (jkt)
            return refuse(e, x, "invalid_token", "the access token is bound to a DPoP key",
                          "DPoP-bound, sent as a Bearer token", at);
        return APR_SUCCESS;
    }
    if (!jkt)
        return refuse(e, x, "invalid_token", "the access token is not DPoP-bound",
                      "not DPoP-bound, sent with the DPoP scheme", at);
    rv = check(&d, pnonce, e, x, c, in, ep, tok);
    if (rv == APR_NOTFOUND)
        return refuse(e, x, "invalid_dpop_proof", "a DPoP proof is required",
                      "the DPoP scheme without a proof", at);
    if (rv != APR_SUCCESS) {
        if (e->status == 400) /* the resource's answer to the proof is 401 (§7.1) */
            e->status = 401;
        return rv;
    }
    /* RFC 9449 §4.3 step 12: the proof's key is the one the token is bound to */
    if (strcmp(d->jkt, jkt))
        return refuse(e, x, "invalid_dpop_proof",
                      "the DPoP proof is not signed with the token's key",
                      "the DPoP proof's key is not the token's", at);
    return APR_SUCCESS;
}
