/* mod_oauth_as: stateless DPoP nonces (oas_dpop_nonce.h). A nonce is base64url(t || mac) with
 * t the second it was made (4 bytes, big-endian: good until 2106) and mac the first 16 bytes
 * of HMAC-SHA-256(key, t). Nothing is stored: any child or node holding the same key checks
 * the MAC and the age. The step is one second, so the age is exact: "older than 5 minutes"
 * means 300 seconds, not "5 to 6 minutes" as with a coarser step. */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>

#include "oas_dpop_nonce.h"
#include "oas_keys.h"
#include "oas_util.h"

#define T_LEN 4
#define MAC_LEN 16 /* 128 bits: a forged nonce is guessed with chance 2^-128 */
#define RAW_LEN (T_LEN + MAC_LEN)

/* The HKDF label: a new version of the nonce format changes it, so old nonces fail. */
#define NONCE_LABEL "mod_oauth_as DPoP nonce v1"

/* The private scalar of key: RSA d, the EC private key, the Ed25519 seed. These are the
 * numbers themselves, so two nodes loading the same key from PEM files of different
 * encodings (PKCS#8 or traditional) derive the same nonce key. */
static apr_status_t private_bytes(unsigned char **pout, apr_size_t *plen, apr_pool_t *p,
                                  EVP_PKEY *pk)
{
    const char *param = NULL;
    BIGNUM *bn = NULL;
    size_t len;
    int n;

    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_RSA:
        param = OSSL_PKEY_PARAM_RSA_D;
        break;
    case EVP_PKEY_EC:
        param = OSSL_PKEY_PARAM_PRIV_KEY;
        break;
    case EVP_PKEY_ED25519:
        if (EVP_PKEY_get_raw_private_key(pk, NULL, &len) != 1 || len == 0)
            return APR_ENOTIMPL;
        *pout = apr_palloc(p, len);
        if (EVP_PKEY_get_raw_private_key(pk, *pout, &len) != 1)
            return APR_EGENERAL;
        *plen = len;
        return APR_SUCCESS;
    default:
        return APR_ENOTIMPL;
    }
    if (EVP_PKEY_get_bn_param(pk, param, &bn) != 1 || BN_is_zero(bn)) {
        BN_clear_free(bn);
        return APR_ENOTIMPL;
    }
    n = BN_num_bytes(bn);
    *pout = apr_palloc(p, (apr_size_t)n);
    *plen = (apr_size_t)BN_bn2bin(bn, *pout);
    BN_clear_free(bn);
    return *plen == (apr_size_t)n ? APR_SUCCESS : APR_EGENERAL;
}

apr_status_t oas_dpop_nonce_key(oas_dpop_nonce_key_t **pk, apr_pool_t *p,
                                const struct oas_key_t *key, const char *issuer)
{
    unsigned char *secret = NULL;
    apr_size_t slen = 0;
    char *info;
    EVP_KDF *kdf;
    EVP_KDF_CTX *kctx = NULL;
    OSSL_PARAM params[5], *q = params;
    apr_status_t rv;
    oas_dpop_nonce_key_t *k;

    *pk = NULL;
    if (!key || !key->pkey || !issuer)
        return APR_ENOTIMPL;
    if ((rv = private_bytes(&secret, &slen, p, key->pkey)) != APR_SUCCESS)
        return rv;
    /* info = label NUL issuer: the label cannot run into the issuer */
    info = apr_palloc(p, sizeof(NONCE_LABEL) + strlen(issuer));
    memcpy(info, NONCE_LABEL, sizeof(NONCE_LABEL));
    memcpy(info + sizeof(NONCE_LABEL), issuer, strlen(issuer));
    *q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, secret, slen);
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info,
                                             sizeof(NONCE_LABEL) + strlen(issuer));
    *q = OSSL_PARAM_construct_end();

    k = apr_pcalloc(p, sizeof(*k));
    rv = APR_EGENERAL;
    if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) != NULL &&
        (kctx = EVP_KDF_CTX_new(kdf)) != NULL &&
        EVP_KDF_derive(kctx, k->k, sizeof(k->k), params) == 1) {
        *pk = k;
        rv = APR_SUCCESS;
    }
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    OPENSSL_cleanse(secret, slen);
    return rv;
}

/* raw = t || HMAC-SHA-256(key, t)[0..MAC_LEN) */
static int nonce_raw(unsigned char raw[RAW_LEN], const oas_dpop_nonce_key_t *key, apr_uint32_t t)
{
    unsigned char mac[OAS_SHA256_LEN];
    size_t maclen = 0;

    raw[0] = (unsigned char)(t >> 24);
    raw[1] = (unsigned char)(t >> 16);
    raw[2] = (unsigned char)(t >> 8);
    raw[3] = (unsigned char)t;
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key->k, sizeof(key->k), raw, T_LEN, mac,
                   sizeof(mac), &maclen) ||
        maclen != sizeof(mac))
        return 0;
    memcpy(raw + T_LEN, mac, MAC_LEN);
    return 1;
}

const char *oas_dpop_nonce_new(apr_pool_t *p, const oas_dpop_nonce_key_t *key, apr_int64_t now)
{
    unsigned char raw[RAW_LEN];

    if (!key || now < 0 || now > (apr_int64_t)0xffffffffu ||
        !nonce_raw(raw, key, (apr_uint32_t)now))
        return NULL;
    return oas_b64url_encode(p, raw, sizeof(raw));
}

int oas_dpop_nonce_ok(apr_pool_t *p, const oas_dpop_nonce_key_t *key, const char *nonce,
                      apr_int64_t now)
{
    unsigned char want[RAW_LEN], *raw;
    apr_size_t len;
    apr_uint32_t t;
    apr_int64_t age;

    if (!key || !nonce || strlen(nonce) != OAS_DPOP_NONCE_LEN ||
        oas_b64url_decode(&raw, &len, p, nonce, OAS_DPOP_NONCE_LEN) != APR_SUCCESS ||
        len != RAW_LEN)
        return 0;
    t = ((apr_uint32_t)raw[0] << 24) | ((apr_uint32_t)raw[1] << 16) | ((apr_uint32_t)raw[2] << 8) |
        raw[3];
    age = now - (apr_int64_t)t;
    if (age > OAS_DPOP_NONCE_MAX_AGE || age < -OAS_DPOP_NONCE_MAX_AHEAD)
        return 0;
    if (!nonce_raw(want, key, t))
        return 0;
    return CRYPTO_memcmp(raw + T_LEN, want + T_LEN, MAC_LEN) == 0;
}
