/* Unit tests: pool-owned jansson values, strict object parsing, typed getters. */
#include "oas_json.h"
#include "unit.h"

static void test_parse_rows(void **state)
{
    apr_pool_t *p = *state;
    static const struct {
        const char *in;
        apr_status_t rv;
    } rows[] = {
        {"{\"a\":1}", APR_SUCCESS},
        {"{}", APR_SUCCESS},
        {"{\"a\":1,\"a\":2}", APR_EINVAL}, /* duplicate member */
        {"[1]", APR_EINVAL},               /* not an object */
        {"\"x\"", APR_EINVAL},
        {"{\"a\":1} x", APR_EINVAL},         /* trailing data */
        {"{\"a\":\"\\u0000\"}", APR_EINVAL}, /* NUL inside a string */
        {"", APR_EINVAL},
        {"{", APR_EINVAL},
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        json_t *j;
        assert_int_equal(oas_json_parse(&j, p, rows[i].in, strlen(rows[i].in)), rows[i].rv);
        assert_true((j != NULL) == (rows[i].rv == APR_SUCCESS));
    }
}

static void test_getters_and_dumps(void **state)
{
    apr_pool_t *p = *state;
    const char *in = "{\"s\":\"v\",\"i\":42,\"n\":null,\"b\":\"\\u00e9\"}";
    json_t *j;

    assert_int_equal(oas_json_parse(&j, p, in, strlen(in)), APR_SUCCESS);
    assert_string_equal(oas_json_str(j, "s"), "v");
    assert_null(oas_json_str(j, "i"));
    assert_null(oas_json_str(j, "missing"));
    assert_null(oas_json_str(NULL, "s"));
    assert_int_equal(oas_json_int(j, "i", -1), 42);
    assert_int_equal(oas_json_int(j, "s", -1), -1);
    assert_int_equal(oas_json_int(j, "n", 7), 7);
    /* compact always, member order kept */
    assert_string_equal(oas_json_dumps(p, j, 0),
                        "{\"s\":\"v\",\"i\":42,\"n\":null,\"b\":\"\xc3\xa9\"}");
    assert_string_equal(
        oas_json_dumps(p, oas_json_adopt(p, json_pack("[i,i]", 1, 2)), JSON_INDENT(4)), "[1,2]");
    assert_null(oas_json_dumps(p, NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_parse_rows),
        UNIT_TEST(test_getters_and_dumps),
    };
    return UNIT_RUN(tests);
}
