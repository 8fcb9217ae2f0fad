/* Unit tests: Client ID Metadata Documents (oas_cimd.c): the client_id URL rules, the
 * document rules (next-wave.md §5.2, one refused row each), and the shared cache with a
 * stand-in fetch function on both stores; Cache-Control's max-age (oas_fetch.c). */
#include "unit.h"

#include <apr_strings.h>

#include "engine_stores.h"
#include "oas_cimd.h"
#include "oas_clients.h"
#include "oas_fetch.h"
#include "oas_jwk.h"
#include "oas_profile.h"
#include "oas_util.h"
#include "unit_jwk.h"

#define URL "https://app.example/oauth/client.json"
#define MIN_DOC "{\"client_id\":\"" URL "\",\"redirect_uris\":[\"https://app.example/cb\"]"

/* ---- the client_id URL ---- */

static void test_client_id_url(void **state)
{
    static const char *const good[] = {
        URL,
        "https://app.example:8443/c?x=1",
        "https://app.example/a/b/c",
        "https://app.example/.well-known/client",
        "https://app.example/a%20b/...",
        "https://[2001:db8::1]/c",
        "https://[::1]:8443/c",
        "https://192.0.2.1/c",
        "https://a-b.c9.example/c",
        NULL,
    };
    static const char *const bad[] = {
        "",
        "http://app.example/c",  /* not https */
        "HTTPS://app.example/c", /* written otherwise than the document's must be */
        "ftp://app.example/c",
        "app.example/c",
        "https://app.example", /* no path */
        "https://app.example/",
        "https://app.example/?q=1",
        "https:///c", /* no host, or not a DNS name or address */
        "https://../c",
        "https://app..example/c",
        "https://.app.example/c",
        "https://app.example./c",
        "https://app_x.example/c",
        "https://app%2eexample/c",
        "https://app.example:/c",
        "https://app.example:443x/c",
        "https://app.example:1234567/c",
        "https://[zz::1]/c",
        "https://[]/c",
        "https://app.example/c#frag", /* fragment */
        "https://app.example/c#",
        "https://user:pw@app.example/c", /* userinfo */
        "https://user@app.example/c",
        "https://app.example/a/../c", /* dot segments */
        "https://app.example/./c",
        "https://app.example/a/..",
        "https://app.example/a/.?x",
        "https://app.example/%2e%2e/c",
        "https://app.example/.%2E/c",
        "https://app.example/%2E/c",
        "https://app.example/a\\b", /* backslash */
        "https://app.example/a b",  /* space, controls, quotes */
        "https://app.example/a\tb",
        "https://app.example/a\nb",
        "https://app.example/a\x7f",
        "https://app.example/a\"b",
        "https://app.example/a<b>",
        "https://app.example/\xc3\xa9",
        "https://app.example/%zz", /* broken escapes */
        "https://app.example/%2",
        NULL,
    };
    apr_pool_t *p = *state;
    char *longer;
    int i;

    for (i = 0; good[i]; i++) {
        if (!oas_cimd_client_id_valid(good[i]))
            fail_msg("refused: %s (%s)", good[i], oas_cimd_client_id_problem(good[i]));
    }
    for (i = 0; bad[i]; i++) {
        if (oas_cimd_client_id_valid(bad[i]))
            fail_msg("accepted: %s", bad[i]);
    }
    assert_false(oas_cimd_client_id_valid(NULL));
    longer = apr_pcalloc(p, OAS_CIMD_MAX_URL + 2);
    memcpy(longer, "https://app.example/", 20);
    memset(longer + 20, 'a', OAS_CIMD_MAX_URL - 20);
    assert_true(oas_cimd_client_id_valid(longer));
    longer[OAS_CIMD_MAX_URL] = 'a';
    assert_false(oas_cimd_client_id_valid(longer));
    assert_non_null(strstr(oas_cimd_client_id_problem(longer), "longer"));
}

/* ---- the document ---- */

static oas_issuer_t *issuer(apr_pool_t *p)
{
    oas_issuer_t *iss = oas_issuer_make(p);

    iss->issuer = "https://as.example";
    iss->cimd = 1;
    return iss;
}

/* the client of doc, which must be accepted */
static oas_client_t *parse_ok(apr_pool_t *p, const char *doc)
{
    oas_client_t *c = NULL;
    const char *why = NULL;

    if (oas_cimd_parse(&c, &why, p, issuer(p), URL, doc, strlen(doc)) != APR_SUCCESS)
        fail_msg("refused (%s): %s", why, doc);
    assert_non_null(c);
    return c;
}

/* doc must be refused, the reason naming `reason` */
static void parse_refused(apr_pool_t *p, const char *doc, const char *reason)
{
    oas_client_t *c = (oas_client_t *)1;
    const char *why = NULL;

    if (oas_cimd_parse(&c, &why, p, issuer(p), URL, doc, strlen(doc)) != APR_EINVAL)
        fail_msg("accepted: %s", doc);
    assert_null(c);
    assert_non_null(why);
    if (!strstr(why, reason))
        fail_msg("refused for '%s', not '%s': %s", why, reason, doc);
}

static void test_parse_minimal_public(void **state)
{
    apr_pool_t *p = *state;
    oas_client_t *c = parse_ok(p, MIN_DOC "}");

    assert_string_equal(c->id, URL);
    assert_string_equal(c->name, URL);
    assert_int_equal(c->auth_methods, OAS_AUTH_NONE);
    assert_true(oas_client_is_public(c));
    assert_null(c->secret);
    assert_int_equal(c->grant_types, OAS_GRANT_CODE);
    assert_int_equal(c->require_pkce, 1);
    assert_int_equal(c->consent, 1);
    assert_int_equal(c->rt_rotation, 1);
    assert_int_equal(c->redirect_uris->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(c->redirect_uris, 0, const char *), "https://app.example/cb");
    assert_int_equal(c->scopes->nelts, 0);
    assert_null(c->audiences);
    assert_null(c->jwks);
    assert_null(c->jwks_uri);
}

static void test_parse_full_public(void **state)
{
    apr_pool_t *p = *state;
    oas_client_t *c = parse_ok(
        p, "{\"client_id\":\"" URL "\",\"client_name\":\"Agent \\u00e9\","
           "\"redirect_uris\":[\"http://127.0.0.1:3000/cb\",\"http://[::1]/cb\","
           "\"https://app.example/cb?x=1\"],"
           "\"token_endpoint_auth_method\":\"none\",\"grant_types\":[\"authorization_code\","
           "\"refresh_token\"],\"response_types\":[\"code\"],\"scope\":\"openid  mcp:tools "
           "openid\",\"logo_uri\":\"https://app.example/logo.png\",\"client_uri\":"
           "\"https://app.example/\",\"tos_uri\":\"https://app.example/tos\",\"policy_uri\":"
           "\"https://app.example/p\",\"software_id\":\"x\",\"contacts\":[1]}");

    assert_string_equal(c->name, "Agent \xc3\xa9");
    assert_int_equal(c->redirect_uris->nelts, 3);
    assert_int_equal(c->grant_types, OAS_GRANT_CODE | OAS_GRANT_REFRESH);
    assert_int_equal(c->scopes->nelts, 2); /* the repeated one once */
    assert_true(oas_list_has(c->scopes, "openid") && oas_list_has(c->scopes, "mcp:tools"));
}

/* post_logout_redirect_uris (RP-Initiated Logout 1.0 §3.1): read like redirect_uris */
static void test_parse_post_logout_redirect_uris(void **state)
{
    apr_pool_t *p = *state;
    oas_client_t *c = parse_ok(p, MIN_DOC ",\"post_logout_redirect_uris\":"
                                  "[\"https://app.example/bye\",\"http://127.0.0.1:9/bye\"]}");

    assert_int_equal(c->post_logout_redirect_uris->nelts, 2);
    assert_string_equal(APR_ARRAY_IDX(c->post_logout_redirect_uris, 0, const char *),
                        "https://app.example/bye");
    assert_null(parse_ok(p, MIN_DOC "}")->post_logout_redirect_uris);
    parse_refused(p, MIN_DOC ",\"post_logout_redirect_uris\":[]}", "post_logout_redirect_uris");
    parse_refused(p, MIN_DOC ",\"post_logout_redirect_uris\":[\"http://app.example/bye\"]}",
                  "post_logout_redirect_uris[0]");
    parse_refused(p, MIN_DOC ",\"post_logout_redirect_uris\":\"https://app.example/bye\"}",
                  "post_logout_redirect_uris");
}

static void test_parse_private_key_jwt(void **state)
{
    apr_pool_t *p = *state;
    oas_client_t *c;

    c = parse_ok(p, apr_psprintf(p,
                                 MIN_DOC ",\"token_endpoint_auth_method\":\"private_key_jwt\","
                                         "\"jwks\":{\"keys\":[%s]}}",
                                 ec_jwk(p, "k1", NULL)));
    assert_int_equal(c->auth_methods, OAS_AUTH_PKJWT);
    assert_false(oas_client_is_public(c));
    assert_int_equal(c->jwks->nelts, 1);
    assert_int_equal(c->require_pkce, 1);
    assert_int_equal(c->rt_rotation, 0);
    c = parse_ok(p, MIN_DOC ",\"token_endpoint_auth_method\":\"private_key_jwt\","
                            "\"jwks_uri\":\"https://app.example/jwks\"}");
    assert_string_equal(c->jwks_uri, "https://app.example/jwks");
    assert_null(c->jwks);
}

static void test_parse_profile(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = issuer(p);
    oas_client_t *c;
    const char *why = NULL, *doc = MIN_DOC "}";

    /* a FAPI 2.0 server takes no public client, from a document either */
    iss->profile = OAS_PROFILE_FAPI2;
    assert_int_equal(oas_cimd_parse(&c, &why, p, iss, URL, doc, strlen(doc)), APR_EINVAL);
    assert_non_null(strstr(why, "OAuthASProfile"));
    doc = MIN_DOC ",\"token_endpoint_auth_method\":\"private_key_jwt\","
                  "\"jwks_uri\":\"https://app.example/jwks\"}";
    assert_int_equal(oas_cimd_parse(&c, &why, p, iss, URL, doc, strlen(doc)), APR_SUCCESS);
    assert_int_equal(c->auth_methods, OAS_AUTH_PKJWT);
}

static void test_parse_refusals(void **state)
{
    static const struct {
        const char *members; /* after MIN_DOC */
        const char *reason;
    } rows[] = {
        /* no secret of any kind */
        {",\"client_secret\":\"s3cr3t\"", "client_secret"},
        {",\"client_secret_expires_at\":0", "client_secret"},
        {",\"token_endpoint_auth_method\":\"client_secret_basic\"", "neither none nor"},
        {",\"token_endpoint_auth_method\":\"client_secret_post\"", "neither none nor"},
        {",\"token_endpoint_auth_method\":\"client_secret_jwt\"", "neither none nor"},
        {",\"token_endpoint_auth_method\":\"tls_client_auth\"", "neither none nor"},
        {",\"token_endpoint_auth_method\":7", "not a string"},
        /* private_key_jwt needs keys, one way */
        {",\"token_endpoint_auth_method\":\"private_key_jwt\"", "without jwks"},
        {",\"jwks_uri\":\"http://app.example/jwks\"", "jwks_uri"},
        {",\"jwks_uri\":\"https://app.example/j\",\"jwks\":{\"keys\":[]}", "both"},
        {",\"jwks\":[]", "jwks is refused"},
        {",\"jwks\":{\"keys\":[]}", "jwks is refused"},
        {",\"jwks\":{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\"}]}", "jwks is refused"},
        /* grants and response types */
        {",\"grant_types\":[\"client_credentials\"]", "grant_types"},
        {",\"grant_types\":[\"authorization_code\",\"implicit\"]", "grant_types"},
        {",\"grant_types\":[\"authorization_code\",\"password\"]", "grant_types"},
        {",\"grant_types\":[\"refresh_token\"]", "lacks authorization_code"},
        {",\"grant_types\":\"authorization_code\"", "grant_types"},
        {",\"response_types\":[\"token\"]", "response_types"},
        {",\"response_types\":[\"code\",\"id_token\"]", "response_types"},
        {",\"response_types\":\"code\"", "response_types"},
        /* name and URIs */
        {",\"client_name\":\"\"", "client_name"},
        {",\"client_name\":42", "client_name"},
        {",\"client_name\":\"a\\u0007b\"", "control"},
        {",\"client_name\":\"a\\nb\"", "control"},
        {",\"logo_uri\":\"http://app.example/logo.png\"", "logo_uri"},
        {",\"logo_uri\":\"data:image/png;base64,AAAA\"", "logo_uri"},
        {",\"client_uri\":\"javascript:alert(1)\"", "client_uri"},
        {",\"tos_uri\":1", "tos_uri"},
        {",\"policy_uri\":\"https://u:p@app.example/p\"", "policy_uri"},
        /* scope */
        {",\"scope\":[\"openid\"]", "scope"},
        {",\"scope\":\"a\\\"b\"", "scope"},
        {",\"scope\":\"a\\\\b\"", "scope"},
        {",\"scope\":\"caf\\u00e9\"", "scope"},
    };
    apr_pool_t *p = *state;
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        parse_refused(p, apr_pstrcat(p, MIN_DOC, rows[i].members, "}", NULL), rows[i].reason);
}

static void test_parse_document_and_client_id(void **state)
{
    apr_pool_t *p = *state;
    char *big;
    const char *why;
    oas_client_t *c;

    parse_refused(p, "[]", "JSON object");
    parse_refused(p, "", "JSON object");
    parse_refused(p, MIN_DOC, "JSON object");
    parse_refused(p, MIN_DOC "}x", "JSON object");
    parse_refused(p, MIN_DOC ",\"scope\":\"a\",\"scope\":\"b\"}", "JSON object"); /* duplicate */
    parse_refused(p, "{\"redirect_uris\":[\"https://app.example/cb\"]}", "client_id");
    parse_refused(p, "{\"client_id\":7,\"redirect_uris\":[\"https://app.example/cb\"]}",
                  "client_id");
    parse_refused(p, "{\"client_id\":\"" URL "/\",\"redirect_uris\":[\"https://a.example/cb\"]}",
                  "client_id");
    parse_refused(p,
                  "{\"client_id\":\"https://APP.example/oauth/client.json\",\"redirect_uris\":"
                  "[\"https://app.example/cb\"]}",
                  "client_id");
    parse_refused(p,
                  "{\"client_id\":\"https://other.example/c\",\"redirect_uris\":"
                  "[\"https://app.example/cb\"]}",
                  "client_id");
    /* over the size limit, even when valid */
    big = apr_pcalloc(p, OAS_CIMD_MAX_DOC + 64);
    strcpy(big, MIN_DOC ",\"pad\":\"");
    memset(big + strlen(big), 'a', OAS_CIMD_MAX_DOC);
    strcat(big, "\"}");
    assert_int_equal(oas_cimd_parse(&c, &why, p, issuer(p), URL, big, strlen(big)), APR_EINVAL);
    assert_non_null(strstr(why, "larger"));
}

static void test_parse_redirect_uris(void **state)
{
    static const struct {
        const char *list;
        const char *reason;
    } rows[] = {
        {NULL, "redirect_uris"},
        {"[]", "redirect_uris"},
        {"\"https://app.example/cb\"", "redirect_uris"},
        {"[1]", "redirect_uris[0]"},
        {"[\"https://app.example/cb\",null]", "redirect_uris[1]"},
        {"[\"http://app.example/cb\"]", "loopback"},
        {"[\"http://localhost:3000/cb\"]", "neither https"},
        {"[\"http://10.0.0.1/cb\"]", "loopback"},
        {"[\"com.example.app:/cb\"]", "neither https"},
        {"[\"https://app.example/cb#f\"]", "fragment"},
        {"[\"javascript:alert(1)//\"]", "redirect_uris[0]"},
        {"[\"/relative\"]", "redirect_uris[0]"},
        {"[\"https://u@app.example/cb\"]", "redirect_uris[0]"},
    };
    apr_pool_t *p = *state;
    char *list, *longer;
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        parse_refused(p,
                      apr_pstrcat(p, "{\"client_id\":\"" URL "\"",
                                  rows[i].list ? ",\"redirect_uris\":" : "",
                                  rows[i].list ? rows[i].list : "", "}", NULL),
                      rows[i].reason);
    }
    /* at most OAS_CIMD_MAX_REDIRECTS */
    list = apr_pstrdup(p, "[\"https://app.example/0\"");
    for (i = 1; i < OAS_CIMD_MAX_REDIRECTS; i++)
        list = apr_psprintf(p, "%s,\"https://app.example/%d\"", list, (int)i);
    parse_ok(p, apr_pstrcat(p, "{\"client_id\":\"" URL "\",\"redirect_uris\":", list, "]}", NULL));
    parse_refused(p,
                  apr_pstrcat(p, "{\"client_id\":\"" URL "\",\"redirect_uris\":", list,
                              ",\"https://app.example/x\"]}", NULL),
                  "more than");
    /* each at most OAS_CIMD_MAX_URI bytes */
    longer = apr_pcalloc(p, OAS_CIMD_MAX_URI + 2);
    memcpy(longer, "https://app.example/", 20);
    memset(longer + 20, 'a', OAS_CIMD_MAX_URI - 19);
    parse_refused(
        p, apr_pstrcat(p, "{\"client_id\":\"" URL "\",\"redirect_uris\":[\"", longer, "\"]}", NULL),
        "at most");
}

static void test_parse_scope_limit(void **state)
{
    apr_pool_t *p = *state;
    char *s = apr_pstrdup(p, "s0");
    int i;

    for (i = 1; i < OAS_CIMD_MAX_SCOPES; i++)
        s = apr_psprintf(p, "%s s%d", s, i);
    parse_ok(p, apr_pstrcat(p, MIN_DOC ",\"scope\":\"", s, "\"}", NULL));
    parse_refused(p, apr_pstrcat(p, MIN_DOC ",\"scope\":\"", s, " more\"}", NULL), "more than");
}

/* ---- Cache-Control ---- */

static void test_max_age(void **state)
{
    static const struct {
        const char *v;
        apr_int64_t age;
    } rows[] = {
        {"max-age=300", 300},
        {"public, max-age=60", 60},
        {"MAX-AGE=10", 10},
        {"max-age=\"20\"", 20},
        {"max-age=0", 0},
        {"no-store", 0},
        {"no-cache, max-age=600", 0},
        {"max-age=600, No-Store", 0},
        {"max-age=99999999999999999999", 31536000},
        {"", -1},
        {"public", -1},
        {"s-maxage=10", -1},
        {"max-age=abc", -1},
        {"max-age=-5", -1},
        {"max-age", -1},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (oas_fetch_max_age(rows[i].v) != rows[i].age)
            fail_msg("'%s': %lld, not %lld", rows[i].v, (long long)oas_fetch_max_age(rows[i].v),
                     (long long)rows[i].age);
    }
}

/* ---- the fetch and the shared cache ---- */

static struct {
    int calls;
    const char *doc;     /* NULL: the fetch fails */
    apr_int64_t max_age; /* what the answer's Cache-Control says (-1: nothing) */
} fake;

static apr_status_t fake_fetch(char **pbody, apr_size_t *plen, const char **perr, apr_pool_t *p,
                               const char *url, const oas_fetch_opts_t *o)
{
    fake.calls++;
    assert_string_equal(url, URL);
    /* the real fetch gets our limits and the issuer's outbound settings */
    assert_int_equal(o->max_body, OAS_CIMD_MAX_DOC);
    assert_string_equal(o->ca_file, "/etc/test-ca.pem");
    assert_non_null(o->allow);
    assert_string_equal(APR_ARRAY_IDX(o->allow, 0, const char *), "app.example");
    assert_non_null(o->max_age);
    if (!fake.doc) {
        *perr = "app.example: connection refused";
        return APR_EGENERAL;
    }
    *pbody = apr_pstrdup(p, fake.doc);
    *plen = strlen(fake.doc);
    *o->max_age = fake.max_age;
    return APR_SUCCESS;
}

typedef struct {
    apr_pool_t *p;
    oas_issuer_t *iss;
    oas_store_t *st;
    apr_int64_t t0;
    oas_err_t err;
} env_t;

/* one request at t0 + dt: its status; the client when it succeeded (NULL otherwise) */
static const oas_client_t *client_at(env_t *e, apr_int64_t dt, const char *url, apr_status_t want)
{
    oas_ctx_t *x = apr_palloc(e->p, sizeof(*x));
    const oas_client_t *c = NULL;
    apr_status_t rv;

    oas_ctx_init(x, e->p, e->iss, e->t0 + dt);
    x->store[OAS_CTX_SHORT] = x->store[OAS_CTX_LONG] = e->st;
    x->opened[OAS_CTX_SHORT] = x->opened[OAS_CTX_LONG] = 1;
    memset(&e->err, 0, sizeof(e->err));
    rv = oas_cimd_fetch(&c, &e->err, x, url, fake_fetch);
    assert_int_equal(rv, want);
    if (rv != APR_SUCCESS) {
        assert_null(c);
        assert_int_equal(e->err.status, 401);
        assert_string_equal(e->err.error, "invalid_client");
        return NULL;
    }
    assert_non_null(c);
    assert_string_equal(c->id, url);
    return c;
}

/* a request at t0 + dt that must succeed, after which the fetch has run `calls` times */
static void ok_at(env_t *e, apr_int64_t dt, int calls)
{
    client_at(e, dt, URL, APR_SUCCESS);
    assert_int_equal(fake.calls, calls);
}

/* a request at t0 + dt that must fail with a detail holding tag, after `calls` fetches */
static void refused_at(env_t *e, apr_int64_t dt, int calls, const char *tag)
{
    client_at(e, dt, URL, APR_EINVAL);
    assert_int_equal(fake.calls, calls);
    if (!strstr(e->err.detail, tag))
        fail_msg("detail '%s' lacks %s", e->err.detail, tag);
}

/* a fresh environment on store k: an issuer with metadata documents On and outbound
 * settings, the stand-in fetch reset to a minimal document without Cache-Control */
static void env_init(env_t *e, apr_pool_t *p, engine_store_e k)
{
    memset(e, 0, sizeof(*e));
    e->p = p;
    e->iss = issuer(p);
    e->iss->ca_file = "/etc/test-ca.pem";
    e->iss->outbound_allow = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(e->iss->outbound_allow, const char *) = "app.example";
    e->st = engine_store(p, k, 1024);
    e->t0 = apr_time_sec(apr_time_now());
    memset(&fake, 0, sizeof(fake));
    fake.max_age = -1;
    fake.doc = MIN_DOC "}";
}
#define ON_BOTH_STORES(name) ENGINE_EACH_STORE(name, env_t, env_init)

static void test_cache_hit_and_expiry_on(env_t *e, apr_pool_t *p)
{
    ok_at(e, 0, 1);
    ok_at(e, 10, 1); /* another request (any process): the shared copy */
    ok_at(e, OAS_CIMD_TTL_DEFAULT - 1, 1);
    ok_at(e, OAS_CIMD_TTL_DEFAULT, 2); /* expired: fetched again */
    ok_at(e, OAS_CIMD_TTL_DEFAULT + 5, 2);
}
ON_BOTH_STORES(test_cache_hit_and_expiry)

/* the process's cache of parsed clients (oas_clients.h): the shared copy is read at every
 * request, parsed once per process and version; the client has the open scopes only */
static void test_parsed_once_on(env_t *e, apr_pool_t *p)
{
    apr_pool_t *child;
    const oas_client_t *c1, *c2;

    apr_pool_create(&child, p);
    assert_int_equal(oas_clients_child_init(child), APR_SUCCESS);
    fake.doc = MIN_DOC ",\"scope\":\"mcp:tools profile openid\"}";
    c1 = client_at(e, 0, URL, APR_SUCCESS);
    assert_int_equal(c1->scopes->nelts, 2); /* mcp:tools is no open scope */
    assert_true(oas_list_has(c1->scopes, "openid") && oas_list_has(c1->scopes, "profile"));
    assert_ptr_equal(client_at(e, 10, URL, APR_SUCCESS), c1);
    assert_int_equal(fake.calls, 1);
    /* another document at the refetch: another client */
    fake.doc = MIN_DOC ",\"client_name\":\"New\"}";
    c2 = client_at(e, OAS_CIMD_TTL_DEFAULT, URL, APR_SUCCESS);
    assert_int_equal(fake.calls, 2);
    assert_ptr_not_equal(c2, c1);
    assert_string_equal(c2->name, "New");
    assert_int_equal(c2->scopes->nelts, 1); /* none named: openid */
    assert_ptr_equal(client_at(e, OAS_CIMD_TTL_DEFAULT + 1, URL, APR_SUCCESS), c2);
    apr_pool_destroy(child);
}
ON_BOTH_STORES(test_parsed_once)

static void test_cache_max_age_bounds_on(env_t *e, apr_pool_t *p)
{
    const apr_int64_t t1 = 3600, t2 = t1 + OAS_CIMD_TTL_MIN, t3 = t2 + OAS_CIMD_TTL_MIN;

    fake.max_age = 3600; /* within the bounds: as said */
    ok_at(e, 0, 1);
    ok_at(e, t1 - 1, 1);
    fake.max_age = 5; /* under: the least */
    ok_at(e, t1, 2);
    ok_at(e, t2 - 1, 2);
    fake.max_age = 0; /* no-store: the least too, so a document is not fetched per request */
    ok_at(e, t2, 3);
    ok_at(e, t3 - 1, 3);
    fake.max_age = 10 * OAS_CIMD_TTL_MAX; /* over: the most */
    ok_at(e, t3, 4);
    ok_at(e, t3 + OAS_CIMD_TTL_MAX - 1, 4);
    ok_at(e, t3 + OAS_CIMD_TTL_MAX, 5);
}
ON_BOTH_STORES(test_cache_max_age_bounds)

static void test_failed_fetch_remembered_on(env_t *e, apr_pool_t *p)
{
    fake.doc = NULL;
    refused_at(e, 0, 1, "06856");
    assert_non_null(strstr(e->err.detail, "connection refused"));
    refused_at(e, 1, 1, "06855"); /* remembered: no new fetch */
    refused_at(e, OAS_CIMD_FAIL_MEMORY - 1, 1, "06855");
    fake.doc = MIN_DOC "}";
    ok_at(e, OAS_CIMD_FAIL_MEMORY, 2); /* tried again after the memory */
    ok_at(e, OAS_CIMD_FAIL_MEMORY + 1, 2);
}
ON_BOTH_STORES(test_failed_fetch_remembered)

static void test_refused_documents_remembered_on(env_t *e, apr_pool_t *p)
{
    char *big;

    /* a document for another client_id */
    fake.doc = "{\"client_id\":\"https://app.example/other\",\"redirect_uris\":"
               "[\"https://app.example/cb\"]}";
    refused_at(e, 0, 1, "06856");
    assert_non_null(strstr(e->err.detail, "client_id"));
    refused_at(e, 5, 1, "06855");
    /* an oversized one (the stand-in hands over what the real fetch would cut off) */
    big = apr_pcalloc(p, OAS_CIMD_MAX_DOC + 64);
    strcpy(big, MIN_DOC ",\"pad\":\"");
    memset(big + strlen(big), 'a', OAS_CIMD_MAX_DOC);
    strcat(big, "\"}");
    fake.doc = big;
    refused_at(e, OAS_CIMD_FAIL_MEMORY, 2, "larger");
    refused_at(e, OAS_CIMD_FAIL_MEMORY + 1, 2, "06855");
    /* one with a secret */
    fake.doc = MIN_DOC ",\"client_secret\":\"s3cr3t\"}";
    refused_at(e, 2 * OAS_CIMD_FAIL_MEMORY, 3, "client_secret");
    assert_null(strstr(e->err.detail, "s3cr3t"));
}
ON_BOTH_STORES(test_refused_documents_remembered)

static void test_not_a_cimd_client_on(env_t *e, apr_pool_t *p)
{
    client_at(e, 0, "https://app.example/", APR_NOTFOUND);
    client_at(e, 0, "http://app.example/c", APR_NOTFOUND);
    client_at(e, 0, "app", APR_NOTFOUND);
    assert_non_null(strstr(e->err.detail, "06853"));
    e->iss->cimd = OAS_UNSET; /* the default: Off */
    client_at(e, 0, URL, APR_NOTFOUND);
    assert_non_null(strstr(e->err.detail, "Off"));
    e->iss->cimd = 0;
    client_at(e, 0, URL, APR_NOTFOUND);
    assert_int_equal(fake.calls, 0);
}
ON_BOTH_STORES(test_not_a_cimd_client)

static void test_cache_per_issuer_on(env_t *e, apr_pool_t *p)
{
    oas_issuer_t *first = e->iss;

    ok_at(e, 0, 1);
    /* another issuer on the same store fetches under its own outbound settings */
    e->iss = issuer(p);
    e->iss->issuer = "https://other-as.example";
    e->iss->ca_file = first->ca_file;
    e->iss->outbound_allow = first->outbound_allow;
    ok_at(e, 1, 2);
    ok_at(e, 2, 2);
    e->iss = first;
    ok_at(e, 3, 2);
}
ON_BOTH_STORES(test_cache_per_issuer)

/* the store key of a record of kind for URL */
static const char *rec_key(env_t *e, int kind)
{
    return apr_psprintf(e->p, "%c\n%s\n%s", kind, e->iss->issuer, URL);
}

static void test_shared_copy_rechecked_on(env_t *e, apr_pool_t *p)
{
    const char *key, *bad;

    ok_at(e, 0, 1);
    /* a shared copy that no longer passes (another build wrote it) is fetched anew */
    key = rec_key(e, 'd');
    bad = apr_psprintf(p, "%" APR_INT64_T_FMT " {\"client_id\":\"https://app.example/other\"}",
                       e->t0 + 100);
    assert_int_equal(
        oas_store_put(e->st, p, OAS_NS_CIMD, key, bad, strlen(bad), apr_time_from_sec(e->t0 + 100)),
        APR_SUCCESS);
    ok_at(e, 1, 2);
    ok_at(e, 2, 2);
}
ON_BOTH_STORES(test_shared_copy_rechecked)

static void test_one_fetch_at_a_time_on(env_t *e, apr_pool_t *p)
{
    const char *v = apr_psprintf(p, "%" APR_INT64_T_FMT " ", e->t0 + 5);
    apr_time_t start = apr_time_now();
    char *got;
    apr_size_t n;

    /* another request's fetch is under way (its marker lives 300 ms, then its process
     * "dies" without an outcome): this one waits instead of fetching, then fetches itself */
    assert_int_equal(oas_store_put(e->st, p, OAS_NS_CIMD, rec_key(e, 'l'), v, strlen(v),
                                   apr_time_now() + apr_time_from_msec(300)),
                     APR_SUCCESS);
    ok_at(e, 0, 1);
    assert_true(apr_time_now() - start >= apr_time_from_msec(250));
    assert_true(apr_time_now() - start < apr_time_from_sec(OAS_FETCH_TIMEOUT_MS / 1000));
    /* its own marker is gone once it has fetched */
    assert_int_equal(oas_store_get(e->st, p, OAS_NS_CIMD, rec_key(e, 'l'), &got, &n), APR_NOTFOUND);
    /* a marker the store still keeps but whose time is over is taken at once */
    v = apr_psprintf(p, "%" APR_INT64_T_FMT " ", e->t0 + OAS_CIMD_TTL_DEFAULT);
    assert_int_equal(oas_store_put(e->st, p, OAS_NS_CIMD, rec_key(e, 'l'), v, strlen(v),
                                   apr_time_from_sec(e->t0 + 2 * OAS_CIMD_TTL_DEFAULT)),
                     APR_SUCCESS);
    start = apr_time_now();
    ok_at(e, OAS_CIMD_TTL_DEFAULT, 2);
    assert_true(apr_time_now() - start < apr_time_from_msec(200));
}
ON_BOTH_STORES(test_one_fetch_at_a_time)

static void test_log_detail_escaped_on(env_t *e, apr_pool_t *p)
{
    client_at(e, 0, "https://app.example/a\nOAS00001 forged", APR_NOTFOUND);
    assert_null(strchr(e->err.detail, '\n'));
    assert_int_equal(fake.calls, 0);
}
ON_BOTH_STORES(test_log_detail_escaped)

int main(void)
{
    (void)engine_ctx; /* engine_stores.h: this file builds its contexts itself */
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_client_id_url),
        UNIT_TEST(test_parse_minimal_public),
        UNIT_TEST(test_parse_full_public),
        UNIT_TEST(test_parse_post_logout_redirect_uris),
        UNIT_TEST(test_parse_private_key_jwt),
        UNIT_TEST(test_parse_profile),
        UNIT_TEST(test_parse_refusals),
        UNIT_TEST(test_parse_document_and_client_id),
        UNIT_TEST(test_parse_redirect_uris),
        UNIT_TEST(test_parse_scope_limit),
        UNIT_TEST(test_max_age),
        UNIT_TEST(test_cache_hit_and_expiry),
        UNIT_TEST(test_parsed_once),
        UNIT_TEST(test_cache_max_age_bounds),
        UNIT_TEST(test_failed_fetch_remembered),
        UNIT_TEST(test_refused_documents_remembered),
        UNIT_TEST(test_not_a_cimd_client),
        UNIT_TEST(test_cache_per_issuer),
        UNIT_TEST(test_shared_copy_rechecked),
        UNIT_TEST(test_one_fetch_at_a_time),
        UNIT_TEST(test_log_detail_escaped),
    };
    return UNIT_RUN(tests);
}
