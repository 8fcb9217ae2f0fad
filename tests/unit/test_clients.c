/* Unit tests: oas_ctx_client, the one lookup of a client by id (oas_clients.h): configured
 * clients by their hash, registered ones (RFC 7591) from the long-lived store, on both engine
 * stores; records parsed into resolved clients; what is never looked up. */
#include "unit.h"

#include <apr_strings.h>

#include "engine_stores.h"
#include "oas_authz.h"
#include "oas_clients.h"

#define REC_PUBLIC                                                                               \
    "{\"md\":{\"client_name\":\"Agent\",\"redirect_uris\":[\"http://127.0.0.1/cb\"],"       \
    "\"token_endpoint_auth_method\":\"none\",\"grant_types\":[\"authorization_code\","      \
    "\"refresh_token\"],\"response_types\":[\"code\"],\"scope\":\"openid api\"},"           \
    "\"rh\":\"00\",\"iat\":1}"
#define REC_CONF                                                                                 \
    "{\"md\":{\"redirect_uris\":[\"https://rp.test/cb\"],"                                   \
    "\"token_endpoint_auth_method\":\"client_secret_basic\",\"grant_types\":"                \
    "[\"client_credentials\"],\"scope\":\"openid\"},\"sh\":\"$2y$05$abc\",\"rh\":\"00\"}"

/* registered ids: "dyn-" and 22 characters */
#define ID_PUB  "dyn-pubpubpubpubpubpubpubp"
#define ID_CONF "dyn-confconfconfconfconfco"
#define ID_BAD  "dyn-badbadbadbadbadbadbadb"

static oas_issuer_t *make_issuer(apr_pool_t *p, int registration)
{
    oas_issuer_t *iss = oas_issuer_make(p);
    oas_client_t *c = oas_client_make(p, "rp");
    oas_resource_t *r = oas_resource_make(p, "https://mcp.test");

    iss->issuer = "https://as.test";
    iss->clients = apr_hash_make(p);
    iss->resources = apr_hash_make(p);
    r->scopes = oas_scope_split(p, "api");
    apr_hash_set(iss->resources, r->id, APR_HASH_KEY_STRING, r);
    iss->registration = registration;
    iss->registration_audiences = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(iss->registration_audiences, const char *) = "https://mcp.test";
    oas_client_resolve(c);
    apr_hash_set(iss->clients, c->id, APR_HASH_KEY_STRING, c);
    return iss;
}

static void put(oas_ctx_t *x, const char *id, const char *rec)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_LONG);

    assert_int_equal(oas_store_put(st, x->p, OAS_NS_CLIENT, id, rec, strlen(rec),
                                   apr_time_from_sec(x->now + 3600)),
                     APR_SUCCESS);
}

static void test_lookup(void **state)
{
    apr_pool_t *p = *state;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_issuer_t *iss = make_issuer(p, OAS_REG_OPEN);
        oas_ctx_t *x = engine_ctx(p, iss, k, apr_time_sec(apr_time_now()));
        const oas_client_t *c;

        /* a configured client: its own object */
        assert_ptr_equal(oas_ctx_client(x, "rp"), oas_issuer_client(iss, "rp"));
        assert_null(oas_ctx_client(x, NULL));
        assert_null(oas_ctx_client(x, "dyn-missingmissingmissing_"));
        put(x, ID_PUB, REC_PUBLIC);
        put(x, ID_CONF, REC_CONF);
        put(x, ID_BAD, "{\"md\":{\"token_endpoint_auth_method\":\"tls_client_auth\"}}");
        put(x, "nodyn", REC_PUBLIC); /* only our prefix is ever looked up */
        assert_null(oas_ctx_client(x, "nodyn"));
        put(x, "dyn-short", REC_PUBLIC); /* nor anything but our ids' form */
        assert_null(oas_ctx_client(x, "dyn-short"));
        assert_false(oas_reg_id_valid(ID_PUB "/"));
        assert_false(oas_reg_id_valid("dyn-pubpubpubpubpubpubpub.p"));
        assert_false(oas_reg_id_valid(NULL));
        assert_null(oas_ctx_client(x, ID_BAD));
        c = oas_ctx_client(x, ID_PUB);
        assert_non_null(c);
        assert_string_equal(c->id, ID_PUB);
        assert_string_equal(c->name, "Agent");
        assert_true(oas_client_is_public(c));
        assert_int_equal(c->grant_types, OAS_GRANT_CODE | OAS_GRANT_REFRESH);
        assert_int_equal(c->require_pkce, 1);
        assert_int_equal(c->consent, 1);
        assert_int_equal(c->rt_rotation, 1);
        assert_null(c->secret);
        assert_int_equal(c->redirect_uris->nelts, 1);
        assert_true(oas_list_has(c->scopes, "api") && oas_list_has(c->scopes, "openid"));
        assert_true(oas_list_has(c->audiences, "https://mcp.test"));
        /* the second lookup of a request is the first's */
        assert_ptr_equal(oas_ctx_client(x, ID_PUB), c);
        c = oas_ctx_client(x, ID_CONF);
        assert_non_null(c);
        assert_false(oas_client_is_public(c));
        assert_int_equal(c->auth_methods, OAS_AUTH_BASIC);
        assert_int_equal(c->grant_types, OAS_GRANT_CC);
        assert_true(c->secret_hashed);
        assert_string_equal(c->name, ID_CONF);
        /* registration off: only configured clients */
        iss->registration = OAS_REG_OFF;
        x->reg_client = NULL;
        assert_null(oas_ctx_client(x, ID_PUB));
        assert_non_null(oas_ctx_client(x, "rp"));
    }
}

static void test_record(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p, OAS_REG_OPEN);
    static const char *const bad[] = {
        "", "[]", "{}", "{\"md\":1}", "{\"md\":{}}",
        "{\"md\":{\"token_endpoint_auth_method\":\"none\",\"redirect_uris\":\"x\"}}",
        "{\"md\":{\"token_endpoint_auth_method\":\"none\",\"redirect_uris\":[1]}}",
        "{\"md\":{\"token_endpoint_auth_method\":\"private_key_jwt\",\"jwks\":{\"keys\":[]}}}",
    };
    oas_client_t *c;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(oas_client_from_record(&c, p, iss, "dyn-x", bad[i], strlen(bad[i])),
                         APR_EINVAL);
    assert_int_equal(oas_client_from_record(&c, p, iss, "dyn-x", REC_PUBLIC, strlen(REC_PUBLIC)),
                     APR_SUCCESS);
    assert_int_equal(oas_reg_auth_method("client_secret_jwt"), 0);
    assert_int_equal(oas_reg_auth_method(NULL), 0);
    assert_int_equal(oas_reg_grant_type("password"), 0);
    assert_int_equal(oas_reg_grant_type("client_credentials"), OAS_GRANT_CC);
}

/* a request of its own: a sub-pool of p, a context on store st */
static oas_ctx_t *request(apr_pool_t **preq, apr_pool_t *p, const oas_issuer_t *iss,
                          oas_store_t *st)
{
    oas_ctx_t *x;

    apr_pool_create(preq, p);
    x = apr_palloc(*preq, sizeof(*x));
    oas_ctx_init(x, *preq, iss, apr_time_sec(apr_time_now()));
    x->store[OAS_CTX_SHORT] = x->store[OAS_CTX_LONG] = st;
    x->opened[OAS_CTX_SHORT] = x->opened[OAS_CTX_LONG] = 1;
    return x;
}

/* the process's cache of parsed clients: the record is read at every request, its parse is
 * kept while the bytes stay the same; an update is seen at once, so is a deletion */
static void test_cache(void **state)
{
    apr_pool_t *p = *state, *child, *r1, *r2;
    oas_issuer_t *iss = make_issuer(p, OAS_REG_OPEN), *iss2 = make_issuer(p, OAS_REG_OPEN);
    oas_store_t *st = engine_store(p, ENGINE_SHM, 1024);
    const oas_client_t *c1, *c2;
    apr_uint64_t h, m, a;
    oas_ctx_t *x;

    apr_pool_create(&child, p);
    assert_null(oas_clients_cache());
    assert_int_equal(oas_clients_child_init(child), APR_SUCCESS);
    x = request(&r1, p, iss, st);
    put(x, ID_PUB, REC_PUBLIC);
    c1 = oas_ctx_client(x, ID_PUB);
    assert_non_null(c1);
    x = request(&r2, p, iss, st);
    c2 = oas_ctx_client(x, ID_PUB);
    assert_ptr_equal(c1, c2); /* parsed once */
    oas_parse_cache_counts(oas_clients_cache(), &h, &m, &a);
    assert_int_equal((int)h, 1);
    assert_int_equal((int)m, 1);
    apr_pool_destroy(r2);
    /* another issuer with a client of the same id: its own parse */
    x = request(&r2, p, iss2, st);
    assert_ptr_not_equal(oas_ctx_client(x, ID_PUB), c1);
    apr_pool_destroy(r2);
    /* an update (RFC 7592): the next request sees the new record, while the first still holds
     * the old client (ASan: no use after free) */
    x = request(&r2, p, iss, st);
    put(x, ID_PUB, "{\"md\":{\"client_name\":\"Renamed\",\"redirect_uris\":"
                   "[\"http://127.0.0.1/cb\"],\"token_endpoint_auth_method\":\"none\"}}");
    c2 = oas_ctx_client(x, ID_PUB);
    assert_non_null(c2);
    assert_string_equal(c2->name, "Renamed");
    assert_string_equal(c1->name, "Agent");
    apr_pool_destroy(r1);
    apr_pool_destroy(r2);
    /* a deletion: no client, whatever the cache holds */
    x = request(&r1, p, iss, st);
    assert_int_equal(oas_store_del(st, r1, OAS_NS_CLIENT, ID_PUB), APR_SUCCESS);
    assert_null(oas_ctx_client(x, ID_PUB));
    apr_pool_destroy(r1);
    apr_pool_destroy(child);
    assert_null(oas_clients_cache());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_lookup),
        UNIT_TEST(test_record),
        UNIT_TEST(test_cache),
    };
    return unit_run("clients", tests, sizeof(tests) / sizeof(tests[0]));
}
