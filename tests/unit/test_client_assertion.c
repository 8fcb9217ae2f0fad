/* Client assertions (src/oas_client_assertion.c): a table of assertions, each claim wrong in
 * each way (missing, wrong type, wrong value), each algorithm and key, the method checks of
 * oas_client_authenticate, the brake's naming of the client, and the single use of a jti on
 * both stores. */
#include "unit.h"

#include <openssl/hmac.h>
#include <openssl/rsa.h>

/* the table's rows name only the fields that differ from the default assertion */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "engine_stores.h"
#include "oas_client_assertion.h"
#include "oas_client_auth.h"
#include "oas_jose.h"
#include "oas_jwk.h"
#include "oas_throttle.h"
#include "oas_util.h"
#include "token_fixture.h"

#define ISS "https://as.test"
#define TOKEN_URL ISS "/oauth/token"
#define SECRET "0123456789abcdef0123456789abcdef-sjwt" /* 37 bytes */

/* The keys assertions are signed with: the four the client "pk" registered, one it did not
 * (with the kid of a registered one), and HS256 over a secret. */
enum { K_ES256, K_RS256, K_PS256, K_EDDSA, K_STRANGER, K_HS256, K_HS_WRONG, K_COUNT };

typedef struct {
    oas_issuer_t *iss;
    oas_key_t *key[K_STRANGER + 1];
} env_t;

/* s with the first from replaced by to */
static const char *replace(apr_pool_t *p, const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);

    assert_non_null(at);
    return apr_pstrcat(p, apr_pstrndup(p, s, at - s), to, at + strlen(from), NULL);
}

/* A PS256 JWS by hand (RSASSA-PSS, MGF1-SHA-256, 32-byte salt; RFC 7518 §3.5). */
static const char *sign_pss(apr_pool_t *p, const oas_key_t *k, const char *typ, const char *payload)
{
    const char *hdr = apr_pstrcat(p, "{\"alg\":\"PS256\",\"kid\":\"", k->kid, "\"",
                                  typ ? apr_psprintf(p, ",\"typ\":\"%s\"", typ) : "", "}", NULL);
    const char *in =
        apr_pstrcat(p, oas_b64url_encode(p, (const unsigned char *)hdr, strlen(hdr)), ".",
                    oas_b64url_encode(p, (const unsigned char *)payload, strlen(payload)), NULL);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc;
    unsigned char sig[512];
    size_t len = sizeof(sig);

    assert_int_equal(EVP_DigestSignInit(md, &pc, EVP_sha256(), NULL, k->pkey), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32), 1);
    assert_int_equal(EVP_DigestSign(md, sig, &len, (const unsigned char *)in, strlen(in)), 1);
    EVP_MD_CTX_free(md);
    return apr_pstrcat(p, in, ".", oas_b64url_encode(p, sig, len), NULL);
}

static oas_client_t *add_client(apr_pool_t *p, oas_issuer_t *iss, const char *id, int methods,
                                const char *secret)
{
    oas_client_t *c = oas_client_make(p, id);

    c->auth_methods = methods;
    c->secret = secret;
    apr_hash_set(iss->clients, id, APR_HASH_KEY_STRING, c);
    return c;
}

/* Clients: pk (private_key_jwt with four keys), sj (client_secret_jwt), legacy (private_key_jwt,
 * OAuthASAssertionAudience Legacy), sec (client_secret_basic only), pub (public). */
static env_t *make_env(apr_pool_t *p)
{
    env_t *env = apr_pcalloc(p, sizeof(*env));
    const char *jwks, *perr;
    apr_array_header_t *keys;
    oas_client_t *c;

    env->iss = oas_issuer_make(p);
    env->iss->issuer = ISS;
    env->iss->issuer_origin = ISS;
    env->iss->endpoints[OAS_EP_TOKEN] = "/oauth/token";
    env->iss->endpoints[OAS_EP_PAR] = "/oauth/par";
    env->iss->clients = apr_hash_make(p);
    env->key[K_ES256] = gen_key_as(p, EVP_EC_gen("P-256"), "e1", -1);
    env->key[K_RS256] = gen_key_as(p, EVP_RSA_gen(2048), "r1", -1);
    /* an RSA key for PS256, signed by hand below (sign_pss): this test does not depend on
     * our own PS256 signing */
    env->key[K_PS256] = gen_key_as(p, EVP_RSA_gen(2048), "p1", -1);
    env->key[K_EDDSA] = gen_key_as(p, EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), "o1", -1);
    env->key[K_STRANGER] = gen_key_as(p, EVP_EC_gen("P-256"), "e1", -1);
    jwks = apr_psprintf(p, "{\"keys\":[%s,%s,%s,%s]}", env->key[K_ES256]->jwk_json,
                        env->key[K_RS256]->jwk_json,
                        replace(p, env->key[K_PS256]->jwk_json, "\"RS256\"", "\"PS256\""),
                        env->key[K_EDDSA]->jwk_json);
    assert_int_equal(oas_jwks_parse(&keys, &perr, p, jwks, strlen(jwks)), APR_SUCCESS);
    c = add_client(p, env->iss, "pk", OAS_AUTH_PKJWT, NULL);
    c->jwks = keys;
    add_client(p, env->iss, "sj", OAS_AUTH_SJWT, SECRET);
    c = add_client(p, env->iss, "legacy", OAS_AUTH_PKJWT, NULL);
    c->jwks = keys;
    c->assertion_aud = OAS_ASSERTION_AUD_LEGACY;
    add_client(p, env->iss, "sec", OAS_AUTH_BASIC, SECRET);
    add_client(p, env->iss, "pub", OAS_AUTH_NONE, NULL);
    return env;
}

/* header.payload signed with key k (HS256: HMAC by hand, as no oas_key_t holds a secret). */
static const char *sign(apr_pool_t *p, const env_t *env, int k, const char *typ,
                        const char *payload)
{
    const char *jws, *in, *hdr;
    unsigned char mac[32];
    unsigned int len = sizeof(mac);
    const char *secret = k == K_HS256 ? SECRET : "another secret of at least 32 bytes!";

    if (k == K_PS256)
        return sign_pss(p, env->key[k], typ, payload);
    if (k <= K_STRANGER) {
        assert_int_equal(oas_jws_sign(&jws, p, env->key[k], typ, payload), APR_SUCCESS);
        return jws;
    }
    hdr = apr_pstrcat(p, "{\"alg\":\"HS256\"", typ ? apr_psprintf(p, ",\"typ\":\"%s\"", typ) : "",
                      "}", NULL);
    in = apr_pstrcat(p, oas_b64url_encode(p, (const unsigned char *)hdr, strlen(hdr)), ".",
                     oas_b64url_encode(p, (const unsigned char *)payload, strlen(payload)), NULL);
    assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)in,
                         strlen(in), mac, &len));
    return apr_pstrcat(p, in, ".", oas_b64url_encode(p, mac, len), NULL);
}

/* A claim of a row: NULL the default, "" left out, "+n" / "-n" now plus n seconds, anything
 * else raw JSON. */
#define OMIT ""

typedef struct {
    const char *what;
    const char *client; /* whose assertion (default sub and iss) */
    int key;
    const char *typ;
    const char *iss, *sub, *aud, *exp, *iat, *nbf, *jti;
    const char *client_id; /* the request's client_id parameter, or NULL */
    const char *tag;       /* NULL: accepted; else the log tag of the refusal */
} row_t;

static const char *claim(apr_pool_t *p, apr_int64_t now, const char *name, const char *v,
                         const char *dflt)
{
    if (!v)
        v = dflt;
    if (!v || !*v)
        return "";
    if ((v[0] == '+' || v[0] == '-') && v[1] >= '0' && v[1] <= '9')
        v = apr_psprintf(p, "%" APR_INT64_T_FMT, now + apr_atoi64(v));
    return apr_psprintf(p, ",\"%s\":%s", name, v);
}

static const char *payload_of(apr_pool_t *p, apr_int64_t now, const row_t *r, int n)
{
    const char *id = apr_psprintf(p, "\"%s\"", r->client);
    const char *s = apr_pstrcat(
        p, claim(p, now, "iss", r->iss, id), claim(p, now, "sub", r->sub, id),
        claim(p, now, "aud", r->aud, "\"" ISS "\""), claim(p, now, "exp", r->exp, "+60"),
        claim(p, now, "iat", r->iat, "+0"), claim(p, now, "nbf", r->nbf, OMIT),
        claim(p, now, "jti", r->jti, apr_psprintf(p, "\"jti-%d\"", n)), NULL);

    return *s ? apr_pstrcat(p, "{", s + 1, "}", NULL) : "{}";
}

static const row_t rows[] = {
    /* every algorithm and method accepted */
    {"ES256", "pk", K_ES256},
    {"RS256", "pk", K_RS256},
    {"PS256", "pk", K_PS256},
    {"EdDSA", "pk", K_EDDSA},
    {"HS256", "sj", K_HS256},
    {"typ JWT", "pk", K_ES256, "JWT"},
    {"typ client-authentication+jwt", "pk", K_ES256, "client-authentication+jwt"},
    {"typ with application/", "sj", K_HS256, "application/client-authentication+jwt"},
    {"client_id that agrees", "pk", K_ES256, .client_id = "pk"},
    {"nbf 8 s ahead", "pk", K_ES256, .nbf = "+8"},
    {"iat 8 s ahead", "pk", K_ES256, .iat = "+8"},
    {"no iat, lifetime from now", "pk", K_ES256, .iat = OMIT, .exp = "+300"},
    {"lifetime of 300 s", "pk", K_ES256, .iat = "-100", .exp = "+200"},
    {"exp 5 s past (leeway)", "pk", K_ES256, .iat = "-60", .exp = "-5"},
    {"legacy: token endpoint aud", "legacy", K_ES256, .aud = "\"" TOKEN_URL "\""},
    {"legacy: issuer aud", "legacy", K_ES256},
    /* sub */
    {"no sub", "pk", K_ES256, .sub = OMIT, .tag = "OAS06204"},
    {"sub not a string", "pk", K_ES256, .sub = "42", .tag = "OAS06203"},
    {"sub of an unknown client", "pk", K_ES256, .sub = "\"nobody\"", .tag = "OAS06205"},
    {"sub of another client", "pk", K_ES256, .sub = "\"sj\"", .tag = "OAS06208"},
    {"client_id that contradicts", "pk", K_ES256, .client_id = "sj", .tag = "OAS06206"},
    {"client without a JWT method", "sec", K_HS256, .tag = "OAS06207"},
    {"public client", "pub", K_ES256, .tag = "OAS06207"},
    /* iss */
    {"no iss", "pk", K_ES256, .iss = OMIT, .tag = "OAS06208"},
    {"iss of another client", "pk", K_ES256, .iss = "\"sj\"", .tag = "OAS06208"},
    {"iss not a string", "pk", K_ES256, .iss = "[\"pk\"]", .tag = "OAS06203"},
    /* aud */
    {"no aud", "pk", K_ES256, .aud = OMIT, .tag = "OAS06218"},
    {"aud an array", "pk", K_ES256, .aud = "[\"" ISS "\"]", .tag = "OAS06218"},
    {"aud the token endpoint", "pk", K_ES256, .aud = "\"" TOKEN_URL "\"", .tag = "OAS06218"},
    {"aud the PAR endpoint", "pk", K_ES256, .aud = "\"" ISS "/oauth/par\"", .tag = "OAS06218"},
    {"aud another server", "pk", K_ES256, .aud = "\"https://evil.test\"", .tag = "OAS06218"},
    {"aud with a trailing slash", "pk", K_ES256, .aud = "\"" ISS "/\"", .tag = "OAS06218"},
    {"aud in capitals", "pk", K_ES256, .aud = "\"HTTPS://AS.TEST\"", .tag = "OAS06218"},
    {"aud a number", "pk", K_ES256, .aud = "1", .tag = "OAS06203"},
    {"legacy: aud an array", "legacy", K_ES256, .aud = "[\"" TOKEN_URL "\"]", .tag = "OAS06218"},
    {"legacy: PAR endpoint", "legacy", K_ES256, .aud = "\"" ISS "/oauth/par\"", .tag = "OAS06218"},
    /* exp, iat, nbf */
    {"no exp", "pk", K_ES256, .exp = OMIT, .tag = "OAS06219"},
    {"exp a string", "pk", K_ES256, .exp = "\"soon\"", .tag = "OAS06203"},
    {"exp 5 min past", "pk", K_ES256, .iat = "-360", .exp = "-300", .tag = "OAS06220"},
    {"exp 11 s past", "pk", K_ES256, .iat = "-60", .exp = "-11", .tag = "OAS06220"},
    {"lifetime over 300 s", "pk", K_ES256, .iat = "-1", .exp = "+300", .tag = "OAS06220"},
    {"no iat, lifetime over 300 s", "pk", K_ES256, .iat = OMIT, .exp = "+301", .tag = "OAS06220"},
    {"nbf 70 s ahead", "pk", K_ES256, .nbf = "+70", .tag = "OAS06220"},
    {"iat 70 s ahead", "pk", K_ES256, .iat = "+70", .exp = "+120", .tag = "OAS06220"},
    {"nbf a string", "pk", K_ES256, .nbf = "\"now\"", .tag = "OAS06203"},
    {"iat null", "pk", K_ES256, .iat = "null", .tag = "OAS06203"},
    /* jti */
    {"no jti", "pk", K_ES256, .jti = OMIT, .tag = "OAS06221"},
    {"jti empty", "pk", K_ES256, .jti = "\"\"", .tag = "OAS06221"},
    {"jti a number", "pk", K_ES256, .jti = "7", .tag = "OAS06203"},
    /* typ */
    {"typ dpop+jwt", "pk", K_ES256, "dpop+jwt", .tag = "OAS06209"},
    {"typ oauth-authz-req+jwt", "pk", K_ES256, "oauth-authz-req+jwt", .tag = "OAS06209"},
    {"typ at+jwt", "pk", K_ES256, "at+jwt", .tag = "OAS06209"},
    {"typ logout+jwt", "pk", K_ES256, "logout+jwt", .tag = "OAS06209"},
    {"typ JOSE", "sj", K_HS256, "JOSE", .tag = "OAS06209"},
    /* keys and algorithms: no confusion */
    {"HS256 for a private_key_jwt client", "pk", K_HS256, .tag = "OAS06210"},
    {"ES256 for a client_secret_jwt client", "sj", K_ES256, .tag = "OAS06213"},
    {"HS256 with a wrong secret", "sj", K_HS_WRONG, .tag = "OAS06212"},
    {"a key the client did not register", "pk", K_STRANGER, .tag = "OAS06216"},
};

static void test_table(void **state)
{
    apr_pool_t *p = *state;
    env_t *env = make_env(p);
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const row_t *r = &rows[i];
        oas_ctx_t *x = engine_ctx(p, env->iss, ENGINE_SHM, tok_now());
        const char *a = sign(p, env, r->key, r->typ, payload_of(p, x->now, r, (int)i));
        const oas_client_t *c = NULL;
        oas_err_t err = {0};
        apr_status_t rv = oas_client_assertion_verify(&c, &err, x, a, r->client_id);

        if (!r->tag && rv != APR_SUCCESS)
            fail_msg("%s: refused (%s)", r->what, err.detail ? err.detail : "");
        if (r->tag) {
            if (rv == APR_SUCCESS)
                fail_msg("%s: accepted", r->what);
            if (err.status != 401 || strcmp(err.error, "invalid_client") || !err.detail ||
                strncmp(err.detail, r->tag, 8))
                fail_msg("%s: %d %s, detail %s (expected %s)", r->what, err.status, err.error,
                         err.detail ? err.detail : "", r->tag);
            /* the client learns nothing of which check failed */
            assert_string_equal(err.description, "client authentication failed");
            assert_null(c);
            /* and the log never quotes the assertion */
            assert_null(strstr(err.detail, a));
            assert_null(strstr(err.detail, strchr(a, '.') + 1));
        }
        else
            assert_string_equal(c->id, r->client);
    }
}

static const char *b64(apr_pool_t *p, const char *s)
{
    return oas_b64url_encode(p, (const unsigned char *)s, strlen(s));
}

/* Algorithms outside OAuthASClientSigningAlgs, a key of another alg under a kid, garbage. */
static void test_algs_and_garbage(void **state)
{
    apr_pool_t *p = *state;
    env_t *env = make_env(p);
    oas_ctx_t *x = engine_ctx(p, env->iss, ENGINE_SHM, tok_now());
    row_t r = {"", "pk", K_RS256};
    const oas_client_t *c;
    oas_err_t err;
    const char *a, *hdr, *body;
    char *huge;
    static const char *const garbage[] = {"",
                                          "abc",
                                          "a.b",
                                          "a.b.c.d",
                                          "!!!.e30.c2ln",
                                          "e30.e30.c2ln",             /* header without alg */
                                          "W10.e30.c2ln",             /* header an array */
                                          "eyJhbGciOiJub25lIn0.e30.", /* alg none, no sig */
                                          "eyJhbGciOiJub25lIn0.e30.c2ln"};
    size_t i;

    env->iss->client_signing_algs = OAS_ALGBIT(OAS_ALG_ES256) | OAS_ALGBIT(OAS_ALG_PS256);
    a = sign(p, env, K_RS256, NULL, payload_of(p, x->now, &r, 1));
    assert_int_equal(oas_client_assertion_verify(&c, &err, x, a, NULL), APR_EINVAL);
    assert_err(err, 401, "invalid_client", "OAS06214");
    env->iss->client_signing_algs = OAS_UNSET;

    /* an RS256 assertion whose kid names the ES256 key: no key of that kid may verify it */
    hdr = b64(p, "{\"alg\":\"RS256\",\"kid\":\"e1\"}");
    body = payload_of(p, x->now, &r, 2);
    a = sign(p, env, K_RS256, NULL, body);
    a = apr_pstrcat(p, hdr, strchr(a, '.'), NULL);
    assert_int_equal(oas_client_assertion_verify(&c, &err, x, a, NULL), APR_EINVAL);
    assert_err(err, 401, "invalid_client", "OAS06215");
    /* an unknown kid */
    hdr = b64(p, "{\"alg\":\"ES256\",\"kid\":\"zz\"}");
    a = sign(p, env, K_ES256, NULL, body);
    a = apr_pstrcat(p, hdr, strchr(a, '.'), NULL);
    assert_int_equal(oas_client_assertion_verify(&c, &err, x, a, NULL), APR_EINVAL);
    assert_err(err, 401, "invalid_client", "OAS06215");
    /* a payload changed after signing */
    a = sign(p, env, K_ES256, NULL, body);
    a = apr_pstrcat(p, apr_pstrndup(p, a, strchr(a, '.') - a + 1),
                    oas_b64url_encode(p, (const unsigned char *)payload_of(p, x->now, &r, 4),
                                      strlen(payload_of(p, x->now, &r, 4))),
                    strrchr(a, '.'), NULL);
    assert_int_equal(oas_client_assertion_verify(&c, &err, x, a, NULL), APR_EINVAL);
    assert_err(err, 401, "invalid_client", "OAS06216");
    for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
        assert_int_equal(oas_client_assertion_verify(&c, &err, x, garbage[i], NULL), APR_EINVAL);
        assert_err(err, 401, "invalid_client", "OAS06202");
        assert_null(oas_client_assertion_sub(p, garbage[i]));
    }
    huge = apr_palloc(p, OAS_ASSERTION_MAX_LEN + 2);
    memset(huge, 'a', OAS_ASSERTION_MAX_LEN + 1);
    huge[OAS_ASSERTION_MAX_LEN + 1] = '\0';
    assert_int_equal(oas_client_assertion_verify(&c, &err, x, huge, NULL), APR_EINVAL);
    assert_err(err, 401, "invalid_client", "OAS06201");
    assert_null(oas_client_assertion_sub(p, huge));
    /* a jti over 256 bytes */
    r.key = K_ES256;
    r.jti = apr_psprintf(p, "\"%0257d\"", 1);
    a = sign(p, env, K_ES256, NULL, payload_of(p, x->now, &r, 3));
    assert_int_equal(oas_client_assertion_verify(&c, &err, x, a, NULL), APR_EINVAL);
    assert_err(err, 401, "invalid_client", "OAS06222");
}

/* A jti is accepted once per client, on either store; another client may use the same jti;
 * a store that cannot record it refuses with 503, never accepts. */
static void test_replay(void **state)
{
    apr_pool_t *p = *state;
    env_t *env = make_env(p);
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        row_t pk = {"", "pk", K_EDDSA, .jti = "\"once\""};
        row_t sj = {"", "sj", K_HS256, .jti = "\"once\""};
        const char *a = sign(p, env, K_EDDSA, NULL, payload_of(p, x->now, &pk, 0));
        const char *b = sign(p, env, K_HS256, NULL, payload_of(p, x->now, &sj, 0));
        const oas_client_t *c;
        oas_err_t err;

        print_message("store %s\n", engine_store_names[k]);
        assert_int_equal(oas_client_assertion_verify(&c, &err, x, a, NULL), APR_SUCCESS);
        assert_int_equal(oas_client_assertion_verify(&c, &err, x, a, NULL), APR_EINVAL);
        assert_err(err, 401, "invalid_client", "OAS06217");
        assert_non_null(strstr(err.detail, "once"));
        /* the same jti, freshly signed, is still a replay */
        pk.key = K_ES256;
        a = sign(p, env, K_ES256, NULL, payload_of(p, x->now, &pk, 0));
        assert_int_equal(oas_client_assertion_verify(&c, &err, x, a, NULL), APR_EINVAL);
        assert_err(err, 401, "invalid_client", "OAS06217");
        /* another client's jti is its own */
        assert_int_equal(oas_client_assertion_verify(&c, &err, x, b, NULL), APR_SUCCESS);
        assert_string_equal(c->id, "sj");
        /* an assertion that fails before its signature burns no jti */
        pk.jti = "\"later\"";
        pk.aud = "\"https://evil.test\"";
        a = sign(p, env, K_ES256, NULL, payload_of(p, x->now, &pk, 0));
        assert_int_equal(oas_client_assertion_verify(&c, &err, x, a, NULL), APR_EINVAL);
        pk.aud = NULL;
        a = sign(p, env, K_ES256, NULL, payload_of(p, x->now, &pk, 0));
        assert_int_equal(oas_client_assertion_verify(&c, &err, x, a, NULL), APR_SUCCESS);
        /* a full store or a failing backend: 503 with Retry-After, never a silent accept */
        pk.jti = "\"full\"";
        a = sign(p, env, K_ES256, NULL, payload_of(p, x->now, &pk, 0));
        tok_fail(x, OAS_NS_ASSERTION, APR_ENOSPC);
        assert_int_not_equal(oas_client_assertion_verify(&c, &err, x, a, NULL), APR_SUCCESS);
        assert_int_equal(err.status, 503);
        assert_true(err.retry_after > 0);
        assert_null(c);
        tok_fail(x, OAS_NS_ASSERTION, APR_EGENERAL);
        assert_int_not_equal(oas_client_assertion_verify(&c, &err, x, a, NULL), APR_SUCCESS);
        assert_int_equal(err.status, 503);
    }
}

/* oas_client_authenticate: one method per request, the assertion type, and the brake. */
static void test_methods(void **state)
{
    apr_pool_t *p = *state;
    env_t *env = make_env(p);
    oas_ctx_t *x = engine_ctx(p, env->iss, ENGINE_SQLITE, tok_now());
    row_t r = {"", "pk", K_ES256};
    const char *a = sign(p, env, K_ES256, NULL, payload_of(p, x->now, &r, 0));
    apr_table_t *f = apr_table_make(p, 4);
    const oas_client_t *c;
    oas_err_t err;

    assert_int_equal(oas_client_auth_init(p), APR_SUCCESS);
    apr_table_set(f, "client_assertion", a);
    /* the type is missing, then wrong */
    assert_int_equal(oas_client_authenticate(&c, &err, x, 0, NULL, NULL, f), APR_EINVAL);
    assert_err(err, 400, "invalid_request", NULL);
    apr_table_set(f, "client_assertion_type",
                  "urn:ietf:params:oauth:client-assertion-type:saml2-bearer");
    assert_int_equal(oas_client_authenticate(&c, &err, x, 0, NULL, NULL, f), APR_EINVAL);
    assert_err(err, 400, "invalid_request", NULL);
    apr_table_set(f, "client_assertion_type", OAS_ASSERTION_TYPE);
    /* with Basic, or with a client_secret: two methods */
    assert_int_equal(oas_client_authenticate(&c, &err, x, 1, "pk", "x", f), APR_EINVAL);
    assert_err(err, 400, "invalid_request", NULL);
    apr_table_set(f, "client_secret", "x");
    assert_int_equal(oas_client_authenticate(&c, &err, x, 0, NULL, NULL, f), APR_EINVAL);
    assert_err(err, 400, "invalid_request", NULL);
    apr_table_unset(f, "client_secret");
    /* the brake counts a failed assertion against the client it claims to be */
    env->iss->authfail_limit = 5;
    assert_ptr_equal(oas_authfail_client(x, 0, NULL, f),
                     oas_issuer_client(env->iss, "pk"));
    env->iss->authfail_limit = OAS_UNSET;
    assert_int_equal(oas_client_authenticate(&c, &err, x, 0, NULL, NULL, f), APR_SUCCESS);
    assert_string_equal(c->id, "pk");
    /* a type without an assertion */
    apr_table_unset(f, "client_assertion");
    assert_int_equal(oas_client_authenticate(&c, &err, x, 0, NULL, NULL, f), APR_EINVAL);
    assert_err(err, 400, "invalid_request", NULL);
    /* a private_key_jwt client that sends no assertion: not authenticated */
    apr_table_clear(f);
    apr_table_set(f, "client_id", "pk");
    assert_int_equal(oas_client_authenticate(&c, &err, x, 0, NULL, NULL, f), APR_EINVAL);
    assert_err(err, 401, "invalid_client", "OAS03006");
    /* confidential without a secret: public only when the method is none */
    assert_false(oas_client_is_public(oas_issuer_client(env->iss, "pk")));
    assert_false(oas_client_is_public(oas_issuer_client(env->iss, "sj")));
    assert_true(oas_client_is_public(oas_issuer_client(env->iss, "pub")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_table),
        UNIT_TEST(test_algs_and_garbage),
        UNIT_TEST(test_replay),
        UNIT_TEST(test_methods),
    };
    return UNIT_RUN(tests);
}
