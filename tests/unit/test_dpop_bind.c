/* Unit tests: DPoP binding in the engine (RFC 9449 §5, §6, §7, §10), each case on the shm
 * store and on the sqlite store: the key of the request's proof (x->dpop_jkt, which
 * oas_dpop_at_as sets) binds the access token (cnf.jkt, token_type DPoP) for every grant; a
 * code bound by dpop_jkt or a PAR proof, and a public client's refresh family, need a proof
 * of that key, and a request without one neither spends the code nor revokes the family;
 * introspection's cnf; userinfo's scheme rules; OAuthASDPoP Off and Required before any proof
 * is looked at. The proof's own checks are test_dpop.c's. */
#include "unit.h"

#include "engine_stores.h"
#include "oas_dpop_endpoint.h"
#include "oas_dpop_nonce.h"
#include "oas_grant_code.h"
#include "oas_issue.h"
#include "oas_liveness.h"
#include "oas_par_record.h"
#include "oas_refresh.h"
#include "token_fixture.h"

/* Two RFC 7638 thumbprints (43 base64url characters) */
#define JKT_A "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
#define JKT_B "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

/* The claims of the access token of a 200 answer. */
static json_t *at_claims(oas_ctx_t *x, const char *body)
{
    json_t *c;

    assert_int_equal(
        oas_token_verify_access(&c, x->p, x->iss, tok_member(x->p, body, "access_token"), x->now),
        APR_SUCCESS);
    return c;
}

/* The answer's token type and its access token's binding agree: DPoP with cnf.jkt jkt, or
 * Bearer without cnf (jkt NULL). */
static void assert_bound(oas_ctx_t *x, const char *body, const char *jkt)
{
    json_t *c = at_claims(x, body);

    assert_string_equal(tok_member(x->p, body, "token_type"), jkt ? "DPoP" : "Bearer");
    if (jkt)
        assert_string_equal(oas_dpop_token_jkt(c), jkt);
    else
        assert_null(json_object_get(c, "cnf"));
}

static apr_status_t redeem(const char **pbody, oas_err_t *e, oas_ctx_t *x, const oas_client_t *c)
{
    return oas_grant_code_redeem(pbody, e, x, c, "C1", TOK_VERIFIER, "https://rp.test/cb");
}

/* A code bound to key A: no proof, or a proof of B, is invalid_grant and leaves the code as
 * it was; a proof of A redeems it and binds the access token. An unbound code takes the
 * request's key; no proof gives Bearer tokens. */
static void test_code_binding(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body;
    oas_grant_t *g;
    oas_err_t e;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        g = tok_grant(p, env, env->conf1, "openid");
        g->dpop_jkt = JKT_A;
        tok_put_code(x, "C1", g, 60);
        assert_int_equal(redeem(&body, &e, x, env->conf1), APR_EINVAL);
        assert_err(e, 400, "invalid_grant",
                   "OAS06450: code of client conf1: bound to a DPoP "
                   "key, redeemed without a proof");
        x->dpop_jkt = JKT_B;
        assert_int_equal(redeem(&body, &e, x, env->conf1), APR_EINVAL);
        assert_err(e, 400, "invalid_grant", "redeemed with a proof of another key");
        x->dpop_jkt = JKT_A;
        assert_int_equal(redeem(&body, &e, x, env->conf1), APR_SUCCESS);
        assert_bound(x, body, JKT_A);

        x = engine_ctx(p, env->iss, k, tok_now());
        tok_put_code(x, "C1", tok_grant(p, env, env->conf1, "openid"), 60);
        x->dpop_jkt = JKT_B;
        assert_int_equal(redeem(&body, &e, x, env->conf1), APR_SUCCESS);
        assert_bound(x, body, JKT_B);

        x = engine_ctx(p, env->iss, k, tok_now());
        tok_put_code(x, "C1", tok_grant(p, env, env->conf1, "openid"), 60);
        assert_int_equal(redeem(&body, &e, x, env->conf1), APR_SUCCESS);
        assert_bound(x, body, NULL);
    }
}

/* A public client's family is bound to the key of the code exchange's proof: a refresh
 * without it, or with another key, is invalid_grant and revokes nothing; with it the family
 * rotates and the new access token is bound. A confidential client's family is not bound:
 * each refresh binds its access token to that request's key, or none. */
static void test_refresh_binding(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body, *rt, *at;
    oas_grant_t *g;
    oas_err_t e;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        x->dpop_jkt = JKT_A;
        rt = tok_exchange(x, env, env->pub1, "openid offline_access", &at);
        assert_int_equal(oas_live_refresh(&g, x, rt), APR_SUCCESS);
        assert_string_equal(g->dpop_jkt, JKT_A);
        x->dpop_jkt = NULL;
        tok_log_start();
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->pub1, rt, NULL), APR_EINVAL);
        assert_err(e, 400, "invalid_grant",
                   "OAS06451: refresh token of client pub1: bound to a "
                   "DPoP key, presented without a proof");
        x->dpop_jkt = JKT_B;
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->pub1, rt, NULL), APR_EINVAL);
        assert_err(e, 400, "invalid_grant", "with a proof of another key");
        oas_log_set(NULL, NULL);
        assert_null(strstr(tok_log, "OAS00134")); /* nothing revoked */
        assert_int_equal(oas_live_refresh(&g, x, rt), APR_SUCCESS);
        {
            json_t *c;
            assert_int_equal(oas_live_access(&c, NULL, NULL, x, at), APR_SUCCESS);
        }
        x->dpop_jkt = JKT_A;
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->pub1, rt, NULL), APR_SUCCESS);
        assert_bound(x, body, JKT_A);
        /* the rotated family keeps its binding */
        rt = tok_member(p, body, "refresh_token");
        x->dpop_jkt = NULL;
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->pub1, rt, NULL), APR_EINVAL);
        assert_err(e, 400, "invalid_grant", "OAS06451");

        /* confidential: the family is not bound, each refresh binds to its own proof */
        x = engine_ctx(p, env->iss, k, tok_now());
        x->dpop_jkt = JKT_A;
        rt = tok_exchange(x, env, env->conf1, "openid offline_access", NULL);
        assert_int_equal(oas_live_refresh(&g, x, rt), APR_SUCCESS);
        assert_null(g->dpop_jkt);
        x->dpop_jkt = JKT_B;
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->conf1, rt, NULL), APR_SUCCESS);
        assert_bound(x, body, JKT_B);
        x->dpop_jkt = NULL;
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->conf1, rt, NULL), APR_SUCCESS);
        assert_bound(x, body, NULL);
    }
}

/* client_credentials: bound to the request's key, Bearer without one. */
static void test_client_credentials(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body;
    oas_err_t e;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        x->dpop_jkt = JKT_A;
        assert_int_equal(oas_issue_client_credentials(&body, &e, x, env->conf1, "api.read",
                                                      apr_table_make(p, 1)),
                         APR_SUCCESS);
        assert_bound(x, body, JKT_A);
        x->dpop_jkt = NULL;
        assert_int_equal(oas_issue_client_credentials(&body, &e, x, env->conf1, "api.read",
                                                      apr_table_make(p, 1)),
                         APR_SUCCESS);
        assert_bound(x, body, NULL);
    }
}

/* RFC 9449 §6.2: introspection says how a token is bound. */
static void test_introspection(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *at;
    json_t *j;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        x->dpop_jkt = JKT_A;
        tok_exchange(x, env, env->conf1, "openid", &at);
        j = tok_json(p, oas_introspect(x, env->conf1, at));
        assert_true(json_is_true(json_object_get(j, "active")));
        assert_string_equal(oas_json_str(j, "token_type"), "DPoP");
        assert_string_equal(oas_json_str(json_object_get(j, "cnf"), "jkt"), JKT_A);

        x->dpop_jkt = NULL;
        tok_exchange(x, env, env->conf1, "openid", &at);
        j = tok_json(p, oas_introspect(x, env->conf1, at));
        assert_string_equal(oas_json_str(j, "token_type"), "Bearer");
        assert_null(json_object_get(j, "cnf"));
    }
}

/* The pushed request of pub1 (a redirect URI registered), with dpop_jkt when given. */
static apr_table_t *par_form(apr_pool_t *p, const char *dpop_jkt)
{
    apr_table_t *f = apr_table_make(p, 8);

    apr_table_set(f, "response_type", "code");
    apr_table_set(f, "redirect_uri", "https://rp.test/cb");
    apr_table_set(f, "scope", "openid");
    apr_table_set(f, "code_challenge", TOK_CHALLENGE);
    apr_table_set(f, "code_challenge_method", "S256");
    if (dpop_jkt)
        apr_table_set(f, "dpop_jkt", dpop_jkt);
    return f;
}

/* The dpop_jkt a pushed request keeps for /authorize (NULL: none). */
static const char *pushed_jkt(oas_ctx_t *x, const char *token)
{
    apr_table_t *params;
    const char *ru;
    oas_err_t e;

    assert_int_equal(oas_par_load(&params, &ru, x, &e,
                                  apr_pstrcat(x->p, OAS_REQUEST_URI_PREFIX, token, NULL), "pub1"),
                     APR_SUCCESS);
    return apr_table_get(params, "dpop_jkt");
}

/* RFC 9449 §10.1: a proof at PAR implies dpop_jkt; both must name the same key; dpop_jkt
 * alone binds; a malformed one is refused; OAuthASDPoP Off ignores it. */
static void test_par(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *token;
    oas_err_t e;
    int k;

    env->pub1->redirect_uris = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(env->pub1->redirect_uris, const char *) = "https://rp.test/cb";
    env->pub1->require_pkce = 1;
    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        x->dpop_jkt = JKT_A;
        assert_int_equal(oas_par_push(&token, x, &e, env->pub1, par_form(p, JKT_B)), APR_EINVAL);
        assert_err(e, 400, "invalid_request", "OAS06452");
        assert_int_equal(oas_par_push(&token, x, &e, env->pub1, par_form(p, JKT_A)), APR_SUCCESS);
        assert_string_equal(pushed_jkt(x, token), JKT_A);
        assert_int_equal(oas_par_push(&token, x, &e, env->pub1, par_form(p, NULL)), APR_SUCCESS);
        assert_string_equal(pushed_jkt(x, token), JKT_A);
        x->dpop_jkt = NULL;
        assert_int_equal(oas_par_push(&token, x, &e, env->pub1, par_form(p, JKT_B)), APR_SUCCESS);
        assert_string_equal(pushed_jkt(x, token), JKT_B);
        assert_int_equal(oas_par_push(&token, x, &e, env->pub1, par_form(p, NULL)), APR_SUCCESS);
        assert_null(pushed_jkt(x, token));
        assert_int_equal(oas_par_push(&token, x, &e, env->pub1, par_form(p, "short")), APR_EINVAL);
        assert_err(e, 400, "invalid_request", NULL);
        assert_string_equal(e.description, "malformed dpop_jkt");
    }
}

/* /authorize: dpop_jkt reaches the code's grant; where DPoP is off it is ignored. */
static void test_authorize_dpop_jkt(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    oas_authz_req_t *req;
    oas_pending_t pd;
    oas_err_t e;
    apr_table_t *f;
    oas_ctx_t *x = engine_ctx(p, env->iss, ENGINE_SHM, tok_now());

    env->pub1->redirect_uris = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(env->pub1->redirect_uris, const char *) = "https://rp.test/cb";
    env->pub1->require_pkce = 1;
    f = par_form(p, JKT_A);
    apr_table_set(f, "client_id", "pub1");
    assert_int_equal(oas_authz_validate(&req, &e, p, env->iss, f, NULL, OAS_AUTHZ_FRONT),
                     APR_SUCCESS);
    assert_string_equal(req->dpop_jkt, JKT_A);
    x->user = "alice";
    assert_int_equal(oas_authz_pending(&pd, x, &e, req, NULL, tok_now()), APR_SUCCESS);
    assert_string_equal(pd.grant->dpop_jkt, JKT_A);
    env->pub1->dpop = OAS_DPOP_OFF;
    apr_table_set(f, "dpop_jkt", "malformed");
    assert_int_equal(oas_authz_validate(&req, &e, p, env->iss, f, NULL, OAS_AUTHZ_FRONT),
                     APR_SUCCESS);
    assert_null(req->dpop_jkt);
}

/* What OAuthASDPoP decides before a proof is looked at: Off ignores the header (even a
 * garbage one), Required refuses a token request without one (not a push), Allowed lets it
 * go unbound; with nonces on, a fresh nonce is offered. */
static void test_at_as_modes(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    oas_dpop_req_t in = {"garbage", 1, "POST", NULL, NULL, 0, 0, NULL};
    oas_dpop_req_t none = {NULL, 0, "POST", NULL, NULL, 0, 0, NULL};
    oas_dpop_nonce_key_t *nk;
    const char *nonce;
    oas_err_t e;
    oas_ctx_t *x = engine_ctx(p, env->iss, ENGINE_SHM, tok_now());

    env->iss->issuer_origin = "https://as.test";
    env->iss->endpoints[OAS_EP_TOKEN] = "/token";
    env->iss->endpoints[OAS_EP_PAR] = "/par";
    env->conf1->dpop = OAS_DPOP_OFF;
    x->dpop_jkt = JKT_A;
    assert_int_equal(oas_dpop_at_as(&nonce, &e, x, env->conf1, &in, OAS_EP_TOKEN), APR_SUCCESS);
    assert_null(x->dpop_jkt);
    assert_null(nonce);
    env->conf1->dpop = OAS_DPOP_REQUIRED;
    assert_int_equal(oas_dpop_at_as(&nonce, &e, x, env->conf1, &none, OAS_EP_TOKEN), APR_EINVAL);
    assert_err(e, 400, "invalid_dpop_proof", "OAS06453: client conf1 sent no DPoP proof");
    /* Required is about tokens: a push without a proof goes on */
    assert_int_equal(oas_dpop_at_as(&nonce, &e, x, env->conf1, &none, OAS_EP_PAR), APR_SUCCESS);
    assert_null(x->dpop_jkt);
    env->conf1->dpop = OAS_UNSET; /* the server's: Allowed */
    assert_int_equal(oas_dpop_at_as(&nonce, &e, x, env->conf1, &none, OAS_EP_TOKEN), APR_SUCCESS);
    assert_null(x->dpop_jkt);
    assert_null(nonce);
    assert_int_equal(
        oas_dpop_nonce_key(&nk, p, APR_ARRAY_IDX(env->iss->keys, 0, oas_key_t *), env->iss->issuer),
        APR_SUCCESS);
    env->iss->dpop_nonce_key = nk;
    env->conf1->dpop_nonce = 1;
    assert_int_equal(oas_dpop_at_as(&nonce, &e, x, env->conf1, &none, OAS_EP_TOKEN), APR_SUCCESS);
    assert_non_null(nonce);
    assert_true(oas_dpop_nonce_ok(p, nk, nonce, x->now));
}

/* RFC 9449 §7: a bound token sent as Bearer, and an unbound one with the DPoP scheme, are
 * invalid_token; the DPoP scheme without a proof is invalid_dpop_proof; all 401. */
static void test_userinfo_schemes(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    oas_dpop_req_t none = {NULL, 0, "GET", NULL, NULL, 0, 0, NULL};
    const char *bound, *bearer, *body, *nonce;
    oas_err_t e;
    int k;

    env->iss->issuer_origin = "https://as.test";
    env->iss->endpoints[OAS_EP_USERINFO] = "/userinfo";
    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        x->dpop_jkt = JKT_A;
        tok_exchange(x, env, env->conf1, "openid", &bound);
        x->dpop_jkt = NULL;
        tok_exchange(x, env, env->conf1, "openid", &bearer);

        assert_int_equal(oas_userinfo(&body, &e, x, bound, NULL, &nonce), APR_EINVAL);
        assert_err(e, 401, "invalid_token", "OAS06454");
        assert_non_null(strstr(e.detail, "DPoP-bound, sent as a Bearer token"));
        assert_int_equal(oas_userinfo(&body, &e, x, bearer, &none, &nonce), APR_EINVAL);
        assert_err(e, 401, "invalid_token", "not DPoP-bound, sent with the DPoP scheme");
        assert_int_equal(oas_userinfo(&body, &e, x, bound, &none, &nonce), APR_EINVAL);
        assert_err(e, 401, "invalid_dpop_proof", "the DPoP scheme without a proof");
        assert_null(nonce);
        assert_int_equal(oas_userinfo(&body, &e, x, bearer, NULL, &nonce), APR_SUCCESS);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_code_binding),
        UNIT_TEST(test_refresh_binding),
        UNIT_TEST(test_client_credentials),
        UNIT_TEST(test_introspection),
        UNIT_TEST(test_par),
        UNIT_TEST(test_authorize_dpop_jkt),
        UNIT_TEST(test_at_as_modes),
        UNIT_TEST(test_userinfo_schemes),
    };
    return UNIT_RUN(tests);
}
