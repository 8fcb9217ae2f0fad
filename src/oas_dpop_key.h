/* mod_oauth_as: the public key of a DPoP proof (its "jwk" header) and its RFC 7638 thumbprint,
 * with the keys a thread imported last kept for the next proofs (oas_dpop_key.c). */
#ifndef OAS_DPOP_KEY_H
#define OAS_DPOP_KEY_H

#include "oas_jwk.h"

/* JWKs longer than this are imported every time (an RSA-8192 JWK is ~1.4 KB) */
#define OAS_DPOP_KEY_CACHE_MAX_LEN 2048
/* how many keys each thread keeps */
#define OAS_DPOP_KEY_CACHE 8

/** The key of a proof's jwk, as oas_jwk_parse reads it (public only; a private member, kty
 * oct and the rest refused), and its thumbprint from the members as written. A jwk whose
 * exact text this thread imported lately is not imported again: its key is shared (a reference
 * held by p) and its algs and jkt copied.
 * @param pk receives the key in p (its kid and x5c0 are NULL when it came from the cache:
 *        a DPoP proof's key is its jwk, never picked by kid)
 * @param pjkt receives the RFC 7638 SHA-256 thumbprint (base64url) in p
 * @param why receives the reason on failure (static or in p; names no key material)
 * @return APR_SUCCESS, APR_EINVAL refused */
apr_status_t oas_dpop_key(oas_jwk_t **pk, const char **pjkt, const char **why, apr_pool_t *p,
                          const char *jwk, apr_size_t len);

#endif
