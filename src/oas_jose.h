/* mod_oauth_as: compact JWS (RFC 7515) signing and verification with RS256, PS256, ES256 and
 * EdDSA (and HS256 for client_secret_jwt), and the OpenID Connect at_hash. Our keys come from
 * oas_keys.h, clients' from oas_jwk.h. A JWS from outside is first parsed (oas_jws_parse), then
 * verified against keys (oas_jws_verify_keys) or a shared secret (oas_jws_verify_hmac). */
#ifndef OAS_JOSE_H
#define OAS_JOSE_H

#include "oas_jwk.h"
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

/* A compact JWS split and decoded by oas_jws_parse; nothing in it is verified yet. */
typedef struct oas_jws_t {
    int alg;                 /* oas_alg_e of the header's "alg" */
    const char *alg_name;    /* its name, static */
    const char *typ, *kid;   /* header "typ" and "kid", NULL when absent */
    const char *header_json; /* the decoded protected header, NUL-terminated */
    apr_size_t header_len;
    const char *payload; /* the decoded payload, NUL-terminated (holds no NUL byte) */
    apr_size_t payload_len;
    const char *signing_input; /* header.payload as received (points into the input) */
    apr_size_t signing_input_len;
    const unsigned char *sig; /* the decoded signature (ES256: R || S, 64 bytes) */
    apr_size_t sig_len;
} oas_jws_t;

/** Split and decode a compact JWS from outside, strictly: three non-empty base64url parts (no
 * padding, no whitespace), at most max_len bytes (0: OAS_JWS_MAX_LEN); a header that is a JSON
 * object whose "alg" is a name we implement (never "none"), "typ" and "kid" strings when
 * present, no "crit" (we understand no extension, RFC 7515 §4.1.11) and no "b64" (RFC 7797); a
 * payload without a NUL byte. "jku", "x5u", "jwk" and "x5c" are ignored here: they never pick a
 * key (a DPoP caller reads "jwk" from header_json itself).
 * @param pj receives the parts in p
 * @param perr receives a short reason for the log on failure (static; names no content)
 * @return APR_SUCCESS, APR_EINVAL malformed */
apr_status_t oas_jws_parse(oas_jws_t **pj, const char **perr, apr_pool_t *p, const char *jws,
                           apr_size_t max_len);

/** Verify a parsed JWS with a client's public keys (an array of oas_jwk_t *, may be NULL).
 * j->alg must be in allowed_algs (OAS_ALGBIT set) and is never HS256. With a header kid only
 * the key of that kid is tried, and it must be allowed to verify j->alg (its algs: no RSA, EC
 * or OKP confusion); without a kid every key that may verify j->alg is tried in turn. RS256:
 * PKCS#1 v1.5; PS256: PSS with MGF1-SHA-256 and a 32-byte salt; ES256: R || S; EdDSA: Ed25519.
 * @param pused receives the key that verified (may be NULL)
 * @return APR_SUCCESS; APR_EINVAL the alg is not allowed or the signature is malformed
 *         (ES256 not 64 bytes); APR_NOTFOUND no key of that kid, or none may verify that alg;
 *         APR_EGENERAL the signature does not verify */
apr_status_t oas_jws_verify_keys(const oas_jwk_t **pused, const oas_jws_t *j,
                                 apr_array_header_t *keys, unsigned allowed_algs);

/** Verify a parsed HS256 JWS with a shared secret (client_secret_jwt), in constant time.
 * @return APR_SUCCESS; APR_EINVAL j->alg is not HS256 or the key is empty; APR_EGENERAL the
 *         MAC does not match */
apr_status_t oas_jws_verify_hmac(const oas_jws_t *j, const unsigned char *key, apr_size_t klen);

/** Verify a compact JWS of our own (an access or ID token) against keys (an array of
 * oas_key_t *): oas_jws_parse, then the keys' own algs. The header's "alg" must be
 * RS256, PS256, ES256 or EdDSA; a header "kid" selects that key, which must use the same alg
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
 * access token, with the hash of the ID token's alg: SHA-256 for RS256, PS256 and ES256,
 * SHA-512 for EdDSA with Ed25519 (OpenID Connect Core errata).
 * @return the value in p, or NULL when OpenSSL fails */
const char *oas_jose_at_hash(apr_pool_t *p, const oas_key_t *key, const char *access_token);

#endif
