/* Unit tests: signed request objects (JAR, src/oas_request_object.c). A table of objects, each
 * rule broken in each way, run with an RSA (PS256, RS256) and an EC (ES256) key of the client,
 * plus EdDSA; then which parameters a request stands for under OAuthASRequestObject. Keys are
 * generated once per run; objects are signed here with OpenSSL, so any header can be made. */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <apr_hash.h>

#include "oas_authz.h"
#include "oas_jose.h"
#include "oas_jwk.h"
#include "oas_request_object.h"
#include "oas_util.h"
#include "unit.h"

#define ISS "https://as.example"
#define NOW ((apr_int64_t)1700000000)
#define ABSENT 99999 /* an exp or nbf offset meaning: no such claim */

enum { K_RSA, K_EC, K_ED, K_RSA2, K_EC2, K_N };

static EVP_PKEY *keys[K_N];

static int fixture_setup(void **state)
{
    int i;

    (void)state;
    keys[K_RSA] = EVP_RSA_gen(2048);
    keys[K_EC] = EVP_EC_gen("P-256");
    keys[K_ED] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    keys[K_RSA2] = EVP_RSA_gen(2048);
    keys[K_EC2] = EVP_EC_gen("P-256");
    for (i = 0; i < K_N; i++) {
        if (!keys[i])
            return -1;
    }
    return 0;
}

static int fixture_teardown(void **state)
{
    int i;

    (void)state;
    for (i = 0; i < K_N; i++)
        EVP_PKEY_free(keys[i]);
    return 0;
}

/* ---- signing (any header, any key: what a client, honest or not, can make) ---- */

static const char *b64s(apr_pool_t *p, const char *s)
{
    return oas_b64url_encode(p, (const unsigned char *)s, strlen(s));
}

/* The compact JWS of header and payload signed with key k as alg ("none": no signature;
 * "HS256": with a fixed secret). */
static const char *sign(apr_pool_t *p, int k, const char *alg, const char *header,
                        const char *payload)
{
    const char *input = apr_pstrcat(p, b64s(p, header), ".", b64s(p, payload), NULL);
    unsigned char sig[1024], raw[OAS_ES256_RAW_LEN];
    size_t len = sizeof(sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok;

    if (!strcmp(alg, "none")) {
        EVP_MD_CTX_free(md);
        return apr_pstrcat(p, input, ".", NULL);
    }
    if (!strcmp(alg, "HS256")) {
        static const unsigned char secret[] = "0123456789abcdef0123456789abcdef";
        unsigned int mlen = 0;
        EVP_MD_CTX_free(md);
        assert_non_null(HMAC(EVP_sha256(), secret, 32, (const unsigned char *)input, strlen(input),
                             sig, &mlen));
        return apr_pstrcat(p, input, ".", oas_b64url_encode(p, sig, mlen), NULL);
    }
    ok = EVP_DigestSignInit(md, &pctx, strcmp(alg, "EdDSA") ? EVP_sha256() : NULL, NULL, keys[k]) ==
         1;
    if (ok && !strcmp(alg, "PS256"))
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1;
    ok = ok && EVP_DigestSign(md, sig, &len, (const unsigned char *)input, strlen(input)) == 1;
    EVP_MD_CTX_free(md);
    assert_true(ok);
    if (!strcmp(alg, "ES256")) {
        assert_int_equal(oas_ecdsa_der_to_raw(raw, sig, len), APR_SUCCESS);
        return apr_pstrcat(p, input, ".", oas_b64url_encode(p, raw, sizeof(raw)), NULL);
    }
    return apr_pstrcat(p, input, ".", oas_b64url_encode(p, sig, len), NULL);
}

/* ---- the configuration: client rp (RSA r1, EC e1, Ed25519 d1) and client other ---- */

static oas_jwk_t *jwk(apr_pool_t *p, int k, const char *kid, const char *kty, unsigned algs)
{
    oas_jwk_t *j = apr_pcalloc(p, sizeof(*j));

    j->pkey = keys[k];
    j->kid = kid;
    j->kty = kty;
    j->algs = algs;
    return j;
}

static oas_client_t *mkclient(apr_pool_t *p, oas_issuer_t *iss, const char *id, int with_keys)
{
    oas_client_t *c = oas_client_make(p, id);

    c->secret = "s3cret";
    c->redirect_uris = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(c->redirect_uris, const char *) = "https://rp.example/cb";
    if (with_keys) {
        unsigned rsa = OAS_ALGBIT(OAS_ALG_RS256) | OAS_ALGBIT(OAS_ALG_PS256);
        c->jwks = apr_array_make(p, 3, sizeof(oas_jwk_t *));
        if (!strcmp(id, "rp")) {
            APR_ARRAY_PUSH(c->jwks, oas_jwk_t *) = jwk(p, K_RSA, "r1", "RSA", rsa);
            APR_ARRAY_PUSH(c->jwks, oas_jwk_t *) =
                jwk(p, K_EC, "e1", "EC", OAS_ALGBIT(OAS_ALG_ES256));
            APR_ARRAY_PUSH(c->jwks, oas_jwk_t *) =
                jwk(p, K_ED, "d1", "OKP", OAS_ALGBIT(OAS_ALG_EDDSA));
        }
        else {
            APR_ARRAY_PUSH(c->jwks, oas_jwk_t *) = jwk(p, K_RSA2, "r2", "RSA", rsa);
            APR_ARRAY_PUSH(c->jwks, oas_jwk_t *) =
                jwk(p, K_EC2, "e2", "EC", OAS_ALGBIT(OAS_ALG_ES256));
        }
    }
    oas_client_resolve(c);
    apr_hash_set(iss->clients, id, APR_HASH_KEY_STRING, c);
    return c;
}

static oas_ctx_t *mkctx(apr_pool_t *p)
{
    oas_issuer_t *iss = oas_issuer_make(p);
    oas_ctx_t *x = apr_pcalloc(p, sizeof(*x));

    iss->issuer = ISS;
    iss->clients = apr_hash_make(p);
    mkclient(p, iss, "rp", 1);
    mkclient(p, iss, "other", 1);
    mkclient(p, iss, "plain", 0);
    oas_ctx_init(x, p, iss, NOW);
    return x;
}

static const oas_client_t *client(oas_ctx_t *x, const char *id)
{
    return oas_issuer_client(x->iss, id);
}

/* ---- the table ---- */

/* The family of the signing key a row is run with: each row runs once per family. */
typedef struct {
    int key;
    const char *alg, *kid;
} family_t;

static const family_t families[] = {
    {K_RSA, "PS256", "r1"}, {K_EC, "ES256", "e1"}, {K_RSA, "RS256", "r1"}, {K_ED, "EdDSA", "d1"}};

#define DEFAULT_CLAIMS                                                                             \
    "\"response_type\":\"code\",\"redirect_uri\":\"https://rp.example/cb\",\"scope\":\"openid\","  \
    "\"state\":\"in\",\"max_age\":300,\"claims\":{\"id_token\":{\"acr\":null}}"

typedef struct {
    const char *name;
    const char *iss, *cid, *aud; /* NULL: absent; aud is raw JSON */
    int exp, nbf;                /* offsets from NOW, or ABSENT */
    const char *extra;           /* more claims, raw JSON members, or NULL */
    const char *typ;             /* NULL: no typ; "": "oauth-authz-req+jwt" */
    int tag;                     /* 0: accepted; else the log tag of the refusal */
} row_t;

static const row_t rows[] = {
    {"good", "\"rp\"", "\"rp\"", "\"" ISS "\"", 300, 0, NULL, "", 0},
    {"good typ JWT", "\"rp\"", "\"rp\"", "\"" ISS "\"", 300, 0, NULL, "JWT", 0},
    {"good no typ", "\"rp\"", "\"rp\"", "\"" ISS "\"", 300, 0, NULL, NULL, 0},
    {"good media typ", "\"rp\"", "\"rp\"", "\"" ISS "\"", 300, 0, NULL,
     "application/oauth-authz-req+jwt", 0},
    {"aud array", "\"rp\"", "\"rp\"", "[\"https://x.example\",\"" ISS "\"]", 300, 0, NULL, "", 0},
    {"nbf 8 s ahead", "\"rp\"", "\"rp\"", "\"" ISS "\"", 300, 8, NULL, "", 0},
    {"60 minutes exactly", "\"rp\"", "\"rp\"", "\"" ISS "\"", 3000, -600, NULL, "", 0},
    {"typ dpop", "\"rp\"", "\"rp\"", "\"" ISS "\"", 300, 0, NULL, "dpop+jwt", 6315},
    {"typ assertion", "\"rp\"", "\"rp\"", "\"" ISS "\"", 300, 0, NULL, "client-authentication+jwt",
     6315},
    {"no iss", NULL, "\"rp\"", "\"" ISS "\"", 300, 0, NULL, "", 6309},
    {"iss other", "\"other\"", "\"rp\"", "\"" ISS "\"", 300, 0, NULL, "", 6309},
    {"iss case", "\"RP\"", "\"rp\"", "\"" ISS "\"", 300, 0, NULL, "", 6309},
    {"iss number", "7", "\"rp\"", "\"" ISS "\"", 300, 0, NULL, "", 6319},
    {"no client_id", "\"rp\"", NULL, "\"" ISS "\"", 300, 0, NULL, "", 6310},
    {"client_id other", "\"rp\"", "\"other\"", "\"" ISS "\"", 300, 0, NULL, "", 6310},
    {"client_id number", "\"rp\"", "1", "\"" ISS "\"", 300, 0, NULL, "", 6310},
    {"no aud", "\"rp\"", "\"rp\"", NULL, 300, 0, NULL, "", 6311},
    {"aud other", "\"rp\"", "\"rp\"", "\"https://evil.example\"", 300, 0, NULL, "", 6311},
    {"aud slash", "\"rp\"", "\"rp\"", "\"" ISS "/\"", 300, 0, NULL, "", 6311},
    {"aud token url", "\"rp\"", "\"rp\"", "\"" ISS "/oauth/token\"", 300, 0, NULL, "", 6311},
    {"aud array without", "\"rp\"", "\"rp\"", "[\"https://x.example\"]", 300, 0, NULL, "", 6311},
    {"aud number", "\"rp\"", "\"rp\"", "1", 300, 0, NULL, "", 6319},
    {"no exp", "\"rp\"", "\"rp\"", "\"" ISS "\"", ABSENT, 0, NULL, "", 6304},
    {"no nbf", "\"rp\"", "\"rp\"", "\"" ISS "\"", 300, ABSENT, NULL, "", 6305},
    {"exp over 60 min", "\"rp\"", "\"rp\"", "\"" ISS "\"", 3601, 0, NULL, "", 6306},
    {"nbf over 60 min old", "\"rp\"", "\"rp\"", "\"" ISS "\"", -100, -3700, NULL, "", 6307},
    {"expired", "\"rp\"", "\"rp\"", "\"" ISS "\"", -100, -400, NULL, "", 6308},
    {"nbf 70 s ahead", "\"rp\"", "\"rp\"", "\"" ISS "\"", 300, 70, NULL, "", 6308},
    {"iat 70 s ahead", "\"rp\"", "\"rp\"", "\"" ISS "\"", 300, 0, "\"iat\":1700000070", "", 6308},
    {"exp string", "\"rp\"", "\"rp\"", "\"" ISS "\"", 300, 0, "\"exp\":\"soon\"", "", 6319},
    {"request inside", "\"rp\"", "\"rp\"", "\"" ISS "\"", 300, 0, "\"request\":\"a.b.c\"", "",
     6312},
    {"request_uri inside", "\"rp\"", "\"rp\"", "\"" ISS "\"", 300, 0,
     "\"request_uri\":\"urn:ietf:params:oauth:request_uri:x\"", "", 6312},
    /* parameters are looked up without regard to letter case (found by fuzz_reqobj) */
    {"request_uri in other case", "\"rp\"", "\"rp\"", "\"" ISS "\"", 300, 0,
     "\"requEst_uri\":\"urn:x\"", "", 6312},
    {"client_id twice in two cases", "\"rp\"", "\"rp\"", "\"" ISS "\"", 300, 0,
     "\"CLIENT_ID\":\"other\"", "", 6321},
};

/* The payload of row r: its claims, then DEFAULT_CLAIMS (a claim of extra that names one of
 * the registered claims comes first, so a JSON duplicate never arises: exp/nbf are left out
 * of the row then). */
static const char *payload(apr_pool_t *p, const row_t *r)
{
    const char *s = "{" DEFAULT_CLAIMS;
    int extra_exp = r->extra && strstr(r->extra, "\"exp\"");

    if (r->iss)
        s = apr_pstrcat(p, s, ",\"iss\":", r->iss, NULL);
    if (r->cid)
        s = apr_pstrcat(p, s, ",\"client_id\":", r->cid, NULL);
    if (r->aud)
        s = apr_pstrcat(p, s, ",\"aud\":", r->aud, NULL);
    if (r->exp != ABSENT && !extra_exp)
        s = apr_psprintf(p, "%s,\"exp\":%" APR_INT64_T_FMT, s, NOW + r->exp);
    if (r->nbf != ABSENT)
        s = apr_psprintf(p, "%s,\"nbf\":%" APR_INT64_T_FMT, s, NOW + r->nbf);
    if (r->extra)
        s = apr_pstrcat(p, s, ",", r->extra, NULL);
    return apr_pstrcat(p, s, "}", NULL);
}

static const char *header(apr_pool_t *p, const char *alg, const char *kid, const char *typ)
{
    const char *h = apr_psprintf(p, "{\"alg\":\"%s\"", alg);

    if (kid)
        h = apr_psprintf(p, "%s,\"kid\":\"%s\"", h, kid);
    if (typ)
        h = apr_psprintf(p, "%s,\"typ\":\"%s\"", h, *typ ? typ : "oauth-authz-req+jwt");
    return apr_pstrcat(p, h, "}", NULL);
}

/* Asserts a refusal with tag (its detail starts "OASnnnnn"), never showing the object. */
static void assert_refused(apr_status_t rv, const oas_err_t *e, int tag, const char *jws,
                           const char *what)
{
    char want[16];

    apr_snprintf(want, sizeof(want), "OAS%05d", tag);
    if (rv != APR_EINVAL || !e->detail || strncmp(e->detail, want, 8)) {
        print_error("%s: rv %d, detail %s, want %s\n", what, rv, e->detail ? e->detail : "-", want);
        fail();
    }
    assert_int_equal(e->status, 400);
    assert_string_equal(e->error, "invalid_request_object");
    assert_null(strstr(e->detail, jws));
    assert_null(strstr(e->description, jws));
}

static void test_table(void **state)
{
    apr_pool_t *p = *state;
    oas_ctx_t *x = mkctx(p);
    apr_table_t *params;
    oas_err_t e;
    size_t i, f;

    for (f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
        const family_t *fam = &families[f];
        for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            const row_t *r = &rows[i];
            const char *jws =
                sign(p, fam->key, fam->alg, header(p, fam->alg, fam->kid, r->typ), payload(p, r));
            const char *what = apr_psprintf(p, "%s / %s", fam->alg, r->name);
            apr_status_t rv = oas_request_object_params(&params, &e, x, client(x, "rp"), jws);
            if (!r->tag) {
                if (rv != APR_SUCCESS) {
                    print_error("%s: refused: %s\n", what, e.detail ? e.detail : "-");
                    fail();
                }
                assert_string_equal(apr_table_get(params, "state"), "in");
                continue;
            }
            assert_refused(rv, &e, r->tag, jws, what);
            assert_null(params);
        }
    }
}

/* The parameters: strings as they are, numbers as text, objects as JSON; the JWT's own
 * claims are not parameters. */
static void test_params(void **state)
{
    apr_pool_t *p = *state;
    oas_ctx_t *x = mkctx(p);
    apr_table_t *params;
    oas_err_t e;
    const char *jws = sign(p, K_EC, "ES256", header(p, "ES256", "e1", ""), payload(p, &rows[0]));

    assert_int_equal(oas_request_object_params(&params, &e, x, client(x, "rp"), jws), APR_SUCCESS);
    assert_string_equal(apr_table_get(params, "client_id"), "rp");
    assert_string_equal(apr_table_get(params, "response_type"), "code");
    assert_string_equal(apr_table_get(params, "redirect_uri"), "https://rp.example/cb");
    assert_string_equal(apr_table_get(params, "max_age"), "300");
    assert_string_equal(apr_table_get(params, "claims"), "{\"id_token\":{\"acr\":null}}");
    assert_null(apr_table_get(params, "iss"));

    /* objects and arrays compact, strings in them as they are; other numbers as written */
    jws = sign(p, K_EC, "ES256", header(p, "ES256", "e1", ""),
               "{\"iss\":\"rp\",\"client_id\":\"rp\",\"aud\":\"" ISS "\",\"exp\":1700000300,"
               "\"nbf\":1700000000,\"claims\": { \"a\" : [ 1 , \"x \\\" y\" ] ,\n\t\"b\":{} },"
               "\"n\":1.5e3,\"t\":true,\"f\":false,\"z\":null,\"e\":\"\"}");
    assert_int_equal(oas_request_object_params(&params, &e, x, client(x, "rp"), jws), APR_SUCCESS);
    assert_string_equal(apr_table_get(params, "claims"), "{\"a\":[1,\"x \\\" y\"],\"b\":{}}");
    assert_string_equal(apr_table_get(params, "n"), "1.5e3");
    assert_string_equal(apr_table_get(params, "t"), "true");
    assert_string_equal(apr_table_get(params, "f"), "false");
    assert_null(apr_table_get(params, "z"));
    assert_null(apr_table_get(params, "e"));
    assert_null(apr_table_get(params, "aud"));
    assert_null(apr_table_get(params, "exp"));
    assert_null(apr_table_get(params, "nbf"));
}

/* Signatures and keys: only the keys of that client, only the allowed algorithms. */
static void test_signatures(void **state)
{
    apr_pool_t *p = *state;
    oas_ctx_t *x = mkctx(p);
    const char *pl = payload(p, &rows[0]);
    apr_table_t *params;
    oas_err_t e;
    char *jws;
    static const struct {
        const char *name;
        int key;
        const char *alg, *kid;
        int tag;
    } sigs[] = {
        {"alg none", K_RSA, "none", "r1", 6314},
        {"alg none without kid", K_RSA, "none", NULL, 6314},
        {"HS256", K_RSA, "HS256", NULL, 6316},
        {"other client's RSA key, its kid", K_RSA2, "PS256", "r2", 6318},
        {"other client's RSA key, our kid", K_RSA2, "PS256", "r1", 6318},
        {"other client's EC key, no kid", K_EC2, "ES256", NULL, 6318},
        {"EC alg with the RSA kid", K_EC, "ES256", "r1", 6318},
        {"RSA alg with the EC kid", K_RSA, "PS256", "e1", 6318},
        {"unknown kid", K_EC, "ES256", "zz", 6318},
        {"no kid, our key", K_EC, "ES256", NULL, 0},
    };
    size_t i;

    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        const char *s =
            sign(p, sigs[i].key, sigs[i].alg, header(p, sigs[i].alg, sigs[i].kid, ""), pl);
        apr_status_t rv = oas_request_object_params(&params, &e, x, client(x, "rp"), s);
        if (!sigs[i].tag)
            assert_int_equal(rv, APR_SUCCESS);
        else
            assert_refused(rv, &e, sigs[i].tag, s, sigs[i].name);
    }

    /* a flipped signature byte, a flipped payload byte */
    jws = apr_pstrdup(p, sign(p, K_RSA, "PS256", header(p, "PS256", "r1", ""), pl));
    jws[strlen(jws) - 5] = jws[strlen(jws) - 5] == 'A' ? 'B' : 'A';
    assert_refused(oas_request_object_params(&params, &e, x, client(x, "rp"), jws), &e, 6318, jws,
                   "bad signature");
    jws = apr_pstrdup(p, sign(p, K_EC, "ES256", header(p, "ES256", "e1", ""), pl));
    jws[strchr(jws, '.') - jws + 3] ^= 1;
    assert_int_equal(oas_request_object_params(&params, &e, x, client(x, "rp"), jws), APR_EINVAL);
    assert_string_equal(e.error, "invalid_request_object");

    /* the server allows only PS256 and ES256: RS256 and EdDSA are refused */
    ((oas_issuer_t *)x->iss)->client_signing_algs =
        OAS_ALGBIT(OAS_ALG_PS256) | OAS_ALGBIT(OAS_ALG_ES256);
    jws = (char *)sign(p, K_RSA, "RS256", header(p, "RS256", "r1", ""), pl);
    assert_refused(oas_request_object_params(&params, &e, x, client(x, "rp"), jws), &e, 6316, jws,
                   "RS256 not allowed");
    jws = (char *)sign(p, K_ED, "EdDSA", header(p, "EdDSA", "d1", ""), pl);
    assert_refused(oas_request_object_params(&params, &e, x, client(x, "rp"), jws), &e, 6316, jws,
                   "EdDSA not allowed");
    jws = (char *)sign(p, K_RSA, "PS256", header(p, "PS256", "r1", ""), pl);
    assert_int_equal(oas_request_object_params(&params, &e, x, client(x, "rp"), jws), APR_SUCCESS);

    /* the object of client other, verified as other's, is not rp's */
    jws = (char *)sign(p, K_EC2, "ES256", header(p, "ES256", "e2", ""),
                       "{\"iss\":\"other\",\"client_id\":\"other\",\"aud\":\"" ISS "\","
                       "\"exp\":1700000300,\"nbf\":1700000000}");
    assert_int_equal(oas_request_object_params(&params, &e, x, client(x, "other"), jws),
                     APR_SUCCESS);
    assert_refused(oas_request_object_params(&params, &e, x, client(x, "rp"), jws), &e, 6318, jws,
                   "other's object as rp's");
}

/* Garbage: never anything but invalid_request_object. */
static void test_garbage(void **state)
{
    apr_pool_t *p = *state;
    oas_ctx_t *x = mkctx(p);
    apr_table_t *params;
    oas_err_t e;
    char *big = apr_palloc(p, OAS_REQOBJ_MAX_LEN + 2);
    static const char *const junk[] = {"",
                                       "junk",
                                       "a.b",
                                       "a.b.c.d",
                                       "...",
                                       "eyJhbGciOiJQUzI1NiJ9..",
                                       "eyJhbGciOiJQUzI1NiJ9.e30.AAAA",
                                       "eyJhbGciOiJub25lIn0.e30.",
                                       "e30.e30.e30",
                                       "bm90IGpzb24.bm90IGpzb24.AAAA",
                                       NULL};
    const char *s;
    int i;

    for (i = 0; junk[i]; i++) {
        assert_int_equal(oas_request_object_params(&params, &e, x, client(x, "rp"), junk[i]),
                         APR_EINVAL);
        assert_string_equal(e.error, "invalid_request_object");
        assert_int_equal(e.status, 400);
    }
    memset(big, 'A', OAS_REQOBJ_MAX_LEN + 1);
    big[OAS_REQOBJ_MAX_LEN + 1] = '\0';
    assert_refused(oas_request_object_params(&params, &e, x, client(x, "rp"), big), &e, 6313, big,
                   "too large");
    /* a signed payload that is not JSON */
    s = sign(p, K_EC, "ES256", header(p, "ES256", "e1", ""), "not json");
    assert_refused(oas_request_object_params(&params, &e, x, client(x, "rp"), s), &e, 6319, s,
                   "not JSON");
    s = sign(p, K_EC, "ES256", header(p, "ES256", "e1", ""), "[1,2]");
    assert_refused(oas_request_object_params(&params, &e, x, client(x, "rp"), s), &e, 6319, s,
                   "an array");
}

/* OAuthASRequestObject: which parameters a request stands for. */
static void test_use(void **state)
{
    apr_pool_t *p = *state;
    oas_ctx_t *x = mkctx(p);
    oas_issuer_t *iss = (oas_issuer_t *)x->iss;
    oas_client_t *rp = (oas_client_t *)client(x, "rp");
    const char *jws = sign(p, K_EC, "ES256", header(p, "ES256", "e1", ""), payload(p, &rows[0]));
    apr_table_t *outer = apr_table_make(p, 4), *plain = apr_table_make(p, 4), *params;
    oas_err_t e;

    apr_table_set(outer, "client_id", "rp");
    apr_table_set(outer, "request", jws);
    apr_table_set(outer, "state", "out");
    apr_table_set(outer, "nonce", "out");
    apr_table_set(plain, "client_id", "rp");
    apr_table_set(plain, "state", "out");

    /* defaults: Allowed with keys, Off without */
    assert_int_equal(oas_client_request_object(iss, rp), OAS_REQOBJ_ALLOWED);
    assert_int_equal(oas_client_request_object(iss, client(x, "plain")), OAS_REQOBJ_OFF);
    iss->request_object = OAS_REQOBJ_REQUIRED;
    assert_int_equal(oas_client_request_object(iss, rp), OAS_REQOBJ_REQUIRED);
    assert_int_equal(oas_client_request_object(iss, client(x, "plain")), OAS_REQOBJ_OFF);
    rp->request_object = OAS_REQOBJ_ALLOWED;
    assert_int_equal(oas_client_request_object(iss, rp), OAS_REQOBJ_ALLOWED);
    iss->request_object = OAS_UNSET;

    /* the object's parameters only: the inner state, no outer nonce, no request */
    assert_int_equal(oas_request_object_use(&params, &e, x, rp, outer, OAS_AUTHZ_FRONT),
                     APR_SUCCESS);
    assert_string_equal(apr_table_get(params, "state"), "in");
    assert_null(apr_table_get(params, "nonce"));
    assert_null(apr_table_get(params, "request"));
    /* plain parameters while Allowed: as they are */
    assert_int_equal(oas_request_object_use(&params, &e, x, rp, plain, OAS_AUTHZ_PAR), APR_SUCCESS);
    assert_ptr_equal(params, plain);
    /* a client that may not: left to oas_authz_validate (request_not_supported) */
    assert_int_equal(
        oas_request_object_use(&params, &e, x, client(x, "plain"), outer, OAS_AUTHZ_FRONT),
        APR_SUCCESS);
    assert_ptr_equal(params, outer);

    /* Required: plain parameters are invalid_request, at PAR as JSON, at /authorize a page */
    rp->request_object = OAS_REQOBJ_REQUIRED;
    assert_int_equal(oas_request_object_use(&params, &e, x, rp, plain, OAS_AUTHZ_PAR), APR_EINVAL);
    assert_string_equal(e.error, "invalid_request");
    assert_int_equal(e.page, 0);
    assert_int_equal(oas_request_object_use(&params, &e, x, rp, plain, OAS_AUTHZ_FRONT),
                     APR_EINVAL);
    assert_string_equal(e.error, "invalid_request");
    assert_int_equal(e.page, 1);
    assert_int_equal(oas_request_object_use(&params, &e, x, rp, outer, OAS_AUTHZ_PAR), APR_SUCCESS);
    assert_string_equal(apr_table_get(params, "state"), "in");

    /* a bad object at /authorize is a page (its redirect_uri is not trusted) */
    apr_table_set(outer, "request", "junk.junk.junk");
    assert_int_equal(oas_request_object_use(&params, &e, x, rp, outer, OAS_AUTHZ_FRONT),
                     APR_EINVAL);
    assert_string_equal(e.error, "invalid_request_object");
    assert_int_equal(e.page, 1);
    assert_int_equal(oas_request_object_use(&params, &e, x, rp, outer, OAS_AUTHZ_PAR), APR_EINVAL);
    assert_int_equal(e.page, 0);

    /* the client_id outside must be the object's */
    apr_table_set(outer, "request", jws);
    apr_table_set(outer, "client_id", "other");
    assert_int_equal(oas_request_object_use(&params, &e, x, rp, outer, OAS_AUTHZ_PAR), APR_EINVAL);
    assert_string_equal(e.error, "invalid_request");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_table),   UNIT_TEST(test_params), UNIT_TEST(test_signatures),
        UNIT_TEST(test_garbage), UNIT_TEST(test_use),
    };
    int rc;

    apr_initialize();
    rc = _cmocka_run_group_tests(__FILE__, tests, sizeof(tests) / sizeof(tests[0]), fixture_setup,
                                 fixture_teardown);
    apr_terminate();
    return rc;
}
