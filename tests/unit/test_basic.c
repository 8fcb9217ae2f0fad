/* Unit tests: HTTP Basic client credentials (RFC 7617, RFC 6749 §2.3.1; SECURITY.md B). */
#include "unit.h"
#include "oas_basic.h"

static void test_basic_rows(void **state)
{
    apr_pool_t *p = *state;
    static const struct {
        const char *in;
        int rc;
        const char *id, *secret;
    } rows[] = {
        { "Basic Y29uZjE6czNjcmV0", 1, "conf1", "s3cret" },
        { "basic Y29uZjE6czNjcmV0", 1, "conf1", "s3cret" },
        { "BASIC Y29uZjE6czNjcmV0", 1, "conf1", "s3cret" },
        /* "my%3Aclient:p%40ss+word": each part form-decoded after the split */
        { "Basic bXklM0FjbGllbnQ6cCU0MHNzK3dvcmQ=", 1, "my:client", "p@ss word" },
        { "Basic YTpiOmM=", 1, "a", "b:c" },          /* "a:b:c": split on the first ':' */
        { "Basic YysxOng=", 1, "c 1", "x" },          /* "c+1:x" */
        { "Bearer Y29uZjE6czNjcmV0", -1, NULL, NULL }, /* another scheme */
        { "Basic", -1, NULL, NULL },
        { "Basic ", -1, NULL, NULL },
        { "Basic  Y29uZjE6czNjcmV0", -1, NULL, NULL }, /* two spaces */
        { "BasicY29uZjE6czNjcmV0", -1, NULL, NULL },
        { "Basic Y29uZjE6czNjcmV0, Basic Y29uZjE6czNjcmV0", -1, NULL, NULL }, /* repeated */
        { "Basic Y29uZjE6czNjcmV0=", -1, NULL, NULL },  /* bad padding */
        { "Basic Y29uZjE6czNjcmV", -1, NULL, NULL },    /* truncated */
        { "Basic Y29u ZjE6czNjcmV0", -1, NULL, NULL },  /* whitespace inside */
        { "Basic Og==", -1, NULL, NULL },               /* ":" : both parts empty */
        { "Basic Y29uZjE=", -1, NULL, NULL },           /* "conf1": no colon */
        { "Basic YQA6Yg==", -1, NULL, NULL },           /* "a\0:b": NUL byte */
        { "Basic YToleno=", -1, NULL, NULL },           /* "a:%zz": broken escape */
        { "Basic YTolMEE=", -1, NULL, NULL },           /* "a:%0A": control character */
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *id = "x", *secret = "x";
        int rc = oas_basic_parse(&id, &secret, p, rows[i].in);

        if (rc != rows[i].rc)
            fail_msg("row %zu (%s): rc %d, want %d", i, rows[i].in, rc, rows[i].rc);
        if (rows[i].id) {
            assert_string_equal(id, rows[i].id);
            assert_string_equal(secret, rows[i].secret);
        }
        else {
            assert_null(id);
            assert_null(secret);
        }
    }
}

static void test_basic_absent_and_long(void **state)
{
    apr_pool_t *p = *state;
    const char *id = "x", *secret = "x";
    char *h;

    assert_int_equal(oas_basic_parse(&id, &secret, p, NULL), 0);
    assert_null(id);
    assert_null(secret);
    /* OAS_BASIC_MAX_LEN characters of base64 pass the length check, one group more does not */
    h = apr_pstrcat(p, "Basic ", "YTpi", NULL); /* "a:b" */
    while (strlen(h) - 6 + 4 <= OAS_BASIC_MAX_LEN)
        h = apr_pstrcat(p, h, "YWFh", NULL); /* "aaa" appended to the secret */
    assert_int_equal(oas_basic_parse(&id, &secret, p, h), 1);
    assert_string_equal(id, "a");
    h = apr_pstrcat(p, h, "YWFh", NULL);
    assert_int_equal(oas_basic_parse(&id, &secret, p, h), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_basic_rows),
        UNIT_TEST(test_basic_absent_and_long),
    };
    return UNIT_RUN(tests);
}
