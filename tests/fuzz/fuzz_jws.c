/* libFuzzer: the JWS/JWT parser and verifier (oas_jws_verify, oas_token_verify_access) with
 * a fixed key set of all three algorithms (RS256, ES256, EdDSA), made once per process.
 * Input "S<k><payload>": sign payload with key k%3 (typ at+jwt), then the token must verify
 * and give the payload back, and goes through oas_token_verify_access (claims from the
 * input); any other input is verified as a compact JWS as it is. */
#include <openssl/evp.h>

#include "fuzz.h"
#include "oas_jose.h"
#include "oas_keys.h"
#include "oas_token.h"

static oas_issuer_t iss;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_init();
    iss.issuer = "https://as.test";
    iss.keys = apr_array_make(fuzz_root, 3, sizeof(oas_key_t *));
    APR_ARRAY_PUSH(iss.keys, oas_key_t *) = fuzz_key(EVP_RSA_gen(2048), -1);
    APR_ARRAY_PUSH(iss.keys, oas_key_t *) = fuzz_key(EVP_EC_gen("P-256"), -1);
    APR_ARRAY_PUSH(iss.keys, oas_key_t *) =
        fuzz_key(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), -1);
    iss.id_token_key = APR_ARRAY_IDX(iss.keys, 0, oas_key_t *);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *payload, *header, *jws;
    json_t *claims;
    apr_status_t rv;

    if (size >= 2 && data[0] == 'S') {
        const oas_key_t *k = APR_ARRAY_IDX(iss.keys, data[1] % 3, oas_key_t *);
        const char *in = fuzz_str(p, data + 2, size - 2);

        if (oas_jws_sign(&jws, p, k, "at+jwt", in) == APR_SUCCESS) {
            rv = oas_jws_verify(&payload, &header, p, jws, iss.keys);
            if (*in && strlen(jws) <= OAS_JWS_MAX_LEN) { /* an empty payload part is refused */
                FUZZ_ASSERT(rv == APR_SUCCESS);
                FUZZ_ASSERT(!strcmp(payload, in));
                FUZZ_ASSERT(header && *header == '{');
            }
            else {
                FUZZ_ASSERT(rv == APR_EINVAL);
            }
            if (oas_token_verify_access(&claims, p, &iss, jws, 1000000000) == APR_SUCCESS)
                FUZZ_ASSERT(json_is_object(claims));
        }
    }
    else {
        const char *in = fuzz_str(p, data, size);

        rv = oas_jws_verify(&payload, &header, p, in, iss.keys);
        FUZZ_ASSERT(rv == APR_SUCCESS || rv == APR_EINVAL || rv == APR_NOTFOUND ||
                    rv == APR_EGENERAL);
        if (rv == APR_SUCCESS)
            FUZZ_ASSERT(payload && header);
        if (oas_token_verify_access(&claims, p, &iss, in, 1000000000) == APR_SUCCESS)
            FUZZ_ASSERT(json_is_object(claims));
    }
    apr_pool_destroy(p);
    return 0;
}
