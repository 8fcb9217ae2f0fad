/* Unit-test helpers for what clients sign: public keys generated in the test, their JWK form
 * written independently of the code under test, and compact JWS signed with OpenSSL alone
 * (RS256, PS256 with any salt length, ES256, EdDSA, HS256). */
#ifndef OAS_JWK_FIXTURE_H
#define OAS_JWK_FIXTURE_H

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "oas_jose.h"
#include "oas_jwk.h"
#include "oas_util.h"
#include "unit.h"

static inline const char *jf_b64(apr_pool_t *p, const void *d, size_t n)
{
    return oas_b64url_encode(p, d, n);
}

static inline const char *jf_b64s(apr_pool_t *p, const char *s)
{
    return jf_b64(p, s, strlen(s));
}

static inline const char *jf_bn_b64(apr_pool_t *p, EVP_PKEY *pk, const char *name, int width)
{
    BIGNUM *bn = NULL;
    unsigned char buf[1024];
    int len;

    assert_int_equal(EVP_PKEY_get_bn_param(pk, name, &bn), 1);
    len = width ? width : BN_num_bytes(bn);
    assert_int_equal(BN_bn2binpad(bn, buf, len), len);
    BN_free(bn);
    return jf_b64(p, buf, (size_t)len);
}

/* The public members of pk as JSON object members, without braces: "kty":...,"n":...  */
static inline const char *jf_jwk_members(apr_pool_t *p, EVP_PKEY *pk)
{
    unsigned char raw[32];
    size_t rawlen = sizeof(raw);

    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_RSA:
        return apr_psprintf(p, "\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"",
                            jf_bn_b64(p, pk, OSSL_PKEY_PARAM_RSA_N, 0),
                            jf_bn_b64(p, pk, OSSL_PKEY_PARAM_RSA_E, 0));
    case EVP_PKEY_EC:
        return apr_psprintf(p, "\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"",
                            jf_bn_b64(p, pk, OSSL_PKEY_PARAM_EC_PUB_X, 32),
                            jf_bn_b64(p, pk, OSSL_PKEY_PARAM_EC_PUB_Y, 32));
    default:
        assert_int_equal(EVP_PKEY_get_raw_public_key(pk, raw, &rawlen), 1);
        return apr_psprintf(p, "\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"",
                            jf_b64(p, raw, rawlen));
    }
}

/* {"kid":kid,<public members>,extra} (kid and extra may be NULL) */
static inline const char *jf_jwk(apr_pool_t *p, EVP_PKEY *pk, const char *kid, const char *extra)
{
    return apr_pstrcat(p, "{", kid ? apr_psprintf(p, "\"kid\":\"%s\",", kid) : "",
                       jf_jwk_members(p, pk), extra ? "," : "", extra ? extra : "", "}", NULL);
}

static inline oas_jwk_t *jf_parse(apr_pool_t *p, const char *json)
{
    oas_jwk_t *k = NULL;
    const char *err = NULL;

    if (oas_jwk_parse(&k, &err, p, json, strlen(json)) != APR_SUCCESS)
        fail_msg("JWK refused (%s): %s", err, json);
    return k;
}

static inline apr_array_header_t *jf_keys(apr_pool_t *p, oas_jwk_t *k)
{
    apr_array_header_t *a = apr_array_make(p, 2, sizeof(oas_jwk_t *));

    APR_ARRAY_PUSH(a, oas_jwk_t *) = k;
    return a;
}

/* Sign header_json.payload_json with pk for alg (OpenSSL only). pss_salt: PS256's salt length
 * (32 by RFC 7518). hmac_key: HS256's key. */
static inline const char *jf_sign(apr_pool_t *p, EVP_PKEY *pk, int alg, int pss_salt,
                                  const char *hmac_key, const char *header_json,
                                  const char *payload_json)
{
    const char *input =
        apr_pstrcat(p, jf_b64s(p, header_json), ".", jf_b64s(p, payload_json), NULL);
    unsigned char sig[1024];
    size_t siglen = sizeof(sig);

    if (alg == OAS_ALG_HS256) {
        assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, hmac_key, strlen(hmac_key),
                                  (const unsigned char *)input, strlen(input), sig, sizeof(sig),
                                  &siglen));
    }
    else {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;

        assert_int_equal(
            EVP_DigestSignInit(ctx, &pctx, alg == OAS_ALG_EDDSA ? NULL : EVP_sha256(), NULL, pk),
            1);
        if (alg == OAS_ALG_PS256) {
            assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
            assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, pss_salt), 1);
        }
        assert_int_equal(
            EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)input, strlen(input)), 1);
        EVP_MD_CTX_free(ctx);
        if (alg == OAS_ALG_ES256) {
            unsigned char raw[64];

            assert_int_equal(oas_ecdsa_der_to_raw(raw, sig, siglen), APR_SUCCESS);
            memcpy(sig, raw, 64);
            siglen = 64;
        }
    }
    return apr_pstrcat(p, input, ".", jf_b64(p, sig, siglen), NULL);
}

static inline oas_jws_t *jf_jws(apr_pool_t *p, const char *jws)
{
    oas_jws_t *j = NULL;
    const char *err = NULL;

    if (oas_jws_parse(&j, &err, p, jws, 0) != APR_SUCCESS)
        fail_msg("JWS refused (%s)", err);
    return j;
}

#endif
