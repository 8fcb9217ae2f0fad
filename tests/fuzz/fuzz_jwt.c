/* libFuzzer: what clients sign. Every input goes through oas_jws_parse (then
 * oas_jws_verify_keys against a fixed JWK Set of PS256, ES256 and EdDSA keys, and
 * oas_jws_verify_hmac), oas_jwt_parse (then the clock rules and the audience), oas_jwk_parse
 * and oas_jwks_parse. Input "S<k><claims>": sign the claims with key k%3 (oas_jws_sign); the
 * JWS must then parse, verify with that key's JWK and give the claims back. */
#include <openssl/evp.h>

#include "fuzz.h"
#include "oas_jose.h"
#include "oas_jwk.h"
#include "oas_jwt.h"
#include "oas_keys.h"

#define NKEYS 3
static oas_key_t *priv[NKEYS];
static apr_array_header_t *pub; /* oas_jwk_t *, the public halves of priv, in order */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *jwks, *err;
    int i;

    fuzz_init();
    priv[0] = fuzz_key(EVP_RSA_gen(2048), OAS_ALG_PS256);
    priv[1] = fuzz_key(EVP_EC_gen("P-256"), -1);
    priv[2] = fuzz_key(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), -1);
    jwks = "{\"keys\":[";
    for (i = 0; i < NKEYS; i++)
        jwks = apr_pstrcat(fuzz_root, jwks, i ? "," : "", priv[i]->jwk_json, NULL);
    jwks = apr_pstrcat(fuzz_root, jwks, "]}", NULL);
    if (oas_jwks_parse(&pub, &err, fuzz_root, jwks, strlen(jwks)) != APR_SUCCESS ||
        pub->nelts != NKEYS)
        abort();
    return 0;
}

static void claims(apr_pool_t *p, const char *s, apr_size_t len)
{
    const char *err;
    oas_jwt_t *c;

    if (oas_jwt_parse(&c, &err, p, s, len) != APR_SUCCESS) {
        FUZZ_ASSERT(err && !c);
        return;
    }
    FUZZ_ASSERT(!c->aud_is_array || (c->aud_array->nelts > 0 && !c->aud));
    oas_jwt_check_times(c, 1700000000, 1, 300, &err);
    oas_jwt_check_times(c, 1700000000, 0, 0, &err);
    oas_jwt_aud_is(c, "https://as.test", 0);
    oas_jwt_aud_is(c, "https://as.test", 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char secret[] = "0123456789abcdef0123456789abcdef";
    apr_pool_t *p = fuzz_pool();
    const char *in = fuzz_str(p, data, size), *err, *jws;
    const oas_jwk_t *used;
    apr_array_header_t *keys;
    oas_jws_t *j;
    oas_jwk_t *k;

    if (size >= 2 && data[0] == 'S') {
        int n = data[1] % NKEYS;
        const char *body = in + 2;

        if (*body && oas_jws_sign(&jws, p, priv[n], "JWT", body) == APR_SUCCESS &&
            strlen(jws) <= OAS_JWS_MAX_LEN) {
            FUZZ_ASSERT(oas_jws_parse(&j, &err, p, jws, 0) == APR_SUCCESS);
            FUZZ_ASSERT(!strcmp(j->payload, body));
            FUZZ_ASSERT(oas_jws_verify_keys(&used, j, pub, OAS_ALGBITS_ASYM) == APR_SUCCESS);
            FUZZ_ASSERT(used == APR_ARRAY_IDX(pub, n, const oas_jwk_t *));
            claims(p, j->payload, j->payload_len);
        }
    }
    if (oas_jws_parse(&j, &err, p, in, 0) == APR_SUCCESS) {
        FUZZ_ASSERT(j->alg_name && j->payload && strlen(j->payload) == j->payload_len);
        oas_jws_verify_keys(&used, j, pub, OAS_ALGBITS_ASYM);
        oas_jws_verify_hmac(j, secret, sizeof(secret) - 1);
        claims(p, j->payload, j->payload_len);
    }
    else
        FUZZ_ASSERT(err && !j);
    claims(p, (const char *)data, size);
    if (oas_jwk_parse(&k, &err, p, (const char *)data, size) == APR_SUCCESS)
        FUZZ_ASSERT(k->pkey && k->algs && !(k->algs & OAS_ALGBIT(OAS_ALG_HS256)));
    if (oas_jwks_parse(&keys, &err, p, (const char *)data, size) == APR_SUCCESS)
        FUZZ_ASSERT(keys->nelts > 0 && keys->nelts <= OAS_JWKS_MAX_KEYS);
    apr_pool_destroy(p);
    return 0;
}
