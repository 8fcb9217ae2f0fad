/* Unit tests: form parser (RFC 6749 App. B, §3.1; SECURITY.md B04, B05, B06, K03). */
#include <apr_time.h>

#include "unit.h"
#include "oas_form.h"

/* The table flattened as "name=value|name=value", in input order. */
static const char *flatten(apr_pool_t *p, const apr_table_t *t)
{
    const apr_array_header_t *arr = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    const char *s = "";
    int i;

    for (i = 0; i < arr->nelts; i++)
        s = apr_pstrcat(p, s, i ? "|" : "", e[i].key, "=", e[i].val, NULL);
    return s;
}

static void test_parse_rows(void **state)
{
    apr_pool_t *p = *state;
    static const struct {
        const char *in;
        int max;
        apr_status_t rv;
        const char *out; /* flattened table on success, *pbad on failure */
    } rows[] = {
        { "", 64, APR_SUCCESS, "" },
        { "a=1&b=2", 64, APR_SUCCESS, "a=1|b=2" },
        { "a=1&&b=2", 64, APR_SUCCESS, "a=1|b=2" },
        { "&&a=1&", 64, APR_SUCCESS, "a=1" },
        { "scope=openid+profile", 64, APR_SUCCESS, "scope=openid profile" },
        { "scope=openid%20profile", 64, APR_SUCCESS, "scope=openid profile" },
        { "state=a%2Bb", 64, APR_SUCCESS, "state=a+b" },
        { "x=a%3Db%26c", 64, APR_SUCCESS, "x=a=b&c" },
        { "x=a=b", 64, APR_SUCCESS, "x=a=b" },
        { "na%6De=v", 64, APR_SUCCESS, "name=v" },
        { "u=%C3%A9%E2%9C%93", 64, APR_SUCCESS, "u=\xc3\xa9\xe2\x9c\x93" },
        { "bom=%EF%BB%BFx", 64, APR_SUCCESS, "bom=\xef\xbb\xbfx" },
        { "flag", 64, APR_SUCCESS, "" },                         /* no '=': empty value */
        { "code_verifier=&a=1", 64, APR_SUCCESS, "a=1" },        /* empty = omitted (K03) */
        { "a=1&b=2&c=3", 3, APR_SUCCESS, "a=1|b=2|c=3" },
        /* broken percent-encoding (B04) */
        { "a=%zz", 64, APR_EINVAL, "a" },
        { "a=%", 64, APR_EINVAL, "a" },
        { "a=%4", 64, APR_EINVAL, "a" },
        { "a=x%4", 64, APR_EINVAL, "a" },
        { "a=%%41", 64, APR_EINVAL, "a" },
        { "%zz=1", 64, APR_EINVAL, "parameter" },
        /* invalid UTF-8 (B04) */
        { "a=%C0%AF", 64, APR_EINVAL, "a" },
        { "a=%ED%A0%80", 64, APR_EINVAL, "a" },
        { "a=%80", 64, APR_EINVAL, "a" },
        { "a=%F8%88%80%80%80", 64, APR_EINVAL, "a" },
        { "a=\xff", 64, APR_EINVAL, "a" },
        /* control characters (B05) */
        { "client_id=conf1%00x", 64, APR_EINVAL, "client_id" },
        { "state=a%0D%0ASet-Cookie:%20pwn=1", 64, APR_EINVAL, "state" },
        { "scope=a%09b", 64, APR_EINVAL, "scope" },
        { "scope=a%7Fb", 64, APR_EINVAL, "scope" },
        { "scope=a\nb", 64, APR_EINVAL, "scope" },
        { "a%00b=1", 64, APR_EINVAL, "parameter" },
        /* repeats, even identical or empty (RFC 6749 §3.1) */
        { "a=1&a=2", 64, APR_EINVAL, "a" },
        { "a=1&a=1", 64, APR_EINVAL, "a" },
        { "a=&a=1", 64, APR_EINVAL, "a" },
        { "a&a", 64, APR_EINVAL, "a" },
        { "client_id=x&CLIENT_ID=y", 64, APR_EINVAL, "CLIENT_ID" },
        { "x%22y=1&x%22y=2", 64, APR_EINVAL, "parameter" },      /* '"' never echoed */
        { "%3Cscript%3E=1&%3Cscript%3E=1", 64, APR_EINVAL, "parameter" },
        /* names */
        { "=v", 64, APR_EINVAL, "parameter" },
        /* too many pairs (B06) */
        { "a=1&b=2&c=3&d=4", 3, APR_EINVAL, "too_many_parameters" },
        { "a=1", 0, APR_EINVAL, "too_many_parameters" },
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        apr_table_t *t = (apr_table_t *)p; /* poison: must be reset */
        const char *bad = "poison";
        apr_status_t rv = oas_form_parse(&t, &bad, p, rows[i].in, strlen(rows[i].in),
                                         rows[i].max);
        if (rv != rows[i].rv)
            fail_msg("row %zu (%s): rv %d", i, rows[i].in, rv);
        if (rv == APR_SUCCESS) {
            assert_null(bad);
            assert_non_null(t);
            if (strcmp(flatten(p, t), rows[i].out) != 0)
                fail_msg("row %zu (%s): got '%s'", i, rows[i].in, flatten(p, t));
        }
        else {
            assert_null(t);
            if (bad == NULL || strcmp(bad, rows[i].out) != 0)
                fail_msg("row %zu (%s): pbad '%s'", i, rows[i].in, bad ? bad : "(null)");
        }
    }
}

/* Lengths are honoured: no NUL terminator needed, and a raw NUL inside is a control char. */
static void test_length_bounded(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *t;
    const char *bad;

    assert_int_equal(oas_form_parse(&t, &bad, p, "a=1&b=2XYZ", 7, 64), APR_SUCCESS);
    assert_string_equal(apr_table_get(t, "b"), "2");
    assert_int_equal(oas_form_parse(&t, &bad, p, "a=%4", 3, 64), APR_EINVAL); /* "a=%" */
    assert_int_equal(oas_form_parse(&t, &bad, p, "a=1\0b", 5, 64), APR_EINVAL);
    assert_string_equal(bad, "a");
}

static void test_value_length(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *t;
    const char *bad;
    char *in = apr_palloc(p, OAS_MAX_VALUE_LEN + 8);

    memcpy(in, "v=", 2);
    memset(in + 2, 'x', OAS_MAX_VALUE_LEN);
    assert_int_equal(oas_form_parse(&t, &bad, p, in, OAS_MAX_VALUE_LEN + 2, 64), APR_SUCCESS);
    assert_int_equal(strlen(apr_table_get(t, "v")), OAS_MAX_VALUE_LEN);
    in[OAS_MAX_VALUE_LEN + 2] = 'x';
    assert_int_equal(oas_form_parse(&t, &bad, p, in, OAS_MAX_VALUE_LEN + 3, 64), APR_EINVAL);
    assert_string_equal(bad, "v");
}

static apr_interval_time_t time_parse(apr_pool_t *p, int n, int dup)
{
    apr_pool_t *sub;
    apr_table_t *t;
    const char *bad, *body;
    apr_array_header_t *parts;
    apr_time_t start;
    apr_status_t rv;
    int i;

    apr_pool_create(&sub, p);
    parts = apr_array_make(sub, n, sizeof(const char *));
    for (i = 0; i < n; i++)
        APR_ARRAY_PUSH(parts, const char *) = apr_psprintf(sub, "p%d=v%d&", i, i);
    if (dup)
        APR_ARRAY_PUSH(parts, const char *) = "p0=again";
    body = apr_array_pstrcat(sub, parts, 0);
    start = apr_time_now();
    rv = oas_form_parse(&t, &bad, sub, body, strlen(body), n + 1);
    start = apr_time_now() - start;
    if (dup) {
        assert_int_equal(rv, APR_EINVAL);
        assert_string_equal(bad, "p0");
    }
    else {
        assert_int_equal(rv, APR_SUCCESS);
        assert_int_equal(apr_table_elts(t)->nelts, n);
        assert_string_equal(apr_table_get(t, "p1234"), "v1234");
    }
    apr_pool_destroy(sub);
    return start;
}

/* SECURITY.md B06: time(10x pairs) must stay far below 100x (quadratic); generous bound. */
static void test_parse_first(void **state)
{
    apr_pool_t *p = *state;
    apr_table_t *t;
    const char *dup;
    const char *q = "client_id=a&state=1&STATE=2&state=3&scope=x";

    assert_int_equal(oas_form_parse_first(&t, &dup, p, q, strlen(q), 64), APR_SUCCESS);
    assert_string_equal(dup, "state");
    assert_string_equal(apr_table_get(t, "state"), "1");
    assert_string_equal(apr_table_get(t, "scope"), "x");
    q = "a=1&b=2";
    assert_int_equal(oas_form_parse_first(&t, &dup, p, q, strlen(q), 64), APR_SUCCESS);
    assert_null(dup);
    q = "a=%zz&a=1";
    assert_int_equal(oas_form_parse_first(&t, &dup, p, q, strlen(q), 64), APR_EINVAL);
}

static void test_linear_time(void **state)
{
    apr_pool_t *p = *state;
    apr_interval_time_t small = time_parse(p, 2000, 0);
    apr_interval_time_t big = time_parse(p, 20000, 0);

    if (big > 30 * small + apr_time_from_msec(50))
        fail_msg("2,000 pairs: %" APR_TIME_T_FMT " us, 20,000 pairs: %" APR_TIME_T_FMT " us",
                 small, big);
    time_parse(p, 10000, 1); /* the repeat is found after 10,000 distinct names */
    big = time_parse(p, 10000, 0);
    assert_true(big < apr_time_from_sec(1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_parse_rows),
        UNIT_TEST(test_length_bounded),
        UNIT_TEST(test_value_length),
        UNIT_TEST(test_parse_first),
        UNIT_TEST(test_linear_time),
    };
    return UNIT_RUN(tests);
}
