/* Unit tests: authorization request validation (RFC 6749 §4.1.2.1 order, PKCE, scopes,
 * resources, prompt) over a hand-built issuer. */
#include "unit.h"
#include "oas_authz.h"
#include "oas_keys.h"
#include "oas_profile.h"

#define CH "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

static oas_issuer_t *make_issuer(apr_pool_t *p)
{
    oas_issuer_t *iss = apr_pcalloc(p, sizeof(*iss));
    oas_client_t *c = apr_pcalloc(p, sizeof(*c)), *c2 = apr_pcalloc(p, sizeof(*c2)), *c3, *c4;
    oas_resource_t *r = apr_pcalloc(p, sizeof(*r));

    iss->issuer = "https://as.test";
    iss->clients = apr_hash_make(p);
    iss->resources = apr_hash_make(p);
    iss->require_par = 0;
    c->id = "conf1";
    c->secret = "s";
    c->grant_types = OAS_GRANT_CODE;
    c->require_par = OAS_UNSET;
    c->require_pkce = 1;
    c->redirect_uris = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(c->redirect_uris, const char *) = "https://rp1.test/cb";
    c->scopes = apr_array_make(p, 4, sizeof(const char *));
    APR_ARRAY_PUSH(c->scopes, const char *) = "openid";
    APR_ARRAY_PUSH(c->scopes, const char *) = "api.read";
    c->audiences = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(c->audiences, const char *) = "urn:api";
    apr_hash_set(iss->clients, c->id, APR_HASH_KEY_STRING, c);
    *c2 = *c;
    c2->id = "conf2";
    c2->require_par = 1;
    c2->redirect_uris = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(c2->redirect_uris, const char *) = "https://rp2.test/cb";
    APR_ARRAY_PUSH(c2->redirect_uris, const char *) = "https://rp2.test/cb?tenant=a";
    apr_hash_set(iss->clients, c2->id, APR_HASH_KEY_STRING, c2);
    /* a client_credentials-only client: no redirect URIs at all (NULL list) */
    c3 = apr_pcalloc(p, sizeof(*c3));
    *c3 = *c;
    c3->id = "svc1";
    c3->grant_types = OAS_GRANT_CC;
    c3->redirect_uris = NULL;
    apr_hash_set(iss->clients, c3->id, APR_HASH_KEY_STRING, c3);
    /* OAuthASProfile fapi2: PAR and PKCE by the profile, whatever the block says */
    c4 = apr_pcalloc(p, sizeof(*c4));
    *c4 = *c;
    c4->id = "fapi";
    c4->profile = OAS_PROFILE_FAPI2;
    c4->require_pkce = 0;
    apr_hash_set(iss->clients, c4->id, APR_HASH_KEY_STRING, c4);
    r->id = "urn:api";
    apr_hash_set(iss->resources, r->id, APR_HASH_KEY_STRING, r);
    apr_hash_set(iss->resources, "urn:other", APR_HASH_KEY_STRING, r);
    return iss;
}

/* "k=v&k=v" without encoding (test values have no & or =) */
static apr_table_t *params(apr_pool_t *p, const char *q)
{
    apr_table_t *t = apr_table_make(p, 8);
    char *copy = apr_pstrdup(p, q), *last, *pair;

    for (pair = apr_strtok(copy, "&", &last); pair; pair = apr_strtok(NULL, "&", &last)) {
        char *eq = strchr(pair, '=');
        *eq = '\0';
        apr_table_set(t, pair, eq + 1);
    }
    return t;
}

#define BASE "client_id=conf1&redirect_uri=https://rp1.test/cb&response_type=code&state=S" \
             "&code_challenge=" CH "&code_challenge_method=S256"

static const struct {
    const char *q;
    const char *dup;
    int origin;
    const char *error; /* NULL: valid */
    int page;
} rows[] = {
    {BASE, NULL, OAS_AUTHZ_FRONT, NULL, 0},
    {BASE "&scope=openid api.read", NULL, OAS_AUTHZ_FRONT, NULL, 0},
    {"redirect_uri=https://rp1.test/cb&response_type=code", NULL, 0, "invalid_request", 1},
    {"client_id=nosuch&redirect_uri=https://rp1.test/cb", NULL, 0, "invalid_request", 1},
    {"client_id=conf1&redirect_uri=https://rp1.test/cb/&response_type=code", NULL, 0,
     "invalid_request", 1},
    {"client_id=conf1&redirect_uri=https://RP1.test/cb&response_type=code", NULL, 0,
     "invalid_request", 1},
    /* omitted redirect_uri: one registered URI, OAuth only → fine; with openid → page */
    {"client_id=conf1&response_type=code&code_challenge=" CH "&code_challenge_method=S256", NULL,
     0, NULL, 0},
    {"client_id=conf1&response_type=code&scope=openid", NULL, 0, "invalid_request", 1},
    {BASE, "client_id", 0, "invalid_request", 1},
    {BASE, "state", 0, "invalid_request", 0},
    {BASE, "resource", 0, "invalid_target", 0},
    {"client_id=conf1&redirect_uri=https://rp1.test/cb&state=S", NULL, 0, "invalid_request", 0},
    {"client_id=conf1&redirect_uri=https://rp1.test/cb&response_type=token", NULL, 0,
     "unsupported_response_type", 0},
    {BASE "&scope=openid admin", NULL, 0, "invalid_scope", 0},
    {BASE "&audience=urn:nope", NULL, 0, "invalid_scope", 0},
    {BASE "&audience=urn:api&resource=urn:other", NULL, 0, "invalid_target", 0},
    {BASE "&audience=urn:api&resource=urn:api", NULL, 0, NULL, 0},
    {"client_id=conf1&redirect_uri=https://rp1.test/cb&response_type=code", NULL, 0,
     "invalid_request", 0}, /* PKCE required */
    {"client_id=conf1&redirect_uri=https://rp1.test/cb&response_type=code&code_challenge=" CH,
     NULL, 0, "invalid_request", 0}, /* method absent = plain */
    {"client_id=conf1&redirect_uri=https://rp1.test/cb&response_type=code&code_challenge=" CH
     "&code_challenge_method=plain",
     NULL, 0, "invalid_request", 0},
    {"client_id=conf1&redirect_uri=https://rp1.test/cb&response_type=code&code_challenge=abc"
     "&code_challenge_method=S256",
     NULL, 0, "invalid_request", 0},
    {BASE "&prompt=none consent", NULL, 0, "invalid_request", 0},
    {BASE "&prompt=bogus", NULL, 0, "invalid_request", 0},
    {BASE "&max_age=-1", NULL, 0, "invalid_request", 0},
    {BASE "&request=eyJ", NULL, 0, "request_not_supported", 0},
    {BASE "&request_uri=urn:x", NULL, OAS_AUTHZ_PAR, "invalid_request", 0},
    /* PAR-required client: front channel refused, pushed accepted */
    {"client_id=conf2&redirect_uri=https://rp2.test/cb&response_type=code&code_challenge=" CH
     "&code_challenge_method=S256",
     NULL, OAS_AUTHZ_FRONT, "invalid_request", 0},
    {"client_id=conf2&redirect_uri=https://rp2.test/cb?tenant=a&response_type=code"
     "&code_challenge=" CH "&code_challenge_method=S256",
     NULL, OAS_AUTHZ_PAR, NULL, 0},
    {"client_id=conf2&response_type=code", NULL, OAS_AUTHZ_PAR, "invalid_request", 1},
    /* no registered redirect URI: the error page, never a crash */
    {"client_id=svc1&response_type=code", NULL, OAS_AUTHZ_PAR, "invalid_request", 1},
    {"client_id=svc1&response_type=code", NULL, OAS_AUTHZ_FRONT, "invalid_request", 1},
    {"client_id=svc1&redirect_uri=https://rp1.test/cb", NULL, 0, "invalid_request", 1},
    /* a fapi2 client: PAR only; redirect_uri in the push even with one registered (and no
     * openid); PKCE S256 although its block turned it off */
    {"client_id=fapi&redirect_uri=https://rp1.test/cb&response_type=code&code_challenge=" CH
     "&code_challenge_method=S256",
     NULL, OAS_AUTHZ_FRONT, "invalid_request", 0},
    {"client_id=fapi&response_type=code&code_challenge=" CH "&code_challenge_method=S256", NULL,
     OAS_AUTHZ_PAR, "invalid_request", 1},
    {"client_id=fapi&redirect_uri=https://rp1.test/cb&response_type=code", NULL, OAS_AUTHZ_PAR,
     "invalid_request", 0},
    {"client_id=fapi&redirect_uri=https://rp1.test/cb&response_type=code&code_challenge=" CH
     "&code_challenge_method=plain",
     NULL, OAS_AUTHZ_PAR, "invalid_request", 0},
    {"client_id=fapi&redirect_uri=https://rp1.test/cb&response_type=code&code_challenge=" CH
     "&code_challenge_method=S256",
     NULL, OAS_AUTHZ_PAR, NULL, 0},
};

static void test_validate_rows(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p);
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        oas_authz_req_t *req;
        oas_err_t err;
        apr_status_t rv = oas_authz_validate(&req, &err, p, iss, params(p, rows[i].q), rows[i].dup,
                                             rows[i].origin);
        if (!rows[i].error) {
            if (rv != APR_SUCCESS)
                fail_msg("row %zu: unexpected %s (%s)", i, err.error, err.description);
            continue;
        }
        if (rv == APR_SUCCESS)
            fail_msg("row %zu: expected %s", i, rows[i].error);
        assert_string_equal(err.error, rows[i].error);
        assert_int_equal(err.page, rows[i].page);
        if (!err.page)
            assert_non_null(req->redirect_uri);
    }
}

/* a fapi2-message-signing client: JARM required; its errors are signed too, whatever it
 * asked (JARM §4.4) */
static void test_message_signing_requires_jarm(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p);
    oas_client_t *c = apr_hash_get(iss->clients, "fapi", APR_HASH_KEY_STRING);
    oas_key_t key = {0};
    oas_authz_req_t *req;
    oas_err_t err;
    const char *q = "client_id=fapi&redirect_uri=https://rp1.test/cb&response_type=code"
                    "&code_challenge=" CH "&code_challenge_method=S256";

    iss->id_token_key = &key;
    c->profile = OAS_PROFILE_FAPI2_MS;
    assert_int_equal(oas_authz_validate(&req, &err, p, iss, params(p, q), NULL, OAS_AUTHZ_PAR),
                     APR_EINVAL);
    assert_string_equal(err.error, "invalid_request");
    assert_non_null(strstr(err.description, "response_mode=jwt"));
    assert_int_equal(req->jarm, 1);
    assert_int_equal(oas_authz_validate(&req, &err, p, iss,
                                        params(p, apr_pstrcat(p, q, "&response_mode=query", NULL)),
                                        NULL, OAS_AUTHZ_PAR),
                     APR_EINVAL);
    assert_int_equal(req->jarm, 1);
    assert_int_equal(oas_authz_validate(&req, &err, p, iss,
                                        params(p, apr_pstrcat(p, q, "&response_mode=jwt", NULL)),
                                        NULL, OAS_AUTHZ_PAR),
                     APR_SUCCESS);
    assert_int_equal(req->jarm, 1);
    /* plain fapi2: no JARM unless asked */
    c->profile = OAS_PROFILE_FAPI2;
    assert_int_equal(oas_authz_validate(&req, &err, p, iss, params(p, q), NULL, OAS_AUTHZ_PAR),
                     APR_SUCCESS);
    assert_int_equal(req->jarm, 0);
}

static void test_state_not_echoed_when_repeated(void **state)
{
    apr_pool_t *p = *state;
    oas_authz_req_t *req;
    oas_err_t err;

    oas_authz_validate(&req, &err, p, make_issuer(p), params(p, BASE), "state", 0);
    assert_null(req->state);
    oas_authz_validate(&req, &err, p, make_issuer(p), params(p, BASE "&response_type=x"), NULL,
                       0);
    assert_string_equal(req->state, "S");
}

static void test_scope_normalised(void **state)
{
    apr_pool_t *p = *state;
    oas_authz_req_t *req;
    oas_err_t err;

    assert_int_equal(oas_authz_validate(&req, &err, p, make_issuer(p),
                                        params(p, BASE "&scope=api.read  openid api.read"), NULL,
                                        0),
                     APR_SUCCESS);
    assert_string_equal(req->scope, "api.read openid");
    assert_true(req->openid);
    assert_true(oas_scope_subset(p, "openid", "api.read openid"));
    assert_false(oas_scope_subset(p, "openid email", "api.read openid"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_validate_rows),
        UNIT_TEST(test_message_signing_requires_jarm),
        UNIT_TEST(test_state_not_echoed_when_repeated),
        UNIT_TEST(test_scope_normalised),
    };
    return UNIT_RUN(tests);
}
