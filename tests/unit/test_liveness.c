/* Unit tests: what an issued token is worth (oas_liveness.c) and client_credentials
 * (oas_issue.c), each case on the shm store and on the sqlite store: liveness of access and
 * refresh tokens, revocation (RFC 7009), introspection of each kind (RFC 7662), userinfo. */
#include "unit.h"

#include "engine_stores.h"
#include "oas_grant_code.h"
#include "oas_issue.h"
#include "oas_liveness.h"
#include "oas_refresh.h"
#include "oas_startup.h"
#include "token_fixture.h"

/* An access token dies with its jti revoked or its family revoked; garbage is never live. */
static void test_live_access(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *at, *rt, *why, *ui;
    oas_grant_t *g;
    json_t *c;
    oas_err_t e;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        rt = tok_exchange(x, env, env->conf1, "openid email offline_access", &at);
        assert_int_equal(oas_live_access(&c, &ui, &why, x, at), APR_SUCCESS);
        assert_string_equal(oas_json_str(c, "client_id"), "conf1");
        assert_int_equal(oas_live_access(&c, NULL, &why, x, "not.a.token"), APR_EINVAL);
        assert_non_null(strstr(why, "not a valid access token"));
        assert_int_equal(oas_live_access(&c, NULL, &why, x, rt), APR_EINVAL); /* wrong kind */
        assert_int_equal(oas_live_refresh(&g, x, at), APR_EINVAL);

        assert_int_equal(oas_live_refresh(&g, x, rt), APR_SUCCESS);
        oas_refresh_revoke_family(x, g->family, "a test");
        assert_int_equal(oas_live_access(&c, NULL, &why, x, at), APR_EINVAL);
        assert_string_equal(why, "its grant was revoked");
        assert_int_equal(oas_live_refresh(&g, x, rt), APR_EINVAL);

        /* issue 14: an access token whose record cannot be kept is not issued */
        x->store[OAS_CTX_LONG] = NULL;
        tok_put_code(x, "C1", tok_grant(p, env, env->conf1, "openid"), 60);
        assert_int_equal(oas_grant_code_redeem(&why, &e, x, env->conf1, "C1", TOK_VERIFIER,
                                               "https://rp.test/cb"),
                         APR_ENOTIMPL);
        assert_int_equal(e.status, 503);
        /* one issued before the store went away is not live without it */
        x->store[OAS_CTX_LONG] = x->store[OAS_CTX_SHORT];
        tok_exchange(x, env, env->conf1, "openid", &at);
        x->store[OAS_CTX_LONG] = NULL;
        assert_int_equal(oas_live_access(&c, NULL, &why, x, at), APR_EINVAL);
        assert_non_null(strstr(why, "no store"));
    }
}

/* RFC 7009: a client revokes its own tokens only; unknown or foreign ones are no error. */
static void test_revoke(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *at, *rt, *at2, *why;
    oas_grant_t *g;
    json_t *c;
    oas_err_t e;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        rt = tok_exchange(x, env, env->conf1, "openid offline_access", &at);
        /* another client's tokens: 200, nothing revoked */
        assert_int_equal(oas_revoke_token(&e, x, env->conf2, rt), APR_SUCCESS);
        assert_int_equal(oas_revoke_token(&e, x, env->conf2, at), APR_SUCCESS);
        assert_int_equal(oas_live_refresh(&g, x, rt), APR_SUCCESS);
        assert_int_equal(oas_live_access(&c, NULL, NULL, x, at), APR_SUCCESS);
        assert_int_equal(oas_revoke_token(&e, x, env->conf1, "garbage"), APR_SUCCESS);

        /* its own access token: the jti */
        tok_exchange(x, env, env->conf1, "openid", &at2);
        tok_log_start();
        assert_int_equal(oas_revoke_token(&e, x, env->conf1, at2), APR_SUCCESS);
        oas_log_set(NULL, NULL);
        assert_non_null(strstr(tok_log, apr_psprintf(p,
                                                     "OAS00160: client conf1 revoked access "
                                                     "token jti %s",
                                                     tok_jti(x, at2))));
        assert_int_equal(oas_live_access(&c, NULL, &why, x, at2), APR_EINVAL);
        assert_string_equal(why, "revoked");

        /* its own refresh token: the family, with the access token issued with it */
        assert_int_equal(oas_revoke_token(&e, x, env->conf1, rt), APR_SUCCESS);
        assert_int_equal(oas_live_refresh(&g, x, rt), APR_EINVAL);
        assert_int_equal(oas_live_access(&c, NULL, NULL, x, at), APR_EINVAL);

        /* a store that cannot record the revocation */
        tok_exchange(x, env, env->conf1, "openid", &at2);
        tok_fail(x, OAS_NS_REVOKED, APR_ENOSPC);
        assert_int_equal(oas_revoke_token(&e, x, env->conf1, at2), APR_ENOSPC);
        assert_err(e, 503, "temporarily_unavailable", "store full while revoking an access token");
    }
}

/* RFC 7662: each kind of token and what its answer says. */
static void test_introspect(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *at, *rt, *body;
    oas_err_t e;
    json_t *j;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        rt = tok_exchange(x, env, env->conf1, "openid email offline_access", &at);

        j = tok_json(p, oas_introspect(x, env->conf1, at));
        assert_true(json_is_true(json_object_get(j, "active")));
        assert_string_equal(oas_json_str(j, "token_type"), "Bearer");
        assert_string_equal(oas_json_str(j, "client_id"), "conf1");
        assert_string_equal(oas_json_str(j, "sub"), "alice");
        assert_string_equal(oas_json_str(j, "aud"), "https://as.test");
        assert_string_equal(oas_json_str(j, "iss"), "https://as.test");
        assert_string_equal(oas_json_str(j, "scope"), "openid email offline_access");
        assert_string_equal(oas_json_str(j, "jti"), tok_jti(x, at));
        assert_true(oas_json_int(j, "exp", 0) > x->now);
        assert_true(oas_json_int(j, "iat", 0) > 0);
        assert_true(oas_json_int(j, "auth_time", 0) > 0);

        j = tok_json(p, oas_introspect(x, env->conf1, rt));
        assert_true(json_is_true(json_object_get(j, "active")));
        assert_string_equal(oas_json_str(j, "token_type"), "refresh_token");
        assert_string_equal(oas_json_str(j, "client_id"), "conf1");
        assert_string_equal(oas_json_str(j, "sub"), "alice");
        assert_string_equal(oas_json_str(j, "iss"), "https://as.test");
        assert_string_equal(oas_json_str(j, "scope"), "openid email offline_access");

        assert_string_equal(oas_introspect(x, env->conf1, "garbage"), "{\"active\":false}");

        /* INTERFACE.md: another client learns nothing; a resource server (OAuthASIntrospection
         * On) the access token, never the refresh token */
        assert_string_equal(oas_introspect(x, env->conf2, at), "{\"active\":false}");
        assert_string_equal(oas_introspect(x, env->conf2, rt), "{\"active\":false}");
        env->conf2->introspection = 1;
        j = tok_json(p, oas_introspect(x, env->conf2, at));
        assert_true(json_is_true(json_object_get(j, "active")));
        assert_string_equal(oas_json_str(j, "client_id"), "conf1");
        assert_string_equal(oas_introspect(x, env->conf2, rt), "{\"active\":false}");
        env->conf2->introspection = 0;

        assert_int_equal(oas_revoke_token(&e, x, env->conf1, rt), APR_SUCCESS);
        assert_string_equal(oas_introspect(x, env->conf1, rt), "{\"active\":false}");
        assert_string_equal(oas_introspect(x, env->conf1, at), "{\"active\":false}"); /* its family */

        /* a client_credentials token (no refresh family, no record) */
        assert_int_equal(oas_issue_client_credentials(&body, &e, x, env->conf1, "api.read",
                                                      apr_table_make(p, 1)),
                         APR_SUCCESS);
        at = tok_member(p, body, "access_token");
        j = tok_json(p, oas_introspect(x, env->conf1, at));
        assert_true(json_is_true(json_object_get(j, "active")));
        assert_string_equal(oas_json_str(j, "sub"), "conf1");
        assert_null(json_object_get(j, "auth_time")); /* no user signed in */
        assert_int_equal(oas_revoke_token(&e, x, env->conf1, at), APR_SUCCESS);
        assert_string_equal(oas_introspect(x, env->conf1, at), "{\"active\":false}");
    }
}

/* OIDC Core §5.3: the claims kept at issuance; sub alone without them; 401 for a dead token,
 * 403 for one not meant for userinfo. */
static void test_userinfo(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *at, *body;
    oas_err_t e;
    json_t *j;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        tok_exchange(x, env, env->conf1, "openid email", &at);
        assert_int_equal(oas_userinfo(&body, &e, x, at, NULL, NULL), APR_SUCCESS);
        j = tok_json(p, body);
        assert_string_equal(oas_json_str(j, "sub"), "alice");
        assert_string_equal(oas_json_str(j, "email"), "alice@example.org");

        /* no record of the claims (lost, or never written): sub alone */
        assert_int_equal(oas_store_del(x->store[1], p, OAS_NS_USER,
                                       oas_issue_user_key(p, env->iss, "alice")),
                         APR_SUCCESS);
        assert_int_equal(oas_userinfo(&body, &e, x, at, NULL, NULL), APR_SUCCESS);
        assert_string_equal(body, "{\"sub\":\"alice\"}");

        assert_int_equal(oas_userinfo(&body, &e, x, "garbage", NULL, NULL), APR_EINVAL);
        assert_err(e, 401, "invalid_token",
                   "OAS02030: userinfo: access token refused: not a "
                   "valid access token");
        assert_int_equal(oas_revoke_token(&e, x, env->conf1, at), APR_SUCCESS);
        assert_int_equal(oas_userinfo(&body, &e, x, at, NULL, NULL), APR_EINVAL);
        assert_err(e, 401, "invalid_token", "refused: revoked");

        tok_exchange(x, env, env->conf1, "email", &at);
        assert_int_equal(oas_userinfo(&body, &e, x, at, NULL, NULL), APR_EINVAL);
        assert_err(e, 403, "insufficient_scope", "without the openid scope");

        {
            oas_grant_t *g = tok_grant(p, env, env->conf1, "openid email");
            g->resource = "urn:api";
            tok_put_code(x, "C2", g, 60);
            assert_int_equal(oas_grant_code_redeem(&body, &e, x, env->conf1, "C2", TOK_VERIFIER,
                                                   "https://rp.test/cb"),
                             APR_SUCCESS);
            at = tok_member(p, body, "access_token");
            assert_int_equal(oas_userinfo(&body, &e, x, at, NULL, NULL), APR_EINVAL);
            assert_err(e, 403, "insufficient_scope", "for another audience");
        }
    }
}

/* RFC 6749 §4.4: confidential clients only, their own scopes but neither openid nor
 * offline_access, an allowed resource; never a refresh token. */
static void test_client_credentials(void **state)
{
    static const struct {
        int pub;
        const char *scope, *resource;
        const char *error; /* NULL: 200 */
        const char *detail;
    } rows[] = {
        {0, "api.read", NULL, NULL, NULL},
        {0, NULL, "urn:api", NULL, NULL},
        {1, "api.read", NULL, "unauthorized_client", "OAS02002: public client pub1"},
        {0, "openid", NULL, "invalid_scope", "OAS02003: client conf1 may not ask for scope openid"},
        {0, "offline_access", NULL, "invalid_scope", "scope offline_access"},
        {0, "admin", NULL, "invalid_scope", "scope admin"},
        {0, "api.read", "urn:other", "invalid_scope", NULL},
    };
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body;
    oas_err_t e;
    size_t i;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            apr_table_t *form = apr_table_make(p, 2);
            apr_status_t rv;
            if (rows[i].resource)
                apr_table_set(form, "resource", rows[i].resource);
            rv = oas_issue_client_credentials(&body, &e, x, rows[i].pub ? env->pub1 : env->conf1,
                                              rows[i].scope, form);
            if (rows[i].error) {
                assert_int_equal(rv, APR_EINVAL);
                assert_err(e, 400, rows[i].error, rows[i].detail);
                continue;
            }
            assert_int_equal(rv, APR_SUCCESS);
            assert_non_null(tok_member(p, body, "access_token"));
            assert_null(tok_member(p, body, "refresh_token"));
            assert_null(tok_member(p, body, "id_token"));
        }
    }
}

/* A rotating family's tokens: the live ones introspect active (a retry within the grace
 * branches the family: both branches), rotated-out ones inactive; revoking one live token (RFC
 * 7009) takes the whole family, every branch and access token. */
static void test_rotating_family(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *at, *rt1, *rt2, *rt3, *body;
    oas_err_t e;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        rt1 = tok_exchange(x, env, env->conf2, "openid offline_access", &at);
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->conf2, rt1, NULL), APR_SUCCESS);
        rt2 = tok_member(p, body, "refresh_token");
        assert_string_equal(oas_introspect(x, env->conf2, rt1), "{\"active\":false}");
        assert_true(json_is_true(json_object_get(tok_json(p, oas_introspect(x, env->conf2, rt2)), "active")));
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->conf2, rt1, NULL), APR_SUCCESS);
        rt3 = tok_member(p, body, "refresh_token");
        assert_true(json_is_true(json_object_get(tok_json(p, oas_introspect(x, env->conf2, rt2)), "active")));
        assert_true(json_is_true(json_object_get(tok_json(p, oas_introspect(x, env->conf2, rt3)), "active")));

        assert_int_equal(oas_revoke_token(&e, x, env->conf2, rt3), APR_SUCCESS);
        assert_string_equal(oas_introspect(x, env->conf2, rt2), "{\"active\":false}");
        assert_string_equal(oas_introspect(x, env->conf2, rt3), "{\"active\":false}");
        assert_string_equal(oas_introspect(x, env->conf2, at), "{\"active\":false}");
    }
}

/* Live puts per namespace through the counting store of counted_store() (each key once). */
static apr_hash_t *put_keys;

static apr_status_t note_put(int ns, const char *key, apr_size_t klen)
{
    apr_hash_set(put_keys, apr_psprintf(apr_hash_pool_get(put_keys), "%c%.*s", ns, (int)klen, key),
                 APR_HASH_KEY_STRING, "");
    return APR_SUCCESS;
}

static apr_status_t counted_put(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                                apr_size_t klen, const void *val, apr_size_t vlen, apr_time_t exp)
{
    apr_status_t rv = failing_put(st, p, ns, key, klen, val, vlen, exp);
    return rv == APR_SUCCESS ? note_put(ns, key, klen) : rv;
}

static apr_status_t counted_put_new(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                                    apr_size_t klen, const void *val, apr_size_t vlen,
                                    apr_time_t exp)
{
    apr_status_t rv = failing_put_new(st, p, ns, key, klen, val, vlen, exp);
    return rv == APR_SUCCESS ? note_put(ns, key, klen) : rv;
}

static int keys_in(int ns)
{
    apr_hash_index_t *hi;
    int n = 0;

    for (hi = apr_hash_first(NULL, put_keys); hi; hi = apr_hash_next(hi))
        n += *(const char *)apr_hash_this_key(hi) == ns;
    return n;
}

/* Issue 14: issuances cost records per user, not per token: 1,000 issuances to one user (code
 * exchanges with and without a refresh family, refreshes) leave one record of the user's
 * claims and none per access token; each access token stays revocable with its family. */
static void test_one_claims_record_per_user(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body, *at = NULL, *rt;
    oas_err_t e;
    json_t *c;
    int k, i;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        tok_fail(x, -1, APR_SUCCESS); /* fails on no namespace: forwards everything */
        x->store[OAS_CTX_LONG]->put = counted_put;
        x->store[OAS_CTX_LONG]->put_new = counted_put_new;
        put_keys = apr_hash_make(p);
        rt = tok_exchange(x, env, env->pub1, "openid email offline_access", NULL);
        for (i = 0; i < 1000; i++) {
            if (i % 2) {
                assert_int_equal(oas_refresh_grant(&body, &e, x, env->pub1, rt, NULL),
                                 APR_SUCCESS);
                rt = tok_member(p, body, "refresh_token");
            }
            else {
                const char *code = apr_psprintf(p, "C%d", i);
                tok_put_code(x, code, tok_grant(p, env, env->conf1, i % 4 ? "openid email"
                                                   : "openid email offline_access"), 60);
                assert_int_equal(oas_grant_code_redeem(&body, &e, x, env->conf1, code,
                                                       TOK_VERIFIER, "https://rp.test/cb"),
                                 APR_SUCCESS);
            }
            at = tok_member(p, body, "access_token");
        }
        assert_int_equal(keys_in(OAS_NS_USER), 1);
        assert_int_equal(keys_in(OAS_NS_ACCESS), 0);
        assert_int_equal(oas_userinfo(&body, &e, x, at, NULL, NULL), APR_SUCCESS);
        assert_string_equal(body, "{\"sub\":\"alice\",\"email\":\"alice@example.org\"}");
        /* the last one is a refresh: it dies with its family */
        assert_int_equal(oas_revoke_token(&e, x, env->pub1, rt), APR_SUCCESS);
        assert_int_equal(oas_live_access(&c, NULL, NULL, x, at), APR_EINVAL);
        assert_string_equal(oas_introspect(x, env->conf1, at), "{\"active\":false}");
        assert_int_equal(oas_userinfo(&body, &e, x, at, NULL, NULL), APR_EINVAL);
        assert_err(e, 401, "invalid_token", "its grant was revoked");
    }
}

/* OIDC Core §5.3, §5.4: userinfo answers the user's claims of their latest issuance, filtered
 * by the scope of the token presented; the record outlives the longest access token the
 * issuer gives (start-up works it out), never shorter than the token just issued. */
static void test_claims_latest_and_scoped(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body, *at_email, *at_openid, *perr;
    oas_grant_t *g;
    oas_err_t e;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        tok_exchange(x, env, env->conf1, "openid email", &at_email);
        tok_exchange(x, env, env->conf1, "openid", &at_openid);
        assert_int_equal(oas_userinfo(&body, &e, x, at_openid, NULL, NULL), APR_SUCCESS);
        assert_string_equal(body, "{\"sub\":\"alice\"}"); /* email needs the email scope */
        g = tok_grant(p, env, env->conf1, "openid");
        g->claims_json = "{\"email\":\"alice@new.example\",\"team\":\"blue\"}";
        tok_put_code(x, "C9", g, 60);
        assert_int_equal(oas_grant_code_redeem(&body, &e, x, env->conf1, "C9", TOK_VERIFIER,
                                               "https://rp.test/cb"),
                         APR_SUCCESS);
        assert_int_equal(oas_userinfo(&body, &e, x, at_email, NULL, NULL), APR_SUCCESS);
        assert_string_equal(body, "{\"sub\":\"alice\",\"email\":\"alice@new.example\","
                                  "\"team\":\"blue\"}");
        assert_int_equal(oas_userinfo(&body, &e, x, at_openid, NULL, NULL), APR_SUCCESS);
        assert_string_equal(body, "{\"sub\":\"alice\",\"team\":\"blue\"}");
    }
    env->conf2->at_ttl = 7200;
    assert_int_equal(oas_startup_prepare(&perr, env->iss, p), APR_SUCCESS);
    assert_int_equal(env->iss->at_ttl_max, 7200);
    env->conf2->at_ttl = OAS_UNSET;
    assert_int_equal(oas_startup_prepare(&perr, env->iss, p), APR_SUCCESS);
    assert_int_equal(env->iss->at_ttl_max, 3600); /* the issuer's; urn:api's is 120 */
}

/* An access token of the previous build (no gid; its record in OAS_NS_ACCESS with its family
 * and its claims) stays live until it expires or its family is revoked. */
static void test_previous_build_access_token(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body, *rt, *rec, *why;
    oas_grant_t *g;
    oas_tokens_t tok;
    oas_err_t e;
    json_t *c;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        rt = tok_exchange(x, env, env->conf1, "openid email offline_access", NULL);
        assert_int_equal(oas_live_refresh(&g, x, rt), APR_SUCCESS);
        rec = apr_psprintf(p, "{\"fam\":\"%s\",\"ui\":{\"sub\":\"alice\",\"old\":1}}", g->family);
        g->family = NULL; /* minted as the previous build did: no gid */
        assert_int_equal(oas_token_mint(&tok, p, env->iss, env->conf1, g, "OLDJTI", NULL, x->now),
                         APR_SUCCESS);
        assert_int_equal(oas_store_put(x->store[1], p, OAS_NS_ACCESS, "OLDJTI", rec, strlen(rec),
                                       apr_time_from_sec(tok.exp + 1)),
                         APR_SUCCESS);
        assert_int_equal(oas_userinfo(&body, &e, x, tok.access_token, NULL, NULL), APR_SUCCESS);
        assert_string_equal(body, "{\"sub\":\"alice\",\"old\":1}");
        assert_int_equal(oas_revoke_token(&e, x, env->conf1, rt), APR_SUCCESS);
        assert_int_equal(oas_live_access(&c, NULL, &why, x, tok.access_token), APR_EINVAL);
        assert_string_equal(why, "its grant was revoked");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_live_access),        UNIT_TEST(test_revoke),
        UNIT_TEST(test_introspect),         UNIT_TEST(test_userinfo),
        UNIT_TEST(test_client_credentials), UNIT_TEST(test_rotating_family),
        UNIT_TEST(test_one_claims_record_per_user), UNIT_TEST(test_claims_latest_and_scoped),
        UNIT_TEST(test_previous_build_access_token),
    };
    return UNIT_RUN(tests);
}
