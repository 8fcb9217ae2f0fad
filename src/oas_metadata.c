/* mod_oauth_as: RFC 8414 / OpenID Connect Discovery 1.0 metadata. */
#include <stdlib.h>

#include <jansson.h>

#include "oas_json.h"
#include "oas_keys.h"
#include "oas_metadata.h"

static json_t *str_array(const char *const *v, int n)
{
    json_t *a = json_array();
    int i;

    for (i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static void add_endpoint(json_t *doc, const oas_issuer_t *iss, oas_endpoint_e ep,
                         const char *name, apr_pool_t *p)
{
    if (iss->endpoints[ep]) {
        json_object_set_new(doc, name,
                            json_string(apr_pstrcat(p, iss->issuer_origin, iss->endpoints[ep],
                                                    NULL)));
    }
}

/* Every scope any client or resource may use, sorted, openid first when present. */
static json_t *scopes_supported(apr_pool_t *p, const oas_issuer_t *iss)
{
    apr_hash_t *seen = apr_hash_make(p);
    apr_hash_index_t *hi;
    apr_array_header_t *all = apr_array_make(p, 16, sizeof(const char *));
    json_t *a;
    int i;

    for (hi = iss->clients ? apr_hash_first(p, iss->clients) : NULL; hi; hi = apr_hash_next(hi)) {
        const oas_client_t *c = apr_hash_this_val(hi);
        for (i = 0; c->scopes && i < c->scopes->nelts; i++)
            apr_hash_set(seen, APR_ARRAY_IDX(c->scopes, i, const char *), APR_HASH_KEY_STRING,
                         "");
    }
    for (hi = iss->resources ? apr_hash_first(p, iss->resources) : NULL; hi;
         hi = apr_hash_next(hi)) {
        const oas_resource_t *r = apr_hash_this_val(hi);
        for (i = 0; r->scopes && i < r->scopes->nelts; i++)
            apr_hash_set(seen, APR_ARRAY_IDX(r->scopes, i, const char *), APR_HASH_KEY_STRING,
                         "");
    }
    apr_hash_set(seen, "openid", APR_HASH_KEY_STRING, "");
    for (hi = apr_hash_first(p, seen); hi; hi = apr_hash_next(hi))
        APR_ARRAY_PUSH(all, const char *) = apr_hash_this_key(hi);
    qsort(all->elts, all->nelts, sizeof(const char *), oas_cmp_strp);
    a = json_array();
    for (i = 0; i < all->nelts; i++)
        json_array_append_new(a, json_string(APR_ARRAY_IDX(all, i, const char *)));
    return a;
}

const char *oas_metadata_json(apr_pool_t *p, const oas_issuer_t *iss)
{
    json_t *doc = oas_json_adopt(p, json_object());
    json_t *grants = json_array(), *auth = json_array(), *algs = json_array();
    apr_hash_index_t *hi;
    int g = 0, i;
    static const char *const code[] = {"code"};
    static const char *const s256[] = {"S256"};
    static const char *const pub[] = {"public"};
    static const char *const modes[] = {"query"};

    json_object_set_new(doc, "issuer", json_string(iss->issuer));
    add_endpoint(doc, iss, OAS_EP_AUTHORIZE, "authorization_endpoint", p);
    add_endpoint(doc, iss, OAS_EP_TOKEN, "token_endpoint", p);
    add_endpoint(doc, iss, OAS_EP_PAR, "pushed_authorization_request_endpoint", p);
    add_endpoint(doc, iss, OAS_EP_JWKS, "jwks_uri", p);
    add_endpoint(doc, iss, OAS_EP_USERINFO, "userinfo_endpoint", p);
    add_endpoint(doc, iss, OAS_EP_REVOKE, "revocation_endpoint", p);
    add_endpoint(doc, iss, OAS_EP_INTROSPECT, "introspection_endpoint", p);
    json_object_set_new(doc, "scopes_supported", scopes_supported(p, iss));
    json_object_set_new(doc, "response_types_supported", str_array(code, 1));
    json_object_set_new(doc, "response_modes_supported", str_array(modes, 1));

    for (hi = iss->clients ? apr_hash_first(p, iss->clients) : NULL; hi; hi = apr_hash_next(hi))
        g |= ((const oas_client_t *)apr_hash_this_val(hi))->grant_types;
    if (g & OAS_GRANT_CODE)
        json_array_append_new(grants, json_string("authorization_code"));
    if (g & OAS_GRANT_REFRESH)
        json_array_append_new(grants, json_string("refresh_token"));
    if (g & OAS_GRANT_CC)
        json_array_append_new(grants, json_string("client_credentials"));
    json_object_set_new(doc, "grant_types_supported", grants);

    json_array_append_new(auth, json_string("client_secret_basic"));
    json_array_append_new(auth, json_string("client_secret_post"));
    if (iss->has_public_clients)
        json_array_append_new(auth, json_string("none"));
    json_object_set_new(doc, "token_endpoint_auth_methods_supported", auth);
    if (iss->endpoints[OAS_EP_REVOKE])
        json_object_set_new(doc, "revocation_endpoint_auth_methods_supported",
                            json_pack("[ss]", "client_secret_basic", "client_secret_post"));
    if (iss->endpoints[OAS_EP_INTROSPECT])
        json_object_set_new(doc, "introspection_endpoint_auth_methods_supported",
                            json_pack("[ss]", "client_secret_basic", "client_secret_post"));
    json_object_set_new(doc, "code_challenge_methods_supported", str_array(s256, 1));
    json_object_set_new(doc, "authorization_response_iss_parameter_supported", json_true());
    json_object_set_new(doc, "require_pushed_authorization_requests",
                        json_boolean(oas_iss_require_par(iss)));
    json_object_set_new(doc, "subject_types_supported", str_array(pub, 1));
    if (iss->id_token_key)
        json_array_append_new(algs, json_string(iss->id_token_key->alg_name));
    json_object_set_new(doc, "id_token_signing_alg_values_supported", algs);
    json_object_set_new(doc, "request_parameter_supported", json_false());
    json_object_set_new(doc, "request_uri_parameter_supported", json_false());
    json_object_set_new(doc, "claims_parameter_supported", json_false());
    if (iss->claims && iss->claims->nelts) {
        json_t *cl = json_array();
        static const char *const std[] = {"iss", "sub", "aud", "exp", "iat", "auth_time"};
        for (i = 0; i < 6; i++)
            json_array_append_new(cl, json_string(std[i]));
        for (i = 0; i < iss->claims->nelts; i++)
            json_array_append_new(cl, json_string(APR_ARRAY_IDX(iss->claims, i, oas_claim_t).name));
        json_object_set_new(doc, "claims_supported", cl);
    }
    json_object_set_new(doc, "prompt_values_supported", json_pack("[sss]", "none", "consent",
                                                                  "login"));
    return oas_json_dumps(p, doc, 0);
}
