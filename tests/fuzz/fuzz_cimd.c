/* libFuzzer: Client ID Metadata Documents. The whole input is a document fetched from a fixed
 * client_id URL (oas_cimd_parse), a candidate client_id (oas_cimd_client_id_problem) and a
 * Cache-Control value (oas_fetch_max_age). What is accepted must keep the rules: the client
 * is the URL's, public or private_key_jwt without a secret, PKCE and consent on, only the code
 * and refresh grants, 1 to OAS_CIMD_MAX_REDIRECTS https or loopback-http redirect URIs. */
#include "fuzz.h"
#include "oas_cimd.h"
#include "oas_fetch.h"

#define URL "https://app.test/client.json"

static oas_issuer_t *iss;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_init();
    iss = oas_issuer_make(fuzz_root);
    iss->issuer = "https://as.test";
    iss->cimd = 1;
    return 0;
}

static void check_client(const oas_client_t *c)
{
    int i;

    FUZZ_ASSERT(c && !strcmp(c->id, URL) && c->name && !c->secret);
    FUZZ_ASSERT(c->auth_methods == OAS_AUTH_NONE || c->auth_methods == OAS_AUTH_PKJWT);
    FUZZ_ASSERT(c->auth_methods == OAS_AUTH_NONE || c->jwks || c->jwks_uri);
    FUZZ_ASSERT(!(c->jwks && c->jwks_uri));
    FUZZ_ASSERT((c->grant_types & OAS_GRANT_CODE) &&
                !(c->grant_types & ~(OAS_GRANT_CODE | OAS_GRANT_REFRESH)));
    FUZZ_ASSERT(c->require_pkce == 1 && c->consent == 1 && !c->audiences);
    FUZZ_ASSERT(c->redirect_uris && c->redirect_uris->nelts >= 1 &&
                c->redirect_uris->nelts <= OAS_CIMD_MAX_REDIRECTS);
    for (i = 0; i < c->redirect_uris->nelts; i++) {
        const char *u = APR_ARRAY_IDX(c->redirect_uris, i, const char *);
        FUZZ_ASSERT(strlen(u) <= OAS_CIMD_MAX_URI && !strchr(u, '#'));
        FUZZ_ASSERT(!strncmp(u, "https://", 8) || !strncmp(u, "http://127.0.0.1", 16) ||
                    !strncmp(u, "http://[::1]", 12));
    }
    FUZZ_ASSERT(c->scopes && c->scopes->nelts <= OAS_CIMD_MAX_SCOPES);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *s = fuzz_str(p, data, size), *why = NULL, *problem;
    oas_client_t *c = NULL;
    apr_int64_t age;
    apr_status_t rv;

    rv = oas_cimd_parse(&c, &why, p, iss, URL, (const char *)data, size);
    if (rv == APR_SUCCESS)
        check_client(c);
    else
        FUZZ_ASSERT(rv == APR_EINVAL && !c && why && *why);
    problem = oas_cimd_client_id_problem(s);
    if (!problem) {
        FUZZ_ASSERT(!strncmp(s, "https://", 8) && strlen(s) <= OAS_CIMD_MAX_URL);
        const char *path = s + 8 + strcspn(s + 8, "/?");
        path = apr_pstrcat(p, apr_pstrmemdup(p, path, strcspn(path, "?")), "/", NULL);
        FUZZ_ASSERT(!strchr(s, '#') && !strchr(s, '\\') && !strchr(s, ' ') &&
                    !strstr(path, "/../") && !strstr(path, "/./"));
        FUZZ_ASSERT(!memchr(s + 8, '@', strcspn(s + 8, "/?")) && s[8] != '.');
    }
    FUZZ_ASSERT(oas_cimd_client_id_valid(s) == !problem);
    age = oas_fetch_max_age(s);
    FUZZ_ASSERT(age >= -1 && age <= 31536000);
    apr_pool_destroy(p);
    return 0;
}
