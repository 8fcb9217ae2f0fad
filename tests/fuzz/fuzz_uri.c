/* libFuzzer: request_uri/redirect_uri handling. Input "<uri>\n<query>": the URI goes through
 * oas_uri_valid_redirect and oas_uri_add_query (with the parsed params as pairs); the query is
 * parsed with oas_form_parse_first as /authorize does and validated by oas_authz_validate on a
 * fixed issuer (clients conf1, conf2 with two redirect URIs, svc1 without any, agent with
 * loopback ones, which match on any port). */
#include "fuzz.h"
#include "oas_authz.h"
#include "oas_form.h"
#include "oas_uri.h"

static oas_issuer_t *iss;

static apr_array_header_t *list(apr_pool_t *p, const char *a, const char *b)
{
    apr_array_header_t *l = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(l, const char *) = a;
    if (b)
        APR_ARRAY_PUSH(l, const char *) = b;
    return l;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    apr_pool_t *p;
    oas_client_t *c, *c2, *c3, *c4;
    oas_resource_t *r;

    fuzz_init();
    p = fuzz_root;
    iss = apr_pcalloc(p, sizeof(*iss));
    iss->issuer = "https://as.test";
    iss->clients = apr_hash_make(p);
    iss->resources = apr_hash_make(p);
    c = apr_pcalloc(p, sizeof(*c));
    c->id = "conf1";
    c->secret = "s";
    c->auth_methods = OAS_AUTH_BASIC;
    c->grant_types = OAS_GRANT_CODE | OAS_GRANT_REFRESH;
    c->require_par = OAS_UNSET;
    c->require_pkce = 1;
    c->consent = 1;
    c->redirect_uris = list(p, "https://rp1.test/cb", NULL);
    c->scopes = list(p, "openid", "api.read");
    c->audiences = list(p, "urn:api", NULL);
    apr_hash_set(iss->clients, c->id, APR_HASH_KEY_STRING, c);
    c2 = apr_pcalloc(p, sizeof(*c2));
    *c2 = *c;
    c2->id = "conf2";
    c2->require_par = 1;
    c2->redirect_uris = list(p, "https://rp2.test/cb", "https://rp2.test/cb?tenant=a");
    apr_hash_set(iss->clients, c2->id, APR_HASH_KEY_STRING, c2);
    c3 = apr_pcalloc(p, sizeof(*c3));
    *c3 = *c;
    c3->id = "svc1";
    c3->grant_types = OAS_GRANT_CC;
    c3->redirect_uris = NULL;
    apr_hash_set(iss->clients, c3->id, APR_HASH_KEY_STRING, c3);
    c4 = apr_pcalloc(p, sizeof(*c4));
    *c4 = *c;
    c4->id = "agent";
    c4->redirect_uris = list(p, "http://127.0.0.1/cb", "http://[::1]:8080/cb?x=1");
    apr_hash_set(iss->clients, c4->id, APR_HASH_KEY_STRING, c4);
    r = apr_pcalloc(p, sizeof(*r));
    r->id = "urn:api";
    r->at_ttl = OAS_UNSET;
    apr_hash_set(iss->resources, r->id, APR_HASH_KEY_STRING, r);
    return 0;
}

/* the redirect URI answered to is one the client registered, or a loopback one of them with
 * only its port changed: with the port taken out the strings are equal */
static int registered(apr_pool_t *p, const apr_array_header_t *list, const char *ru)
{
    int i;

    if (oas_list_has(list, ru))
        return 1;
    for (i = 0; i < list->nelts; i++) {
        const char *reg = APR_ARRAY_IDX(list, i, const char *);
        const char *host = !strncmp(reg, "http://127.0.0.1", 16) ? "http://127.0.0.1"
                           : !strncmp(reg, "http://[::1]", 12) ? "http://[::1]" : NULL;
        size_t n = host ? strlen(host) : 0;
        const char *a = reg + n, *b = ru + n;

        if (!host || strncmp(ru, host, n))
            continue;
        if (*a == ':')
            for (a++; *a >= '0' && *a <= '9'; a++)
                ;
        if (*b == ':')
            for (b++; *b >= '0' && *b <= '9'; b++)
                ;
        if (!strcmp(a, b))
            return 1;
    }
    (void)p;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const uint8_t *nl = memchr(data, '\n', size);
    size_t ulen = nl ? (size_t)(nl - data) : size;
    const char *uri = fuzz_str(p, data, ulen), *perr = NULL, *out, *dup = NULL;
    apr_array_header_t *pairs = apr_array_make(p, 8, sizeof(const char *));
    apr_table_t *params = NULL;
    int valid = oas_uri_valid_redirect(&perr, p, uri);

    FUZZ_ASSERT(valid == 0 || valid == 1);
    if (!valid)
        FUZZ_ASSERT(perr && *perr);
    if (nl) {
        const char *q = (const char *)nl + 1;
        size_t qlen = size - ulen - 1;

        if (oas_form_parse_first(&params, &dup, p, q, qlen, 64) == APR_SUCCESS) {
            const apr_array_header_t *arr = apr_table_elts(params);
            const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
            oas_authz_req_t *req = NULL;
            oas_err_t err;
            apr_status_t rv;
            int i;

            for (i = 0; i < arr->nelts; i++) {
                APR_ARRAY_PUSH(pairs, const char *) = e[i].key;
                APR_ARRAY_PUSH(pairs, const char *) = e[i].val;
            }
            memset(&err, 0, sizeof(err));
            rv = oas_authz_validate(&req, &err, p, iss, params, dup,
                                    (size & 1) ? OAS_AUTHZ_PAR : OAS_AUTHZ_FRONT);
            if (rv == APR_SUCCESS) {
                FUZZ_ASSERT(req && req->client && req->redirect_uri && !err.error);
                /* the redirect URI answered to is one the client registered */
                FUZZ_ASSERT(registered(p, req->client->redirect_uris, req->redirect_uri));
            }
            else {
                FUZZ_ASSERT(rv == APR_EINVAL && err.error && err.description);
                if (!err.page) {
                    FUZZ_ASSERT(req && req->client && req->redirect_uri);
                    FUZZ_ASSERT(registered(p, req->client->redirect_uris, req->redirect_uri));
                }
            }
        }
    }
    APR_ARRAY_PUSH(pairs, const char *) = "state";
    APR_ARRAY_PUSH(pairs, const char *) = "a&b=c#d";
    out = oas_uri_add_query(p, uri, pairs);
    FUZZ_ASSERT(out);
    if (!strchr(uri, '#'))
        FUZZ_ASSERT(!strncmp(out, uri, strlen(uri)) && strstr(out, "state=a%26b%3Dc%23d"));
    apr_pool_destroy(p);
    return 0;
}
