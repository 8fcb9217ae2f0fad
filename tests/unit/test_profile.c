/* Unit tests: OAuthASProfile fapi2 (oas_profile.h): the getters it changes (PAR, DPoP,
 * algorithms) and the configuration check, one row per rule: each contradiction is refused
 * naming its directive, and the compliant configuration passes. */
#include <jansson.h>

#include "oas_conf_check.h"
#include "oas_directives.h"
#include "oas_jwk.h"
#include "oas_keys.h"
#include "oas_metadata.h"
#include "oas_profile.h"
#include "unit.h"

static oas_key_t *key(apr_pool_t *p, oas_alg_e alg, const char *name)
{
    oas_key_t *k = apr_pcalloc(p, sizeof(*k));

    k->alg = alg;
    k->alg_name = name;
    k->kid = name;
    return k;
}

/* a compliant issuer: an ES256 signing key, one private_key_jwt client (ES256 and RS256 keys) */
static oas_issuer_t *issuer(apr_pool_t *p, oas_client_t **pc)
{
    oas_issuer_t *iss = oas_issuer_make(p);
    oas_client_t *c = oas_client_make(p, "app");
    oas_jwk_t *k = apr_pcalloc(p, sizeof(*k));

    iss->issuer = iss->issuer_origin = "https://as.test";
    iss->keys = apr_array_make(p, 1, sizeof(oas_key_t *));
    APR_ARRAY_PUSH(iss->keys, oas_key_t *) = key(p, OAS_ALG_ES256, "ES256");
    iss->clients = apr_hash_make(p);
    c->defined_at = "oauth.conf:7";
    c->auth_methods = OAS_AUTH_PKJWT;
    c->profile = OAS_PROFILE_FAPI2;
    k->algs = OAS_ALGBIT(OAS_ALG_ES256) | OAS_ALGBIT(OAS_ALG_RS256);
    c->jwks = apr_array_make(p, 1, sizeof(oas_jwk_t *));
    APR_ARRAY_PUSH(c->jwks, oas_jwk_t *) = k;
    c->redirect_uris = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(c->redirect_uris, const char *) = "https://app.test/cb";
    apr_hash_set(iss->clients, c->id, APR_HASH_KEY_STRING, c);
    *pc = c;
    return iss;
}

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(oas_profile_from_name("fapi2"), OAS_PROFILE_FAPI2);
    assert_int_equal(oas_profile_from_name("FAPI2"), OAS_PROFILE_FAPI2);
    assert_int_equal(oas_profile_from_name("none"), OAS_PROFILE_NONE);
    assert_int_equal(oas_profile_from_name("fapi2-message-signing"), OAS_PROFILE_FAPI2_MS);
    assert_int_equal(oas_profile_from_name("fapi1"), OAS_UNSET);
}

/* the client's own profile, else the server's; what each getter then answers */
static void test_getters(void **state)
{
    apr_pool_t *p = *state;
    oas_client_t *c;
    oas_issuer_t *iss = issuer(p, &c);
    unsigned fapi =
        OAS_ALGBIT(OAS_ALG_PS256) | OAS_ALGBIT(OAS_ALG_ES256) | OAS_ALGBIT(OAS_ALG_EDDSA);

    assert_string_equal(oas_iss_profile(iss)->name, "none");
    assert_string_equal(oas_client_profile(iss, c)->name, "fapi2");
    assert_int_equal(oas_client_require_par(iss, c), 1);
    assert_int_equal(oas_client_dpop(iss, c), OAS_DPOP_REQUIRED);
    assert_int_equal(oas_client_signing_algs(iss, c), fapi);
    assert_int_equal(oas_iss_client_signing_algs(iss), OAS_ALGBITS_ASYM); /* server: none */

    /* certificate-bound tokens are sender-constrained already: DPoP stays the server's */
    c->cert_bound = 1;
    assert_int_equal(oas_client_dpop(iss, c), OAS_DPOP_ALLOWED);

    /* a client of profile none on a fapi2 server keeps the defaults; the server narrows */
    c->profile = OAS_PROFILE_NONE;
    c->cert_bound = OAS_UNSET;
    iss->profile = OAS_PROFILE_FAPI2;
    assert_int_equal(oas_client_require_par(iss, c), 0);
    assert_int_equal(oas_client_dpop(iss, c), OAS_DPOP_ALLOWED);
    assert_int_equal(oas_iss_client_signing_algs(iss), fapi);

    /* the server's profile applies to a client without its own */
    c->profile = OAS_UNSET;
    assert_int_equal(oas_client_require_par(iss, c), 1);
    assert_int_equal(oas_client_dpop(iss, c), OAS_DPOP_REQUIRED);

    /* message signing: request objects required whatever the block says; fapi2 does not */
    assert_int_equal(oas_client_request_object(iss, c), OAS_REQOBJ_ALLOWED);
    c->profile = OAS_PROFILE_FAPI2_MS;
    c->request_object = OAS_REQOBJ_ALLOWED;
    assert_int_equal(oas_client_request_object(iss, c), OAS_REQOBJ_REQUIRED);
    assert_int_equal(oas_client_require_par(iss, c), 1);
    assert_int_equal(oas_client_profile(iss, c)->signed_responses, 1);
}

/* one row per rule: what the configuration says (applied by apply()), and the start of the
 * fault (NULL: compliant) */
typedef enum {
    SECRET_BASIC,
    SECRET_POST,
    PUBLIC,
    PAR_OFF,
    PKCE_OFF,
    DPOP_OFF,
    DPOP_ALLOWED,
    SERVER_DPOP_OFF,
    ROTATION_NO_GRACE,
    LEGACY_AUD,
    RS256_KEYS,
    CODE_TTL,
    REQUEST_URI_TTL,
    RS256_SIGNING,
    SERVER_RS256,
    SERVER_PAR_OFF,
    MTLS_BOUND,
    DPOP_REQUIRED,
    LIMITS,
    PROFILE_NONE,
    MS_NO_KEYS,
    MS_UNSIGNED,
    MS_SERVER_UNSIGNED,
    MS_REQUIRED
} change_e;

typedef struct {
    change_e change;
    const char *fault;
} row_t;

static void apply(change_e what, oas_issuer_t *iss, oas_client_t *c)
{
    switch (what) {
    case SECRET_BASIC:
        c->secret = "s3cret";
        c->auth_methods = OAS_AUTH_BASIC;
        break;
    case SECRET_POST:
        c->auth_methods = OAS_AUTH_POST;
        break;
    case PUBLIC:
        c->auth_methods = OAS_AUTH_NONE;
        break;
    case PAR_OFF:
        c->require_par = 0;
        break;
    case PKCE_OFF:
        c->require_pkce = 0;
        break;
    case DPOP_OFF:
        c->dpop = OAS_DPOP_OFF;
        break;
    case DPOP_ALLOWED:
        c->dpop = OAS_DPOP_ALLOWED;
        break;
    case SERVER_DPOP_OFF:
        iss->dpop = OAS_DPOP_OFF;
        break;
    case ROTATION_NO_GRACE:
        c->rt_rotation = 1;
        iss->rt_grace = 0;
        break;
    case LEGACY_AUD:
        c->assertion_aud = 1;
        break;
    case RS256_KEYS:
        APR_ARRAY_IDX(c->jwks, 0, oas_jwk_t *)->algs = OAS_ALGBIT(OAS_ALG_RS256);
        break;
    case CODE_TTL:
        iss->code_ttl = 61;
        break;
    case REQUEST_URI_TTL:
        iss->request_uri_ttl = 600;
        break;
    case RS256_SIGNING:
        APR_ARRAY_PUSH(iss->keys, oas_key_t *) = key(iss->keys->pool, OAS_ALG_RS256, "RS256");
        break;
    case SERVER_RS256:
        iss->profile = OAS_PROFILE_FAPI2;
        iss->client_signing_algs = (int)(OAS_ALGBIT(OAS_ALG_RS256) | OAS_ALGBIT(OAS_ALG_ES256));
        break;
    case SERVER_PAR_OFF:
        iss->profile = OAS_PROFILE_FAPI2;
        iss->require_par = 0;
        break;
    case MTLS_BOUND: /* certificate-bound tokens: no DPoP needed */
        c->auth_methods = OAS_AUTH_TLS;
        c->dpop = OAS_DPOP_OFF;
        break;
    case DPOP_REQUIRED:
        c->dpop = OAS_DPOP_REQUIRED;
        break;
    case LIMITS: /* at the limits, and rotation with the default retry grace */
        iss->code_ttl = 60;
        iss->request_uri_ttl = 599;
        c->rt_rotation = 1;
        break;
    case PROFILE_NONE: /* none of the rules applies to a client of profile none */
        c->profile = OAS_PROFILE_NONE;
        apply(SECRET_BASIC, iss, c);
        apply(CODE_TTL, iss, c);
        apply(RS256_SIGNING, iss, c);
        break;
    case MS_NO_KEYS: /* message signing: request objects need the client's keys */
        c->profile = OAS_PROFILE_FAPI2_MS;
        c->auth_methods = OAS_AUTH_TLS;
        c->cert_bound = 1;
        c->jwks = NULL;
        break;
    case MS_UNSIGNED:
        c->profile = OAS_PROFILE_FAPI2_MS;
        c->request_object = OAS_REQOBJ_ALLOWED;
        break;
    case MS_SERVER_UNSIGNED:
        c->profile = OAS_UNSET;
        iss->profile = OAS_PROFILE_FAPI2_MS;
        iss->request_object = OAS_REQOBJ_OFF;
        break;
    case MS_REQUIRED:
        c->profile = OAS_PROFILE_FAPI2_MS;
        c->request_object = OAS_REQOBJ_REQUIRED;
        break;
    }
}

static const row_t rows[] = {
    {SECRET_BASIC, "OAuthASAuthMethod in <OAuthASClient app> (oauth.conf:7): a client secret "
                   "method"},
    {SECRET_POST, "OAuthASAuthMethod in <OAuthASClient app>"},
    {PUBLIC, "OAuthASAuthMethod in <OAuthASClient app> (oauth.conf:7): none: a public client"},
    {PAR_OFF, "OAuthASRequirePAR in <OAuthASClient app>"},
    {PKCE_OFF, "OAuthASRequirePKCE in <OAuthASClient app>"},
    {DPOP_OFF, "OAuthASDPoP in <OAuthASClient app> (oauth.conf:7): Off without "
               "OAuthASCertBoundTokens On"},
    {DPOP_ALLOWED, "OAuthASDPoP in <OAuthASClient app> (oauth.conf:7): Allowed"},
    {SERVER_DPOP_OFF, "OAuthASDPoP in <OAuthASClient app>"},
    {ROTATION_NO_GRACE, "OAuthASRefreshTokenRotation in <OAuthASClient"},
    {LEGACY_AUD, "OAuthASAssertionAudience in <OAuthASClient app>"},
    {RS256_KEYS, "OAuthASClientJWKS in <OAuthASClient app>"},
    {CODE_TTL, "OAuthASCodeLifetime 61: over 60 s"},
    {REQUEST_URI_TTL, "OAuthASRequestURILifetime 600: 600 s or more"},
    {RS256_SIGNING, "OAuthASSigningKey RS256 signs RS256"},
    {SERVER_RS256, "OAuthASClientSigningAlgs: an algorithm other than"},
    {SERVER_PAR_OFF, "OAuthASRequirePAR Off, which OAuthASProfile fapi2"},
    {MTLS_BOUND, NULL},
    {DPOP_REQUIRED, NULL},
    {LIMITS, NULL},
    {PROFILE_NONE, NULL},
    {MS_NO_KEYS, "OAuthASClientJWKS in <OAuthASClient app> (oauth.conf:7): missing"},
    {MS_UNSIGNED, "OAuthASRequestObject in <OAuthASClient app> (oauth.conf:7): Allowed"},
    {MS_SERVER_UNSIGNED, "OAuthASRequestObject Off, which OAuthASProfile fapi2-message-signing"},
    {MS_REQUIRED, NULL},
};

static void test_check_rows(void **state)
{
    apr_pool_t *p = *state;
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        oas_client_t *c;
        oas_issuer_t *iss = issuer(p, &c);
        apr_array_header_t *faults;
        const char *f;

        assert_null(oas_conf_check_issuer(p, iss)); /* the base is compliant */
        apply(rows[i].change, iss, c);
        faults = oas_conf_check_issuer(p, iss);
        if (!rows[i].fault) {
            if (faults)
                fail_msg("row %d: unexpected fault %s", (int)rows[i].change,
                         APR_ARRAY_IDX(faults, 0, const char *));
            continue;
        }
        if (!faults)
            fail_msg("row %d: no fault", (int)rows[i].change);
        f = APR_ARRAY_IDX(faults, 0, const char *);
        if (strncmp(f, rows[i].fault, strlen(rows[i].fault)) || !strstr(f, "OAuthASProfile fapi2"))
            fail_msg("row %d: fault '%s'", (int)rows[i].change, f);
    }
}

static int has(const json_t *doc, const char *member, const char *value)
{
    size_t i;
    json_t *v;

    json_array_foreach(json_object_get(doc, member), i, v)
    {
        if (!strcmp(json_string_value(v), value))
            return 1;
    }
    return 0;
}

/* a server-level fapi2 advertises only what the profile allows; a client-level one does not
 * narrow discovery (INTERFACE.md) */
static void test_metadata(void **state)
{
    apr_pool_t *p = *state;
    oas_client_t *c, *pub = oas_client_make(p, "pub");
    oas_issuer_t *iss = issuer(p, &c);
    json_t *doc;
    int fapi;

    iss->endpoints[OAS_EP_TOKEN] = "/token";
    iss->endpoints[OAS_EP_INTROSPECT] = "/introspect";
    pub->auth_methods = OAS_AUTH_NONE;
    apr_hash_set(iss->clients, pub->id, APR_HASH_KEY_STRING, pub);
    iss->has_public_clients = 1;
    for (fapi = 0; fapi < 2; fapi++) {
        iss->profile = fapi ? OAS_PROFILE_FAPI2 : OAS_UNSET;
        doc = json_loads(oas_metadata_json(p, iss), 0, NULL);
        assert_non_null(doc);
        assert_int_equal(has(doc, "token_endpoint_auth_methods_supported", "private_key_jwt"), 1);
        assert_int_equal(has(doc, "token_endpoint_auth_methods_supported", "client_secret_basic"),
                         !fapi);
        assert_int_equal(has(doc, "token_endpoint_auth_methods_supported", "client_secret_post"),
                         !fapi);
        assert_int_equal(has(doc, "token_endpoint_auth_methods_supported", "client_secret_jwt"),
                         !fapi);
        assert_int_equal(has(doc, "token_endpoint_auth_methods_supported", "none"), !fapi);
        assert_int_equal(
            has(doc, "introspection_endpoint_auth_methods_supported", "client_secret_basic"),
            !fapi);
        assert_int_equal(has(doc, "token_endpoint_auth_signing_alg_values_supported", "HS256"),
                         !fapi);
        assert_int_equal(has(doc, "token_endpoint_auth_signing_alg_values_supported", "RS256"),
                         !fapi);
        assert_int_equal(has(doc, "token_endpoint_auth_signing_alg_values_supported", "PS256"), 1);
        assert_int_equal(has(doc, "dpop_signing_alg_values_supported", "RS256"), !fapi);
        assert_int_equal(has(doc, "dpop_signing_alg_values_supported", "ES256"), 1);
        assert_int_equal(
            json_is_true(json_object_get(doc, "require_pushed_authorization_requests")), fapi);
        assert_true(
            json_is_true(json_object_get(doc, "authorization_response_iss_parameter_supported")));
        assert_true(has(doc, "code_challenge_methods_supported", "S256"));
        json_decref(doc);
    }
}

/* a server-level fapi2-message-signing advertises signed requests and responses only */
static void test_metadata_message_signing(void **state)
{
    apr_pool_t *p = *state;
    oas_client_t *c;
    oas_issuer_t *iss = issuer(p, &c);
    json_t *doc;
    int ms;

    iss->id_token_key = APR_ARRAY_IDX(iss->keys, 0, oas_key_t *);
    for (ms = 0; ms < 2; ms++) {
        iss->profile = ms ? OAS_PROFILE_FAPI2_MS : OAS_PROFILE_FAPI2;
        doc = json_loads(oas_metadata_json(p, iss), 0, NULL);
        assert_non_null(doc);
        assert_int_equal(json_is_true(json_object_get(doc, "require_signed_request_object")), ms);
        assert_int_equal(has(doc, "response_modes_supported", "query"), !ms);
        assert_true(has(doc, "response_modes_supported", "jwt"));
        assert_true(has(doc, "response_modes_supported", "query.jwt"));
        assert_true(has(doc, "authorization_signing_alg_values_supported", "ES256"));
        json_decref(doc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_names),
        UNIT_TEST(test_getters),
        UNIT_TEST(test_check_rows),
        UNIT_TEST(test_metadata),
        UNIT_TEST(test_metadata_message_signing),
    };

    return UNIT_RUN(tests);
}
