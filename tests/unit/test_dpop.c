/* DPoP proofs (oas_dpop.c): every check of RFC 9449 §4.3, each wrong in each way (a table
 * row each, the conformance suite's dpop-negative-tests included), htu normalisation, ath, the
 * jti spent once on both stores and under threads racing one proof, and the stateless nonces
 * across time (oas_dpop_nonce.c). Proofs are signed with OpenSSL alone (jwk_fixture.h). */
#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <openssl/pem.h>
#include <unistd.h>

#include "unit.h"

#include "engine_stores.h"
#include "jwk_fixture.h"
#include "oas_dpop.h"
#include "oas_dpop_key.h"
#include "oas_keys.h"

/* 2096: ahead of the real clock, which the stores read for expiry (a spent jti must stay
 * spent through the test), and within the nonce's 32-bit seconds */
#define NOW 4000000000
#define HTU "https://as.example/token"
#define HTU_RS "https://as.example/userinfo"
#define TOKEN "an-access-token"
#define FAPI_ALGS                                                                                  \
    (OAS_ALGBIT(OAS_ALG_PS256) | OAS_ALGBIT(OAS_ALG_ES256) | OAS_ALGBIT(OAS_ALG_EDDSA))

enum { K_EC, K_EC2, K_RSA, K_ED, K_N };
static EVP_PKEY *keys[K_N];

static int keys_setup(void **state)
{
    (void)state;
    keys[K_EC] = EVP_EC_gen("P-256");
    keys[K_EC2] = EVP_EC_gen("P-256");
    keys[K_RSA] = EVP_RSA_gen(2048);
    keys[K_ED] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    return keys[K_EC] && keys[K_EC2] && keys[K_RSA] && keys[K_ED] ? 0 : -1;
}

static int keys_teardown(void **state)
{
    int i;

    (void)state;
    for (i = 0; i < K_N; i++)
        EVP_PKEY_free(keys[i]);
    return 0;
}

static int key_alg(int k)
{
    return k == K_RSA ? OAS_ALG_PS256 : k == K_ED ? OAS_ALG_EDDSA : OAS_ALG_ES256;
}

/* ---- the proof table ---- */

#define OMIT "\001" /* a member left out */

typedef struct {
    const char *name;
    int key;         /* signs, and is the jwk (K_EC when 0) */
    const char *alg; /* header alg; NULL: the key's */
    const char *typ; /* NULL: dpop+jwt */
    const char *jwk; /* the jwk member's raw JSON; NULL: the key's public JWK */
    int jwk_key;     /* with jwk_other: the jwk of this key instead */
    int jwk_other;
    const char *jwk_add; /* members added to the public JWK */
    const char *hdr;     /* more header members */
    const char *jti;     /* NULL: a fresh one */
    const char *htm;     /* NULL: the request's method */
    const char *htu;     /* NULL: the endpoint's URL */
    const char *iat;     /* raw JSON; NULL: now + iat_off */
    int iat_off;
    const char *ath;    /* NULL: the token's (resource rows only) */
    const char *claims; /* more payload members */
    int tamper;         /* flip a bit of the signature */
    int res;            /* at a resource: GET, HTU_RS, TOKEN presented */
    unsigned algs;      /* allowed; 0: FAPI_ALGS */
    const char *tag;    /* NULL: accepted; else the refusal's log tag */
} row_t;

static const char *member(apr_pool_t *p, const char *name, const char *v, const char *dflt,
                          int quote)
{
    if (v && !strcmp(v, OMIT))
        return "";
    return apr_psprintf(p, quote ? ",\"%s\":\"%s\"" : ",\"%s\":%s", name, v ? v : dflt);
}

/* The compact proof of row r at NOW. */
static const char *row_proof(apr_pool_t *p, const row_t *r)
{
    int k = r->key;
    /* signed with the header's alg when the key can (RS256 or PS256 with RSA), else the key's */
    int alg = r->alg && k == K_RSA && !strcmp(r->alg, "RS256") ? OAS_ALG_RS256 : key_alg(k);
    const char *jwk =
        r->jwk ? r->jwk : jf_jwk(p, keys[r->jwk_other ? r->jwk_key : k], NULL, r->jwk_add);
    const char *hdr, *pl, *jws;
    unsigned char h[OAS_SHA256_LEN];

    hdr = apr_pstrcat(p, "{\"x\":0", member(p, "typ", r->typ, "dpop+jwt", 1),
                      member(p, "alg", r->alg, oas_alg_name(key_alg(k)), 1),
                      member(p, "jwk", r->jwk && !strcmp(r->jwk, OMIT) ? OMIT : jwk, "", 0),
                      r->hdr ? "," : "", r->hdr ? r->hdr : "", "}", NULL);
    oas_sha256(h, TOKEN, strlen(TOKEN));
    pl = apr_pstrcat(p, "{\"x\":0",
                     member(p, "jti", r->jti, apr_psprintf(p, "jti-%s-%d", r->name, rand()), 1),
                     member(p, "htm", r->htm, r->res ? "GET" : "POST", 1),
                     member(p, "htu", r->htu, r->res ? HTU_RS : HTU, 1),
                     member(p, "iat", r->iat, apr_psprintf(p, "%ld", (long)NOW + r->iat_off), 0),
                     r->res ? member(p, "ath", r->ath, oas_b64url_encode(p, h, sizeof(h)), 1) : "",
                     r->claims ? "," : "", r->claims ? r->claims : "", "}", NULL);
    jws = jf_sign(p, keys[k], alg, 32, NULL, hdr, pl);
    if (r->tamper) {
        char *t = apr_pstrdup(p, jws);
        char *last = t + strlen(t) - 3;
        *last = *last == 'A' ? 'B' : 'A';
        jws = t;
    }
    return jws;
}

static oas_dpop_req_t row_req(const row_t *r, const char *proof)
{
    oas_dpop_req_t q;

    memset(&q, 0, sizeof(q));
    q.header = proof;
    q.header_count = 1;
    q.method = r->res ? "GET" : "POST";
    q.htu = r->res ? HTU_RS : HTU;
    q.access_token = r->res ? TOKEN : NULL;
    q.algs = r->algs ? r->algs : FAPI_ALGS;
    return q;
}

static void expect(const row_t *r, apr_status_t rv, const oas_err_t *e, const oas_dpop_t *d)
{
    const char *s;

    if (!r->tag) {
        if (rv != APR_SUCCESS)
            fail_msg("%s: refused (%s)", r->name, e->detail ? e->detail : "-");
        assert_non_null(d->jkt);
        assert_non_null(d->jti);
        assert_int_equal(d->iat, NOW + r->iat_off);
        return;
    }
    if (rv != APR_EINVAL)
        fail_msg("%s: accepted or rv %d, expected %s", r->name, rv, r->tag);
    /* RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E */
    assert_non_null(e->description);
    for (s = e->description; *s; s++) {
        if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
            fail_msg("%s: description with 0x%02x", r->name, (unsigned)*s);
    }
    assert_int_equal(e->status, 400);
    assert_string_equal(e->error, "invalid_dpop_proof");
    assert_non_null(e->detail);
    if (strncmp(e->detail, r->tag, strlen(r->tag)))
        fail_msg("%s: %s, expected %s", r->name, e->detail, r->tag);
    assert_null(d->jkt);
    assert_null(d->jti);
}

static const row_t rows[] = {
    /* accepted: each algorithm, extra members, the window's edges, nbf and exp */
    {.name = "ES256"},
    {.name = "PS256", .key = K_RSA},
    {.name = "EdDSA", .key = K_ED},
    {.name = "RS256 when allowed",
     .key = K_RSA,
     .alg = "RS256",
     .algs = FAPI_ALGS | OAS_ALGBIT(OAS_ALG_RS256)},
    {.name = "extra header and claims",
     .hdr = "\"kid\":\"k1\",\"foo\":[1,{}],\"x5u\":\"x\"",
     .claims = "\"bar\":{\"a\":1},\"ath\":\"unused at the AS\",\"nonce\":\"n\""},
    {.name = "jwk with kid and alg", .jwk_add = "\"kid\":\"mine\",\"alg\":\"ES256\""},
    {.name = "iat 10 s before", .iat_off = -10},
    {.name = "iat 10 s after", .iat_off = 10},
    {.name = "iat 300 s before", .iat_off = -300},
    {.name = "iat 60 s after", .iat_off = 60},
    {.name = "iat with a fraction", .iat = "4000000000.75"},
    {.name = "nbf and exp", .claims = "\"nbf\":3999999990,\"exp\":4000000060"},
    {.name = "htu with query and fragment", .htu = HTU "?a=b#frag"},
    {.name = "htu upper case scheme and host", .htu = "HTTPS://AS.Example/token"},
    {.name = "htu explicit default port", .htu = "https://as.example:443/token"},
    {.name = "jti of 256 bytes",
     .jti = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
    {.name = "resource with ath", .res = 1},
    {.name = "resource EdDSA", .res = 1, .key = K_ED},

    /* typ */
    {.name = "typ missing", .typ = OMIT, .tag = OAS_LOGNO(06403)},
    {.name = "typ JWT", .typ = "JWT", .tag = OAS_LOGNO(06403)},
    {.name = "typ application/dpop+jwt", .typ = "application/dpop+jwt", .tag = OAS_LOGNO(06403)},
    {.name = "typ DPOP+JWT", .typ = "DPOP+JWT", .tag = OAS_LOGNO(06403)},
    {.name = "typ not a string", .hdr = "\"typ\":1", .typ = OMIT, .tag = OAS_LOGNO(06402)},
    /* alg */
    {.name = "alg missing", .alg = OMIT, .tag = OAS_LOGNO(06402)},
    {.name = "alg none", .alg = "none", .tag = OAS_LOGNO(06402)},
    {.name = "alg HS256", .alg = "HS256", .tag = OAS_LOGNO(06404)},
    {.name = "alg unknown", .alg = "ES512", .tag = OAS_LOGNO(06402)},
    {.name = "RS256 with an RSA key (not allowed)",
     .key = K_RSA,
     .alg = "RS256",
     .tag = OAS_LOGNO(06404)},
    {.name = "ES256 not allowed", .algs = OAS_ALGBIT(OAS_ALG_PS256), .tag = OAS_LOGNO(06404)},
    {.name = "alg ES256 with an RSA jwk (RSA signature)",
     .key = K_RSA,
     .alg = "ES256",
     .tag = OAS_LOGNO(06402)},
    {.name = "alg ES256 with an Ed25519 jwk", .key = K_ED, .alg = "ES256", .tag = OAS_LOGNO(06415)},
    {.name = "alg PS256 with an EC jwk", .alg = "PS256", .tag = OAS_LOGNO(06415)},
    {.name = "crit header", .hdr = "\"crit\":[\"exp\"]", .tag = OAS_LOGNO(06402)},
    /* jwk */
    {.name = "jwk missing", .jwk = OMIT, .tag = OAS_LOGNO(06414)},
    {.name = "jwk a string", .jwk = "\"key\"", .tag = OAS_LOGNO(06414)},
    {.name = "jwk empty", .jwk = "{}", .tag = OAS_LOGNO(06414)},
    {.name = "jwk private (d)", .jwk_add = "\"d\":\"AAAA\"", .tag = OAS_LOGNO(06414)},
    {.name = "jwk RSA private (p)",
     .key = K_RSA,
     .jwk_add = "\"p\":\"AAAA\"",
     .tag = OAS_LOGNO(06414)},
    {.name = "jwk symmetric",
     .jwk = "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}",
     .tag = OAS_LOGNO(06414)},
    {.name = "jwk alg other than the header's",
     .jwk_add = "\"alg\":\"EdDSA\"",
     .tag = OAS_LOGNO(06414)},
    /* signature */
    {.name = "bad signature", .tamper = 1, .tag = OAS_LOGNO(06415)},
    {.name = "signed with another key", .jwk_other = 1, .jwk_key = K_EC2, .tag = OAS_LOGNO(06415)},
    {.name = "EdDSA bad signature", .key = K_ED, .tamper = 1, .tag = OAS_LOGNO(06415)},
    /* jti */
    {.name = "jti missing", .jti = OMIT, .tag = OAS_LOGNO(06405)},
    {.name = "jti empty", .jti = "", .tag = OAS_LOGNO(06405)},
    {.name = "jti of 257 bytes",
     .jti = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefX",
     .tag = OAS_LOGNO(06405)},
    {.name = "jti a number", .jti = OMIT, .claims = "\"jti\":12", .tag = OAS_LOGNO(06416)},
    /* htm */
    {.name = "htm missing", .htm = OMIT, .tag = OAS_LOGNO(06406)},
    {.name = "htm PUT", .htm = "PUT", .tag = OAS_LOGNO(06406)},
    {.name = "htm lower case", .htm = "post", .tag = OAS_LOGNO(06406)},
    {.name = "htm GET at the token endpoint", .htm = "GET", .tag = OAS_LOGNO(06406)},
    /* htu */
    {.name = "htu missing", .htu = OMIT, .tag = OAS_LOGNO(06407)},
    {.name = "htu another URL", .htu = "https://as.example/par", .tag = OAS_LOGNO(06407)},
    {.name = "htu another host", .htu = "https://evil.example/token", .tag = OAS_LOGNO(06407)},
    {.name = "htu http", .htu = "http://as.example/token", .tag = OAS_LOGNO(06407)},
    {.name = "htu another port", .htu = "https://as.example:8443/token", .tag = OAS_LOGNO(06407)},
    {.name = "htu trailing slash", .htu = HTU "/", .tag = OAS_LOGNO(06407)},
    {.name = "htu path case", .htu = "https://as.example/TOKEN", .tag = OAS_LOGNO(06407)},
    {.name = "htu relative", .htu = "/token", .tag = OAS_LOGNO(06407)},
    {.name = "htu with userinfo", .htu = "https://u@as.example/token", .tag = OAS_LOGNO(06407)},
    {.name = "htu a number", .htu = OMIT, .claims = "\"htu\":1", .tag = OAS_LOGNO(06407)},
    /* iat, nbf, exp */
    {.name = "iat missing", .iat = OMIT, .tag = OAS_LOGNO(06408)},
    {.name = "iat 1 h before", .iat_off = -3600, .tag = OAS_LOGNO(06409)},
    {.name = "iat 1 h after", .iat_off = 3600, .tag = OAS_LOGNO(06409)},
    {.name = "iat 301 s before", .iat_off = -301, .tag = OAS_LOGNO(06409)},
    {.name = "iat 61 s after", .iat_off = 61, .tag = OAS_LOGNO(06409)},
    {.name = "iat a string", .iat = "\"4000000000\"", .tag = OAS_LOGNO(06416)},
    {.name = "iat negative", .iat = "-1", .tag = OAS_LOGNO(06416)},
    {.name = "exp passed", .claims = "\"exp\":3999999980", .tag = OAS_LOGNO(06410)},
    {.name = "nbf 2 min ahead", .claims = "\"nbf\":4000000120", .tag = OAS_LOGNO(06410)},
    /* ath, at a resource */
    {.name = "ath missing", .res = 1, .ath = OMIT, .tag = OAS_LOGNO(06411)},
    {.name = "ath wrong",
     .res = 1,
     .ath = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU",
     .tag = OAS_LOGNO(06411)},
    {.name = "ath of the token itself", .res = 1, .ath = TOKEN, .tag = OAS_LOGNO(06411)},
    {.name = "ath empty", .res = 1, .ath = "", .tag = OAS_LOGNO(06411)},
    {.name = "htm POST at the resource", .res = 1, .htm = "POST", .tag = OAS_LOGNO(06406)},
    {.name = "htu of the token endpoint at the resource",
     .res = 1,
     .htu = HTU,
     .tag = OAS_LOGNO(06407)},
};

static void test_rows(void **state)
{
    apr_pool_t *p = *state;
    const oas_issuer_t *iss = oas_issuer_make(p);
    size_t i;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, iss, k, NOW);

        for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            const char *proof = row_proof(p, &rows[i]);
            oas_dpop_req_t q = row_req(&rows[i], proof);
            oas_dpop_t *d = NULL;
            oas_err_t e;

            apr_status_t rv;

            memset(&e, 0, sizeof(e));
            rv = oas_dpop_check(&d, &e, x, &q);
            expect(&rows[i], rv, &e, d);
        }
    }
}

/* What the result carries: the RFC 7638 thumbprint of the jwk (the same as the one read back
 * from the key, for every key type), the jti and iat; no fresh nonce when nonces are off. */
static void test_result(void **state)
{
    apr_pool_t *p = *state;
    oas_ctx_t *x = engine_ctx(p, oas_issuer_make(p), ENGINE_SHM, NOW);
    int k;

    for (k = 0; k < K_N; k++) {
        row_t r = {
            .name = "result", .key = k, .jti = apr_psprintf(p, "the-jti-%d", k), .iat_off = -5};
        oas_dpop_req_t q = row_req(&r, row_proof(p, &r));
        const char *tp;
        oas_dpop_t *d;
        oas_err_t e;

        assert_int_equal(oas_dpop_check(&d, &e, x, &q), APR_SUCCESS);
        assert_int_equal(oas_key_thumbprint(&tp, p, keys[k]), APR_SUCCESS);
        assert_string_equal(d->jkt, tp);
        assert_string_equal(d->jti, r.jti);
        assert_int_equal(d->iat, NOW - 5);
        assert_null(d->nonce);
        assert_null(d->fresh_nonce);
    }
}

/* The thumbprint from a JWK's members: RFC 7638 §3.1's and RFC 8037 §A.3's examples. */
static void test_thumbprint_vectors(void **state)
{
    apr_pool_t *p = *state;
    const char *n =
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_B"
        "JECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_F"
        "DW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4"
        "vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

    assert_string_equal(oas_jwk_members_thumbprint(p, "RSA", NULL, NULL, NULL, "AQAB", n),
                        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    assert_string_equal(oas_jwk_members_thumbprint(p, "OKP", "Ed25519",
                                                   "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                                                   NULL, NULL, NULL),
                        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
}

/* The header itself: absent, repeated (httpd joins with ", "), malformed, too long. */
static void test_header(void **state)
{
    apr_pool_t *p = *state;
    oas_ctx_t *x = engine_ctx(p, oas_issuer_make(p), ENGINE_SHM, NOW);
    row_t r = {.name = "hdr"};
    const char *proof = row_proof(p, &r);
    oas_dpop_req_t q = row_req(&r, proof);
    struct {
        const char *header;
        int count;
        apr_status_t rv;
        const char *tag;
    } cases[] = {
        {NULL, 0, APR_NOTFOUND, NULL},
        {proof, 2, APR_EINVAL, OAS_LOGNO(06401)},
        {apr_pstrcat(p, proof, ", ", proof, NULL), 1, APR_EINVAL, OAS_LOGNO(06401)},
        {apr_pstrcat(p, proof, ",", proof, NULL), 1, APR_EINVAL, OAS_LOGNO(06401)},
        {apr_pstrcat(p, proof, " ", NULL), 1, APR_EINVAL, OAS_LOGNO(06401)},
        {"", 1, APR_EINVAL, OAS_LOGNO(06402)},
        {"not-a-jwt", 1, APR_EINVAL, OAS_LOGNO(06402)},
        {"a.b", 1, APR_EINVAL, OAS_LOGNO(06402)},
        {"a.b.c.d.e", 1, APR_EINVAL, OAS_LOGNO(06402)},
        {apr_pstrcat(p, proof, "=", NULL), 1, APR_EINVAL, OAS_LOGNO(06402)},
        {apr_pstrcat(p, jf_b64s(p, "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\"}"), ".",
                     jf_b64s(p, "not json"), ".", jf_b64s(p, "sig"), NULL),
         1, APR_EINVAL, OAS_LOGNO(06402)}, /* (an ES256 signature is 64 bytes) */
        {NULL, 0, 0, NULL},                /* over OAS_DPOP_MAX_LEN: filled in below */
    };
    size_t i, n = sizeof(cases) / sizeof(cases[0]);
    char *big = apr_palloc(p, OAS_DPOP_MAX_LEN + 2);

    memset(big, 'A', OAS_DPOP_MAX_LEN + 1);
    big[10] = big[20] = '.';
    big[OAS_DPOP_MAX_LEN + 1] = '\0';
    cases[n - 1].header = big;
    cases[n - 1].count = 1;
    cases[n - 1].rv = APR_EINVAL;
    cases[n - 1].tag = OAS_LOGNO(06402);
    for (i = 0; i < n; i++) {
        oas_dpop_t *d = NULL;
        oas_err_t e;

        q.header = cases[i].header;
        q.header_count = cases[i].count;
        memset(&e, 0, sizeof(e));
        if (oas_dpop_check(&d, &e, x, &q) != cases[i].rv)
            fail_msg("case %d: %s", (int)i, e.detail ? e.detail : "-");
        assert_non_null(d);
        assert_null(d->jkt);
        assert_string_equal(e.error, "invalid_dpop_proof");
        assert_int_equal(e.status, 400);
        if (cases[i].tag)
            assert_memory_equal(e.detail, cases[i].tag, strlen(cases[i].tag));
        else
            assert_null(e.detail);
    }
    /* the same proof, once, still passes (nothing above spent its jti) */
    q.header = proof;
    q.header_count = 1;
    {
        oas_dpop_t *d;
        oas_err_t e;
        assert_int_equal(oas_dpop_check(&d, &e, x, &q), APR_SUCCESS);
    }
}

/* A payload that is not a JSON object, signed properly: refused at the claims. */
static void test_payload_not_json(void **state)
{
    apr_pool_t *p = *state;
    oas_ctx_t *x = engine_ctx(p, oas_issuer_make(p), ENGINE_SHM, NOW);
    row_t r = {.name = "pl"};
    const char *hdr = apr_pstrcat(p, "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":",
                                  jf_jwk(p, keys[K_EC], NULL, NULL), "}", NULL);
    const char *bad[] = {"not json", "[1,2]", "{\"a\":1", "{\"jti\":\"a\",\"jti\":\"b\"}"};
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        oas_dpop_req_t q = row_req(&r, jf_sign(p, keys[K_EC], OAS_ALG_ES256, 0, NULL, hdr, bad[i]));
        oas_dpop_t *d;
        oas_err_t e;

        assert_int_equal(oas_dpop_check(&d, &e, x, &q), APR_EINVAL);
        assert_memory_equal(e.detail, OAS_LOGNO(06416), strlen(OAS_LOGNO(06416)));
    }
}

/* ---- htu normalisation ---- */

static void test_htu_normalize(void **state)
{
    apr_pool_t *p = *state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"https://as.example/token", "https://as.example/token"},
        {"HTTPS://AS.EXAMPLE/token", "https://as.example/token"},
        {"HtTp://As.Example/Token", "http://as.example/Token"},
        {"https://as.example:443/token", "https://as.example/token"},
        {"http://as.example:80/token", "http://as.example/token"},
        {"https://as.example:80/token", "https://as.example:80/token"},
        {"http://as.example:443/token", "http://as.example:443/token"},
        {"https://as.example:0443/token", "https://as.example/token"},
        {"https://as.example:8443/token", "https://as.example:8443/token"},
        {"https://as.example:/token", "https://as.example/token"},
        {"https://as.example", "https://as.example/"},
        {"https://as.example?x=1", "https://as.example/"},
        {"https://as.example#f", "https://as.example/"},
        {"https://as.example:443", "https://as.example/"},
        {"https://as.example/token?a=b&c=d#frag", "https://as.example/token"},
        {"https://as.example/token#frag?x", "https://as.example/token"},
        {"https://as.example/a%2fb", "https://as.example/a%2Fb"},
        {"https://as.example/%7euser/%41", "https://as.example/~user/A"},
        {"https://[2001:DB8::1]:443/token", "https://[2001:db8::1]/token"},
        {"https://[2001:db8::1]:8443/t", "https://[2001:db8::1]:8443/t"},
        {"https://127.0.0.1:443/t", "https://127.0.0.1/t"},
        {"ftp://as.example/token", NULL},
        {"https:/as.example/token", NULL},
        {"//as.example/token", NULL},
        {"/token", NULL},
        {"https://", NULL},
        {"https:///token", NULL},
        {"https://:443/token", NULL},
        {"https://u:p@as.example/token", NULL},
        {"https://as.example:65536/token", NULL},
        {"https://as.example:99999999999999999999/token", NULL},
        {"https://as.example:44a/token", NULL},
        {"https://as.example:-1/token", NULL},
        {"https://[::1/token", NULL},
        {"https://[::1]x/token", NULL},
        {"https://as.example/to ken", NULL},
        {"https://as.example/to\tken", NULL},
        {"https://as example/token", NULL},
        {"https://as.example/%zz", NULL},
        {"https://as.example/%4", NULL},
        {"", NULL},
        {NULL, NULL},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = oas_dpop_htu_normalize(p, cases[i].in);

        if (!cases[i].out != !got || (got && strcmp(got, cases[i].out)))
            fail_msg("%s: got %s, expected %s", cases[i].in ? cases[i].in : "NULL",
                     got ? got : "NULL", cases[i].out ? cases[i].out : "NULL");
    }
}

/* The endpoint's URL as the caller built it is normalised too: an admin's issuer with an
 * upper-case host or an explicit :443 still matches a client that normalises. */
static void test_htu_expected_normalised(void **state)
{
    apr_pool_t *p = *state;
    oas_ctx_t *x = engine_ctx(p, oas_issuer_make(p), ENGINE_SHM, NOW);
    row_t r = {.name = "exp-htu"};
    oas_dpop_req_t q = row_req(&r, row_proof(p, &r));
    oas_dpop_t *d;
    oas_err_t e;

    q.htu = "HTTPS://As.Example:443/token";
    assert_int_equal(oas_dpop_check(&d, &e, x, &q), APR_SUCCESS);
    /* the request had a query the proof leaves out (dpop-negative-tests: "removed") */
    q.header = row_proof(p, &r);
    q.htu = HTU "?client_id=x#f";
    assert_int_equal(oas_dpop_check(&d, &e, x, &q), APR_SUCCESS);
    q.header = row_proof(p, &r);
    q.htu = "not a url";
    assert_int_equal(oas_dpop_check(&d, &e, x, &q), APR_EINVAL);
    assert_memory_equal(e.detail, OAS_LOGNO(06407), strlen(OAS_LOGNO(06407)));
}

/* ---- the jti: once, on both stores ---- */

static void test_replay(void **state)
{
    apr_pool_t *p = *state;
    const oas_issuer_t *iss = oas_issuer_make(p);
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, iss, k, NOW);
        row_t r = {.name = "replay", .jti = "same-jti"};
        row_t other = {.name = "replay-other", .jti = "same-jti", .key = K_EC2};
        row_t nonce = {.name = "replay-nonce", .jti = "jti-n"};
        oas_dpop_req_t q = row_req(&r, row_proof(p, &r));
        oas_dpop_req_t q2 = row_req(&other, row_proof(p, &other));
        oas_dpop_req_t qn = row_req(&nonce, row_proof(p, &nonce));
        oas_dpop_nonce_key_t nk;
        oas_dpop_t *d;
        oas_err_t e;

        assert_int_equal(oas_dpop_check(&d, &e, x, &q), APR_SUCCESS);
        /* the same proof again, later in its window: refused */
        x->now = NOW + 200;
        assert_int_equal(oas_dpop_check(&d, &e, x, &q), APR_EINVAL);
        assert_string_equal(e.error, "invalid_dpop_proof");
        assert_memory_equal(e.detail, OAS_LOGNO(06413), strlen(OAS_LOGNO(06413)));
        assert_null(d->jkt);
        /* another proof signed again with the same key and jti: still spent */
        q.header = row_proof(p, &r);
        assert_int_equal(oas_dpop_check(&d, &e, x, &q), APR_EINVAL);
        assert_memory_equal(e.detail, OAS_LOGNO(06413), strlen(OAS_LOGNO(06413)));
        /* the same jti under another key: that key's own */
        x->now = NOW;
        assert_int_equal(oas_dpop_check(&d, &e, x, &q2), APR_SUCCESS);
        /* a proof refused for its nonce is not spent: it passes where no nonce is needed */
        memset(&nk, 7, sizeof(nk));
        qn.nonce_required = 1;
        qn.nonce_key = &nk;
        assert_int_equal(oas_dpop_check(&d, &e, x, &qn), APR_EAGAIN);
        qn.nonce_required = 0;
        assert_int_equal(oas_dpop_check(&d, &e, x, &qn), APR_SUCCESS);
        assert_int_equal(oas_dpop_check(&d, &e, x, &qn), APR_EINVAL);
    }
}

/* A store that cannot be had, or is full of live records: 503 with Retry-After, never a pass. */
static void test_store_refused(void **state)
{
    apr_pool_t *p = *state;
    const oas_issuer_t *iss = oas_issuer_make(p);
    oas_ctx_t x0, *x = engine_ctx(p, iss, ENGINE_SHM, NOW);
    row_t r = {.name = "full"};
    oas_dpop_req_t q = row_req(&r, row_proof(p, &r));
    const char *first = NULL;
    oas_dpop_t *d;
    oas_err_t e;
    apr_status_t rv;
    int i;

    /* a spent jti is live: evicting it would let its proof be replayed */
    assert_int_equal(oas_store_ns_class(OAS_NS_DPOP), OAS_STORE_LIVE);

    oas_ctx_init(&x0, p, iss, NOW); /* no store at all */
    rv = oas_dpop_check(&d, &e, &x0, &q);
    assert_true(rv != APR_SUCCESS && rv != APR_EINVAL);
    assert_int_equal(e.status, 503);
    assert_true(e.retry_after > 0);
    assert_null(d->jkt);

    x->store[OAS_CTX_SHORT] = engine_store(p, ENGINE_SHM, 4);
    for (i = 0; i < 4; i++) {
        q.header = row_proof(p, &r);
        first = first ? first : q.header;
        assert_int_equal(oas_dpop_check(&d, &e, x, &q), APR_SUCCESS);
    }
    q.header = row_proof(p, &r);
    rv = oas_dpop_check(&d, &e, x, &q);
    assert_int_equal(rv, APR_ENOSPC);
    assert_int_equal(e.status, 503);
    assert_true(e.retry_after > 0);
    assert_null(d->jkt);
    /* and nothing gave way: the first proof is still spent */
    q.header = first;
    assert_int_equal(oas_dpop_check(&d, &e, x, &q), APR_EINVAL);
    assert_memory_equal(e.detail, OAS_LOGNO(06413), strlen(OAS_LOGNO(06413)));
}

/* ---- the keys a thread keeps (oas_dpop_key.c) ---- */

/* What a kept key gives equals what a fresh import gives: the same jkt for the same text, the
 * other key's for the other text, a refusal for a proof signed by another key under a kept
 * jwk; more keys than the cache holds evict the oldest, and a key evicted while a request's
 * pool still uses it stays valid until that pool goes (ASan would see a use after free). */
static void test_key_cache(void **state)
{
    apr_pool_t *p = *state;
    oas_ctx_t *x = engine_ctx(p, oas_issuer_make(p), ENGINE_SHM, NOW);
    const char *want[K_N];
    apr_pool_t *held;
    oas_jwk_t *hk;
    const char *hjkt, *why;
    int round, k, i;

    for (k = 0; k < K_N; k++)
        assert_int_equal(oas_key_thumbprint(&want[k], p, keys[k]), APR_SUCCESS);
    for (round = 0; round < 3; round++) {
        for (k = 0; k < K_N; k++) {
            row_t r = {.name = "cache", .key = k};
            row_t other = {
                .name = "cache-other", .key = k, .jwk_other = 1, .jwk_key = (k + 1) % K_N};
            oas_dpop_req_t q = row_req(&r, row_proof(p, &r));
            oas_dpop_req_t qo = row_req(&other, row_proof(p, &other));
            oas_dpop_t *d;
            oas_err_t e;

            q.algs = qo.algs = OAS_ALGBITS_ASYM;
            assert_int_equal(oas_dpop_check(&d, &e, x, &q), APR_SUCCESS);
            assert_string_equal(d->jkt, want[k]);
            /* the next key's jwk (kept from the last round) over this key's signature */
            assert_int_equal(oas_dpop_check(&d, &e, x, &qo), APR_EINVAL);
            assert_true(!strncmp(e.detail, OAS_LOGNO(06415), 10) ||
                        !strncmp(e.detail, OAS_LOGNO(06402), 10));
        }
    }
    /* a pool holds a kept key; more new keys than the cache holds evict it; the pool goes
     * afterwards, and the key still verifies in between */
    {
        const char *jwk = jf_jwk(p, keys[K_EC], NULL, NULL);

        apr_pool_create(&held, p);
        assert_int_equal(oas_dpop_key(&hk, &hjkt, &why, held, jwk, strlen(jwk)), APR_SUCCESS);
        assert_string_equal(hjkt, want[K_EC]);
        for (i = 0; i < OAS_DPOP_KEY_CACHE + 2; i++) {
            EVP_PKEY *pk = EVP_EC_gen("P-256");
            const char *other = jf_jwk(p, pk, NULL, NULL);
            oas_jwk_t *ok;
            const char *ojkt, *tp;

            assert_int_equal(oas_dpop_key(&ok, &ojkt, &why, p, other, strlen(other)), APR_SUCCESS);
            assert_int_equal(oas_key_thumbprint(&tp, p, pk), APR_SUCCESS);
            assert_string_equal(ojkt, tp);
            EVP_PKEY_free(pk);
        }
        {
            const char *hdr = apr_pstrcat(p, "{\"alg\":\"ES256\"}", NULL);
            const char *jws = jf_sign(p, keys[K_EC], OAS_ALG_ES256, 0, NULL, hdr, "{}");

            assert_int_equal(
                oas_jws_verify_keys(NULL, jf_jws(p, jws), jf_keys(p, hk), OAS_ALGBITS_ASYM),
                APR_SUCCESS);
        }
        apr_pool_destroy(held);
        /* imported anew: the same */
        assert_int_equal(oas_dpop_key(&hk, &hjkt, &why, p, jwk, strlen(jwk)), APR_SUCCESS);
        assert_string_equal(hjkt, want[K_EC]);
    }
    /* refused texts are never kept: refused again, each time */
    for (i = 0; i < 2; i++) {
        const char *priv = jf_jwk(p, keys[K_EC], NULL, "\"d\":\"AAAA\"");

        assert_int_equal(oas_dpop_key(&hk, &hjkt, &why, p, priv, strlen(priv)), APR_EINVAL);
    }
}

/* ---- threads racing one proof: exactly one wins, on shm and on a shared SQLite file ---- */

#define RACERS 6

typedef struct {
    oas_ctx_t *x;
    const oas_dpop_req_t *q;
    volatile apr_uint32_t *go, *wins, *replays, *others;
} racer_t;

static void *APR_THREAD_FUNC racer(apr_thread_t *t, void *data)
{
    racer_t *rc = data;
    oas_dpop_t *d;
    oas_err_t e;
    apr_status_t rv;

    (void)t;
    while (!apr_atomic_read32(rc->go))
        ;
    rv = oas_dpop_check(&d, &e, rc->x, rc->q);
    if (rv == APR_SUCCESS)
        apr_atomic_inc32(rc->wins);
    else if (rv == APR_EINVAL && e.detail && !strncmp(e.detail, OAS_LOGNO(06413), 10))
        apr_atomic_inc32(rc->replays);
    else
        apr_atomic_inc32(rc->others);
    return NULL;
}

static void race(apr_pool_t *p, oas_store_t **stores, const char *what)
{
    static volatile apr_uint32_t go, wins, replays, others;
    const oas_issuer_t *iss = oas_issuer_make(p);
    apr_thread_t *th[RACERS];
    racer_t rc[RACERS];
    row_t r = {.name = "race"};
    oas_dpop_req_t q = row_req(&r, row_proof(p, &r));
    int i, round;

    for (round = 0; round < 5; round++) {
        go = wins = replays = others = 0;
        q.header = row_proof(p, &r);
        for (i = 0; i < RACERS; i++) {
            apr_pool_t *tp;

            apr_pool_create(&tp, p); /* one pool per thread, made here */
            rc[i].x = apr_palloc(tp, sizeof(oas_ctx_t));
            oas_ctx_init(rc[i].x, tp, iss, NOW);
            rc[i].x->store[OAS_CTX_SHORT] = stores[i];
            rc[i].x->opened[OAS_CTX_SHORT] = 1;
            rc[i].q = &q;
            rc[i].go = &go;
            rc[i].wins = &wins;
            rc[i].replays = &replays;
            rc[i].others = &others;
            assert_int_equal(apr_thread_create(&th[i], NULL, racer, &rc[i], p), APR_SUCCESS);
        }
        apr_atomic_set32(&go, 1);
        for (i = 0; i < RACERS; i++) {
            apr_status_t trv;
            assert_int_equal(apr_thread_join(&trv, th[i]), APR_SUCCESS);
        }
        if (wins != 1 || replays != RACERS - 1 || others)
            fail_msg("%s round %d: %u wins, %u replays, %u other", what, round, wins, replays,
                     others);
    }
}

static void test_race_shm(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t sz = oas_shm_store_size_needed(64);
    void *base = apr_palloc(p, sz);
    oas_store_t *st, *stores[RACERS];
    int i;

    assert_int_equal(oas_shm_store_format(base, sz, 64), APR_SUCCESS);
    for (i = 0; i < RACERS; i++) {
        assert_int_equal(oas_shm_store_attach_own_lock(&st, p, base, sz), APR_SUCCESS);
        stores[i] = st;
    }
    race(p, stores, "shm");
}

static void test_race_sqlite(void **state)
{
    apr_pool_t *p = *state;
    const char *path = engine_sqlite_file(p);
    oas_store_t *stores[RACERS];
    int i;

    for (i = 0; i < RACERS; i++)
        stores[i] = engine_dbd_store(p, path);
    race(p, stores, "sqlite");
    engine_sqlite_remove(p, path);
}

/* ---- nonces ---- */

static oas_key_t *pem_key(apr_pool_t *p, EVP_PKEY *pk, int traditional)
{
    char path[] = "/tmp/oas-dpop-key-XXXXXX";
    int fd = mkstemp(path);
    BIO *bio = BIO_new_fd(fd, BIO_CLOSE);
    oas_key_t *k = NULL;
    const char *err;
    int ok = traditional ? PEM_write_bio_PrivateKey_traditional(bio, pk, NULL, NULL, 0, NULL, NULL)
                         : PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL);

    BIO_free(bio);
    assert_int_equal(ok, 1);
    assert_int_equal(oas_key_load(&k, &err, p, path, NULL, -1), APR_SUCCESS);
    unlink(path);
    return k;
}

static oas_dpop_nonce_key_t *nkey(apr_pool_t *p, const oas_key_t *k, const char *iss)
{
    oas_dpop_nonce_key_t *nk = NULL;

    assert_int_equal(oas_dpop_nonce_key(&nk, p, k, iss), APR_SUCCESS);
    assert_non_null(nk);
    return nk;
}

/* The key: the same from the same private key whatever its PEM encoding (every node derives
 * the same), different for another key or another issuer. */
static void test_nonce_key(void **state)
{
    apr_pool_t *p = *state;
    const char *iss = "https://as.example";
    int k;

    for (k = 0; k < K_N; k++) {
        oas_dpop_nonce_key_t *a = nkey(p, pem_key(p, keys[k], 0), iss);
        oas_dpop_nonce_key_t *b = nkey(p, pem_key(p, keys[k], k != K_ED), iss);
        oas_dpop_nonce_key_t *c = nkey(p, pem_key(p, keys[k], 0), "https://as.example/other");
        oas_dpop_nonce_key_t *o = nkey(p, pem_key(p, keys[k == K_EC ? K_EC2 : K_EC], 0), iss);

        assert_memory_equal(a->k, b->k, sizeof(a->k));
        assert_memory_not_equal(a->k, c->k, sizeof(a->k));
        assert_memory_not_equal(a->k, o->k, sizeof(a->k));
    }
    {
        oas_dpop_nonce_key_t *nk = (oas_dpop_nonce_key_t *)1;
        assert_int_equal(oas_dpop_nonce_key(&nk, p, NULL, iss), APR_ENOTIMPL);
        assert_null(nk);
    }
}

static int nqchar_only(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
            return 0;
    }
    return 1;
}

/* Across time: made now, a second ago, a minute ago (the previous step), 5 minutes ago
 * accepted; 5 minutes and a second, 6 minutes old refused; a minute ahead (another node's
 * clock) accepted, more refused; another key, another issuer and garbage refused. */
static void test_nonce_time(void **state)
{
    apr_pool_t *p = *state;
    oas_key_t *sk = pem_key(p, keys[K_EC], 0);
    oas_dpop_nonce_key_t *nk = nkey(p, sk, "https://as.example");
    oas_dpop_nonce_key_t *other = nkey(p, sk, "https://other.example");
    const char *n = oas_dpop_nonce_new(p, nk, NOW);
    static const struct {
        int off; /* now - made */
        int ok;
    } ages[] = {{0, 1},   {1, 1},   {59, 1},   {60, 1}, {61, 1},  {120, 1}, {299, 1},  {300, 1},
                {301, 0}, {360, 0}, {3600, 0}, {-1, 1}, {-60, 1}, {-61, 0}, {-3600, 0}};
    size_t i;

    assert_non_null(n);
    assert_int_equal(strlen(n), OAS_DPOP_NONCE_LEN);
    assert_true(nqchar_only(n));
    assert_string_equal(n, oas_dpop_nonce_new(p, nk, NOW)); /* the same second: the same */
    assert_string_not_equal(n, oas_dpop_nonce_new(p, nk, NOW + 1));
    assert_string_not_equal(n, oas_dpop_nonce_new(p, other, NOW));
    for (i = 0; i < sizeof(ages) / sizeof(ages[0]); i++) {
        if (oas_dpop_nonce_ok(p, nk, n, NOW + ages[i].off) != ages[i].ok)
            fail_msg("nonce %d s old: %s", ages[i].off, ages[i].ok ? "refused" : "accepted");
    }
    assert_false(oas_dpop_nonce_ok(p, other, n, NOW));
    assert_true(oas_dpop_nonce_ok(p, other, oas_dpop_nonce_new(p, other, NOW), NOW));
    assert_null(oas_dpop_nonce_new(p, nk, -1));
    assert_null(oas_dpop_nonce_new(p, NULL, NOW));
}

static void test_nonce_garbage(void **state)
{
    apr_pool_t *p = *state;
    oas_dpop_nonce_key_t *nk = nkey(p, pem_key(p, keys[K_ED], 0), "https://as.example");
    const char *n = oas_dpop_nonce_new(p, nk, NOW);
    char *flip = apr_pstrdup(p, n), *last = apr_pstrdup(p, n), *pad = apr_pstrdup(p, n);
    const char *bad[9];
    size_t i;

    flip[10] = flip[10] == 'A' ? 'B' : 'A'; /* the MAC */
    flip[0] = flip[0];                      /* (t untouched) */
    last[26] = last[26] == 'A' ? 'B' : 'A'; /* the leftover bits: not canonical */
    pad[26] = '=';
    bad[0] = flip;
    bad[1] = last;
    bad[2] = pad;
    bad[3] = "";
    bad[4] = "abc";
    bad[5] = apr_pstrcat(p, n, "A", NULL);
    bad[6] = apr_pstrndup(p, n, OAS_DPOP_NONCE_LEN - 1);
    bad[7] = "!!!!!!!!!!!!!!!!!!!!!!!!!!!";
    bad[8] = NULL;
    assert_true(oas_dpop_nonce_ok(p, nk, n, NOW));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (oas_dpop_nonce_ok(p, nk, bad[i], NOW))
            fail_msg("garbage nonce %d accepted", (int)i);
    }
    assert_false(oas_dpop_nonce_ok(p, NULL, n, NOW));
}

/* The proof's nonce: required -> use_dpop_nonce (400, the fresh nonce handed out) when it is
 * missing, stale, another server's or not a string; accepted when fresh; not looked at when
 * nonces are off. */
static void test_proof_nonce(void **state)
{
    apr_pool_t *p = *state;
    oas_ctx_t *x = engine_ctx(p, oas_issuer_make(p), ENGINE_SQLITE, NOW);
    oas_key_t *sk = pem_key(p, keys[K_EC], 0);
    oas_dpop_nonce_key_t *nk = nkey(p, sk, "https://as.example");
    oas_dpop_nonce_key_t *other = nkey(p, sk, "https://other.example");
    const char *fresh = oas_dpop_nonce_new(p, nk, NOW - 10);
    struct {
        const char *claims;
        apr_status_t rv;
    } cases[] = {
        {NULL, APR_EAGAIN},
        {apr_psprintf(p, "\"nonce\":\"%s\"", oas_dpop_nonce_new(p, nk, NOW - 301)), APR_EAGAIN},
        {apr_psprintf(p, "\"nonce\":\"%s\"", oas_dpop_nonce_new(p, other, NOW)), APR_EAGAIN},
        {"\"nonce\":\"garbage\"", APR_EAGAIN},
        {"\"nonce\":12", APR_EAGAIN},
        {apr_psprintf(p, "\"nonce\":\"%s\"", fresh), APR_SUCCESS},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        row_t r = {.name = "nonce", .claims = cases[i].claims};
        oas_dpop_req_t q = row_req(&r, row_proof(p, &r));
        oas_dpop_t *d = NULL;
        oas_err_t e;

        q.nonce_required = 1;
        q.nonce_key = nk;
        memset(&e, 0, sizeof(e));
        if (oas_dpop_check(&d, &e, x, &q) != cases[i].rv)
            fail_msg("case %d: %s", (int)i, e.detail ? e.detail : "accepted");
        assert_non_null(d->fresh_nonce);
        assert_true(oas_dpop_nonce_ok(p, nk, d->fresh_nonce, NOW));
        if (cases[i].rv == APR_SUCCESS) {
            assert_string_equal(d->nonce, fresh);
            continue;
        }
        assert_int_equal(e.status, 400);
        assert_string_equal(e.error, "use_dpop_nonce");
        assert_memory_equal(e.detail, OAS_LOGNO(06412), strlen(OAS_LOGNO(06412)));
        assert_null(d->nonce);
        assert_null(d->jkt);
        /* nonces off: the same proof passes, its nonce not looked at */
        q.nonce_required = 0;
        assert_int_equal(oas_dpop_check(&d, &e, x, &q), APR_SUCCESS);
        assert_null(d->fresh_nonce);
    }
    /* an invalid proof gets invalid_dpop_proof, with a fresh nonce to offer all the same */
    {
        row_t r = {.name = "nonce-bad", .htm = "PUT"};
        oas_dpop_req_t q = row_req(&r, row_proof(p, &r));
        oas_dpop_t *d;
        oas_err_t e;

        q.nonce_required = 1;
        q.nonce_key = nk;
        assert_int_equal(oas_dpop_check(&d, &e, x, &q), APR_EINVAL);
        assert_string_equal(e.error, "invalid_dpop_proof");
        assert_non_null(d->fresh_nonce);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_rows),
        UNIT_TEST(test_result),
        UNIT_TEST(test_thumbprint_vectors),
        UNIT_TEST(test_header),
        UNIT_TEST(test_payload_not_json),
        UNIT_TEST(test_htu_normalize),
        UNIT_TEST(test_htu_expected_normalised),
        UNIT_TEST(test_replay),
        UNIT_TEST(test_store_refused),
        UNIT_TEST(test_key_cache),
        UNIT_TEST(test_race_shm),
        UNIT_TEST(test_race_sqlite),
        UNIT_TEST(test_nonce_key),
        UNIT_TEST(test_nonce_time),
        UNIT_TEST(test_nonce_garbage),
        UNIT_TEST(test_proof_nonce),
    };
    int rc;

    apr_initialize();
    if (keys_setup(NULL))
        return 1;
    rc = _cmocka_run_group_tests("test_dpop", tests, sizeof(tests) / sizeof(tests[0]), NULL, NULL);
    keys_teardown(NULL);
    apr_terminate();
    return rc;
}
