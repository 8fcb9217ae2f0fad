/* mod_oauth_as: DPoP (RFC 9449) at our endpoints: what OAuthASDPoP and OAuthASDPoPNonce make
 * of a request's proof at the token and PAR endpoints (the key tokens and codes are bound to)
 * and at userinfo (the proof of the key a bound access token names). The proof itself is
 * checked by oas_dpop_check (oas_dpop.h); the glue only reads the DPoP header and renders. */
#ifndef OAS_DPOP_ENDPOINT_H
#define OAS_DPOP_ENDPOINT_H

#include <jansson.h>

#include "oas_dpop.h"

/** The proof of a request to endpoint ep (OAS_EP_TOKEN or OAS_EP_PAR) of the authenticated
 * client c. in carries what the request had (header, header_count, method: the rest is filled
 * here: htu from the issuer, never the Host header; the algorithms; the client's nonce
 * setting). OAuthASDPoP Off: the header is ignored. A valid proof sets x->dpop_jkt, the key
 * the tokens or the code are bound to; no proof leaves it NULL, and is refused only at the
 * token endpoint when the client's setting is Required.
 * @param pnonce a fresh nonce to send in DPoP-Nonce (on success and on use_dpop_nonce) when
 *        the client's OAuthASDPoPNonce is On, else NULL
 * @return APR_SUCCESS, or with *e set: 400 invalid_dpop_proof (no proof where one is
 *         required, or a refused proof), 400 use_dpop_nonce, 503 */
apr_status_t oas_dpop_at_as(const char **pnonce, oas_err_t *e, oas_ctx_t *x, const oas_client_t *c,
                            const oas_dpop_req_t *in, oas_endpoint_e ep);

/** An access token presented to resource endpoint ep (OAS_EP_USERINFO; OAS_EP_NONE for a
 * protected resource, whose URL in->htu then gives) with its live claims at, by the scheme
 * DPoP (in given: what the request had, as above) or Bearer (in NULL).
 * RFC 9449 §7: a bound token (cnf.jkt) needs the DPoP scheme and a proof of its key with
 * ath; the DPoP scheme needs a bound token and a proof. The nonce setting is that of the
 * client the token was issued to.
 * @param pnonce as for oas_dpop_at_as
 * @return APR_SUCCESS, or with *e set: 401 invalid_token (a bound token sent as Bearer, an
 *         unbound one with the DPoP scheme), 401 invalid_dpop_proof, 401 use_dpop_nonce, 503
 */
apr_status_t oas_dpop_at_resource(const char **pnonce, oas_err_t *e, oas_ctx_t *x, const json_t *at,
                                  const char *tok, const oas_dpop_req_t *in, oas_endpoint_e ep);

/** The key (RFC 7638 thumbprint) access token claims at are bound to (cnf.jkt), or NULL. */
const char *oas_dpop_token_jkt(const json_t *at);

/** The algorithms a DPoP proof may use: OAuthASClientSigningAlgs, never HS256. */
unsigned oas_dpop_algs(const oas_issuer_t *iss);

#endif
