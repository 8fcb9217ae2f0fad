/* mod_oauth_as: public JSON Web Keys (RFC 7517/7518, RFC 8037) of clients: a JWK Set read
 * from a file or a jwks_uri, or one JWK from a JOSE header (DPoP). Only public keys of the
 * types we verify are accepted. */
#ifndef OAS_JWK_H
#define OAS_JWK_H

#include <openssl/evp.h>

#include "oas.h"

typedef struct oas_jwk_t {
    EVP_PKEY *pkey;   /* public key; freed with the pool it was parsed into */
    const char *kid;  /* NULL when the JWK has none */
    const char *kty;  /* "RSA", "EC", "OKP" */
    unsigned algs;    /* OAS_ALGBIT() of every alg this key may verify: its "alg" member
                       * alone when present, else each alg of its type and curve */
    const char *x5c0; /* base64 (not url) DER of x5c[0] when present, else NULL */
} oas_jwk_t;

/* Limits on what a client (or a DPoP proof) hands us: a JWK Set document, its keys, and the
 * length of any one member value (an RSA modulus of 8192 bits is 683 base64url bytes; x5c[0]
 * is a certificate). */
#define OAS_JWKS_MAX_LEN 65536
#define OAS_JWKS_MAX_KEYS 64
#define OAS_JWK_MAX_MEMBER 16384
#define OAS_JWK_RSA_MIN_BITS 2048
#define OAS_JWK_RSA_MAX_BITS 8192

/** Parse one public JWK (a JSON object): an OAuthASClientJWKS key, or a DPoP header's "jwk".
 * Refused: invalid JSON, a private member (d, p, q, dp, dq, qi, oth, k), kty "oct" or any kty
 * but RSA (n, e; modulus >= 2048 bits), EC (crv P-256, x, y of 32 bytes, on the curve) and
 * OKP (crv Ed25519, x of 32 bytes); an "alg" the key cannot verify with (RSA: RS256|PS256, EC:
 * ES256, OKP: EdDSA), a member of the wrong JSON type or over OAS_JWK_MAX_MEMBER bytes.
 * Without "alg" an RSA key may verify RS256 and PS256; with one, that alg only.
 * @param pk receives the key in p (its EVP_PKEY is freed when p is cleared)
 * @param perr receives the reason on failure (static or in p; names no key material)
 * @return APR_SUCCESS, APR_EINVAL refused (perr set), APR_ENOTIMPL a "use" other than "sig"
 *         (perr set: a set skips such a key), APR_EGENERAL OpenSSL failed */
apr_status_t oas_jwk_parse(oas_jwk_t **pk, const char **perr, apr_pool_t *p, const char *json,
                           apr_size_t len);

/** Parse a JWK Set {"keys":[...]} (RFC 7517 §5) of at most OAS_JWKS_MAX_LEN bytes and
 * OAS_JWKS_MAX_KEYS keys, each under the rules of oas_jwk_parse. A key with "use":"enc" is
 * skipped; any other refused key refuses the whole set (perr names its index and kid). With
 * more than one key each needs a "kid", distinct from the others'.
 * @param pkeys receives an array of oas_jwk_t * in p, never empty on success
 * @return APR_SUCCESS, APR_EINVAL (perr set; also when no usable key is left) */
apr_status_t oas_jwks_parse(apr_array_header_t **pkeys, const char **perr, apr_pool_t *p,
                            const char *json, apr_size_t len);

/** Read a JWK Set file (OAuthASClientJWKS FILE, at start-up) and oas_jwks_parse it.
 * @return APR_SUCCESS, APR_ENOENT the file cannot be read, APR_EINVAL as oas_jwks_parse
 *         (perr set in both cases, naming the file) */
apr_status_t oas_jwks_load_file(apr_array_header_t **pkeys, const char **perr, apr_pool_t *p,
                                const char *path);

/** RFC 7638 thumbprint (SHA-256, base64url) of k (for DPoP's jkt).
 * @return APR_SUCCESS, APR_ENOTIMPL for a key type we do not support */
apr_status_t oas_jwk_thumbprint(const char **ptp, apr_pool_t *p, const oas_jwk_t *k);

#endif
