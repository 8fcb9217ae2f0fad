/* Unit tests: signed introspection responses (RFC 9701, oas_introspect_jwt.c): the Accept
 * header, the signed claims. */
#include "unit.h"
#include "token_fixture.h"
#include "oas_introspect_jwt.h"
#include "oas_jose.h"
#include "oas_jsonr.h"

static void test_wanted(void **state)
{
    static const struct {
        const char *accept;
        int wanted;
    } rows[] = {
        {"application/token-introspection+jwt", 1},
        {"Application/Token-Introspection+JWT", 1},
        {"application/json, application/token-introspection+jwt ; q=0.5", 1},
        {"application/token-introspection+jwt;q=1", 1},
        {NULL, 0},
        {"", 0},
        {",;,", 0},
        {"application/json", 0},
        {"*/*", 0},
        {"application/jwt", 0},
        {"application/token-introspection+jwt;q=0", 0},
        {"application/token-introspection+jwt; q=0.0", 0},
        {"application/token-introspection+jwtx", 0},
    };
    apr_pool_t *p = *state;
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (oas_introspect_jwt_wanted(p, rows[i].accept) != rows[i].wanted)
            fail_msg("Accept %s: expected %d", rows[i].accept ? rows[i].accept : "(none)",
                     rows[i].wanted);
    }
}

static void test_signed(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = fixture_issuer(p, 0);
    const char *jwt, *payload, *header;
    oas_jobj_t o, h, ti;

    assert_int_equal(oas_introspect_jwt(&jwt, p, iss, "rs1", "{\"active\":true,\"sub\":\"al\"}",
                                        77),
                     APR_SUCCESS);
    assert_int_equal(oas_jws_verify(&payload, &header, p, jwt, iss->keys), APR_SUCCESS);
    assert_int_equal(oas_jsonr_parse(&h, p, header, strlen(header)), APR_SUCCESS);
    assert_string_equal(oas_jobj_str(&h, "typ"), "token-introspection+jwt");
    assert_string_equal(oas_jobj_str(&h, "alg"), "ES256");
    assert_int_equal(oas_jsonr_parse(&o, p, payload, strlen(payload)), APR_SUCCESS);
    assert_string_equal(oas_jobj_str(&o, "iss"), "https://as.test");
    assert_string_equal(oas_jobj_str(&o, "aud"), "rs1");
    assert_int_equal(oas_jobj_int(&o, "iat", 0), 77);
    assert_null(oas_jobj_get(&o, "sub")); /* only inside token_introspection */
    assert_null(oas_jobj_get(&o, "exp"));
    payload = oas_jobj_object(&o, "token_introspection");
    assert_non_null(payload);
    assert_int_equal(oas_jsonr_parse(&ti, p, payload, strlen(payload)), APR_SUCCESS);
    assert_string_equal(oas_jobj_str(&ti, "sub"), "al");
}

static void test_refusals(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = fixture_issuer(p, 0);
    const char *jwt;

    assert_int_equal(oas_introspect_jwt(&jwt, p, iss, "\xff", "{\"active\":false}", 1),
                     APR_EINVAL);
    assert_null(jwt);
    iss->id_token_key = NULL;
    assert_int_equal(oas_introspect_jwt(&jwt, p, iss, "rs1", "{\"active\":false}", 1),
                     APR_ENOTIMPL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_wanted),
        UNIT_TEST(test_signed),
        UNIT_TEST(test_refusals),
    };
    return unit_run("introspect_jwt", tests, sizeof(tests) / sizeof(tests[0]));
}
