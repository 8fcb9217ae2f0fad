/* mod_oauth_as: compact JWS (RFC 7515) with the algorithms of RFC 7518 §3.3/§3.4 and RFC 8037.
 * The verifier is strict on purpose: it sees tokens from anyone who can reach an endpoint. */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <string.h>

#include "oas_jose.h"
#include "oas_json.h"
#include "oas_util.h"

#define P256_LEN 32
#define MAX_DER_LEN 80 /* SEQUENCE of two 33-byte INTEGERs, with headers, is 72 */

/* ---- ES256 signature forms ---- */

/* One DER INTEGER (X.690 §8.3) at *pp, positive and minimally encoded, into 32 bytes. */
static int der_uint256(unsigned char out[P256_LEN], const unsigned char **pp,
                       const unsigned char *end)
{
    const unsigned char *p = *pp;
    apr_size_t len;

    if (end - p < 3 || p[0] != 0x02 || p[1] == 0 || p[1] > P256_LEN + 1 ||
        (apr_size_t)(end - p - 2) < p[1])
        return 0;
    len = p[1];
    p += 2;
    if (p[0] & 0x80) /* negative */
        return 0;
    if (p[0] == 0 && len > 1) {
        if (!(p[1] & 0x80)) /* a leading zero that is not needed */
            return 0;
        p++;
        len--;
    }
    if (len > P256_LEN)
        return 0;
    memset(out, 0, P256_LEN - len);
    memcpy(out + P256_LEN - len, p, len);
    *pp = p + len;
    return 1;
}

/* Strict DER (SEQUENCE of two INTEGERs, nothing after): OpenSSL's d2i_ECDSA_SIG and BIGNUM
 * conversions cost more than the rest of the token response. */
apr_status_t oas_ecdsa_der_to_raw(unsigned char raw[OAS_ES256_RAW_LEN], const unsigned char *der,
                                  apr_size_t derlen)
{
    const unsigned char *p = der, *end = der + derlen;

    if (derlen < 8 || derlen > MAX_DER_LEN || der[0] != 0x30 || der[1] != derlen - 2)
        return APR_EINVAL;
    p += 2;
    /* RFC 7518 §3.4: each integer as a fixed 32-byte big-endian octet string */
    if (!der_uint256(raw, &p, end) || !der_uint256(raw + P256_LEN, &p, end) || p != end)
        return APR_EINVAL;
    return APR_SUCCESS;
}

apr_status_t oas_ecdsa_raw_to_der(unsigned char **pder, apr_size_t *pderlen, apr_pool_t *p,
                                  const unsigned char *raw, apr_size_t rawlen)
{
    apr_status_t rv = APR_EGENERAL;
    ECDSA_SIG *sig = NULL;
    BIGNUM *r = NULL;
    BIGNUM *s = NULL;
    unsigned char *der;
    unsigned char *q;
    int len;

    if (rawlen != OAS_ES256_RAW_LEN)
        return APR_EINVAL;
    ERR_clear_error();
    if (NULL == (sig = ECDSA_SIG_new()) || NULL == (r = BN_bin2bn(raw, P256_LEN, NULL)) ||
        NULL == (s = BN_bin2bn(raw + P256_LEN, P256_LEN, NULL)) || !ECDSA_SIG_set0(sig, r, s))
        goto leave;
    r = s = NULL; /* now owned by sig */
    if ((len = i2d_ECDSA_SIG(sig, NULL)) <= 0)
        goto leave;
    q = der = apr_palloc(p, (apr_size_t)len);
    if (i2d_ECDSA_SIG(sig, &q) != len)
        goto leave;
    *pder = der;
    *pderlen = (apr_size_t)len;
    rv = APR_SUCCESS;
leave:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    ERR_clear_error();
    return rv;
}

/* ---- signing ---- */

/* RS256 and ES256 hash with SHA-256; Ed25519 signs the message itself (one-shot, NULL md). */
static const EVP_MD *alg_md(oas_alg_e alg)
{
    return alg == OAS_ALG_EDDSA ? NULL : oas_md_sha256();
}

static apr_status_t sign_bytes(unsigned char **psig, size_t *psiglen, apr_pool_t *p,
                               const oas_key_t *key, const char *tbs, size_t tbslen)
{
    apr_status_t rv = APR_EGENERAL;
    EVP_MD_CTX *ctx = NULL;
    unsigned char *sig;
    unsigned char *raw;
    size_t len = 0;

    if (NULL == (ctx = EVP_MD_CTX_new()) ||
        (key->sign_tmpl ? EVP_MD_CTX_copy_ex(ctx, key->sign_tmpl)
                        : EVP_DigestSignInit(ctx, NULL, alg_md(key->alg), NULL, key->pkey)) != 1 ||
        EVP_DigestSign(ctx, NULL, &len, (const unsigned char *)tbs, tbslen) != 1)
        goto leave;
    sig = apr_palloc(p, len);
    if (EVP_DigestSign(ctx, sig, &len, (const unsigned char *)tbs, tbslen) != 1)
        goto leave;
    if (key->alg == OAS_ALG_ES256) {
        raw = apr_palloc(p, OAS_ES256_RAW_LEN);
        if (oas_ecdsa_der_to_raw(raw, sig, len) != APR_SUCCESS)
            goto leave;
        sig = raw;
        len = OAS_ES256_RAW_LEN;
    }
    *psig = sig;
    *psiglen = len;
    rv = APR_SUCCESS;
leave:
    EVP_MD_CTX_free(ctx);
    if (rv != APR_SUCCESS) /* leave no error behind for unrelated code; on success there is none */
        ERR_clear_error();
    return rv;
}

apr_status_t oas_jws_sign(const char **pjws, apr_pool_t *p, const oas_key_t *key, const char *typ,
                          const char *payload_json)
{
    apr_status_t rv;
    const char *hdr;
    const char *input;
    unsigned char *sig;
    size_t siglen;

    *pjws = NULL;
    if (!payload_json)
        return APR_EINVAL;
    /* the headers of our two token types were prepared when the key was loaded */
    hdr = typ && !strcmp(typ, "at+jwt") && key->hdr_at_jwt ? key->hdr_at_jwt
          : typ && !strcmp(typ, "JWT") && key->hdr_jwt     ? key->hdr_jwt
                                                           : oas_key_jws_header(p, key, typ);
    if (!hdr) /* a typ that is not UTF-8 */
        return APR_EINVAL;
    input = apr_pstrcat(
        p, hdr, ".",
        oas_b64url_encode(p, (const unsigned char *)payload_json, strlen(payload_json)), NULL);
    if ((rv = sign_bytes(&sig, &siglen, p, key, input, strlen(input))) != APR_SUCCESS)
        return rv;
    *pjws = apr_pstrcat(p, input, ".", oas_b64url_encode(p, sig, siglen), NULL);
    return APR_SUCCESS;
}

/* ---- verification ---- */

static apr_status_t verify_bytes(const oas_key_t *key, const unsigned char *sig, size_t siglen,
                                 const char *tbs, size_t tbslen)
{
    EVP_MD_CTX *ctx = NULL;
    int ok;

    ERR_clear_error();
    ok = NULL != (ctx = EVP_MD_CTX_new()) &&
         EVP_DigestVerifyInit(ctx, NULL, alg_md(key->alg), NULL, key->pkey) == 1 &&
         EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)tbs, tbslen) == 1;
    EVP_MD_CTX_free(ctx);
    /* A failed verification leaves entries that must not reach the next request (P11). */
    ERR_clear_error();
    return ok ? APR_SUCCESS : APR_EGENERAL;
}

/* Only the algorithms we sign with; "none", HS* and anything unknown are refused. */
static apr_status_t parse_alg(oas_alg_e *palg, const char *name)
{
    if (!name)
        return APR_EINVAL;
    if (!strcmp(name, "RS256"))
        *palg = OAS_ALG_RS256;
    else if (!strcmp(name, "ES256"))
        *palg = OAS_ALG_ES256;
    else if (!strcmp(name, "EdDSA"))
        *palg = OAS_ALG_EDDSA;
    else
        return APR_EINVAL;
    return APR_SUCCESS;
}

/* Decode one non-empty base64url part of the compact serialization. */
static apr_status_t decode_part(unsigned char **pout, apr_size_t *plen, apr_pool_t *p,
                                const char *start, const char *end)
{
    if (end <= start)
        return APR_EINVAL;
    return oas_b64url_decode(pout, plen, p, start, (apr_size_t)(end - start));
}

apr_status_t oas_jws_verify(const char **ppayload, const char **pheader, apr_pool_t *p,
                            const char *jws, apr_array_header_t *keys)
{
    apr_status_t rv;
    const char *dot1;
    const char *dot2;
    const char *end;
    const char *kid;
    unsigned char *hdr;
    unsigned char *payload;
    unsigned char *sig;
    apr_size_t hdrlen;
    apr_size_t payloadlen;
    apr_size_t siglen;
    apr_size_t len;
    json_t *h;
    json_t *kidv;
    oas_alg_e alg;
    int i;

    *ppayload = NULL;
    if (pheader)
        *pheader = NULL;
    if (!jws || (len = strnlen(jws, OAS_JWS_MAX_LEN + 1)) > OAS_JWS_MAX_LEN)
        return APR_EINVAL;
    end = jws + len;
    /* 1. exactly three parts: header.payload.signature */
    if (NULL == (dot1 = memchr(jws, '.', len)) ||
        NULL == (dot2 = memchr(dot1 + 1, '.', (apr_size_t)(end - dot1 - 1))) ||
        NULL != memchr(dot2 + 1, '.', (apr_size_t)(end - dot2 - 1)))
        return APR_EINVAL;
    if (decode_part(&hdr, &hdrlen, p, jws, dot1) != APR_SUCCESS ||
        decode_part(&payload, &payloadlen, p, dot1 + 1, dot2) != APR_SUCCESS ||
        decode_part(&sig, &siglen, p, dot2 + 1, end) != APR_SUCCESS)
        return APR_EINVAL;

    /* 2. the protected header: a JSON object naming one of our algorithms */
    if (oas_json_parse(&h, p, (const char *)hdr, hdrlen) != APR_SUCCESS ||
        parse_alg(&alg, oas_json_str(h, "alg")) != APR_SUCCESS)
        return APR_EINVAL;
    kidv = json_object_get(h, "kid");
    if ((kidv && !json_is_string(kidv)) || json_object_get(h, "crit"))
        return APR_EINVAL;
    kid = kidv ? json_string_value(kidv) : NULL;
    /* The payload is returned as a C string, so an embedded NUL would truncate it. */
    if (strlen((const char *)payload) != payloadlen)
        return APR_EINVAL;
    if (alg == OAS_ALG_ES256) {
        if (siglen != OAS_ES256_RAW_LEN)
            return APR_EINVAL;
        if ((rv = oas_ecdsa_raw_to_der(&sig, &siglen, p, sig, siglen)) != APR_SUCCESS)
            return rv;
    }

    /* 3. the key: the alg comes from the key, never from the token alone (no alg confusion) */
    rv = APR_NOTFOUND;
    for (i = 0; i < keys->nelts; i++) {
        const oas_key_t *k = APR_ARRAY_IDX(keys, i, const oas_key_t *);

        if (k->alg != alg || (kid && (!k->kid || strcmp(k->kid, kid))))
            continue;
        rv = verify_bytes(k, sig, siglen, jws, (apr_size_t)(dot2 - jws));
        if (rv == APR_SUCCESS)
            break;
    }
    if (rv != APR_SUCCESS)
        return rv;
    *ppayload = (const char *)payload;
    if (pheader)
        *pheader = (const char *)hdr;
    return APR_SUCCESS;
}

/* ---- verification of what clients sign (stubs until implemented) ---- */

apr_status_t oas_jws_parse(oas_jws_t **pj, const char **perr, apr_pool_t *p, const char *jws,
                           apr_size_t max_len)
{
    (void)p;
    (void)jws;
    (void)max_len;
    *pj = NULL;
    *perr = "not implemented";
    return APR_ENOTIMPL;
}

apr_status_t oas_jws_verify_keys(const oas_jwk_t **pused, const oas_jws_t *j,
                                 apr_array_header_t *keys, unsigned allowed_algs)
{
    (void)j;
    (void)keys;
    (void)allowed_algs;
    if (pused)
        *pused = NULL;
    return APR_ENOTIMPL;
}

apr_status_t oas_jws_verify_hmac(const oas_jws_t *j, const unsigned char *key, apr_size_t klen)
{
    (void)j;
    (void)key;
    (void)klen;
    return APR_ENOTIMPL;
}

/* ---- OpenID Connect ---- */

const char *oas_jose_at_hash(apr_pool_t *p, const oas_key_t *key, const char *access_token)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (!access_token)
        return NULL;
    if (key->alg != OAS_ALG_EDDSA) {
        oas_sha256(d, access_token, strlen(access_token));
        n = OAS_SHA256_LEN;
    }
    else {
        /* Ed25519 hashes with SHA-512 internally, so OIDC uses SHA-512 for its hashes. */
        ERR_clear_error();
        if (EVP_Digest(access_token, strlen(access_token), d, &n, EVP_sha512(), NULL) != 1) {
            ERR_clear_error();
            return NULL;
        }
    }
    return oas_b64url_encode(p, d, n / 2);
}
