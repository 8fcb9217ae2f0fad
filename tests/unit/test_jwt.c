/* Unit tests: claims of a verified JWT (oas_jwt_parse), the clock rules (oas_jwt_check_times)
 * and the audience comparison (oas_jwt_aud_is). */
#include "oas_jwt.h"
#include "unit.h"

static oas_jwt_t *parse(apr_pool_t *p, const char *json)
{
    oas_jwt_t *c = NULL;
    const char *err = NULL;

    if (oas_jwt_parse(&c, &err, p, json, strlen(json)) != APR_SUCCESS)
        fail_msg("claims refused (%s): %s", err, json);
    return c;
}

static void test_parse(void **state)
{
    apr_pool_t *p = *state;
    oas_jwt_t *c;

    c = parse(p, "{\"iss\":\"c1\",\"sub\":\"c1\",\"jti\":\"j\",\"aud\":\"https://as\","
                 "\"exp\":1700000100,\"nbf\":1700000000,\"iat\":1700000001,\"scope\":\"openid\"}");
    assert_string_equal(c->iss, "c1");
    assert_string_equal(c->sub, "c1");
    assert_string_equal(c->jti, "j");
    assert_string_equal(c->aud, "https://as");
    assert_false(c->aud_is_array);
    assert_true(c->has_exp && c->has_nbf && c->has_iat);
    assert_int_equal(c->exp, 1700000100);
    assert_int_equal(c->nbf, 1700000000);
    assert_int_equal(c->iat, 1700000001);
    assert_string_equal(oas_jobj_str(&c->claims, "scope"), "openid");

    /* nothing is required here; NumericDate fractions and exponents are dropped */
    c = parse(p, "{}");
    assert_null(c->iss);
    assert_null(c->aud);
    assert_false(c->has_exp || c->has_nbf || c->has_iat);
    c = parse(p, "{\"exp\":1700000100.9,\"iat\":1.7e9,\"nbf\":0,\"n\":{\"a\":[1.5,2E3]}}");
    assert_int_equal(c->exp, 1700000100);
    assert_int_equal(c->iat, 1700000000);
    assert_true(c->has_nbf);
    assert_int_equal(c->nbf, 0);
    c = parse(p, "{\"aud\":[\"a\",\"https://as\"]}");
    assert_null(c->aud);
    assert_true(c->aud_is_array);
    assert_int_equal(c->aud_array->nelts, 2);
    assert_string_equal(APR_ARRAY_IDX(c->aud_array, 1, const char *), "https://as");
}

static void test_parse_refused(void **state)
{
    apr_pool_t *p = *state;
    static const char *const rows[] = {
        "",
        "[]",
        "\"x\"",
        "{\"iss\":\"a\"",
        "{\"iss\":\"a\",\"iss\":\"b\"}",
        "{\"iss\":\"a\"} x",
        "{\"iss\":1}",
        "{\"sub\":null}",
        "{\"jti\":[\"j\"]}",
        "{\"aud\":1}",
        "{\"aud\":[]}",
        "{\"aud\":[1]}",
        "{\"aud\":[\"a\",null]}",
        "{\"aud\":{\"a\":1}}",
        "{\"aud\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\",\"12\","
        "\"13\",\"14\",\"15\",\"16\",\"17\"]}",
        "{\"exp\":\"1700000000\"}",
        "{\"exp\":null}",
        "{\"exp\":true}",
        "{\"nbf\":-1}",
        "{\"iat\":-0.5}",
        "{\"exp\":1e300}",
        "{\"exp\":253402300800}",
        "{\"exp\":99999999999999999999}",
        "{\"exp\":01}",
        "{\"exp\":1.}",
        "{\"exp\":.5}",
        "{\"exp\":1e}",
        "{\"exp\":NaN}",
        "{\"exp\":Infinity}",
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        oas_jwt_t *c = (oas_jwt_t *)"x";
        const char *err = NULL;

        if (oas_jwt_parse(&c, &err, p, rows[i], strlen(rows[i])) != APR_EINVAL || c || !err)
            fail_msg("row %zu accepted: %s", i, rows[i]);
    }
}

static void test_times(void **state)
{
    apr_pool_t *p = *state;
    const apr_int64_t now = 1700000000;
    const struct {
        const char *json;
        int need_exp;
        apr_int64_t max_lifetime;
        int ok;
    } rows[] = {
        {"{\"exp\":1700000060}", 1, 0, 1},
        {"{}", 0, 0, 1},
        {"{}", 1, 0, 0},                     /* exp required */
        {"{\"iat\":1700000000}", 0, 300, 0}, /* a lifetime needs an exp */
        {"{\"exp\":1700000000}", 1, 0, 1},   /* expires now: within the leeway */
        {"{\"exp\":1699999990}", 1, 0, 1},   /* 10 s past: the leeway */
        {"{\"exp\":1699999989}", 1, 0, 0},   /* 11 s past */
        {"{\"exp\":1699999000}", 0, 0, 0},   /* expired even when not required */
        {"{\"iat\":1700000010}", 0, 0, 1},   /* 10 s ahead: accepted (contract) */
        {"{\"iat\":1700000030}", 0, 0, 1},   /* OAS_JWT_FUTURE_SKEW */
        {"{\"iat\":1700000031}", 0, 0, 0},
        {"{\"iat\":1700000061}", 0, 0, 0}, /* over 60 s: refused (contract) */
        {"{\"nbf\":1700000010,\"exp\":1700000100}", 1, 0, 1},
        {"{\"nbf\":1700000031,\"exp\":1700000100}", 1, 0, 0},
        {"{\"nbf\":1700000061}", 0, 0, 0}, /* nbf on its own, without exp */
        {"{\"iat\":1700000000,\"nbf\":1700000100,\"exp\":1700000200}", 0, 0, 0},
        {"{\"iat\":1699999990,\"exp\":1700000290}", 1, 300, 1}, /* lifetime exactly 300 */
        {"{\"iat\":1699999990,\"exp\":1700000291}", 1, 300, 0},
        {"{\"exp\":1700000300}", 1, 300, 1}, /* without iat: from now */
        {"{\"exp\":1700000301}", 1, 300, 0},
        {"{\"iat\":1600000000,\"exp\":1700000100}", 1, 300, 0}, /* an old iat: long-lived */
        {"{\"iat\":1600000000,\"exp\":1700000100}", 1, 0, 1},   /* ... unless no limit */
        {"{\"exp\":1.7000000605e9}", 1, 0, 1},
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        oas_jwt_t *c = parse(p, rows[i].json);
        const char *err = "unchanged";
        apr_status_t rv = oas_jwt_check_times(c, now, rows[i].need_exp, rows[i].max_lifetime, &err);

        if ((rv == APR_SUCCESS) != rows[i].ok || (rv == APR_SUCCESS) != (err == NULL))
            fail_msg("row %zu: %s -> %d (%s)", i, rows[i].json, rv, err ? err : "");
    }
}

static void test_aud(void **state)
{
    apr_pool_t *p = *state;
    oas_jwt_t *s = parse(p, "{\"aud\":\"https://as.example\"}");
    oas_jwt_t *a = parse(p, "{\"aud\":[\"x\",\"https://as.example\"]}");
    oas_jwt_t *one = parse(p, "{\"aud\":[\"https://as.example\"]}");
    oas_jwt_t *none = parse(p, "{}");

    assert_true(oas_jwt_aud_is(s, "https://as.example", 0));
    assert_true(oas_jwt_aud_is(s, "https://as.example", 1));
    /* exact: no trailing slash, case or prefix folding */
    assert_false(oas_jwt_aud_is(s, "https://as.example/", 1));
    assert_false(oas_jwt_aud_is(s, "https://AS.example", 1));
    assert_false(oas_jwt_aud_is(s, "https://as.exampl", 1));
    assert_false(oas_jwt_aud_is(s, NULL, 1));
    /* an array only when allowed, even with a single member */
    assert_false(oas_jwt_aud_is(a, "https://as.example", 0));
    assert_true(oas_jwt_aud_is(a, "https://as.example", 1));
    assert_false(oas_jwt_aud_is(a, "y", 1));
    assert_false(oas_jwt_aud_is(one, "https://as.example", 0));
    assert_true(oas_jwt_aud_is(one, "https://as.example", 1));
    assert_false(oas_jwt_aud_is(none, "https://as.example", 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_parse),
        UNIT_TEST(test_parse_refused),
        UNIT_TEST(test_times),
        UNIT_TEST(test_aud),
    };

    return UNIT_RUN(tests);
}
