/* Unit tests: the hot-path JSON writer (oas_jsonw) and reader (oas_jsonr), checked against
 * jansson: what one writes the other reads back, and both agree on what is valid. */
#include "oas_json.h"
#include "oas_jsonr.h"
#include "oas_jsonw.h"
#include "unit.h"

static void test_writer_escapes_and_skips(void **state)
{
    apr_pool_t *p = *state;
    oas_jsonw_t w;
    json_t *j;
    const char *out;

    oas_jsonw_init(&w, p, 8); /* tiny: the buffer must grow */
    oas_jsonw_str(&w, "s", "a\"b\\c\n\x01/\xc3\xa9\xf0\x9f\x98\x80");
    oas_jsonw_str(&w, "empty", "");
    oas_jsonw_str(&w, "null", NULL);
    oas_jsonw_int(&w, "i", -1234567890123LL);
    oas_jsonw_bool(&w, "t", 1);
    oas_jsonw_bool(&w, "f", 0);
    oas_jsonw_raw(&w, "o", "{\"x\":[1,2]}");
    out = oas_jsonw_end(&w);
    assert_string_equal(out, "{\"s\":\"a\\\"b\\\\c\\u000a\\u0001/\xc3\xa9\xf0\x9f\x98\x80\","
                             "\"i\":-1234567890123,\"t\":true,\"f\":false,\"o\":{\"x\":[1,2]}}");
    /* jansson reads it back to the same values */
    assert_int_equal(oas_json_parse(&j, p, out, strlen(out)), APR_SUCCESS);
    assert_string_equal(oas_json_str(j, "s"), "a\"b\\c\n\x01/\xc3\xa9\xf0\x9f\x98\x80");
    assert_int_equal(oas_json_int(j, "i", 0), -1234567890123LL);
    assert_null(json_object_get(j, "empty"));

    oas_jsonw_init(&w, p, 0);
    assert_string_equal(oas_jsonw_end(&w), "{}");
}

static void test_writer_refuses_bad_utf8(void **state)
{
    apr_pool_t *p = *state;
    static const char *const bad[] = {"\xff", "a\xc3", "\xc0\xaf", "\xed\xa0\x80",
                                      "\xf4\x90\x80\x80", "\x80"};
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        oas_jsonw_t w;
        oas_jsonw_init(&w, p, 64);
        oas_jsonw_str(&w, "k", bad[i]);
        assert_null(oas_jsonw_end(&w));
    }
}

static void test_reader_rows(void **state)
{
    apr_pool_t *p = *state;
    static const char *const valid[] = {
        "{}", " { \"a\" : 1 } ", "{\"a\":\"x\",\"b\":-0,\"c\":true,\"d\":false,\"e\":null}",
        "{\"a\":{\"b\":[1,{\"c\":\"d\"},[]],\"e\":{}}}", "{\"a\":\"\\ud83d\\ude00\\u00e9\\/\"}",
        "{\"a\":\"\xc3\xa9\"}", "{\"a\":[]}", "{\"a\":1234567890123456789}",
    };
    static const char *const invalid[] = {
        "", "{", "}", "[]", "\"x\"", "{\"a\":1,\"a\":2}", "{\"a\":1} x", "{\"a\":\"\\u0000\"}",
        "{\"a\":01}", "{\"a\":-}", "{\"a\":tru}", "{\"a\"}", "{\"a\":1,}", "{,}",
        "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\x01\"}",
        "{\"a\":\"\xff\"}", "{\"a\":\"\xc0\xaf\"}", "{\"a\":[1,]}", "{\"a\":\"abc",
        "{\"a\":\"abc\\", "{\"a\":{\"b\":1", "{a:1}", "{\"a\":1 \"b\":2}",
        /* valid JSON that our records never hold: refused by us only */
        "{\"a\":1.5}", "{\"a\":1e3}",
    };
    size_t i;
    oas_jobj_t o;
    json_t *j;

    /* never more lenient than jansson */
    for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        assert_int_equal(oas_jsonr_parse(&o, p, valid[i], strlen(valid[i])), APR_SUCCESS);
        assert_int_equal(oas_json_parse(&j, p, valid[i], strlen(valid[i])), APR_SUCCESS);
    }
    for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
        assert_int_equal(oas_jsonr_parse(&o, p, invalid[i], strlen(invalid[i])), APR_EINVAL);
}

static void test_reader_values(void **state)
{
    apr_pool_t *p = *state;
    const char *in = "{\"s\":\"a\\\"\\n\\u00e9\\ud83d\\ude00\",\"i\":-42,\"t\":true,"
                     "\"o\":{\"x\":[1, 2]},\"n\":null}";
    oas_jobj_t o;

    assert_int_equal(oas_jsonr_parse(&o, p, in, strlen(in)), APR_SUCCESS);
    assert_int_equal(o.n, 5);
    assert_string_equal(oas_jobj_str(&o, "s"), "a\"\n\xc3\xa9\xf0\x9f\x98\x80");
    assert_int_equal(oas_jobj_int(&o, "i", 0), -42);
    assert_int_equal(oas_jobj_int(&o, "s", 7), 7);
    assert_int_equal(oas_jobj_get(&o, "t")->type, OAS_JSON_TRUE);
    assert_string_equal(oas_jobj_object(&o, "o"), "{\"x\":[1, 2]}");
    assert_null(oas_jobj_object(&o, "s"));
    assert_null(oas_jobj_str(&o, "missing"));
    assert_int_equal(oas_jobj_get(&o, "n")->type, OAS_JSON_NULL);
}

/* Found by fuzz_jsonr: 19-digit integers inside int64 were refused; now the reader takes
 * exactly jansson's range, and both refuse what is outside it. */
static void test_reader_int64_range(void **state)
{
    apr_pool_t *p = *state;
    static const struct {
        const char *json;
        apr_int64_t v;
    } ok[] = {
        {"{\"a\":9223372036854775807}", APR_INT64_MAX},
        {"{\"a\":-9223372036854775808}", APR_INT64_MIN},
        {"{\"a\":1000000000000000000}", 1000000000000000000LL},
        {"{\"a\":-0}", 0},
    };
    static const char *const bad[] = {
        "{\"a\":9223372036854775808}", "{\"a\":-9223372036854775809}",
        "{\"a\":18446744073709551616}", "{\"a\":99999999999999999999}",
        "{\"a\":[9223372036854775808]}",
    };
    oas_jobj_t o;
    json_t *j;
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(oas_jsonr_parse(&o, p, ok[i].json, strlen(ok[i].json)), APR_SUCCESS);
        assert_true(oas_jobj_int(&o, "a", 7) == ok[i].v);
        assert_int_equal(oas_json_parse(&j, p, ok[i].json, strlen(ok[i].json)), APR_SUCCESS);
        assert_true(oas_json_int(j, "a", 7) == ok[i].v);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(oas_jsonr_parse(&o, p, bad[i], strlen(bad[i])), APR_EINVAL);
        assert_int_equal(oas_json_parse(&j, p, bad[i], strlen(bad[i])), APR_EINVAL);
    }
}

/* Found by fuzz_jsonr: a duplicate name inside a nested object passed (jansson refuses it at
 * every depth); names are compared decoded. Nested objects have the member limit too. */
static void test_reader_nested_names(void **state)
{
    apr_pool_t *p = *state;
    static const char *const bad[] = {
        "{\"a\":{\"b\":1,\"b\":2}}",
        "{\"a\":[{\"x\":1,\"x\":1}]}",
        "{\"a\":{\"b\":1,\"\\u0062\":2}}",
        "{\"a\":{\"c\":{},\"d\":[{\"\\u00e9\":0,\"\xc3\xa9\":1}]}}",
    };
    const char *ok = "{\"a\":{\"b\":1,\"c\":{\"b\":2},\"d\":[{\"b\":3},{\"b\":4}]},\"b\":0}";
    apr_array_header_t *parts = apr_array_make(p, 300, sizeof(const char *));
    const char *big;
    oas_jobj_t o;
    json_t *j;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(oas_jsonr_parse(&o, p, bad[i], strlen(bad[i])), APR_EINVAL);
        assert_int_equal(oas_json_parse(&j, p, bad[i], strlen(bad[i])), APR_EINVAL);
    }
    assert_int_equal(oas_jsonr_parse(&o, p, ok, strlen(ok)), APR_SUCCESS);
    assert_string_equal(oas_jobj_object(&o, "a"),
                        "{\"b\":1,\"c\":{\"b\":2},\"d\":[{\"b\":3},{\"b\":4}]}");

    for (i = 0; i < OAS_JSONR_MAX_MEMBERS; i++)
        APR_ARRAY_PUSH(parts, const char *) = apr_psprintf(p, "\"k%d\":%d", (int)i, (int)i);
    big = apr_pstrcat(p, "{\"a\":{", apr_array_pstrcat(p, parts, ','), "}}", NULL);
    assert_int_equal(oas_jsonr_parse(&o, p, big, strlen(big)), APR_SUCCESS);
    APR_ARRAY_PUSH(parts, const char *) = "\"one_more\":0";
    big = apr_pstrcat(p, "{\"a\":{", apr_array_pstrcat(p, parts, ','), "}}", NULL);
    assert_int_equal(oas_jsonr_parse(&o, p, big, strlen(big)), APR_EINVAL); /* by design */
}

/* Found by fuzz_jsonr: jansson drops a NUL byte that follows a number or a literal and
 * accepts {"a":1<NUL>}; the reader refuses a NUL byte anywhere (oas_jsonr.h). */
static void test_reader_nul_byte(void **state)
{
    apr_pool_t *p = *state;
    static const char in[] = "{\"a\":\"\\t\",\"b\":null\0}";
    static const char in2[] = "{\"a\":1\0}";
    oas_jobj_t o;

    assert_int_equal(oas_jsonr_parse(&o, p, in, sizeof(in) - 1), APR_EINVAL);
    assert_int_equal(oas_jsonr_parse(&o, p, in2, sizeof(in2) - 1), APR_EINVAL);
    assert_int_equal(oas_jsonr_parse(&o, p, in2, sizeof(in2) - 2), APR_EINVAL); /* no '}' */
}

/* Objects and arrays nest; inside an array the writers take no key. */
static void test_writer_nesting(void **state)
{
    apr_pool_t *p = *state;
    static const char *const list[] = {"a", "", NULL, "b\"c"};
    oas_jsonw_t w;
    const char *out;
    oas_jobj_t o;
    json_t *j;

    oas_jsonw_init(&w, p, 4);
    oas_jsonw_str(&w, "s", "x");
    oas_jsonw_object(&w, "o");
    oas_jsonw_int(&w, "i", 1);
    oas_jsonw_array(&w, "a");
    oas_jsonw_str(&w, NULL, "e\xc3\xa9");
    oas_jsonw_int(&w, NULL, -2);
    oas_jsonw_bool(&w, NULL, 0);
    oas_jsonw_raw(&w, NULL, "null");
    oas_jsonw_object(&w, NULL);
    oas_jsonw_close(&w);
    oas_jsonw_array(&w, NULL);
    oas_jsonw_close(&w);
    oas_jsonw_object(&w, NULL);
    oas_jsonw_str(&w, "k\n", "v");
    oas_jsonw_close(&w);
    oas_jsonw_close(&w);
    oas_jsonw_close(&w);
    oas_jsonw_strs(&w, "l", list, 4);
    oas_jsonw_strs(&w, "none", list, 0);
    oas_jsonw_object(&w, "empty");
    oas_jsonw_close(&w);
    oas_jsonw_bool(&w, "t", 1);
    out = oas_jsonw_end(&w);
    assert_string_equal(out, "{\"s\":\"x\",\"o\":{\"i\":1,\"a\":[\"e\xc3\xa9\",-2,false,null,{},[],"
                             "{\"k\\u000a\":\"v\"}]},\"l\":[\"a\",\"\",\"b\\\"c\"],\"none\":[],"
                             "\"empty\":{},\"t\":true}");
    assert_int_equal(w.n, 19);
    assert_int_equal(oas_json_parse(&j, p, out, strlen(out)), APR_SUCCESS);
    assert_int_equal(oas_jsonr_parse(&o, p, out, strlen(out)), APR_SUCCESS);
    assert_int_equal(o.n, 6);
    assert_int_equal(oas_jobj_get(&o, "l")->type, OAS_JSON_ARRAY);
}

/* Whatever is written wrong makes the whole text fail, never half a document. */
static void test_writer_refuses_misuse(void **state)
{
    apr_pool_t *p = *state;
    oas_jsonw_t w;
    int i;

    oas_jsonw_init(&w, p, 64); /* an element where a member belongs */
    oas_jsonw_str(&w, NULL, "x");
    assert_null(oas_jsonw_end(&w));

    oas_jsonw_init(&w, p, 64); /* a member inside an array */
    oas_jsonw_array(&w, "a");
    oas_jsonw_int(&w, "k", 1);
    oas_jsonw_close(&w);
    assert_null(oas_jsonw_end(&w));

    oas_jsonw_init(&w, p, 64); /* left open */
    oas_jsonw_object(&w, "o");
    assert_null(oas_jsonw_end(&w));

    oas_jsonw_init(&w, p, 64); /* closed once too often */
    oas_jsonw_array(&w, "a");
    oas_jsonw_close(&w);
    oas_jsonw_close(&w);
    assert_null(oas_jsonw_end(&w));

    oas_jsonw_init(&w, p, 64); /* invalid UTF-8 in an element and in a nested key */
    oas_jsonw_array(&w, "a");
    oas_jsonw_str(&w, NULL, "\xc3");
    oas_jsonw_close(&w);
    assert_null(oas_jsonw_end(&w));
    oas_jsonw_init(&w, p, 64);
    oas_jsonw_object(&w, "o");
    oas_jsonw_int(&w, "\xff", 1);
    oas_jsonw_close(&w);
    assert_null(oas_jsonw_end(&w));

    /* as deep as allowed, then one deeper */
    oas_jsonw_init(&w, p, 64);
    for (i = 1; i < OAS_JSONW_MAX_DEPTH; i++)
        oas_jsonw_array(&w, i == 1 ? "a" : NULL);
    for (i = 1; i < OAS_JSONW_MAX_DEPTH; i++)
        oas_jsonw_close(&w);
    assert_non_null(oas_jsonw_end(&w));
    oas_jsonw_init(&w, p, 64);
    for (i = 0; i < OAS_JSONW_MAX_DEPTH; i++)
        oas_jsonw_array(&w, i == 0 ? "a" : NULL);
    for (i = 0; i < OAS_JSONW_MAX_DEPTH; i++)
        oas_jsonw_close(&w);
    assert_null(oas_jsonw_end(&w));
}

/* Integers at the int64 limits are written in full and read back by both readers. */
static void test_writer_int64_limits(void **state)
{
    apr_pool_t *p = *state;
    oas_jsonw_t w;
    const char *out;
    oas_jobj_t o;
    json_t *j;

    oas_jsonw_init(&w, p, 16);
    oas_jsonw_int(&w, "max", APR_INT64_MAX);
    oas_jsonw_int(&w, "min", APR_INT64_MIN);
    oas_jsonw_array(&w, "a");
    oas_jsonw_int(&w, NULL, 0);
    oas_jsonw_int(&w, NULL, -1);
    oas_jsonw_close(&w);
    out = oas_jsonw_end(&w);
    assert_string_equal(out, "{\"max\":9223372036854775807,\"min\":-9223372036854775808,"
                             "\"a\":[0,-1]}");
    assert_int_equal(oas_jsonr_parse(&o, p, out, strlen(out)), APR_SUCCESS);
    assert_true(oas_jobj_int(&o, "max", 0) == APR_INT64_MAX);
    assert_true(oas_jobj_int(&o, "min", 0) == APR_INT64_MIN);
    assert_int_equal(oas_json_parse(&j, p, out, strlen(out)), APR_SUCCESS);
    assert_true(oas_json_int(j, "max", 0) == APR_INT64_MAX);
    assert_true(oas_json_int(j, "min", 0) == APR_INT64_MIN);
}

/* A jansson value (a claim that came in as JSON) comes out as jansson writes it compactly,
 * reals included; control characters are escaped our way, and read back the same. */
static void test_writer_jansson_value(void **state)
{
    apr_pool_t *p = *state;
    const char *in = "{\"s\":\"x\\u00e9\\\"/\",\"i\":-9223372036854775808,\"r\":[1.0,0.1,-0.0,"
                     "1e300,1.5e-7,123456789012345678901234567890.0,2.5],\"t\":true,\"f\":false,"
                     "\"n\":null,\"o\":{\"e\":{},\"a\":[[]],\"s\":\"\"}}";
    const char *ctl = "{\"c\":\"a\\n\\u0001\\t\"}";
    json_t *v, *back;
    oas_jsonw_t w;
    const char *out, *want;

    v = oas_json_adopt(p, json_loads(in, 0, NULL));
    assert_non_null(v);
    oas_jsonw_init(&w, p, 16);
    oas_jsonw_json(&w, "v", v);
    oas_jsonw_json(&w, "absent", NULL);
    out = oas_jsonw_end(&w);
    want = apr_pstrcat(p, "{\"v\":", oas_json_dumps(p, v, 0), "}", NULL);
    assert_string_equal(out, want);

    v = oas_json_adopt(p, json_loads(ctl, 0, NULL));
    oas_jsonw_init(&w, p, 16);
    oas_jsonw_json(&w, "v", v);
    out = oas_jsonw_end(&w);
    assert_string_equal(out, "{\"v\":{\"c\":\"a\\u000a\\u0001\\u0009\"}}");
    assert_int_equal(oas_json_parse(&back, p, out, strlen(out)), APR_SUCCESS);
    assert_true(json_equal(json_object_get(back, "v"), v));

    /* a string that is not UTF-8 (json_stringn_nocheck) fails the text */
    v = oas_json_adopt(p, json_stringn_nocheck("\xff", 1));
    oas_jsonw_init(&w, p, 16);
    oas_jsonw_json(&w, "v", v);
    assert_null(oas_jsonw_end(&w));
}

/* whatever the writer produces, the reader gives back */
static void test_round_trip(void **state)
{
    apr_pool_t *p = *state;
    oas_jsonw_t w;
    oas_jobj_t o;
    char key[8], val[64];
    const char *out;
    int i, k;

    oas_jsonw_init(&w, p, 16);
    for (i = 0; i < 40; i++) {
        apr_snprintf(key, sizeof(key), "k%d", i);
        for (k = 0; k < 63; k++)
            val[k] = (char)(1 + (i * 7 + k * 13) % 127);
        val[63] = '\0';
        oas_jsonw_str(&w, key, val);
    }
    out = oas_jsonw_end(&w);
    assert_non_null(out);
    assert_int_equal(oas_jsonr_parse(&o, p, out, strlen(out)), APR_SUCCESS);
    assert_int_equal(o.n, 40);
    for (i = 0; i < 40; i++) {
        apr_snprintf(key, sizeof(key), "k%d", i);
        for (k = 0; k < 63; k++)
            val[k] = (char)(1 + (i * 7 + k * 13) % 127);
        val[63] = '\0';
        assert_string_equal(oas_jobj_str(&o, key), val);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_writer_escapes_and_skips),
        UNIT_TEST(test_writer_refuses_bad_utf8),
        UNIT_TEST(test_reader_rows),
        UNIT_TEST(test_reader_values),
        UNIT_TEST(test_round_trip),
        UNIT_TEST(test_reader_int64_range),
        UNIT_TEST(test_reader_nested_names),
        UNIT_TEST(test_reader_nul_byte),
        UNIT_TEST(test_writer_nesting),
        UNIT_TEST(test_writer_refuses_misuse),
        UNIT_TEST(test_writer_int64_limits),
        UNIT_TEST(test_writer_jansson_value),
    };
    return UNIT_RUN(tests);
}
