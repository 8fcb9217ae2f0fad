/* libFuzzer: dynamic client registration (oas_reg_create, RFC 7591). Every input is a
 * registration body on a fresh shm store. The answer is 201 or a 400 (invalid_redirect_uri or
 * invalid_client_metadata), never anything else; a registration that succeeds gives a dyn- id
 * whose record oas_ctx_client reads back into a client with what was accepted (the same
 * redirect URIs, consent and PKCE on), which the same body with its client_id updates
 * (RFC 7592) and which its registration access token alone deletes. */
#include <jansson.h>

#include "fuzz.h"
#include "oas_clients.h"
#include "oas_json.h"
#include "oas_registration.h"
#include "oas_store_shm.h"

#define NOW 4000000000 /* ahead of the real clock, which the store reads for expiry */
#define STORE_ENTRIES 256

static oas_issuer_t *iss;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    oas_resource_t *r;

    fuzz_init();
    iss = oas_issuer_make(fuzz_root);
    iss->issuer = iss->issuer_origin = "https://as.test";
    iss->clients = apr_hash_make(fuzz_root);
    iss->resources = apr_hash_make(fuzz_root);
    r = oas_resource_make(fuzz_root, "https://mcp.test");
    r->scopes = apr_array_make(fuzz_root, 1, sizeof(const char *));
    APR_ARRAY_PUSH(r->scopes, const char *) = "tools";
    apr_hash_set(iss->resources, r->id, APR_HASH_KEY_STRING, r);
    iss->registration = OAS_REG_OPEN;
    iss->registration_audiences = apr_array_make(fuzz_root, 1, sizeof(const char *));
    APR_ARRAY_PUSH(iss->registration_audiences, const char *) = r->id;
    iss->endpoints[OAS_EP_REGISTER] = "/register";
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char region[1 << 18];
    apr_pool_t *p = fuzz_pool();
    const char *out = NULL, *id, *rat, *upd;
    const oas_client_t *c;
    json_t *j, *in;
    oas_err_t e;
    oas_ctx_t x;
    apr_status_t rv;

    fuzz_store_ctx(&x, p, iss, NOW, region, sizeof(region), STORE_ENTRIES);
    memset(&e, 0, sizeof(e));

    rv = oas_reg_create(&out, &e, &x, (const char *)data, size);
    if (rv != APR_SUCCESS) {
        FUZZ_ASSERT(rv == APR_EINVAL && e.status == 400 && e.description);
        FUZZ_ASSERT(!strcmp(e.error, "invalid_client_metadata") ||
                    !strcmp(e.error, "invalid_redirect_uri"));
        apr_pool_destroy(p);
        return 0;
    }
    FUZZ_ASSERT(oas_json_parse(&j, p, out, strlen(out)) == APR_SUCCESS);
    id = oas_json_str(j, "client_id");
    rat = oas_json_str(j, "registration_access_token");
    FUZZ_ASSERT(oas_reg_id_valid(id) && rat && strlen(rat) == 43);
    c = oas_ctx_client(&x, id);
    FUZZ_ASSERT(c && !strcmp(c->id, id) && c->consent == 1 && c->require_pkce == 1);
    FUZZ_ASSERT(c->redirect_uris->nelts ==
                (int)json_array_size(json_object_get(j, "redirect_uris")));
    FUZZ_ASSERT(!oas_client_is_public(c) == !!c->secret ||
                (c->auth_methods & OAS_AUTH_PKJWT));
    /* RFC 7592: the same metadata with its client_id is accepted again */
    FUZZ_ASSERT(oas_json_parse(&in, p, (const char *)data, size) == APR_SUCCESS);
    json_object_set_new(in, "client_id", json_string(id));
    json_object_del(in, "client_secret");
    upd = oas_json_dumps(p, in, 0);
    FUZZ_ASSERT(upd);
    rv = oas_reg_manage(&out, &e, &x, OAS_REG_UPDATE, id, rat, upd, strlen(upd));
    FUZZ_ASSERT(rv == APR_SUCCESS || (e.status == 400 && strlen(upd) > OAS_REG_MAX_BODY));
    FUZZ_ASSERT(oas_reg_manage(&out, &e, &x, OAS_REG_DELETE, id, "x", NULL, 0) == APR_EINVAL &&
                e.status == 401);
    FUZZ_ASSERT(oas_reg_manage(&out, &e, &x, OAS_REG_DELETE, id, rat, NULL, 0) == APR_SUCCESS);
    x.reg_client = NULL;
    FUZZ_ASSERT(!oas_ctx_client(&x, id));
    apr_pool_destroy(p);
    return 0;
}
