/* mod_oauth_as: configuration checks over whole client blocks and whole issuers. */
#include "oas_clients.h"
#include "oas_conf_check.h"
#include "oas_directives.h"
#include "oas_jwk.h"
#include "oas_keys.h"
#include "oas_profile.h"
#include "oas_reg_policy.h"

/* "<OAuthASClient id>: " before every fault of a client block */
#define CLIENT_MSG(p, c, text) apr_psprintf(p, "<" OAS_DIR_CLIENT " %s>: " text, (c)->id)

/* RFC 8705 §2: what each mTLS method needs, and nothing of tls_client_auth without it. */
static const char *check_mtls(apr_pool_t *p, const oas_client_t *c, int methods)
{
    int i, x5c = 0;

    if (c->cert_dn && c->cert_san)
        return CLIENT_MSG(p, c,
                          OAS_DIR_CERT_SUBJECT " and " OAS_DIR_CERT_SAN " together: a "
                          "tls_client_auth client registers exactly one of them");
    if (methods & OAS_AUTH_TLS) {
        if (!c->cert_dn && !c->cert_san)
            return CLIENT_MSG(p, c,
                              OAS_DIR_AUTH_METHOD " tls_client_auth needs " OAS_DIR_CERT_SUBJECT
                              " or " OAS_DIR_CERT_SAN);
        if (!c->cert_ca)
            return CLIENT_MSG(p, c,
                              OAS_DIR_AUTH_METHOD " tls_client_auth needs " OAS_DIR_CERT_CA
                              " (the CA its certificate must chain to)");
    }
    else if (c->cert_dn || c->cert_san || c->cert_ca) {
        return CLIENT_MSG(p, c,
                          OAS_DIR_CERT_SUBJECT ", " OAS_DIR_CERT_SAN " and " OAS_DIR_CERT_CA
                          " need " OAS_DIR_AUTH_METHOD " tls_client_auth");
    }
    for (i = 0; c->jwks && i < c->jwks->nelts; i++)
        x5c |= APR_ARRAY_IDX(c->jwks, i, const oas_jwk_t *)->x5c0 != NULL;
    if ((methods & OAS_AUTH_SELF_TLS) && !x5c && !c->jwks_uri)
        return CLIENT_MSG(p, c,
                          OAS_DIR_AUTH_METHOD " self_signed_tls_client_auth needs "
                          OAS_DIR_CLIENT_JWKS " with the certificate (x5c) of a key");
    return NULL;
}

const char *oas_conf_check_client(apr_pool_t *p, const oas_client_t *c)
{
    int methods = oas_client_auth_methods(c);
    int grants = oas_client_grant_types(c);
    const char *err;

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
    if ((methods & OAS_AUTH_NONE) && methods != OAS_AUTH_NONE) {
        return CLIENT_MSG(p, c,
                          OAS_DIR_AUTH_METHOD " none (a public client) cannot be combined "
                                              "with another method");
    }
    if ((methods & OAS_AUTH_PKJWT) && !c->jwks && !c->jwks_uri) {
        return CLIENT_MSG(p, c,
                          OAS_DIR_AUTH_METHOD " private_key_jwt needs " OAS_DIR_CLIENT_JWKS);
    }
    /* HS256 needs a key of 256 bits (RFC 7518 §3.2), and the secret itself is the key */
    if ((methods & OAS_AUTH_SJWT) &&
        (!c->secret || c->secret_hashed || strlen(c->secret) < OAS_SJWT_MIN_SECRET)) {
        return CLIENT_MSG(p, c,
                          OAS_DIR_AUTH_METHOD " client_secret_jwt needs a plaintext "
                          OAS_DIR_CLIENT_SECRET " of at least 32 bytes");
    }
    /* RFC 8693: a token exchange is what the policy allows, and only to a client that proves
     * who it is (a public client could be anyone holding a token) */
    if ((grants & OAS_GRANT_EXCHANGE) && (!c->exchange || (methods & OAS_AUTH_NONE)))
        return CLIENT_MSG(p, c,
                          OAS_DIR_GRANT_TYPE " " OAS_GRANT_TYPE_EXCHANGE " needs a confidential "
                                             "client and at least one " OAS_DIR_TOKEN_EXCHANGE);
    if (c->exchange && !(grants & OAS_GRANT_EXCHANGE))
        return CLIENT_MSG(
            p, c, OAS_DIR_TOKEN_EXCHANGE " needs " OAS_DIR_GRANT_TYPE " " OAS_GRANT_TYPE_EXCHANGE);
    if ((grants & OAS_GRANT_CODE) && !c->redirect_uris) {
        return CLIENT_MSG(p, c,
                          "the authorization_code grant needs at least one " OAS_DIR_REDIRECT_URI);
    }
    if (oas_client_is_public(c) && (grants & OAS_GRANT_CC)) {
        return CLIENT_MSG(p, c,
                          OAS_DIR_GRANT_TYPE " client_credentials needs a confidential client "
                                             "(" OAS_DIR_CLIENT_SECRET " or keys)");
    }
    /* only a client with keys can sign; the server-level value leaves other clients Off */
    if (c->request_object > OAS_REQOBJ_OFF && !c->jwks && !c->jwks_uri) {
        return CLIENT_MSG(p, c,
                          OAS_DIR_REQUEST_OBJECT " Allowed or Required needs "
                                                 OAS_DIR_CLIENT_JWKS " (the client's keys)");
    }
    if ((err = check_mtls(p, c, methods)))
        return err;
    if (oas_client_is_public(c) && c->require_pkce == 0) {
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

/* OAuthASRegistration Token needs a token; the resources dynamic clients may ask for must be
 * declared, as a configured client's audiences must. */
static void check_registration(apr_array_header_t *faults, apr_pool_t *p, const oas_issuer_t *iss)
{
    const apr_array_header_t *aud = iss->registration_audiences;
    int i;

    if (oas_iss_registration(iss) == OAS_REG_TOKEN && !iss->registration_tokens)
        APR_ARRAY_PUSH(faults, const char *) = OAS_DIR_REGISTRATION
            " Token needs at least one " OAS_DIR_REGISTRATION_TOKEN;
    for (i = 0; aud && i < aud->nelts; i++) {
        if (!oas_issuer_resource(iss, APR_ARRAY_IDX(aud, i, const char *)))
            APR_ARRAY_PUSH(faults, const char *) = apr_psprintf(
                p, OAS_DIR_REGISTRATION_AUDIENCE " %s: no <" OAS_DIR_RESOURCE " %s> declares it",
                APR_ARRAY_IDX(aud, i, const char *), APR_ARRAY_IDX(aud, i, const char *));
    }
}

/* OAuthASTokenExchange: its subject is a client of this issuer (or *), its audiences are
 * declared resources. */
static void check_exchange(apr_array_header_t *faults, apr_pool_t *p, const oas_issuer_t *iss,
                           const oas_client_t *cl)
{
    int i, j;

    for (i = 0; cl->exchange && i < cl->exchange->nelts; i++) {
        const oas_exchange_rule_t *r = APR_ARRAY_IDX(cl->exchange, i, const oas_exchange_rule_t *);
        if (strcmp(r->subject, "*") && !oas_issuer_client(iss, r->subject))
            APR_ARRAY_PUSH(faults, const char *) = apr_psprintf(
                p,
                OAS_DIR_TOKEN_EXCHANGE " %s in <" OAS_DIR_CLIENT " %s> (%s): no client %s "
                                       "(a client id or *)",
                r->subject, cl->id, cl->defined_at, r->subject);
        for (j = 0; j < r->audiences->nelts; j++) {
            const char *aud = APR_ARRAY_IDX(r->audiences, j, const char *);
            if (!oas_issuer_resource(iss, aud))
                APR_ARRAY_PUSH(faults, const char *) =
                    apr_psprintf(p,
                                 OAS_DIR_TOKEN_EXCHANGE " %s in <" OAS_DIR_CLIENT
                                                        " %s> (%s): no <" OAS_DIR_RESOURCE
                                                        " %s> declares this audience",
                                 aud, cl->id, cl->defined_at, aud);
        }
    }
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
    /* RFC 8628 §3.2: the device endpoint answers with the verification page's URL */
    if (iss->endpoints[OAS_EP_DEVICE] && !iss->endpoints[OAS_EP_DEVICE_VERIFY])
        APR_ARRAY_PUSH(faults, const char *) =
            OAS_DIR_ENDPOINT " device needs " OAS_DIR_ENDPOINT " device-verify (the page where "
                             "the user types the code)";
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

        check_exchange(faults, p, iss, cl);
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
    check_registration(faults, p, iss);
    oas_reg_defaults_check(faults, p, iss);
    oas_profile_check(faults, p, iss);
    return faults->nelts ? faults : NULL;
}
