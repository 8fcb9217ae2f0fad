/* mod_oauth_as: RFC 8414 / OpenID Connect Discovery 1.0 metadata. */
#include <stdlib.h>

#include "oas_clients.h"
#include "oas_jsonw.h"
#include "oas_keys.h"
#include "oas_metadata.h"
#include "oas_profile.h"

static void add_endpoint(oas_jsonw_t *w, const oas_issuer_t *iss, oas_endpoint_e ep,
                         const char *name, apr_pool_t *p)
{
    if (iss->endpoints[ep])
        oas_jsonw_str_keep_empty(w, name,
                                 apr_pstrcat(p, iss->issuer_origin, iss->endpoints[ep], NULL));
}

/* RFC 8705 §5: where mTLS clients find the endpoints that take client certificates. */
static void mtls_aliases(oas_jsonw_t *w, apr_pool_t *p, const oas_issuer_t *iss)
{
    static const struct {
        oas_endpoint_e ep;
        const char *name;
    } aliased[] = {{OAS_EP_TOKEN, "token_endpoint"},
                   {OAS_EP_PAR, "pushed_authorization_request_endpoint"},
                   {OAS_EP_USERINFO, "userinfo_endpoint"},
                   {OAS_EP_REVOKE, "revocation_endpoint"},
                   {OAS_EP_INTROSPECT, "introspection_endpoint"}};
    size_t i;

    if (!iss->mtls_alias)
        return;
    oas_jsonw_object(w, "mtls_endpoint_aliases");
    for (i = 0; i < sizeof(aliased) / sizeof(aliased[0]); i++)
        if (iss->endpoints[aliased[i].ep])
            oas_jsonw_str_keep_empty(w, aliased[i].name,
                                     apr_pstrcat(p, iss->mtls_alias,
                                                 iss->endpoints[aliased[i].ep], NULL));
    oas_jsonw_close(w);
}

/* Every scope any client or resource may use, sorted, openid first when present. */
static void scopes_supported(oas_jsonw_t *w, apr_pool_t *p, const oas_issuer_t *iss)
{
    apr_hash_t *seen = apr_hash_make(p);
    apr_hash_index_t *hi;
    apr_array_header_t *all = apr_array_make(p, 16, sizeof(const char *));
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
    oas_jsonw_strs(w, "scopes_supported", (const char *const *)all->elts, all->nelts);
}

/* JAR (RFC 9101 §10.5, OIDC Discovery): supported when any client may send a request
 * object; the algorithms are those of every JWT a client signs. */
static void request_objects(oas_jsonw_t *w, apr_pool_t *p, const oas_issuer_t *iss)
{
    apr_array_header_t *algs;
    apr_hash_index_t *hi;
    int any = 0;

    for (hi = iss->clients ? apr_hash_first(p, iss->clients) : NULL; hi && !any;
         hi = apr_hash_next(hi))
        any = oas_client_request_object(iss, apr_hash_this_val(hi)) != OAS_REQOBJ_OFF;
    oas_jsonw_bool(w, "request_parameter_supported", any);
    if (!any)
        return;
    algs = oas_alg_names(p, oas_iss_client_signing_algs(iss));
    oas_jsonw_strs(w, "request_object_signing_alg_values_supported",
                   (const char *const *)algs->elts, algs->nelts);
    oas_jsonw_bool(w, "require_signed_request_object",
                   iss->request_object == OAS_REQOBJ_REQUIRED ||
                       oas_iss_profile(iss)->signed_requests);
}

/* The OAS_AUTH_* methods of all clients together. */
static int client_methods(apr_pool_t *p, const oas_issuer_t *iss)
{
    apr_hash_index_t *hi;
    int m = 0;

    for (hi = iss->clients ? apr_hash_first(p, iss->clients) : NULL; hi; hi = apr_hash_next(hi))
        m |= ((const oas_client_t *)apr_hash_this_val(hi))->auth_methods;
    return m;
}

/* How clients authenticate at an endpoint (RFC 8414 §2): every method but none (which only
 * the token endpoint takes, when public clients exist) and the mTLS ones (only when a client
 * uses them: they need a server that asks for certificates), and the algorithms of the JWT
 * methods: OAuthASClientSigningAlgs, plus HS256 for client_secret_jwt. */
static void auth_methods(oas_jsonw_t *w, apr_pool_t *p, const oas_issuer_t *iss,
                         const char *endpoint, int with_none)
{
    static const char *const methods[] = {"client_secret_basic", "client_secret_post",
                                          "private_key_jwt", "client_secret_jwt"};
    static const int bits[] = {OAS_AUTH_BASIC, OAS_AUTH_POST, OAS_AUTH_PKJWT, OAS_AUTH_SJWT};
    int allowed = oas_iss_profile(iss)->auth_methods; /* a server-level profile narrows */
    apr_array_header_t *algs =
        oas_alg_names(p, oas_iss_client_signing_algs(iss) |
                             ((allowed & OAS_AUTH_SJWT) ? OAS_ALGBIT(OAS_ALG_HS256) : 0));
    int i, m = client_methods(p, iss) & allowed;

    oas_jsonw_array(w, apr_pstrcat(p, endpoint, "_auth_methods_supported", NULL));
    for (i = 0; i < 4; i++) {
        if (allowed & bits[i])
            oas_jsonw_str(w, NULL, methods[i]);
    }
    if (m & OAS_AUTH_TLS)
        oas_jsonw_str(w, NULL, "tls_client_auth");
    if (m & OAS_AUTH_SELF_TLS)
        oas_jsonw_str(w, NULL, "self_signed_tls_client_auth");
    if (with_none && (allowed & OAS_AUTH_NONE))
        oas_jsonw_str(w, NULL, "none");
    oas_jsonw_close(w);
    oas_jsonw_strs(w, apr_pstrcat(p, endpoint, "_auth_signing_alg_values_supported", NULL),
                   (const char *const *)algs->elts, algs->nelts);
}

/* DPoP is on for the server or for one of its clients (OAuthASDPoP). */
static int dpop_used(apr_pool_t *p, const oas_issuer_t *iss)
{
    apr_hash_index_t *hi;

    if (oas_iss_dpop(iss) != OAS_DPOP_OFF)
        return 1;
    for (hi = iss->clients ? apr_hash_first(p, iss->clients) : NULL; hi; hi = apr_hash_next(hi))
        if (oas_client_dpop(iss, apr_hash_this_val(hi)) != OAS_DPOP_OFF)
            return 1;
    return 0;
}

/* Written with oas_jsonw like every response; the member order is the one clients and
 * tests have always seen. Invalid UTF-8 in the configuration fails the document (and so
 * the start-up) instead of silently dropping a member. */
const char *oas_metadata_json(apr_pool_t *p, const oas_issuer_t *iss)
{
    oas_jsonw_t w;
    apr_hash_index_t *hi;
    int g = 0, i;
    static const char *const code[] = {"code"};
    static const char *const s256[] = {"S256"};
    static const char *const pub[] = {"public"};
    static const char *const modes[] = {"query", "jwt", "query.jwt"}; /* JARM with a key */
    static const char *const prompts[] = {"none", "consent", "login"};

    oas_jsonw_init(&w, p, 2048);
    oas_jsonw_str_keep_empty(&w, "issuer", iss->issuer);
    add_endpoint(&w, iss, OAS_EP_AUTHORIZE, "authorization_endpoint", p);
    add_endpoint(&w, iss, OAS_EP_TOKEN, "token_endpoint", p);
    add_endpoint(&w, iss, OAS_EP_PAR, "pushed_authorization_request_endpoint", p);
    add_endpoint(&w, iss, OAS_EP_JWKS, "jwks_uri", p);
    add_endpoint(&w, iss, OAS_EP_USERINFO, "userinfo_endpoint", p);
    add_endpoint(&w, iss, OAS_EP_REVOKE, "revocation_endpoint", p);
    add_endpoint(&w, iss, OAS_EP_INTROSPECT, "introspection_endpoint", p);
    /* RP-Initiated Logout 1.0 §2.1 */
    add_endpoint(&w, iss, OAS_EP_END_SESSION, "end_session_endpoint", p);
    /* Back-Channel Logout 1.0 §2.1, Front-Channel Logout 1.0 §3: a session ends only there;
     * logout tokens and front-channel URLs always carry sid */
    if (iss->endpoints[OAS_EP_END_SESSION]) {
        oas_jsonw_bool(&w, "backchannel_logout_supported", 1);
        oas_jsonw_bool(&w, "backchannel_logout_session_supported", 1);
        oas_jsonw_bool(&w, "frontchannel_logout_supported", 1);
        oas_jsonw_bool(&w, "frontchannel_logout_session_supported", 1);
    }
    if (oas_iss_registration(iss) != OAS_REG_OFF) /* RFC 8414 §2 */
        add_endpoint(&w, iss, OAS_EP_REGISTER, "registration_endpoint", p);
    scopes_supported(&w, p, iss);
    oas_jsonw_strs(&w, "response_types_supported", code, 1);
    /* a server-level profile that requires signed responses advertises only those */
    if (oas_iss_profile(iss)->signed_responses && iss->id_token_key)
        oas_jsonw_strs(&w, "response_modes_supported", modes + 1, 2);
    else
        oas_jsonw_strs(&w, "response_modes_supported", modes, iss->id_token_key ? 3 : 1);
    if (iss->id_token_key) /* JARM §3: the key its responses are signed with */
        oas_jsonw_strs(&w, "authorization_signing_alg_values_supported",
                       &iss->id_token_key->alg_name, 1);

    for (hi = iss->clients ? apr_hash_first(p, iss->clients) : NULL; hi; hi = apr_hash_next(hi))
        g |= ((const oas_client_t *)apr_hash_this_val(hi))->grant_types;
    oas_jsonw_array(&w, "grant_types_supported");
    if (g & OAS_GRANT_CODE)
        oas_jsonw_str(&w, NULL, "authorization_code");
    if (g & OAS_GRANT_REFRESH)
        oas_jsonw_str(&w, NULL, "refresh_token");
    if (g & OAS_GRANT_CC)
        oas_jsonw_str(&w, NULL, "client_credentials");
    if (g & OAS_GRANT_EXCHANGE)
        oas_jsonw_str(&w, NULL, OAS_GRANT_TYPE_EXCHANGE);
    oas_jsonw_close(&w);

    auth_methods(&w, p, iss, "token_endpoint", iss->has_public_clients);
    if (iss->endpoints[OAS_EP_REVOKE])
        auth_methods(&w, p, iss, "revocation_endpoint", 0);
    if (iss->endpoints[OAS_EP_INTROSPECT]) {
        auth_methods(&w, p, iss, "introspection_endpoint", 0);
        if (iss->id_token_key) /* RFC 9701 §7: the key its signed answers are signed with */
            oas_jsonw_strs(&w, "introspection_signing_alg_values_supported",
                           &iss->id_token_key->alg_name, 1);
    }
    oas_jsonw_strs(&w, "code_challenge_methods_supported", s256, 1);
    oas_jsonw_bool(&w, "authorization_response_iss_parameter_supported", 1);
    oas_jsonw_bool(&w, "require_pushed_authorization_requests",
                   oas_iss_require_par(iss) || oas_iss_profile(iss)->require_par);
    oas_jsonw_strs(&w, "subject_types_supported", pub, 1);
    oas_jsonw_array(&w, "id_token_signing_alg_values_supported");
    if (iss->id_token_key)
        oas_jsonw_str_keep_empty(&w, NULL, iss->id_token_key->alg_name);
    oas_jsonw_close(&w);
    request_objects(&w, p, iss);
    /* OIDC Discovery's default is true: a request_uri is only ever one of our PAR's */
    oas_jsonw_bool(&w, "request_uri_parameter_supported", 0);
    oas_jsonw_bool(&w, "claims_parameter_supported", 0);
    if (iss->claims && iss->claims->nelts) {
        static const char *const std[] = {"iss", "sub", "aud", "exp", "iat", "auth_time"};
        oas_jsonw_array(&w, "claims_supported");
        for (i = 0; i < 6; i++)
            oas_jsonw_str(&w, NULL, std[i]);
        for (i = 0; i < iss->claims->nelts; i++)
            oas_jsonw_str_keep_empty(&w, NULL, APR_ARRAY_IDX(iss->claims, i, oas_claim_t).name);
        oas_jsonw_close(&w);
    }
    /* login only where the site can be asked to sign the user in again (OAuthASLoginURL;
     * without it prompt=login and max_age answer login_required) */
    oas_jsonw_strs(&w, "prompt_values_supported", prompts, iss->login_url ? 3 : 2);
    /* RFC 8705 §3.3: when any client's tokens are bound to its certificate (absent: false) */
    for (i = 0, hi = iss->clients ? apr_hash_first(p, iss->clients) : NULL; hi && !i;
         hi = apr_hash_next(hi))
        i = oas_client_cert_bound(apr_hash_this_val(hi));
    if (i)
        oas_jsonw_bool(&w, "tls_client_certificate_bound_access_tokens", 1);
    mtls_aliases(&w, p, iss);
    if (oas_iss_cimd(iss)) /* draft-ietf-oauth-client-id-metadata-document; absent: false */
        oas_jsonw_bool(&w, "client_id_metadata_document_supported", 1);
    if (dpop_used(p, iss)) {
        apr_array_header_t *algs = oas_alg_names(p, oas_iss_client_signing_algs(iss) &
                                                        ~OAS_ALGBIT(OAS_ALG_HS256));
        oas_jsonw_strs(&w, "dpop_signing_alg_values_supported", (const char *const *)algs->elts,
                       algs->nelts);
    }
    return oas_jsonw_end(&w);
}
