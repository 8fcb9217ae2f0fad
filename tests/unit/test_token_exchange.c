/* Unit tests: token exchange (oas_token_exchange.c): the policy of OAuthASTokenExchange lines,
 * scope narrowing, act nesting and may_act, and the grant on the engine's stores. */
#include "unit.h"

#include "engine_stores.h"
#include "oas_grant_code.h"
#include "oas_issue.h"
#include "oas_jose.h"
#include "oas_liveness.h"
#include "oas_mtls.h"
#include "oas_token_exchange.h"
#include "token_fixture.h"

#define TT_AT OAS_TOKEN_TYPE_ACCESS
#define TT_ID OAS_TOKEN_TYPE_PREFIX "id_token"

static void add_rule(apr_pool_t *p, oas_client_t *c, const char *subject, const char *aud)
{
    oas_exchange_rule_t *r = apr_pcalloc(p, sizeof(*r));

    r->subject = subject;
    r->audiences = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(r->audiences, const char *) = aud;
    if (!c->exchange)
        c->exchange = apr_array_make(p, 1, sizeof(oas_exchange_rule_t *));
    APR_ARRAY_PUSH(c->exchange, oas_exchange_rule_t *) = r;
    c->grant_types |= OAS_GRANT_EXCHANGE;
}

static void test_policy(void **state)
{
    apr_pool_t *p = *state;
    oas_client_t *c = oas_client_make(p, "rs");

    assert_int_equal(oas_exchange_allowed(c, "web", "urn:a"), OAS_XCHG_SUBJECT);
    add_rule(p, c, "web", "urn:a");
    assert_int_equal(oas_exchange_allowed(c, "web", "urn:a"), OAS_XCHG_OK);
    assert_int_equal(oas_exchange_allowed(c, "web", "urn:b"), OAS_XCHG_AUDIENCE);
    assert_int_equal(oas_exchange_allowed(c, "other", "urn:a"), OAS_XCHG_SUBJECT);
    assert_int_equal(oas_exchange_allowed(c, NULL, "urn:a"), OAS_XCHG_SUBJECT);
    /* a second line: * for another audience; lines add up, none widens another */
    add_rule(p, c, "*", "urn:b");
    assert_int_equal(oas_exchange_allowed(c, "other", "urn:b"), OAS_XCHG_OK);
    assert_int_equal(oas_exchange_allowed(c, "other", "urn:a"), OAS_XCHG_AUDIENCE);
    assert_int_equal(oas_exchange_allowed(c, "web", "urn:b"), OAS_XCHG_OK);
    assert_int_equal(oas_exchange_allowed(c, "web", NULL), OAS_XCHG_AUDIENCE);
}

static void test_scope(void **state)
{
    apr_pool_t *p = *state;
    oas_resource_t *r = oas_resource_make(p, "urn:a");
    const char *s, *bad;

    /* none asked: the subject's, less openid and offline_access */
    assert_int_equal(
        oas_exchange_scope(&s, &bad, p, "openid email api.read offline_access", NULL, NULL),
        APR_SUCCESS);
    assert_string_equal(s, "email api.read");
    /* narrowed to what the audience declares */
    r->scopes = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(r->scopes, const char *) = "api.read";
    assert_int_equal(oas_exchange_scope(&s, &bad, p, "openid email api.read", NULL, r),
                     APR_SUCCESS);
    assert_string_equal(s, "api.read");
    assert_int_equal(oas_exchange_scope(&s, &bad, p, "email", NULL, r), APR_SUCCESS);
    assert_string_equal(s, "");
    /* asked: a subset of both */
    assert_int_equal(oas_exchange_scope(&s, &bad, p, "email api.read", "api.read", r), APR_SUCCESS);
    assert_string_equal(s, "api.read");
    /* never wider: outside the subject's, outside the audience's, openid */
    assert_int_equal(oas_exchange_scope(&s, &bad, p, "email", "api.read", NULL), APR_EINVAL);
    assert_string_equal(bad, "api.read");
    assert_int_equal(oas_exchange_scope(&s, &bad, p, "email api.read", "email", r), APR_EINVAL);
    assert_string_equal(bad, "email");
    assert_int_equal(oas_exchange_scope(&s, &bad, p, "openid email", "openid", NULL), APR_EINVAL);
    assert_string_equal(bad, "openid");
    assert_int_equal(oas_exchange_scope(&s, &bad, p, NULL, "email", NULL), APR_EINVAL);
    /* a repeated scope once */
    assert_int_equal(oas_exchange_scope(&s, &bad, p, "email", "email email", NULL), APR_SUCCESS);
    assert_string_equal(s, "email");
}

static void test_act(void **state)
{
    apr_pool_t *p = *state;
    json_t *prior, *chain;
    const char *a;
    int i;

    assert_string_equal(oas_exchange_act(p, "svc-a", NULL), "{\"sub\":\"svc-a\"}");
    /* the subject token's act becomes the prior actor, nested (RFC 8693 §4.1) */
    assert_int_equal(oas_json_parse(&prior, p, "{\"sub\":\"svc-a\"}", 15), APR_SUCCESS);
    a = oas_exchange_act(p, "svc-b", prior);
    assert_string_equal(a, "{\"sub\":\"svc-b\",\"act\":{\"sub\":\"svc-a\"}}");
    /* a chain as long as allowed, then one more */
    chain = prior;
    for (i = 2; i < OAS_EXCHANGE_MAX_ACT; i++) {
        a = oas_exchange_act(p, "svc", chain);
        assert_non_null(a);
        assert_int_equal(oas_json_parse(&chain, p, a, strlen(a)), APR_SUCCESS);
    }
    assert_non_null(oas_exchange_act(p, "svc", chain));
    a = oas_exchange_act(p, "svc", chain);
    assert_int_equal(oas_json_parse(&chain, p, a, strlen(a)), APR_SUCCESS);
    assert_null(oas_exchange_act(p, "svc", chain));
    /* no actor, or a prior act that is not an object */
    assert_null(oas_exchange_act(p, NULL, NULL));
    assert_null(oas_exchange_act(p, "svc", json_object_get(prior, "sub")));
}

static void test_may_act(void **state)
{
    apr_pool_t *p = *state;
    json_t *c;

    assert_int_equal(oas_json_parse(&c, p, "{\"sub\":\"alice\"}", 15), APR_SUCCESS);
    assert_true(oas_exchange_may_act(c, "anyone"));
    assert_int_equal(
        oas_json_parse(&c, p, "{\"sub\":\"alice\",\"may_act\":{\"sub\":\"svc-a\"}}", 41),
        APR_SUCCESS);
    assert_true(oas_exchange_may_act(c, "svc-a"));
    assert_false(oas_exchange_may_act(c, "svc-b"));
    assert_false(oas_exchange_may_act(c, NULL));
}

/* conf2 may exchange conf1's tokens for urn:api; conf1 has no line */
static apr_table_t *form(apr_pool_t *p, const char *subject, const char *type)
{
    apr_table_t *f = apr_table_make(p, 8);

    apr_table_set(f, "grant_type", OAS_GRANT_TYPE_EXCHANGE);
    if (subject)
        apr_table_set(f, "subject_token", subject);
    if (type)
        apr_table_set(f, "subject_token_type", type);
    apr_table_set(f, "audience", "urn:api");
    return f;
}

static void test_grant(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    oas_ctx_t *x = engine_ctx(p, env->iss, ENGINE_SHM, tok_now());
    const char *at, *body, *nat;
    apr_table_t *f;
    json_t *c;
    oas_err_t e;

    add_rule(p, env->conf2, "conf1", "urn:api");
    tok_exchange(x, env, env->conf1, "openid email api.read", &at);
    /* success: the subject's scope less openid, for urn:api, to conf2, no refresh token */
    assert_int_equal(oas_issue_request(&body, &e, x, env->conf2, form(p, at, TT_AT)), APR_SUCCESS);
    assert_string_equal(tok_member(p, body, "issued_token_type"), TT_AT);
    assert_string_equal(tok_member(p, body, "token_type"), "Bearer");
    assert_string_equal(tok_member(p, body, "scope"), "email api.read");
    assert_null(tok_member(p, body, "refresh_token"));
    assert_null(tok_member(p, body, "id_token"));
    nat = tok_member(p, body, "access_token");
    assert_int_equal(oas_live_access(&c, NULL, NULL, x, nat), APR_SUCCESS);
    assert_string_equal(oas_json_str(c, "aud"), "urn:api");
    assert_string_equal(oas_json_str(c, "client_id"), "conf2");
    assert_string_equal(oas_json_str(c, "sub"), "alice");
    assert_null(json_object_get(c, "act"));
    assert_true(oas_json_int(c, "auth_time", 0) > 0);
    /* parameters */
    assert_int_equal(oas_issue_request(&body, &e, x, env->conf2, form(p, at, NULL)), APR_EINVAL);
    assert_err(e, 400, "invalid_request", "OAS07152");
    f = form(p, at, TT_AT);
    apr_table_set(f, "actor_token", at);
    assert_int_equal(oas_issue_request(&body, &e, x, env->conf2, f), APR_EINVAL);
    assert_err(e, 400, "invalid_request", "actor_token without");
    f = form(p, at, TT_AT);
    apr_table_unset(f, "audience");
    assert_int_equal(oas_issue_request(&body, &e, x, env->conf2, f), APR_EINVAL);
    assert_err(e, 400, "invalid_request", "no resource or audience");
    f = form(p, at, OAS_TOKEN_TYPE_PREFIX "refresh_token");
    assert_int_equal(oas_issue_request(&body, &e, x, env->conf2, f), APR_EINVAL);
    assert_err(e, 400, "invalid_request", "not exchanged here");
    /* policy: no line for the subject; an audience not allowed; a wider scope */
    env->conf1->grant_types |= OAS_GRANT_EXCHANGE;
    assert_int_equal(oas_issue_request(&body, &e, x, env->conf1, form(p, at, TT_AT)), APR_EINVAL);
    assert_err(e, 400, "invalid_request", "names client conf1");
    f = form(p, at, TT_AT);
    apr_table_set(f, "audience", "urn:other");
    assert_int_equal(oas_issue_request(&body, &e, x, env->conf2, f), APR_EINVAL);
    assert_err(e, 400, "invalid_target", NULL);
    f = form(p, at, TT_AT);
    apr_table_set(f, "scope", "email offline_access");
    assert_int_equal(oas_issue_request(&body, &e, x, env->conf2, f), APR_EINVAL);
    assert_err(e, 400, "invalid_scope", "scope offline_access");
    /* an ID token is no access token, and the reverse */
    assert_int_equal(oas_issue_request(&body, &e, x, env->conf2, form(p, nat, TT_ID)), APR_EINVAL);
    assert_err(e, 400, "invalid_request", "typ");
    /* revoked: the subject, and what was exchanged from it goes along (its grant) */
    assert_int_equal(oas_revoke_token(&e, x, env->conf1, at), APR_SUCCESS);
    assert_int_equal(oas_issue_request(&body, &e, x, env->conf2, form(p, at, TT_AT)), APR_EINVAL);
    assert_err(e, 400, "invalid_request", "revoked");
}

static void test_delegation(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    oas_ctx_t *x = engine_ctx(p, env->iss, ENGINE_SHM, tok_now());
    const char *at, *body, *actor, *other, *t1;
    apr_table_t *f;
    json_t *c;
    oas_err_t e;

    add_rule(p, env->conf2, "*", "urn:api");
    tok_exchange(x, env, env->conf1, "email", &at);
    assert_int_equal(oas_issue_client_credentials(&body, &e, x, env->conf2, "", form(p, 0, 0)),
                     APR_SUCCESS);
    actor = tok_member(p, body, "access_token");
    assert_int_equal(oas_issue_client_credentials(&body, &e, x, env->conf1, "", form(p, 0, 0)),
                     APR_SUCCESS);
    other = tok_member(p, body, "access_token");
    f = form(p, at, TT_AT);
    apr_table_set(f, "actor_token", actor);
    apr_table_set(f, "actor_token_type", TT_AT);
    assert_int_equal(oas_issue_request(&body, &e, x, env->conf2, f), APR_SUCCESS);
    t1 = tok_member(p, body, "access_token");
    assert_int_equal(oas_live_access(&c, NULL, NULL, x, t1), APR_SUCCESS);
    assert_string_equal(oas_json_dumps(p, json_object_get(c, "act"), 0), "{\"sub\":\"conf2\"}");
    /* again, from the delegated token: the chain nests */
    f = form(p, t1, TT_AT);
    apr_table_set(f, "actor_token", actor);
    apr_table_set(f, "actor_token_type", TT_AT);
    assert_int_equal(oas_issue_request(&body, &e, x, env->conf2, f), APR_SUCCESS);
    assert_int_equal(oas_live_access(&c, NULL, NULL, x, tok_member(p, body, "access_token")),
                     APR_SUCCESS);
    assert_string_equal(oas_json_dumps(p, json_object_get(c, "act"), 0),
                        "{\"sub\":\"conf2\",\"act\":{\"sub\":\"conf2\"}}");
    /* impersonation from the delegated token keeps its act */
    assert_int_equal(oas_issue_request(&body, &e, x, env->conf2, form(p, t1, TT_AT)), APR_SUCCESS);
    assert_int_equal(oas_live_access(&c, NULL, NULL, x, tok_member(p, body, "access_token")),
                     APR_SUCCESS);
    assert_string_equal(oas_json_dumps(p, json_object_get(c, "act"), 0), "{\"sub\":\"conf2\"}");
    /* an actor token of another client */
    f = form(p, at, TT_AT);
    apr_table_set(f, "actor_token", other);
    apr_table_set(f, "actor_token_type", TT_AT);
    assert_int_equal(oas_issue_request(&body, &e, x, env->conf2, f), APR_EINVAL);
    assert_err(e, 400, "invalid_request", "actor token of another client");
}

static const oas_cert_t cert_a = {.x5t = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"};
static const oas_cert_t cert_b = {.x5t = "LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564"};

/* A bound subject token is exchanged by its holder only: DPoP key, then certificate. */
static void test_bound(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    oas_ctx_t *x = engine_ctx(p, env->iss, ENGINE_SHM, tok_now());
    const char *at, *body;
    oas_err_t e;

    add_rule(p, env->conf2, "conf1", "urn:api");
    x->dpop_jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
    tok_exchange(x, env, env->conf1, "email", &at);
    /* the caller without the key's proof, with another key, with the key */
    x->dpop_jkt = NULL;
    assert_int_equal(oas_issue_request(&body, &e, x, env->conf2, form(p, at, TT_AT)), APR_EINVAL);
    assert_err(e, 400, "invalid_request", "DPoP-bound");
    x->dpop_jkt = "another-key-thumbprint-000000000000000000000";
    assert_int_equal(oas_issue_request(&body, &e, x, env->conf2, form(p, at, TT_AT)), APR_EINVAL);
    x->dpop_jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
    assert_int_equal(oas_issue_request(&body, &e, x, env->conf2, form(p, at, TT_AT)), APR_SUCCESS);
    assert_string_equal(tok_member(p, body, "token_type"), "DPoP");
    /* certificate-bound: the connection presents the token's own certificate */
    x->dpop_jkt = NULL;
    env->conf1->cert_bound = 1;
    x->cert = &cert_a;
    tok_exchange(x, env, env->conf1, "email", &at);
    /* a connection without a certificate, with another one, with the token's own */
    x->cert = NULL;
    assert_int_equal(oas_issue_request(&body, &e, x, env->conf2, form(p, at, TT_AT)), APR_EINVAL);
    assert_err(e, 400, "invalid_request", "certificate-bound");
    x->cert = &cert_b;
    assert_int_equal(oas_issue_request(&body, &e, x, env->conf2, form(p, at, TT_AT)), APR_EINVAL);
    assert_err(e, 400, "invalid_request", "certificate-bound");
    x->cert = &cert_a;
    assert_int_equal(oas_issue_request(&body, &e, x, env->conf2, form(p, at, TT_AT)), APR_SUCCESS);
}

/* An access token of the issuer with may_act (we mint none: another issuance path could) */
static const char *may_act_token(oas_ctx_t *x, const char *who)
{
    const char *jwt,
        *claims = apr_psprintf(
            x->p,
            "{\"iss\":\"https://as.test\",\"sub\":\"alice\",\"aud\":\"https://as.test\","
            "\"client_id\":\"conf1\",\"scope\":\"email\",\"iat\":%" APR_INT64_T_FMT
            ",\"exp\":%" APR_INT64_T_FMT ",\"jti\":\"j-%s\",\"may_act\":{\"sub\":\"%s\"}}",
            x->now, x->now + 60, who, who);

    assert_int_equal(oas_jws_sign(&jwt, x->p, APR_ARRAY_IDX(x->iss->keys, 0, const oas_key_t *),
                                  "at+jwt", claims),
                     APR_SUCCESS);
    return jwt;
}

static void test_may_act_grant(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    oas_ctx_t *x = engine_ctx(p, env->iss, ENGINE_SHM, tok_now());
    const char *body;
    apr_table_t *f;
    oas_err_t e;

    add_rule(p, env->conf2, "conf1", "urn:api");
    assert_int_equal(
        oas_issue_request(&body, &e, x, env->conf2, form(p, may_act_token(x, "svc"), TT_AT)),
        APR_EINVAL);
    assert_err(e, 400, "invalid_request", "may_act names another actor than the client");
    assert_int_equal(
        oas_issue_request(&body, &e, x, env->conf2, form(p, may_act_token(x, "conf2"), TT_AT)),
        APR_SUCCESS);
    /* with an actor token: its sub must be the one named */
    assert_int_equal(oas_issue_client_credentials(&body, &e, x, env->conf2, "", form(p, 0, 0)),
                     APR_SUCCESS);
    f = form(p, may_act_token(x, "svc"), TT_AT);
    apr_table_set(f, "actor_token", tok_member(p, body, "access_token"));
    apr_table_set(f, "actor_token_type", TT_AT);
    assert_int_equal(oas_issue_request(&body, &e, x, env->conf2, f), APR_EINVAL);
    assert_err(e, 400, "invalid_request", "may_act does not name actor conf2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_policy),  UNIT_TEST(test_scope),         UNIT_TEST(test_act),
        UNIT_TEST(test_may_act), UNIT_TEST(test_grant),         UNIT_TEST(test_delegation),
        UNIT_TEST(test_bound),   UNIT_TEST(test_may_act_grant),
    };

    return UNIT_RUN(tests);
}
