/* mod_oauth_as: the configuration model seen by the core — an issuer (one per server or
 * virtual host), its clients and its resources. The glue (mod_oas_directives.c,
 * mod_oas_blocks.c) fills these from httpd.conf; oas_startup_prepare completes them at
 * post_config, after which they are read-only and shared by every thread. */
#ifndef OAS_CONF_H
#define OAS_CONF_H

#include <apr_hash.h>
#include <strings.h>

#include "oas.h"

#define OAS_UNSET (-1)

/* Client authentication methods (bit set). */
#define OAS_AUTH_BASIC 0x1 /* client_secret_basic */
#define OAS_AUTH_POST  0x2 /* client_secret_post */
#define OAS_AUTH_NONE  0x4 /* public client */
#define OAS_AUTH_PKJWT 0x8  /* private_key_jwt (RFC 7523 §2.2, OIDC Core §9) */
#define OAS_AUTH_SJWT  0x10 /* client_secret_jwt (HS256 over a plaintext secret >= 32 bytes) */
#define OAS_AUTH_TLS   0x20 /* tls_client_auth (RFC 8705 §2.1): a certificate under a pinned CA */
#define OAS_AUTH_SELF_TLS 0x40 /* self_signed_tls_client_auth (RFC 8705 §2.2): an x5c of its JWKS */
#define OAS_AUTH_MTLS (OAS_AUTH_TLS | OAS_AUTH_SELF_TLS)
#define OAS_SJWT_MIN_SECRET 32 /* bytes: HS256 needs a 256-bit key (RFC 7518 §3.2) */

/* Grant types (bit set). */
#define OAS_GRANT_CODE    0x1 /* authorization_code */
#define OAS_GRANT_REFRESH 0x2 /* refresh_token */
#define OAS_GRANT_CC      0x4 /* client_credentials */
#define OAS_GRANT_EXCHANGE 0x8 /* RFC 8693 token exchange (oas_token_exchange.h) */
#define OAS_GRANT_TYPE_EXCHANGE "urn:ietf:params:oauth:grant-type:token-exchange"

/* OAuthASRequestObject: signed request objects (JAR, RFC 9101) */
#define OAS_REQOBJ_OFF      0 /* `request` is not supported */
#define OAS_REQOBJ_ALLOWED  1 /* plain parameters or a request object */
#define OAS_REQOBJ_REQUIRED 2 /* a request object (or a request_uri of a signed push) only */
/* OAuthASDPoP: what a DPoP proof (RFC 9449) does at the token endpoint. */
#define OAS_DPOP_OFF      0 /* the DPoP header is ignored: tokens are Bearer */
#define OAS_DPOP_ALLOWED  1 /* a valid proof binds the tokens, none leaves them Bearer */
#define OAS_DPOP_REQUIRED 2 /* a token request without a proof is refused */

/* Where state lives. */
#define OAS_STORE_SHM 1
#define OAS_STORE_DBD 2

/* Endpoint kinds of OAuthASEndpoint. */
typedef enum {
    OAS_EP_NONE = 0,
    OAS_EP_AUTHORIZE,
    OAS_EP_PAR,
    OAS_EP_TOKEN,
    OAS_EP_METADATA,
    OAS_EP_JWKS,
    OAS_EP_USERINFO,
    OAS_EP_REVOKE,
    OAS_EP_INTROSPECT,
    OAS_EP_RESOURCE_METADATA, /* RFC 9728: a protected resource's, not the issuer's */
    OAS_EP_REGISTER,          /* RFC 7591, RFC 7592 (oas_registration.h) */
    OAS_EP_ACCOUNT,           /* the user's page of allowed applications (oas_account.h) */
    OAS_EP_END_SESSION,       /* RP-Initiated Logout 1.0 (oas_logout.h) */
    OAS_EP_METRICS,           /* Prometheus exposition of the counters (oas_metrics.h) */
    OAS_EP_COUNT
} oas_endpoint_e;

struct oas_key_t;
struct oas_tmpl_t;
struct oas_dpop_nonce_key_t;
struct X509_name_st;
struct x509_store_st;

/* OAuthASTokenExchange SUBJECT AUDIENCE...: the client may exchange tokens issued to client
 * subject ("*": any client of this issuer) for a token for one of audiences (resource ids). */
typedef struct oas_exchange_rule_t {
    const char *subject;
    apr_array_header_t *audiences; /* const char * */
} oas_exchange_rule_t;

typedef struct oas_client_t {
    const char *id;
    const char *name;                   /* shown on the consent page; defaults to id */
    const char *secret;                 /* plaintext or htpasswd-style hash; NULL = public */
    int secret_hashed;                  /* secret is an apr_password_validate hash */
    apr_array_header_t *redirect_uris;  /* const char *, exact match */
    apr_array_header_t *post_logout_redirect_uris; /* OAuthASPostLogoutRedirectURI: const char *,
                                                    * exact match (oas_logout.h) */
    apr_array_header_t *scopes;         /* const char *, what it may ask for */
    apr_array_header_t *audiences;      /* const char *, resources it may ask for */
    int auth_methods;                   /* OAS_AUTH_* bits; OAS_UNSET until resolved */
    int grant_types;                    /* OAS_GRANT_* bits; OAS_UNSET until resolved */
    int require_par;                    /* OAS_UNSET: the server's setting */
    int require_pkce;                   /* default On; always On for public clients */
    int consent;                        /* default On */
    int rt_rotation;                    /* default Off; always On for public clients */
    int at_ttl;                         /* OAS_UNSET: resource's, then server's */
    int at_ttl_cap;                     /* OAS_UNSET: none; a dynamic client's most
                                         * (OAuthASRegistrationDefaults access-token-lifetime) */
    int rt_ttl;                         /* OAS_UNSET: server's */
    /* OAuthASClientJWKS: the client's public keys, from a file read at start-up
     * (jwks: struct oas_jwk_t *, see oas_jwk.h) or an https jwks_uri fetched and cached at
     * run time (see oas_client_keys.h); at most one of the two is set */
    apr_array_header_t *jwks;
    const char *jwks_uri;
    int request_object;                 /* OAuthASRequestObject; OAS_UNSET: see oas_conf.h */
    int assertion_aud;                  /* OAuthASAssertionAudience: 0 Strict (default), 1 Legacy
                                         * (OAS_ASSERTION_AUD_*, oas_client_assertion.h) */
    int dpop;                           /* OAuthASDPoP, OAS_DPOP_*; OAS_UNSET: the server's */
    int dpop_nonce;                     /* OAuthASDPoPNonce; OAS_UNSET: the server's */
    /* mutual TLS (RFC 8705; oas_mtls.h): what a tls_client_auth certificate must carry, one of
     * OAuthASClientCertSubject (cert_subject as written, parsed into cert_dn) or
     * OAuthASClientCertSAN (cert_san_kind OAS_SAN_*, cert_san); the CA it must chain to
     * (OAuthASClientCertCA, read at start-up); OAuthASCertBoundTokens (OAS_UNSET: see
     * oas_client_cert_bound) */
    const char *cert_subject;
    struct X509_name_st *cert_dn;
    int cert_san_kind;
    const char *cert_san;
    const char *cert_ca_file;
    struct x509_store_st *cert_ca;
    int cert_bound;
    int introspection; /* OAuthASIntrospection On: may introspect any access token (a resource
                        * server); default Off: only the client's own tokens */
    apr_array_header_t *exchange;       /* oas_exchange_rule_t *: OAuthASTokenExchange lines */
    int profile;                        /* OAuthASProfile, OAS_PROFILE_*; OAS_UNSET: the
                                         * server's (oas_profile.h) */
    /* OpenID Connect logout (oas_logout_token.h): OAuthASBackchannelLogoutURI, where logout
     * tokens are posted, and OAuthASFrontchannelLogoutURI, loaded in the "signed out" page's
     * iframe (registration: backchannel_logout_uri, frontchannel_logout_uri); https, or NULL */
    const char *backchannel_logout_uri;
    const char *frontchannel_logout_uri;
    const char *defined_at;             /* "file:line" for configuration messages */
} oas_client_t;

typedef struct oas_resource_t {
    const char *id;
    apr_array_header_t *scopes; /* const char * */
    int at_ttl;                 /* OAS_UNSET: server's */
    const char *defined_at;
} oas_resource_t;

typedef struct oas_claim_t {
    const char *name;
    const void *expr; /* ap_expr_info_t, evaluated by the glue in the /authorize request */
} oas_claim_t;

typedef struct oas_issuer_t {
    const char *issuer; /* NULL: the AS is off for this server */
    const char *issuer_origin; /* scheme://authority, the base of endpoint URLs */
    /* OAuthASMTLSAlias (RFC 8705 §5): https://authority of the host that asks for client
     * certificates and serves the same issuer's endpoints, or NULL; its host and port, by
     * which the glue knows a request arrived there (oas_ctx_t.on_mtls_alias) */
    const char *mtls_alias;
    const char *mtls_alias_host;
    int mtls_alias_port;
    apr_array_header_t *keys;  /* struct oas_key_t *; first signs access tokens */
    const struct oas_key_t *id_token_key; /* first RSA key, else the first key */
    int store_short, store_long;
    int store_size;
    int code_ttl, request_uri_ttl, at_ttl, rt_ttl, idt_ttl;
    int require_par;
    int request_object; /* OAuthASRequestObject at server level: see oas_client_request_object */
    int max_body;
    int authfail_limit, authfail_window; /* OAuthASClientAuthFailureLimit; 0 = off */
    int client_quota; /* OAuthASClientQuota: authorization requests a client may start per
                       * short-lived window; 0 = no limit */
    int user_quota, address_quota; /* OAuthASUserQuota, OAuthASAddressQuota: the same per
                                    * signed-in user, per address; 0 = no limit */
    int consent_ttl; /* OAuthASConsentLifetime: seconds a consent page stays answerable */
    int session_ttl; /* OAuthASSessionLifetime: seconds an AS session lives (oas_session.h) */
    const char *login_url; /* OAuthASLoginURL: where the browser signs in again (prompt=login,
                            * max_age), or NULL: those answer login_required */
    int rt_grace; /* OAuthASRefreshTokenGrace: seconds a rotated-out token of a confidential
                   * client may still be retried; 0 = off */
    int client_signing_algs; /* OAuthASClientSigningAlgs: OAS_ALGBIT() set, see the getter */
    int dpop;                /* OAuthASDPoP: OAS_DPOP_* (default Allowed) */
    int dpop_nonce;          /* OAuthASDPoPNonce: On requires server nonces (default Off) */
    int profile;             /* OAuthASProfile: OAS_PROFILE_* (default none; oas_profile.h) */
    const char *consent_template_path;
    const struct oas_tmpl_t *consent_tmpl; /* parsed at start-up */
    const struct oas_tmpl_t *account_tmpl; /* OAuthASAccountTemplate, or the built-in one */
    const char *logout_template_path;      /* OAuthASLogoutTemplate */
    const struct oas_tmpl_t *logout_tmpl;  /* parsed at start-up */
    const char *logout_url; /* OAuthASLogoutURL: where the site's own sign-in is ended after
                             * ours (oas_logout_next), or NULL */
    apr_array_header_t *claims;            /* oas_claim_t */
    apr_hash_t *clients;                   /* id -> oas_client_t * */
    apr_hash_t *resources;                 /* id -> oas_resource_t * */
    apr_table_t *scope_descriptions;       /* scope -> human text */
    const char *endpoints[OAS_EP_COUNT];   /* URL path where each kind is mounted */
    /* outbound https calls (a client's jwks_uri; src/oas_fetch.h) */
    const char *ca_file;                   /* OAuthASCACertificateFile; NULL: system CAs */
    apr_array_header_t *outbound_allow;    /* OAuthASOutboundAllow: const char * hosts */
    apr_array_header_t *cors_origins;      /* OAuthASCORSOrigin: const char *, or NULL */
    /* dynamic client registration (RFC 7591, oas_registration.h): OAuthASRegistration
     * (OAS_REG_*, oas_clients.h; default Off), OAuthASRegistrationToken (const char *),
     * OAuthASRegistrationAudience (const char *: the resources dynamic clients may ask for) */
    int registration;
    apr_array_header_t *registration_tokens;
    apr_array_header_t *registration_audiences;
    /* OAuthASRegistrationDefaults (oas_reg_policy.h): the scopes dynamic and metadata-document
     * clients may get (const char *; NULL: the OpenID scopes and those of the registration
     * audiences), their token lifetimes, how long a registered client lives and how many
     * may be registered (OAS_UNSET: the getters' defaults) */
    apr_array_header_t *reg_scopes;
    int reg_at_ttl, reg_rt_ttl, reg_client_ttl, reg_max_clients;
    int cimd; /* OAuthASClientMetadataDocuments: an https client_id is fetched (oas_cimd.h) */
    /* prepared once at start-up */
    const char *metadata_json;
    const char *jwks_json;
    int has_public_clients;
    int at_ttl_max; /* the longest access-token lifetime of any client or resource */
    const struct oas_dpop_nonce_key_t *dpop_nonce_key; /* DPoP nonces (oas_dpop_nonce.h) */
} oas_issuer_t;

/* The issuer's settings, each read through its getter: a field holds OAS_UNSET until a
 * directive sets it (so a virtual host can inherit it), and the getter supplies the default
 * of INTERFACE.md. Nothing writes the defaults into the configuration. */
#define OAS_ISS_GETTER(name, dflt)                                                               \
    static inline int oas_iss_##name(const oas_issuer_t *iss)                                     \
    {                                                                                             \
        return iss->name != OAS_UNSET ? iss->name : (dflt);                                      \
    }
OAS_ISS_GETTER(store_short, OAS_STORE_SHM)
OAS_ISS_GETTER(store_size, OAS_DEFAULT_STORE_SIZE)
OAS_ISS_GETTER(code_ttl, OAS_DEFAULT_CODE_TTL)
OAS_ISS_GETTER(request_uri_ttl, OAS_DEFAULT_REQUEST_URI_TTL)
OAS_ISS_GETTER(at_ttl, OAS_DEFAULT_ACCESS_TOKEN_TTL)
OAS_ISS_GETTER(rt_ttl, OAS_DEFAULT_REFRESH_TOKEN_TTL)
OAS_ISS_GETTER(idt_ttl, OAS_DEFAULT_ID_TOKEN_TTL)
OAS_ISS_GETTER(require_par, 0)
OAS_ISS_GETTER(max_body, OAS_DEFAULT_MAX_BODY)
OAS_ISS_GETTER(authfail_limit, OAS_DEFAULT_AUTHFAIL_LIMIT)
OAS_ISS_GETTER(authfail_window, OAS_DEFAULT_AUTHFAIL_WINDOW)
OAS_ISS_GETTER(rt_grace, OAS_DEFAULT_RT_GRACE)
OAS_ISS_GETTER(client_quota, OAS_DEFAULT_CLIENT_QUOTA)
OAS_ISS_GETTER(user_quota, OAS_DEFAULT_USER_QUOTA)
OAS_ISS_GETTER(address_quota, OAS_DEFAULT_ADDRESS_QUOTA)
OAS_ISS_GETTER(consent_ttl, OAS_DEFAULT_CONSENT_TTL)
OAS_ISS_GETTER(session_ttl, OAS_DEFAULT_SESSION_TTL)
OAS_ISS_GETTER(dpop, OAS_DPOP_ALLOWED)
OAS_ISS_GETTER(dpop_nonce, 0)
OAS_ISS_GETTER(registration, 0)
OAS_ISS_GETTER(cimd, 0)
OAS_ISS_GETTER(reg_client_ttl, OAS_DEFAULT_REG_CLIENT_TTL)
OAS_ISS_GETTER(reg_max_clients, OAS_DEFAULT_REG_MAX_CLIENTS)
#undef OAS_ISS_GETTER
/* long-lived state lives where short-lived state does unless OAuthASStore names another */
static inline int oas_iss_store_long(const oas_issuer_t *iss)
{
    return iss->store_long != OAS_UNSET ? iss->store_long : oas_iss_store_short(iss);
}

/** OAuthASClientSigningAlgs: the algorithms (OAS_ALGBIT set, oas_keys.h) accepted for every
 * JWT a client signs with a key (assertions, request objects, DPoP proofs); default PS256,
 * ES256, EdDSA and RS256. Never holds HS256 (client_secret_jwt accepts it on its own). */
unsigned oas_iss_client_signing_algs(const oas_issuer_t *iss);
/** The algorithms accepted from one client: the server's, less what its profile forbids. */
unsigned oas_client_signing_algs(const oas_issuer_t *iss, const oas_client_t *c);

/* A new issuer, client or resource (in p) whose every setting is OAS_UNSET, so that a
 * directive that is not written leaves the default (or the enclosing server's value). */
oas_issuer_t *oas_issuer_make(apr_pool_t *p);
oas_client_t *oas_client_make(apr_pool_t *p, const char *id); /* name defaults to id */
oas_resource_t *oas_resource_make(apr_pool_t *p, const char *id);

/* The longest a short-lived record lives (code, request_uri, consent transaction): the quota
 * window, and how long a store that such records fill stays full. */
static inline int oas_iss_short_lived(const oas_issuer_t *iss)
{
    int t = oas_iss_code_ttl(iss);

    if (oas_iss_request_uri_ttl(iss) > t)
        t = oas_iss_request_uri_ttl(iss);
    return oas_iss_consent_ttl(iss) > t ? oas_iss_consent_ttl(iss) : t;
}

/* Names of endpoint kinds as written in OAuthASEndpoint. */
const char *oas_endpoint_name(oas_endpoint_e ep);
oas_endpoint_e oas_endpoint_from_name(const char *name);

/* The OAS_AUTH_* bit of a token_endpoint_auth_method name, the OAS_GRANT_* bit of a grant
 * type name (as OAuthASAuthMethod, OAuthASGrantType and RFC 7591 write them); 0 if unknown. */
int oas_auth_method_bit(const char *name);
int oas_grant_type_bit(const char *name);

/* Lookups (hash, not a scan). */
const oas_client_t *oas_issuer_client(const oas_issuer_t *iss, const char *id);
const oas_resource_t *oas_issuer_resource(const oas_issuer_t *iss, const char *id);

/* Resolved settings of a client (client's value, else resource/server default; a dynamic
 * client's access tokens live at most its at_ttl_cap). */
int oas_client_require_par(const oas_issuer_t *iss, const oas_client_t *c);
/* OAS_REQOBJ_*: the client's OAuthASRequestObject, else the server's, else Allowed; always Off
 * for a client without OAuthASClientJWKS (it has no key to sign with) */
int oas_client_request_object(const oas_issuer_t *iss, const oas_client_t *c);
int oas_client_at_ttl(const oas_issuer_t *iss, const oas_client_t *c, const oas_resource_t *r);
int oas_client_rt_ttl(const oas_issuer_t *iss, const oas_client_t *c);
int oas_client_is_public(const oas_client_t *c); /* its method is none */
/* OAuthASCertBoundTokens of a client: its own, else On for the mTLS methods, Off otherwise */
int oas_client_cert_bound(const oas_client_t *c);
/* OAuthASDPoP (OAS_DPOP_*) and OAuthASDPoPNonce of a client: its own, else the server's;
 * Required for a client whose profile wants sender-constrained tokens not bound to its
 * certificate. oas_client_require_par: On for a profile that requires PAR. */
int oas_client_dpop(const oas_issuer_t *iss, const oas_client_t *c);
int oas_client_dpop_nonce(const oas_issuer_t *iss, const oas_client_t *c);

/* A client's authentication methods and grant types as its block gives them, else their
 * defaults: client_secret_basic and client_secret_post with a secret, none without one;
 * authorization_code. */
int oas_client_auth_methods(const oas_client_t *c);
int oas_client_grant_types(const oas_client_t *c);

/** Writes a client's defaults into it once its block is read and checked
 * (oas_conf_check_client): after this, every OAS_UNSET of the client but require_par,
 * at_ttl and rt_ttl (which fall back to the server's) is resolved. Public clients always
 * use PKCE and rotate refresh tokens (RFC 9700 §4.14.2). */
void oas_client_resolve(oas_client_t *c);

/* qsort comparator for arrays of const char *. */
int oas_cmp_strp(const void *a, const void *b);

/* True when list (const char *) holds s. */
int oas_list_has(const apr_array_header_t *list, const char *s);

#endif
