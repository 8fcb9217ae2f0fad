/* Unit tests: redirect URI validation and response query building (RFC 6749 §3.1.2, RFC 8252,
 * RFC 9700 §2.6; SECURITY.md N4, N5, B05). */
#include "unit.h"
#include "oas_uri.h"

static void test_valid_redirect(void **state)
{
    apr_pool_t *p = *state;
    static const struct { const char *uri; const char *err; /* NULL = valid */ } rows[] = {
        { "https://rp1.test/cb", NULL },
        { "https://rp1.test/cb?tenant=a", NULL },
        { "https://rp1.test:8443/cb", NULL },
        { "https://rp1.test", NULL },
        { "HTTPS://rp1.test/cb", NULL },
        { "https://[2001:db8::1]/cb", NULL },
        { "http://127.0.0.1/cb", NULL },
        { "http://127.0.0.1:53412/cb", NULL },
        { "http://[::1]/cb", NULL },
        { "http://localhost/cb", NULL },
        { "com.example.app:/cb", NULL },
        { "com.example.app:/oauth%2Fcb", NULL },
        { "/cb", "not an absolute URI" },
        { "//evil/cb", "not an absolute URI" },
        { "cb", "not an absolute URI" },
        { "1https://x/cb", "not an absolute URI" },
        { "", "is empty" },
        { NULL, "is empty" },
        { "https://x/cb#f", "has a fragment" },
        { "https://x/cb#", "has a fragment" },
        { "http://rp1.test/cb", "http is allowed only for loopback redirect URIs" },
        { "http://127.0.0.2/cb", "http is allowed only for loopback redirect URIs" },
        { "http://127.0.0.1.evil.test/cb", "http is allowed only for loopback redirect URIs" },
        { "https:///nohost", "has no host" },
        { "https:/cb", "has no host" },
        { "https://:443/cb", "has no host" },
        { "https://x:44a/cb", "has a malformed port" },
        { "https://rp1.test@evil.test/cb", "has user information" },
        { "https://rp1.test%2eevil/cb", "has a malformed host" },
        { "https://[::1/cb", "has a malformed host" },
        { " https://x/cb", "contains whitespace or control characters" },
        { "https://x/cb ", "contains whitespace or control characters" },
        { "https://x/c\nb", "contains whitespace or control characters" },
        { "https://x/c\tb", "contains whitespace or control characters" },
        { "https://evil.test\\@rp1.test/cb", "contains characters not allowed in a URI" },
        { "https://rp1.t\xd0\xb5st/cb", "contains characters not allowed in a URI" },
        { "https://x/cb\"", "contains characters not allowed in a URI" },
        { "https://x/cb%zz", "has a broken percent-encoding" },
        { "https://x/cb%4", "has a broken percent-encoding" },
        { "javascript:alert(1)", "scheme not allowed" },
        { "JavaScript:alert(1)//https://rp1.test/cb", "scheme not allowed" },
        { "data:text/html,x", "scheme not allowed" },
        { "vbscript:msgbox", "scheme not allowed" },
        { "file:///etc/passwd", "scheme not allowed" },
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *err = "poison";
        int ok = oas_uri_valid_redirect(&err, p, rows[i].uri);
        const char *u = rows[i].uri ? rows[i].uri : "(null)";
        if (rows[i].err == NULL) {
            if (!ok || err != NULL)
                fail_msg("row %zu (%s): rejected: %s", i, u, err ? err : "?");
        }
        else if (ok || err == NULL || strcmp(err, rows[i].err) != 0) {
            fail_msg("row %zu (%s): got %d '%s'", i, u, ok, err ? err : "(null)");
        }
    }
    assert_false(oas_uri_valid_redirect(NULL, p, "/cb")); /* perr is optional */
}

static apr_array_header_t *pairs_of(apr_pool_t *p, const char *const *kv)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));
    for (; kv[0] != NULL; kv += 2) {
        APR_ARRAY_PUSH(a, const char *) = kv[0];
        APR_ARRAY_PUSH(a, const char *) = kv[1];
    }
    return a;
}

/* RFC 8252 §7.3: a loopback IP literal's port may differ; nothing else may */
static void test_redirect_matches(void **state)
{
    static const struct {
        const char *reg, *req;
        int match;
    } rows[] = {
        {"https://rp.test/cb", "https://rp.test/cb", 1},
        {"https://rp.test/cb", "https://rp.test/cb/", 0},
        {"https://rp.test:443/cb", "https://rp.test/cb", 0},
        {"https://rp.test:8443/cb", "https://rp.test:9443/cb", 0}, /* not loopback */
        {"http://127.0.0.1/cb", "http://127.0.0.1:51234/cb", 1},
        {"http://127.0.0.1:8080/cb", "http://127.0.0.1:51234/cb", 1},
        {"http://127.0.0.1:8080/cb", "http://127.0.0.1/cb", 1},
        {"http://127.0.0.1:8080", "http://127.0.0.1:9", 1},
        {"http://127.0.0.1:8080/cb?a=1", "http://127.0.0.1:9/cb?a=1", 1},
        {"http://[::1]/cb", "http://[::1]:51234/cb", 1},
        {"http://127.0.0.1/cb", "http://127.0.0.1:51234/cb2", 0},  /* path */
        {"http://127.0.0.1/cb", "http://127.0.0.1:5123x/cb", 0},   /* port */
        {"http://127.0.0.1/cb", "http://127.0.0.1:1234567/cb", 0}, /* port length */
        {"http://127.0.0.1/cb", "http://127.0.0.1:/cb", 0},
        {"http://127.0.0.1/cb", "http://127.0.0.10:80/cb", 0},     /* another host */
        {"http://127.0.0.1/cb", "http://127.0.0.1.evil.test/cb", 0},
        {"http://127.0.0.1/cb", "http://127.0.0.1@evil.test/cb", 0},
        {"http://127.0.0.1/cb", "http://[::1]:80/cb", 0},
        {"http://[::1]/cb", "http://127.0.0.1/cb", 0},
        {"http://127.0.0.1/cb", "https://127.0.0.1:443/cb", 0},    /* scheme */
        {"http://localhost/cb", "http://localhost:8080/cb", 0},    /* not an IP literal */
        {"https://127.0.0.1/cb", "https://127.0.0.1:8443/cb", 0},  /* https: exact */
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (oas_uri_redirect_matches(rows[i].reg, rows[i].req) != rows[i].match)
            fail_msg("row %zu: %s vs %s", i, rows[i].reg, rows[i].req);
    }
}

static void test_add_query(void **state)
{
    apr_pool_t *p = *state;
    static const char *const code_state[] = { "code", "abc", "state", "xyz", NULL };
    static const char *const nasty[] = { "state", "a&b=c#d e\r\nf\t", NULL };
    static const char *const utf8[] = { "state", "\xc3\xa9\xe2\x9c\x93+/?%", NULL };
    static const char *const none[] = { NULL };
    static const char *const odd_name[] = { "a b&", "1", NULL };
    static const struct { const char *uri; const char *const *kv; const char *out; } rows[] = {
        { "https://rp1.test/cb", code_state, "https://rp1.test/cb?code=abc&state=xyz" },
        { "https://rp1.test/cb?tenant=a", code_state,
          "https://rp1.test/cb?tenant=a&code=abc&state=xyz" },
        { "https://rp1.test/cb?", code_state, "https://rp1.test/cb?code=abc&state=xyz" },
        { "https://rp1.test/cb?tenant=a&", code_state,
          "https://rp1.test/cb?tenant=a&code=abc&state=xyz" },
        { "https://rp1.test/cb&x", code_state, "https://rp1.test/cb&x?code=abc&state=xyz" },
        { "https://rp1.test/cb#frag", code_state,
          "https://rp1.test/cb?code=abc&state=xyz#frag" },
        { "com.example.app:/cb", code_state, "com.example.app:/cb?code=abc&state=xyz" },
        { "https://rp1.test/cb", nasty,
          "https://rp1.test/cb?state=a%26b%3Dc%23d%20e%0D%0Af%09" },
        { "https://rp1.test/cb", utf8, "https://rp1.test/cb?state=%C3%A9%E2%9C%93%2B%2F%3F%25" },
        { "https://rp1.test/cb", odd_name, "https://rp1.test/cb?a%20b%26=1" },
        { "https://rp1.test/cb?x=1", none, "https://rp1.test/cb?x=1" },
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *got = oas_uri_add_query(p, rows[i].uri, pairs_of(p, rows[i].kv));
        if (strcmp(got, rows[i].out) != 0)
            fail_msg("row %zu: got %s", i, got);
    }
}

static void test_add_query_skips(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));

    APR_ARRAY_PUSH(a, const char *) = "state";
    APR_ARRAY_PUSH(a, const char *) = NULL;   /* absent value: pair skipped */
    APR_ARRAY_PUSH(a, const char *) = "code";
    APR_ARRAY_PUSH(a, const char *) = "c";
    APR_ARRAY_PUSH(a, const char *) = "dangling";
    assert_string_equal(oas_uri_add_query(p, "https://x/cb", a), "https://x/cb?code=c");
    assert_string_equal(oas_uri_add_query(p, "https://x/cb", NULL), "https://x/cb");
}

static void test_encode(void **state)
{
    apr_pool_t *p = *state;
    static const struct { const char *in; const char *out; } rows[] = {
        { "", "" },
        { "AZaz09-._~", "AZaz09-._~" },
        { " ", "%20" },
        { "+", "%2B" },
        { "\x01\x7f\xff", "%01%7F%FF" },
        { "a\r\nSet-Cookie: x", "a%0D%0ASet-Cookie%3A%20x" },
        { "\"<>'\\", "%22%3C%3E%27%5C" },
    };
    size_t i;
    char all[256];

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        assert_string_equal(oas_uri_encode(p, rows[i].in), rows[i].out);
    /* every byte 1..255: the result holds only unreserved characters and '%' + upper hex */
    for (i = 1; i < 256; i++)
        all[i - 1] = (char)i;
    all[255] = '\0';
    {
        const char *e = oas_uri_encode(p, all);
        assert_int_equal(strspn(e, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789-._~%"), strlen(e));
        assert_int_equal(strlen(e), 66 + 3 * (255 - 66));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_valid_redirect),
        UNIT_TEST(test_redirect_matches),
        UNIT_TEST(test_add_query),
        UNIT_TEST(test_add_query_skips),
        UNIT_TEST(test_encode),
    };
    return UNIT_RUN(tests);
}
