/* libFuzzer: DPoP proofs (oas_dpop_check) and what they carry. Every input is a DPoP header
 * value checked at a token endpoint, at a resource (with an access token, so ath counts) and
 * with nonces required, each on a fresh shm store; it is also an htu (oas_dpop_htu_normalize
 * must be idempotent) and a nonce (oas_dpop_nonce_ok). Input "S<k><header>\n<payload>" (or
 * "S<k>\n<payload>" for the usual header {"typ":"dpop+jwt","alg","jwk"}) signs the payload
 * with key k%3 (PS256, ES256, EdDSA) under that header, so the claims' checks are reached
 * with a valid signature: such a proof passes only with the claims a proof needs. Whatever
 * the proof, the answer is 400 (never a 5xx), and its log detail never holds the proof. */
#include <openssl/evp.h>

#include "fuzz.h"
#include "oas_dpop.h"
#include "oas_jose.h"
#include "oas_store_shm.h"
#include "oas_util.h"

/* ahead of the real clock, which the store reads for expiry: a spent jti stays spent */
#define NOW 4000000000
#define HTU "https://as.test/token"
#define TOKEN "fuzz-token"
#define STORE_ENTRIES 8

#define NKEYS 3
static oas_key_t *priv[NKEYS];
static oas_dpop_nonce_key_t nonce_key; /* fixed bytes: a seed can hold a valid nonce */
static oas_issuer_t *iss;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_init();
    priv[0] = fuzz_key(EVP_RSA_gen(2048), OAS_ALG_PS256);
    priv[1] = fuzz_key(EVP_EC_gen("P-256"), -1);
    priv[2] = fuzz_key(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), -1);
    memset(nonce_key.k, 0x42, sizeof(nonce_key.k));
    iss = oas_issuer_make(fuzz_root);
    return 0;
}

/* header.payload signed with k, as a client would (ES256 as R || S). NULL on failure. */
static const char *sign(apr_pool_t *p, const oas_key_t *k, const char *hdr, const char *pl)
{
    const char *input =
        apr_pstrcat(p, oas_b64url_encode(p, (const unsigned char *)hdr, strlen(hdr)), ".",
                    oas_b64url_encode(p, (const unsigned char *)pl, strlen(pl)), NULL);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *sig = NULL, raw[OAS_ES256_RAW_LEN];
    size_t len = 0;
    int ok;

    ok = ctx && oas_key_sign_init(ctx, k) &&
         EVP_DigestSign(ctx, NULL, &len, (const unsigned char *)input, strlen(input)) == 1 &&
         (sig = apr_palloc(p, len)) != NULL &&
         EVP_DigestSign(ctx, sig, &len, (const unsigned char *)input, strlen(input)) == 1;
    EVP_MD_CTX_free(ctx);
    FUZZ_ASSERT(ok);
    if (k->alg == OAS_ALG_ES256) {
        FUZZ_ASSERT(oas_ecdsa_der_to_raw(raw, sig, len) == APR_SUCCESS);
        sig = raw;
        len = sizeof(raw);
    }
    return apr_pstrcat(p, input, ".", oas_b64url_encode(p, sig, len), NULL);
}

/* One check on a fresh store: the answer's shape whatever the proof. */
static void check(apr_pool_t *p, const char *header, int count, const char *token, int nonce,
                  unsigned algs)
{
    static char region[1 << 16];
    oas_dpop_req_t q;
    oas_dpop_t *d = NULL;
    oas_err_t e;
    oas_ctx_t x;
    apr_status_t rv;

    fuzz_store_ctx(&x, p, iss, NOW, region, sizeof(region), STORE_ENTRIES);
    memset(&q, 0, sizeof(q));
    memset(&e, 0, sizeof(e));
    q.header = header;
    q.header_count = count;
    q.method = token ? "GET" : "POST";
    q.htu = token ? "https://as.test/userinfo" : HTU;
    q.access_token = token;
    q.algs = algs;
    q.nonce_required = nonce;
    q.nonce_key = &nonce_key;

    rv = oas_dpop_check(&d, &e, &x, &q);
    FUZZ_ASSERT(d != NULL);
    FUZZ_ASSERT(!nonce == !d->fresh_nonce);
    if (rv == APR_SUCCESS) {
        FUZZ_ASSERT(d->jkt && strlen(d->jkt) == 43);
        FUZZ_ASSERT(d->jti && *d->jti && strlen(d->jti) <= OAS_DPOP_JTI_MAX);
        FUZZ_ASSERT(d->iat >= NOW - OAS_DPOP_IAT_PAST && d->iat <= NOW + OAS_DPOP_IAT_FUTURE);
        FUZZ_ASSERT(!nonce || (d->nonce && oas_dpop_nonce_ok(p, &nonce_key, d->nonce, NOW)));
        /* spent: the same proof again is a replay */
        FUZZ_ASSERT(oas_dpop_check(&d, &e, &x, &q) == APR_EINVAL);
        FUZZ_ASSERT(!strncmp(e.detail, OAS_LOGNO(06413), 10));
        return;
    }
    /* a proof, however bad, is a 400 (the store is fresh and large enough: never a 503) */
    FUZZ_ASSERT(rv == APR_EINVAL || rv == APR_EAGAIN || rv == APR_NOTFOUND);
    FUZZ_ASSERT(e.status == 400 && e.error && e.description);
    FUZZ_ASSERT(!strcmp(e.error, rv == APR_EAGAIN ? "use_dpop_nonce" : "invalid_dpop_proof"));
    FUZZ_ASSERT(!d->jkt && !d->jti && !d->nonce);
    FUZZ_ASSERT(rv == APR_NOTFOUND || (e.detail && !strncmp(e.detail, "OAS064", 6)));
    /* the detail names the check, never the proof (a JWS-shaped one: the detail's own text
     * could hold a short or spaced input by chance) */
    if (e.detail && header && strlen(header) >= 64 && !strpbrk(header, " ,") && strchr(header, '.'))
        FUZZ_ASSERT(!strstr(e.detail, header));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *in = fuzz_str(p, data, size), *norm;
    const unsigned fapi =
        OAS_ALGBIT(OAS_ALG_PS256) | OAS_ALGBIT(OAS_ALG_ES256) | OAS_ALGBIT(OAS_ALG_EDDSA);

    if (size >= 3 && data[0] == 'S') {
        const oas_key_t *k = priv[data[1] % NKEYS];
        const char *rest = in + 2, *nl = strchr(rest, '\n'), *hdr, *proof;

        if (nl) {
            hdr = nl == rest ? apr_pstrcat(p, "{\"typ\":\"dpop+jwt\",\"alg\":\"", k->alg_name,
                                           "\",\"jwk\":", k->jwk_json, "}", NULL)
                             : apr_pstrndup(p, rest, (apr_size_t)(nl - rest));
            if (*hdr && nl[1]) {
                proof = sign(p, k, hdr, nl + 1);
                check(p, proof, 1, NULL, 0, fapi);
                check(p, proof, 1, TOKEN, 0, fapi);
                check(p, proof, 1, NULL, 1, fapi);
                check(p, proof, 1, NULL, 0, OAS_ALGBITS_ASYM);
            }
        }
    }
    check(p, in, 1, NULL, 0, fapi);
    check(p, in, 1, TOKEN, 1, OAS_ALGBITS_ASYM);
    check(p, size ? in : NULL, size ? 2 : 0, NULL, 0, fapi);

    /* htu normalisation: a normal form is its own */
    if ((norm = oas_dpop_htu_normalize(p, in)) != NULL) {
        const char *again = oas_dpop_htu_normalize(p, norm);
        FUZZ_ASSERT(again && !strcmp(again, norm));
        FUZZ_ASSERT(!strchr(norm, '?') && !strchr(norm, '#'));
    }
    /* a nonce we did not make is never fresh */
    if (oas_dpop_nonce_ok(p, &nonce_key, in, NOW))
        FUZZ_ASSERT(strlen(in) == OAS_DPOP_NONCE_LEN);
    apr_pool_destroy(p);
    return 0;
}
