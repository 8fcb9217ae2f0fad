/* Unit tests: PEM key loading and rejection, JWK/JWKS and RFC 7638 thumbprints, compact JWS
 * signing and strict verification for RS256/ES256/EdDSA, ES256 DER <-> raw, at_hash.
 * Keys are generated once per run and written as PEM files into a temporary directory. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>

#include <apr_file_io.h>

#include "jwk_fixture.h"
#include "oas_jose.h"
#include "oas_json.h"
#include "oas_keys.h"
#include "oas_util.h"
#include "unit.h"

/* ---- fixture: generated keys as PEM files ---- */

enum { K_RSA, K_RSA_TRAD, K_EC, K_EC_TRAD, K_ED, K_RSA1024, K_P384, K_X25519, K_EC2, K_N };

static struct {
    apr_pool_t *pool;
    char dir[64];
    const char *path[K_N];
    EVP_PKEY *pk[K_N];
    const char *garbage;
    const char *missing;
} fx;

static void write_pem(const char *path, EVP_PKEY *pk, int traditional)
{
    BIO *bio = BIO_new_file(path, "w");
    int ok;

    assert_non_null(bio);
    ok = traditional ? PEM_write_bio_PrivateKey_traditional(bio, pk, NULL, NULL, 0, NULL, NULL)
                     : PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL);
    BIO_free(bio);
    assert_int_equal(ok, 1);
}

static int fixture_setup(void **state)
{
    static const char *names[K_N] = {"rsa.pem",     "rsa-trad.pem", "ec.pem",
                                     "ec-trad.pem", "ed.pem",       "rsa1024.pem",
                                     "p384.pem",    "x25519.pem",   "ec2.pem"};
    apr_file_t *f;
    int i;

    (void)state;
    apr_pool_create(&fx.pool, NULL);
    strcpy(fx.dir, "/tmp/oas-jose-XXXXXX");
    if (!mkdtemp(fx.dir))
        return -1;
    fx.pk[K_RSA] = fx.pk[K_RSA_TRAD] = EVP_RSA_gen(2048);
    fx.pk[K_EC] = fx.pk[K_EC_TRAD] = EVP_EC_gen("P-256");
    fx.pk[K_ED] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    fx.pk[K_RSA1024] = EVP_RSA_gen(1024);
    fx.pk[K_P384] = EVP_EC_gen("P-384");
    fx.pk[K_X25519] = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    fx.pk[K_EC2] = EVP_EC_gen("P-256");
    for (i = 0; i < K_N; i++) {
        if (!fx.pk[i])
            return -1;
        fx.path[i] = apr_pstrcat(fx.pool, fx.dir, "/", names[i], NULL);
        write_pem(fx.path[i], fx.pk[i], i == K_RSA_TRAD || i == K_EC_TRAD);
    }
    fx.garbage = apr_pstrcat(fx.pool, fx.dir, "/garbage.pem", NULL);
    if (apr_file_open(&f, fx.garbage, APR_FOPEN_WRITE | APR_FOPEN_CREATE, APR_FPROT_OS_DEFAULT,
                      fx.pool) != APR_SUCCESS)
        return -1;
    apr_file_puts("-----BEGIN PRIVATE KEY-----\nnot base64 at all!\n-----END PRIVATE KEY-----\n",
                  f);
    apr_file_close(f);
    fx.missing = apr_pstrcat(fx.pool, fx.dir, "/missing.pem", NULL);
    return 0;
}

static int fixture_teardown(void **state)
{
    int i;

    (void)state;
    for (i = 0; i < K_N; i++) {
        if (i != K_RSA_TRAD && i != K_EC_TRAD)
            EVP_PKEY_free(fx.pk[i]);
        if (fx.path[i])
            apr_file_remove(fx.path[i], fx.pool);
    }
    apr_file_remove(fx.garbage, fx.pool);
    apr_dir_remove(fx.dir, fx.pool);
    apr_pool_destroy(fx.pool);
    return 0;
}

static oas_key_t *load(apr_pool_t *p, int which, const char *kid)
{
    oas_key_t *k = NULL;
    const char *err = NULL;

    assert_int_equal(oas_key_load(&k, &err, p, fx.path[which], kid, -1), APR_SUCCESS);
    assert_null(err);
    assert_non_null(k);
    return k;
}

/* RSA, EC and Ed25519 keys, in that order. */
static apr_array_header_t *load_all(apr_pool_t *p)
{
    apr_array_header_t *keys = apr_array_make(p, 3, sizeof(oas_key_t *));

    APR_ARRAY_PUSH(keys, oas_key_t *) = load(p, K_RSA, NULL);
    APR_ARRAY_PUSH(keys, oas_key_t *) = load(p, K_EC, NULL);
    APR_ARRAY_PUSH(keys, oas_key_t *) = load(p, K_ED, NULL);
    return keys;
}

static apr_array_header_t *one_key(apr_pool_t *p, oas_key_t *k)
{
    apr_array_header_t *keys = apr_array_make(p, 1, sizeof(oas_key_t *));

    APR_ARRAY_PUSH(keys, oas_key_t *) = k;
    return keys;
}

static const char *b64s(apr_pool_t *p, const char *s)
{
    return oas_b64url_encode(p, (const unsigned char *)s, strlen(s));
}

/* ---- keys ---- */

static void test_load_keys(void **state)
{
    apr_pool_t *p = *state;
    static const struct {
        int which;
        oas_alg_e alg;
        const char *name, *kty;
    } rows[] = {
        {K_RSA, OAS_ALG_RS256, "RS256", "RSA"}, {K_RSA_TRAD, OAS_ALG_RS256, "RS256", "RSA"},
        {K_EC, OAS_ALG_ES256, "ES256", "EC"},   {K_EC_TRAD, OAS_ALG_ES256, "ES256", "EC"},
        {K_ED, OAS_ALG_EDDSA, "EdDSA", "OKP"},
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        oas_key_t *k = load(p, rows[i].which, NULL);
        const char *tp = NULL;
        json_t *jwk;

        assert_int_equal(k->alg, rows[i].alg);
        assert_string_equal(k->alg_name, rows[i].name);
        assert_int_equal(oas_key_thumbprint(&tp, p, fx.pk[rows[i].which]), APR_SUCCESS);
        assert_string_equal(k->kid, tp); /* default kid: RFC 7638 thumbprint */
        assert_int_equal(strlen(k->kid), 43);
        assert_int_equal(oas_json_parse(&jwk, p, k->jwk_json, strlen(k->jwk_json)), APR_SUCCESS);
        assert_string_equal(oas_json_str(jwk, "kty"), rows[i].kty);
        assert_null(json_object_get(jwk, "d")); /* never the private part */
        assert_string_equal(load(p, rows[i].which, "key-1")->kid, "key-1");
    }
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_rejected_keys(void **state)
{
    apr_pool_t *p = *state;
    const struct {
        const char *path;
        apr_status_t rv;
        const char *msg;
    } rows[] = {
        {fx.path[K_RSA1024], APR_ENOTIMPL, "RSA key too small (1024 bits, need >= 2048)"},
        {fx.path[K_P384], APR_ENOTIMPL, "unsupported EC curve secp384r1 (only P-256)"},
        {fx.path[K_X25519], APR_ENOTIMPL, "unsupported key type X25519"},
        {fx.missing, APR_ENOENT, "cannot read key file "},
        {fx.garbage, APR_ENOENT, "cannot read key file "},
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        oas_key_t *k = NULL;
        const char *err = NULL;

        assert_int_equal(oas_key_load(&k, &err, p, rows[i].path, NULL, -1), rows[i].rv);
        assert_null(k);
        assert_non_null(err);
        assert_non_null(strstr(err, rows[i].msg));
        if (rows[i].rv == APR_ENOENT)
            assert_non_null(strstr(err, rows[i].path));
        assert_int_equal(ERR_peek_error(), 0); /* nothing left for the next caller */
    }
}

/* RFC 7638 §3.1: the example RSA key and its thumbprint. */
static void test_thumbprint_rfc7638(void **state)
{
    apr_pool_t *p = *state;
    const char *n64 = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPF"
                      "FxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93l"
                      "qt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHz"
                      "u6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPks"
                      "INHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    unsigned char *n;
    unsigned char *e;
    apr_size_t nlen;
    apr_size_t elen;
    BIGNUM *bn_n;
    BIGNUM *bn_e;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *pk = NULL;
    const char *tp = NULL;

    assert_int_equal(oas_b64url_decode(&n, &nlen, p, n64, strlen(n64)), APR_SUCCESS);
    assert_int_equal(oas_b64url_decode(&e, &elen, p, "AQAB", 4), APR_SUCCESS);
    bn_n = BN_bin2bn(n, (int)nlen, NULL);
    bn_e = BN_bin2bn(e, (int)elen, NULL);
    assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n));
    assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e));
    assert_non_null(params = OSSL_PARAM_BLD_to_param(bld));
    assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params), 1);
    assert_int_equal(oas_key_thumbprint(&tp, p, pk), APR_SUCCESS);
    assert_string_equal(tp, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
}

static void test_jwks(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *keys = load_all(p);
    const char *s = oas_keys_jwks_json(p, keys);
    json_t *jwks;
    json_t *arr;
    size_t i;

    assert_int_equal(oas_json_parse(&jwks, p, s, strlen(s)), APR_SUCCESS);
    arr = json_object_get(jwks, "keys");
    assert_true(json_is_array(arr));
    assert_int_equal(json_array_size(arr), 3);
    for (i = 0; i < 3; i++) {
        const oas_key_t *k = APR_ARRAY_IDX(keys, i, const oas_key_t *);
        json_t *jwk = json_array_get(arr, i);
        const char *x = oas_json_str(jwk, "x");
        unsigned char *d;
        apr_size_t dlen;

        assert_string_equal(oas_json_str(jwk, "use"), "sig");
        assert_string_equal(oas_json_str(jwk, "alg"), k->alg_name);
        assert_string_equal(oas_json_str(jwk, "kid"), k->kid);
        assert_non_null(oas_json_str(jwk, "kty"));
        assert_null(json_object_get(jwk, "d"));
        assert_int_equal(strncmp(k->jwk_json, "{\"kty\":", 7), 0); /* fixed member order */
        if (k->alg == OAS_ALG_RS256) {
            const char *n = oas_json_str(jwk, "n");
            assert_int_equal(oas_b64url_decode(&d, &dlen, p, n, strlen(n)), APR_SUCCESS);
            assert_int_equal(dlen, 256);
            assert_int_not_equal(d[0], 0); /* no leading zero byte */
            assert_string_equal(oas_json_str(jwk, "e"), "AQAB");
        }
        else {
            assert_non_null(x);
            assert_int_equal(oas_b64url_decode(&d, &dlen, p, x, strlen(x)), APR_SUCCESS);
            assert_int_equal(dlen, 32);
        }
        if (k->alg == OAS_ALG_ES256) {
            const char *y = oas_json_str(jwk, "y");
            assert_string_equal(oas_json_str(jwk, "crv"), "P-256");
            assert_int_equal(oas_b64url_decode(&d, &dlen, p, y, strlen(y)), APR_SUCCESS);
            assert_int_equal(dlen, 32);
        }
        if (k->alg == OAS_ALG_EDDSA)
            assert_string_equal(oas_json_str(jwk, "crv"), "Ed25519");
    }
    assert_string_equal(oas_keys_jwks_json(p, apr_array_make(p, 0, sizeof(oas_key_t *))),
                        "{\"keys\":[]}");
}

/* ---- JWS ---- */

static void test_sign_verify_roundtrip(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *keys = load_all(p);
    const char *claims = "{\"sub\":\"alice\",\"n\":\"\xc3\xa9\"}";
    int i;

    for (i = 0; i < keys->nelts; i++) {
        const oas_key_t *k = APR_ARRAY_IDX(keys, i, const oas_key_t *);
        const char *jws;
        const char *payload;
        const char *hdr;

        assert_int_equal(oas_jws_sign(&jws, p, k, "at+jwt", claims), APR_SUCCESS);
        assert_int_equal(oas_jws_verify(&payload, &hdr, p, jws, keys), APR_SUCCESS);
        assert_string_equal(payload, claims);
        assert_string_equal(hdr,
                            apr_psprintf(p, "{\"alg\":\"%s\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}",
                                         k->alg_name, k->kid));
        /* typ left out; the key alone is enough */
        assert_int_equal(oas_jws_sign(&jws, p, k, NULL, claims), APR_SUCCESS);
        assert_int_equal(oas_jws_verify(&payload, &hdr, p, jws, one_key(p, (oas_key_t *)k)),
                         APR_SUCCESS);
        assert_string_equal(
            hdr, apr_psprintf(p, "{\"alg\":\"%s\",\"kid\":\"%s\"}", k->alg_name, k->kid));
    }
    assert_int_equal(ERR_peek_error(), 0);
}

/* Replace one base64url character with another valid one of the same 6-bit group position. */
static char *flip(apr_pool_t *p, const char *s, size_t at)
{
    char *t = apr_pstrdup(p, s);

    t[at] = (t[at] == 'A') ? 'B' : 'A';
    return t;
}

static void test_tampered(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *keys = load_all(p);
    int i;

    for (i = 0; i < keys->nelts; i++) {
        const oas_key_t *k = APR_ARRAY_IDX(keys, i, const oas_key_t *);
        const char *jws;
        const char *other;
        const char *payload = "unchanged";
        const char *d1;
        const char *d2;
        const char *od1;
        const char *od2;
        const char *swapped;

        assert_int_equal(oas_jws_sign(&jws, p, k, "JWT", "{\"sub\":\"alice\"}"), APR_SUCCESS);
        assert_int_equal(oas_jws_sign(&other, p, k, "JWT", "{\"sub\":\"mallory\"}"), APR_SUCCESS);
        d1 = strchr(jws, '.');
        d2 = strchr(d1 + 1, '.');
        /* payload of another token under this signature */
        od1 = strchr(other, '.');
        od2 = strrchr(other, '.');
        swapped = apr_pstrcat(p, apr_pstrndup(p, jws, (apr_size_t)(d1 - jws)),
                              apr_pstrndup(p, od1, (apr_size_t)(od2 - od1)), d2, NULL);
        assert_int_equal(oas_jws_verify(&payload, NULL, p, swapped, keys), APR_EGENERAL);
        assert_null(payload);
        /* a signature byte */
        assert_int_equal(
            oas_jws_verify(&payload, NULL, p, flip(p, jws, (size_t)(d2 - jws) + 5), keys),
            APR_EGENERAL);
        /* a payload byte */
        assert_int_equal(
            oas_jws_verify(&payload, NULL, p, flip(p, jws, (size_t)(d1 - jws) + 2), keys),
            APR_EGENERAL);
        /* a different header (typ changed) with the old signature */
        assert_int_equal(
            oas_jws_verify(&payload, NULL, p,
                           apr_pstrcat(p,
                                       b64s(p, apr_psprintf(p,
                                                            "{\"alg\":\"%s\",\"typ\":\"at+jwt\","
                                                            "\"kid\":\"%s\"}",
                                                            k->alg_name, k->kid)),
                                       d1, NULL),
                           keys),
            APR_EGENERAL);
    }
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_alg_none_and_confusion(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *keys = load_all(p);
    oas_key_t *rsa = APR_ARRAY_IDX(keys, 0, oas_key_t *);
    oas_key_t *ec = APR_ARRAY_IDX(keys, 1, oas_key_t *);
    oas_key_t *ed = APR_ARRAY_IDX(keys, 2, oas_key_t *);
    oas_key_t *rsa_as_ec;
    oas_key_t rsa_nokid;
    const char *pl = b64s(p, "{\"sub\":\"alice\"}");
    const char *jws;
    const char *payload;

    /* "none", with and without a signature part */
    assert_int_equal(
        oas_jws_verify(&payload, NULL, p,
                       apr_pstrcat(p, b64s(p, "{\"alg\":\"none\"}"), ".", pl, ".", NULL), keys),
        APR_EINVAL);
    assert_int_equal(
        oas_jws_verify(&payload, NULL, p,
                       apr_pstrcat(p, b64s(p, "{\"alg\":\"none\"}"), ".", pl, ".AAAA", NULL), keys),
        APR_EINVAL);
    /* HS256 keyed with public material: not an algorithm we accept at all */
    assert_int_equal(
        oas_jws_verify(
            &payload, NULL, p,
            apr_pstrcat(p, b64s(p, apr_psprintf(p, "{\"alg\":\"HS256\",\"kid\":\"%s\"}", rsa->kid)),
                        ".", pl, ".AAAA", NULL),
            keys),
        APR_EINVAL);
    /* an RS256 token whose kid names the ES256 key */
    rsa_as_ec = load(p, K_RSA, ec->kid);
    assert_int_equal(oas_jws_sign(&jws, p, rsa_as_ec, "JWT", "{}"), APR_SUCCESS);
    assert_int_equal(oas_jws_verify(&payload, NULL, p, jws, one_key(p, ec)), APR_NOTFOUND);
    assert_int_equal(oas_jws_verify(&payload, NULL, p, jws, keys), APR_NOTFOUND);
    /* an EdDSA header with the RSA key's kid */
    assert_int_equal(
        oas_jws_verify(
            &payload, NULL, p,
            apr_pstrcat(p, b64s(p, apr_psprintf(p, "{\"alg\":\"EdDSA\",\"kid\":\"%s\"}", rsa->kid)),
                        ".", pl, ".AAAA", NULL),
            keys),
        APR_NOTFOUND);
    /* without a kid only keys of the header's alg are tried */
    rsa_nokid = *rsa;
    rsa_nokid.kid = NULL;
    assert_int_equal(oas_jws_sign(&jws, p, &rsa_nokid, NULL, "{}"), APR_SUCCESS);
    assert_int_equal(oas_jws_verify(&payload, NULL, p, jws, one_key(p, ec)), APR_NOTFOUND);
    assert_int_equal(oas_jws_verify(&payload, NULL, p, jws, one_key(p, ed)), APR_NOTFOUND);
    assert_int_equal(oas_jws_verify(&payload, NULL, p, jws, keys), APR_SUCCESS);
    /* the right alg and kid-less, but signed by another P-256 key: a bad signature */
    assert_int_equal(oas_jws_sign(&jws, p, load(p, K_EC2, NULL), NULL, "{}"), APR_SUCCESS);
    assert_int_equal(
        oas_jws_verify(&payload, NULL, p,
                       apr_pstrcat(p, b64s(p, "{\"alg\":\"ES256\"}"), strchr(jws, '.'), NULL),
                       keys),
        APR_EGENERAL);
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_malformed(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *keys = load_all(p);
    const char *h = b64s(p, "{\"alg\":\"RS256\"}");
    const char *pl = b64s(p, "{}");
    char *big = apr_palloc(p, 20 * 1024 + 1);
    const char *rows[32];
    size_t n = 0;
    size_t i;

    memset(big, 'A', 20 * 1024);
    big[20 * 1024] = '\0';
    memcpy(big, apr_pstrcat(p, h, ".", pl, ".", NULL), strlen(h) + strlen(pl) + 2);
    rows[n++] = "";
    rows[n++] = ".";
    rows[n++] = "..";
    rows[n++] = apr_pstrcat(p, h, ".", pl, NULL);               /* 2 parts */
    rows[n++] = apr_pstrcat(p, h, ".", pl, ".AAAA.AAAA", NULL); /* 4 parts */
    rows[n++] = apr_pstrcat(p, h, ".", pl, ".AAAA.", NULL);
    rows[n++] = apr_pstrcat(p, ".", pl, ".AAAA", NULL); /* empty parts */
    rows[n++] = apr_pstrcat(p, h, "..AAAA", NULL);
    rows[n++] = apr_pstrcat(p, h, ".", pl, ".", NULL);
    rows[n++] = apr_pstrcat(p, h, "!.", pl, ".AAAA", NULL); /* bad base64url */
    rows[n++] = apr_pstrcat(p, h, ".", pl, ".AA+A", NULL);
    rows[n++] = apr_pstrcat(p, h, ".", pl, "=.AAAA", NULL); /* padding */
    rows[n++] = apr_pstrcat(p, h, ".", pl, ".AAA=", NULL);
    rows[n++] = apr_pstrcat(p, h, ".", pl, ".A", NULL); /* bad length */
    rows[n++] = apr_pstrcat(p, h, " .", pl, ".AAAA", NULL);
    rows[n++] = apr_pstrcat(p, b64s(p, "[\"RS256\"]"), ".", pl, ".AAAA", NULL); /* not object */
    rows[n++] = apr_pstrcat(p, b64s(p, "\"RS256\""), ".", pl, ".AAAA", NULL);
    rows[n++] = apr_pstrcat(p, b64s(p, "null"), ".", pl, ".AAAA", NULL);
    rows[n++] = apr_pstrcat(p, b64s(p, "{\"alg\":\"RS256\""), ".", pl, ".AAAA", NULL);
    rows[n++] = apr_pstrcat(p, b64s(p, "{\"alg\":\"ES256\",\"alg\":\"RS256\"}"), ".", pl, ".AAAA",
                            NULL);                                     /* duplicate */
    rows[n++] = apr_pstrcat(p, b64s(p, "{}"), ".", pl, ".AAAA", NULL); /* no alg */
    rows[n++] = apr_pstrcat(p, b64s(p, "{\"alg\":256}"), ".", pl, ".AAAA", NULL);
    rows[n++] = apr_pstrcat(p, b64s(p, "{\"alg\":\"rs256\"}"), ".", pl, ".AAAA", NULL);
    rows[n++] = apr_pstrcat(p, b64s(p, "{\"alg\":\"RS256\",\"kid\":5}"), ".", pl, ".AAAA", NULL);
    rows[n++] = apr_pstrcat(p, b64s(p, "{\"alg\":\"RS256\",\"crit\":[\"exp\"],\"exp\":1}"), ".", pl,
                            ".AAAA", NULL);
    rows[n++] = apr_pstrcat(p, h, ".", oas_b64url_encode(p, (const unsigned char *)"{}\0x", 4),
                            ".AAAA", NULL); /* NUL in payload */
    rows[n++] = apr_pstrcat(p, b64s(p, "{\"alg\":\"ES256\"}"), ".", pl, ".AAAA", NULL); /* 3 B */
    rows[n++] = big;                                                                    /* 20 KiB */
    assert_true(n <= sizeof(rows) / sizeof(rows[0]));
    for (i = 0; i < n; i++) {
        const char *payload = "unchanged";
        const char *hdr = "unchanged";

        if (oas_jws_verify(&payload, &hdr, p, rows[i], keys) != APR_EINVAL)
            fail_msg("row %zu: %s", i, rows[i]);
        assert_null(payload);
        assert_null(hdr);
    }
    assert_int_equal(oas_jws_verify(&rows[0], NULL, p, NULL, keys), APR_EINVAL);
    assert_int_equal(ERR_peek_error(), 0);
}

/* ---- ES256 signature forms ---- */

static void test_ecdsa_vectors(void **state)
{
    apr_pool_t *p = *state;
    unsigned char raw[64] = {0};
    unsigned char back[64];
    unsigned char expect[40] = {0x30, 0x26, 0x02, 0x01, 0x01, 0x02, 0x21, 0x00, 0x80};
    static const unsigned char trailing[] = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00};
    unsigned char big[40] = {0x30, 0x26, 0x02, 0x01, 0x01, 0x02, 0x21, 0x01};
    unsigned char *der;
    apr_size_t derlen;

    /* r = 1 (31 leading zero bytes), s with its high bit set (DER needs a 0x00 prefix) */
    raw[31] = 0x01;
    raw[32] = 0x80;
    assert_int_equal(oas_ecdsa_raw_to_der(&der, &derlen, p, raw, 64), APR_SUCCESS);
    assert_int_equal(derlen, 40);
    assert_memory_equal(der, expect, 40);
    assert_int_equal(oas_ecdsa_der_to_raw(back, der, derlen), APR_SUCCESS);
    assert_memory_equal(back, raw, 64);

    assert_int_equal(oas_ecdsa_raw_to_der(&der, &derlen, p, raw, 63), APR_EINVAL);
    assert_int_equal(oas_ecdsa_der_to_raw(back, trailing, sizeof(trailing)), APR_EINVAL);
    assert_int_equal(oas_ecdsa_der_to_raw(back, trailing, sizeof(trailing) - 1), APR_SUCCESS);
    assert_int_equal(oas_ecdsa_der_to_raw(back, big, sizeof(big)), APR_EINVAL); /* 33-byte s */
    assert_int_equal(oas_ecdsa_der_to_raw(back, (const unsigned char *)"junk", 4), APR_EINVAL);
    assert_int_equal(oas_ecdsa_der_to_raw(back, expect, 0), APR_EINVAL);
    {
        /* strict DER: not minimal, negative, empty integer, lengths that do not add up */
        static const unsigned char padded[] = {0x30, 0x07, 0x02, 0x02, 0x00,
                                               0x01, 0x02, 0x01, 0x01};
        static const unsigned char negative[] = {0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01};
        static const unsigned char empty[] = {0x30, 0x06, 0x02, 0x00, 0x02, 0x02, 0x01, 0x01};
        static const unsigned char seqlen[] = {0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01};
        static const unsigned char intlen[] = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x02, 0x01};
        assert_int_equal(oas_ecdsa_der_to_raw(back, padded, sizeof(padded)), APR_EINVAL);
        assert_int_equal(oas_ecdsa_der_to_raw(back, negative, sizeof(negative)), APR_EINVAL);
        assert_int_equal(oas_ecdsa_der_to_raw(back, empty, sizeof(empty)), APR_EINVAL);
        assert_int_equal(oas_ecdsa_der_to_raw(back, seqlen, sizeof(seqlen)), APR_EINVAL);
        assert_int_equal(oas_ecdsa_der_to_raw(back, intlen, sizeof(intlen)), APR_EINVAL);
    }
    assert_int_equal(ERR_peek_error(), 0);
}

/* Real signatures: DER -> raw -> DER must give back OpenSSL's bytes; over 200 signatures some
 * r or s have the high bit set (33-byte INTEGER) and usually some are shorter than 32 bytes. */
static void test_ecdsa_many(void **state)
{
    apr_pool_t *p = *state;
    EVP_PKEY *pk = fx.pk[K_EC];
    oas_key_t *k = load(p, K_EC, NULL);
    apr_array_header_t *keys = one_key(p, k);
    int high = 0;
    int i;

    for (i = 0; i < 200; i++) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned char sig[80];
        unsigned char raw[64];
        unsigned char *der;
        apr_size_t derlen;
        size_t siglen = sizeof(sig);
        const char *msg = apr_psprintf(p, "message %d", i);
        const char *jws;
        const char *payload;

        assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pk), 1);
        assert_int_equal(EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)msg, strlen(msg)),
                         1);
        EVP_MD_CTX_free(ctx);
        assert_int_equal(oas_ecdsa_der_to_raw(raw, sig, siglen), APR_SUCCESS);
        high += (raw[0] & 0x80) != 0;
        high += (raw[32] & 0x80) != 0;
        assert_int_equal(oas_ecdsa_raw_to_der(&der, &derlen, p, raw, 64), APR_SUCCESS);
        assert_int_equal(derlen, siglen);
        assert_memory_equal(der, sig, siglen);

        assert_int_equal(oas_jws_sign(&jws, p, k, NULL, apr_psprintf(p, "{\"i\":%d}", i)),
                         APR_SUCCESS);
        assert_int_equal(oas_jws_verify(&payload, NULL, p, jws, keys), APR_SUCCESS);
    }
    assert_true(high > 0);
}

/* Our JWS signatures verify with OpenSSL alone (for ES256 after raw -> DER). */
static void test_interop(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *keys = load_all(p);
    int i;

    for (i = 0; i < keys->nelts; i++) {
        const oas_key_t *k = APR_ARRAY_IDX(keys, i, const oas_key_t *);
        const char *jws;
        const char *dot;
        unsigned char *sig;
        apr_size_t siglen;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_PKEY *pub = fx.pk[k->alg == OAS_ALG_RS256   ? K_RSA
                              : k->alg == OAS_ALG_ES256 ? K_EC
                                                        : K_ED];

        assert_int_equal(oas_jws_sign(&jws, p, k, "JWT", "{\"iss\":\"https://as\"}"), APR_SUCCESS);
        dot = strrchr(jws, '.');
        assert_int_equal(oas_b64url_decode(&sig, &siglen, p, dot + 1, strlen(dot + 1)),
                         APR_SUCCESS);
        if (k->alg == OAS_ALG_ES256) {
            assert_int_equal(siglen, 64);
            assert_int_equal(oas_ecdsa_raw_to_der(&sig, &siglen, p, sig, siglen), APR_SUCCESS);
        }
        assert_int_equal(EVP_DigestVerifyInit(
                             ctx, NULL, k->alg == OAS_ALG_EDDSA ? NULL : EVP_sha256(), NULL, pub),
                         1);
        assert_int_equal(
            EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)jws, (size_t)(dot - jws)), 1);
        EVP_MD_CTX_free(ctx);
    }
}

/* ---- what clients sign: algorithms, parsing, verification with JWKs and HMAC ---- */

static void test_alg_names(void **state)
{
    static const char *const names[] = {"RS256", "ES256", "EdDSA", "PS256", "HS256"};
    static const char *const unknown[] = {"none",   "None",    "rs256", "HS384",  "RS512",
                                          "ES256K", "Ed25519", "",      "PS256 ", "RSA-OAEP"};
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        assert_int_equal(oas_alg_from_name(names[i]), (int)i);
        assert_string_equal(oas_alg_name((int)i), names[i]);
    }
    assert_int_equal(OAS_ALG_PS256, 3);
    assert_int_equal(OAS_ALG_HS256, 4);
    for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        assert_int_equal(oas_alg_from_name(unknown[i]), -1);
    assert_int_equal(oas_alg_from_name(NULL), -1);
    assert_null(oas_alg_name(-1));
    assert_null(oas_alg_name(5));
    assert_int_equal(OAS_ALGBITS_ASYM & OAS_ALGBIT(OAS_ALG_HS256), 0);
    {
        apr_array_header_t *a = oas_alg_names(*state, OAS_ALGBITS_ASYM | OAS_ALGBIT(OAS_ALG_HS256));
        static const char *const order[] = {"PS256", "ES256", "EdDSA", "RS256", "HS256"};

        assert_int_equal(a->nelts, 5);
        for (i = 0; i < 5; i++)
            assert_string_equal(APR_ARRAY_IDX(a, (int)i, const char *), order[i]);
        a = oas_alg_names(*state, OAS_ALGBIT(OAS_ALG_RS256) | OAS_ALGBIT(OAS_ALG_EDDSA));
        assert_int_equal(a->nelts, 2);
        assert_string_equal(APR_ARRAY_IDX(a, 0, const char *), "EdDSA");
        assert_int_equal(oas_alg_names(*state, 0)->nelts, 0);
    }
}

static void test_jws_parse(void **state)
{
    apr_pool_t *p = *state;
    const char *pl = b64s(p, "{\"iss\":\"c\"}");
    const char *jws =
        apr_pstrcat(p,
                    b64s(p, "{\"alg\":\"PS256\",\"typ\":\"JWT\",\"kid\":\"k1\",\"jku\":\"https:"
                            "//evil\",\"jwk\":{\"kty\":\"EC\"},\"x5u\":\"x\",\"x5c\":[\"a\"]}"),
                    ".", pl, ".AAAA", NULL);
    const char *err = NULL;
    oas_jws_t *j;
    const struct {
        const char *hdr;
        const char *why;
    } rows[] = {
        {"{\"alg\":\"none\"}", "alg"},
        {"{\"alg\":\"HS512\"}", "alg"},
        {"{\"typ\":\"JWT\"}", "alg"},
        {"{\"alg\":[\"RS256\"]}", "alg"},
        {"{\"alg\":\"RS256\",\"typ\":1}", "typ"},
        {"{\"alg\":\"RS256\",\"kid\":null}", "kid"},
        {"{\"alg\":\"RS256\",\"crit\":[\"b64\"],\"b64\":false}", "crit"},
        {"{\"alg\":\"RS256\",\"crit\":[]}", "crit"},
        {"{\"alg\":\"RS256\",\"b64\":true}", "b64"},
        {"{\"alg\":\"RS256\",\"kid\":\"a\",\"kid\":\"b\"}", "JSON"},
        {"{\"alg\":\"RS256\"} ", NULL}, /* whitespace around the object is JSON */
    };
    size_t i;

    assert_int_equal(oas_jws_parse(&j, &err, p, jws, 0), APR_SUCCESS);
    assert_null(err);
    assert_int_equal(j->alg, OAS_ALG_PS256);
    assert_string_equal(j->alg_name, "PS256");
    assert_string_equal(j->typ, "JWT");
    assert_string_equal(j->kid, "k1");
    assert_string_equal(j->payload, "{\"iss\":\"c\"}");
    assert_int_equal(j->payload_len, 11);
    assert_int_equal(j->header_len, strlen(j->header_json));
    assert_int_equal(j->signing_input_len, strrchr(jws, '.') - jws);
    assert_ptr_equal(j->signing_input, jws);
    assert_int_equal(j->sig_len, 3);
    /* max_len */
    assert_int_equal(oas_jws_parse(&j, &err, p, jws, strlen(jws)), APR_SUCCESS);
    assert_int_equal(oas_jws_parse(&j, &err, p, jws, strlen(jws) - 1), APR_EINVAL);
    assert_null(j);
    assert_int_equal(oas_jws_parse(&j, &err, p, NULL, 0), APR_EINVAL);

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        jws = apr_pstrcat(p, b64s(p, rows[i].hdr), ".", pl, ".AAAA", NULL);
        err = NULL;
        if (!rows[i].why) {
            assert_int_equal(oas_jws_parse(&j, &err, p, jws, 0), APR_SUCCESS);
            continue;
        }
        if (oas_jws_parse(&j, &err, p, jws, 0) != APR_EINVAL || j || !err ||
            !strstr(err, rows[i].why))
            fail_msg("row %zu: %s (%s)", i, rows[i].hdr, err ? err : "accepted");
    }
}

static void test_verify_keys(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *keys = apr_array_make(p, 3, sizeof(oas_jwk_t *));
    const unsigned all = OAS_ALGBITS_ASYM;
    const oas_jwk_t *used;
    oas_jwk_t *rsa, *ec, *ed, *rsa_ps, *rsa_rs;
    const char *pl = "{\"iss\":\"c\"}";
    const struct {
        int alg;
        int key;
        const char *kid;
    } algs[] = {{OAS_ALG_RS256, K_RSA, "r"},
                {OAS_ALG_PS256, K_RSA, "r"},
                {OAS_ALG_ES256, K_EC, "e"},
                {OAS_ALG_EDDSA, K_ED, "d"}};
    size_t i;

    APR_ARRAY_PUSH(keys, oas_jwk_t *) = rsa = jf_parse(p, jf_jwk(p, fx.pk[K_RSA], "r", NULL));
    APR_ARRAY_PUSH(keys, oas_jwk_t *) = ec = jf_parse(p, jf_jwk(p, fx.pk[K_EC], "e", NULL));
    APR_ARRAY_PUSH(keys, oas_jwk_t *) = ed = jf_parse(p, jf_jwk(p, fx.pk[K_ED], "d", NULL));
    rsa_ps = jf_parse(p, jf_jwk(p, fx.pk[K_RSA], "r", "\"alg\":\"PS256\""));
    rsa_rs = jf_parse(p, jf_jwk(p, fx.pk[K_RSA], "r", "\"alg\":\"RS256\""));

    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        const char *name = oas_alg_name(algs[i].alg);
        const char *with_kid =
            jf_sign(p, fx.pk[algs[i].key], algs[i].alg, 32, NULL,
                    apr_psprintf(p, "{\"alg\":\"%s\",\"kid\":\"%s\"}", name, algs[i].kid), pl);
        const char *no_kid = jf_sign(p, fx.pk[algs[i].key], algs[i].alg, 32, NULL,
                                     apr_psprintf(p, "{\"alg\":\"%s\"}", name), pl);
        const oas_jws_t *j = jf_jws(p, with_kid);
        const oas_jws_t *n = jf_jws(p, no_kid);
        char *bad;

        assert_int_equal(oas_jws_verify_keys(&used, j, keys, all), APR_SUCCESS);
        assert_string_equal(used->kid, algs[i].kid);
        assert_int_equal(oas_jws_verify_keys(&used, n, keys, all), APR_SUCCESS);
        assert_string_equal(used->kid, algs[i].kid);
        assert_int_equal(oas_jws_verify_keys(NULL, n, keys, OAS_ALGBIT(algs[i].alg)), APR_SUCCESS);
        /* the alg must be allowed */
        assert_int_equal(oas_jws_verify_keys(&used, j, keys, all & ~OAS_ALGBIT(algs[i].alg)),
                         APR_EINVAL);
        assert_null(used);
        /* a kid nobody has; no keys */
        assert_int_equal(
            oas_jws_verify_keys(&used,
                                jf_jws(p, jf_sign(p, fx.pk[algs[i].key], algs[i].alg, 32, NULL,
                                                  apr_psprintf(p,
                                                               "{\"alg\":\"%"
                                                               "s\",\"kid\":"
                                                               "\"zz\"}",
                                                               name),
                                                  pl)),
                                keys, all),
            APR_NOTFOUND);
        assert_int_equal(oas_jws_verify_keys(&used, n, NULL, all), APR_NOTFOUND);
        /* a changed payload byte */
        bad = apr_pstrdup(p, no_kid);
        bad[strchr(bad, '.') - bad + 2] ^= 1;
        if (oas_jws_parse((oas_jws_t **)&j, &name, p, bad, 0) == APR_SUCCESS)
            assert_int_equal(oas_jws_verify_keys(&used, j, keys, all), APR_EGENERAL);
    }

    /* an RSA key restricted by its "alg" verifies that alg only, with or without a kid */
    {
        apr_array_header_t *ps_only = jf_keys(p, rsa_ps), *rs_only = jf_keys(p, rsa_rs);
        const oas_jws_t *rs =
            jf_jws(p, jf_sign(p, fx.pk[K_RSA], OAS_ALG_RS256, 0, NULL, "{\"alg\":\"RS256\"}", pl));
        const oas_jws_t *rs_kid = jf_jws(p, jf_sign(p, fx.pk[K_RSA], OAS_ALG_RS256, 0, NULL,
                                                    "{\"alg\":\"RS256\",\"kid\":\"r\"}", pl));
        const oas_jws_t *ps =
            jf_jws(p, jf_sign(p, fx.pk[K_RSA], OAS_ALG_PS256, 32, NULL, "{\"alg\":\"PS256\"}", pl));

        assert_int_equal(oas_jws_verify_keys(&used, rs, ps_only, all), APR_NOTFOUND);
        assert_int_equal(oas_jws_verify_keys(&used, rs_kid, ps_only, all), APR_NOTFOUND);
        assert_int_equal(oas_jws_verify_keys(&used, ps, ps_only, all), APR_SUCCESS);
        assert_int_equal(oas_jws_verify_keys(&used, rs, rs_only, all), APR_SUCCESS);
        assert_int_equal(oas_jws_verify_keys(&used, ps, rs_only, all), APR_NOTFOUND);
        /* PS256 with a salt other than the hash length (RFC 7518 §3.5) */
        ps =
            jf_jws(p, jf_sign(p, fx.pk[K_RSA], OAS_ALG_PS256, 20, NULL, "{\"alg\":\"PS256\"}", pl));
        assert_int_equal(oas_jws_verify_keys(&used, ps, keys, all), APR_EGENERAL);
        /* PKCS#1 v1.5 bytes under a PS256 header, and the reverse */
        assert_int_equal(
            oas_jws_verify_keys(
                &used,
                jf_jws(p,
                       apr_pstrcat(p, b64s(p, "{\"alg\":\"PS256\"}"),
                                   apr_pstrmemdup(p, strchr(rs->signing_input, '.'),
                                                  rs->signing_input_len -
                                                      (apr_size_t)(strchr(rs->signing_input, '.') -
                                                                   rs->signing_input)),
                                   ".", oas_b64url_encode(p, rs->sig, rs->sig_len), NULL)),
                keys, all),
            APR_EGENERAL);
    }

    /* algorithm confusion: a kid of one key type under another type's alg */
    {
        static const struct {
            const char *hdr;
        } confused[] = {{"{\"alg\":\"RS256\",\"kid\":\"e\"}"},
                        {"{\"alg\":\"ES256\",\"kid\":\"r\"}"},
                        {"{\"alg\":\"EdDSA\",\"kid\":\"r\"}"},
                        {"{\"alg\":\"PS256\",\"kid\":\"d\"}"},
                        {"{\"alg\":\"EdDSA\",\"kid\":\"e\"}"}};
        unsigned char sig64[64] = {1};

        for (i = 0; i < sizeof(confused) / sizeof(confused[0]); i++) {
            const char *t = apr_pstrcat(p, b64s(p, confused[i].hdr), ".", b64s(p, pl), ".",
                                        oas_b64url_encode(p, sig64, 64), NULL);

            assert_int_equal(oas_jws_verify_keys(&used, jf_jws(p, t), keys, all), APR_NOTFOUND);
        }
        /* HS256 is never verified with a public key, whatever allowed_algs says */
        assert_int_equal(
            oas_jws_verify_keys(&used,
                                jf_jws(p, jf_sign(p, NULL, OAS_ALG_HS256, 0, "key",
                                                  "{\"alg\":\"HS256\",\"kid\":\"r\"}", pl)),
                                keys, ~0u),
            APR_EINVAL);
    }
    /* the right alg, no kid, another P-256 key: a bad signature */
    assert_int_equal(oas_jws_verify_keys(&used,
                                         jf_jws(p, jf_sign(p, fx.pk[K_EC2], OAS_ALG_ES256, 0, NULL,
                                                           "{\"alg\":\"ES256\"}", pl)),
                                         keys, all),
                     APR_EGENERAL);
    (void)rsa;
    (void)ec;
    (void)ed;
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_verify_hmac(void **state)
{
    apr_pool_t *p = *state;
    const char *secret = "0123456789abcdef0123456789abcdef";
    const char *pl = "{\"iss\":\"c\"}";
    const oas_jws_t *j =
        jf_jws(p, jf_sign(p, NULL, OAS_ALG_HS256, 0, secret, "{\"alg\":\"HS256\"}", pl));
    oas_jws_t cut;

    assert_int_equal(oas_jws_verify_hmac(j, (const unsigned char *)secret, 32), APR_SUCCESS);
    assert_int_equal(oas_jws_verify_hmac(j, (const unsigned char *)secret, 31), APR_EGENERAL);
    assert_int_equal(
        oas_jws_verify_hmac(j, (const unsigned char *)"1123456789abcdef0123456789abcdef", 32),
        APR_EGENERAL);
    assert_int_equal(oas_jws_verify_hmac(j, (const unsigned char *)secret, 0), APR_EINVAL);
    assert_int_equal(oas_jws_verify_hmac(j, NULL, 32), APR_EINVAL);
    cut = *j;
    cut.sig_len = 31; /* a truncated MAC */
    assert_int_equal(oas_jws_verify_hmac(&cut, (const unsigned char *)secret, 32), APR_EGENERAL);
    cut.sig_len = 0;
    assert_int_equal(oas_jws_verify_hmac(&cut, (const unsigned char *)secret, 32), APR_EGENERAL);
    /* only HS256 */
    j = jf_jws(p, jf_sign(p, fx.pk[K_EC], OAS_ALG_ES256, 0, NULL, "{\"alg\":\"ES256\"}", pl));
    assert_int_equal(oas_jws_verify_hmac(j, (const unsigned char *)secret, 32), APR_EINVAL);
    assert_int_equal(ERR_peek_error(), 0);
}

/* OAuthASSigningKey FILE KID PS256: PSS signatures, salt = 32, that OpenSSL and our verifier
 * accept, through the prepared signing context */
static void test_ps256_signing_key(void **state)
{
    apr_pool_t *p = *state;
    const char *err = NULL;
    oas_key_t *k = NULL;
    const oas_jwk_t *used;
    apr_array_header_t *pub;
    int i;

    assert_int_equal(oas_key_load(&k, &err, p, fx.path[K_RSA], "ps", OAS_ALG_PS256), APR_SUCCESS);
    assert_int_equal(k->alg, OAS_ALG_PS256);
    assert_string_equal(k->alg_name, "PS256");
    assert_non_null(k->sign_tmpl);
    assert_non_null(strstr(k->jwk_json, "\"alg\":\"PS256\""));
    pub = jf_keys(p, jf_parse(p, k->jwk_json));
    assert_int_equal(APR_ARRAY_IDX(pub, 0, oas_jwk_t *)->algs, OAS_ALGBIT(OAS_ALG_PS256));
    for (i = 0; i < 3; i++) {
        const char *jws, *payload, *dot;
        unsigned char *sig;
        apr_size_t siglen;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        oas_key_t copy = *k;

        if (i == 2)
            copy.sign_tmpl = NULL; /* the path without a template */
        assert_int_equal(oas_jws_sign(&jws, p, &copy, "JWT", "{\"sub\":\"a\"}"), APR_SUCCESS);
        assert_int_equal(strncmp(jws, oas_key_jws_header(p, k, "JWT"), strlen(k->hdr_jwt)), 0);
        assert_int_equal(oas_jws_verify(&payload, NULL, p, jws, one_key(p, k)), APR_SUCCESS);
        assert_int_equal(oas_jws_verify_keys(&used, jf_jws(p, jws), pub, OAS_ALGBITS_ASYM),
                         APR_SUCCESS);
        dot = strrchr(jws, '.');
        assert_int_equal(oas_b64url_decode(&sig, &siglen, p, dot + 1, strlen(dot + 1)),
                         APR_SUCCESS);
        assert_int_equal(siglen, 256);
        assert_int_equal(EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, fx.pk[K_RSA]), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32), 1);
        assert_int_equal(
            EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)jws, (size_t)(dot - jws)), 1);
        EVP_MD_CTX_free(ctx);
    }
    /* at_hash of a PS256 ID token: SHA-256 */
    assert_string_equal(oas_jose_at_hash(p, k, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
                        "77QmUPtjPfzWtF2AnpK9RQ");
    /* an ALG that does not fit the key */
    assert_int_equal(oas_key_load(&k, &err, p, fx.path[K_EC], NULL, OAS_ALG_PS256), APR_EINVAL);
    assert_non_null(strstr(err, "cannot sign PS256"));
    assert_int_equal(oas_key_load(&k, &err, p, fx.path[K_RSA], NULL, OAS_ALG_ES256), APR_EINVAL);
    assert_int_equal(oas_key_load(&k, &err, p, fx.path[K_ED], NULL, OAS_ALG_RS256), APR_EINVAL);
    assert_int_equal(oas_key_load(&k, &err, p, fx.path[K_RSA], NULL, OAS_ALG_HS256), APR_EINVAL);
    assert_int_equal(oas_key_load(&k, &err, p, fx.path[K_RSA], NULL, OAS_ALG_RS256), APR_SUCCESS);
    assert_int_equal(k->alg, OAS_ALG_RS256);
    assert_int_equal(ERR_peek_error(), 0);
}

/* ---- at_hash ---- */

static void test_at_hash(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *keys = load_all(p);
    const char *tok = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
    int i;

    /* OpenID Connect Core 1.0, Appendix A.3 (RS256) */
    assert_string_equal(oas_jose_at_hash(p, APR_ARRAY_IDX(keys, 0, oas_key_t *), tok),
                        "77QmUPtjPfzWtF2AnpK9RQ");
    for (i = 0; i < keys->nelts; i++) {
        const oas_key_t *k = APR_ARRAY_IDX(keys, i, const oas_key_t *);
        const EVP_MD *md = k->alg == OAS_ALG_EDDSA ? EVP_sha512() : EVP_sha256();
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned int n = 0;

        assert_int_equal(EVP_Digest(tok, strlen(tok), d, &n, md, NULL), 1);
        assert_string_equal(oas_jose_at_hash(p, k, tok), oas_b64url_encode(p, d, n / 2));
    }
    assert_int_equal(strlen(oas_jose_at_hash(p, APR_ARRAY_IDX(keys, 2, oas_key_t *), tok)), 43);
    assert_null(oas_jose_at_hash(p, APR_ARRAY_IDX(keys, 0, oas_key_t *), NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_load_keys),
        UNIT_TEST(test_rejected_keys),
        UNIT_TEST(test_thumbprint_rfc7638),
        UNIT_TEST(test_jwks),
        UNIT_TEST(test_sign_verify_roundtrip),
        UNIT_TEST(test_tampered),
        UNIT_TEST(test_alg_none_and_confusion),
        UNIT_TEST(test_malformed),
        UNIT_TEST(test_ecdsa_vectors),
        UNIT_TEST(test_ecdsa_many),
        UNIT_TEST(test_interop),
        UNIT_TEST(test_at_hash),
        UNIT_TEST(test_alg_names),
        UNIT_TEST(test_jws_parse),
        UNIT_TEST(test_verify_keys),
        UNIT_TEST(test_verify_hmac),
        UNIT_TEST(test_ps256_signing_key),
    };
    int rc;

    /* The fixture pool needs APR before unit_run initializes it (apr_initialize nests). */
    apr_initialize();
    if (fixture_setup(NULL) != 0)
        return 1;
    rc = UNIT_RUN(tests);
    fixture_teardown(NULL);
    apr_terminate();
    return rc;
}
