/* Unit tests: grant records, token minting (RFC 9068 access token, OIDC ID token), the token
 * response, client authentication and the consent page. */
#include "unit.h"

#include "oas_client_auth.h"
#include "oas_consent.h"
#include "oas_jose.h"
#include "token_fixture.h"

static json_t *payload(apr_pool_t *p, oas_issuer_t *iss, const char *jws, const char **phdr)
{
    const char *pl;
    json_t *j;

    assert_int_equal(oas_jws_verify(&pl, phdr, p, jws, iss->keys), APR_SUCCESS);
    assert_int_equal(oas_json_parse(&j, p, pl, strlen(pl)), APR_SUCCESS);
    return j;
}

static void test_grant_roundtrip(void **state)
{
    apr_pool_t *p = *state;
    oas_grant_t g = {0}, *back;
    const char *json;

    g.iss = "https://as.test";
    g.client_id = "conf1";
    g.sub = "alice";
    g.scope = "openid email";
    g.nonce = "n\"1";
    g.redirect_uri = "https://rp1.test/cb";
    g.redirect_uri_sent = 1;
    g.code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    g.auth_time = 1700000000;
    g.claims_json = "{\"email\":\"a@x\"}";
    assert_int_equal(oas_grant_to_json(&json, p, &g), APR_SUCCESS);
    assert_int_equal(oas_grant_from_json(&back, p, json, strlen(json)), APR_SUCCESS);
    assert_string_equal(back->nonce, "n\"1");
    assert_true(back->redirect_uri_sent);
    assert_null(back->resource);
    assert_int_equal(back->auth_time, 1700000000);
    assert_string_equal(back->claims_json, "{\"email\":\"a@x\"}");
    assert_int_equal(oas_grant_from_json(&back, p, "{\"iss\":1}", 9), APR_EINVAL);
    assert_int_equal(oas_grant_from_json(&back, p, "[]", 2), APR_EINVAL);
    /* found by tests/fuzz/fuzz_grant: a grant without scopes (no scope parameter) is written
     * without "scope" and must read back, else its code or refresh token is unusable */
    g.scope = "";
    assert_int_equal(oas_grant_to_json(&json, p, &g), APR_SUCCESS);
    assert_int_equal(oas_grant_from_json(&back, p, json, strlen(json)), APR_SUCCESS);
    assert_string_equal(back->scope, "");
    json = "{\"iss\":\"x\",\"cid\":\"c\",\"sub\":\"s\",\"scope\":\"\"}";
    assert_int_equal(oas_grant_from_json(&back, p, json, strlen(json)), APR_SUCCESS);
    assert_string_equal(back->scope, "");
    json = "{\"iss\":\"x\",\"cid\":\"c\",\"scope\":\"a\"}"; /* no sub */
    assert_int_equal(oas_grant_from_json(&back, p, json, strlen(json)), APR_EINVAL);
    /* fuzz_grant: an empty sub was accepted but would not survive a write and read back */
    json = "{\"iss\":\"x\",\"cid\":\"c\",\"sub\":\"\"}";
    assert_int_equal(oas_grant_from_json(&back, p, json, strlen(json)), APR_EINVAL);
    json = "{\"iss\":\"\",\"cid\":\"c\",\"sub\":\"s\"}";
    assert_int_equal(oas_grant_from_json(&back, p, json, strlen(json)), APR_EINVAL);
}

static void test_mint(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = fixture_issuer(p, 1);
    oas_grant_t g = {0};
    oas_tokens_t t;
    const char *hdr;
    json_t *at, *id, *resp;
    const char *body;

    g.iss = iss->issuer;
    g.client_id = "conf1";
    g.sub = "alice";
    g.scope = "openid email";
    g.nonce = "N1";
    g.auth_time = 1700000000;
    g.claims_json = "{\"email\":\"alice@x\",\"name\":\"Alice\",\"email_verified\":\"true\"}";
    assert_int_equal(oas_token_mint(&t, p, iss, fixture_client(p, "s"), &g, "jti-1", NULL, 1700000100),
                     APR_SUCCESS);
    at = payload(p, iss, t.access_token, &hdr);
    assert_non_null(strstr(hdr, "\"typ\":\"at+jwt\""));
    assert_non_null(strstr(hdr, "\"alg\":\"ES256\""));
    assert_string_equal(oas_json_str(at, "aud"), "https://as.test"); /* no resource: issuer */
    assert_string_equal(oas_json_str(at, "client_id"), "conf1");
    assert_string_equal(oas_json_str(at, "jti"), "jti-1");
    assert_int_equal(oas_json_int(at, "exp", 0), 1700000100 + 3600);
    assert_int_equal(t.expires_in, 3600);
    id = payload(p, iss, t.id_token, &hdr);
    assert_non_null(strstr(hdr, "\"alg\":\"RS256\"")); /* the first RSA key signs ID tokens */
    assert_string_equal(oas_json_str(id, "aud"), "conf1");
    assert_string_equal(oas_json_str(id, "nonce"), "N1");
    assert_string_equal(oas_json_str(id, "at_hash"),
                        oas_jose_at_hash(p, iss->id_token_key, t.access_token));
    assert_string_equal(oas_json_str(id, "email"), "alice@x");
    assert_true(json_is_true(json_object_get(id, "email_verified")));
    assert_null(oas_json_str(id, "name")); /* profile was not granted */
    assert_int_equal(oas_json_int(id, "exp", 0), 1700000100 + 600);

    body = oas_token_response_json(p, &t, g.scope, NULL);
    assert_int_equal(oas_json_parse(&resp, p, body, strlen(body)), APR_SUCCESS);
    assert_string_equal(oas_json_str(resp, "token_type"), "Bearer");
    assert_null(oas_json_str(resp, "refresh_token"));
    assert_int_equal(oas_json_int(resp, "expires_in", 0), 3600);

    /* a resource: its audience and its lifetime; no openid: no ID token */
    g.scope = "api.read";
    g.resource = "urn:api";
    assert_int_equal(oas_token_mint(&t, p, iss, fixture_client(p, "s"), &g, "jti-2", NULL, 1700000100),
                     APR_SUCCESS);
    assert_null(t.id_token);
    at = payload(p, iss, t.access_token, &hdr);
    assert_string_equal(oas_json_str(at, "aud"), "urn:api");
    assert_int_equal(t.expires_in, 120);
}

/* The user's claims come from the grant record (oas_jsonr reads them): what the scopes
 * release, in record order, typed values and nested ones kept as they were written. */
static void test_userinfo_claims(void **state)
{
    apr_pool_t *p = *state;
    const char *cl = "{\"n\":5,\"b\":true,\"z\":null,\"o\":{\"k\":[1,\"x\"]},"
                     "\"phone_number\":\"1\",\"email\":\"a@x\",\"email_verified\":\"false\","
                     "\"empty\":\"\"}";

    assert_string_equal(oas_token_userinfo_json(p, "alice", "openid email", cl),
                        "{\"sub\":\"alice\",\"n\":5,\"b\":true,\"z\":null,\"o\":{\"k\":[1,\"x\"]},"
                        "\"email\":\"a@x\",\"email_verified\":false}");
    assert_string_equal(oas_token_userinfo_json(p, "alice", "openid", "{\"r\":1.5}"),
                        "{\"sub\":\"alice\"}"); /* not a record of ours: no claims */
    assert_string_equal(oas_token_userinfo_json(p, "alice", "openid", NULL),
                        "{\"sub\":\"alice\"}");
}

static void test_client_auth(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = fixture_issuer(p, 1);
    oas_client_t *conf = fixture_client(p, "s3cret"), *hashed = fixture_client(p, NULL),
                 *pub = fixture_client(p, NULL);
    const oas_client_t *c;
    oas_err_t err;
    apr_table_t *form = apr_table_make(p, 4);
    /* htpasswd -nbB x s3cret */
    static const char *bcrypt = "$2y$05$4FCsuGZcjUA6dBwRH3wTU.eiCtq6OXmggUJWOoAfA2mcft/RG2ZQm";
    oas_ctx_t x;

    oas_ctx_init(&x, p, iss, 1000000);
    assert_int_equal(oas_client_auth_init(p), APR_SUCCESS);
    hashed->id = "hashed";
    hashed->secret = bcrypt;
    hashed->secret_hashed = 1;
    hashed->auth_methods = OAS_AUTH_BASIC | OAS_AUTH_POST;
    pub->id = "pub1";
    iss->clients = apr_hash_make(p);
    apr_hash_set(iss->clients, "conf1", APR_HASH_KEY_STRING, conf);
    apr_hash_set(iss->clients, "hashed", APR_HASH_KEY_STRING, hashed);
    apr_hash_set(iss->clients, "pub1", APR_HASH_KEY_STRING, pub);

    assert_true(oas_client_secret_ok(conf, "s3cret"));
    assert_false(oas_client_secret_ok(conf, "s3cre"));
    assert_true(oas_client_secret_ok(hashed, "s3cret"));
    assert_true(oas_client_secret_ok(hashed, "s3cret")); /* from the cache */
    assert_false(oas_client_secret_ok(hashed, "wrong"));

    assert_int_equal(oas_client_authenticate(&c, &err, &x, 1, "conf1", "s3cret", form),
                     APR_SUCCESS);
    assert_ptr_equal(c, conf);
    assert_int_equal(oas_client_authenticate(&c, &err, &x, 1, "conf1", "x", form), APR_EINVAL);
    assert_int_equal(err.status, 401);
    /* the client sees one answer; the log tells a wrong secret, an unknown id and a method the
     * client may not use apart, and never quotes the secret */
    assert_string_equal(err.description, "client authentication failed");
    assert_string_equal(err.detail, "OAS03007: client conf1: wrong secret (client_secret_basic)");
    assert_int_equal(oas_client_authenticate(&c, &err, &x, 1, "nobody", "x", form),
                     APR_EINVAL);
    assert_string_equal(err.description, "client authentication failed");
    assert_string_equal(err.detail, "OAS03005: client_secret_basic: unknown client id nobody");
    assert_int_equal(oas_client_authenticate(&c, &err, &x, 1, "pub1", "x", form),
                     APR_EINVAL);
    assert_string_equal(err.detail, "OAS03006: client pub1 may not use client_secret_basic");
    assert_int_equal(oas_client_authenticate(&c, &err, &x, -1, NULL, NULL, form), APR_EINVAL);
    assert_string_equal(err.error, "invalid_client");
    /* Basic for a client registered for post only */
    assert_int_equal(oas_client_authenticate(&c, &err, &x, 0, NULL, NULL, form), APR_EINVAL);
    apr_table_set(form, "client_id", "hashed");
    apr_table_set(form, "client_secret", "s3cret");
    assert_int_equal(oas_client_authenticate(&c, &err, &x, 0, NULL, NULL, form), APR_SUCCESS);
    /* two methods at once */
    assert_int_equal(oas_client_authenticate(&c, &err, &x, 1, "hashed", "s3cret", form),
                     APR_EINVAL);
    assert_int_equal(err.status, 400);
    /* a public client: client_id alone; a confidential one cannot do that */
    apr_table_unset(form, "client_secret");
    apr_table_set(form, "client_id", "pub1");
    assert_int_equal(oas_client_authenticate(&c, &err, &x, 0, NULL, NULL, form), APR_SUCCESS);
    apr_table_set(form, "client_id", "conf1");
    assert_int_equal(oas_client_authenticate(&c, &err, &x, 0, NULL, NULL, form), APR_EINVAL);
    /* a public client sending a secret */
    apr_table_set(form, "client_id", "pub1");
    apr_table_set(form, "client_secret", "x");
    assert_int_equal(oas_client_authenticate(&c, &err, &x, 0, NULL, NULL, form), APR_EINVAL);
}

static void test_consent_page(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = fixture_issuer(p, 1);
    oas_tmpl_t *t;
    const char *err, *html;
    oas_consent_view_t v;
    const char *text = oas_consent_default_template();

    memset(&v, 0, sizeof(v));
    assert_int_equal(oas_tmpl_parse(&t, &err, p, text, strlen(text)), APR_SUCCESS);
    iss->scope_descriptions = apr_table_make(p, 2);
    apr_table_set(iss->scope_descriptions, "api.read", "Read your <notes>");
    v.client = fixture_client(p, "s");
    v.user = "alice\"><script>";
    v.scope = "openid api.read";
    v.resource = "urn:api";
    v.redirect_uri = "https://rp.test:8443/cb?x=1";
    v.action = "/authorize";
    v.txn = "TXN";
    v.csrf = "CSRF";
    html = oas_consent_render(p, t, iss, &v);
    assert_non_null(strstr(html, "Notes &lt;b&gt;App&lt;/b&gt;"));
    assert_null(strstr(html, "<script>"));
    assert_non_null(strstr(html, "alice&quot;&gt;&lt;script&gt;"));
    assert_non_null(strstr(html, "Read your &lt;notes&gt;"));
    assert_non_null(strstr(html, "Sign you in with your account")); /* built-in text */
    assert_non_null(strstr(html, "name=\"txn\" value=\"TXN\""));
    assert_non_null(strstr(html, "name=\"csrf\" value=\"CSRF\""));
    assert_non_null(strstr(html, "value=\"allow\""));
    assert_non_null(strstr(html, "value=\"deny\""));
    assert_non_null(strstr(html, "urn:api"));
    /* where the answer goes; no device warning for a web client */
    assert_non_null(strstr(html, "sent back to: <strong>rp.test:8443</strong>"));
    assert_null(strstr(html, "runs on a device"));
    /* a client whose every redirect is a loopback one is flagged */
    {
        oas_client_t *c = fixture_client(p, NULL);
        c->redirect_uris = apr_array_make(p, 2, sizeof(const char *));
        APR_ARRAY_PUSH(c->redirect_uris, const char *) = "http://127.0.0.1/cb";
        APR_ARRAY_PUSH(c->redirect_uris, const char *) = "http://[::1]/cb";
        v.client = c;
        v.redirect_uri = "http://127.0.0.1:53123/cb";
        html = oas_consent_render(p, t, iss, &v);
        assert_non_null(strstr(html, "sent back to: <strong>127.0.0.1:53123</strong>"));
        assert_non_null(strstr(html, "runs on a device"));
        assert_null(strstr(html, "comes from another device"));
        /* RFC 8628 §5.4: a device request is flagged as such (its own warning) */
        v.other_device = 1;
        v.redirect_uri = NULL;
        html = oas_consent_render(p, t, iss, &v);
        assert_non_null(strstr(html, "comes from another device"));
        assert_null(strstr(html, "runs on a device"));
        assert_null(strstr(html, "sent back to"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_grant_roundtrip),
        UNIT_TEST(test_mint),
        UNIT_TEST(test_userinfo_claims),
        UNIT_TEST(test_client_auth),
        UNIT_TEST(test_consent_page),
    };
    return UNIT_RUN(tests);
}
