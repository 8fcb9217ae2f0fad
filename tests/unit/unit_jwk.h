/* Test keys as JWKs for the unit tests of client keys (include after unit.h). */
#ifndef OAS_UNIT_JWK_H
#define OAS_UNIT_JWK_H

#include <apr_strings.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "oas_util.h"

/* a fresh P-256 public JWK (extra: more members, e.g. ",\"d\":\"...\"") */
static const char *ec_jwk(apr_pool_t *p, const char *kid, const char *extra)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    unsigned char pub[65];
    size_t n = 0;
    const char *j;

    assert_non_null(k);
    assert_true(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &n));
    assert_int_equal(n, 65);
    j = apr_psprintf(p,
                     "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"%s\",\"x\":\"%s\",\"y\":\"%s\""
                     "%s}",
                     kid, oas_b64url_encode(p, pub + 1, 32), oas_b64url_encode(p, pub + 33, 32),
                     extra ? extra : "");
    EVP_PKEY_free(k);
    return j;
}

#endif
