/* Unit tests: the token endpoint's dispatch and the authorization_code grant in the core
 * (oas_issue.c, oas_grant_code.c), each case on the shm store and on the sqlite store:
 * the catalogue's T rows (code exchange) without an httpd. */
#include "unit.h"

#include "engine_stores.h"
#include "oas_grant_code.h"
#include "oas_issue.h"
#include "oas_liveness.h"
#include "oas_throttle.h"
#include "token_fixture.h"

/* One store of kind k, a code "C1" of conf1 for scope, and the context. */
static oas_ctx_t *with_code(apr_pool_t *p, tok_env_t *env, int k, const char *scope)
{
    oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());

    tok_put_code(x, "C1", tok_grant(p, env, env->conf1, scope), 60);
    return x;
}

static apr_status_t redeem(const char **pbody, oas_err_t *e, oas_ctx_t *x, const oas_client_t *c,
                           const char *code, const char *verifier)
{
    return oas_grant_code_redeem(pbody, e, x, c, code, verifier, "https://rp.test/cb");
}

/* T01: the answer, the tombstone, the access token's link to its family (its claim gid, no
 * record of its own: issue 14) and the user's claims for userinfo; a refresh token with
 * offline_access only. */
static void test_t01_exchange(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body, *at, *rt, *ui;
    oas_grant_t *g;
    json_t *claims;
    oas_err_t e;
    char *v;
    apr_size_t n;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = with_code(p, env, k, "openid email offline_access");
        assert_int_equal(redeem(&body, &e, x, env->conf1, "C1", TOK_VERIFIER), APR_SUCCESS);
        assert_string_equal(tok_member(p, body, "token_type"), "Bearer");
        assert_non_null(tok_member(p, body, "id_token"));
        assert_non_null(at = tok_member(p, body, "access_token"));
        assert_non_null(rt = tok_member(p, body, "refresh_token"));
        assert_int_equal(oas_store_get(x->store[0], p, OAS_NS_CODE, "C1", &v, &n), APR_NOTFOUND);
        assert_int_equal(oas_store_get(x->store[0], p, OAS_NS_CODE_USED, "C1", &v, &n),
                         APR_SUCCESS);
        assert_non_null(strstr(v, tok_jti(x, at)));
        /* the access token names its family by the family's handle; no record of its own */
        assert_int_equal(oas_live_access(&claims, &ui, NULL, x, at), APR_SUCCESS);
        assert_null(ui);
        assert_int_equal(oas_live_refresh(&g, x, rt), APR_SUCCESS);
        assert_string_equal(oas_json_str(claims, "gid"), oas_grant_handle(p, g->family));
        assert_null(strstr(at, g->family));
        assert_int_equal(oas_store_get(x->store[1], p, OAS_NS_ACCESS, tok_jti(x, at), &v, &n),
                         APR_NOTFOUND);
        /* the user's claims, kept per user for userinfo */
        assert_int_equal(oas_userinfo(&ui, &e, x, at, NULL, NULL), APR_SUCCESS);
        assert_string_equal(ui, "{\"sub\":\"alice\",\"email\":\"alice@example.org\"}");

        x = with_code(p, env, k, "openid email");
        assert_int_equal(redeem(&body, &e, x, env->conf1, "C1", TOK_VERIFIER), APR_SUCCESS);
        assert_null(tok_member(p, body, "refresh_token"));
    }
}

/* T02: a second redemption by the rightful client revokes the access token and the refresh
 * family the first one issued. */
static void test_t02_replay_revokes(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body, *at, *rt, *why;
    oas_grant_t *g;
    json_t *claims;
    oas_err_t e;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        rt = tok_exchange(x, env, env->conf1, "openid offline_access", &at);
        assert_int_equal(oas_live_refresh(&g, x, rt), APR_SUCCESS);

        tok_log_start();
        assert_int_equal(redeem(&body, &e, x, env->conf1, "C1", TOK_VERIFIER), APR_EINVAL);
        oas_log_set(NULL, NULL);
        assert_non_null(strstr(tok_log, apr_psprintf(p,
                                                     "OAS00131: authorization code replayed "
                                                     "by client conf1: revoked the access "
                                                     "token jti %s",
                                                     tok_jti(x, at))));
        assert_non_null(strstr(tok_log, "OAS00134: revoked a refresh token family: its "
                                        "authorization code was replayed"));
        assert_err(e, 400, "invalid_grant",
                   "OAS02020: code presented by client conf1: redeemed, "
                   "replayed by its client: what it issued is revoked");
        assert_int_equal(oas_live_access(&claims, NULL, &why, x, at), APR_EINVAL);
        assert_string_equal(why, "revoked");
        assert_int_equal(oas_live_refresh(&g, x, rt), APR_EINVAL);
    }
}

/* T03: invalid replays (another client, a wrong verifier) revoke nothing. */
static void test_t03_invalid_replay_revokes_nothing(void **state)
{
    static const struct {
        int pub; /* presented by pub1 instead of conf1 */
        const char *verifier;
        const char *detail;
    } rows[] = {
        {1, TOK_VERIFIER, "redeemed by client conf1, nothing revoked"},
        {0, "wrong-verifier-wrong-verifier-wrong-verifier", "with a wrong code_verifier"},
        {0, NULL, "with a wrong code_verifier"},
    };
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body, *at, *rt;
    oas_grant_t *g;
    json_t *claims;
    oas_err_t e;
    size_t i;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
            rt = tok_exchange(x, env, env->conf1, "openid offline_access", &at);
            tok_log_start();
            assert_int_equal(
                redeem(&body, &e, x, rows[i].pub ? env->pub1 : env->conf1, "C1", rows[i].verifier),
                APR_EINVAL);
            oas_log_set(NULL, NULL);
            assert_null(strstr(tok_log, "OAS00131"));
            assert_null(strstr(tok_log, "OAS00134"));
            assert_err(e, 400, "invalid_grant", rows[i].detail);
            assert_int_equal(oas_live_access(&claims, NULL, NULL, x, at), APR_SUCCESS);
            assert_int_equal(oas_live_refresh(&g, x, rt), APR_SUCCESS);
        }
    }
}

/* T03, T04, T05 and PKCE: a request that fails a check is refused with what went wrong in
 * the detail, and does not burn the code: the right request still redeems it. */
static void test_t04_t05_checks_do_not_burn(void **state)
{
    static const struct {
        int pub, challenge;
        const char *code, *verifier, *redirect_uri;
        const char *error, *detail;
    } rows[] = {
        {1, 1, "C1", TOK_VERIFIER, "https://rp.test/cb", "invalid_grant",
         "OAS02021: code issued to client conf1 (issuer https://as.test), presented by pub1"},
        {0, 1, "C1", TOK_VERIFIER, NULL, "invalid_grant",
         "OAS02022: code of client conf1: "
         "redirect_uri missing"},
        {0, 1, "C1", TOK_VERIFIER, "https://rp.test/cb2", "invalid_grant", "redirect_uri differs"},
        {0, 1, "C1", NULL, "https://rp.test/cb", "invalid_grant",
         "OAS02023: code of client conf1: code_verifier missing"},
        {0, 1, "C1", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK", "https://rp.test/cb",
         "invalid_grant", "does not match the challenge"},
        {0, 0, "C1", TOK_VERIFIER, "https://rp.test/cb", "invalid_request",
         "OAS02024: code of client conf1: code_verifier for a code without code_challenge"},
        {0, 1, NULL, TOK_VERIFIER, "https://rp.test/cb", "invalid_request", NULL},
    };
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body;
    oas_err_t e;
    size_t i;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
            oas_grant_t *g = tok_grant(p, env, env->conf1, "openid");
            if (!rows[i].challenge)
                g->code_challenge = NULL;
            tok_put_code(x, "C1", g, 60);
            assert_int_equal(
                oas_grant_code_redeem(&body, &e, x, rows[i].pub ? env->pub1 : env->conf1,
                                      rows[i].code, rows[i].verifier, rows[i].redirect_uri),
                APR_EINVAL);
            assert_err(e, 400, rows[i].error, rows[i].detail);
            assert_int_equal(oas_grant_code_redeem(&body, &e, x, env->conf1, "C1",
                                                   rows[i].challenge ? TOK_VERIFIER : NULL,
                                                   "https://rp.test/cb"),
                             APR_SUCCESS);
        }
    }
}

/* RFC 8707 §2.2: a token request's resource is the one the code was granted for, or
 * invalid_target (the code stays redeemable); the access token's aud is that resource. */
static void test_resource_at_token(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body;
    json_t *c;
    oas_err_t e;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        oas_grant_t *g = tok_grant(p, env, env->conf1, "openid");

        tok_put_code(x, "C1", g, 60); /* granted for the issuer: no resource may be named */
        x->target = "urn:api";
        assert_int_equal(oas_grant_code_redeem(&body, &e, x, env->conf1, "C1", TOK_VERIFIER,
                                               "https://rp.test/cb"),
                         APR_EINVAL);
        assert_err(e, 400, "invalid_target", "OAS02041: client conf1 asked for a resource");
        g = tok_grant(p, env, env->conf1, "openid");
        g->resource = "urn:api";
        tok_put_code(x, "C2", g, 60);
        x->target = "urn:other";
        assert_int_equal(oas_grant_code_redeem(&body, &e, x, env->conf1, "C2", TOK_VERIFIER,
                                               "https://rp.test/cb"),
                         APR_EINVAL);
        assert_err(e, 400, "invalid_target", "(urn:api)");
        x->target = "urn:api";
        assert_int_equal(oas_grant_code_redeem(&body, &e, x, env->conf1, "C2", TOK_VERIFIER,
                                               "https://rp.test/cb"),
                         APR_SUCCESS);
        assert_int_equal(oas_token_verify_access(&c, p, env->iss,
                                                 tok_member(p, body, "access_token"), x->now),
                         APR_SUCCESS);
        assert_string_equal(oas_json_str(c, "aud"), "urn:api");
        x->target = NULL;
        assert_int_equal(oas_grant_code_redeem(&body, &e, x, env->conf1, "C1", TOK_VERIFIER,
                                               "https://rp.test/cb"),
                         APR_SUCCESS);
    }
}

/* T06, T07: an expired code, an unknown one, and a refresh token presented as a code. */
static void test_t06_t07_expired_and_unknown(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body, *rt;
    oas_err_t e;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        tok_put_code(x, "OLD", tok_grant(p, env, env->conf1, "openid"), -1);
        assert_int_equal(redeem(&body, &e, x, env->conf1, "OLD", TOK_VERIFIER), APR_EINVAL);
        assert_err(e, 400, "invalid_grant", "unknown, expired or already redeemed");
        assert_int_equal(redeem(&body, &e, x, env->conf1, "garbage", TOK_VERIFIER), APR_EINVAL);
        assert_err(e, 400, "invalid_grant", "OAS02020");

        x = engine_ctx(p, env->iss, k, tok_now());
        rt = tok_exchange(x, env, env->conf1, "openid offline_access", NULL);
        assert_int_equal(redeem(&body, &e, x, env->conf1, rt, TOK_VERIFIER), APR_EINVAL);
        assert_err(e, 400, "invalid_grant", "unknown, expired or already redeemed");
    }
}

/* T08: the grant_type dispatch of the token endpoint. */
static void test_t08_grant_type_errors(void **state)
{
    static const struct {
        const char *grant_type;
        int grants;
        const char *error;
    } rows[] = {
        {NULL, OAS_GRANT_CODE, "invalid_request"},
        {"password", OAS_GRANT_CODE, "unsupported_grant_type"},
        {"refresh_token", OAS_GRANT_CODE, "unauthorized_client"},
        {"client_credentials", OAS_GRANT_CODE, "unauthorized_client"},
        {"authorization_code", OAS_GRANT_REFRESH, "unauthorized_client"},
        {"authorization_code", OAS_GRANT_CODE, "invalid_request"}, /* no code */
    };
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    oas_client_t c = *env->conf1;
    const char *body;
    oas_err_t e;
    size_t i;
    oas_ctx_t *x = engine_ctx(p, env->iss, ENGINE_SHM, tok_now());

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        apr_table_t *form = apr_table_make(p, 2);
        if (rows[i].grant_type)
            apr_table_set(form, "grant_type", rows[i].grant_type);
        c.grant_types = rows[i].grants;
        assert_int_equal(oas_issue_request(&body, &e, x, &c, form), APR_EINVAL);
        assert_err(e, 400, rows[i].error, NULL);
    }
    /* and the way in for a good one */
    tok_put_code(x, "C1", tok_grant(p, env, env->conf1, "openid"), 60);
    {
        apr_table_t *form = apr_table_make(p, 4);
        apr_table_set(form, "grant_type", "authorization_code");
        apr_table_set(form, "code", "C1");
        apr_table_set(form, "code_verifier", TOK_VERIFIER);
        apr_table_set(form, "redirect_uri", "https://rp.test/cb");
        assert_int_equal(oas_issue_request(&body, &e, x, env->conf1, form), APR_SUCCESS);
        assert_non_null(tok_member(p, body, "access_token"));
    }
}

/* A full or failing store answers 503 with Retry-After (never a 5xx of another kind): a
 * full one with the time its short-lived records need to expire. Nothing a security property
 * depends on is skipped: without the tombstone (a replay could not revoke), the family (its
 * access tokens' liveness) or the user's claims (userinfo) no token goes out (issue 14). A code taken
 * by a concurrent redemption between the read and the take is a replay. */
static void test_store_failures(void **state)
{
    static const struct {
        int ns;
        apr_status_t rv;
        int status;
        const char *detail;
    } rows[] = {
        {OAS_NS_REFRESH, APR_ENOSPC, 503, "store full while storing a refresh token"},
        {OAS_NS_FAMILY, APR_EGENERAL, 503, "store failure while storing a refresh token"},
        {OAS_NS_CODE, APR_EGENERAL, 503, "store failure while redeeming a code"},
        {OAS_NS_CODE_USED, APR_ENOSPC, 503, "store full while storing a redeemed code's tomb"},
        {OAS_NS_CODE_USED, APR_EGENERAL, 503, "store failure while storing a redeemed code's"},
        {OAS_NS_USER, APR_ENOSPC, 503, "store full while recording the user's claims"},
        {OAS_NS_USER, APR_EGENERAL, 503, "store failure while recording the user's claims"},
    };
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body;
    oas_err_t e;
    size_t i;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            oas_ctx_t *x = with_code(p, env, k, "openid offline_access");
            tok_fail(x, rows[i].ns, rows[i].rv);
            body = NULL;
            assert_int_not_equal(redeem(&body, &e, x, env->conf1, "C1", TOK_VERIFIER), APR_SUCCESS);
            assert_null(body);
            assert_err(e, rows[i].status, "temporarily_unavailable", rows[i].detail);
            assert_int_equal(e.retry_after,
                             rows[i].rv == APR_ENOSPC ? oas_iss_short_lived(env->iss) : 5);
        }
        {
            /* a refresh token made before the tombstone failed dies with its family */
            oas_ctx_t *x = with_code(p, env, k, "openid offline_access");
            oas_store_t *below = x->store[OAS_CTX_LONG];
            tok_log_start();
            tok_fail(x, OAS_NS_CODE_USED, APR_ENOSPC);
            assert_int_equal(redeem(&body, &e, x, env->conf1, "C1", TOK_VERIFIER), APR_ENOSPC);
            oas_log_set(NULL, NULL);
            assert_non_null(strstr(tok_log, "OAS00134"));
            assert_non_null(strstr(tok_log, "tombstone could not be stored"));
            x->store[OAS_CTX_SHORT] = x->store[OAS_CTX_LONG] = below;
            assert_int_equal(redeem(&body, &e, x, env->conf1, "C1", TOK_VERIFIER), APR_EINVAL);
            assert_err(e, 400, "invalid_grant", "OAS02020"); /* the code is used up */
        }
        {
            /* the take fails with NOTFOUND: another request redeemed the code just now */
            oas_ctx_t *x = with_code(p, env, k, "openid");
            tok_fail(x, OAS_NS_CODE, APR_NOTFOUND);
            x->store[OAS_CTX_SHORT]->get = failing_get; /* the read still finds it */
            assert_int_equal(redeem(&body, &e, x, env->conf1, "C1", TOK_VERIFIER), APR_EINVAL);
            assert_err(e, 400, "invalid_grant", "OAS02020");
        }
        {
            oas_ctx_t *x = with_code(p, env, k, "openid");
            x->store[OAS_CTX_SHORT] = NULL; /* the store cannot be had */
            assert_int_equal(redeem(&body, &e, x, env->conf1, "C1", TOK_VERIFIER), APR_ENOTIMPL);
            assert_err(e, 503, "temporarily_unavailable", "redeeming a code");
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_t01_exchange),
        UNIT_TEST(test_t02_replay_revokes),
        UNIT_TEST(test_t03_invalid_replay_revokes_nothing),
        UNIT_TEST(test_t04_t05_checks_do_not_burn),
        UNIT_TEST(test_resource_at_token),
        UNIT_TEST(test_t06_t07_expired_and_unknown),
        UNIT_TEST(test_t08_grant_type_errors),
        UNIT_TEST(test_store_failures),
    };
    return UNIT_RUN(tests);
}
