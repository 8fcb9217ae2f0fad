/* mod_oauth_as: lookups and resolved settings over the configuration model. */
#include "oas_conf.h"
#include "oas_keys.h"
#include "oas_profile.h"

static const char *const endpoint_names[OAS_EP_COUNT] = {
    NULL,       "authorize", "par",    "token",      "metadata",
    "jwks",     "userinfo",  "revoke", "introspect", "resource-metadata", "register",
    "account",
    "end-session",
    "metrics",
};

const char *oas_endpoint_name(oas_endpoint_e ep)
{
    return (ep > OAS_EP_NONE && ep < OAS_EP_COUNT) ? endpoint_names[ep] : "none";
}

oas_endpoint_e oas_endpoint_from_name(const char *name)
{
    int i;

    for (i = OAS_EP_NONE + 1; i < OAS_EP_COUNT; i++) {
        if (!strcasecmp(name, endpoint_names[i]))
            return (oas_endpoint_e)i;
    }
    return OAS_EP_NONE;
}

unsigned oas_iss_client_signing_algs(const oas_issuer_t *iss)
{
    unsigned algs = iss->client_signing_algs != OAS_UNSET ? (unsigned)iss->client_signing_algs
                                                          : OAS_ALGBITS_ASYM;

    return algs & oas_iss_profile(iss)->algs;
}

unsigned oas_client_signing_algs(const oas_issuer_t *iss, const oas_client_t *c)
{
    return oas_iss_client_signing_algs(iss) & oas_client_profile(iss, c)->algs;
}

oas_issuer_t *oas_issuer_make(apr_pool_t *p)
{
    oas_issuer_t *c = apr_pcalloc(p, sizeof(*c));

    c->store_short = c->store_long = OAS_UNSET;
    c->store_size = OAS_UNSET;
    c->code_ttl = c->request_uri_ttl = c->at_ttl = c->rt_ttl = c->idt_ttl = OAS_UNSET;
    c->require_par = c->request_object = OAS_UNSET;
    c->max_body = OAS_UNSET;
    c->authfail_limit = c->authfail_window = OAS_UNSET;
    c->rt_grace = c->client_quota = OAS_UNSET;
    c->user_quota = c->address_quota = c->consent_ttl = OAS_UNSET;
    c->session_ttl = OAS_UNSET;
    c->client_signing_algs = OAS_UNSET;
    c->dpop = c->dpop_nonce = OAS_UNSET;
    c->profile = OAS_UNSET;
    c->registration = OAS_UNSET;
    c->cimd = OAS_UNSET;
    c->reg_at_ttl = c->reg_rt_ttl = c->reg_client_ttl = c->reg_max_clients = OAS_UNSET;
    return c;
}

oas_client_t *oas_client_make(apr_pool_t *p, const char *id)
{
    oas_client_t *c = apr_pcalloc(p, sizeof(*c));

    c->id = id;
    c->name = id;
    c->auth_methods = c->grant_types = OAS_UNSET;
    c->require_par = c->require_pkce = c->consent = c->rt_rotation = OAS_UNSET;
    c->at_ttl = c->rt_ttl = c->at_ttl_cap = OAS_UNSET;
    c->request_object = OAS_UNSET;
    c->dpop = c->dpop_nonce = OAS_UNSET;
    c->cert_bound = OAS_UNSET;
    c->profile = OAS_UNSET;
    return c;
}

oas_resource_t *oas_resource_make(apr_pool_t *p, const char *id)
{
    oas_resource_t *r = apr_pcalloc(p, sizeof(*r));

    r->id = id;
    r->at_ttl = OAS_UNSET;
    return r;
}

typedef struct {
    const char *name;
    int bit;
} named_bit_t;

static int bit_of(const named_bit_t *t, const char *name)
{
    for (; t->name; t++)
        if (!strcmp(name, t->name))
            return t->bit;
    return 0;
}

int oas_auth_method_bit(const char *name)
{
    static const named_bit_t methods[] = {{"client_secret_basic", OAS_AUTH_BASIC},
                                          {"client_secret_post", OAS_AUTH_POST},
                                          {"none", OAS_AUTH_NONE},
                                          {"private_key_jwt", OAS_AUTH_PKJWT},
                                          {"client_secret_jwt", OAS_AUTH_SJWT},
                                          {"tls_client_auth", OAS_AUTH_TLS},
                                          {"self_signed_tls_client_auth", OAS_AUTH_SELF_TLS},
                                          {NULL, 0}};
    return bit_of(methods, name);
}

int oas_grant_type_bit(const char *name)
{
    static const named_bit_t grants[] = {{"authorization_code", OAS_GRANT_CODE},
                                         {"refresh_token", OAS_GRANT_REFRESH},
                                         {"client_credentials", OAS_GRANT_CC},
                                         {OAS_GRANT_TYPE_EXCHANGE, OAS_GRANT_EXCHANGE},
                                         {NULL, 0}};
    return bit_of(grants, name);
}

const oas_client_t *oas_issuer_client(const oas_issuer_t *iss, const char *id)
{
    return (id && iss->clients) ? apr_hash_get(iss->clients, id, APR_HASH_KEY_STRING) : NULL;
}

const oas_resource_t *oas_issuer_resource(const oas_issuer_t *iss, const char *id)
{
    return (id && iss->resources) ? apr_hash_get(iss->resources, id, APR_HASH_KEY_STRING)
                                  : NULL;
}

/* INTERFACE.md: public if and only if the method is none; a private_key_jwt client is
 * confidential without a secret. */
int oas_client_is_public(const oas_client_t *c)
{
    return (oas_client_auth_methods(c) & OAS_AUTH_NONE) != 0;
}

int oas_client_cert_bound(const oas_client_t *c)
{
    if (c->cert_bound != OAS_UNSET)
        return c->cert_bound;
    return (oas_client_auth_methods(c) & OAS_AUTH_MTLS) != 0;
}

int oas_client_auth_methods(const oas_client_t *c)
{
    if (c->auth_methods != OAS_UNSET)
        return c->auth_methods;
    return c->secret ? (OAS_AUTH_BASIC | OAS_AUTH_POST) : OAS_AUTH_NONE;
}

int oas_client_grant_types(const oas_client_t *c)
{
    return c->grant_types != OAS_UNSET ? c->grant_types : OAS_GRANT_CODE;
}

void oas_client_resolve(oas_client_t *c)
{
    c->auth_methods = oas_client_auth_methods(c);
    c->grant_types = oas_client_grant_types(c);
    if (oas_client_is_public(c)) {
        c->require_pkce = 1;
        c->rt_rotation = 1;
    }
    if (c->require_pkce == OAS_UNSET)
        c->require_pkce = 1;
    if (c->consent == OAS_UNSET)
        c->consent = 1;
    if (c->rt_rotation == OAS_UNSET)
        c->rt_rotation = 0;
}

int oas_client_require_par(const oas_issuer_t *iss, const oas_client_t *c)
{
    if (oas_client_profile(iss, c)->require_par)
        return 1;
    return c->require_par != OAS_UNSET ? c->require_par : oas_iss_require_par(iss);
}

int oas_client_request_object(const oas_issuer_t *iss, const oas_client_t *c)
{
    if (!c->jwks && !c->jwks_uri)
        return OAS_REQOBJ_OFF;
    if (oas_client_profile(iss, c)->signed_requests)
        return OAS_REQOBJ_REQUIRED;
    if (c->request_object != OAS_UNSET)
        return c->request_object;
    return iss->request_object != OAS_UNSET ? iss->request_object : OAS_REQOBJ_ALLOWED;
}

int oas_client_dpop(const oas_issuer_t *iss, const oas_client_t *c)
{
    if (oas_client_profile(iss, c)->sender_constrained && !oas_client_cert_bound(c))
        return OAS_DPOP_REQUIRED;
    return c->dpop != OAS_UNSET ? c->dpop : oas_iss_dpop(iss);
}

int oas_client_dpop_nonce(const oas_issuer_t *iss, const oas_client_t *c)
{
    return c->dpop_nonce != OAS_UNSET ? c->dpop_nonce : oas_iss_dpop_nonce(iss);
}

int oas_client_at_ttl(const oas_issuer_t *iss, const oas_client_t *c, const oas_resource_t *r)
{
    int t = c && c->at_ttl != OAS_UNSET   ? c->at_ttl
            : r && r->at_ttl != OAS_UNSET ? r->at_ttl
                                          : oas_iss_at_ttl(iss);

    return c && c->at_ttl_cap != OAS_UNSET && t > c->at_ttl_cap ? c->at_ttl_cap : t;
}

int oas_client_rt_ttl(const oas_issuer_t *iss, const oas_client_t *c)
{
    return c->rt_ttl != OAS_UNSET ? c->rt_ttl : oas_iss_rt_ttl(iss);
}

int oas_list_has(const apr_array_header_t *list, const char *s)
{
    int i;

    if (!list || !s)
        return 0;
    for (i = 0; i < list->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(list, i, const char *), s))
            return 1;
    }
    return 0;
}

int oas_cmp_strp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}
