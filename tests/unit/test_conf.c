/* Unit tests: the configuration model without httpd: the getters' defaults (nothing writes
 * them into the configuration), a client's defaults, the whole-block and whole-issuer checks
 * (each message names its directive) and the start-up step. */
#include <jansson.h>

#include "oas_conf_check.h"
#include "oas_directives.h"
#include "oas_jwk.h"
#include "oas_keys.h"
#include "oas_startup.h"
#include "unit.h"

/* ---- getters ---- */

static void test_issuer_defaults(void **state)
{
    apr_pool_t *p = *state;
    const oas_issuer_t *iss = oas_issuer_make(p);

    /* INTERFACE.md's defaults, while no directive set the setting */
    assert_int_equal(oas_iss_store_short(iss), OAS_STORE_SHM);
    assert_int_equal(oas_iss_store_long(iss), OAS_STORE_SHM);
    assert_int_equal(oas_iss_store_size(iss), OAS_STORE_SIZE_KIB(128 * 1024)); /* 128M */
    assert_int_equal(oas_iss_code_ttl(iss), 60);
    assert_int_equal(oas_iss_request_uri_ttl(iss), 60);
    assert_int_equal(oas_iss_at_ttl(iss), 3600);
    assert_int_equal(oas_iss_rt_ttl(iss), 2592000);
    assert_int_equal(oas_iss_idt_ttl(iss), 3600);
    assert_int_equal(oas_iss_require_par(iss), 0);
    assert_int_equal(oas_iss_max_body(iss), 16384);
    assert_int_equal(oas_iss_authfail_limit(iss), 10);
    assert_int_equal(oas_iss_authfail_window(iss), 60);
    assert_int_equal(oas_iss_rt_grace(iss), 30);
    /* issue 14: the quotas are on by default, consent pages live minutes */
    assert_int_equal(oas_iss_client_quota(iss), 30000);
    assert_int_equal(oas_iss_user_quota(iss), 100);
    assert_int_equal(oas_iss_address_quota(iss), 1000);
    assert_int_equal(oas_iss_consent_ttl(iss), 300);
    /* issue 15: clients may sign with PS256, ES256, EdDSA and RS256, never a MAC */
    assert_int_equal(oas_iss_client_signing_algs(iss), OAS_ALGBITS_ASYM);
    assert_int_equal(oas_iss_client_signing_algs(iss) & OAS_ALGBIT(OAS_ALG_HS256), 0);
    /* issue 16: DPoP proofs bind when sent, no nonces */
    assert_int_equal(oas_iss_dpop(iss), OAS_DPOP_ALLOWED);
    assert_int_equal(oas_iss_dpop_nonce(iss), 0);
    /* ... and the fields themselves stay unset, so a virtual host can still inherit */
    assert_int_equal(iss->code_ttl, OAS_UNSET);
    assert_int_equal(iss->store_long, OAS_UNSET);
}

static void test_issuer_settings_win(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = oas_issuer_make(p);

    iss->store_short = OAS_STORE_DBD;
    assert_int_equal(oas_iss_store_long(iss), OAS_STORE_DBD); /* LONG defaults to SHORT */
    iss->store_long = OAS_STORE_SHM;
    assert_int_equal(oas_iss_store_long(iss), OAS_STORE_SHM);
    iss->code_ttl = 30;
    iss->require_par = 1;
    iss->rt_grace = 0; /* 0 is "off", not "unset" */
    iss->authfail_limit = 0;
    assert_int_equal(oas_iss_code_ttl(iss), 30);
    assert_int_equal(oas_iss_require_par(iss), 1);
    assert_int_equal(oas_iss_rt_grace(iss), 0);
    assert_int_equal(oas_iss_authfail_limit(iss), 0);
    iss->client_signing_algs = (int)OAS_ALGBIT(OAS_ALG_PS256);
    assert_int_equal(oas_iss_client_signing_algs(iss), OAS_ALGBIT(OAS_ALG_PS256));
}

static void test_client_settings_fall_back(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = oas_issuer_make(p);
    oas_client_t *c = oas_client_make(p, "app");
    oas_resource_t *r = oas_resource_make(p, "urn:api");

    assert_string_equal(c->name, "app");
    /* client, else resource, else the server's setting, else its default */
    assert_int_equal(oas_client_at_ttl(iss, c, NULL), 3600);
    assert_int_equal(oas_client_rt_ttl(iss, c), 2592000);
    assert_int_equal(oas_client_require_par(iss, c), 0);
    iss->at_ttl = 600;
    iss->require_par = 1;
    assert_int_equal(oas_client_at_ttl(iss, c, r), 600);
    assert_int_equal(oas_client_require_par(iss, c), 1);
    r->at_ttl = 120;
    assert_int_equal(oas_client_at_ttl(iss, c, r), 120);
    c->at_ttl = 60;
    c->require_par = 0;
    assert_int_equal(oas_client_at_ttl(iss, c, r), 60);
    assert_int_equal(oas_client_require_par(iss, c), 0);
    /* OAuthASDPoP and OAuthASDPoPNonce: the client's, else the server's */
    assert_int_equal(oas_client_dpop(iss, c), OAS_DPOP_ALLOWED);
    iss->dpop = OAS_DPOP_REQUIRED;
    iss->dpop_nonce = 1;
    assert_int_equal(oas_client_dpop(iss, c), OAS_DPOP_REQUIRED);
    assert_int_equal(oas_client_dpop_nonce(iss, c), 1);
    c->dpop = OAS_DPOP_OFF;
    c->dpop_nonce = 0;
    assert_int_equal(oas_client_dpop(iss, c), OAS_DPOP_OFF);
    assert_int_equal(oas_client_dpop_nonce(iss, c), 0);
}

static void test_client_resolve(void **state)
{
    apr_pool_t *p = *state;
    oas_client_t *conf = oas_client_make(p, "conf"), *pub = oas_client_make(p, "pub");

    conf->secret = "s3cret";
    oas_client_resolve(conf);
    assert_int_equal(conf->auth_methods, OAS_AUTH_BASIC | OAS_AUTH_POST);
    assert_int_equal(conf->grant_types, OAS_GRANT_CODE);
    assert_int_equal(conf->require_pkce, 1);
    assert_int_equal(conf->consent, 1);
    assert_int_equal(conf->rt_rotation, 0);

    /* a public client always uses PKCE and rotates, whatever its block said */
    pub->rt_rotation = 0;
    pub->consent = 0;
    oas_client_resolve(pub);
    assert_int_equal(pub->auth_methods, OAS_AUTH_NONE);
    assert_int_equal(pub->require_pkce, 1);
    assert_int_equal(pub->rt_rotation, 1);
    assert_int_equal(pub->consent, 0);
}

/* ---- whole-block checks ---- */

static oas_client_t *client(apr_pool_t *p, const char *secret, int methods, int grants,
                            int redirect)
{
    oas_client_t *c = oas_client_make(p, "app");

    c->secret = secret;
    c->auth_methods = methods;
    c->grant_types = grants;
    c->defined_at = "oauth.conf:12";
    if (redirect) {
        c->redirect_uris = apr_array_make(p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(c->redirect_uris, const char *) = "https://app.test/cb";
    }
    return c;
}

static void test_client_check_messages(void **state)
{
    apr_pool_t *p = *state;
    static const struct {
        const char *secret;
        int methods, grants, redirect, pkce;
        const char *directive, *fault; /* NULL: the block is consistent */
    } rows[] = {
        {NULL, OAS_UNSET, OAS_UNSET, 1, OAS_UNSET, NULL, NULL},
        {"s", OAS_UNSET, OAS_UNSET, 1, OAS_UNSET, NULL, NULL},
        {"s", OAS_UNSET, OAS_GRANT_CC, 0, OAS_UNSET, NULL, NULL},
        {NULL, OAS_AUTH_BASIC, OAS_UNSET, 1, OAS_UNSET, OAS_DIR_AUTH_METHOD, "needs"},
        {NULL, OAS_AUTH_POST, OAS_UNSET, 1, OAS_UNSET, OAS_DIR_CLIENT_SECRET, "public client"},
        {"s", OAS_AUTH_NONE, OAS_UNSET, 1, OAS_UNSET, OAS_DIR_AUTH_METHOD " none", "must not"},
        {"s", OAS_UNSET, OAS_UNSET, 0, OAS_UNSET, OAS_DIR_REDIRECT_URI, "authorization_code"},
        {NULL, OAS_UNSET, OAS_GRANT_CC, 0, OAS_UNSET, OAS_DIR_GRANT_TYPE, "confidential"},
        {NULL, OAS_UNSET, OAS_UNSET, 1, 0, OAS_DIR_REQUIRE_PKCE " Off", "public client"},
        {"s", OAS_UNSET, OAS_UNSET, 1, 0, NULL, NULL}, /* a confidential client may */
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        oas_client_t *c =
            client(p, rows[i].secret, rows[i].methods, rows[i].grants, rows[i].redirect);
        oas_client_t before;
        const char *msg;

        c->require_pkce = rows[i].pkce;
        before = *c;
        msg = oas_conf_check_client(p, c);
        if (!rows[i].directive) {
            assert_null(msg);
        }
        else {
            assert_non_null(msg);
            assert_non_null(strstr(msg, "<OAuthASClient app>: "));
            assert_non_null(strstr(msg, rows[i].directive));
            assert_non_null(strstr(msg, rows[i].fault));
        }
        /* a check writes nothing: the defaults are oas_client_resolve's */
        assert_int_equal(c->auth_methods, before.auth_methods);
        assert_int_equal(c->grant_types, before.grant_types);
        assert_int_equal(c->require_pkce, before.require_pkce);
        assert_int_equal(c->rt_rotation, before.rt_rotation);
        assert_int_equal(c->consent, before.consent);
    }
}

/* private_key_jwt needs keys, client_secret_jwt a plaintext secret of 32 bytes, none stands
 * alone; such clients are confidential (public iff the method is none). */
static void test_client_check_jwt(void **state)
{
    apr_pool_t *p = *state;
    static const char *const long_secret = "0123456789abcdef0123456789abcdef";
    oas_client_t *c = client(p, NULL, OAS_AUTH_PKJWT, OAS_GRANT_CC, 0);
    const char *msg = oas_conf_check_client(p, c);

    assert_non_null(msg);
    assert_non_null(strstr(msg, OAS_DIR_AUTH_METHOD " private_key_jwt needs " OAS_DIR_CLIENT_JWKS));
    c->jwks_uri = "https://app.test/jwks";
    assert_null(oas_conf_check_client(p, c)); /* client_credentials: it is confidential */
    assert_false(oas_client_is_public(c));
    c->auth_methods = OAS_AUTH_PKJWT | OAS_AUTH_NONE;
    assert_non_null(strstr(oas_conf_check_client(p, c), "cannot be combined"));

    c = client(p, "short", OAS_AUTH_SJWT, OAS_UNSET, 1);
    assert_non_null(strstr(oas_conf_check_client(p, c), "client_secret_jwt needs a plaintext"));
    c->secret = long_secret;
    assert_null(oas_conf_check_client(p, c));
    assert_false(oas_client_is_public(c));
    c->secret_hashed = 1; /* HS256 needs the secret itself */
    assert_non_null(strstr(oas_conf_check_client(p, c), "client_secret_jwt needs a plaintext"));
    c = client(p, NULL, OAS_AUTH_SJWT, OAS_UNSET, 1);
    assert_non_null(oas_conf_check_client(p, c));
}

/* OAuthASRequestObject: only a client with keys may say Allowed or Required; Off always may. */
static void test_client_check_request_object(void **state)
{
    apr_pool_t *p = *state;
    oas_client_t *c = client(p, "secret", OAS_UNSET, OAS_UNSET, 1);
    const char *msg;

    c->request_object = OAS_REQOBJ_OFF;
    assert_null(oas_conf_check_client(p, c));
    c->request_object = OAS_REQOBJ_REQUIRED;
    msg = oas_conf_check_client(p, c);
    assert_non_null(msg);
    assert_non_null(strstr(msg, OAS_DIR_REQUEST_OBJECT " Allowed or Required needs "
                                OAS_DIR_CLIENT_JWKS));
    c->request_object = OAS_REQOBJ_ALLOWED;
    assert_non_null(oas_conf_check_client(p, c));
    c->jwks_uri = "https://app.test/jwks";
    assert_null(oas_conf_check_client(p, c));
}

/* ---- whole-issuer checks ---- */

static const char *fault(const apr_array_header_t *faults, int i)
{
    assert_non_null(faults);
    assert_true(i < faults->nelts);
    return APR_ARRAY_IDX(faults, i, const char *);
}

static void test_issuer_off(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = oas_issuer_make(p);
    apr_array_header_t *faults;

    assert_null(oas_conf_check_issuer(p, iss)); /* the AS is off and nothing of it is set */

    iss->endpoints[OAS_EP_TOKEN] = "/oauth/token";
    faults = oas_conf_check_issuer(p, iss);
    assert_int_equal(faults->nelts, 1);
    assert_non_null(strstr(fault(faults, 0), "OAuthASIssuer is required"));
    assert_non_null(strstr(fault(faults, 0), "OAuthASEndpoint"));

    iss->endpoints[OAS_EP_TOKEN] = NULL;
    iss->clients = apr_hash_make(p);
    faults = oas_conf_check_issuer(p, iss);
    assert_non_null(strstr(fault(faults, 0), OAS_DIR_ISSUER));
}

static void test_issuer_faults(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = oas_issuer_make(p);
    oas_client_t *c = client(p, "s", OAS_UNSET, OAS_UNSET, 1);
    apr_array_header_t *faults;

    iss->issuer = "https://as.test";
    iss->clients = apr_hash_make(p);
    iss->resources = apr_hash_make(p);
    c->audiences = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(c->audiences, const char *) = "urn:api";
    APR_ARRAY_PUSH(c->audiences, const char *) = "urn:missing";
    apr_hash_set(iss->clients, c->id, APR_HASH_KEY_STRING, c);
    apr_hash_set(iss->resources, "urn:api", APR_HASH_KEY_STRING, oas_resource_make(p, "urn:api"));

    /* every fault is reported, not only the first */
    faults = oas_conf_check_issuer(p, iss);
    assert_int_equal(faults->nelts, 2);
    assert_string_equal(fault(faults, 0), "OAuthASSigningKey is required: no signing key "
                                          "configured");
    assert_string_equal(fault(faults, 1),
                        "OAuthASAudience urn:missing in <OAuthASClient app> (oauth.conf:12): no "
                        "<OAuthASResource urn:missing> declares this audience");

    iss->keys = apr_array_make(p, 1, sizeof(oas_key_t *));
    APR_ARRAY_PUSH(iss->keys, oas_key_t *) = apr_pcalloc(p, sizeof(oas_key_t));
    apr_array_pop(c->audiences);
    assert_null(oas_conf_check_issuer(p, iss));

    /* a client's JWK Set must hold a key for an algorithm of OAuthASClientSigningAlgs */
    {
        oas_jwk_t *k = apr_pcalloc(p, sizeof(*k));

        k->algs = OAS_ALGBIT(OAS_ALG_RS256) | OAS_ALGBIT(OAS_ALG_PS256);
        c->jwks = apr_array_make(p, 1, sizeof(oas_jwk_t *));
        APR_ARRAY_PUSH(c->jwks, oas_jwk_t *) = k;
        assert_null(oas_conf_check_issuer(p, iss));
        iss->client_signing_algs = (int)OAS_ALGBIT(OAS_ALG_PS256);
        assert_null(oas_conf_check_issuer(p, iss));
        iss->client_signing_algs = (int)(OAS_ALGBIT(OAS_ALG_ES256) | OAS_ALGBIT(OAS_ALG_EDDSA));
        faults = oas_conf_check_issuer(p, iss);
        assert_int_equal(faults->nelts, 1);
        assert_string_equal(fault(faults, 0),
                            "OAuthASClientJWKS in <OAuthASClient app> (oauth.conf:12): no key for "
                            "an algorithm of OAuthASClientSigningAlgs");
    }
}

/* ---- start-up ---- */

static oas_key_t *key(apr_pool_t *p, oas_alg_e alg, const char *name, const char *kid)
{
    oas_key_t *k = apr_pcalloc(p, sizeof(*k));

    /* the start-up step reads only these: no key material is needed */
    k->alg = alg;
    k->alg_name = name;
    k->kid = kid;
    k->jwk_json = apr_psprintf(p, "{\"kid\":\"%s\"}", kid);
    return k;
}

static oas_issuer_t *startup_issuer(apr_pool_t *p, int with_rsa)
{
    oas_issuer_t *iss = oas_issuer_make(p);

    iss->issuer = iss->issuer_origin = "https://as.test";
    iss->keys = apr_array_make(p, 3, sizeof(oas_key_t *));
    APR_ARRAY_PUSH(iss->keys, oas_key_t *) = key(p, OAS_ALG_ES256, "ES256", "ec");
    if (with_rsa)
        APR_ARRAY_PUSH(iss->keys, oas_key_t *) = key(p, OAS_ALG_RS256, "RS256", "rsa");
    APR_ARRAY_PUSH(iss->keys, oas_key_t *) = key(p, OAS_ALG_EDDSA, "EdDSA", "ed");
    iss->clients = apr_hash_make(p);
    return iss;
}

static json_t *metadata(const oas_issuer_t *iss)
{
    json_t *doc = json_loads(iss->metadata_json, 0, NULL);

    assert_non_null(doc);
    return doc;
}

/* Prepares iss: its ID tokens are signed by the key kid, and metadata names its alg alone. */
static void assert_id_token_key(apr_pool_t *p, oas_issuer_t *iss, const char *kid, const char *alg)
{
    const char *err;
    json_t *doc, *algs;

    assert_int_equal(oas_startup_prepare(&err, iss, p), APR_SUCCESS);
    assert_string_equal(iss->id_token_key->kid, kid);
    doc = metadata(iss);
    algs = json_object_get(doc, "id_token_signing_alg_values_supported");
    assert_int_equal(json_array_size(algs), 1);
    assert_string_equal(json_string_value(json_array_get(algs, 0)), alg);
    json_decref(doc);
}

static void test_startup_id_token_key(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = startup_issuer(p, 1);
    const char *err;

    /* the first RSA key signs ID tokens when there is one, else the first key */
    assert_id_token_key(p, iss, "rsa", "RS256");

    iss = startup_issuer(p, 0);
    assert_int_equal(oas_startup_prepare(&err, iss, p), APR_SUCCESS);
    assert_string_equal(iss->id_token_key->kid, "ec");

    /* a PS256 key is an RSA key too */
    iss = startup_issuer(p, 0);
    APR_ARRAY_PUSH(iss->keys, oas_key_t *) = key(p, OAS_ALG_PS256, "PS256", "ps");
    assert_id_token_key(p, iss, "ps", "PS256");
}

static void test_startup_documents(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = startup_issuer(p, 0);
    oas_client_t *pub = client(p, NULL, OAS_UNSET, OAS_UNSET, 1);
    const char *err = "x";
    json_t *doc, *auth;

    apr_hash_set(iss->clients, pub->id, APR_HASH_KEY_STRING, pub);
    assert_int_equal(oas_startup_prepare(&err, iss, p), APR_SUCCESS);
    assert_null(err);
    assert_non_null(iss->consent_tmpl); /* the built-in page, none being configured */
    assert_string_equal(iss->jwks_json, "{\"keys\":[{\"kid\":\"ec\"},{\"kid\":\"ed\"}]}");
    assert_true(iss->has_public_clients);
    doc = metadata(iss);
    assert_string_equal(json_string_value(json_object_get(doc, "issuer")), "https://as.test");
    /* OAuthASRequirePAR not written: its default (Off), though the field stays unset */
    assert_true(json_is_false(json_object_get(doc, "require_pushed_authorization_requests")));
    auth = json_object_get(doc, "token_endpoint_auth_methods_supported");
    assert_string_equal(json_string_value(json_array_get(auth, json_array_size(auth) - 1)), "none");
    json_decref(doc);
}

static void test_startup_keeps_configured(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = startup_issuer(p, 0);
    oas_client_t *conf = client(p, "s", OAS_UNSET, OAS_UNSET, 1);
    const struct oas_tmpl_t *configured;
    const char *err;
    json_t *doc, *auth;
    size_t i;

    /* a configured template (OAuthASConsentTemplate) is kept */
    assert_int_equal(oas_startup_prepare(&err, iss, p), APR_SUCCESS);
    configured = iss->consent_tmpl;
    iss = startup_issuer(p, 0);
    iss->consent_tmpl = configured;
    iss->require_par = 1;
    apr_hash_set(iss->clients, conf->id, APR_HASH_KEY_STRING, conf);
    assert_int_equal(oas_startup_prepare(&err, iss, p), APR_SUCCESS);
    assert_ptr_equal(iss->consent_tmpl, configured);
    assert_false(iss->has_public_clients);
    doc = metadata(iss);
    assert_true(json_is_true(json_object_get(doc, "require_pushed_authorization_requests")));
    auth = json_object_get(doc, "token_endpoint_auth_methods_supported");
    for (i = 0; i < json_array_size(auth); i++)
        assert_string_not_equal(json_string_value(json_array_get(auth, i)), "none");
    json_decref(doc);
}

/* The metadata's dpop_signing_alg_values_supported: OAuthASClientSigningAlgs, while DPoP is
 * on for the server or a client; the nonce key is derived when nonces are on, and a key whose
 * private part cannot be read fails the start-up naming OAuthASDPoPNonce. */
static void test_startup_dpop(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = startup_issuer(p, 0);
    oas_client_t *c = client(p, "s", OAS_UNSET, OAS_UNSET, 1);
    const char *err;
    json_t *doc, *algs;

    assert_int_equal(oas_startup_prepare(&err, iss, p), APR_SUCCESS);
    assert_null(iss->dpop_nonce_key);
    doc = metadata(iss);
    algs = json_object_get(doc, "dpop_signing_alg_values_supported");
    assert_int_equal(json_array_size(algs), 4);
    assert_string_equal(json_string_value(json_array_get(algs, 0)), "PS256");
    assert_string_equal(json_string_value(json_array_get(algs, 3)), "RS256");
    json_decref(doc);

    iss = startup_issuer(p, 0);
    iss->dpop = OAS_DPOP_OFF;
    assert_int_equal(oas_startup_prepare(&err, iss, p), APR_SUCCESS);
    doc = metadata(iss);
    assert_null(json_object_get(doc, "dpop_signing_alg_values_supported"));
    json_decref(doc);

    iss = startup_issuer(p, 0);
    iss->dpop = OAS_DPOP_OFF;
    iss->client_signing_algs = (int)OAS_ALGBIT(OAS_ALG_ES256);
    c->dpop = OAS_DPOP_REQUIRED;
    apr_hash_set(iss->clients, c->id, APR_HASH_KEY_STRING, c);
    assert_int_equal(oas_startup_prepare(&err, iss, p), APR_SUCCESS);
    doc = metadata(iss);
    algs = json_object_get(doc, "dpop_signing_alg_values_supported");
    assert_int_equal(json_array_size(algs), 1);
    assert_string_equal(json_string_value(json_array_get(algs, 0)), "ES256");
    json_decref(doc);

    /* these keys have no key material: no nonce key */
    c->dpop_nonce = 1;
    iss->metadata_json = NULL;
    assert_int_equal(oas_startup_prepare(&err, iss, p), APR_ENOTIMPL);
    assert_non_null(strstr(err, OAS_DIR_DPOP_NONCE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_issuer_defaults),
        UNIT_TEST(test_issuer_settings_win),
        UNIT_TEST(test_client_settings_fall_back),
        UNIT_TEST(test_client_resolve),
        UNIT_TEST(test_client_check_messages),
        UNIT_TEST(test_client_check_jwt),
        UNIT_TEST(test_client_check_request_object),
        UNIT_TEST(test_issuer_off),
        UNIT_TEST(test_issuer_faults),
        UNIT_TEST(test_startup_id_token_key),
        UNIT_TEST(test_startup_documents),
        UNIT_TEST(test_startup_keeps_configured),
        UNIT_TEST(test_startup_dpop),
    };

    return unit_run("conf", tests, sizeof(tests) / sizeof(tests[0]));
}
