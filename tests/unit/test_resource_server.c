/* Unit tests: the resource server inside httpd (oas_resource_server.c): the credential of an
 * Authorization header, the check of a token for an audience, the Require helpers, the
 * backend's variables, the challenges and the RFC 9728 document. */
#include "unit.h"

#include "engine_stores.h"
#include "oas_grant_code.h"
#include "oas_jwt.h"
#include "oas_liveness.h"
#include "oas_jsonw.h"
#include "oas_resource_server.h"
#include "token_fixture.h"

static void test_credential(void **state)
{
    int s;

    (void)state;
    assert_string_equal(oas_rs_credential(&s, "Bearer abc"), "abc");
    assert_int_equal(s, OAS_RS_BEARER);
    assert_string_equal(oas_rs_credential(&s, "bearer abc"), "abc");
    assert_string_equal(oas_rs_credential(&s, "DPOP abc"), "abc");
    assert_int_equal(s, OAS_RS_DPOP);
    assert_null(oas_rs_credential(&s, "Basic YWxpY2U6eA=="));
    assert_int_equal(s, OAS_RS_NONE);
    assert_null(oas_rs_credential(&s, NULL));
    assert_null(oas_rs_credential(&s, "BearerX abc"));
    /* malformed: nothing after the scheme, two spaces, two headers joined by httpd */
    assert_string_equal(oas_rs_credential(&s, "Bearer"), "");
    assert_int_equal(s, OAS_RS_BEARER);
    assert_string_equal(oas_rs_credential(&s, "Bearer "), "");
    assert_string_equal(oas_rs_credential(&s, "Bearer  abc"), "");
    assert_string_equal(oas_rs_credential(&s, "Bearer a, Bearer b"), "");
}

static void test_check(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    oas_ctx_t *x = engine_ctx(p, env->iss, ENGINE_SHM, tok_now());
    const char *at, *nonce;
    oas_dpop_req_t dpop = {0};
    oas_token_cache_t *tc = oas_token_cache_create(p);
    json_t *c;
    oas_err_t e;
    int scheme;

    tok_exchange(x, env, env->conf1, "openid email", &at);
    assert_int_equal(oas_rs_check(&c, &scheme, &nonce, &e, x,
                                  apr_pstrcat(p, "Bearer ", at, NULL), &dpop, "https://as.test", tc),
                     APR_SUCCESS);
    assert_string_equal(oas_json_str(c, "client_id"), "conf1");
    assert_int_equal(scheme, OAS_RS_BEARER);
    /* another audience */
    assert_int_equal(oas_rs_check(&c, &scheme, &nonce, &e, x,
                                  apr_pstrcat(p, "Bearer ", at, NULL), &dpop, "urn:api", tc),
                     APR_EINVAL);
    assert_int_equal(e.status, 401);
    assert_string_equal(e.error, "invalid_token");
    assert_null(c);
    /* no credential: 401 without an error code; a malformed one: 400 */
    assert_int_equal(oas_rs_check(&c, &scheme, &nonce, &e, x, NULL, &dpop, "https://as.test", tc),
                     APR_EINVAL);
    assert_int_equal(e.status, 401);
    assert_null(e.error);
    assert_int_equal(
        oas_rs_check(&c, &scheme, &nonce, &e, x, "Bearer a b", &dpop, "https://as.test", tc),
        APR_EINVAL);
    assert_int_equal(e.status, 400);
    assert_string_equal(e.error, "invalid_request");
    /* an unbound token with the DPoP scheme */
    dpop.htu = "https://rs.test/api";
    dpop.method = "GET";
    assert_int_equal(oas_rs_check(&c, &scheme, &nonce, &e, x, apr_pstrcat(p, "DPoP ", at, NULL),
                                  &dpop, "https://as.test", tc),
                     APR_EINVAL);
    assert_string_equal(e.error, "invalid_token");
    assert_int_equal(scheme, OAS_RS_DPOP);
    /* garbage and an ID token are no access tokens */
    assert_int_equal(
        oas_rs_check(&c, &scheme, &nonce, &e, x, "Bearer x.y.z", &dpop, "https://as.test", tc),
        APR_EINVAL);
    assert_string_equal(e.error, "invalid_token");
}

/* the cache spares the signature, never the revocation check; it is keyed by the issuer too */
static void test_cache(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    oas_ctx_t *x = engine_ctx(p, env->iss, ENGINE_SHM, tok_now());
    oas_token_cache_t *tc = oas_token_cache_create(p);
    oas_issuer_t *other = fixture_issuer(p, 0);
    oas_dpop_req_t dpop = {0};
    const char *at, *h, *nonce;
    apr_uint64_t hits, misses;
    json_t *c;
    oas_err_t e;
    int scheme, i;

    tok_exchange(x, env, env->conf1, "openid email", &at);
    h = apr_pstrcat(p, "Bearer ", at, NULL);
    for (i = 0; i < 3; i++)
        assert_int_equal(oas_rs_check(&c, &scheme, &nonce, &e, x, h, &dpop, "https://as.test", tc),
                         APR_SUCCESS);
    oas_token_cache_counts(tc, &hits, &misses);
    assert_int_equal(hits, 2);
    assert_int_equal(misses, 1);
    /* another issuer (other keys) with the same URL-less cache: no hit for this token */
    other->issuer = "https://other.test";
    x->iss = other;
    assert_int_equal(oas_rs_check(&c, &scheme, &nonce, &e, x, h, &dpop, "https://as.test", tc),
                     APR_EINVAL);
    x->iss = env->iss;
    /* revoked: refused at once although its claims are cached */
    assert_int_equal(oas_revoke_token(&e, x, env->conf1, at), APR_SUCCESS);
    assert_int_equal(oas_rs_check(&c, &scheme, &nonce, &e, x, h, &dpop, "https://as.test", tc),
                     APR_EINVAL);
    assert_string_equal(e.error, "invalid_token");
    assert_non_null(strstr(e.detail, "revoked"));
    /* expired: a hit no more */
    tok_exchange(x, env, env->conf1, "openid", &at);
    h = apr_pstrcat(p, "Bearer ", at, NULL);
    assert_int_equal(oas_rs_check(&c, &scheme, &nonce, &e, x, h, &dpop, "https://as.test", tc),
                     APR_SUCCESS);
    x->now += 3600 + OAS_JWT_EXP_LEEWAY + 1;
    assert_int_equal(oas_rs_check(&c, &scheme, &nonce, &e, x, h, &dpop, "https://as.test", tc),
                     APR_EINVAL);
}

/* a token without a per-token record is noted so (its lookup skipped after); one with a
 * record is looked up every time, so its family's revocation is seen */
static void test_unlinked(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    oas_ctx_t *x = engine_ctx(p, env->iss, ENGINE_SHM, tok_now());
    const char *at, *why;
    json_t *c;
    int unlinked = 0;

    tok_exchange(x, env, env->conf1, "openid", &at);
    assert_int_equal(oas_token_verify_access(&c, p, env->iss, at, x->now), APR_SUCCESS);
    assert_int_equal(oas_live_claims(NULL, &why, x, c, &unlinked), APR_SUCCESS);
    assert_int_equal(unlinked, 1);
    /* a record linking it to a family that is gone: refused, and never noted as unlinked */
    assert_int_equal(oas_store_put(oas_ctx_store(x, OAS_CTX_LONG), p, OAS_NS_ACCESS,
                                   oas_json_str(c, "jti"), "{\"fam\":\"gone\"}", 14,
                                   apr_time_from_sec(x->now + 60)),
                     APR_SUCCESS);
    unlinked = 0;
    assert_int_equal(oas_live_claims(NULL, &why, x, c, &unlinked), APR_EINVAL);
    assert_string_equal(why, "its grant was revoked");
    assert_int_equal(unlinked, 0);
    /* a revoked jti is refused whatever the note says */
    unlinked = 1;
    assert_int_equal(oas_store_put(oas_ctx_store(x, OAS_CTX_LONG), p, OAS_NS_REVOKED,
                                   oas_json_str(c, "jti"), "", 0, apr_time_from_sec(x->now + 60)),
                     APR_SUCCESS);
    assert_int_equal(oas_live_claims(NULL, &why, x, c, &unlinked), APR_EINVAL);
    assert_string_equal(why, "revoked");
}

static json_t *claims(const char *json)
{
    json_t *j = json_loads(json, 0, NULL);

    assert_non_null(j);
    return oas_json_adopt(unit_pool, j);
}

static void test_require_helpers(void **state)
{
    apr_pool_t *p = *state;
    json_t *c = claims("{\"sub\":\"alice\",\"scope\":\"openid api.read\",\"auth_time\":1,"
                       "\"groups\":[\"staff\",\"ops\"],\"level\":3,\"admin\":false}");
    json_t *cc = claims("{\"sub\":\"svc\",\"client_id\":\"svc\",\"scope\":\"api.read\"}");

    assert_null(oas_rs_missing_scopes(p, c, "api.read"));
    assert_null(oas_rs_missing_scopes(p, c, "api.read openid"));
    assert_string_equal(oas_rs_missing_scopes(p, c, "api.read api.write admin"),
                        "api.write admin");
    assert_int_equal(oas_rs_claim_is(p, c, "sub", "alice"), 1);
    assert_int_equal(oas_rs_claim_is(p, c, "sub", "Alice"), 0);
    assert_int_equal(oas_rs_claim_is(p, c, "groups", "ops"), 1);
    assert_int_equal(oas_rs_claim_is(p, c, "groups", "op"), 0);
    assert_int_equal(oas_rs_claim_is(p, c, "level", "3"), 1);
    assert_int_equal(oas_rs_claim_is(p, c, "admin", "false"), 1);
    assert_int_equal(oas_rs_claim_is(p, c, "missing", "x"), 0);
    assert_int_equal(oas_rs_has_user(c), 1);
    assert_int_equal(oas_rs_has_user(cc), 0);
}

static void put(void *baton, const char *name, const char *value)
{
    apr_table_set(baton, name, value);
}

static void test_env(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *t = apr_table_make(p, 8);
    json_t *c = claims("{\"sub\":\"alice\",\"client_id\":\"app\",\"scope\":\"a b\","
                       "\"auth_time\":17,\"groups\":[\"x\",\"y\"],\"cnf\":{\"jkt\":\"K\"},"
                       "\"mixed\":[1,\"a\"],\"bad-name\":\"v\",\"ok\":true}");

    oas_rs_env(p, c, put, t);
    assert_string_equal(apr_table_get(t, "OAUTH_AS_CLIENT_ID"), "app");
    assert_string_equal(apr_table_get(t, "OAUTH_AS_SCOPE"), "a b");
    assert_string_equal(apr_table_get(t, "OAUTH_AS_SUBJECT_TYPE"), "user");
    assert_string_equal(apr_table_get(t, "OAUTH_AS_CLAIM_sub"), "alice");
    assert_string_equal(apr_table_get(t, "OAUTH_AS_CLAIM_auth_time"), "17");
    assert_string_equal(apr_table_get(t, "OAUTH_AS_CLAIM_groups"), "x y");
    assert_string_equal(apr_table_get(t, "OAUTH_AS_CLAIM_cnf"), "{\"jkt\":\"K\"}");
    assert_string_equal(apr_table_get(t, "OAUTH_AS_CLAIM_mixed"), "[1,\"a\"]");
    assert_string_equal(apr_table_get(t, "OAUTH_AS_CLAIM_ok"), "true");
    assert_null(apr_table_get(t, "OAUTH_AS_CLAIM_bad-name"));
}

static void test_metadata_url(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(oas_rs_metadata_url(p, "https://rs.test/api"),
                        "https://rs.test/.well-known/oauth-protected-resource/api");
    assert_string_equal(oas_rs_metadata_url(p, "https://rs.test:8443/"),
                        "https://rs.test:8443/.well-known/oauth-protected-resource");
    assert_string_equal(oas_rs_metadata_url(p, "https://rs.test"),
                        "https://rs.test/.well-known/oauth-protected-resource");
    assert_null(oas_rs_metadata_url(p, "urn:api"));
    assert_null(oas_rs_metadata_url(p, "http://rs.test/api"));
    assert_null(oas_rs_metadata_url(p, "https://rs.test/api?x=1"));
    assert_null(oas_rs_metadata_url(p, "https://rs.test/api#f"));
}

static void test_challenges(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = fixture_issuer(p, 0);
    apr_array_header_t *l;
    const char *md = "https://rs.test/.well-known/oauth-protected-resource/api";

    iss->client_signing_algs = (int)OAS_ALGBIT(OAS_ALG_ES256);
    l = oas_rs_challenges(p, iss, OAS_RS_NONE, NULL, NULL, NULL, md);
    assert_int_equal(l->nelts, 2);
    assert_string_equal(APR_ARRAY_IDX(l, 0, const char *), apr_pstrcat(p, "Bearer resource_metadata=\"", md, "\"", NULL));
    assert_string_equal(APR_ARRAY_IDX(l, 1, const char *),
                        apr_pstrcat(p, "DPoP resource_metadata=\"", md, "\", algs=\"ES256\"", NULL));
    l = oas_rs_challenges(p, iss, OAS_RS_BEARER, "insufficient_scope", "d", "a b", NULL);
    assert_string_equal(APR_ARRAY_IDX(l, 0, const char *),
                        "Bearer error=\"insufficient_scope\", error_description=\"d\", "
                        "scope=\"a b\"");
    assert_string_equal(APR_ARRAY_IDX(l, 1, const char *), "DPoP algs=\"ES256\"");
    /* a proof's error goes on the DPoP line */
    l = oas_rs_challenges(p, iss, OAS_RS_BEARER, "use_dpop_nonce", "n", NULL, NULL);
    assert_string_equal(APR_ARRAY_IDX(l, 0, const char *), "Bearer");
    assert_string_equal(APR_ARRAY_IDX(l, 1, const char *),
                        "DPoP error=\"use_dpop_nonce\", error_description=\"n\", algs=\"ES256\"");
    /* DPoP off: Bearer only */
    iss->dpop = OAS_DPOP_OFF;
    l = oas_rs_challenges(p, iss, OAS_RS_NONE, NULL, NULL, NULL, NULL);
    assert_int_equal(l->nelts, 1);
}

static void test_metadata(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = fixture_issuer(p, 0);
    oas_resource_t *r = apr_hash_get(iss->resources, "urn:api", APR_HASH_KEY_STRING);
    json_t *doc;

    r->scopes = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(r->scopes, const char *) = "api.read";
    iss->client_signing_algs = (int)OAS_ALGBIT(OAS_ALG_ES256);
    doc = claims(oas_rs_metadata_json(p, iss, "urn:api"));
    assert_string_equal(oas_json_str(doc, "resource"), "urn:api");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(doc, "authorization_servers"), 0)),
                        "https://as.test");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(doc, "scopes_supported"), 0)),
        "api.read");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(doc, "bearer_methods_supported"), 0)),
        "header");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(doc, "dpop_signing_alg_values_supported"), 0)),
                        "ES256");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_credential), UNIT_TEST(test_check),        UNIT_TEST(test_cache),
        UNIT_TEST(test_unlinked),      UNIT_TEST(test_require_helpers),
        UNIT_TEST(test_env),        UNIT_TEST(test_metadata_url), UNIT_TEST(test_challenges),
        UNIT_TEST(test_metadata),
    };

    return UNIT_RUN(tests);
}
