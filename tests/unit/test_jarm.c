/* Unit tests: JARM responses (oas_jarm.c) and response_mode in the authorization request
 * (oas_authz.c): the modes, the signed claims, errors as JWTs too. */
#include "unit.h"
#include "token_fixture.h"
#include "oas_authz.h"
#include "oas_jarm.h"
#include "oas_jose.h"
#include "oas_jsonr.h"

static void test_modes(void **state)
{
    (void)state;
    assert_int_equal(oas_jarm_mode(NULL), OAS_JARM_NO);
    assert_int_equal(oas_jarm_mode("query"), OAS_JARM_NO);
    assert_int_equal(oas_jarm_mode("jwt"), OAS_JARM_QUERY);
    assert_int_equal(oas_jarm_mode("query.jwt"), OAS_JARM_QUERY);
    assert_int_equal(oas_jarm_mode("fragment.jwt"), OAS_JARM_UNKNOWN);
    assert_int_equal(oas_jarm_mode("form_post"), OAS_JARM_UNKNOWN);
    assert_int_equal(oas_jarm_mode("JWT"), OAS_JARM_UNKNOWN);
    assert_int_equal(oas_jarm_mode(""), OAS_JARM_UNKNOWN);
}

static apr_array_header_t *pairs_of(apr_pool_t *p, const char *const *v)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));
    for (; *v; v++)
        APR_ARRAY_PUSH(a, const char *) = *v;
    return a;
}

/* The response verifies with the issuer's keys and carries iss, aud, exp and the pairs. */
static void test_signed_response(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = fixture_issuer(p, 1);
    static const char *const v[] = {"code", "c0de", "state", "s\"1", NULL};
    const char *jwt, *payload, *header;
    oas_jobj_t o, h;

    assert_int_equal(oas_jarm_response(&jwt, p, iss, "conf1", pairs_of(p, v), 1000),
                     APR_SUCCESS);
    assert_int_equal(oas_jws_verify(&payload, &header, p, jwt, iss->keys), APR_SUCCESS);
    assert_int_equal(oas_jsonr_parse(&h, p, header, strlen(header)), APR_SUCCESS);
    assert_string_equal(oas_jobj_str(&h, "alg"), "RS256"); /* the ID token key's */
    assert_null(oas_jobj_str(&h, "typ"));
    assert_int_equal(oas_jsonr_parse(&o, p, payload, strlen(payload)), APR_SUCCESS);
    assert_string_equal(oas_jobj_str(&o, "iss"), "https://as.test");
    assert_string_equal(oas_jobj_str(&o, "aud"), "conf1");
    assert_int_equal(oas_jobj_int(&o, "exp", 0), 1000 + OAS_JARM_TTL);
    assert_string_equal(oas_jobj_str(&o, "code"), "c0de");
    assert_string_equal(oas_jobj_str(&o, "state"), "s\"1");
}

static void test_error_response(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = fixture_issuer(p, 0);
    static const char *const v[] = {"error", "access_denied", "error_description", "no", NULL};
    const char *jwt, *payload;
    oas_jobj_t o;

    assert_int_equal(oas_jarm_response(&jwt, p, iss, "conf1", pairs_of(p, v), 5), APR_SUCCESS);
    assert_int_equal(oas_jws_verify(&payload, NULL, p, jwt, iss->keys), APR_SUCCESS);
    assert_int_equal(oas_jsonr_parse(&o, p, payload, strlen(payload)), APR_SUCCESS);
    assert_string_equal(oas_jobj_str(&o, "error"), "access_denied");
    assert_string_equal(oas_jobj_str(&o, "error_description"), "no");
    assert_null(oas_jobj_get(&o, "code"));
}

static void test_refusals(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = fixture_issuer(p, 0);
    static const char *const bad[] = {"state", "\xff\xfe", NULL};
    static const char *const ok[] = {"code", "x", NULL};
    const char *jwt;

    assert_int_equal(oas_jarm_response(&jwt, p, iss, "conf1", pairs_of(p, bad), 5), APR_EINVAL);
    assert_null(jwt);
    iss->id_token_key = NULL;
    assert_int_equal(oas_jarm_response(&jwt, p, iss, "conf1", pairs_of(p, ok), 5),
                     APR_ENOTIMPL);
}

/* oas_authz_validate: jwt and query.jwt set req->jarm (also for an error found later), with
 * a signing key only; unknown modes are invalid_request in plain form. */
static oas_issuer_t *authz_issuer(apr_pool_t *p)
{
    oas_issuer_t *iss = fixture_issuer(p, 0);
    oas_client_t *c = fixture_client(p, "s");

    c->grant_types = OAS_GRANT_CODE;
    c->require_par = c->require_pkce = 0;
    c->redirect_uris = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(c->redirect_uris, const char *) = "https://rp.test/cb";
    c->scopes = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(c->scopes, const char *) = "api.read";
    iss->clients = apr_hash_make(p);
    apr_hash_set(iss->clients, c->id, APR_HASH_KEY_STRING, c);
    return iss;
}

static apr_status_t validate(oas_authz_req_t **req, oas_err_t *err, apr_pool_t *p,
                             const oas_issuer_t *iss, const char *mode, const char *scope)
{
    apr_table_t *t = apr_table_make(p, 8);

    apr_table_set(t, "client_id", "conf1");
    apr_table_set(t, "response_type", "code");
    apr_table_set(t, "state", "st");
    apr_table_set(t, "scope", scope);
    if (mode)
        apr_table_set(t, "response_mode", mode);
    return oas_authz_validate(req, err, p, iss, t, NULL, OAS_AUTHZ_FRONT);
}

static void test_authz_modes(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = authz_issuer(p);
    oas_authz_req_t *req;
    oas_err_t err;

    assert_int_equal(validate(&req, &err, p, iss, "jwt", "api.read"), APR_SUCCESS);
    assert_true(req->jarm);
    assert_int_equal(validate(&req, &err, p, iss, "query.jwt", "api.read"), APR_SUCCESS);
    assert_true(req->jarm);
    assert_int_equal(validate(&req, &err, p, iss, "query", "api.read"), APR_SUCCESS);
    assert_false(req->jarm);
    assert_int_equal(validate(&req, &err, p, iss, NULL, "api.read"), APR_SUCCESS);
    assert_false(req->jarm);
    /* an error after the mode is known goes back as a JWT */
    assert_int_equal(validate(&req, &err, p, iss, "jwt", "admin"), APR_EINVAL);
    assert_string_equal(err.error, "invalid_scope");
    assert_false(err.page);
    assert_true(req->jarm);
    /* unknown: invalid_request, redirected in plain form */
    assert_int_equal(validate(&req, &err, p, iss, "fragment.jwt", "api.read"), APR_EINVAL);
    assert_string_equal(err.error, "invalid_request");
    assert_false(req->jarm);
    /* no key to sign with: JARM is not offered */
    iss->id_token_key = NULL;
    assert_int_equal(validate(&req, &err, p, iss, "jwt", "api.read"), APR_EINVAL);
    assert_string_equal(err.error, "invalid_request");
    assert_false(req->jarm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_modes),    UNIT_TEST(test_signed_response), UNIT_TEST(test_error_response),
        UNIT_TEST(test_refusals), UNIT_TEST(test_authz_modes),
    };
    return unit_run("jarm", tests, sizeof(tests) / sizeof(tests[0]));
}
