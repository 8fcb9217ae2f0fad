/* Unit tests: clients' public JWKs and JWK Sets (oas_jwk_parse, oas_jwks_parse,
 * oas_jwks_load_file, oas_jwk_thumbprint): every rule, each broken in each way. */
#include <fcntl.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "jwk_fixture.h"
#include "oas_keys.h"
#include "unit.h"

enum { K_RSA, K_RSA1024, K_EC, K_ED, K_N };
static EVP_PKEY *pk[K_N];

#define RS OAS_ALGBIT(OAS_ALG_RS256)
#define PS OAS_ALGBIT(OAS_ALG_PS256)
#define ES OAS_ALGBIT(OAS_ALG_ES256)
#define ED OAS_ALGBIT(OAS_ALG_EDDSA)

/* RFC 7638 §3.1's example key */
static const char *rfc7638_n =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJEC"
    "PebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Qvz"
    "qY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZ"
    "u0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

static void test_accepted(void **state)
{
    apr_pool_t *p = *state;
    const char *tp = NULL;
    oas_jwk_t *k;
    const struct {
        int key;
        const char *extra;
        const char *kty;
        unsigned algs;
    } rows[] = {
        {K_RSA, NULL, "RSA", RS | PS},
        {K_RSA, "\"alg\":\"RS256\"", "RSA", RS},
        {K_RSA, "\"alg\":\"PS256\",\"use\":\"sig\"", "RSA", PS},
        {K_EC, NULL, "EC", ES},
        {K_EC, "\"alg\":\"ES256\",\"key_ops\":[\"verify\"]", "EC", ES},
        {K_ED, NULL, "OKP", ED},
        {K_ED, "\"alg\":\"EdDSA\",\"x5t\":\"abc\",\"ext\":true", "OKP", ED},
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        k = jf_parse(p, jf_jwk(p, pk[rows[i].key], "k1", rows[i].extra));
        assert_string_equal(k->kty, rows[i].kty);
        assert_string_equal(k->kid, "k1");
        assert_int_equal(k->algs, rows[i].algs);
        assert_null(k->x5c0);
        assert_int_equal(EVP_PKEY_eq(k->pkey, pk[rows[i].key]), 1);
        /* the thumbprint of the JWK is the thumbprint of the key it came from */
        assert_int_equal(oas_jwk_thumbprint(&tp, p, k), APR_SUCCESS);
        assert_non_null(tp);
    }
    k = jf_parse(p, jf_jwk(p, pk[K_EC], NULL, "\"x5c\":[\"MIIBcert\",\"MIIBca\"]"));
    assert_null(k->kid);
    assert_string_equal(k->x5c0, "MIIBcert");
    k = jf_parse(p, apr_psprintf(p, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", rfc7638_n));
    assert_int_equal(oas_jwk_thumbprint(&tp, p, k), APR_SUCCESS);
    assert_string_equal(tp, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_refused(void **state)
{
    apr_pool_t *p = *state;
    const char *rsa = jf_jwk_members(p, pk[K_RSA]);
    const char *ec = jf_jwk_members(p, pk[K_EC]);
    const char *ed = jf_jwk_members(p, pk[K_ED]);
    const char *x32 = jf_b64(p, "0123456789abcdef0123456789abcdef", 32);
    const char *x31 = jf_b64(p, "0123456789abcdef0123456789abcde", 31);
    char *off_curve = apr_pstrdup(p, jf_jwk(p, pk[K_EC], NULL, NULL));
    char *big = apr_palloc(p, OAS_JWKS_MAX_LEN + 100);
    const struct {
        apr_status_t rv;
        const char *json;
        const char *why; /* a word of the reason */
    } rows[] = {
        {APR_EINVAL, "", "JSON"},
        {APR_EINVAL, "[]", "JSON"},
        {APR_EINVAL, "{\"kty\":\"RSA\"", "JSON"},
        {APR_EINVAL, "{}", "kty"},
        {APR_EINVAL, "{\"kty\":5}", "kty"},
        {APR_EINVAL, apr_psprintf(p, "{%s,\"kty\":\"EC\"}", ec), "JSON"}, /* duplicate */
        /* private keys */
        {APR_EINVAL, apr_psprintf(p, "{%s,\"d\":\"AAAA\"}", ec), "private"},
        {APR_EINVAL, apr_psprintf(p, "{%s,\"d\":\"AAAA\"}", ed), "private"},
        {APR_EINVAL, apr_psprintf(p, "{%s,\"p\":\"AAAA\"}", rsa), "private"},
        {APR_EINVAL, apr_psprintf(p, "{%s,\"q\":\"AAAA\"}", rsa), "private"},
        {APR_EINVAL, apr_psprintf(p, "{%s,\"dp\":\"AAAA\"}", rsa), "private"},
        {APR_EINVAL, apr_psprintf(p, "{%s,\"dq\":\"AAAA\"}", rsa), "private"},
        {APR_EINVAL, apr_psprintf(p, "{%s,\"qi\":\"AAAA\"}", rsa), "private"},
        {APR_EINVAL, apr_psprintf(p, "{%s,\"oth\":[]}", rsa), "private"},
        {APR_EINVAL, apr_psprintf(p, "{%s,\"d\":null}", rsa), "private"},
        {APR_EINVAL, "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}", "private"},
        {APR_EINVAL, "{\"kty\":\"oct\"}", "oct"},
        /* other key types and curves */
        {APR_EINVAL, "{\"kty\":\"DSA\"}", "kty"},
        {APR_EINVAL, "{\"kty\":\"rsa\"}", "kty"},
        {APR_EINVAL,
         apr_psprintf(p, "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"%s\",\"y\":\"%s\"}", x32, x32),
         "P-256"},
        {APR_EINVAL, apr_psprintf(p, "{\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x32, x32),
         "P-256"},
        {APR_EINVAL, apr_psprintf(p, "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"%s\"}", x32),
         "Ed25519"},
        {APR_EINVAL, apr_psprintf(p, "{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"%s\"}", x32),
         "Ed25519"},
        /* bad members */
        {APR_EINVAL, jf_jwk(p, pk[K_RSA1024], NULL, NULL), "1024 bits"},
        {APR_EINVAL, apr_psprintf(p, "{\"kty\":\"RSA\",\"n\":\"%s\"}", rfc7638_n), "n and e"},
        {APR_EINVAL, apr_psprintf(p, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":65537}", rfc7638_n),
         "n and e"},
        {APR_EINVAL, apr_psprintf(p, "{\"kty\":\"RSA\",\"n\":\"%s=\",\"e\":\"AQAB\"}", rfc7638_n),
         "n and e"},
        {APR_EINVAL, apr_psprintf(p, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAA\"}", rfc7638_n),
         "exponent"},
        {APR_EINVAL, apr_psprintf(p, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQ\"}", rfc7638_n),
         "exponent"},
        {APR_EINVAL,
         apr_psprintf(p, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", x31, x32),
         "32 bytes"},
        {APR_EINVAL, apr_psprintf(p, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\"}", x32),
         "32 bytes"},
        {APR_EINVAL, off_curve, "P-256"},
        {APR_EINVAL, apr_psprintf(p, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}", x31),
         "32 bytes"},
        {APR_EINVAL, apr_psprintf(p, "{%s,\"kid\":5}", ec), "kid"},
        {APR_EINVAL, apr_psprintf(p, "{%s,\"kid\":\"\"}", ec), "kid"},
        {APR_EINVAL, apr_psprintf(p, "{%s,\"kid\":\"a\\nb\"}", ec), "kid"},
        {APR_EINVAL, apr_psprintf(p, "{%s,\"use\":\"foo\"}", ec), "use"},
        {APR_EINVAL, apr_psprintf(p, "{%s,\"use\":1}", ec), "use"},
        {APR_EINVAL, apr_psprintf(p, "{%s,\"x5c\":\"MIIB\"}", ec), "x5c"},
        {APR_EINVAL, apr_psprintf(p, "{%s,\"x5c\":[]}", ec), "x5c"},
        {APR_EINVAL, apr_psprintf(p, "{%s,\"x5c\":[1]}", ec), "x5c"},
        /* an alg the key cannot verify with, or none at all */
        {APR_EINVAL, apr_psprintf(p, "{%s,\"alg\":\"ES256\"}", rsa), "alg"},
        {APR_EINVAL, apr_psprintf(p, "{%s,\"alg\":\"HS256\"}", rsa), "alg"},
        {APR_EINVAL, apr_psprintf(p, "{%s,\"alg\":\"RS256\"}", ec), "alg"},
        {APR_EINVAL, apr_psprintf(p, "{%s,\"alg\":\"ES384\"}", ec), "alg"},
        {APR_EINVAL, apr_psprintf(p, "{%s,\"alg\":\"none\"}", ed), "alg"},
        {APR_EINVAL, apr_psprintf(p, "{%s,\"alg\":\"ES256\"}", ed), "alg"},
        {APR_EINVAL, apr_psprintf(p, "{%s,\"alg\":\"RS512\"}", rsa), "alg"},
        /* encryption keys: ENOTIMPL, which a set skips */
        {APR_ENOTIMPL, apr_psprintf(p, "{%s,\"use\":\"enc\"}", rsa), "encryption"},
        {APR_ENOTIMPL, apr_psprintf(p, "{%s,\"alg\":\"RSA-OAEP-256\"}", rsa), "encryption"},
        {APR_ENOTIMPL, apr_psprintf(p, "{%s,\"alg\":\"ECDH-ES+A128KW\"}", ec), "encryption"},
        {APR_EINVAL, big, "JSON"},
    };
    size_t i;
    char *y;

    /* the last character of y changed: almost surely off the curve */
    y = strstr(off_curve, "\"y\":\"") + 5 + 40;
    *y = *y == 'A' ? 'B' : 'A';
    memset(big, ' ', OAS_JWKS_MAX_LEN + 99);
    big[0] = '{';
    big[OAS_JWKS_MAX_LEN + 98] = '}';
    big[OAS_JWKS_MAX_LEN + 99] = '\0';
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        oas_jwk_t *k = (oas_jwk_t *)"x";
        const char *err = NULL;
        apr_status_t rv = oas_jwk_parse(&k, &err, p, rows[i].json, strlen(rows[i].json));

        if (rv != rows[i].rv || k || !err || !strstr(err, rows[i].why))
            fail_msg("row %zu: rv %d, %s: %.200s", i, rv, err ? err : "(no reason)", rows[i].json);
        /* no key material in the reason */
        assert_null(strstr(err, x32));
    }
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_sets(void **state)
{
    apr_pool_t *p = *state;
    const char *rsa = jf_jwk(p, pk[K_RSA], "r", NULL);
    const char *ec = jf_jwk(p, pk[K_EC], "e", NULL);
    const char *ed = jf_jwk(p, pk[K_ED], "d", NULL);
    const char *enc = jf_jwk(p, pk[K_RSA], "x", "\"use\":\"enc\"");
    apr_array_header_t *keys;
    const char *err;
    const char *json;
    char *many;
    int i;
    const struct {
        const char *json;
        const char *why;
    } bad[] = {
        {"[]", "JSON"},
        {"{}", "keys"},
        {"{\"keys\":{}}", "keys"},
        {"{\"keys\":[]}", "no usable"},
        {apr_psprintf(p, "{\"keys\":[%s]}", enc), "no usable"},
        {apr_psprintf(p, "{\"keys\":[%s,%s]}", rsa, rsa), "kid \"r\" used twice"},
        {apr_psprintf(p, "{\"keys\":[%s,%s]}", rsa, jf_jwk(p, pk[K_EC], NULL, NULL)), "no kid"},
        {apr_psprintf(p, "{\"keys\":[%s,%s]}", jf_jwk(p, pk[K_ED], NULL, NULL),
                      jf_jwk(p, pk[K_EC], NULL, NULL)),
         "no kid"},
        {apr_psprintf(p, "{\"keys\":[%s,%s]}", rsa, jf_jwk(p, pk[K_RSA1024], "small", NULL)),
         "key 2 (kid \"small\"): RSA modulus of 1024 bits"},
        {apr_psprintf(p, "{\"keys\":[%s,%s]}", ec, jf_jwk(p, pk[K_EC], "priv", "\"d\":\"AA\"")),
         "key 2 (kid \"priv\"): a private key"},
        {apr_psprintf(p, "{\"keys\":[%s,5]}", ec), "key 2: a key is not"},
        {apr_psprintf(p, "{\"keys\":[%s],\"keys\":[]}", ec), "JSON"},
    };

    /* one key needs no kid; enc keys are skipped; several keys with distinct kids */
    json = apr_psprintf(p, "{\"keys\":[%s]}", jf_jwk(p, pk[K_EC], NULL, NULL));
    assert_int_equal(oas_jwks_parse(&keys, &err, p, json, strlen(json)), APR_SUCCESS);
    assert_int_equal(keys->nelts, 1);
    json = apr_psprintf(p, "{\"keys\":[%s,%s,%s,%s]}", enc, rsa, ec, ed);
    assert_int_equal(oas_jwks_parse(&keys, &err, p, json, strlen(json)), APR_SUCCESS);
    assert_int_equal(keys->nelts, 3);
    assert_string_equal(APR_ARRAY_IDX(keys, 0, oas_jwk_t *)->kid, "r");
    assert_string_equal(APR_ARRAY_IDX(keys, 2, oas_jwk_t *)->kid, "d");
    json = apr_psprintf(p, "{\"keys\":[%s,%s]}", enc, jf_jwk(p, pk[K_EC], NULL, NULL));
    assert_int_equal(oas_jwks_parse(&keys, &err, p, json, strlen(json)), APR_SUCCESS);

    for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
        keys = (apr_array_header_t *)"x";
        err = NULL;
        if (oas_jwks_parse(&keys, &err, p, bad[i].json, strlen(bad[i].json)) != APR_EINVAL ||
            keys || !err || !strstr(err, bad[i].why))
            fail_msg("row %d: %s", i, err ? err : "(accepted)");
    }
    /* 64 keys pass, 65 do not; over 64 KiB does not */
    many = apr_pstrdup(p, "{\"keys\":[");
    for (i = 0; i < 65; i++) {
        json = apr_psprintf(p, "{\"kid\":\"k%d\",%s}", i, jf_jwk_members(p, pk[K_ED]));
        many = apr_pstrcat(p, many, i ? "," : "", json, NULL);
        if (i == 63) {
            json = apr_pstrcat(p, many, "]}", NULL);
            assert_int_equal(oas_jwks_parse(&keys, &err, p, json, strlen(json)), APR_SUCCESS);
            assert_int_equal(keys->nelts, 64);
        }
    }
    json = apr_pstrcat(p, many, "]}", NULL);
    assert_int_equal(oas_jwks_parse(&keys, &err, p, json, strlen(json)), APR_EINVAL);
    assert_non_null(strstr(err, "64 keys"));
    assert_int_equal(oas_jwks_parse(&keys, &err, p, json, OAS_JWKS_MAX_LEN + 1), APR_EINVAL);
    assert_non_null(strstr(err, "64 KiB"));
    assert_int_equal(oas_jwks_parse(&keys, &err, p, NULL, 0), APR_EINVAL);
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_load_file(void **state)
{
    apr_pool_t *p = *state;
    char path[] = "/tmp/oas-jwk-XXXXXX";
    apr_array_header_t *keys;
    const char *err;
    const char *json = apr_psprintf(p, "{\"keys\":[%s]}", jf_jwk(p, pk[K_ED], "file", NULL));
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, json, strlen(json)), (int)strlen(json));
    close(fd);
    assert_int_equal(oas_jwks_load_file(&keys, &err, p, path), APR_SUCCESS);
    assert_string_equal(APR_ARRAY_IDX(keys, 0, oas_jwk_t *)->kid, "file");
    /* a refused document: the reason names the file */
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "{\"keys\":[]}", 11), 11);
    close(fd);
    assert_int_equal(oas_jwks_load_file(&keys, &err, p, path), APR_EINVAL);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "no usable"));
    /* empty, missing */
    fd = open(path, O_WRONLY | O_TRUNC);
    close(fd);
    assert_int_equal(oas_jwks_load_file(&keys, &err, p, path), APR_EINVAL);
    unlink(path);
    assert_int_equal(oas_jwks_load_file(&keys, &err, p, path), APR_ENOENT);
    assert_non_null(strstr(err, path));
    assert_null(keys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_accepted),
        UNIT_TEST(test_refused),
        UNIT_TEST(test_sets),
        UNIT_TEST(test_load_file),
    };
    int i, rc;

    pk[K_RSA] = EVP_RSA_gen(2048);
    pk[K_RSA1024] = EVP_RSA_gen(1024);
    pk[K_EC] = EVP_EC_gen("P-256");
    pk[K_ED] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    for (i = 0; i < K_N; i++) {
        if (!pk[i])
            return 1;
    }
    rc = UNIT_RUN(tests);
    for (i = 0; i < K_N; i++)
        EVP_PKEY_free(pk[i]);
    return rc;
}
