/* Unit tests: base64url/base64, SHA-256, random tokens, constant-time compare, UTF-8. */
#include "unit.h"
#include "oas_util.h"

#include <sys/wait.h>
#include <unistd.h>

static void test_b64url_roundtrip(void **state)
{
    apr_pool_t *p = *state;
    static const struct { const char *in; const char *out; } rows[] = {
        { "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg" }, { "\xfb\xff", "-_8" },
    };
    size_t i;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        unsigned char *dec;
        apr_size_t n;
        const char *enc = oas_b64url_encode(p, (const unsigned char *)rows[i].in, strlen(rows[i].in));
        assert_string_equal(enc, rows[i].out);
        assert_int_equal(oas_b64url_decode(&dec, &n, p, enc, strlen(enc)), APR_SUCCESS);
        assert_int_equal(n, strlen(rows[i].in));
        assert_memory_equal(dec, rows[i].in, n);
    }
}

static void test_b64_rejects(void **state)
{
    apr_pool_t *p = *state;
    unsigned char *d;
    apr_size_t n;
    assert_int_equal(oas_b64url_decode(&d, &n, p, "Zg=", 3), APR_EINVAL);   /* padding */
    assert_int_equal(oas_b64url_decode(&d, &n, p, "Z", 1), APR_EINVAL);     /* length */
    assert_int_equal(oas_b64url_decode(&d, &n, p, "Zh", 2), APR_EINVAL);    /* trailing bits */
    assert_int_equal(oas_b64url_decode(&d, &n, p, "a+bc", 4), APR_EINVAL);  /* std alphabet */
    assert_int_equal(oas_b64_decode(&d, &n, p, "YTpi", 4), APR_SUCCESS);
    assert_string_equal((char *)d, "a:b");
    assert_int_equal(oas_b64_decode(&d, &n, p, "YQ==", 4), APR_SUCCESS);
    assert_string_equal((char *)d, "a");
    assert_int_equal(oas_b64_decode(&d, &n, p, "YQ=", 3), APR_EINVAL);
    assert_int_equal(oas_b64_decode(&d, &n, p, "Y!==", 4), APR_EINVAL);
}

static void test_sha256_pkce_vector(void **state)
{
    apr_pool_t *p = *state;
    unsigned char d[OAS_SHA256_LEN];
    const char *v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"; /* RFC 7636 App. B */
    oas_sha256(d, v, strlen(v));
    assert_string_equal(oas_b64url_encode(p, d, sizeof(d)),
                        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

static void test_random_token(void **state)
{
    apr_pool_t *p = *state;
    const char *a, *b;
    assert_int_equal(oas_random_token(&a, p, 32), APR_SUCCESS);
    assert_int_equal(oas_random_token(&b, p, 32), APR_SUCCESS);
    assert_int_equal(strlen(a), 43);
    assert_string_not_equal(a, b);
}

/* the per-thread reserve: bytes never repeat, also not across a fork (the child's reserve is
 * emptied, so parent and child cannot hand out the same next bytes) and not across threads */
static void test_rand_reserve(void **state)
{
    unsigned char a[16], b[16], big[600], seen[64][16];
    int fds[2], i, j, status;
    pid_t pid;

    (void)state;
    for (i = 0; i < 64; i++) { /* more than one reserve's worth */
        assert_true(oas_rand_bytes(seen[i], 16));
        for (j = 0; j < i; j++)
            assert_memory_not_equal(seen[i], seen[j], 16);
    }
    assert_true(oas_rand_bytes(big, sizeof(big))); /* larger than the reserve: direct */

    assert_true(oas_rand_bytes(a, 1)); /* the reserve holds unused bytes now */
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int ok = oas_rand_bytes(b, 16) && write(fds[1], b, 16) == 16;
        _exit(ok ? 0 : 1);
    }
    assert_true(oas_rand_bytes(a, 16));
    assert_int_equal(read(fds[0], b, 16), 16);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(status, 0);
    assert_memory_not_equal(a, b, 16);
    close(fds[0]);
    close(fds[1]);
}

static void test_secure_streq(void **state)
{
    (void)state;
    assert_true(oas_secure_streq("abc", "abc"));
    assert_false(oas_secure_streq("abc", "abd"));
    assert_false(oas_secure_streq("abc", "abcd"));
    assert_false(oas_secure_streq(NULL, "x"));
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(oas_is_clean_utf8("abc", 3));
    assert_true(oas_is_clean_utf8("\xc3\xa9\xe2\x9c\x93", 5));     /* é✓ */
    assert_false(oas_is_clean_utf8("a\nb", 3));
    assert_false(oas_is_clean_utf8("\xc0\xaf", 2));                 /* overlong */
    assert_false(oas_is_clean_utf8("\xed\xa0\x80", 3));             /* surrogate */
    assert_false(oas_is_clean_utf8("\x80", 1));
    assert_false(oas_is_clean_utf8("\xf8\x88\x80\x80\x80", 5));
    assert_false(oas_is_clean_utf8("\xc3", 1));                     /* truncated */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_b64url_roundtrip), UNIT_TEST(test_b64_rejects),
        UNIT_TEST(test_sha256_pkce_vector), UNIT_TEST(test_random_token),
        UNIT_TEST(test_rand_reserve), UNIT_TEST(test_secure_streq), UNIT_TEST(test_utf8),
    };
    return UNIT_RUN(tests);
}
