/* Unit tests: OAuthASRegistrationDefaults (oas_reg_policy.h): the directive's words and their
 * faults, the configtest checks, what a dynamic client may get, and max-clients counted on
 * both engine stores. */
#include "unit.h"

#include <apr_strings.h>

#include "engine_stores.h"
#include "oas_authz.h"
#include "oas_reg_policy.h"

/* An issuer with a resource of two scopes, the one dynamic clients may ask for, and a
 * configured client of a third. */
static oas_issuer_t *make_issuer(apr_pool_t *p)
{
    oas_issuer_t *iss = oas_issuer_make(p);
    oas_resource_t *r = oas_resource_make(p, "https://mcp.test");
    oas_client_t *c = oas_client_make(p, "rp");

    r->scopes = oas_scope_split(p, "tools.read tools.write");
    c->scopes = oas_scope_split(p, "admin");
    iss->issuer = "https://as.test";
    iss->resources = apr_hash_make(p);
    iss->clients = apr_hash_make(p);
    apr_hash_set(iss->resources, r->id, APR_HASH_KEY_STRING, r);
    apr_hash_set(iss->clients, c->id, APR_HASH_KEY_STRING, c);
    iss->registration_audiences = oas_scope_split(p, r->id);
    return iss;
}

static void test_parse(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = oas_issuer_make(p);

    assert_null(oas_reg_defaults_parse(iss, p, "scope=\"openid tools.read\" "
                                               "Access-Token-Lifetime=300 "
                                               "refresh-token-lifetime=600 client-lifetime=0 "
                                               "max-clients=5"));
    assert_int_equal(iss->reg_scopes->nelts, 2);
    assert_string_equal(APR_ARRAY_IDX(iss->reg_scopes, 1, const char *), "tools.read");
    assert_int_equal(iss->reg_at_ttl, 300);
    assert_int_equal(iss->reg_rt_ttl, 600);
    assert_int_equal(iss->reg_client_ttl, 0);
    assert_int_equal(oas_reg_client_ttl(iss), OAS_REG_FOREVER);
    assert_int_equal(iss->reg_max_clients, 5);
    /* the whole word quoted, as httpd's own directives take it */
    iss = oas_issuer_make(p);
    assert_null(oas_reg_defaults_parse(iss, p, "'scope=openid profile'"));
    assert_int_equal(iss->reg_scopes->nelts, 2);
    assert_int_equal(iss->reg_at_ttl, OAS_UNSET);
    assert_int_equal(oas_iss_reg_client_ttl(iss), OAS_DEFAULT_REG_CLIENT_TTL);
    assert_int_equal(oas_iss_reg_max_clients(iss), OAS_DEFAULT_REG_MAX_CLIENTS);
}

static void test_parse_faults(void **state)
{
    apr_pool_t *p = *state;
    static const char *const bad[][2] = {
        {"", "needs at least one"},
        {"scope", "is not KEY=VALUE"},
        {"=openid", "is not KEY=VALUE"},
        {"scope=\"openid", "quote is not closed"},
        {"scope=\"\"", "scope=''"},
        {"scope=\"a\\\\b\"", "is not a space-separated"},
        {"lifetime=3", "unknown key 'lifetime'"},
        {"max-clients=1 MAX-CLIENTS=2", "max-clients is given twice"},
        {"max-clients=-1", "max-clients='-1' is not a number"},
        {"max-clients=x", "is not a number"},
        {"access-token-lifetime=0", "access-token-lifetime='0'"},
        {"refresh-token-lifetime=1e3", "refresh-token-lifetime='1e3'"},
        {"client-lifetime=99999999999", "client-lifetime='99999999999'"},
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *err = oas_reg_defaults_parse(oas_issuer_make(p), p, bad[i][0]);
        assert_non_null(err);
        assert_true(strstr(err, "OAuthASRegistrationDefaults: ") == err);
        if (!strstr(err, bad[i][1]))
            fail_msg("%s: %s", bad[i][0], err);
    }
}

static void test_check(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p);
    apr_array_header_t *faults = apr_array_make(p, 2, sizeof(const char *));

    assert_null(oas_reg_defaults_parse(iss, p, "scope=\"openid admin tools.write\" "
                                               "access-token-lifetime=3600"));
    oas_reg_defaults_check(faults, p, iss);
    assert_int_equal(faults->nelts, 0);
    assert_null(oas_reg_defaults_parse(iss, p, "scope=\"openid nowhere\" "
                                               "refresh-token-lifetime=2592001"));
    iss->reg_at_ttl = 3601;
    oas_reg_defaults_check(faults, p, iss);
    assert_int_equal(faults->nelts, 3);
    assert_non_null(strstr(APR_ARRAY_IDX(faults, 0, const char *), "scope: nowhere is no"));
    assert_non_null(strstr(APR_ARRAY_IDX(faults, 1, const char *),
                           "access-token-lifetime=3601 is longer than "
                           "OAuthASAccessTokenLifetime (3600)"));
    assert_non_null(strstr(APR_ARRAY_IDX(faults, 2, const char *),
                           "refresh-token-lifetime=2592001 is longer"));
}

static void test_apply(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p);
    oas_resource_t *r = (oas_resource_t *)oas_issuer_resource(iss, "https://mcp.test");
    oas_client_t *c = oas_client_make(p, "dyn-x");

    /* by default: the OpenID scopes and the registration audiences' */
    assert_true(oas_reg_scope_open(iss, "email") && oas_reg_scope_open(iss, "tools.write"));
    assert_false(oas_reg_scope_open(iss, "admin"));
    c->scopes = oas_scope_split(p, "admin openid tools.read");
    oas_reg_policy_apply(c, p, iss);
    assert_string_equal(apr_array_pstrcat(p, c->scopes, ' '), "openid tools.read");
    assert_ptr_equal(c->audiences, iss->registration_audiences);
    assert_int_equal(oas_client_at_ttl(iss, c, r), 3600);
    assert_int_equal(oas_client_rt_ttl(iss, c), OAS_DEFAULT_REFRESH_TOKEN_TTL);
    /* scope= narrows; lifetimes cap the resource's and the server's */
    assert_null(oas_reg_defaults_parse(iss, p, "scope=\"tools.read profile\" "
                                               "access-token-lifetime=300 "
                                               "refresh-token-lifetime=900"));
    assert_false(oas_reg_scope_open(iss, "openid"));
    c = oas_client_make(p, "dyn-x");
    c->scopes = oas_scope_split(p, "openid admin");
    oas_reg_policy_apply(c, p, iss);
    assert_string_equal(apr_array_pstrcat(p, c->scopes, ' '), "tools.read profile");
    assert_string_equal(apr_array_pstrcat(p, oas_reg_default_scopes(p, iss), ' '),
                        "tools.read profile");
    assert_int_equal(oas_client_at_ttl(iss, c, NULL), 300);
    r->at_ttl = 60;
    assert_int_equal(oas_client_at_ttl(iss, c, r), 60);
    r->at_ttl = 7200;
    assert_int_equal(oas_client_at_ttl(iss, c, r), 300);
    assert_int_equal(oas_client_rt_ttl(iss, c), 900);
    /* a configured client is never capped */
    assert_int_equal(oas_client_at_ttl(iss, oas_issuer_client(iss, "rp"), r), 7200);
}

static void test_max_clients(void **state)
{
    apr_pool_t *p = *state;
    int k, i;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_issuer_t *iss = make_issuer(p);
        apr_int64_t t0 = apr_time_sec(apr_time_now());
        oas_ctx_t *x = engine_ctx(p, iss, k, t0);
        oas_err_t e;

        assert_null(oas_reg_defaults_parse(iss, p, "max-clients=3 client-lifetime=80"));
        for (i = 0; i < 3; i++)
            assert_int_equal(oas_reg_count_take(x, &e), APR_SUCCESS);
        assert_int_not_equal(oas_reg_count_take(x, &e), APR_SUCCESS);
        assert_int_equal(e.status, 403);
        assert_string_equal(e.error, "access_denied");
        assert_non_null(strstr(e.detail, "OAS06830"));
        /* a refusal takes no place; a deletion gives one back */
        oas_reg_count_give_back(x, t0);
        assert_int_equal(oas_reg_count_take(x, &e), APR_SUCCESS);
        assert_int_not_equal(oas_reg_count_take(x, &e), APR_SUCCESS);
        /* a deleted client of a bucket that is gone gives back nothing */
        oas_reg_count_give_back(x, t0 - 1000);
        assert_int_not_equal(oas_reg_count_take(x, &e), APR_SUCCESS);
        /* still counted while the clients may live (80 s) */
        x->now = t0 + 70;
        assert_int_not_equal(oas_reg_count_take(x, &e), APR_SUCCESS);
        x->now = t0;
        /* another issuer on the same store counts its own */
        {
            oas_issuer_t *other = make_issuer(p);
            oas_ctx_t *y = engine_ctx(p, other, k, t0);
            other->issuer = "https://other.test";
            assert_null(oas_reg_defaults_parse(other, p, "max-clients=1"));
            y->store[OAS_CTX_LONG] = x->store[OAS_CTX_LONG];
            assert_int_equal(oas_reg_count_take(y, &e), APR_SUCCESS);
            assert_int_not_equal(oas_reg_count_take(y, &e), APR_SUCCESS);
        }
        /* max-clients=0: no limit, nothing counted */
        iss->reg_max_clients = 0;
        assert_int_equal(oas_reg_count_take(x, &e), APR_SUCCESS);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_parse),   UNIT_TEST(test_parse_faults), UNIT_TEST(test_check),
        UNIT_TEST(test_apply),   UNIT_TEST(test_max_clients),
    };
    return UNIT_RUN(tests);
}
