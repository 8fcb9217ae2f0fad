/* mod_oauth_as: directives, <OAuthASClient>/<OAuthASResource> blocks, merging, and the
 * whole-configuration checks that make `apache2 -t` fail with a message naming the
 * directive. Everything is validated at parse time when it can be. */
#include <errno.h>

#include <apr_file_io.h>
#include <apr_strings.h>
#include <ap_expr.h>
#include <http_core.h>

#include "mod_oas_config.h"
#include "oas_authz.h"
#include "oas_consent.h"
#include "oas_metadata.h"
#include "oas_html.h"
#include "oas_keys.h"
#include "oas_uri.h"

#define MAX_LIFETIME (10 * 365 * 86400) /* ten years: anything above is a typo */

/* Where a directive may stand. */
#define IN_SERVER   0x1
#define IN_CLIENT   0x2
#define IN_RESOURCE 0x4

#define MERGE_I(f) m->f = (add->f != OAS_UNSET) ? add->f : base->f
#define MERGE_P(f) m->f = (add->f != NULL) ? add->f : base->f

/* ---- create / merge ---- */

void *oas_mod_config_create_server(apr_pool_t *p, server_rec *s)
{
    oas_issuer_t *c = apr_pcalloc(p, sizeof(*c));

    c->store_short = c->store_long = OAS_UNSET;
    c->store_size = OAS_UNSET;
    c->code_ttl = c->request_uri_ttl = c->at_ttl = c->rt_ttl = c->idt_ttl = OAS_UNSET;
    c->require_par = OAS_UNSET;
    c->max_body = OAS_UNSET;
    c->authfail_limit = c->authfail_window = OAS_UNSET;
    c->rt_grace = c->client_quota = OAS_UNSET;
    return c;
}

void *oas_mod_config_merge_server(apr_pool_t *p, void *basev, void *addv)
{
    const oas_issuer_t *base = basev, *add = addv;
    oas_issuer_t *m = apr_pcalloc(p, sizeof(*m));
    int i;

    MERGE_P(issuer);
    MERGE_P(issuer_origin);
    MERGE_P(keys);
    MERGE_I(store_short);
    MERGE_I(store_long);
    MERGE_I(store_size);
    MERGE_I(code_ttl);
    MERGE_I(request_uri_ttl);
    MERGE_I(at_ttl);
    MERGE_I(rt_ttl);
    MERGE_I(idt_ttl);
    MERGE_I(require_par);
    MERGE_I(max_body);
    MERGE_I(authfail_limit);
    MERGE_I(authfail_window);
    MERGE_I(rt_grace);
    MERGE_I(client_quota);
    MERGE_P(consent_template_path);
    MERGE_P(consent_tmpl);
    MERGE_P(claims);
    /* A vhost with its own OAuthASIssuer is another issuer: clients and resources belong to
     * the server that declares them (INTERFACE.md), so it does not take the main server's.
     * A vhost without one (e.g. the same issuer on another port) inherits everything. */
    if (add->issuer) {
        m->clients = add->clients;
        m->resources = add->resources;
    }
    else {
        MERGE_P(clients);
        MERGE_P(resources);
    }
    MERGE_P(scope_descriptions);
    for (i = 0; i < OAS_EP_COUNT; i++)
        MERGE_P(endpoints[i]);
    return m;
}

void *oas_mod_config_create_dir(apr_pool_t *p, char *path)
{
    return apr_pcalloc(p, sizeof(oas_dir_conf_t));
}

void *oas_mod_config_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    const oas_dir_conf_t *base = basev, *add = addv;
    oas_dir_conf_t *m = apr_pcalloc(p, sizeof(*m));

    m->endpoint = add->endpoint != OAS_EP_NONE ? add->endpoint : base->endpoint;
    return m;
}

/* ---- helpers ---- */

static oas_issuer_t *srv(cmd_parms *cmd)
{
    return oas_mod_issuer(cmd->server);
}

static const char *where(cmd_parms *cmd)
{
    return apr_psprintf(cmd->pool, "%s:%d", cmd->directive->filename, cmd->directive->line_num);
}

/* Checks that the directive stands where it may; returns an error or NULL. */
static const char *check_place(cmd_parms *cmd, void *mconfig, int allowed)
{
    const oas_dir_conf_t *dc = mconfig;
    const char *err;

    if (dc && dc->client) {
        return (allowed & IN_CLIENT) ? NULL
                                     : apr_pstrcat(cmd->pool, cmd->cmd->name,
                                                   " is not allowed inside <OAuthASClient>", NULL);
    }
    if (dc && dc->resource) {
        return (allowed & IN_RESOURCE)
                   ? NULL
                   : apr_pstrcat(cmd->pool, cmd->cmd->name,
                                 " is not allowed inside <OAuthASResource>", NULL);
    }
    if (!(allowed & IN_SERVER)) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, " is only allowed inside ",
                           (allowed & IN_RESOURCE) ? "<OAuthASClient> or <OAuthASResource>"
                                                   : "<OAuthASClient>",
                           NULL);
    }
    if ((err = ap_check_cmd_context(cmd, NOT_IN_DIR_LOC_FILE)) != NULL)
        return err;
    return NULL;
}

/* A lifetime or size: a positive decimal number within [1, max]. */
static const char *parse_positive(cmd_parms *cmd, const char *arg, apr_int64_t max, int *out)
{
    char *end = NULL;
    apr_int64_t v;

    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (errno || end == arg || *end || v < 1 || v > max) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a positive number (1 to %" APR_INT64_T_FMT
                                       ")",
                            cmd->cmd->name, arg, max);
    }
    *out = (int)v;
    return NULL;
}

static const char *parse_flag(cmd_parms *cmd, const char *arg, int *out)
{
    if (!strcasecmp(arg, "on"))
        *out = 1;
    else if (!strcasecmp(arg, "off"))
        *out = 0;
    else
        return apr_psprintf(cmd->pool, "%s must be On or Off, not '%s'", cmd->cmd->name, arg);
    return NULL;
}

static apr_array_header_t *list_add(apr_pool_t *p, apr_array_header_t **plist, const char *v)
{
    if (!*plist)
        *plist = apr_array_make(p, 4, sizeof(const char *));
    if (!oas_list_has(*plist, v))
        APR_ARRAY_PUSH(*plist, const char *) = v;
    return *plist;
}

/* ---- server-level directives ---- */

static const char *set_issuer(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_issuer_t *sc = srv(cmd);
    const char *err = check_place(cmd, mconfig, IN_SERVER);
    apr_uri_t u;

    if (err)
        return err;
    if (apr_uri_parse(cmd->pool, arg, &u) != APR_SUCCESS || !u.scheme || !u.hostname ||
        !*u.hostname) {
        return apr_psprintf(cmd->pool, "OAuthASIssuer: '%s' is not an absolute URL", arg);
    }
    if (u.query || u.fragment || strchr(arg, '?') || strchr(arg, '#')) {
        return apr_psprintf(cmd->pool,
                            "OAuthASIssuer: '%s' must not have a query or fragment (RFC 8414 §2)",
                            arg);
    }
    if (strcasecmp(u.scheme, "https")) {
        if (strcasecmp(u.scheme, "http") ||
            (strcasecmp(u.hostname, "localhost") && strcmp(u.hostname, "127.0.0.1"))) {
            return apr_psprintf(cmd->pool,
                                "OAuthASIssuer: '%s' must be an https URL (http is allowed "
                                "only for localhost and 127.0.0.1)",
                                arg);
        }
    }
    /* the issuer is compared byte for byte by clients: a trailing slash would differ */
    if (arg[strlen(arg) - 1] == '/' && (!u.path || strlen(u.path) > 1)) {
        return apr_psprintf(cmd->pool, "OAuthASIssuer: '%s' must not end with a slash", arg);
    }
    sc->issuer = (u.path && !strcmp(u.path, "/")) ? apr_pstrndup(cmd->pool, arg, strlen(arg) - 1)
                                                  : arg;
    sc->issuer_origin =
        apr_pstrcat(cmd->pool, u.scheme, "://", u.hostinfo, NULL);
    return NULL;
}

static const char *set_signing_key(cmd_parms *cmd, void *mconfig, const char *file,
                                   const char *kid)
{
    oas_issuer_t *sc = srv(cmd);
    const char *err = check_place(cmd, mconfig, IN_SERVER);
    const char *path;
    oas_key_t *key;
    int i;

    if (err)
        return err;
    path = ap_server_root_relative(cmd->pool, file);
    if (!path)
        return apr_psprintf(cmd->pool, "OAuthASSigningKey: invalid path '%s'", file);
    if (oas_key_load(&key, &err, cmd->pool, path, kid) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "OAuthASSigningKey %s: %s", file, err);
    if (!sc->keys)
        sc->keys = apr_array_make(cmd->pool, 2, sizeof(oas_key_t *));
    for (i = 0; i < sc->keys->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(sc->keys, i, oas_key_t *)->kid, key->kid))
            return apr_psprintf(cmd->pool, "OAuthASSigningKey %s: duplicate kid '%s'", file,
                                key->kid);
    }
    APR_ARRAY_PUSH(sc->keys, oas_key_t *) = key;
    return NULL;
}

static const char *parse_store_kind(cmd_parms *cmd, const char *arg, int *out)
{
    if (!strcasecmp(arg, "shm"))
        *out = OAS_STORE_SHM;
    else if (!strcasecmp(arg, "dbd"))
        *out = OAS_STORE_DBD;
    else
        return apr_psprintf(cmd->pool, "OAuthASStore: unknown store '%s' (shm or dbd)", arg);
    return NULL;
}

static const char *set_store(cmd_parms *cmd, void *mconfig, const char *shortk,
                             const char *longk)
{
    oas_issuer_t *sc = srv(cmd);
    const char *err = check_place(cmd, mconfig, IN_SERVER);

    if (err || (err = parse_store_kind(cmd, shortk, &sc->store_short)))
        return err;
    return parse_store_kind(cmd, longk ? longk : shortk, &sc->store_long);
}

/* The int-valued server directives share one handler; the offset comes from cmd->info. */
static const char *set_server_int(cmd_parms *cmd, void *mconfig, const char *arg)
{
    const char *err = check_place(cmd, mconfig, IN_SERVER);
    int *field = (int *)((char *)srv(cmd) + (apr_size_t)cmd->info);
    apr_int64_t max = MAX_LIFETIME;

    if (err)
        return err;
    if (!strcmp(cmd->cmd->name, "OAuthASStoreSize"))
        max = 100000000;
    else if (!strcmp(cmd->cmd->name, "OAuthASMaxBody"))
        max = 1024 * 1024;
    return parse_positive(cmd, arg, max, field);
}

/* OAuthASRefreshTokenGrace SECONDS and OAuthASClientQuota N: a number, or 0 for off. */
static const char *set_server_int_or_off(cmd_parms *cmd, void *mconfig, const char *arg)
{
    const char *err = check_place(cmd, mconfig, IN_SERVER);
    int *field = (int *)((char *)srv(cmd) + (apr_size_t)cmd->info);

    if (err)
        return err;
    if (!strcmp(arg, "0")) {
        *field = 0;
        return NULL;
    }
    return parse_positive(cmd, arg, !strcmp(cmd->cmd->name, "OAuthASRefreshTokenGrace")
                                        ? 3600
                                        : 100000000,
                          field);
}

/* OAuthASClientAuthFailureLimit N [SECONDS] (SECURITY.md C07); N = 0 switches it off. */
static const char *set_authfail_limit(cmd_parms *cmd, void *mconfig, const char *n,
                                      const char *secs)
{
    oas_issuer_t *sc = srv(cmd);
    const char *err = check_place(cmd, mconfig, IN_SERVER);

    if (err)
        return err;
    if (!strcmp(n, "0"))
        sc->authfail_limit = 0;
    else if ((err = parse_positive(cmd, n, 1000000, &sc->authfail_limit)))
        return err;
    if (secs)
        return parse_positive(cmd, secs, 86400, &sc->authfail_window);
    return NULL;
}

static const char *set_consent_template(cmd_parms *cmd, void *mconfig, const char *file)
{
    oas_issuer_t *sc = srv(cmd);
    const char *err = check_place(cmd, mconfig, IN_SERVER);
    const char *path;
    char *text;
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;
    oas_tmpl_t *t;
    apr_status_t rv;

    if (err)
        return err;
    path = ap_server_root_relative(cmd->pool, file);
    if (!path || (rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, cmd->temp_pool)) ||
        (rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f))) {
        return apr_psprintf(cmd->pool, "OAuthASConsentTemplate: cannot read '%s'", file);
    }
    if (fi.size > 1024 * 1024)
        return apr_psprintf(cmd->pool, "OAuthASConsentTemplate: '%s' is larger than 1 MiB", file);
    n = (apr_size_t)fi.size;
    text = apr_palloc(cmd->temp_pool, n + 1);
    if (apr_file_read_full(f, text, n, &n) != APR_SUCCESS && n != (apr_size_t)fi.size)
        return apr_psprintf(cmd->pool, "OAuthASConsentTemplate: cannot read '%s'", file);
    text[n] = '\0';
    apr_file_close(f);
    if (oas_tmpl_parse(&t, &err, cmd->pool, text, n) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "OAuthASConsentTemplate %s: %s", file, err);
    sc->consent_template_path = path;
    sc->consent_tmpl = t;
    return NULL;
}

static const char *set_claim(cmd_parms *cmd, void *mconfig, const char *name, const char *expr)
{
    oas_issuer_t *sc = srv(cmd);
    const char *err = check_place(cmd, mconfig, IN_SERVER);
    oas_claim_t *c;
    ap_expr_info_t *info;
    static const char *const reserved[] = {"iss", "sub", "aud", "exp", "iat", "nbf", "jti",
                                           "auth_time", "nonce", "at_hash", "azp",
                                           "client_id", "scope", NULL};
    int i;

    if (err)
        return err;
    for (i = 0; reserved[i]; i++) {
        if (!strcmp(name, reserved[i]))
            return apr_psprintf(cmd->pool, "OAuthASClaim: '%s' is a reserved claim", name);
    }
    info = ap_expr_parse_cmd(cmd, expr, AP_EXPR_FLAG_STRING_RESULT, &err, NULL);
    if (err)
        return apr_psprintf(cmd->pool, "OAuthASClaim %s: cannot parse expression: %s", name, err);
    if (!sc->claims)
        sc->claims = apr_array_make(cmd->pool, 4, sizeof(oas_claim_t));
    for (i = 0; i < sc->claims->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(sc->claims, i, oas_claim_t).name, name))
            return apr_psprintf(cmd->pool, "OAuthASClaim: claim '%s' is defined twice", name);
    }
    c = apr_array_push(sc->claims);
    c->name = name;
    c->expr = info;
    return NULL;
}

static const char *set_scope_description(cmd_parms *cmd, void *mconfig, const char *scope,
                                         const char *text)
{
    oas_issuer_t *sc = srv(cmd);
    const char *err = check_place(cmd, mconfig, IN_SERVER);

    if (err)
        return err;
    if (!oas_scope_valid(scope, 1))
        return apr_psprintf(cmd->pool, "OAuthASScopeDescription: invalid scope '%s'", scope);
    if (!sc->scope_descriptions)
        sc->scope_descriptions = apr_table_make(cmd->pool, 8);
    apr_table_set(sc->scope_descriptions, scope, text);
    return NULL;
}

static const char *set_endpoint(cmd_parms *cmd, void *mconfig, const char *kind)
{
    oas_dir_conf_t *dc = mconfig;
    oas_issuer_t *sc = srv(cmd);
    oas_endpoint_e ep = oas_endpoint_from_name(kind);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIRECTORY | NOT_IN_FILES);

    if (err)
        return err;
    if (ep == OAS_EP_NONE) {
        return apr_psprintf(cmd->pool,
                            "OAuthASEndpoint: unknown endpoint kind '%s' (authorize, par, token, "
                            "metadata, jwks, userinfo, revoke, introspect)",
                            kind);
    }
    if (!cmd->path || dc->client || dc->resource)
        return "OAuthASEndpoint must be placed inside <Location>";
    if (cmd->path[0] != '/' || ap_strchr_c(cmd->path, '*') || ap_strchr_c(cmd->path, '?') ||
        ap_strchr_c(cmd->path, '[') || cmd->directive->parent == NULL ||
        strcasecmp(cmd->directive->parent->directive, "<Location")) {
        return "OAuthASEndpoint must be placed inside <Location /path> with a plain path "
               "(no wildcards, no <LocationMatch>)";
    }
    dc->endpoint = ep;
    if (!sc->endpoints[ep])
        sc->endpoints[ep] = cmd->path;
    return NULL;
}

/* ---- directives of client and resource blocks (some also server-wide) ---- */

static const char *set_lifetime(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    int allowed = IN_SERVER | IN_CLIENT;
    int is_at = !strcmp(cmd->cmd->name, "OAuthASAccessTokenLifetime");
    const char *err;
    int *field;

    if (is_at)
        allowed |= IN_RESOURCE;
    if ((err = check_place(cmd, mconfig, allowed)))
        return err;
    if (dc && dc->client)
        field = is_at ? &dc->client->at_ttl : &dc->client->rt_ttl;
    else if (dc && dc->resource)
        field = &dc->resource->at_ttl;
    else
        field = is_at ? &srv(cmd)->at_ttl : &srv(cmd)->rt_ttl;
    return parse_positive(cmd, arg, MAX_LIFETIME, field);
}

static const char *set_require_par(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = check_place(cmd, mconfig, IN_SERVER | IN_CLIENT);

    if (err)
        return err;
    return parse_flag(cmd, arg, (dc && dc->client) ? &dc->client->require_par
                                                   : &srv(cmd)->require_par);
}

static const char *set_scope(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = check_place(cmd, mconfig, IN_CLIENT | IN_RESOURCE);

    if (err)
        return err;
    if (!oas_scope_valid(arg, 1))
        return apr_psprintf(cmd->pool, "OAuthASScope: invalid scope '%s'", arg);
    list_add(cmd->pool, dc->client ? &dc->client->scopes : &dc->resource->scopes, arg);
    return NULL;
}

static const char *set_client_flag(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = check_place(cmd, mconfig, IN_CLIENT);

    if (err)
        return err;
    return parse_flag(cmd, arg, (int *)((char *)dc->client + (apr_size_t)cmd->info));
}

static int is_password_hash(const char *s)
{
    static const char *const prefixes[] = {"$apr1$", "$2y$", "$2a$", "$2b$", "{SHA}",
                                           "$1$",    "$5$",  "$6$",  NULL};
    int i;

    for (i = 0; prefixes[i]; i++) {
        if (!strncmp(s, prefixes[i], strlen(prefixes[i])))
            return 1;
    }
    return 0;
}

static const char *set_client_secret(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = check_place(cmd, mconfig, IN_CLIENT);

    if (err)
        return err;
    if (!strcmp(arg, "none")) {
        dc->client->secret = NULL;
        return NULL;
    }
    if (!*arg)
        return "OAuthASClientSecret: empty secret (use 'none' for a public client)";
    dc->client->secret = arg;
    dc->client->secret_hashed = is_password_hash(arg);
    return NULL;
}

static const char *set_redirect_uri(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = check_place(cmd, mconfig, IN_CLIENT);

    if (err)
        return err;
    if (!oas_uri_valid_redirect(&err, cmd->pool, arg))
        return apr_psprintf(cmd->pool, "OAuthASRedirectURI '%s': %s", arg, err);
    list_add(cmd->pool, &dc->client->redirect_uris, arg);
    return NULL;
}

static const char *set_audience(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = check_place(cmd, mconfig, IN_CLIENT);

    if (err)
        return err;
    list_add(cmd->pool, &dc->client->audiences, arg);
    return NULL;
}

static const char *set_client_name(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = check_place(cmd, mconfig, IN_CLIENT);

    if (err)
        return err;
    dc->client->name = arg;
    return NULL;
}

static const char *set_auth_method(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = check_place(cmd, mconfig, IN_CLIENT);
    int bit;

    if (err)
        return err;
    if (!strcmp(arg, "client_secret_basic"))
        bit = OAS_AUTH_BASIC;
    else if (!strcmp(arg, "client_secret_post"))
        bit = OAS_AUTH_POST;
    else if (!strcmp(arg, "none"))
        bit = OAS_AUTH_NONE;
    else
        return apr_psprintf(cmd->pool,
                            "OAuthASAuthMethod: unknown method '%s' (client_secret_basic, "
                            "client_secret_post or none)",
                            arg);
    dc->client->auth_methods = (dc->client->auth_methods == OAS_UNSET ? 0 : dc->client->auth_methods) | bit;
    return NULL;
}

static const char *set_grant_type(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = check_place(cmd, mconfig, IN_CLIENT);
    int bit;

    if (err)
        return err;
    if (!strcmp(arg, "authorization_code"))
        bit = OAS_GRANT_CODE;
    else if (!strcmp(arg, "refresh_token"))
        bit = OAS_GRANT_REFRESH;
    else if (!strcmp(arg, "client_credentials"))
        bit = OAS_GRANT_CC;
    else
        return apr_psprintf(cmd->pool,
                            "OAuthASGrantType: unsupported grant type '%s' (authorization_code, "
                            "refresh_token or client_credentials)",
                            arg);
    dc->client->grant_types = (dc->client->grant_types == OAS_UNSET ? 0 : dc->client->grant_types) | bit;
    return NULL;
}

/* ---- the blocks ---- */

/* Directives that may stand inside each kind of block; anything else is refused, so a
 * misplaced ServerName or a typo does not silently configure the server instead. */
static const char *const client_directives[] = {
    "OAuthASClientSecret", "OAuthASRedirectURI", "OAuthASScope",
    "OAuthASAudience",     "OAuthASAuthMethod",  "OAuthASGrantType",
    "OAuthASRequirePAR",   "OAuthASRequirePKCE", "OAuthASConsent",
    "OAuthASRefreshTokenRotation", "OAuthASAccessTokenLifetime",
    "OAuthASRefreshTokenLifetime", "OAuthASClientName", NULL};
static const char *const resource_directives[] = {"OAuthASScope", "OAuthASAccessTokenLifetime",
                                                  NULL};

static const char *block_arg(cmd_parms *cmd, const char *arg, const char *block)
{
    const char *end = ap_strrchr_c(arg, '>');
    char *id;

    if (!end)
        return NULL;
    id = apr_pstrndup(cmd->pool, arg, end - arg);
    id = ap_getword_conf(cmd->pool, (const char **)&id);
    return *id ? id : NULL;
}

static const char *walk_block(cmd_parms *cmd, oas_dir_conf_t *dc, const char *block,
                              const char *id, const char *const *allowed)
{
    ap_directive_t *d;
    ap_conf_vector_t *cv;
    int i, ok;

    for (d = cmd->directive->first_child; d; d = d->next) {
        for (ok = 0, i = 0; allowed[i] && !ok; i++)
            ok = !strcasecmp(d->directive, allowed[i]);
        if (!ok) {
            return apr_psprintf(cmd->pool, "%s %s> at %s:%d: directive %s is not allowed here",
                                block, id, d->filename, d->line_num, d->directive);
        }
    }
    cv = ap_create_per_dir_config(cmd->pool);
    ap_set_module_config(cv, &oauth_as_module, dc);
    return ap_walk_config(cmd->directive->first_child, cmd, cv);
}

static const char *client_block(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_issuer_t *sc = srv(cmd);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_LOC_FILE);
    const char *id = block_arg(cmd, arg, "<OAuthASClient");
    oas_dir_conf_t *dc;
    oas_client_t *c;

    if (err)
        return err;
    if (!id)
        return "<OAuthASClient> needs a client id: <OAuthASClient my-app>";
    if (!sc->clients)
        sc->clients = apr_hash_make(cmd->pool);
    if (apr_hash_get(sc->clients, id, APR_HASH_KEY_STRING))
        return apr_psprintf(cmd->pool, "<OAuthASClient %s>: duplicate client id", id);

    c = apr_pcalloc(cmd->pool, sizeof(*c));
    c->id = id;
    c->name = id;
    c->auth_methods = c->grant_types = OAS_UNSET;
    c->require_par = c->require_pkce = c->consent = c->rt_rotation = OAS_UNSET;
    c->at_ttl = c->rt_ttl = OAS_UNSET;
    c->defined_at = where(cmd);
    dc = apr_pcalloc(cmd->pool, sizeof(*dc));
    dc->client = c;
    if ((err = walk_block(cmd, dc, "<OAuthASClient", id, client_directives)))
        return err;

    /* resolve defaults and check what only the whole block can tell */
    if (c->auth_methods == OAS_UNSET)
        c->auth_methods = c->secret ? (OAS_AUTH_BASIC | OAS_AUTH_POST) : OAS_AUTH_NONE;
    if (c->grant_types == OAS_UNSET)
        c->grant_types = OAS_GRANT_CODE;
    if (!c->secret && (c->auth_methods & (OAS_AUTH_BASIC | OAS_AUTH_POST))) {
        return apr_psprintf(cmd->pool,
                            "<OAuthASClient %s>: OAuthASAuthMethod client_secret_basic/post "
                            "needs OAuthASClientSecret; a public client uses 'none'",
                            id);
    }
    if (c->secret && (c->auth_methods & OAS_AUTH_NONE)) {
        return apr_psprintf(cmd->pool,
                            "<OAuthASClient %s>: a public client (OAuthASAuthMethod none) must "
                            "not have an OAuthASClientSecret",
                            id);
    }
    if ((c->grant_types & OAS_GRANT_CODE) && !c->redirect_uris) {
        return apr_psprintf(cmd->pool,
                            "<OAuthASClient %s>: the authorization_code grant needs at least "
                            "one OAuthASRedirectURI",
                            id);
    }
    if (!c->secret) {
        if ((c->grant_types & OAS_GRANT_CC))
            return apr_psprintf(cmd->pool,
                                "<OAuthASClient %s>: OAuthASGrantType client_credentials needs "
                                "a confidential client (OAuthASClientSecret)",
                                id);
        if (c->require_pkce == 0)
            return apr_psprintf(cmd->pool,
                                "<OAuthASClient %s>: OAuthASRequirePKCE Off is not allowed for a "
                                "public client",
                                id);
        c->require_pkce = 1;
        c->rt_rotation = 1; /* RFC 9700 §4.14.2: public clients always rotate */
    }
    if (c->require_pkce == OAS_UNSET)
        c->require_pkce = 1;
    if (c->consent == OAS_UNSET)
        c->consent = 1;
    if (c->rt_rotation == OAS_UNSET)
        c->rt_rotation = 0;
    apr_hash_set(sc->clients, id, APR_HASH_KEY_STRING, c);
    return NULL;
}

static const char *resource_block(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_issuer_t *sc = srv(cmd);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_LOC_FILE);
    const char *id = block_arg(cmd, arg, "<OAuthASResource");
    oas_dir_conf_t *dc;
    oas_resource_t *r;

    if (err)
        return err;
    if (!id)
        return "<OAuthASResource> needs a resource identifier: <OAuthASResource urn:my-api>";
    if (!sc->resources)
        sc->resources = apr_hash_make(cmd->pool);
    if (apr_hash_get(sc->resources, id, APR_HASH_KEY_STRING))
        return apr_psprintf(cmd->pool, "<OAuthASResource %s>: duplicate resource", id);
    r = apr_pcalloc(cmd->pool, sizeof(*r));
    r->id = id;
    r->at_ttl = OAS_UNSET;
    r->defined_at = where(cmd);
    dc = apr_pcalloc(cmd->pool, sizeof(*dc));
    dc->resource = r;
    if ((err = walk_block(cmd, dc, "<OAuthASResource", id, resource_directives)))
        return err;
    apr_hash_set(sc->resources, id, APR_HASH_KEY_STRING, r);
    return NULL;
}

#define OFF_S(f) ((void *)APR_OFFSETOF(oas_issuer_t, f))
#define OFF_C(f) ((void *)APR_OFFSETOF(oas_client_t, f))

const command_rec oas_mod_cmds[] = {
    AP_INIT_TAKE1("OAuthASIssuer", set_issuer, NULL, RSRC_CONF,
                  "issuer identifier (https URL); switches the AS on for this server"),
    AP_INIT_TAKE12("OAuthASSigningKey", set_signing_key, NULL, RSRC_CONF,
                   "PEM private key file (RSA, EC P-256 or Ed25519) and an optional kid"),
    AP_INIT_TAKE12("OAuthASStore", set_store, NULL, RSRC_CONF,
                   "short-lived and long-lived store: shm or dbd"),
    AP_INIT_TAKE1("OAuthASStoreSize", set_server_int, OFF_S(store_size), RSRC_CONF,
                  "capacity of the shared-memory store in entries"),
    AP_INIT_TAKE1("OAuthASCodeLifetime", set_server_int, OFF_S(code_ttl), RSRC_CONF,
                  "authorization code lifetime in seconds"),
    AP_INIT_TAKE1("OAuthASRequestURILifetime", set_server_int, OFF_S(request_uri_ttl), RSRC_CONF,
                  "PAR request_uri lifetime in seconds"),
    AP_INIT_TAKE1("OAuthASIDTokenLifetime", set_server_int, OFF_S(idt_ttl), RSRC_CONF,
                  "ID token lifetime in seconds"),
    AP_INIT_TAKE1("OAuthASMaxBody", set_server_int, OFF_S(max_body), RSRC_CONF,
                  "largest accepted form body in bytes"),
    AP_INIT_TAKE12("OAuthASClientAuthFailureLimit", set_authfail_limit, NULL, RSRC_CONF,
                   "failed client authentications per client and address within a window "
                   "(seconds, default 60) before 429; 0 = off"),
    AP_INIT_TAKE1("OAuthASRefreshTokenGrace", set_server_int_or_off, OFF_S(rt_grace), RSRC_CONF,
                  "seconds a rotated-out refresh token of a confidential client may be "
                  "retried (default 30; 0 = off)"),
    AP_INIT_TAKE1("OAuthASClientQuota", set_server_int_or_off, OFF_S(client_quota), RSRC_CONF,
                  "authorization requests one client may start within the request_uri/code "
                  "lifetime (default 0 = no limit)"),
    AP_INIT_TAKE1("OAuthASAccessTokenLifetime", set_lifetime, NULL, RSRC_CONF,
                  "access token lifetime in seconds"),
    AP_INIT_TAKE1("OAuthASRefreshTokenLifetime", set_lifetime, NULL, RSRC_CONF,
                  "refresh token lifetime in seconds"),
    AP_INIT_TAKE1("OAuthASRequirePAR", set_require_par, NULL, RSRC_CONF,
                  "On: authorization requests must come through PAR"),
    AP_INIT_TAKE1("OAuthASConsentTemplate", set_consent_template, NULL, RSRC_CONF,
                  "consent page template file"),
    AP_INIT_TAKE2("OAuthASClaim", set_claim, NULL, RSRC_CONF,
                  "a user claim: name and ap_expr string"),
    AP_INIT_TAKE2("OAuthASScopeDescription", set_scope_description, NULL, RSRC_CONF,
                  "text shown for a scope on the consent page"),
    AP_INIT_TAKE1("OAuthASEndpoint", set_endpoint, NULL, RSRC_CONF | ACCESS_CONF,
                  "the endpoint this <Location> serves: authorize, par, token, metadata, "
                  "jwks, userinfo, revoke or introspect"),
    AP_INIT_RAW_ARGS("<OAuthASClient", client_block, NULL, RSRC_CONF,
                     "a client: <OAuthASClient client-id> ... </OAuthASClient>"),
    AP_INIT_RAW_ARGS("<OAuthASResource", resource_block, NULL, RSRC_CONF,
                     "a resource (audience): <OAuthASResource urn:api> ... </OAuthASResource>"),
    AP_INIT_TAKE1("OAuthASClientSecret", set_client_secret, NULL, RSRC_CONF,
                  "client secret: plaintext or an htpasswd-style hash; none = public client"),
    AP_INIT_TAKE1("OAuthASRedirectURI", set_redirect_uri, NULL, RSRC_CONF,
                  "a registered redirect URI (exact match)"),
    AP_INIT_ITERATE("OAuthASScope", set_scope, NULL, RSRC_CONF,
                    "scopes a client may ask for, or a resource offers"),
    AP_INIT_ITERATE("OAuthASAudience", set_audience, NULL, RSRC_CONF,
                    "resources a client may ask for"),
    AP_INIT_ITERATE("OAuthASAuthMethod", set_auth_method, NULL, RSRC_CONF,
                    "client_secret_basic, client_secret_post or none"),
    AP_INIT_ITERATE("OAuthASGrantType", set_grant_type, NULL, RSRC_CONF,
                    "authorization_code, refresh_token, client_credentials"),
    AP_INIT_TAKE1("OAuthASRequirePKCE", set_client_flag, OFF_C(require_pkce), RSRC_CONF,
                  "On (default): the client must use PKCE S256"),
    AP_INIT_TAKE1("OAuthASConsent", set_client_flag, OFF_C(consent), RSRC_CONF,
                  "Off: first-party client, no consent page"),
    AP_INIT_TAKE1("OAuthASRefreshTokenRotation", set_client_flag, OFF_C(rt_rotation), RSRC_CONF,
                  "On: rotate refresh tokens of this confidential client"),
    AP_INIT_TAKE1("OAuthASClientName", set_client_name, NULL, RSRC_CONF,
                  "the client's name shown on the consent page"),
    {NULL}};

/* ---- whole-configuration checks (check_config: runs for `apache2 -t` too) ---- */

static int fail(server_rec *s, const char *msg)
{
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL, OAS_LOGNO(00010) "%s (%s:%d)",
                 msg, s->defn_name ? s->defn_name : "main server", s->defn_line_number);
    return 1;
}

static void resolve_defaults(oas_issuer_t *c)
{
#define DFLT(f, v)                                                                               \
    if (c->f == OAS_UNSET)                                                                     \
    c->f = (v)
    DFLT(store_short, OAS_STORE_SHM);
    DFLT(store_long, c->store_short);
    DFLT(store_size, OAS_DEFAULT_STORE_SIZE);
    DFLT(code_ttl, OAS_DEFAULT_CODE_TTL);
    DFLT(request_uri_ttl, OAS_DEFAULT_REQUEST_URI_TTL);
    DFLT(at_ttl, OAS_DEFAULT_ACCESS_TOKEN_TTL);
    DFLT(rt_ttl, OAS_DEFAULT_REFRESH_TOKEN_TTL);
    DFLT(idt_ttl, OAS_DEFAULT_ID_TOKEN_TTL);
    DFLT(require_par, 0);
    DFLT(max_body, OAS_DEFAULT_MAX_BODY);
    DFLT(authfail_limit, OAS_DEFAULT_AUTHFAIL_LIMIT);
    DFLT(authfail_window, OAS_DEFAULT_AUTHFAIL_WINDOW);
    DFLT(rt_grace, OAS_DEFAULT_RT_GRACE);
    DFLT(client_quota, 0);
#undef DFLT
}

static int check_issuer(server_rec *s, oas_issuer_t *c, apr_pool_t *ptemp)
{
    apr_hash_index_t *hi;
    int i, bad = 0, ep_used = 0;

    for (i = OAS_EP_NONE + 1; i < OAS_EP_COUNT; i++)
        ep_used |= c->endpoints[i] != NULL;
    if (!c->issuer) {
        if (c->clients || c->keys || ep_used)
            return fail(s, "OAuthASIssuer is required where clients, keys or OAuthASEndpoint "
                           "are configured");
        return 0;
    }
    if (!c->keys || c->keys->nelts == 0)
        bad |= fail(s, "OAuthASSigningKey is required: no signing key configured");
    for (hi = c->clients ? apr_hash_first(ptemp, c->clients) : NULL; hi; hi = apr_hash_next(hi)) {
        const oas_client_t *cl = apr_hash_this_val(hi);
        for (i = 0; cl->audiences && i < cl->audiences->nelts; i++) {
            const char *aud = APR_ARRAY_IDX(cl->audiences, i, const char *);
            if (!oas_issuer_resource(c, aud)) {
                bad |= fail(s, apr_psprintf(ptemp,
                                            "OAuthASAudience %s in <OAuthASClient %s> (%s): no "
                                            "<OAuthASResource %s> declares this audience",
                                            aud, cl->id, cl->defined_at, aud));
            }
        }
        c->has_public_clients |= oas_client_is_public(cl);
    }
    return bad;
}

int oas_mod_config_check(server_rec *s, apr_pool_t *ptemp)
{
    int bad = 0;

    for (; s; s = s->next) {
        oas_issuer_t *c = oas_mod_issuer(s);
        resolve_defaults(c);
        bad |= check_issuer(s, c, ptemp);
    }
    return bad;
}

/* ---- start-up preparation (post_config) ---- */

apr_status_t oas_mod_config_prepare(server_rec *s, apr_pool_t *pconf)
{
    for (; s; s = s->next) {
        oas_issuer_t *c = oas_mod_issuer(s);
        int i;

        if (!c->issuer || c->metadata_json)
            continue; /* off, or shared with the main server and done already */
        c->id_token_key = APR_ARRAY_IDX(c->keys, 0, oas_key_t *);
        for (i = 0; i < c->keys->nelts; i++) {
            const oas_key_t *k = APR_ARRAY_IDX(c->keys, i, oas_key_t *);
            if (k->alg == OAS_ALG_RS256) { /* OIDC's default algorithm wins for ID tokens */
                c->id_token_key = k;
                break;
            }
        }
        if (!c->consent_tmpl) {
            const char *tmpl = oas_consent_default_template(), *err;
            oas_tmpl_t *t;
            if (oas_tmpl_parse(&t, &err, pconf, tmpl, strlen(tmpl)) != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, OAS_LOGNO(00012)
                             "the built-in consent template does not parse: %s", err);
                return APR_EGENERAL;
            }
            c->consent_tmpl = t;
        }
        c->jwks_json = oas_keys_jwks_json(pconf, c->keys);
        c->metadata_json = oas_metadata_json(pconf, c);
        if (!c->jwks_json || !c->metadata_json) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, OAS_LOGNO(00011)
                         "cannot build the metadata or JWKS document for %s", c->issuer);
            return APR_EGENERAL;
        }
    }
    return APR_SUCCESS;
}
