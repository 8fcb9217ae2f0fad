/* An issuer with signing keys and its clients, for the token tests (test_token.c) and the
 * token engine's tests (test_grant_code.c, test_refresh.c, test_liveness.c): the engine's
 * clients, a code put in a store as /authorize would, a store that fails on one namespace,
 * and readers of the answers. Include after unit.h (and engine_stores.h for the engine). */
#ifndef OAS_TOKEN_FIXTURE_H
#define OAS_TOKEN_FIXTURE_H

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <unistd.h>

#include <apr_strings.h>

#include "oas_json.h"
#include "oas_keys.h"
#include "oas_token.h"

/* pk (freed) as a signing key of ours: through a PEM file and oas_key_load, with kid (NULL: the
 * thumbprint) and alg (-1: the key type's). */
static inline oas_key_t *gen_key_as(apr_pool_t *p, EVP_PKEY *pk, const char *kid, int alg)
{
    char path[] = "/tmp/oas-token-XXXXXX";
    int fd = mkstemp(path);
    BIO *bio = BIO_new_fd(fd, BIO_CLOSE);
    oas_key_t *k;
    const char *err;

    assert_int_equal(PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL), 1);
    BIO_free(bio);
    EVP_PKEY_free(pk);
    assert_int_equal(oas_key_load(&k, &err, p, path, kid, alg), APR_SUCCESS);
    unlink(path);
    return k;
}

static inline oas_key_t *gen_key(apr_pool_t *p, EVP_PKEY *pk)
{
    return gen_key_as(p, pk, NULL, -1);
}

/* "https://as.test" signing with P-256 (and RS256 ID tokens when rsa), the resource urn:api
 * (access tokens of 120 s). */
static inline oas_issuer_t *fixture_issuer(apr_pool_t *p, int rsa)
{
    oas_issuer_t *iss = oas_issuer_make(p);
    oas_resource_t *r = oas_resource_make(p, "urn:api");

    iss->issuer = "https://as.test";
    iss->keys = apr_array_make(p, 2, sizeof(oas_key_t *));
    APR_ARRAY_PUSH(iss->keys, oas_key_t *) = gen_key(p, EVP_EC_gen("P-256"));
    if (rsa)
        APR_ARRAY_PUSH(iss->keys, oas_key_t *) = gen_key(p, EVP_RSA_gen(2048));
    iss->id_token_key = APR_ARRAY_IDX(iss->keys, rsa ? 1 : 0, oas_key_t *);
    iss->at_ttl = 3600;
    iss->idt_ttl = 600;
    iss->rt_ttl = 86400;
    iss->resources = apr_hash_make(p);
    r->at_ttl = 120;
    apr_hash_set(iss->resources, r->id, APR_HASH_KEY_STRING, r);
    return iss;
}

static inline oas_client_t *fixture_client(apr_pool_t *p, const char *secret)
{
    oas_client_t *c = oas_client_make(p, "conf1");

    c->name = "Notes <b>App</b>";
    c->secret = secret;
    c->secret_hashed = secret && secret[0] == '$';
    c->auth_methods = secret ? OAS_AUTH_BASIC : OAS_AUTH_NONE;
    return c;
}

#ifdef OAS_ENGINE_STORES_H
#include "oas_ctx.h"

/* What the engine logged since tok_log_start(), one line each. */
static char tok_log[8192];

static inline int tok_log_all(void *baton, int level)
{
    return 1;
}

static inline void tok_log_print(const char *file, int line, int level, apr_status_t rv,
                                 void *baton, const char *msg)
{
    apr_size_t n = strlen(tok_log);
    apr_snprintf(tok_log + n, sizeof(tok_log) - n, "%s\n", msg);
}

static inline void tok_log_start(void)
{
    tok_log[0] = '\0';
    oas_log_set(tok_log_all, tok_log_print);
}

/* The engine's world: conf1 (confidential, no rotation), conf2 (confidential, rotation:
 * retries within the grace), pub1 (public: rotation, never a grace); every client may use
 * the three grants and ask for openid, offline_access, email and api.read, and for urn:api. */
typedef struct {
    oas_issuer_t *iss;
    oas_client_t *conf1, *conf2, *pub1;
} tok_env_t;

static inline oas_client_t *env_client(apr_pool_t *p, tok_env_t *env, const char *id,
                                       const char *secret, int rotation)
{
    oas_client_t *c = fixture_client(p, secret);
    static const char *const scopes[] = {"openid", "offline_access", "email", "api.read"};
    int i;

    c->id = id;
    c->grant_types = OAS_GRANT_CODE | OAS_GRANT_REFRESH | OAS_GRANT_CC;
    c->rt_rotation = rotation;
    c->scopes = apr_array_make(p, 4, sizeof(const char *));
    for (i = 0; i < 4; i++)
        APR_ARRAY_PUSH(c->scopes, const char *) = scopes[i];
    c->audiences = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(c->audiences, const char *) = "urn:api";
    apr_hash_set(env->iss->clients, id, APR_HASH_KEY_STRING, c);
    return c;
}

static inline tok_env_t *tok_env(apr_pool_t *p)
{
    tok_env_t *env = apr_pcalloc(p, sizeof(*env));

    env->iss = fixture_issuer(p, 0);
    env->iss->code_ttl = 60;
    env->iss->rt_grace = 30;
    env->iss->clients = apr_hash_make(p);
    env->conf1 = env_client(p, env, "conf1", "s1", 0);
    env->conf2 = env_client(p, env, "conf2", "s2", 1);
    env->pub1 = env_client(p, env, "pub1", NULL, 1);
    return env;
}

/* The engine's clock is the stores' clock: they expire entries by the real time. */
static inline apr_int64_t tok_now(void)
{
    return apr_time_sec(apr_time_now());
}

/* A verifier and its S256 challenge (RFC 7636 Appendix B). */
#define TOK_VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define TOK_CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

/* The grant an authorization request of c for scope gives (redirect_uri sent, PKCE S256,
 * the user's email among the claims). */
static inline oas_grant_t *tok_grant(apr_pool_t *p, const tok_env_t *env, const oas_client_t *c,
                                     const char *scope)
{
    oas_grant_t *g = apr_pcalloc(p, sizeof(*g));

    g->iss = env->iss->issuer;
    g->client_id = c->id;
    g->sub = "alice";
    g->scope = scope;
    g->nonce = "N1";
    g->redirect_uri = "https://rp.test/cb";
    g->redirect_uri_sent = 1;
    g->code_challenge = TOK_CHALLENGE;
    g->auth_time = tok_now();
    g->claims_json = "{\"email\":\"alice@example.org\"}";
    return g;
}

/* An answer (a JSON object text) parsed. */
static inline json_t *tok_json(apr_pool_t *p, const char *body)
{
    json_t *j;

    assert_int_equal(oas_json_parse(&j, p, body, strlen(body)), APR_SUCCESS);
    return j;
}

/* A string member of an answer (NULL when absent). */
static inline const char *tok_member(apr_pool_t *p, const char *body, const char *key)
{
    return oas_json_str(tok_json(p, body), key);
}

/* Puts code for grant g in x's short-lived store, living ttl seconds (as /authorize does). */
static inline void tok_put_code(oas_ctx_t *x, const char *code, const oas_grant_t *g, int ttl)
{
    const char *json;

    assert_int_equal(oas_grant_to_json(&json, x->p, g), APR_SUCCESS);
    assert_int_equal(oas_store_put(x->store[OAS_CTX_SHORT], x->p, OAS_NS_CODE, code, json,
                                   strlen(json), apr_time_from_sec(x->now + ttl)),
                     APR_SUCCESS);
}

#ifdef OAS_GRANT_CODE_H
/* One code exchange of client c for scope, as a client gets its tokens: the refresh token
 * (NULL without offline_access), and the access token in *pat when pat is given. */
static inline const char *tok_exchange(oas_ctx_t *x, const tok_env_t *env, const oas_client_t *c,
                                       const char *scope, const char **pat)
{
    const char *body;
    oas_err_t e;

    tok_put_code(x, "C1", tok_grant(x->p, env, c, scope), 60);
    assert_int_equal(
        oas_grant_code_redeem(&body, &e, x, c, "C1", TOK_VERIFIER, "https://rp.test/cb"),
        APR_SUCCESS);
    if (pat)
        *pat = tok_member(x->p, body, "access_token");
    return tok_member(x->p, body, "refresh_token");
}
#endif

/* The jti of an access token this issuer signed. */
static inline const char *tok_jti(oas_ctx_t *x, const char *at)
{
    json_t *c;

    assert_int_equal(oas_token_verify_access(&c, x->p, x->iss, at, x->now), APR_SUCCESS);
    return oas_json_str(c, "jti");
}

/* A store that fails: every put, put_new and take into namespace ns answers rv, the rest
 * goes to the store below. */
typedef struct {
    oas_store_t st;
    oas_store_t *below;
    int ns;
    apr_status_t rv;
} tok_failing_t;

static inline apr_status_t failing_put(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                                       apr_size_t klen, const void *val, apr_size_t vlen,
                                       apr_time_t expires)
{
    tok_failing_t *f = st->ctx;
    return ns == f->ns ? f->rv : f->below->put(f->below, p, ns, key, klen, val, vlen, expires);
}

static inline apr_status_t failing_put_new(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                                           apr_size_t klen, const void *val, apr_size_t vlen,
                                           apr_time_t expires)
{
    tok_failing_t *f = st->ctx;
    return ns == f->ns ? f->rv : f->below->put_new(f->below, p, ns, key, klen, val, vlen, expires);
}

static inline apr_status_t failing_get(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                                       apr_size_t klen, char **pval, apr_size_t *plen)
{
    tok_failing_t *f = st->ctx;
    return f->below->get(f->below, p, ns, key, klen, pval, plen);
}

static inline apr_status_t failing_take(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                                        apr_size_t klen, char **pval, apr_size_t *plen)
{
    tok_failing_t *f = st->ctx;
    return ns == f->ns ? f->rv : f->below->take(f->below, p, ns, key, klen, pval, plen);
}

static inline apr_status_t failing_del(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                                       apr_size_t klen)
{
    tok_failing_t *f = st->ctx;
    return f->below->del(f->below, p, ns, key, klen);
}

/* From now on both of x's stores fail on namespace ns with rv. */
static inline void tok_fail(oas_ctx_t *x, int ns, apr_status_t rv)
{
    tok_failing_t *f = apr_pcalloc(x->p, sizeof(*f));

    f->below = x->store[OAS_CTX_LONG];
    f->ns = ns;
    f->rv = rv;
    f->st.name = "failing";
    f->st.ctx = f;
    f->st.put = failing_put;
    f->st.put_new = failing_put_new;
    f->st.get = failing_get;
    f->st.take = failing_take;
    f->st.del = failing_del;
    x->store[OAS_CTX_SHORT] = x->store[OAS_CTX_LONG] = &f->st;
}

/* Checks an error value: status, error code and a piece of its log detail (NULL: any). */
static inline void assert_err(oas_err_t e, int status, const char *error, const char *in_detail)
{
    assert_int_equal(e.status, status);
    assert_string_equal(e.error, error);
    if (in_detail && (!e.detail || !strstr(e.detail, in_detail)))
        fail_msg("detail \"%s\" lacks \"%s\"", e.detail ? e.detail : "", in_detail);
}
#endif

#endif
