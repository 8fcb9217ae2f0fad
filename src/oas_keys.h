/* mod_oauth_as: signing keys read from PEM files, their JWK form (RFC 7517/7518) and the
 * JWKS document. Keys are loaded at startup and read-only afterwards. */
#ifndef OAS_KEYS_H
#define OAS_KEYS_H

#include <openssl/evp.h>

#include "oas.h"

typedef enum {
    OAS_ALG_RS256, /* RSASSA-PKCS1-v1_5 with SHA-256, RSA >= 2048 bits */
    OAS_ALG_ES256, /* ECDSA P-256 with SHA-256 */
    OAS_ALG_EDDSA, /* Ed25519 (RFC 8037) */
    OAS_ALG_PS256, /* RSASSA-PSS with SHA-256, MGF1-SHA-256, salt of 32 bytes, RSA >= 2048 */
    OAS_ALG_HS256  /* HMAC-SHA-256 (client_secret_jwt only: never with a public key) */
} oas_alg_e;

/* The bit of alg in a set of algorithms (oas_jwk_t.algs, OAuthASClientSigningAlgs). */
#define OAS_ALGBIT(a) (1u << (a))
/* The asymmetric algorithms a client may sign with (OAuthASClientSigningAlgs's choices). */
#define OAS_ALGBITS_ASYM                                                                           \
    (OAS_ALGBIT(OAS_ALG_RS256) | OAS_ALGBIT(OAS_ALG_ES256) | OAS_ALGBIT(OAS_ALG_EDDSA) |           \
     OAS_ALGBIT(OAS_ALG_PS256))

/** The algorithm of a JWS "alg" name (RFC 7518 §3.1, RFC 8037; case-sensitive).
 * @return an oas_alg_e, or -1 for NULL, "none" and every name we do not implement */
int oas_alg_from_name(const char *name);

/** The JWS "alg" name of alg. @return a static string, or NULL for an unknown value */
const char *oas_alg_name(int alg);

/** The names of the algorithms of a set (OAS_ALGBIT bits), for metadata lists such as
 * token_endpoint_auth_signing_alg_values_supported: in the order PS256, ES256, EdDSA, RS256,
 * HS256. @return an array of const char * (static strings) in p, possibly empty */
apr_array_header_t *oas_alg_names(apr_pool_t *p, unsigned algs);

typedef struct oas_key_t {
    EVP_PKEY *pkey;       /* private key, owned by the pool the key was loaded into */
    oas_alg_e alg;        /* RS256 or PS256 (RSA), ES256, EdDSA */
    const char *alg_name; /* "RS256", "PS256", "ES256", "EdDSA" */
    const char *kid;      /* configured, or the RFC 7638 thumbprint */
    const char *jwk_json; /* public JWK, compact: kty, use, alg, kid, then n,e | crv,x[,y] */
    /* a signing context initialised once at load: each signature copies it, which costs a
     * fraction of EVP_DigestSignInit's provider lookups (NULL: initialise per signature) */
    EVP_MD_CTX *sign_tmpl;
    /* base64url of the JWS protected header {alg, typ, kid} for typ "at+jwt" and "JWT",
     * prepared at load: every token starts with one of them */
    const char *hdr_at_jwt, *hdr_jwt;
} oas_key_t;

/** Prepare ctx to sign with key (EVP_DigestSignInit, and PSS parameters for PS256).
 * @return 1, or 0 when OpenSSL fails */
int oas_key_sign_init(EVP_MD_CTX *ctx, const oas_key_t *key);

/** Set RFC 7518 §3.5's PSS parameters (MGF1-SHA-256, salt of 32 bytes) on a sign or verify
 * context. @return 1, or 0 when OpenSSL fails */
int oas_pss_params(EVP_PKEY_CTX *pctx);

/** base64url of the JWS protected header {"alg", "typ", "kid"} of key for typ (NULL: none).
 * @return the text in p, or NULL when typ is not UTF-8 */
const char *oas_key_jws_header(apr_pool_t *p, const oas_key_t *key, const char *typ);

/** Load a private key from a PEM file (PKCS#8 or traditional, unencrypted).
 * Accepted: RSA with a modulus >= 2048 bits (RS256, or PS256 when alg says so), EC on P-256
 * (ES256), Ed25519 (EdDSA).
 * @param pkey receives the key, allocated in p; its EVP_PKEY is freed when p is cleared
 * @param perr receives a short message for the administrator on failure (in p)
 * @param path the PEM file
 * @param kid the key id to publish, or NULL to use the RFC 7638 thumbprint
 * @param alg the algorithm to sign with (OAuthASSigningKey's ALG), or -1 for the key type's
 *        default (RS256 for RSA); PS256 is the only other choice, for an RSA key
 * @return APR_SUCCESS, APR_ENOENT when the file cannot be read or parsed, APR_ENOTIMPL for an
 *         unsupported key type, curve or size, APR_EINVAL when alg does not fit the key,
 *         APR_EGENERAL on other OpenSSL failures */
apr_status_t oas_key_load(oas_key_t **pkey, const char **perr, apr_pool_t *p, const char *path,
                          const char *kid, int alg);

#define OAS_KEYGEN_RSA_BITS 3072 /* oas_key_generate's RSA keys */

/** Make a new private key for alg (RS256 and PS256: RSA of OAS_KEYGEN_RSA_BITS bits, ES256:
 * P-256, EdDSA: Ed25519) and write it as unencrypted PKCS#8 PEM to a new file of mode 0600
 * (an existing file is never overwritten), ready for oas_key_load (OAuthASSigningKey).
 * @param perr receives a short message on failure (in p)
 * @return APR_SUCCESS; APR_EINVAL alg is none of those; APR_EEXIST the file exists; another
 *         status when the file cannot be written; APR_EGENERAL OpenSSL failed */
apr_status_t oas_key_generate(const char **perr, apr_pool_t *p, const char *path, int alg);

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of the public part of pk; works on public-only
 * keys. @return APR_SUCCESS, APR_ENOTIMPL for a key type we do not support */
apr_status_t oas_key_thumbprint(const char **ptp, apr_pool_t *p, EVP_PKEY *pk);

/** RFC 7638 thumbprint (SHA-256, base64url) of a public JWK from its required members as the
 * JWK holds them (base64url values): kty "RSA" with e and n, "EC" with crv, x and y, "OKP"
 * with crv and x (the others NULL). For a JWK already checked (oas_jwk_parse), where reading
 * the values back from its EVP_PKEY costs more than the hash (DPoP: a thumbprint a request).
 * @return the thumbprint in p */
const char *oas_jwk_members_thumbprint(apr_pool_t *p, const char *kty, const char *crv,
                                       const char *x, const char *y, const char *e, const char *n);

/** The JWK Set (RFC 7517 §5) {"keys":[...]} of the public keys, in array order.
 * @param keys an array of oas_key_t *
 * @return compact JSON in p */
const char *oas_keys_jwks_json(apr_pool_t *p, apr_array_header_t *keys);

#endif
