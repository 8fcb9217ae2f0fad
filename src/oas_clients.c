/* mod_oauth_as: finding a client by id, configured or registered (oas_clients.h). */
#include <apr_lib.h>
#include <apr_strings.h>
#include <jansson.h>
#include <string.h>

#include "oas_authz.h"
#include "oas_cimd.h"
#include "oas_clients.h"
#include "oas_json.h"
#include "oas_jwk.h"
#include "oas_reg_policy.h"

/* INTERFACE.md, Registration: no client_secret_jwt (its secret would be stored in the clear)
 * and no mTLS (a certificate's subject is no metadata of RFC 7591's) */
#define REG_METHODS (OAS_AUTH_NONE | OAS_AUTH_BASIC | OAS_AUTH_POST | OAS_AUTH_PKJWT)

int oas_reg_id_valid(const char *id)
{
    int i;

    if (!id || strncmp(id, OAS_REG_ID_PREFIX, OAS_REG_ID_PREFIX_LEN))
        return 0;
    for (i = OAS_REG_ID_PREFIX_LEN; i < OAS_REG_ID_LEN; i++)
        if (!apr_isalnum((unsigned char)id[i]) && id[i] != '-' && id[i] != '_')
            return 0;
    return id[OAS_REG_ID_LEN] == '\0';
}

static oas_parse_cache_t *cache; /* this process's parsed clients */

static apr_status_t cache_gone(void *data)
{
    cache = NULL;
    return APR_SUCCESS;
}

apr_status_t oas_clients_child_init(apr_pool_t *p)
{
    if (!(cache = oas_parse_cache_create(p, OAS_CLIENT_CACHE_SLOTS)))
        return APR_ENOMEM;
    apr_pool_cleanup_register(p, NULL, cache_gone, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

oas_parse_cache_t *oas_clients_cache(void)
{
    return cache;
}

typedef struct {
    oas_client_parse_fn *parse;
    const oas_issuer_t *iss;
    const char *id;
} parse_baton_t;

static apr_status_t parse_client(void **pval, const char **pwhy, apr_pool_t *p, const char *bytes,
                                 apr_size_t len, void *baton)
{
    parse_baton_t *b = baton;
    oas_client_t *c;
    apr_status_t rv = b->parse(&c, pwhy, p, b->iss, apr_pstrdup(p, b->id), bytes, len);

    *pval = rv == APR_SUCCESS ? c : NULL;
    return rv;
}

apr_status_t oas_client_parsed(const oas_client_t **pc, const char **pwhy, oas_ctx_t *x, char kind,
                               oas_client_parse_fn *parse, const char *id, const char *bytes,
                               apr_size_t len)
{
    parse_baton_t b = {parse, x->iss, id};
    char name[2] = {kind, '\0'};
    void *c = NULL;
    /* issuers live as long as the process: one is told from another by its address */
    apr_status_t rv = oas_parse_cache_get(&c, pwhy, cache, x->iss,
                                          apr_pstrcat(x->p, name, id, NULL), bytes, len,
                                          parse_client, &b, x->p);

    *pc = c;
    return rv;
}

int oas_reg_auth_method(const char *name)
{
    return name ? oas_auth_method_bit(name) & REG_METHODS : 0;
}

int oas_reg_grant_type(const char *name)
{
    /* token exchange needs an OAuthASTokenExchange policy, which only a configured client has */
    return name ? oas_grant_type_bit(name) & ~OAS_GRANT_EXCHANGE : 0;
}

/* The strings of a JSON array member, or NULL when absent; *bad when not all strings. */
static apr_array_header_t *str_array(apr_pool_t *p, const json_t *md, const char *key, int *bad)
{
    const json_t *a = json_object_get(md, key), *v;
    apr_array_header_t *out;
    size_t i;

    if (!a)
        return NULL;
    if (!json_is_array(a)) {
        *bad = 1;
        return NULL;
    }
    out = apr_array_make(p, (int)json_array_size(a) + 1, sizeof(const char *));
    json_array_foreach(a, i, v) {
        if (!json_is_string(v)) {
            *bad = 1;
            return NULL;
        }
        APR_ARRAY_PUSH(out, const char *) = apr_pstrdup(p, json_string_value(v));
    }
    return out;
}

apr_status_t oas_client_from_record(oas_client_t **pc, apr_pool_t *p, const oas_issuer_t *iss,
                                    const char *id, const char *rec, apr_size_t len)
{
    json_t *j, *md, *jwks;
    apr_array_header_t *grants;
    oas_client_t *c;
    const char *s;
    int bad = 0, i;

    if (oas_json_parse(&j, p, rec, len) != APR_SUCCESS ||
        !json_is_object(md = json_object_get(j, "md")))
        return APR_EINVAL;
    c = oas_client_make(p, apr_pstrdup(p, id));
    if ((s = oas_json_str(md, "client_name")))
        c->name = apr_pstrdup(p, s);
    if ((s = oas_json_str(j, "sh"))) {
        c->secret = apr_pstrdup(p, s);
        c->secret_hashed = 1;
    }
    c->redirect_uris = str_array(p, md, "redirect_uris", &bad);
    if (!c->redirect_uris)
        c->redirect_uris = apr_array_make(p, 1, sizeof(const char *));
    c->post_logout_redirect_uris = str_array(p, md, "post_logout_redirect_uris", &bad);
    if (!(c->auth_methods = oas_reg_auth_method(oas_json_str(md, "token_endpoint_auth_method"))))
        return APR_EINVAL;
    grants = str_array(p, md, "grant_types", &bad);
    c->grant_types = 0;
    for (i = 0; grants && i < grants->nelts; i++)
        c->grant_types |= oas_reg_grant_type(APR_ARRAY_IDX(grants, i, const char *));
    if (!c->grant_types)
        c->grant_types = OAS_GRANT_CODE;
    c->scopes = oas_scope_split(p, oas_json_str(md, "scope"));
    oas_reg_policy_apply(c, p, iss);
    if ((jwks = json_object_get(md, "jwks"))) {
        const char *txt = oas_json_dumps(p, jwks, 0), *err;
        if (!txt || oas_jwks_parse(&c->jwks, &err, p, txt, strlen(txt)) != APR_SUCCESS)
            return APR_EINVAL;
    }
    else if ((s = oas_json_str(md, "jwks_uri")))
        c->jwks_uri = apr_pstrdup(p, s);
    if ((s = oas_json_str(md, "backchannel_logout_uri")))
        c->backchannel_logout_uri = apr_pstrdup(p, s);
    if ((s = oas_json_str(md, "frontchannel_logout_uri")))
        c->frontchannel_logout_uri = apr_pstrdup(p, s);
    /* INTERFACE.md Precise rules, Registration: consent and PKCE on */
    c->consent = 1;
    c->require_pkce = 1;
    c->defined_at = "registration";
    oas_client_resolve(c);
    if (bad)
        return APR_EINVAL;
    *pc = c;
    return APR_SUCCESS;
}

static apr_status_t from_record(oas_client_t **pc, const char **pwhy, apr_pool_t *p,
                                const oas_issuer_t *iss, const char *id, const char *bytes,
                                apr_size_t len)
{
    return oas_client_from_record(pc, p, iss, id, bytes, len);
}

const oas_client_t *oas_ctx_client(oas_ctx_t *x, const char *id)
{
    const oas_client_t *c = oas_issuer_client(x->iss, id);
    oas_store_t *st;
    const char *why;
    apr_size_t n;
    apr_status_t rv;
    char *v;

    /* configured clients keep their one hash lookup; only our own ids reach the store, and
     * only https URLs the document cache */
    if (c || !id)
        return c;
    if (x->reg_client && !strcmp(x->reg_client->id, id))
        return x->reg_client;
    /* oas_cimd_fetch checks the rest of the URL (APR_NOTFOUND: not one, said nothing) */
    if (oas_iss_cimd(x->iss) && !strncmp(id, "https://", 8)) {
        oas_err_t e;
        if ((rv = oas_cimd_fetch(&c, &e, x, id, NULL)) != APR_SUCCESS) {
            if (rv != APR_NOTFOUND && e.detail)
                OAS_CTX_LOG(x, OAS_LOG_INFO, 0, "%s", e.detail);
            return NULL;
        }
        return x->reg_client = c;
    }
    if (oas_iss_registration(x->iss) == OAS_REG_OFF || !oas_reg_id_valid(id))
        return NULL;
    if (!(st = oas_ctx_store(x, OAS_CTX_LONG)))
        return NULL;
    rv = oas_store_get(st, x->p, OAS_NS_CLIENT, id, &v, &n);
    if (rv != APR_SUCCESS) {
        if (!APR_STATUS_IS_NOTFOUND(rv))
            OAS_CTX_LOG(x, OAS_LOG_WARNING, rv,
                        OAS_LOGNO(06801) "registered client %s cannot be read", id);
        return NULL;
    }
    if (oas_client_parsed(&c, &why, x, 'r', from_record, id, v, n) != APR_SUCCESS) {
        OAS_CTX_LOG(x, OAS_LOG_ERR, 0,
                    OAS_LOGNO(06802) "registered client %s: its record does not parse", id);
        return NULL;
    }
    return x->reg_client = c;
}
