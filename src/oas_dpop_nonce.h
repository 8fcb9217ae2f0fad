/* mod_oauth_as: stateless DPoP nonces (RFC 9449 §8, §9). A nonce is the time it was made and
 * an HMAC of that time under a key every child and every node of a cluster derives alike
 * (from the issuer's first signing key, which the nodes of a cluster share, and the issuer):
 * any of them accepts any other's nonce with no shared state. */
#ifndef OAS_DPOP_NONCE_H
#define OAS_DPOP_NONCE_H

#include "oas.h"

struct oas_key_t;

/* A nonce is accepted up to this many seconds after it was made (contract: older than
 * 5 minutes -> use_dpop_nonce) ... */
#define OAS_DPOP_NONCE_MAX_AGE 300
/* ... and this many seconds before (another node's clock a little ahead of ours) */
#define OAS_DPOP_NONCE_MAX_AHEAD 60
/* The nonce text: base64url of 4 bytes of time and 16 bytes of HMAC-SHA-256; 1*NQCHAR. */
#define OAS_DPOP_NONCE_LEN 27

#define OAS_DPOP_NONCE_KEY_LEN 32

/* The HMAC key of one issuer's nonces, derived once at start-up. */
typedef struct oas_dpop_nonce_key_t {
    unsigned char k[OAS_DPOP_NONCE_KEY_LEN];
} oas_dpop_nonce_key_t;

/** Derive the nonce key of an issuer (at start-up): HKDF-SHA-256 of the private key material
 * of its first signing key (RSA d, the EC private scalar, the Ed25519 seed: the same on every
 * node that loads the same key file, whatever its encoding), with a fixed label and the
 * issuer string as info. A new signing key or another issuer gives unrelated nonces.
 * @param pk receives the key in p
 * @param key the issuer's first signing key (iss->keys[0])
 * @param issuer the issuer identifier
 * @return APR_SUCCESS, APR_ENOTIMPL for a key whose private part cannot be read, APR_EGENERAL
 *         when OpenSSL fails */
apr_status_t oas_dpop_nonce_key(oas_dpop_nonce_key_t **pk, apr_pool_t *p,
                                const struct oas_key_t *key, const char *issuer);

/** A fresh nonce for time now (seconds), for a DPoP-Nonce header: OAS_DPOP_NONCE_LEN
 * base64url characters (1*NQCHAR), in p. Two calls in the same second give the same nonce.
 * @return the nonce, or NULL when OpenSSL fails */
const char *oas_dpop_nonce_new(apr_pool_t *p, const oas_dpop_nonce_key_t *key, apr_int64_t now);

/** Whether nonce was made with key and is still fresh at now: made no more than
 * OAS_DPOP_NONCE_MAX_AGE seconds before now nor OAS_DPOP_NONCE_MAX_AHEAD after; compared in
 * constant time. Anything else (another key or issuer, garbage, NULL) is not. p holds the
 * decoded bytes.
 * @return 1 or 0 */
int oas_dpop_nonce_ok(apr_pool_t *p, const oas_dpop_nonce_key_t *key, const char *nonce,
                      apr_int64_t now);

#endif
