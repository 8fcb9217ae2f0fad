/* libFuzzer: client assertions (oas_client_assertion_verify) against a fixed issuer
 * "https://as.test" with a private_key_jwt client "pk" (an ES256 and an EdDSA key), a
 * client_secret_jwt client "sj" and a Legacy-audience client "lg", and a small shm store that
 * records jtis (and fills: the 503 path). Every input goes through oas_client_assertion_sub and
 * oas_client_assertion_verify as is. Input "S<k><claims>": "$N" in the claims becomes the time
 * now, then they are signed with key k%3 (ES256 and EdDSA of pk, HS256 over sj's secret), so
 * the checks after the signature are reached too. Whatever the outcome: an accepted assertion
 * names its client in sub; a refusal is 401 invalid_client (or 503 from the store) whose log
 * detail is tagged and never quotes the assertion. */
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fuzz.h"
#include "oas_client_assertion.h"
#include "oas_jose.h"
#include "oas_jwk.h"
#include "oas_store_shm.h"
#include "oas_util.h"

#define SECRET "fuzz-secret-0123456789abcdef0123456789"
#define STORE_ENTRIES 64

static oas_issuer_t *iss;
static oas_key_t *priv[2];
static oas_store_t *store;

static oas_client_t *add_client(const char *id, int methods, const char *secret)
{
    oas_client_t *c = oas_client_make(fuzz_root, id);

    c->auth_methods = methods;
    c->secret = secret;
    apr_hash_set(iss->clients, id, APR_HASH_KEY_STRING, c);
    return c;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *jwks, *err;
    apr_array_header_t *keys;
    apr_size_t sz = oas_shm_store_size_needed(STORE_ENTRIES);
    void *base;
    oas_client_t *c;

    fuzz_init();
    iss = oas_issuer_make(fuzz_root);
    iss->issuer = iss->issuer_origin = "https://as.test";
    iss->endpoints[OAS_EP_TOKEN] = "/oauth/token";
    iss->clients = apr_hash_make(fuzz_root);
    priv[0] = fuzz_key(EVP_EC_gen("P-256"), -1);
    priv[1] = fuzz_key(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), -1);
    jwks = apr_psprintf(fuzz_root, "{\"keys\":[%s,%s]}", priv[0]->jwk_json, priv[1]->jwk_json);
    if (oas_jwks_parse(&keys, &err, fuzz_root, jwks, strlen(jwks)) != APR_SUCCESS)
        abort();
    c = add_client("pk", OAS_AUTH_PKJWT, NULL);
    c->jwks = keys;
    add_client("sj", OAS_AUTH_SJWT, SECRET);
    c = add_client("lg", OAS_AUTH_PKJWT | OAS_AUTH_SJWT, SECRET);
    c->jwks = keys;
    c->assertion_aud = OAS_ASSERTION_AUD_LEGACY;
    add_client("sec", OAS_AUTH_BASIC, SECRET);
    base = apr_palloc(fuzz_root, sz);
    if (oas_shm_store_format(base, sz, STORE_ENTRIES) != APR_SUCCESS ||
        oas_shm_store_attach(&store, fuzz_root, base, sz, NULL) != APR_SUCCESS)
        abort();
    return 0;
}

/* claims with every "$N" replaced by now */
static const char *with_now(apr_pool_t *p, const char *claims, apr_int64_t now)
{
    const char *at, *out = "";

    while ((at = strstr(claims, "$N"))) {
        out = apr_pstrcat(p, out, apr_pstrndup(p, claims, at - claims),
                          apr_psprintf(p, "%" APR_INT64_T_FMT, now), NULL);
        claims = at + 2;
    }
    return apr_pstrcat(p, out, claims, NULL);
}

static const char *sign_hs256(apr_pool_t *p, const char *claims)
{
    static const char hdr[] = "{\"alg\":\"HS256\"}";
    const char *in =
        apr_pstrcat(p, oas_b64url_encode(p, (const unsigned char *)hdr, sizeof(hdr) - 1), ".",
                    oas_b64url_encode(p, (const unsigned char *)claims, strlen(claims)), NULL);
    unsigned char mac[32];
    unsigned int len = sizeof(mac);

    if (!HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)in, strlen(in), mac,
              &len))
        abort();
    return apr_pstrcat(p, in, ".", oas_b64url_encode(p, mac, len), NULL);
}

static void verify(apr_pool_t *p, const char *a)
{
    oas_ctx_t x;
    const oas_client_t *c = NULL;
    oas_err_t err;
    const char *sub = oas_client_assertion_sub(p, a);
    const char *dot = strrchr(a, '.');

    oas_ctx_init(&x, p, iss, apr_time_sec(apr_time_now()));
    x.store[OAS_CTX_SHORT] = x.store[OAS_CTX_LONG] = store;
    x.opened[OAS_CTX_SHORT] = x.opened[OAS_CTX_LONG] = 1;
    memset(&err, 0, sizeof(err));
    if (oas_client_assertion_verify(&c, &err, &x, a, NULL) == APR_SUCCESS) {
        FUZZ_ASSERT(c && sub && !strcmp(c->id, sub));
        return;
    }
    FUZZ_ASSERT(!c && err.error);
    if (err.status == 503) {
        FUZZ_ASSERT(!strcmp(err.error, "temporarily_unavailable") && err.retry_after > 0);
        return;
    }
    FUZZ_ASSERT(err.status == 401 && !strcmp(err.error, "invalid_client"));
    FUZZ_ASSERT(err.detail && !strncmp(err.detail, "OAS062", 6));
    /* the signature part of a JWS-looking input never reaches the log */
    FUZZ_ASSERT(!dot || strlen(dot + 1) < 16 || !strstr(err.detail, dot + 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *in = fuzz_str(p, data, size), *jws;

    if (size >= 2 && data[0] == 'S' && in[2]) {
        const char *claims = with_now(p, in + 2, apr_time_sec(apr_time_now()));
        int k = data[1] % 3;

        if (k == 2)
            verify(p, sign_hs256(p, claims));
        else if (oas_jws_sign(&jws, p, priv[k], data[1] & 4 ? "JWT" : NULL, claims) == APR_SUCCESS)
            verify(p, jws);
    }
    verify(p, in);
    apr_pool_destroy(p);
    return 0;
}
