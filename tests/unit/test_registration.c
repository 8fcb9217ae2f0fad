/* Unit tests: dynamic client registration (oas_registration.h) on both engine stores:
 * metadata validation (invalid_redirect_uri, invalid_client_metadata), the response, the
 * record oas_ctx_client reads back, the initial access tokens, and RFC 7592 read, update and
 * delete with the registration access token. */
#include "unit.h"

#include <apr_md5.h>
#include <apr_strings.h>
#include <jansson.h>

#include "engine_stores.h"
#include "oas_clients.h"
#include "oas_json.h"
#include "oas_profile.h"
#include "oas_reg_policy.h"
#include "oas_registration.h"

static oas_issuer_t *make_issuer(apr_pool_t *p)
{
    oas_issuer_t *iss = oas_issuer_make(p);
    oas_resource_t *r = oas_resource_make(p, "https://mcp.test");

    iss->issuer = iss->issuer_origin = "https://as.test";
    iss->clients = apr_hash_make(p);
    iss->resources = apr_hash_make(p);
    r->scopes = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(r->scopes, const char *) = "tools";
    apr_hash_set(iss->resources, r->id, APR_HASH_KEY_STRING, r);
    iss->registration = OAS_REG_OPEN;
    iss->registration_audiences = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(iss->registration_audiences, const char *) = "https://mcp.test";
    iss->endpoints[OAS_EP_REGISTER] = "/register";
    return iss;
}

static json_t *create(oas_ctx_t *x, const char *body, oas_err_t *e)
{
    const char *out = NULL;
    json_t *j;

    if (oas_reg_create(&out, e, x, body, strlen(body)) != APR_SUCCESS)
        return NULL;
    assert_int_equal(oas_json_parse(&j, x->p, out, strlen(out)), APR_SUCCESS);
    return j;
}

static void refused(oas_ctx_t *x, const char *body, const char *code)
{
    oas_err_t e;

    assert_null(create(x, body, &e));
    assert_int_equal(e.status, 400);
    assert_string_equal(e.error, code);
}

#define RU "\"redirect_uris\":[\"http://127.0.0.1/cb\"]"

static void test_validation(void **state)
{
    apr_pool_t *p = *state;
    oas_ctx_t *x = engine_ctx(p, make_issuer(p), ENGINE_SHM, apr_time_sec(apr_time_now()));
    static const char *const bad_uri[] = {
        "{}",
        "{\"redirect_uris\":[]}",
        "{\"redirect_uris\":\"https://a.test/cb\"}",
        "{\"redirect_uris\":[\"http://rp.test/cb\"]}",
        "{\"redirect_uris\":[\"http://localhost/cb\"]}",
        "{\"redirect_uris\":[\"https://rp.test/cb#f\"]}",
        "{\"redirect_uris\":[\"http://127.0.0.1.evil.test/cb\"]}",
        "{\"redirect_uris\":[\"com.example.app:/cb\"]}",
        "{\"redirect_uris\":[1]}",
        "{\"redirect_uris\":[\"https://a/1\",\"https://a/2\",\"https://a/3\",\"https://a/4\","
        "\"https://a/5\",\"https://a/6\",\"https://a/7\",\"https://a/8\",\"https://a/9\","
        "\"https://a/10\",\"https://a/11\"]}",
    };
    static const char *const bad_md[] = {
        "", "[]", "{\"a\":1,\"a\":2}",
        "{" RU ",\"token_endpoint_auth_method\":\"client_secret_jwt\"}",
        "{" RU ",\"token_endpoint_auth_method\":\"tls_client_auth\"}",
        "{" RU ",\"token_endpoint_auth_method\":7}",
        "{" RU ",\"token_endpoint_auth_method\":\"private_key_jwt\"}",
        "{" RU ",\"token_endpoint_auth_method\":\"none\",\"grant_types\":[\"authorization_code\","
        "\"client_credentials\"]}",
        "{" RU ",\"grant_types\":[\"password\"]}",
        "{" RU ",\"grant_types\":[\"implicit\"]}",
        "{" RU ",\"response_types\":[\"token\"]}",
        "{" RU ",\"response_types\":[\"code\",\"id_token\"]}",
        "{" RU ",\"scope\":\"admin\"}",
        "{" RU ",\"scope\":\"\"}",
        "{" RU ",\"scope\":7}",
        "{" RU ",\"client_name\":\"\"}",
        "{" RU ",\"jwks_uri\":\"http://rp.test/jwks\",\"token_endpoint_auth_method\":"
        "\"private_key_jwt\"}",
        "{" RU ",\"jwks\":{\"keys\":[]},\"token_endpoint_auth_method\":\"private_key_jwt\"}",
        "{" RU ",\"jwks\":{},\"jwks_uri\":\"https://rp.test/j\"}",
        "{" RU ",\"post_logout_redirect_uris\":[]}",
        "{" RU ",\"post_logout_redirect_uris\":\"https://rp.test/bye\"}",
        "{" RU ",\"post_logout_redirect_uris\":[\"http://rp.test/bye\"]}",
        "{" RU ",\"post_logout_redirect_uris\":[\"https://rp.test/bye#f\"]}",
        "{" RU ",\"post_logout_redirect_uris\":[7]}",
    };
    size_t i;

    for (i = 0; i < sizeof(bad_uri) / sizeof(bad_uri[0]); i++)
        refused(x, bad_uri[i], "invalid_redirect_uri");
    for (i = 0; i < sizeof(bad_md) / sizeof(bad_md[0]); i++)
        refused(x, bad_md[i], "invalid_client_metadata");
}

/* post_logout_redirect_uris (RP-Initiated Logout 1.0 §3.1): echoed, and the client read back
 * has them for the end-session endpoint */
static void test_post_logout_redirect_uris(void **state)
{
    apr_pool_t *p = *state;
    oas_ctx_t *x = engine_ctx(p, make_issuer(p), ENGINE_SHM, apr_time_sec(apr_time_now()));
    const oas_client_t *c;
    oas_err_t e;
    json_t *j = create(x,
                       "{" RU ",\"token_endpoint_auth_method\":\"none\","
                       "\"post_logout_redirect_uris\":[\"https://rp.test/bye\","
                       "\"http://127.0.0.1:8080/bye\"]}",
                       &e);

    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "post_logout_redirect_uris")), 2);
    x->reg_client = NULL;
    c = oas_ctx_client(x, oas_json_str(j, "client_id"));
    assert_non_null(c);
    assert_int_equal(c->post_logout_redirect_uris->nelts, 2);
    assert_string_equal(APR_ARRAY_IDX(c->post_logout_redirect_uris, 0, const char *),
                        "https://rp.test/bye");
    /* without them: none */
    j = create(x, "{" RU ",\"token_endpoint_auth_method\":\"none\"}", &e);
    x->reg_client = NULL;
    c = oas_ctx_client(x, oas_json_str(j, "client_id"));
    assert_non_null(c);
    assert_null(c->post_logout_redirect_uris);
}

/* a server-level FAPI 2.0 profile: only the methods it allows */
static void test_profile(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p);
    oas_ctx_t *x = engine_ctx(p, iss, ENGINE_SHM, apr_time_sec(apr_time_now()));

    iss->profile = OAS_PROFILE_FAPI2;
    refused(x, "{" RU ",\"token_endpoint_auth_method\":\"none\"}", "invalid_client_metadata");
    refused(x, "{" RU "}", "invalid_client_metadata"); /* client_secret_basic */
}

static void test_register_and_manage(void **state)
{
    apr_pool_t *p = *state;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_issuer_t *iss = make_issuer(p);
        oas_ctx_t *x = engine_ctx(p, iss, k, apr_time_sec(apr_time_now()));
        oas_err_t e;
        const oas_client_t *c;
        const char *id, *rat, *out, *upd;
        json_t *j, *j2;

        /* a public agent: loopback redirect, the MCP resource's scope */
        j = create(x, "{\"redirect_uris\":[\"http://[::1]:4711/cb\"],\"client_name\":\"A\","
                      "\"token_endpoint_auth_method\":\"none\",\"scope\":\"openid tools\","
                      "\"grant_types\":[\"authorization_code\",\"refresh_token\"],"
                      "\"logo_uri\":\"https://x/l.png\"}",
                   &e);
        assert_non_null(j);
        id = oas_json_str(j, "client_id");
        rat = oas_json_str(j, "registration_access_token");
        assert_int_equal(strncmp(id, "dyn-", 4), 0);
        assert_int_equal(strlen(id), 4 + 22);
        assert_null(json_object_get(j, "client_secret"));
        assert_null(json_object_get(j, "logo_uri")); /* not kept, so not echoed */
        assert_string_equal(oas_json_str(j, "scope"), "openid tools");
        assert_string_equal(oas_json_str(j, "registration_client_uri"),
                            apr_pstrcat(p, "https://as.test/register/", id, NULL));
        assert_true(oas_json_int(j, "client_id_issued_at", 0) >= x->now);
        c = oas_ctx_client(x, id);
        assert_non_null(c);
        assert_true(oas_client_is_public(c));
        assert_string_equal(c->name, "A");
        /* RFC 7592: the token, and nothing else, opens it; an unknown client looks the same */
        assert_int_equal(oas_reg_manage(&out, &e, x, OAS_REG_READ, id, "wrong", NULL, 0),
                         APR_EINVAL);
        assert_int_equal(e.status, 401);
        assert_string_equal(e.error, "invalid_token");
        assert_int_equal(oas_reg_manage(&out, &e, x, OAS_REG_READ, id, NULL, NULL, 0), APR_EINVAL);
        assert_int_equal(e.status, 401);
        assert_int_equal(oas_reg_manage(&out, &e, x, OAS_REG_READ, "dyn-nosuch", rat, NULL, 0),
                         APR_EINVAL);
        assert_int_equal(e.status, 401);
        assert_int_equal(oas_reg_manage(&out, &e, x, OAS_REG_READ, id, rat, NULL, 0),
                         APR_SUCCESS);
        assert_int_equal(oas_json_parse(&j2, p, out, strlen(out)), APR_SUCCESS);
        assert_string_equal(oas_json_str(j2, "client_id"), id);
        /* update: to a confidential client, which gets a secret once */
        upd = apr_pstrcat(p, "{\"client_id\":\"", id, "\",\"redirect_uris\":[\"https://rp.test/"
                          "cb\"],\"grant_types\":[\"authorization_code\",\"client_credentials\"]"
                          ",\"token_endpoint_auth_method\":\"client_secret_post\"}", NULL);
        assert_int_equal(oas_reg_manage(&out, &e, x, OAS_REG_UPDATE, id, rat, "{}", 2),
                         APR_EINVAL);
        assert_string_equal(e.error, "invalid_request"); /* no client_id */
        assert_int_equal(oas_reg_manage(&out, &e, x, OAS_REG_UPDATE, id, rat, upd, strlen(upd)),
                         APR_SUCCESS);
        assert_int_equal(oas_json_parse(&j2, p, out, strlen(out)), APR_SUCCESS);
        assert_non_null(oas_json_str(j2, "client_secret"));
        assert_string_equal(oas_json_str(j2, "scope"), "openid");
        x->reg_client = NULL;
        c = oas_ctx_client(x, id);
        assert_non_null(c);
        assert_int_equal(c->auth_methods, OAS_AUTH_POST);
        assert_int_equal(c->grant_types, OAS_GRANT_CODE | OAS_GRANT_CC);
        assert_true(c->secret_hashed);
        assert_true(apr_password_validate(oas_json_str(j2, "client_secret"), c->secret) ==
                    APR_SUCCESS);
        /* delete: gone for every endpoint, and the token opens nothing any more */
        assert_int_equal(oas_reg_manage(&out, &e, x, OAS_REG_DELETE, id, "x", NULL, 0),
                         APR_EINVAL);
        assert_int_equal(oas_reg_manage(&out, &e, x, OAS_REG_DELETE, id, rat, NULL, 0),
                         APR_SUCCESS);
        x->reg_client = NULL;
        assert_null(oas_ctx_client(x, id));
        assert_int_equal(oas_reg_manage(&out, &e, x, OAS_REG_READ, id, rat, NULL, 0), APR_EINVAL);
        assert_int_equal(e.status, 401);
    }
}

/* every registration stores a client: an address may make OAuthASAddressQuota of them */
static void test_quota(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p);
    oas_ctx_t *x = engine_ctx(p, iss, ENGINE_SHM, apr_time_sec(apr_time_now()));
    oas_err_t e;

    iss->address_quota = 2;
    x->addr = "192.0.2.7";
    assert_non_null(create(x, "{" RU "}", &e));
    assert_non_null(create(x, "{" RU "}", &e));
    assert_null(create(x, "{" RU "}", &e));
    assert_int_equal(e.status, 429);
    assert_true(e.retry_after > 0);
    x->addr = "192.0.2.8"; /* another address has its own */
    assert_non_null(create(x, "{" RU "}", &e));
    /* a refused registration is not counted */
    refused(x, "{}", "invalid_redirect_uri");
    assert_non_null(create(x, "{" RU "}", &e));
}

/* OAuthASRegistrationDefaults: a registration narrowed to scope=, its expiry (kept by an
 * update), max-clients (a deletion gives a place back) */
static void test_defaults(void **state)
{
    apr_pool_t *p = *state;
    const char *out, *upd, *rat;
    json_t *a, *b;
    oas_err_t e;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_issuer_t *iss = make_issuer(p);
        oas_ctx_t *x = engine_ctx(p, iss, k, apr_time_sec(apr_time_now()));

        assert_null(oas_reg_defaults_parse(iss, p, "scope=\"openid tools\" max-clients=2 "
                                                   "client-lifetime=3600"));
        a = create(x, "{" RU ",\"scope\":\"openid profile tools\"}", &e);
        assert_non_null(a);
        assert_string_equal(oas_json_str(a, "scope"), "openid tools");
        assert_int_equal(oas_json_int(a, "client_secret_expires_at", 0), x->now + 3600);
        refused(x, "{" RU ",\"scope\":\"profile\"}", "invalid_client_metadata");
        b = create(x, "{" RU ",\"token_endpoint_auth_method\":\"none\"}", &e);
        assert_non_null(b);
        assert_null(json_object_get(b, "client_secret_expires_at")); /* no secret */
        assert_null(create(x, "{" RU "}", &e));
        assert_int_equal(e.status, 403);
        assert_string_equal(e.error, "access_denied");
        /* an update an hour later keeps the expiry of the registration */
        rat = oas_json_str(a, "registration_access_token");
        upd = apr_pstrcat(p, "{\"client_id\":\"", oas_json_str(a, "client_id"), "\"," RU "}",
                          NULL);
        x->now += 60;
        assert_int_equal(oas_reg_manage(&out, &e, x, OAS_REG_UPDATE,
                                        oas_json_str(a, "client_id"), rat, upd, strlen(upd)),
                         APR_SUCCESS);
        assert_non_null(strstr(out, apr_psprintf(p, "\"client_secret_expires_at\":"
                                                 "%" APR_INT64_T_FMT, x->now - 60 + 3600)));
        x->now -= 60;
        assert_int_equal(oas_reg_manage(&out, &e, x, OAS_REG_DELETE, oas_json_str(b, "client_id"),
                                        oas_json_str(b, "registration_access_token"), NULL, 0),
                         APR_SUCCESS);
        assert_non_null(create(x, "{" RU "}", &e));
    }
}

static void test_allowed(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p);

    assert_true(oas_reg_allowed(iss, NULL));
    iss->registration = OAS_REG_OFF;
    assert_false(oas_reg_allowed(iss, "t"));
    iss->registration = OAS_REG_TOKEN;
    assert_false(oas_reg_allowed(iss, "t"));
    iss->registration_tokens = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(iss->registration_tokens, const char *) = "first-token";
    APR_ARRAY_PUSH(iss->registration_tokens, const char *) = "second-token";
    assert_false(oas_reg_allowed(iss, NULL));
    assert_false(oas_reg_allowed(iss, "first-toke"));
    assert_false(oas_reg_allowed(iss, ""));
    assert_true(oas_reg_allowed(iss, "first-token"));
    assert_true(oas_reg_allowed(iss, "second-token"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_validation),
        UNIT_TEST(test_post_logout_redirect_uris),
        UNIT_TEST(test_register_and_manage),
        UNIT_TEST(test_quota),
        UNIT_TEST(test_profile),
        UNIT_TEST(test_allowed),
        UNIT_TEST(test_defaults),
    };
    return unit_run("registration", tests, sizeof(tests) / sizeof(tests[0]));
}
