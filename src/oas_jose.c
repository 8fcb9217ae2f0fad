/* mod_oauth_as: compact JWS (RFC 7515) with the algorithms of RFC 7518 §3.3/§3.4 and RFC 8037.
 * The verifier is strict on purpose: it sees tokens from anyone who can reach an endpoint. */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <string.h>

#include "oas_jose.h"
#include "oas_jsonr.h"
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

static apr_size_t raw_to_der(unsigned char *out, const unsigned char *raw);

apr_status_t oas_ecdsa_raw_to_der(unsigned char **pder, apr_size_t *pderlen, apr_pool_t *p,
                                  const unsigned char *raw, apr_size_t rawlen)
{
    if (rawlen != OAS_ES256_RAW_LEN)
        return APR_EINVAL;
    *pder = apr_palloc(p, MAX_DER_LEN);
    *pderlen = raw_to_der(*pder, raw);
    return APR_SUCCESS;
}

/* ---- signing ---- */

/* RS256, PS256 and ES256 hash with SHA-256; Ed25519 signs the message itself (one-shot,
 * NULL md). */
static const EVP_MD *alg_md(int alg)
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
        !(key->sign_tmpl ? EVP_MD_CTX_copy_ex(ctx, key->sign_tmpl) : oas_key_sign_init(ctx, key)) ||
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

/* ---- parsing what others sign ---- */

/* Decode one non-empty base64url part of the compact serialization. */
static apr_status_t decode_part(unsigned char **pout, apr_size_t *plen, apr_pool_t *p,
                                const char *start, const char *end)
{
    if (end <= start)
        return APR_EINVAL;
    return oas_b64url_decode(pout, plen, p, start, (apr_size_t)(end - start));
}

/* A header member that must be a string when present: *pv its value or NULL when absent;
 * 0 when present with another type. */
static int header_str(const char **pv, const oas_jobj_t *h, const char *name)
{
    const oas_jmember_t *m = oas_jobj_get(h, name);

    *pv = m && m->type == OAS_JSON_STRING ? m->str : NULL;
    return !m || m->type == OAS_JSON_STRING;
}

#define JWS_FAIL(msg)                                                                              \
    do {                                                                                           \
        *perr = (msg);                                                                             \
        return APR_EINVAL;                                                                         \
    } while (0)

apr_status_t oas_jws_parse(oas_jws_t **pj, const char **perr, apr_pool_t *p, const char *jws,
                           apr_size_t max_len)
{
    const char *dot1, *dot2, *end;
    unsigned char *hdr, *payload, *sig;
    apr_size_t hdrlen, payloadlen, siglen, len;
    const char *alg_name;
    oas_jobj_t h;
    oas_jws_t *j;
    int alg;

    *pj = NULL;
    *perr = NULL;
    if (!max_len)
        max_len = OAS_JWS_MAX_LEN;
    if (!jws || (len = strnlen(jws, max_len + 1)) > max_len)
        JWS_FAIL("JWS missing or too long");
    end = jws + len;
    /* 1. exactly three non-empty parts: header.payload.signature (no JWE, no unsigned JWS) */
    if (NULL == (dot1 = memchr(jws, '.', len)) ||
        NULL == (dot2 = memchr(dot1 + 1, '.', (apr_size_t)(end - dot1 - 1))) ||
        NULL != memchr(dot2 + 1, '.', (apr_size_t)(end - dot2 - 1)))
        JWS_FAIL("not a compact JWS of three parts");
    if (decode_part(&hdr, &hdrlen, p, jws, dot1) != APR_SUCCESS ||
        decode_part(&payload, &payloadlen, p, dot1 + 1, dot2) != APR_SUCCESS ||
        decode_part(&sig, &siglen, p, dot2 + 1, end) != APR_SUCCESS)
        JWS_FAIL("JWS part empty or not base64url");

    /* 2. the protected header: a JSON object naming one of our algorithms */
    if (oas_jsonr_parse_ex(&h, p, (const char *)hdr, hdrlen, OAS_JSONR_NUMBERS) != APR_SUCCESS)
        JWS_FAIL("JWS header is not a JSON object");
    if (!header_str(&alg_name, &h, "alg") || (alg = oas_alg_from_name(alg_name)) < 0)
        JWS_FAIL("JWS alg missing, none or not supported");
    j = apr_pcalloc(p, sizeof(*j));
    if (!header_str(&j->typ, &h, "typ") || !header_str(&j->kid, &h, "kid"))
        JWS_FAIL("JWS typ or kid not a string");
    /* RFC 7515 §4.1.11: we understand no extension, so any "crit" is refused; RFC 7797 "b64"
     * would change what is signed */
    if (oas_jobj_get(&h, "crit") || oas_jobj_get(&h, "b64"))
        JWS_FAIL("JWS header with crit or b64");
    /* The payload is handed out as a C string, so an embedded NUL would truncate it. */
    if (strlen((const char *)payload) != payloadlen)
        JWS_FAIL("JWS payload holds a NUL byte");
    if (alg == OAS_ALG_ES256 && siglen != OAS_ES256_RAW_LEN)
        JWS_FAIL("ES256 signature not 64 bytes");
    j->alg = alg;
    j->alg_name = oas_alg_name(alg);
    j->header_json = (const char *)hdr;
    j->header_len = hdrlen;
    j->payload = (const char *)payload;
    j->payload_len = payloadlen;
    j->signing_input = jws;
    j->signing_input_len = (apr_size_t)(dot2 - jws);
    j->sig = sig;
    j->sig_len = siglen;
    *pj = j;
    return APR_SUCCESS;
}

/* ---- verification ---- */

/* R || S to DER without BIGNUMs: an INTEGER of each half, its leading zeros dropped and a
 * zero put back when the top bit is set (X.690 §8.3). out holds at least MAX_DER_LEN. */
static apr_size_t raw_to_der(unsigned char *out, const unsigned char *raw)
{
    apr_size_t n = 2;
    int half;

    for (half = 0; half < 2; half++) {
        const unsigned char *v = raw + half * P256_LEN;
        apr_size_t len = P256_LEN;

        while (len > 1 && *v == 0) {
            v++;
            len--;
        }
        out[n++] = 0x02;
        out[n++] = (unsigned char)(len + (*v >> 7));
        if (*v & 0x80)
            out[n++] = 0;
        memcpy(out + n, v, len);
        n += len;
    }
    out[0] = 0x30;
    out[1] = (unsigned char)(n - 2);
    return n;
}

/* One signature with one public key, for an alg the caller checked the key may verify. */
static apr_status_t verify_sig(EVP_PKEY *pk, int alg, const oas_jws_t *j)
{
    unsigned char der[MAX_DER_LEN];
    const unsigned char *sig = j->sig;
    apr_size_t siglen = j->sig_len;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_MD_CTX *ctx;
    int ok;

    if (alg == OAS_ALG_ES256) {
        if (siglen != OAS_ES256_RAW_LEN)
            return APR_EINVAL;
        siglen = raw_to_der(der, sig);
        sig = der;
    }
    ERR_clear_error();
    ok = NULL != (ctx = EVP_MD_CTX_new()) &&
         EVP_DigestVerifyInit(ctx, &pctx, alg_md(alg), NULL, pk) == 1;
    if (ok && alg == OAS_ALG_PS256)
        ok = oas_pss_params(pctx);
    ok = ok && EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)j->signing_input,
                                j->signing_input_len) == 1;
    EVP_MD_CTX_free(ctx);
    /* A failed verification leaves entries that must not reach the next request (P11). */
    ERR_clear_error();
    return ok ? APR_SUCCESS : APR_EGENERAL;
}

apr_status_t oas_jws_verify_keys(const oas_jwk_t **pused, const oas_jws_t *j,
                                 apr_array_header_t *keys, unsigned allowed_algs)
{
    apr_status_t rv = APR_NOTFOUND;
    unsigned bit = OAS_ALGBIT(j->alg);
    int i;

    if (pused)
        *pused = NULL;
    if (j->alg == OAS_ALG_HS256 || !(allowed_algs & bit))
        return APR_EINVAL;
    for (i = 0; keys && i < keys->nelts; i++) {
        const oas_jwk_t *k = APR_ARRAY_IDX(keys, i, const oas_jwk_t *);

        if (j->kid) {
            /* the key of that kid, and only when it may verify that alg (no confusion) */
            if (!k->kid || strcmp(k->kid, j->kid))
                continue;
            if (!(k->algs & bit))
                return APR_NOTFOUND;
            rv = verify_sig(k->pkey, j->alg, j);
            break;
        }
        if (!(k->algs & bit))
            continue;
        if ((rv = verify_sig(k->pkey, j->alg, j)) == APR_SUCCESS || rv == APR_EINVAL)
            break;
    }
    if (rv == APR_SUCCESS && pused)
        *pused = APR_ARRAY_IDX(keys, i, const oas_jwk_t *);
    return rv;
}

apr_status_t oas_jws_verify_hmac(const oas_jws_t *j, const unsigned char *key, apr_size_t klen)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    int ok;

    if (j->alg != OAS_ALG_HS256 || !key || !klen)
        return APR_EINVAL;
    ERR_clear_error();
    ok = EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, klen,
                   (const unsigned char *)j->signing_input, j->signing_input_len, mac, sizeof(mac),
                   &maclen) != NULL;
    ERR_clear_error();
    ok = ok && maclen == OAS_SHA256_LEN && j->sig_len == OAS_SHA256_LEN &&
         CRYPTO_memcmp(mac, j->sig, OAS_SHA256_LEN) == 0;
    OPENSSL_cleanse(mac, sizeof(mac));
    return ok ? APR_SUCCESS : APR_EGENERAL;
}

apr_status_t oas_jws_verify(const char **ppayload, const char **pheader, apr_pool_t *p,
                            const char *jws, apr_array_header_t *keys)
{
    apr_status_t rv;
    const char *why;
    oas_jws_t *j;
    int i;

    *ppayload = NULL;
    if (pheader)
        *pheader = NULL;
    if ((rv = oas_jws_parse(&j, &why, p, jws, OAS_JWS_MAX_LEN)) != APR_SUCCESS)
        return rv;
    if (j->alg == OAS_ALG_HS256) /* never a MAC for our own tokens */
        return APR_EINVAL;
    /* the alg comes from the key, never from the token alone (no alg confusion) */
    rv = APR_NOTFOUND;
    for (i = 0; i < keys->nelts; i++) {
        const oas_key_t *k = APR_ARRAY_IDX(keys, i, const oas_key_t *);

        if ((int)k->alg != j->alg || (j->kid && (!k->kid || strcmp(k->kid, j->kid))))
            continue;
        if ((rv = verify_sig(k->pkey, j->alg, j)) == APR_SUCCESS)
            break;
    }
    if (rv != APR_SUCCESS)
        return rv;
    *ppayload = j->payload;
    if (pheader)
        *pheader = j->header_json;
    return APR_SUCCESS;
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
