/* Unit tests: CORS (oas_cors.c): which origins may be configured, which endpoints answer,
 * and what an Origin gets. */
#include "unit.h"

#include "oas_cors.h"

static void test_origin_valid(void **state)
{
    static const struct {
        const char *o;
        int ok;
    } rows[] = {
        {"*", 1},
        {"https://app.example", 1},
        {"https://app.example:8443", 1},
        {"http://127.0.0.1:6274", 1},
        {"http://[::1]:6274", 1},
        {"https://app.example/", 0},  /* a path */
        {"https://app.example/x", 0},
        {"https://App.example", 0},   /* browsers send lower case */
        {"https://app.example:", 0},
        {"https://app.example:1234567", 0},
        {"ftp://app.example", 0},
        {"app.example", 0},
        {"https://", 0},
        {"https://*.example", 0},
        {"null", 0},
        {"https://a.example https://b.example", 0},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (oas_cors_origin_valid(rows[i].o) != rows[i].ok)
            fail_msg("row %zu: %s", i, rows[i].o);
    }
}

static void test_methods(void **state)
{
    (void)state;
    assert_null(oas_cors_methods(OAS_EP_AUTHORIZE)); /* RFC 9700 §2.6: never */
    assert_null(oas_cors_methods(OAS_EP_PAR));
    assert_null(oas_cors_methods(OAS_EP_NONE));
    assert_string_equal(oas_cors_methods(OAS_EP_TOKEN), "POST");
    assert_string_equal(oas_cors_methods(OAS_EP_USERINFO), "GET, POST");
    assert_string_equal(oas_cors_methods(OAS_EP_REGISTER), "GET, POST, PUT, DELETE");
    assert_string_equal(oas_cors_methods(OAS_EP_METADATA), "GET");
    assert_string_equal(oas_cors_methods(OAS_EP_RESOURCE_METADATA), "GET");
}

static void test_allow(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = oas_issuer_make(p);

    assert_null(oas_cors_allow(iss, "https://app.example")); /* default: none */
    iss->cors_origins = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(iss->cors_origins, const char *) = "https://app.example";
    APR_ARRAY_PUSH(iss->cors_origins, const char *) = "http://127.0.0.1:6274";
    assert_string_equal(oas_cors_allow(iss, "https://app.example"), "https://app.example");
    assert_string_equal(oas_cors_allow(iss, "http://127.0.0.1:6274"), "http://127.0.0.1:6274");
    assert_null(oas_cors_allow(iss, "https://evil.example"));
    assert_null(oas_cors_allow(iss, "https://app.example.evil.example"));
    assert_null(oas_cors_allow(iss, "null"));
    assert_null(oas_cors_allow(iss, NULL));
    APR_ARRAY_PUSH(iss->cors_origins, const char *) = "*";
    assert_string_equal(oas_cors_allow(iss, "https://evil.example"), "*");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_origin_valid),
        UNIT_TEST(test_methods),
        UNIT_TEST(test_allow),
    };

    return UNIT_RUN(tests);
}
