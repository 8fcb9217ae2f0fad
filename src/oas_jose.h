/* mod_oauth_as: compact JWS (RFC 7515) signing and verification with RS256, ES256 and EdDSA,
 * and the OpenID Connect at_hash. Keys come from oas_keys.h. */
#ifndef OAS_JOSE_H
#define OAS_JOSE_H

#include "oas_keys.h"

#define OAS_JWS_MAX_LEN 16384 /* longest compact JWS we verify */
#define OAS_ES256_RAW_LEN 64  /* R || S, 32 bytes each (RFC 7518 §3.4) */

/** Sign payload_json as a compact JWS with the protected header {"alg","typ","kid"}
 * (in that order; typ is left out when NULL, kid when key->kid is NULL).
 * @param pjws receives header.payload.signature in p
 * @param typ the "typ" header, e.g. "at+jwt" (RFC 9068) or "JWT"; may be NULL
 * @param payload_json the claims, serialized by the caller
 * @return APR_SUCCESS, APR_EINVAL when typ or kid is not valid UTF-8, APR_EGENERAL when
 *         OpenSSL fails */
apr_status_t oas_jws_sign(const char **pjws, apr_pool_t *p, const oas_key_t *key, const char *typ,
                          const char *payload_json);

/** Verify a compact JWS against keys (an array of oas_key_t *). The header's "alg" must be
 * RS256, ES256 or EdDSA; a header "kid" selects that key, which must use the same alg
 * (no "none", no algorithm confusion); without a kid every key of that alg is tried.
 * A "crit" header is refused, as we understand no extensions (RFC 7515 §4.1.11).
 * @param ppayload receives the decoded payload in p (not parsed; it holds no NUL byte)
 * @param pheader receives the decoded header JSON in p; may be NULL
 * @return APR_SUCCESS;
 *         APR_EINVAL when the input is malformed: over OAS_JWS_MAX_LEN bytes, not three
 *             non-empty base64url parts, header not a JSON object, alg missing or unsupported,
 *             kid not a string, crit present, ES256 signature not 64 bytes;
 *         APR_NOTFOUND when no key fits (unknown kid, kid of a key with another alg);
 *         APR_EGENERAL when the signature does not verify */
apr_status_t oas_jws_verify(const char **ppayload, const char **pheader, apr_pool_t *p,
                            const char *jws, apr_array_header_t *keys);

/** Convert an ECDSA P-256 signature from DER (what OpenSSL produces) to JWS form R || S.
 * @return APR_SUCCESS, APR_EINVAL when der is not exactly one ECDSA-Sig-Value with
 *         r and s of at most 32 bytes */
apr_status_t oas_ecdsa_der_to_raw(unsigned char raw[OAS_ES256_RAW_LEN], const unsigned char *der,
                                  apr_size_t derlen);

/** Convert a JWS ES256 signature R || S (exactly 64 bytes) to DER, allocated in p.
 * @return APR_SUCCESS, APR_EINVAL on a wrong length, APR_EGENERAL when OpenSSL fails */
apr_status_t oas_ecdsa_raw_to_der(unsigned char **pder, apr_size_t *pderlen, apr_pool_t *p,
                                  const unsigned char *raw, apr_size_t rawlen);

/** OpenID Connect Core §3.1.3.6 at_hash: base64url of the left half of the hash of the ASCII
 * access token, with the hash of the ID token's alg: SHA-256 for RS256 and ES256, SHA-512 for
 * EdDSA with Ed25519 (OpenID Connect Core errata).
 * @return the value in p, or NULL when OpenSSL fails */
const char *oas_jose_at_hash(apr_pool_t *p, const oas_key_t *key, const char *access_token);

#endif
