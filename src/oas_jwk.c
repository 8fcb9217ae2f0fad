/* mod_oauth_as: public JWKs of clients (RFC 7517, RFC 7518 §6, RFC 8037 §2). What a client
 * publishes is read once (at start-up, or when its jwks_uri is fetched) into EVP_PKEYs, so
 * that verification never parses a key. Strict: a document we cannot read completely is
 * refused rather than half used, private keys are refused outright (they were leaked). */
#include <apr_file_io.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <string.h>

#include "oas_json.h"
#include "oas_jwk.h"
#include "oas_keys.h"
#include "oas_util.h"

#define P256_COORD_LEN 32
#define ED25519_LEN 32
#define RSA_E_MAX_LEN 8
#define KID_MAX_LEN 256

static apr_status_t pkey_cleanup(void *data)
{
    EVP_PKEY_free(data);
    return APR_SUCCESS;
}

/* A string member of at most OAS_JWK_MAX_MEMBER bytes: its value, NULL when absent.
 * @return 0 when present with another type or too long */
static int member_str(const char **pv, const json_t *o, const char *name)
{
    const json_t *v = json_object_get(o, name);

    *pv = NULL;
    if (!v)
        return 1;
    if (!json_is_string(v) || json_string_length(v) > OAS_JWK_MAX_MEMBER)
        return 0;
    *pv = json_string_value(v);
    return 1;
}

/* base64url member name of o, required, decoded to between min and max bytes. */
static int member_b64(unsigned char **pout, apr_size_t *plen, apr_pool_t *p, const json_t *o,
                      const char *name, apr_size_t min, apr_size_t max)
{
    const char *s;

    return member_str(&s, o, name) && s &&
           oas_b64url_decode(pout, plen, p, s, strlen(s)) == APR_SUCCESS && *plen >= min &&
           *plen <= max;
}

/* Build an EVP_PKEY of type name from params (OpenSSL 3 provider form, no legacy structs). */
static EVP_PKEY *from_params(const char *name, OSSL_PARAM_BLD *bld)
{
    EVP_PKEY_CTX *ctx = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY *pk = NULL;

    if (bld && NULL != (params = OSSL_PARAM_BLD_to_param(bld)) &&
        NULL != (ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL)) &&
        EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pk = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pk;
}

static const char *rsa_key(EVP_PKEY **ppk, apr_pool_t *p, const json_t *o)
{
    unsigned char *n, *e;
    apr_size_t nlen, elen;
    OSSL_PARAM_BLD *bld;
    BIGNUM *bn = NULL, *be = NULL;
    int bits;

    if (!member_b64(&n, &nlen, p, o, "n", 1, OAS_JWK_RSA_MAX_BITS / 8 + 1) ||
        !member_b64(&e, &elen, p, o, "e", 1, RSA_E_MAX_LEN))
        return "RSA key without valid n and e";
    if (NULL == (bn = BN_bin2bn(n, (int)nlen, NULL)) ||
        NULL == (be = BN_bin2bn(e, (int)elen, NULL))) {
        BN_free(bn);
        return "out of memory";
    }
    bits = BN_num_bits(bn);
    if (bits < OAS_JWK_RSA_MIN_BITS || bits > OAS_JWK_RSA_MAX_BITS || !BN_is_odd(be) ||
        BN_is_one(be)) {
        BN_free(bn);
        BN_free(be);
        return bits < OAS_JWK_RSA_MIN_BITS
                   ? apr_psprintf(p, "RSA modulus of %d bits (at least %d needed)", bits,
                                  OAS_JWK_RSA_MIN_BITS)
               : bits > OAS_JWK_RSA_MAX_BITS ? "RSA modulus over 8192 bits"
                                             : "RSA exponent unusable";
    }
    bld = OSSL_PARAM_BLD_new();
    if (bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
        *ppk = from_params("RSA", bld);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    return *ppk ? NULL : "RSA key not accepted by OpenSSL";
}

static const char *ec_key(EVP_PKEY **ppk, apr_pool_t *p, const json_t *o)
{
    unsigned char pub[1 + 2 * P256_COORD_LEN];
    unsigned char *x, *y;
    apr_size_t xlen, ylen;
    OSSL_PARAM_BLD *bld;
    EVP_PKEY_CTX *check;
    const char *crv;

    if (!member_str(&crv, o, "crv") || !crv || strcmp(crv, "P-256"))
        return "EC key not on curve P-256";
    if (!member_b64(&x, &xlen, p, o, "x", P256_COORD_LEN, P256_COORD_LEN) ||
        !member_b64(&y, &ylen, p, o, "y", P256_COORD_LEN, P256_COORD_LEN))
        return "EC key without x and y of 32 bytes";
    pub[0] = 0x04; /* uncompressed point (SEC 1 §2.3.3) */
    memcpy(pub + 1, x, P256_COORD_LEN);
    memcpy(pub + 1 + P256_COORD_LEN, y, P256_COORD_LEN);
    bld = OSSL_PARAM_BLD_new();
    if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)))
        *ppk = from_params("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    if (!*ppk)
        return "EC point not on P-256";
    /* a point off the curve invites invalid-curve attacks: check, whatever the import did. On
     * the curve is enough: P-256's cofactor is 1, so every point on it is in the group of
     * prime order, and the full check's multiplication by that order (as dear as half a
     * verification, on every DPoP proof) proves nothing more */
    check = EVP_PKEY_CTX_new_from_pkey(NULL, *ppk, NULL);
    if (!check || EVP_PKEY_public_check_quick(check) != 1) {
        EVP_PKEY_CTX_free(check);
        EVP_PKEY_free(*ppk);
        *ppk = NULL;
        return "EC point not on P-256";
    }
    EVP_PKEY_CTX_free(check);
    return NULL;
}

static const char *okp_key(EVP_PKEY **ppk, apr_pool_t *p, const json_t *o)
{
    unsigned char *x;
    apr_size_t xlen;
    OSSL_PARAM_BLD *bld;
    const char *crv;

    if (!member_str(&crv, o, "crv") || !crv || strcmp(crv, "Ed25519"))
        return "OKP key not on curve Ed25519";
    if (!member_b64(&x, &xlen, p, o, "x", ED25519_LEN, ED25519_LEN))
        return "OKP key without x of 32 bytes";
    bld = OSSL_PARAM_BLD_new();
    if (bld && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, x, xlen))
        *ppk = from_params("ED25519", bld);
    OSSL_PARAM_BLD_free(bld);
    return *ppk ? NULL : "Ed25519 key not accepted by OpenSSL";
}

/* JWE key-management algorithms (RFC 7518 §4.1): a key naming one is for encryption. */
static int is_enc_alg(const char *alg)
{
    return !strncmp(alg, "RSA-OAEP", 8) || !strcmp(alg, "RSA1_5") || !strncmp(alg, "ECDH-ES", 7);
}

static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

/* The rules of oas_jwk_parse on one parsed JSON value. */
static apr_status_t jwk_from_json(oas_jwk_t **pk, const char **perr, apr_pool_t *p, const json_t *o)
{
    const char *kty, *use, *alg, *kid, *why = NULL;
    const json_t *x5c;
    EVP_PKEY *pub = NULL;
    oas_jwk_t *k;
    unsigned algs;
    apr_size_t i;
    int a = -1;

    *pk = NULL;
    if (!json_is_object(o)) {
        *perr = "a key is not a JSON object";
        return APR_EINVAL;
    }
    for (i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++) {
        if (json_object_get(o, private_members[i])) {
            *perr = apr_psprintf(p, "a private key (member \"%s\"): publish public keys only",
                                 private_members[i]);
            return APR_EINVAL;
        }
    }
    if (!member_str(&kty, o, "kty") || !kty || !member_str(&use, o, "use") ||
        !member_str(&alg, o, "alg") || !member_str(&kid, o, "kid")) {
        *perr = "kty missing, or kty, use, alg or kid not a string";
        return APR_EINVAL;
    }
    if (kid && (!*kid || strlen(kid) > KID_MAX_LEN || !oas_is_clean_utf8(kid, strlen(kid)))) {
        *perr = "kid empty, over 256 bytes or with control characters";
        return APR_EINVAL;
    }
    if ((use && !strcmp(use, "enc")) || (alg && is_enc_alg(alg))) {
        *perr = "an encryption key";
        return APR_ENOTIMPL;
    }
    if (use && strcmp(use, "sig")) {
        *perr = apr_psprintf(p, "use \"%s\" (only sig)", use);
        return APR_EINVAL;
    }
    if (!strcmp(kty, "RSA")) {
        algs = OAS_ALGBIT(OAS_ALG_RS256) | OAS_ALGBIT(OAS_ALG_PS256);
        why = rsa_key(&pub, p, o);
    }
    else if (!strcmp(kty, "EC")) {
        algs = OAS_ALGBIT(OAS_ALG_ES256);
        why = ec_key(&pub, p, o);
    }
    else if (!strcmp(kty, "OKP")) {
        algs = OAS_ALGBIT(OAS_ALG_EDDSA);
        why = okp_key(&pub, p, o);
    }
    else {
        *perr = !strcmp(kty, "oct") ? "a symmetric (oct) key: publish public keys only"
                                    : "kty not RSA, EC or OKP";
        return APR_EINVAL;
    }
    ERR_clear_error();
    if (why) {
        *perr = why;
        return APR_EINVAL;
    }
    apr_pool_cleanup_register(p, pub, pkey_cleanup, apr_pool_cleanup_null);
    /* an "alg" restricts the key to that one algorithm, which must fit its type */
    if (alg && ((a = oas_alg_from_name(alg)) < 0 || !(algs & OAS_ALGBIT(a)))) {
        *perr = apr_psprintf(p, "alg \"%s\" does not fit a key of type %s", alg, kty);
        return APR_EINVAL;
    }
    x5c = json_object_get(o, "x5c");
    if (x5c &&
        (!json_is_array(x5c) || !json_array_size(x5c) || !json_is_string(json_array_get(x5c, 0)) ||
         json_string_length(json_array_get(x5c, 0)) > OAS_JWK_MAX_MEMBER)) {
        *perr = "x5c not an array of certificates";
        return APR_EINVAL;
    }
    k = apr_pcalloc(p, sizeof(*k));
    k->pkey = pub;
    k->kid = kid ? apr_pstrdup(p, kid) : NULL;
    k->kty = !strcmp(kty, "RSA") ? "RSA" : !strcmp(kty, "EC") ? "EC" : "OKP";
    k->algs = a >= 0 ? OAS_ALGBIT(a) : algs;
    k->x5c0 = x5c ? apr_pstrdup(p, json_string_value(json_array_get(x5c, 0))) : NULL;
    *pk = k;
    return APR_SUCCESS;
}

apr_status_t oas_jwk_parse(oas_jwk_t **pk, const char **perr, apr_pool_t *p, const char *json,
                           apr_size_t len)
{
    json_t *o;

    *pk = NULL;
    *perr = NULL;
    if (!json || len > OAS_JWKS_MAX_LEN || oas_json_parse(&o, p, json, len) != APR_SUCCESS) {
        *perr = "not a JSON object";
        return APR_EINVAL;
    }
    return jwk_from_json(pk, perr, p, o);
}

/* How a refused key of a set is named: its position and its kid (never key material). */
static const char *key_name(apr_pool_t *p, size_t i, const json_t *o)
{
    const json_t *kid = json_object_get(o, "kid");

    if (json_is_string(kid) && json_string_length(kid) <= KID_MAX_LEN &&
        oas_is_clean_utf8(json_string_value(kid), json_string_length(kid)))
        return apr_psprintf(p, "key %d (kid \"%s\")", (int)i + 1, json_string_value(kid));
    return apr_psprintf(p, "key %d", (int)i + 1);
}

apr_status_t oas_jwks_parse(apr_array_header_t **pkeys, const char **perr, apr_pool_t *p,
                            const char *json, apr_size_t len)
{
    apr_array_header_t *keys;
    const json_t *arr;
    const char *why;
    json_t *doc;
    oas_jwk_t *k;
    size_t i;
    int j;

    *pkeys = NULL;
    *perr = NULL;
    if (!json || len > OAS_JWKS_MAX_LEN) {
        *perr = "JWK Set over 64 KiB";
        return APR_EINVAL;
    }
    if (oas_json_parse(&doc, p, json, len) != APR_SUCCESS) {
        *perr = "not a JSON object";
        return APR_EINVAL;
    }
    arr = json_object_get(doc, "keys");
    if (!json_is_array(arr)) {
        *perr = "no \"keys\" array (a JWK Set is {\"keys\":[...]})";
        return APR_EINVAL;
    }
    if (json_array_size(arr) > OAS_JWKS_MAX_KEYS) {
        *perr = "more than 64 keys";
        return APR_EINVAL;
    }
    keys = apr_array_make(p, (int)json_array_size(arr) + 1, sizeof(oas_jwk_t *));
    for (i = 0; i < json_array_size(arr); i++) {
        const json_t *o = json_array_get(arr, i);
        apr_status_t rv = jwk_from_json(&k, &why, p, o);

        if (rv == APR_ENOTIMPL) /* "use":"enc": not ours to use, not an error */
            continue;
        if (rv != APR_SUCCESS) {
            *perr = apr_psprintf(p, "%s: %s", key_name(p, i, o), why);
            return APR_EINVAL;
        }
        APR_ARRAY_PUSH(keys, oas_jwk_t *) = k;
    }
    if (!keys->nelts) {
        *perr = "no usable signing key";
        return APR_EINVAL;
    }
    /* several keys: a JWT's kid must name exactly one of them */
    for (j = 0; keys->nelts > 1 && j < keys->nelts; j++) {
        const oas_jwk_t *a = APR_ARRAY_IDX(keys, j, const oas_jwk_t *);
        int m;

        if (!a->kid) {
            *perr = apr_psprintf(p, "usable key %d has no kid (needed with several keys)", j + 1);
            return APR_EINVAL;
        }
        for (m = 0; m < j; m++) {
            if (!strcmp(APR_ARRAY_IDX(keys, m, const oas_jwk_t *)->kid, a->kid)) {
                *perr = apr_psprintf(p, "kid \"%s\" used twice", a->kid);
                return APR_EINVAL;
            }
        }
    }
    *pkeys = keys;
    return APR_SUCCESS;
}

apr_status_t oas_jwks_load_file(apr_array_header_t **pkeys, const char **perr, apr_pool_t *p,
                                const char *path)
{
    apr_status_t rv;
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;
    char *buf;

    *pkeys = NULL;
    *perr = NULL;
    if ((rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_OS_DEFAULT, p)) !=
        APR_SUCCESS) {
        *perr = apr_psprintf(p, "cannot open %s: %pm", path, &rv);
        return APR_ENOENT;
    }
    if ((rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f)) != APR_SUCCESS ||
        fi.size > OAS_JWKS_MAX_LEN) {
        apr_file_close(f);
        *perr = rv != APR_SUCCESS ? apr_psprintf(p, "cannot read %s: %pm", path, &rv)
                                  : apr_psprintf(p, "%s: JWK Set over 64 KiB", path);
        return rv != APR_SUCCESS ? APR_ENOENT : APR_EINVAL;
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(p, n + 1);
    rv = n ? apr_file_read_full(f, buf, n, &n) : APR_SUCCESS;
    apr_file_close(f);
    if (rv != APR_SUCCESS) {
        *perr = apr_psprintf(p, "cannot read %s: %pm", path, &rv);
        return APR_ENOENT;
    }
    buf[n] = '\0';
    if ((rv = oas_jwks_parse(pkeys, perr, p, buf, n)) != APR_SUCCESS)
        *perr = apr_psprintf(p, "%s: %s", path, *perr);
    return rv;
}

apr_status_t oas_jwk_thumbprint(const char **ptp, apr_pool_t *p, const oas_jwk_t *k)
{
    return oas_key_thumbprint(ptp, p, k->pkey);
}
