/* Unit tests: certificate-bound tokens in the engine (RFC 8705 §3, §4), each case on the shm
 * store and on the sqlite store: the certificate of the request (x->cert, which the glue
 * sets from mod_ssl) binds the access token (cnf.x5t#S256, token_type Bearer) of every grant
 * of a client with OAuthASCertBoundTokens On, and nothing of a client with it Off; such a
 * client without a certificate is refused before a code is spent; a public client's refresh
 * family is bound to its certificate; userinfo and introspection. */
#include "unit.h"

#include "engine_stores.h"
#include "oas_grant_code.h"
#include "oas_issue.h"
#include "oas_liveness.h"
#include "oas_mtls.h"
#include "oas_refresh.h"
#include "token_fixture.h"

/* Only the thumbprint of a certificate matters once it has authenticated the client. */
static const oas_cert_t CERT_A = {.x5t = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"};
static const oas_cert_t CERT_B = {.x5t = "LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564"};

/* The answer is a Bearer token bound to cert (NULL: not bound). */
static void assert_cert_bound(oas_ctx_t *x, const char *body, const oas_cert_t *cert)
{
    json_t *c;

    assert_int_equal(
        oas_token_verify_access(&c, x->p, x->iss, tok_member(x->p, body, "access_token"), x->now),
        APR_SUCCESS);
    assert_string_equal(tok_member(x->p, body, "token_type"), "Bearer");
    if (cert)
        assert_string_equal(oas_mtls_token_x5t(c), cert->x5t);
    else
        assert_null(json_object_get(c, "cnf"));
}

static apr_table_t *code_form(apr_pool_t *p)
{
    apr_table_t *f = apr_table_make(p, 4);

    apr_table_set(f, "grant_type", "authorization_code");
    apr_table_set(f, "code", "C1");
    apr_table_set(f, "code_verifier", TOK_VERIFIER);
    apr_table_set(f, "redirect_uri", "https://rp.test/cb");
    return f;
}

/* Every grant of a binding client is bound; without a certificate the request is refused
 * before the code is looked at (it stays redeemable); a client that does not bind gets
 * unbound tokens with or without a certificate. */
static void test_grants_bound(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body, *rt;
    apr_table_t *cc = apr_table_make(p, 1);
    oas_err_t e;
    int k;

    apr_table_set(cc, "grant_type", "client_credentials");
    env->conf2->cert_bound = 1;
    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());

        tok_put_code(x, "C1", tok_grant(p, env, env->conf2, "openid offline_access"), 60);
        assert_int_equal(oas_issue_request(&body, &e, x, env->conf2, code_form(p)), APR_EINVAL);
        assert_err(e, 401, "invalid_client", "OAS06508");
        x->cert = &CERT_A;
        assert_int_equal(oas_issue_request(&body, &e, x, env->conf2, code_form(p)), APR_SUCCESS);
        assert_cert_bound(x, body, &CERT_A);
        /* a confidential client's family is not bound: each refresh binds anew */
        rt = tok_member(p, body, "refresh_token");
        x->cert = &CERT_B;
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->conf2, rt, NULL), APR_SUCCESS);
        assert_cert_bound(x, body, &CERT_B);
        assert_int_equal(oas_issue_request(&body, &e, x, env->conf2, cc), APR_SUCCESS);
        assert_cert_bound(x, body, &CERT_B);

        /* conf1 does not bind (Off by default for a secret client) */
        assert_int_equal(oas_issue_request(&body, &e, x, env->conf1, cc), APR_SUCCESS);
        assert_cert_bound(x, body, NULL);
        x->cert = NULL;
        assert_int_equal(oas_issue_request(&body, &e, x, env->conf1, cc), APR_SUCCESS);
        assert_cert_bound(x, body, NULL);
    }
}

/* RFC 8705 §4: a public client that binds has its refresh family bound to the certificate
 * of the code exchange: without it or with another, invalid_grant and nothing rotated. */
static void test_public_refresh_bound(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body, *rt, *at;
    oas_grant_t *g;
    oas_err_t e;
    int k;

    env->pub1->cert_bound = 1;
    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        x->cert = &CERT_A;
        rt = tok_exchange(x, env, env->pub1, "openid offline_access", &at);
        assert_int_equal(oas_live_refresh(&g, x, rt), APR_SUCCESS);
        assert_string_equal(g->cert_x5t, CERT_A.x5t);
        x->cert = NULL;
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->pub1, rt, NULL), APR_EINVAL);
        assert_err(e, 400, "invalid_grant", "OAS06509");
        x->cert = &CERT_B;
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->pub1, rt, NULL), APR_EINVAL);
        assert_err(e, 400, "invalid_grant", "presented with another");
        assert_int_equal(oas_live_refresh(&g, x, rt), APR_SUCCESS); /* still alive */
        x->cert = &CERT_A;
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->pub1, rt, NULL), APR_SUCCESS);
        assert_cert_bound(x, body, &CERT_A);
        /* the rotated family keeps its binding */
        rt = tok_member(p, body, "refresh_token");
        x->cert = &CERT_B;
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->pub1, rt, NULL), APR_EINVAL);
        assert_err(e, 400, "invalid_grant", "OAS06509");
    }
}

/* Userinfo takes a bound token on a connection with its certificate only; introspection
 * returns the binding; a token bound to a DPoP key and a certificate carries both. */
static void test_userinfo_and_introspection(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *at, *body;
    json_t *j;
    oas_err_t e;
    int k;

    env->conf1->cert_bound = 1;
    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        x->cert = &CERT_A;
        tok_exchange(x, env, env->conf1, "openid", &at);
        assert_int_equal(oas_userinfo(&body, &e, x, at, NULL, NULL), APR_SUCCESS);
        x->cert = &CERT_B;
        assert_int_equal(oas_userinfo(&body, &e, x, at, NULL, NULL), APR_EINVAL);
        assert_err(e, 401, "invalid_token", "OAS06507");
        x->cert = NULL;
        assert_int_equal(oas_userinfo(&body, &e, x, at, NULL, NULL), APR_EINVAL);
        assert_err(e, 401, "invalid_token", "presented without a certificate");

        j = tok_json(p, oas_introspect(x, env->conf1, at));
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(j, "cnf"), "x5t#S256")), CERT_A.x5t);
        assert_null(json_object_get(json_object_get(j, "cnf"), "jkt"));
        assert_string_equal(json_string_value(json_object_get(j, "token_type")), "Bearer");

        x->cert = &CERT_A;
        x->dpop_jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
        tok_exchange(x, env, env->conf1, "openid", &at);
        j = tok_json(p, oas_introspect(x, env->conf1, at));
        assert_string_equal(json_string_value(json_object_get(json_object_get(j, "cnf"), "jkt")),
                            x->dpop_jkt);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(j, "cnf"), "x5t#S256")), CERT_A.x5t);
        assert_string_equal(json_string_value(json_object_get(j, "token_type")), "DPoP");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_grants_bound),
        UNIT_TEST(test_public_refresh_bound),
        UNIT_TEST(test_userinfo_and_introspection),
    };
    return UNIT_RUN(tests);
}
