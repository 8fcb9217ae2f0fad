/* mod_oauth_as: consent page rendering. */
#include <apr_lib.h>
#include <apr_uri.h>

#include "oas_authz.h"
#include "oas_consent.h"
#include "oas_consent_default.h"

const char *oas_consent_default_template(void)
{
    return oas_consent_default_html;
}

const char *oas_scope_description(const oas_issuer_t *iss, const char *scope)
{
    static const char *const builtin[][2] = {
        {"openid", "Sign you in with your account"},
        {"profile", "See your name and basic profile"},
        {"email", "See your email address"},
        {"address", "See your postal address"},
        {"phone", "See your phone number"},
        {"offline_access", "Keep access when you are not using it"},
    };
    const char *d = iss->scope_descriptions ? apr_table_get(iss->scope_descriptions, scope) : NULL;
    apr_size_t i;

    if (d)
        return d;
    for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
        if (!strcmp(builtin[i][0], scope))
            return builtin[i][1];
    }
    return scope;
}

/* The host of an http(s) URI (with its port), or NULL for another scheme. */
static const char *uri_host(apr_pool_t *p, const char *uri)
{
    apr_uri_t u;

    if (!uri || apr_uri_parse(p, uri, &u) != APR_SUCCESS || !u.scheme ||
        (strcasecmp(u.scheme, "https") && strcasecmp(u.scheme, "http")) || !u.hostinfo)
        return NULL;
    return u.hostinfo;
}

/* Every redirect URI the client has is a loopback one: whoever runs a program on a device
 * can present this client's id and get its answers there (MCP authorization, CIMD: the user
 * must be warned). */
static int loopback_only(const oas_client_t *c)
{
    int i;

    for (i = 0; c->redirect_uris && i < c->redirect_uris->nelts; i++) {
        const char *u = APR_ARRAY_IDX(c->redirect_uris, i, const char *);
        if (strncmp(u, "http://127.0.0.1", 16) && strncmp(u, "http://[::1]", 12) &&
            strncmp(u, "http://localhost", 16))
            return 0;
    }
    return c->redirect_uris && c->redirect_uris->nelts;
}

void oas_consent_scopes(oas_tmpl_vars_t *vars, apr_pool_t *p, const oas_issuer_t *iss,
                        const char *scope)
{
    apr_array_header_t *scopes = oas_scope_split(p, scope ? scope : "");
    int i;

    if (scopes->nelts)
        oas_tmpl_set(vars, "has_scopes", "1");
    for (i = 0; i < scopes->nelts; i++) {
        const char *s = APR_ARRAY_IDX(scopes, i, const char *);
        oas_tmpl_vars_t *item = oas_tmpl_list_add(vars, "scopes");
        oas_tmpl_set(item, "scope", s);
        oas_tmpl_set(item, "description", oas_scope_description(iss, s));
    }
}

void oas_consent_set_client(oas_tmpl_vars_t *vars, apr_pool_t *p, const oas_client_t *c)
{
    const char *name = c->name ? c->name : c->id;

    oas_tmpl_set(vars, "client_id", c->id);
    oas_tmpl_set(vars, "client_name", name);
    oas_tmpl_set(vars, "client_initial",
                 apr_psprintf(p, "%c", apr_isalnum(name[0]) ? apr_toupper(name[0]) : '?'));
}

const char *oas_consent_render(apr_pool_t *p, const oas_tmpl_t *t, const oas_issuer_t *iss,
                               const oas_consent_view_t *v)
{
    oas_tmpl_vars_t *vars = oas_tmpl_vars_make(p);

    oas_consent_set_client(vars, p, v->client);
    oas_tmpl_set(vars, "user", v->user);
    oas_tmpl_set(vars, "scope", v->scope);
    oas_tmpl_set(vars, "audience", v->resource);
    oas_tmpl_set(vars, "action", v->action);
    oas_tmpl_set(vars, "txn", v->txn);
    oas_tmpl_set(vars, "csrf", v->csrf);
    oas_tmpl_set(vars, "issuer", iss->issuer);
    oas_tmpl_set(vars, "redirect_host", uri_host(p, v->redirect_uri));
    if (loopback_only(v->client))
        oas_tmpl_set(vars, "loopback_only", "1");
    oas_consent_scopes(vars, p, iss, v->scope);
    return oas_tmpl_render(p, t, vars);
}
