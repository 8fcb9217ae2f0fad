/* Unit tests: PKCE syntax and S256 verification (RFC 7636, SECURITY.md K02, K06). */
#include "unit.h"
#include "oas_pkce.h"

#define V_RFC  "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" /* RFC 7636 Appendix B */
#define CH_RFC "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
#define CH_ABC "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0" /* S256("abc") */

static const char *repeat(apr_pool_t *p, char c, apr_size_t n)
{
    char *s = apr_palloc(p, n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void test_syntax(void **state)
{
    apr_pool_t *p = *state;
    const struct { const char *s; int ok; } rows[] = {
        { V_RFC, 1 },
        { repeat(p, 'a', 42), 0 },
        { repeat(p, 'a', 43), 1 },
        { repeat(p, '~', 128), 1 },
        { repeat(p, 'a', 129), 0 },
        { repeat(p, 'a', 10240), 0 },
        { "abc", 0 },
        { "", 0 },
        { NULL, 0 },
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-._~", 1 },
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa+", 0 },
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/", 0 },
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=", 0 },
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ", 0 },
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%00", 0 },
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9", 0 },
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (oas_pkce_valid_syntax(rows[i].s) != rows[i].ok)
            fail_msg("row %zu: %.60s", i, rows[i].s ? rows[i].s : "(null)");
    }
}

static void test_verify_s256(void **state)
{
    apr_pool_t *p = *state;
    const struct { const char *verifier; const char *challenge; int ok; } rows[] = {
        { V_RFC, CH_RFC, 1 },
        { "abc", CH_ABC, 0 },                      /* S256 matches, verifier too short */
        { CH_RFC, CH_RFC, 0 },                     /* challenge replayed as verifier (plain) */
        { "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj", CH_RFC, 0 }, /* last char changed */
        { "DbJFTjEz4cvp-Mb92k27UHBuju1P1R_Ww1GfwfoeJxK", CH_RFC, 0 }, /* case flipped */
        { "DBJFTJEZ4CVP-MB92K27UHBUJU1P1R_WW1GFWFOEJXK", CH_RFC, 0 },  /* upper-cased */
        { repeat(p, 'a', 43), CH_RFC, 0 },         /* another valid verifier */
        { V_RFC, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM=", 0 }, /* padded */
        { V_RFC, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM", 0 },  /* std alphabet */
        { V_RFC, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c", 0 },   /* truncated */
        { V_RFC, "", 0 },
        { V_RFC, NULL, 0 },
        { NULL, CH_RFC, 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (oas_pkce_verify_s256(rows[i].verifier, rows[i].challenge) != rows[i].ok)
            fail_msg("row %zu", i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_syntax),
        UNIT_TEST(test_verify_s256),
    };
    return UNIT_RUN(tests);
}
