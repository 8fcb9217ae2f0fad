/* mod_oauth_as: loading signing keys and publishing them as JWKs.
 * OpenSSL 3 provider APIs only (no RSA_/EC_KEY_ accessors); the EVP_PKEY belongs to the pool. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <string.h>

#include <apr_file_io.h>
#include <apr_strings.h>

#include "oas_jsonw.h"
#include "oas_keys.h"
#include "oas_util.h"

#define P256_COORD_LEN 32
#define ED25519_LEN 32
#define RSA_MIN_BITS 2048

/* The public members of a JWK as base64url strings; unused ones stay NULL. */
typedef struct jwk_pub_t {
    const char *kty;
    const char *crv;
    const char *n;
    const char *e;
    const char *x;
    const char *y;
} jwk_pub_t;

static const char *const alg_names[] = {"RS256", "ES256", "EdDSA", "PS256", "HS256"};

int oas_alg_from_name(const char *name)
{
    int i;

    for (i = 0; name && i < (int)(sizeof(alg_names) / sizeof(alg_names[0])); i++) {
        if (!strcmp(name, alg_names[i]))
            return i;
    }
    return -1;
}

const char *oas_alg_name(int alg)
{
    return alg >= 0 && alg < (int)(sizeof(alg_names) / sizeof(alg_names[0])) ? alg_names[alg]
                                                                             : NULL;
}

int oas_pss_params(EVP_PKEY_CTX *pctx)
{
    /* RFC 7518 §3.5: MGF1 with SHA-256 and a salt as long as the hash */
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, oas_md_sha256()) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
}

int oas_key_sign_init(EVP_MD_CTX *ctx, const oas_key_t *key)
{
    EVP_PKEY_CTX *pctx = NULL;

    if (EVP_DigestSignInit(ctx, &pctx, key->alg == OAS_ALG_EDDSA ? NULL : oas_md_sha256(), NULL,
                           key->pkey) != 1)
        return 0;
    return key->alg != OAS_ALG_PS256 || oas_pss_params(pctx);
}

apr_array_header_t *oas_alg_names(apr_pool_t *p, unsigned algs)
{
    /* the preference of OAuthASClientSigningAlgs's default, then the MAC */
    static const int order[] = {OAS_ALG_PS256, OAS_ALG_ES256, OAS_ALG_EDDSA, OAS_ALG_RS256,
                                OAS_ALG_HS256};
    apr_array_header_t *a = apr_array_make(p, 5, sizeof(const char *));
    apr_size_t i;

    for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (algs & OAS_ALGBIT(order[i]))
            APR_ARRAY_PUSH(a, const char *) = alg_names[order[i]];
    }
    return a;
}

const char *oas_key_jws_header(apr_pool_t *p, const oas_key_t *key, const char *typ)
{
    oas_jsonw_t w;
    const char *json;

    oas_jsonw_init(&w, p, 128);
    oas_jsonw_str(&w, "alg", key->alg_name);
    oas_jsonw_str(&w, "typ", typ);
    oas_jsonw_str(&w, "kid", key->kid);
    if (NULL == (json = oas_jsonw_end(&w)))
        return NULL;
    return oas_b64url_encode(p, (const unsigned char *)json, strlen(json));
}

static apr_status_t md_ctx_cleanup(void *data)
{
    EVP_MD_CTX_free(data);
    return APR_SUCCESS;
}

static apr_status_t pkey_cleanup(void *data)
{
    EVP_PKEY_free(data);
    return APR_SUCCESS;
}

/* The oldest entry in this thread's error queue says what went wrong first; the queue is
 * then emptied so the entries cannot leak into a later message (STYLE.md P11). */
static const char *ssl_reason(apr_pool_t *p)
{
    char buf[256];
    unsigned long e = ERR_get_error();

    if (e == 0)
        return "unknown error";
    ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    return apr_pstrdup(p, buf);
}

/* Keys are read while httpd starts, possibly detached from a terminal: never prompt. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static int is_p256(const char *curve)
{
    /* OpenSSL names the group "prime256v1"; accept the NIST alias as well. */
    return OBJ_txt2nid(curve) == NID_X9_62_prime256v1 ||
           EC_curve_nist2nid(curve) == NID_X9_62_prime256v1;
}

/* base64url of a big-number parameter: minimal big-endian bytes when width is 0 (RSA n and e,
 * RFC 7518 §6.3.1), else left-padded to width bytes (EC coordinates, RFC 7518 §6.2.1.2). */
static apr_status_t bn_param_b64(const char **pout, apr_pool_t *p, EVP_PKEY *pk, const char *name,
                                 int width)
{
    apr_status_t rv = APR_EGENERAL;
    BIGNUM *bn = NULL;
    unsigned char *buf;
    int len;

    if (!EVP_PKEY_get_bn_param(pk, name, &bn) || BN_is_zero(bn) || BN_is_negative(bn))
        goto leave;
    len = width ? width : BN_num_bytes(bn);
    if (BN_num_bytes(bn) > len)
        goto leave;
    buf = apr_palloc(p, (apr_size_t)len);
    if (BN_bn2binpad(bn, buf, len) != len)
        goto leave;
    *pout = oas_b64url_encode(p, buf, (apr_size_t)len);
    rv = APR_SUCCESS;
leave:
    BN_free(bn);
    return rv;
}

static apr_status_t jwk_public(jwk_pub_t *jwk, apr_pool_t *p, EVP_PKEY *pk)
{
    apr_status_t rv;
    unsigned char raw[ED25519_LEN];
    size_t rawlen = sizeof(raw);
    char curve[64];

    memset(jwk, 0, sizeof(*jwk));
    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_RSA:
        jwk->kty = "RSA";
        if ((rv = bn_param_b64(&jwk->n, p, pk, OSSL_PKEY_PARAM_RSA_N, 0)) != APR_SUCCESS)
            return rv;
        return bn_param_b64(&jwk->e, p, pk, OSSL_PKEY_PARAM_RSA_E, 0);
    case EVP_PKEY_EC:
        if (!EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve),
                                            NULL) ||
            !is_p256(curve))
            return APR_ENOTIMPL;
        jwk->kty = "EC";
        jwk->crv = "P-256";
        if ((rv = bn_param_b64(&jwk->x, p, pk, OSSL_PKEY_PARAM_EC_PUB_X, P256_COORD_LEN)) !=
            APR_SUCCESS)
            return rv;
        return bn_param_b64(&jwk->y, p, pk, OSSL_PKEY_PARAM_EC_PUB_Y, P256_COORD_LEN);
    case EVP_PKEY_ED25519:
        if (!EVP_PKEY_get_raw_public_key(pk, raw, &rawlen) || rawlen != ED25519_LEN)
            return APR_EGENERAL;
        jwk->kty = "OKP";
        jwk->crv = "Ed25519";
        jwk->x = oas_b64url_encode(p, raw, rawlen);
        return APR_SUCCESS;
    default:
        return APR_ENOTIMPL;
    }
}

/* RFC 7638 §3.2: the required members only, in lexicographic order, no whitespace (the
 * writer's compact form; the values are base64url or fixed names, nothing to escape). */
static const char *thumbprint_of(apr_pool_t *p, const jwk_pub_t *jwk)
{
    unsigned char d[OAS_SHA256_LEN];
    const char *canon;
    oas_jsonw_t w;

    oas_jsonw_init(&w, p, 512);
    if (jwk->n) {
        oas_jsonw_str(&w, "e", jwk->e);
        oas_jsonw_str(&w, "kty", jwk->kty);
        oas_jsonw_str(&w, "n", jwk->n);
    }
    else { /* EC has y, OKP not */
        oas_jsonw_str(&w, "crv", jwk->crv);
        oas_jsonw_str(&w, "kty", jwk->kty);
        oas_jsonw_str(&w, "x", jwk->x);
        oas_jsonw_str(&w, "y", jwk->y);
    }
    canon = oas_jsonw_end(&w);
    oas_sha256(d, canon, strlen(canon));
    return oas_b64url_encode(p, d, sizeof(d));
}

apr_status_t oas_key_thumbprint(const char **ptp, apr_pool_t *p, EVP_PKEY *pk)
{
    jwk_pub_t jwk;
    apr_status_t rv;

    ERR_clear_error();
    rv = jwk_public(&jwk, p, pk);
    ERR_clear_error();
    if (rv == APR_SUCCESS)
        *ptp = thumbprint_of(p, &jwk);
    return rv;
}

const char *oas_jwk_members_thumbprint(apr_pool_t *p, const char *kty, const char *crv,
                                       const char *x, const char *y, const char *e, const char *n)
{
    jwk_pub_t jwk = {kty, crv, n, e, x, y};

    return thumbprint_of(p, &jwk);
}

/* Decide the JWS algorithm from the key, or say in *perr why the key is refused. */
static apr_status_t check_key(oas_key_t *k, const char **perr, apr_pool_t *p)
{
    const char *name;
    char curve[64];
    int bits;

    switch (EVP_PKEY_get_base_id(k->pkey)) {
    case EVP_PKEY_RSA:
        bits = EVP_PKEY_get_bits(k->pkey);
        if (bits < RSA_MIN_BITS) {
            *perr = apr_psprintf(p, "RSA key too small (%d bits, need >= %d)", bits, RSA_MIN_BITS);
            return APR_ENOTIMPL;
        }
        k->alg = OAS_ALG_RS256;
        k->alg_name = "RS256";
        return APR_SUCCESS;
    case EVP_PKEY_EC:
        if (!EVP_PKEY_get_utf8_string_param(k->pkey, OSSL_PKEY_PARAM_GROUP_NAME, curve,
                                            sizeof(curve), NULL)) {
            *perr = "unsupported EC key without a named curve (only P-256)";
            return APR_ENOTIMPL;
        }
        if (!is_p256(curve)) {
            *perr = apr_psprintf(p, "unsupported EC curve %s (only P-256)", curve);
            return APR_ENOTIMPL;
        }
        k->alg = OAS_ALG_ES256;
        k->alg_name = "ES256";
        return APR_SUCCESS;
    case EVP_PKEY_ED25519:
        k->alg = OAS_ALG_EDDSA;
        k->alg_name = "EdDSA";
        return APR_SUCCESS;
    default:
        name = EVP_PKEY_get0_type_name(k->pkey);
        *perr = apr_psprintf(p, "unsupported key type %s", name ? name : "(unknown)");
        return APR_ENOTIMPL;
    }
}

/* The public JWK in a fixed member order, so the JWKS is byte-stable across restarts.
 * @return NULL when the kid is not valid UTF-8 */
static const char *jwk_json(apr_pool_t *p, const oas_key_t *k, const jwk_pub_t *pub)
{
    oas_jsonw_t w;

    oas_jsonw_init(&w, p, 1024);
    oas_jsonw_str_keep_empty(&w, "kty", pub->kty);
    oas_jsonw_str_keep_empty(&w, "use", "sig");
    oas_jsonw_str_keep_empty(&w, "alg", k->alg_name);
    oas_jsonw_str_keep_empty(&w, "kid", k->kid);
    if (pub->n) {
        oas_jsonw_str_keep_empty(&w, "n", pub->n);
        oas_jsonw_str_keep_empty(&w, "e", pub->e);
    }
    else {
        oas_jsonw_str_keep_empty(&w, "crv", pub->crv);
        oas_jsonw_str_keep_empty(&w, "x", pub->x);
        oas_jsonw_str_keep_empty(&w, "y", pub->y);
    }
    return oas_jsonw_end(&w);
}

apr_status_t oas_key_load(oas_key_t **pkey, const char **perr, apr_pool_t *p, const char *path,
                          const char *kid, int alg)
{
    apr_status_t rv = APR_SUCCESS;
    BIO *bio = NULL;
    EVP_PKEY *pk = NULL;
    oas_key_t *k = NULL;
    jwk_pub_t pub;

    *pkey = NULL;
    *perr = NULL;
    ERR_clear_error();
    /* PEM_read_bio_PrivateKey takes PKCS#8 and the traditional RSA/EC formats alike. */
    if (NULL == (bio = BIO_new_file(path, "r")) ||
        NULL == (pk = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL))) {
        *perr = apr_psprintf(p, "cannot read key file %s: %s", path, ssl_reason(p));
        rv = APR_ENOENT;
        goto leave;
    }
    apr_pool_cleanup_register(p, pk, pkey_cleanup, apr_pool_cleanup_null);
    k = apr_pcalloc(p, sizeof(*k));
    k->pkey = pk;
    if ((rv = check_key(k, perr, p)) != APR_SUCCESS)
        goto leave;
    if (alg == OAS_ALG_PS256 && k->alg == OAS_ALG_RS256) { /* the same RSA key, PSS */
        k->alg = OAS_ALG_PS256;
        k->alg_name = "PS256";
    }
    else if (alg >= 0 && alg != (int)k->alg) {
        *perr = apr_psprintf(p, "a key for %s cannot sign %s (an RSA key signs RS256 or PS256)",
                             k->alg_name, oas_alg_name(alg) ? oas_alg_name(alg) : "(unknown)");
        rv = APR_EINVAL;
        goto leave;
    }
    if ((rv = jwk_public(&pub, p, pk)) != APR_SUCCESS) {
        *perr = apr_psprintf(p, "cannot export the public key of %s: %s", path, ssl_reason(p));
        goto leave;
    }
    k->kid = (kid && *kid) ? apr_pstrdup(p, kid) : thumbprint_of(p, &pub);
    if (NULL == (k->jwk_json = jwk_json(p, k, &pub))) {
        *perr = "key id is not valid UTF-8";
        rv = APR_EINVAL;
        goto leave;
    }
    k->hdr_at_jwt = oas_key_jws_header(p, k, "at+jwt");
    k->hdr_jwt = oas_key_jws_header(p, k, "JWT");
    /* Ed25519 signs in one shot and has nothing to save; RS256, PS256 and ES256 do (the copy
     * of the template keeps PS256's padding: EVP_MD_CTX_copy_ex duplicates its EVP_PKEY_CTX) */
    if (k->alg != OAS_ALG_EDDSA && NULL != (k->sign_tmpl = EVP_MD_CTX_new())) {
        apr_pool_cleanup_register(p, k->sign_tmpl, md_ctx_cleanup, apr_pool_cleanup_null);
        if (oas_key_sign_init(k->sign_tmpl, k) != 1)
            k->sign_tmpl = NULL; /* freed by the cleanup; signatures initialise afresh */
    }
    *pkey = k;
leave:
    BIO_free(bio);
    ERR_clear_error();
    return rv;
}

const char *oas_keys_jwks_json(apr_pool_t *p, apr_array_header_t *keys)
{
    oas_jsonw_t w;
    int i;

    /* each JWK is already compact JSON (jwk_json): the keys in their published order */
    oas_jsonw_init(&w, p, 1024 * (apr_size_t)(keys->nelts + 1));
    oas_jsonw_array(&w, "keys");
    for (i = 0; i < keys->nelts; i++)
        oas_jsonw_raw(&w, NULL, APR_ARRAY_IDX(keys, i, const oas_key_t *)->jwk_json);
    oas_jsonw_close(&w);
    return oas_jsonw_end(&w);
}

static EVP_PKEY *generate(int alg)
{
    switch (alg) {
    case OAS_ALG_RS256:
    case OAS_ALG_PS256:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)OAS_KEYGEN_RSA_BITS);
    case OAS_ALG_ES256:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    case OAS_ALG_EDDSA:
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    default:
        return NULL;
    }
}

apr_status_t oas_key_generate(const char **perr, apr_pool_t *p, const char *path, int alg)
{
    apr_status_t rv = APR_EGENERAL;
    EVP_PKEY *pk = NULL;
    BIO *mem = NULL;
    apr_file_t *f;
    char *pem;
    long len;

    *perr = NULL;
    if (alg != OAS_ALG_RS256 && alg != OAS_ALG_PS256 && alg != OAS_ALG_ES256 &&
        alg != OAS_ALG_EDDSA) {
        *perr = "keys are made for RS256, PS256, ES256 or EdDSA";
        return APR_EINVAL;
    }
    ERR_clear_error();
    if (NULL == (pk = generate(alg)) || NULL == (mem = BIO_new(BIO_s_mem())) ||
        !PEM_write_bio_PrivateKey(mem, pk, NULL, NULL, 0, NULL, NULL) ||
        (len = BIO_get_mem_data(mem, &pem)) <= 0) {
        *perr = apr_psprintf(p, "cannot make the key: %s", ssl_reason(p));
        goto leave;
    }
    /* created here, exclusively, readable by its owner only: the key never sits in a file
     * others could read, not even for a moment */
    if ((rv = apr_file_open(&f, path, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_EXCL,
                            APR_FPROT_UREAD | APR_FPROT_UWRITE, p)) != APR_SUCCESS) {
        *perr = APR_STATUS_IS_EEXIST(rv) ? apr_psprintf(p, "%s exists: not overwritten", path)
                                         : apr_psprintf(p, "cannot create %s", path);
        if (APR_STATUS_IS_EEXIST(rv))
            rv = APR_EEXIST;
        goto leave;
    }
    rv = apr_file_write_full(f, pem, (apr_size_t)len, NULL);
    if (apr_file_close(f) != APR_SUCCESS && rv == APR_SUCCESS)
        rv = APR_EGENERAL;
    if (rv != APR_SUCCESS) {
        *perr = apr_psprintf(p, "cannot write %s", path);
        apr_file_remove(path, p);
    }
leave:
    BIO_free(mem); /* its buffer is cleared as it is freed (BUF_MEM_free) */
    EVP_PKEY_free(pk);
    ERR_clear_error();
    return rv;
}
