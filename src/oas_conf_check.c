/* mod_oauth_as: configuration checks over whole client blocks and whole issuers. */
#include "oas_conf_check.h"
#include "oas_directives.h"
#include "oas_jwk.h"
#include "oas_keys.h"

/* "<OAuthASClient id>: " before every fault of a client block */
#define CLIENT_MSG(p, c, text) apr_psprintf(p, "<" OAS_DIR_CLIENT " %s>: " text, (c)->id)

const char *oas_conf_check_client(apr_pool_t *p, const oas_client_t *c)
{
    int methods = oas_client_auth_methods(c);
    int grants = oas_client_grant_types(c);

    if (!c->secret && (methods & (OAS_AUTH_BASIC | OAS_AUTH_POST))) {
        return CLIENT_MSG(p, c,
                          OAS_DIR_AUTH_METHOD
                          " client_secret_basic/post needs " OAS_DIR_CLIENT_SECRET
                          "; a public client uses 'none'");
    }
    if (c->secret && (methods & OAS_AUTH_NONE)) {
        return CLIENT_MSG(p, c,
                          "a public client (" OAS_DIR_AUTH_METHOD
                          " none) must not have an " OAS_DIR_CLIENT_SECRET);
    }
    if ((grants & OAS_GRANT_CODE) && !c->redirect_uris) {
        return CLIENT_MSG(p, c,
                          "the authorization_code grant needs at least one " OAS_DIR_REDIRECT_URI);
    }
    if (!c->secret && (grants & OAS_GRANT_CC)) {
        return CLIENT_MSG(p, c,
                          OAS_DIR_GRANT_TYPE " client_credentials needs a confidential client "
                                             "(" OAS_DIR_CLIENT_SECRET ")");
    }
    if (!c->secret && c->require_pkce == 0) {
        return CLIENT_MSG(p, c, OAS_DIR_REQUIRE_PKCE " Off is not allowed for a public client");
    }
    return NULL;
}

static int uses_endpoints(const oas_issuer_t *iss)
{
    int i;

    for (i = OAS_EP_NONE + 1; i < OAS_EP_COUNT; i++) {
        if (iss->endpoints[i])
            return 1;
    }
    return 0;
}

apr_array_header_t *oas_conf_check_issuer(apr_pool_t *p, const oas_issuer_t *iss)
{
    apr_array_header_t *faults = apr_array_make(p, 2, sizeof(const char *));
    apr_hash_index_t *hi;
    int i;

    if (!iss->issuer) {
        /* the AS is off for this server: nothing of it may be configured */
        if (iss->clients || iss->keys || uses_endpoints(iss)) {
            APR_ARRAY_PUSH(faults, const char *) = OAS_DIR_ISSUER
                " is required where clients, keys or " OAS_DIR_ENDPOINT " are configured";
        }
        return faults->nelts ? faults : NULL;
    }
    if (!iss->keys || iss->keys->nelts == 0) {
        APR_ARRAY_PUSH(faults, const char *) =
            OAS_DIR_SIGNING_KEY " is required: no signing key configured";
    }
    for (hi = iss->clients ? apr_hash_first(p, iss->clients) : NULL; hi; hi = apr_hash_next(hi)) {
        const oas_client_t *cl = apr_hash_this_val(hi);
        unsigned key_algs = 0;

        /* a JWK Set none of whose keys may sign with an accepted alg could verify nothing */
        for (i = 0; cl->jwks && i < cl->jwks->nelts; i++)
            key_algs |= APR_ARRAY_IDX(cl->jwks, i, const oas_jwk_t *)->algs;
        if (cl->jwks && !(key_algs & oas_iss_client_signing_algs(iss))) {
            APR_ARRAY_PUSH(faults, const char *) = apr_psprintf(
                p,
                OAS_DIR_CLIENT_JWKS " in <" OAS_DIR_CLIENT " %s> (%s): no key for an algorithm "
                                    "of " OAS_DIR_CLIENT_SIGNING_ALGS,
                cl->id, cl->defined_at);
        }

        for (i = 0; cl->audiences && i < cl->audiences->nelts; i++) {
            const char *aud = APR_ARRAY_IDX(cl->audiences, i, const char *);
            if (!oas_issuer_resource(iss, aud)) {
                APR_ARRAY_PUSH(faults, const char *) = apr_psprintf(
                    p,
                    OAS_DIR_AUDIENCE " %s in <" OAS_DIR_CLIENT " %s> (%s): no <" OAS_DIR_RESOURCE
                                     " %s> declares this audience",
                    aud, cl->id, cl->defined_at, aud);
            }
        }
    }
    return faults->nelts ? faults : NULL;
}
