/* Unit tests: the jwks_uri cache (oas_jwks_cache.c, through oas_client_keys) with a stand-in
 * fetch function, on both stores; the outbound address policy and the fetch's refusals that
 * need no network (oas_fetch.c). */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <apr_strings.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "engine_stores.h"
#include "oas_client_keys.h"
#include "oas_fetch.h"
#include "oas_jwk.h"
#include "oas_jwks_cache.h"
#include "oas_util.h"
#include "unit_jwk.h"

#define URI "https://keys.example/jwks"

/* ---- the stand-in fetch ---- */

static struct {
    int calls;
    const char *doc; /* NULL: the fetch fails */
    const char *ca_file;
} fake;

static apr_status_t fake_fetch(char **pbody, apr_size_t *plen, const char **perr, apr_pool_t *p,
                               const char *url, const oas_fetch_opts_t *o)
{
    fake.calls++;
    assert_string_equal(url, URI);
    fake.ca_file = o->ca_file;
    if (!fake.doc) {
        *perr = "keys.example: connection refused";
        return APR_EGENERAL;
    }
    *pbody = apr_pstrdup(p, fake.doc);
    *plen = strlen(fake.doc);
    return APR_SUCCESS;
}

static const char *jwks2(apr_pool_t *p, const char *a, const char *b)
{
    return b ? apr_psprintf(p, "{\"keys\":[%s,%s]}", a, b) : apr_psprintf(p, "{\"keys\":[%s]}", a);
}

/* ---- one client, one store, requests at chosen times ---- */

typedef struct {
    apr_pool_t *p;
    oas_issuer_t *iss;
    oas_client_t *c;
    oas_store_t *st;
    apr_int64_t t0;
    oas_err_t err;
} env_t;

static void env_init(env_t *e, apr_pool_t *p, engine_store_e k)
{
    memset(e, 0, sizeof(*e));
    e->p = p;
    e->iss = oas_issuer_make(p);
    e->iss->issuer = "https://as.example";
    e->iss->ca_file = "/etc/test-ca.pem";
    e->c = oas_client_make(p, "partner");
    e->c->jwks_uri = URI;
    e->st = engine_store(p, k, 1024);
    e->t0 = apr_time_sec(apr_time_now());
    memset(&fake, 0, sizeof(fake));
    oas_jwks_cache_set_fetch(fake_fetch, 100);
    assert_int_equal(oas_jwks_cache_child_init(p), APR_SUCCESS);
}

/* one request at t0 + dt: the keys for kid, or NULL with e->err set */
static apr_array_header_t *keys_at(env_t *e, apr_int64_t dt, const char *kid)
{
    oas_ctx_t *x = apr_palloc(e->p, sizeof(*x));
    apr_array_header_t *keys = NULL;

    oas_ctx_init(x, e->p, e->iss, e->t0 + dt);
    x->store[OAS_CTX_SHORT] = x->store[OAS_CTX_LONG] = e->st;
    x->opened[OAS_CTX_SHORT] = x->opened[OAS_CTX_LONG] = 1;
    memset(&e->err, 0, sizeof(e->err));
    if (oas_client_keys(&keys, &e->err, x, e->c, kid) != APR_SUCCESS) {
        assert_int_equal(e->err.status, 401);
        assert_string_equal(e->err.error, "invalid_client");
        return NULL;
    }
    assert_non_null(keys);
    return keys;
}

/* keys_at, which must succeed, after which the stand-in fetch has run `calls` times */
static apr_array_header_t *ok_at(env_t *e, apr_int64_t dt, const char *kid, int calls)
{
    apr_array_header_t *keys = keys_at(e, dt, kid);

    assert_non_null(keys);
    assert_int_equal(fake.calls, calls);
    return keys;
}

#define DETAIL_HAS(e, s) assert_non_null(strstr((e)->err.detail, (s)))

/* Runs body on a fresh environment of each store (in its own pool). */
/* Runs name##_on on a fresh environment of each store (in its own pool). */
#define ON_BOTH_STORES(name) ENGINE_EACH_STORE(name, env_t, env_init)

/* ---- the cache policy ---- */

static void test_first_fetch_then_hits_on(env_t *e, apr_pool_t *p)
{
    apr_array_header_t *a, *b;

    fake.doc = jwks2(p, ec_jwk(p, "k1", NULL), ec_jwk(p, "k2", NULL));
    a = ok_at(e, 0, "k1", 1);
    assert_string_equal(fake.ca_file, "/etc/test-ca.pem");
    assert_true(oas_jwks_has_kid(a, "k1") && oas_jwks_has_kid(a, "k2"));
    /* hits: no fetch, the keys parsed once by this process */
    assert_non_null(b = keys_at(e, 10, "k2"));
    assert_ptr_equal(a, b);
    ok_at(e, 3599, NULL, 1);
}

ON_BOTH_STORES(test_first_fetch_then_hits)

static void test_unknown_kid_refetch_once_per_gap_on(env_t *e, apr_pool_t *p)
{
    apr_array_header_t *a;
    const char *k1;

    k1 = ec_jwk(p, "k1", NULL);
    fake.doc = jwks2(p, k1, NULL);
    assert_non_null(keys_at(e, 0, "k1"));
    /* rotation: the new kid triggers one refetch and is found */
    fake.doc = jwks2(p, k1, ec_jwk(p, "k2", NULL));
    a = ok_at(e, 5, "k2", 2);
    assert_true(oas_jwks_has_kid(a, "k2"));
    /* another unknown kid within 60 s: no refetch, the current keys (without it) */
    a = ok_at(e, 30, "k3", 2);
    assert_false(oas_jwks_has_kid(a, "k3"));
    ok_at(e, 64, "k3", 2);
    /* 60 s after the last refetch: one more */
    ok_at(e, 65, "k3", 3);
    ok_at(e, 66, "k4", 3);
}

ON_BOTH_STORES(test_unknown_kid_refetch_once_per_gap)

static void test_failure_remembered_on(env_t *e, apr_pool_t *p)
{
    fake.doc = NULL;
    assert_null(keys_at(e, 0, "k1"));
    assert_int_equal(fake.calls, 1);
    DETAIL_HAS(e, "OAS06110");
    DETAIL_HAS(e, "connection refused");
    /* within 60 s: fails at once, no fetch */
    assert_null(keys_at(e, 59, "k1"));
    assert_int_equal(fake.calls, 1);
    DETAIL_HAS(e, "OAS06108");
    /* then a new attempt, which works */
    fake.doc = jwks2(p, ec_jwk(p, "k1", NULL), NULL);
    ok_at(e, 60, "k1", 2);
}

ON_BOTH_STORES(test_failure_remembered)

static void test_stale_fallback_on(env_t *e, apr_pool_t *p)
{
    apr_array_header_t *a;

    fake.doc = jwks2(p, ec_jwk(p, "k1", NULL), NULL);
    assert_non_null(keys_at(e, 0, "k1"));
    /* an hour later the refresh fails: the old keys are used */
    fake.doc = NULL;
    assert_non_null(a = keys_at(e, 3600, "k1"));
    assert_true(oas_jwks_has_kid(a, "k1"));
    assert_int_equal(fake.calls, 2);
    /* the failure is remembered: no fetch for 60 s, still the old keys */
    ok_at(e, 3650, "k1", 2);
    ok_at(e, 3660, "k1", 3);
    /* a day after the fetch the document is no longer used */
    assert_null(keys_at(e, 86400, "k1"));
    assert_int_equal(fake.calls, 4);
    DETAIL_HAS(e, "OAS06110");
    /* a refresh that works replaces the keys */
    fake.doc = jwks2(p, ec_jwk(p, "k9", NULL), NULL);
    assert_non_null(a = keys_at(e, 86400 + 60, "k9"));
    assert_true(oas_jwks_has_kid(a, "k9"));
    assert_int_equal(fake.calls, 5);
    fake.doc = jwks2(p, ec_jwk(p, "k10", NULL), NULL);
    assert_non_null(a = keys_at(e, 86400 + 60 + 3600, NULL));
    assert_true(oas_jwks_has_kid(a, "k10"));
    assert_int_equal(fake.calls, 6);
}

ON_BOTH_STORES(test_stale_fallback)

/* each refused document of its own client: a failure is remembered per client */
static void test_unusable_documents_refused_on(env_t *e, apr_pool_t *p)
{
    const char *bad[] = {
        "not json",
        "{\"keys\":{}}",
        "{\"keys\":[]}",
        "[1,2]",
        "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}",
        jwks2(p, ec_jwk(p, "k1", ",\"d\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\""), NULL),
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        e->c = oas_client_make(p, apr_psprintf(p, "bad%d", (int)i));
        e->c->jwks_uri = URI;
        fake.doc = bad[i];
        assert_null(keys_at(e, 0, "k1"));
        DETAIL_HAS(e, "OAS06110");
        DETAIL_HAS(e, "refused");
        assert_null(keys_at(e, 1, "k1")); /* remembered */
        DETAIL_HAS(e, "OAS06108");
        assert_int_equal(fake.calls, (int)i + 1);
    }
}
ON_BOTH_STORES(test_unusable_documents_refused)

static void test_shared_copy_is_compact_on(env_t *e, apr_pool_t *p)
{
    char *v;
    apr_size_t n;

    fake.doc = jwks2(p, ec_jwk(p, "k1", ",\"x5t\":\"zzzz\",\"ext_member\":[1,2,3]"), NULL);
    assert_non_null(keys_at(e, 0, "k1"));
    assert_int_equal(oas_store_get(e->st, p, OAS_NS_JWKS, "d\npartner\n" URI, &v, &n), APR_SUCCESS);
    assert_null(strstr(v, "ext_member"));
    assert_null(strstr(v, "x5t"));
    assert_non_null(strstr(v, "\"kid\":\"k1\""));
    /* another process (a fresh cache) reads the shared copy: no fetch */
    assert_int_equal(oas_jwks_cache_child_init(p), APR_SUCCESS);
    ok_at(e, 1, "k1", 1);
}

ON_BOTH_STORES(test_shared_copy_is_compact)

static void test_other_process_fetching_on(env_t *e, apr_pool_t *p)
{
    const char *v;

    /* another process's fetch in progress, which never finishes: we wait (100 ms here),
     * then fail; no second fetch */
    v = apr_psprintf(p, "%" APR_INT64_T_FMT, e->t0);
    assert_int_equal(oas_store_put(e->st, p, OAS_NS_JWKS, "l\npartner\n" URI, v, strlen(v),
                                   apr_time_from_sec(e->t0 + 60)),
                     APR_SUCCESS);
    fake.doc = jwks2(p, ec_jwk(p, "k1", NULL), NULL);
    assert_null(keys_at(e, 0, "k1"));
    DETAIL_HAS(e, "OAS06109");
    assert_int_equal(fake.calls, 0);
    /* its marker lapses: this process fetches */
    ok_at(e, 10, "k1", 1);
}

ON_BOTH_STORES(test_other_process_fetching)

static void test_file_keys_and_none(void **state)
{
    apr_pool_t *p = *state;
    env_t e;

    env_init(&e, p, ENGINE_SHM);
    e.c->jwks_uri = NULL;
    assert_null(keys_at(&e, 0, "k1"));
    DETAIL_HAS(&e, "OAS06101");
    e.c->jwks = apr_array_make(p, 1, sizeof(oas_jwk_t *));
    assert_ptr_equal(keys_at(&e, 0, "k1"), e.c->jwks);
    assert_int_equal(fake.calls, 0);
}

/* ---- the outbound address policy ---- */

static int internal(const char *addr)
{
    struct sockaddr_in in;
    struct sockaddr_in6 in6;

    memset(&in, 0, sizeof(in));
    memset(&in6, 0, sizeof(in6));
    if (inet_pton(AF_INET, addr, &in.sin_addr) == 1) {
        in.sin_family = AF_INET;
        return oas_addr_is_internal((struct sockaddr *)&in);
    }
    assert_int_equal(inet_pton(AF_INET6, addr, &in6.sin6_addr), 1);
    in6.sin6_family = AF_INET6;
    return oas_addr_is_internal((struct sockaddr *)&in6);
}

static void test_address_policy(void **state)
{
    static const char *const inside[] = {
        "0.0.0.0",
        "0.1.2.3",
        "10.0.0.1",
        "10.255.255.255",
        "100.64.0.1",
        "100.127.255.254",
        "127.0.0.1",
        "127.255.0.1",
        "169.254.169.254",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "192.0.0.8",
        "192.0.2.1",
        "198.18.0.1",
        "198.19.255.255",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::127.0.0.1",
        "::ffff:127.0.0.1",
        "::ffff:10.1.2.3",
        "::ffff:169.254.169.254",
        "64:ff9b::a00:1",
        "2002:7f00:1::1",
        "2002:c0a8:101::",
        "fe80::1",
        "fec0::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "2001:db8::1",
    };
    static const char *const outside[] = {
        "1.1.1.1",         "8.8.8.8",           "9.255.255.255",   "11.0.0.1",
        "100.63.255.255",  "100.128.0.1",       "126.255.255.255", "128.0.0.1",
        "169.253.0.1",     "172.15.255.255",    "172.32.0.1",      "192.167.1.1",
        "192.169.0.1",     "198.17.0.1",        "198.20.0.1",      "223.255.255.255",
        "2606:4700::1111", "2a00:1450:4001::1", "::ffff:8.8.8.8",  "64:ff9b::808:808",
        "2002:808:808::1",
    };
    struct sockaddr un = {0};
    size_t i;

    for (i = 0; i < sizeof(inside) / sizeof(inside[0]); i++) {
        if (!internal(inside[i]))
            fail_msg("%s should be internal", inside[i]);
    }
    for (i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
        if (internal(outside[i]))
            fail_msg("%s should be public", outside[i]);
    }
    un.sa_family = AF_UNIX;
    assert_true(oas_addr_is_internal(&un));
}

static void test_host_allowed(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *allow = apr_array_make(p, 3, sizeof(const char *));

    assert_false(oas_fetch_host_allowed(NULL, "localhost"));
    APR_ARRAY_PUSH(allow, const char *) = "LocalHost";
    APR_ARRAY_PUSH(allow, const char *) = "127.0.0.1";
    APR_ARRAY_PUSH(allow, const char *) = "[::1]";
    assert_true(oas_fetch_host_allowed(allow, "localhost"));
    assert_true(oas_fetch_host_allowed(allow, "127.0.0.1"));
    assert_true(oas_fetch_host_allowed(allow, "::1"));
    assert_false(oas_fetch_host_allowed(allow, "localhost.evil.example"));
    assert_false(oas_fetch_host_allowed(allow, "127.0.0.2"));
    assert_false(oas_fetch_host_allowed(allow, "local"));
}

/* refusals decided before any packet leaves (and one to a closed local port) */
static void test_fetch_refusals(void **state)
{
    apr_pool_t *p = *state;
    oas_fetch_opts_t o;
    apr_array_header_t *allow = apr_array_make(p, 1, sizeof(const char *));
    const char *err = NULL;
    char *body;
    apr_size_t len;

    memset(&o, 0, sizeof(o));
    assert_int_equal(oas_fetch_global_init(), APR_SUCCESS);
    assert_int_equal(oas_fetch_json(&body, &len, &err, p, "http://example.com/jwks", &o),
                     APR_EINVAL);
    assert_int_equal(oas_fetch_json(&body, &len, &err, p, "file:///etc/passwd", &o), APR_EINVAL);
    assert_int_equal(oas_fetch_json(&body, &len, &err, p, "https:///nohost", &o), APR_EINVAL);
    /* loopback and link-local, not allowed: refused at the socket */
    assert_int_equal(oas_fetch_json(&body, &len, &err, p, "https://127.0.0.1:1/jwks", &o),
                     APR_EACCES);
    assert_non_null(strstr(err, "127.0.0.1"));
    assert_non_null(strstr(err, "OAuthASOutboundAllow"));
    assert_int_equal(oas_fetch_json(&body, &len, &err, p, "https://[::ffff:127.0.0.1]:1/", &o),
                     APR_EACCES);
    assert_int_equal(oas_fetch_json(&body, &len, &err, p, "https://localhost:1/jwks", &o),
                     APR_EACCES);
    /* allowed: the connection is tried (and refused by the closed port) */
    APR_ARRAY_PUSH(allow, const char *) = "127.0.0.1";
    o.allow = allow;
    assert_int_equal(oas_fetch_json(&body, &len, &err, p, "https://127.0.0.1:1/jwks", &o),
                     APR_EGENERAL);
    assert_null(strstr(err, "OAuthASOutboundAllow"));
    assert_null(body);
}

int main(void)
{
    (void)engine_ctx; /* engine_stores.h: this file builds its contexts itself */
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_first_fetch_then_hits),
        UNIT_TEST(test_unknown_kid_refetch_once_per_gap),
        UNIT_TEST(test_failure_remembered),
        UNIT_TEST(test_stale_fallback),
        UNIT_TEST(test_unusable_documents_refused),
        UNIT_TEST(test_shared_copy_is_compact),
        UNIT_TEST(test_other_process_fetching),
        UNIT_TEST(test_file_keys_and_none),
        UNIT_TEST(test_address_policy),
        UNIT_TEST(test_host_allowed),
        UNIT_TEST(test_fetch_refusals),
    };
    return UNIT_RUN(tests);
}
