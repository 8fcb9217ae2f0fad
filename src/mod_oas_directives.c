/* mod_oauth_as: the server-wide directives and the command table (the blocks and the
 * directives inside them are in src/mod_oas_blocks.c). Every directive is validated when it
 * is read, so a fault names its directive and line; what needs the whole configuration is
 * checked in the core (src/oas_conf_check.c). */
#include <errno.h>
#include <limits.h>

#include <ap_expr.h>
#include <apr_file_io.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <http_core.h>

#include "mod_oas_directives.h"
#include "mod_oas_resource.h"
#include "oas_authz.h"
#include "oas_cors.h"
#include "oas_html.h"
#include "oas_keys.h"
#include "oas_logout.h"
#include "oas_store_shm.h"

/* ---- helpers ---- */

oas_issuer_t *oas_cmd_issuer(cmd_parms *cmd)
{
    return oas_mod_issuer(cmd->server);
}

const char *oas_cmd_check_place(cmd_parms *cmd, void *mconfig, int allowed)
{
    const oas_dir_conf_t *dc = mconfig;
    const char *err;

    if (dc && dc->client) {
        return (allowed & OAS_IN_CLIENT)
                   ? NULL
                   : apr_pstrcat(cmd->pool, cmd->cmd->name,
                                 " is not allowed inside <" OAS_DIR_CLIENT ">", NULL);
    }
    if (dc && dc->resource) {
        return (allowed & OAS_IN_RESOURCE)
                   ? NULL
                   : apr_pstrcat(cmd->pool, cmd->cmd->name,
                                 " is not allowed inside <" OAS_DIR_RESOURCE ">", NULL);
    }
    if (!(allowed & OAS_IN_SERVER)) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, " is only allowed inside ",
                           (allowed & OAS_IN_RESOURCE) ? "<" OAS_DIR_CLIENT
                                                         "> or <" OAS_DIR_RESOURCE ">"
                                                       : "<" OAS_DIR_CLIENT ">",
                           NULL);
    }
    if ((err = ap_check_cmd_context(cmd, NOT_IN_DIR_LOC_FILE)) != NULL)
        return err;
    return NULL;
}

const char *oas_cmd_parse_positive(cmd_parms *cmd, const char *arg, apr_int64_t max, int *out)
{
    char *end = NULL;
    apr_int64_t v;

    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (errno || end == arg || *end || v < 1 || v > max) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' is not a positive number (1 to %" APR_INT64_T_FMT ")",
                            cmd->cmd->name, arg, max);
    }
    *out = (int)v;
    return NULL;
}

const char *oas_cmd_parse_flag(cmd_parms *cmd, const char *arg, int *out)
{
    if (!strcasecmp(arg, "on"))
        *out = 1;
    else if (!strcasecmp(arg, "off"))
        *out = 0;
    else
        return apr_psprintf(cmd->pool, "%s must be On or Off, not '%s'", cmd->cmd->name, arg);
    return NULL;
}

/* ---- server-level directives ---- */

static const char *set_issuer(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_issuer_t *sc = oas_cmd_issuer(cmd);
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER);
    apr_uri_t u;

    if (err)
        return err;
    if (apr_uri_parse(cmd->pool, arg, &u) != APR_SUCCESS || !u.scheme || !u.hostname ||
        !*u.hostname) {
        return apr_psprintf(cmd->pool, OAS_DIR_ISSUER ": '%s' is not an absolute URL", arg);
    }
    if (u.query || u.fragment || strchr(arg, '?') || strchr(arg, '#')) {
        return apr_psprintf(cmd->pool,
                            OAS_DIR_ISSUER ": '%s' must not have a query or fragment (RFC 8414 §2)",
                            arg);
    }
    if (strcasecmp(u.scheme, "https")) {
        if (strcasecmp(u.scheme, "http") ||
            (strcasecmp(u.hostname, "localhost") && strcmp(u.hostname, "127.0.0.1"))) {
            return apr_psprintf(cmd->pool,
                                OAS_DIR_ISSUER ": '%s' must be an https URL (http is allowed "
                                               "only for localhost and 127.0.0.1)",
                                arg);
        }
    }
    /* the issuer is compared byte for byte by clients: a trailing slash would differ */
    if (arg[strlen(arg) - 1] == '/' && (!u.path || strlen(u.path) > 1)) {
        return apr_psprintf(cmd->pool, OAS_DIR_ISSUER ": '%s' must not end with a slash", arg);
    }
    sc->issuer =
        (u.path && !strcmp(u.path, "/")) ? apr_pstrndup(cmd->pool, arg, strlen(arg) - 1) : arg;
    sc->issuer_origin = apr_pstrcat(cmd->pool, u.scheme, "://", u.hostinfo, NULL);
    return NULL;
}

static const char *set_signing_key(cmd_parms *cmd, void *mconfig, const char *file, const char *kid,
                                   const char *alg_name)
{
    oas_issuer_t *sc = oas_cmd_issuer(cmd);
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER);
    const char *path;
    oas_key_t *key;
    int i, alg = -1;

    if (err)
        return err;
    path = ap_server_root_relative(cmd->pool, file);
    if (!path)
        return apr_psprintf(cmd->pool, OAS_DIR_SIGNING_KEY ": invalid path '%s'", file);
    if (alg_name && ((alg = oas_alg_from_name(alg_name)) < 0 || alg == OAS_ALG_HS256))
        return apr_psprintf(cmd->pool,
                            OAS_DIR_SIGNING_KEY " %s: unknown algorithm '%s' (RS256, PS256, "
                                                "ES256 or EdDSA)",
                            file, alg_name);
    if (oas_key_load(&key, &err, cmd->pool, path, kid, alg) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, OAS_DIR_SIGNING_KEY " %s: %s", file, err);
    if (!sc->keys)
        sc->keys = apr_array_make(cmd->pool, 2, sizeof(oas_key_t *));
    for (i = 0; i < sc->keys->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(sc->keys, i, oas_key_t *)->kid, key->kid))
            return apr_psprintf(cmd->pool, OAS_DIR_SIGNING_KEY " %s: duplicate kid '%s'", file,
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
        return apr_psprintf(cmd->pool, OAS_DIR_STORE ": unknown store '%s' (shm or dbd)", arg);
    return NULL;
}

/* OAuthASClientSigningAlgs: each word one algorithm; the first word of a line replaces the
 * default, or what an earlier line set (the directive's lines do not add up). Configuration
 * is read by one thread: the line of the last word seen is remembered here. */
static const char *set_client_signing_algs(cmd_parms *cmd, void *mconfig, const char *word)
{
    static const ap_directive_t *line;
    oas_issuer_t *sc = oas_cmd_issuer(cmd);
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER);
    int alg;

    if (err)
        return err;
    alg = oas_alg_from_name(word);
    if (alg < 0 || !(OAS_ALGBIT(alg) & OAS_ALGBITS_ASYM))
        return apr_psprintf(
            cmd->pool, OAS_DIR_CLIENT_SIGNING_ALGS " '%s': %s", word,
            !strcmp(word, "none") ? "unsigned JWTs are never accepted"
            : !strncmp(word, "HS", 2)
                ? "a MAC is not a signature (client_secret_jwt accepts HS256 on its own)"
                : "unknown algorithm (PS256, ES256, EdDSA or RS256)");
    if (sc->client_signing_algs == OAS_UNSET || line != cmd->directive)
        sc->client_signing_algs = 0;
    line = cmd->directive;
    sc->client_signing_algs |= (int)OAS_ALGBIT(alg);
    return NULL;
}

static const char *set_store(cmd_parms *cmd, void *mconfig, const char *shortk, const char *longk)
{
    oas_issuer_t *sc = oas_cmd_issuer(cmd);
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER);

    if (err || (err = parse_store_kind(cmd, shortk, &sc->store_short)))
        return err;
    return parse_store_kind(cmd, longk ? longk : shortk, &sc->store_long);
}

/* The int-valued server directives share one handler; the offset comes from cmd->info. */
static const char *set_server_int(cmd_parms *cmd, void *mconfig, const char *arg)
{
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER);
    int *field = (int *)((char *)oas_cmd_issuer(cmd) + (apr_size_t)cmd->info);
    apr_int64_t max = OAS_MAX_LIFETIME;

    if (err)
        return err;
    if (!strcmp(cmd->cmd->name, OAS_DIR_MAX_BODY))
        max = 1024 * 1024;
    else if (!strcmp(cmd->cmd->name, OAS_DIR_CONSENT_LIFETIME))
        max = 3600; /* a pending consent holds store space: minutes, not hours */
    return oas_cmd_parse_positive(cmd, arg, max, field);
}

/* OAuthASStoreSize: a size with a unit (512K, 64M, 1G: bytes of the shared-memory region,
 * kept as OAS_STORE_SIZE_KIB), or a bare number of entries (Part one's meaning, the region it
 * always had). The size is checked here so that `apachectl -t` names a store too small or too
 * large to lay out. */
static const char *set_store_size(cmd_parms *cmd, void *mconfig, const char *arg)
{
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER);
    apr_size_t len = strlen(arg);
    apr_uint64_t unit = 0, v;
    char *end = NULL;

    if (err)
        return err;
    if (len > 1 && strchr("kKmMgG", arg[len - 1]))
        unit = strchr("kK", arg[len - 1]) ? 1 : strchr("mM", arg[len - 1]) ? 1024 : 1024 * 1024;
    if (!unit)
        return oas_cmd_parse_positive(cmd, arg, OAS_SHM_MAX_ENTRIES,
                                      &oas_cmd_issuer(cmd)->store_size);
    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (errno || end != arg + len - 1 || !apr_isdigit(*arg) || v > INT_MAX / unit ||
        oas_shm_store_entries_in((apr_size_t)(v * unit * 1024)) == 0)
        return apr_psprintf(cmd->pool,
                            "%s: '%s' is not a store size from %uK to %" APR_UINT64_T_FMT
                            "M (a unit K, M or G), nor a number of entries (1 to %u)",
                            cmd->cmd->name, arg, OAS_SHM_MIN_BYTES / 1024,
                            oas_shm_store_max_bytes() / (1024 * 1024), OAS_SHM_MAX_ENTRIES);
    oas_cmd_issuer(cmd)->store_size = OAS_STORE_SIZE_KIB((int)(v * unit));
    return NULL;
}

/* OAuthASRefreshTokenGrace SECONDS and the quotas (OAuthAS{Client,User,Address}Quota N): a
 * number, or 0 for off. */
static const char *set_server_int_or_off(cmd_parms *cmd, void *mconfig, const char *arg)
{
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER);
    int *field = (int *)((char *)oas_cmd_issuer(cmd) + (apr_size_t)cmd->info);

    if (err)
        return err;
    if (!strcmp(arg, "0")) {
        *field = 0;
        return NULL;
    }
    return oas_cmd_parse_positive(
        cmd, arg, !strcmp(cmd->cmd->name, OAS_DIR_RT_GRACE) ? 3600 : 100000000, field);
}

/* OAuthASClientAuthFailureLimit N [SECONDS] (SECURITY.md C07); N = 0 switches it off. */
static const char *set_authfail_limit(cmd_parms *cmd, void *mconfig, const char *n,
                                      const char *secs)
{
    oas_issuer_t *sc = oas_cmd_issuer(cmd);
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER);

    if (err)
        return err;
    if (!strcmp(n, "0"))
        sc->authfail_limit = 0;
    else if ((err = oas_cmd_parse_positive(cmd, n, 1000000, &sc->authfail_limit)))
        return err;
    if (secs)
        return oas_cmd_parse_positive(cmd, secs, 86400, &sc->authfail_window);
    return NULL;
}

/* A page template (OAuthASConsentTemplate, OAuthASAccountTemplate,
 * OAuthASLogoutTemplate): FILE read and parsed
 * into *pt, or why not, naming the directive. */
static const char *read_template(cmd_parms *cmd, void *mconfig, const char *dir,
                                 const char *file, const oas_tmpl_t **pt)
{
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER);
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
        return apr_psprintf(cmd->pool, "%s: cannot read '%s'", dir, file);
    }
    if (fi.size > 1024 * 1024)
        return apr_psprintf(cmd->pool, "%s: '%s' is larger than 1 MiB", dir, file);
    n = (apr_size_t)fi.size;
    text = apr_palloc(cmd->temp_pool, n + 1);
    if (apr_file_read_full(f, text, n, &n) != APR_SUCCESS && n != (apr_size_t)fi.size)
        return apr_psprintf(cmd->pool, "%s: cannot read '%s'", dir, file);
    text[n] = '\0';
    apr_file_close(f);
    if (oas_tmpl_parse(&t, &err, cmd->pool, text, n) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "%s %s: %s", dir, file, err);
    *pt = t;
    return NULL;
}

/* OAuthASLogoutURL: an https URL, or a path on this server (the site's logout handler) */
static const char *set_logout_url(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_issuer_t *sc = oas_cmd_issuer(cmd);
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER);

    if (err)
        return err;
    if (!oas_logout_url_valid(cmd->temp_pool, arg))
        return apr_psprintf(cmd->pool,
                            OAS_DIR_LOGOUT_URL " '%s': not an https URL or a path starting "
                                               "with / (without fragment)",
                            arg);
    sc->logout_url = arg;
    return NULL;
}

static const char *set_consent_template(cmd_parms *cmd, void *mconfig, const char *file)
{
    oas_issuer_t *sc = oas_cmd_issuer(cmd);
    const char *err = read_template(cmd, mconfig, OAS_DIR_CONSENT_TEMPLATE, file,
                                    &sc->consent_tmpl);

    if (!err)
        sc->consent_template_path = ap_server_root_relative(cmd->pool, file);
    return err;
}

static const char *set_account_template(cmd_parms *cmd, void *mconfig, const char *file)
{
    return read_template(cmd, mconfig, OAS_DIR_ACCOUNT_TEMPLATE, file,
                         &oas_cmd_issuer(cmd)->account_tmpl);
}

static const char *set_logout_template(cmd_parms *cmd, void *mconfig, const char *file)
{
    oas_issuer_t *sc = oas_cmd_issuer(cmd);
    const char *err = read_template(cmd, mconfig, OAS_DIR_LOGOUT_TEMPLATE, file,
                                    &sc->logout_tmpl);

    if (!err)
        sc->logout_template_path = ap_server_root_relative(cmd->pool, file);
    return err;
}

static const char *set_claim(cmd_parms *cmd, void *mconfig, const char *name, const char *expr)
{
    oas_issuer_t *sc = oas_cmd_issuer(cmd);
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER);
    oas_claim_t *c;
    ap_expr_info_t *info;
    static const char *const reserved[] = {"iss", "sub",       "aud",       "exp",   "iat",
                                           "nbf", "jti",       "auth_time", "nonce", "at_hash",
                                           "azp", "client_id", "scope",     "sid",
                                           NULL};
    int i;

    if (err)
        return err;
    for (i = 0; reserved[i]; i++) {
        if (!strcmp(name, reserved[i]))
            return apr_psprintf(cmd->pool, OAS_DIR_CLAIM ": '%s' is a reserved claim", name);
    }
    info = ap_expr_parse_cmd(cmd, expr, AP_EXPR_FLAG_STRING_RESULT, &err, NULL);
    if (err)
        return apr_psprintf(cmd->pool, OAS_DIR_CLAIM " %s: cannot parse expression: %s", name, err);
    if (!sc->claims)
        sc->claims = apr_array_make(cmd->pool, 4, sizeof(oas_claim_t));
    for (i = 0; i < sc->claims->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(sc->claims, i, oas_claim_t).name, name))
            return apr_psprintf(cmd->pool, OAS_DIR_CLAIM ": claim '%s' is defined twice", name);
    }
    c = apr_array_push(sc->claims);
    c->name = name;
    c->expr = info;
    return NULL;
}

static const char *set_scope_description(cmd_parms *cmd, void *mconfig, const char *scope,
                                         const char *text)
{
    oas_issuer_t *sc = oas_cmd_issuer(cmd);
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER);

    if (err)
        return err;
    if (!oas_scope_valid(scope, 1))
        return apr_psprintf(cmd->pool, OAS_DIR_SCOPE_DESC ": invalid scope '%s'", scope);
    if (!sc->scope_descriptions)
        sc->scope_descriptions = apr_table_make(cmd->pool, 8);
    apr_table_set(sc->scope_descriptions, scope, text);
    return NULL;
}

/* OAuthASCORSOrigin ORIGIN...|*: the origins browser-based clients call from */
static const char *set_cors_origin(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_issuer_t *sc = oas_cmd_issuer(cmd);
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER);

    if (err)
        return err;
    if (!oas_cors_origin_valid(arg))
        return apr_psprintf(cmd->pool,
                            OAS_DIR_CORS_ORIGIN ": '%s' is not * or an origin "
                                                "(https://host[:port], lower case, no path)",
                            arg);
    if (!sc->cors_origins)
        sc->cors_origins = apr_array_make(cmd->pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(sc->cors_origins, const char *) = arg;
    return NULL;
}

static const char *set_endpoint(cmd_parms *cmd, void *mconfig, const char *kind)
{
    oas_dir_conf_t *dc = mconfig;
    oas_issuer_t *sc = oas_cmd_issuer(cmd);
    oas_endpoint_e ep = oas_endpoint_from_name(kind);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIRECTORY | NOT_IN_FILES);

    if (err)
        return err;
    if (ep == OAS_EP_NONE) {
        return apr_psprintf(cmd->pool,
                            OAS_DIR_ENDPOINT ": unknown endpoint kind '%s' (authorize, par, token, "
                                             "metadata, jwks, userinfo, revoke, introspect, "
                                             "resource-metadata, register, account, metrics)",
                            kind);
    }
    if (!cmd->path || dc->client || dc->resource)
        return OAS_DIR_ENDPOINT " must be placed inside <Location>";
    if (cmd->path[0] != '/' || ap_strchr_c(cmd->path, '*') || ap_strchr_c(cmd->path, '?') ||
        ap_strchr_c(cmd->path, '[') || cmd->directive->parent == NULL ||
        strcasecmp(cmd->directive->parent->directive, "<Location")) {
        return OAS_DIR_ENDPOINT " must be placed inside <Location /path> with a plain path "
                                "(no wildcards, no <LocationMatch>)";
    }
    dc->endpoint = ep;
    if (ep == OAS_EP_RESOURCE_METADATA) /* a resource's, not the issuer's */
        oas_mod_resource_endpoint(cmd, dc);
    else if (ep != OAS_EP_METRICS && !sc->endpoints[ep]) /* metrics: the server's, no issuer's */
        sc->endpoints[ep] = cmd->path;
    return NULL;
}

#define OFF_S(f) ((void *)APR_OFFSETOF(oas_issuer_t, f))
#define OFF_C(f) ((void *)APR_OFFSETOF(oas_client_t, f))

const command_rec oas_mod_cmds[] = {
    AP_INIT_TAKE1(OAS_DIR_RESOURCE_ISSUER, oas_cmd_resource_issuer, NULL, ACCESS_CONF,
                  "AuthType oauth-as: the issuer (of this httpd) whose access tokens are accepted"),
    AP_INIT_TAKE1(OAS_DIR_RESOURCE_AUDIENCE, oas_cmd_resource_audience, NULL, ACCESS_CONF,
                  "AuthType oauth-as: the audience (an OAuthASResource of the issuer) tokens "
                  "must be for"),
    AP_INIT_TAKE1(OAS_DIR_ISSUER, set_issuer, NULL, RSRC_CONF,
                  "issuer identifier (https URL); switches the AS on for this server"),
    AP_INIT_TAKE123(OAS_DIR_SIGNING_KEY, set_signing_key, NULL, RSRC_CONF,
                    "PEM private key file (RSA, EC P-256 or Ed25519), an optional kid and an "
                    "optional alg (PS256 for an RSA key)"),
    AP_INIT_ITERATE(OAS_DIR_CLIENT_SIGNING_ALGS, set_client_signing_algs, NULL, RSRC_CONF,
                    "algorithms accepted for JWTs clients sign (PS256 ES256 EdDSA RS256)"),
    AP_INIT_TAKE12(OAS_DIR_STORE, set_store, NULL, RSRC_CONF,
                   "short-lived and long-lived store: shm or dbd"),
    AP_INIT_TAKE1(OAS_DIR_STORE_SIZE, set_store_size, NULL, RSRC_CONF,
                  "size of the shared-memory store: bytes with a unit (64M), or entries"),
    AP_INIT_TAKE1(OAS_DIR_CODE_LIFETIME, set_server_int, OFF_S(code_ttl), RSRC_CONF,
                  "authorization code lifetime in seconds"),
    AP_INIT_TAKE1(OAS_DIR_REQUEST_URI_LIFE, set_server_int, OFF_S(request_uri_ttl), RSRC_CONF,
                  "PAR request_uri lifetime in seconds"),
    AP_INIT_TAKE1(OAS_DIR_ID_TOKEN_LIFE, set_server_int, OFF_S(idt_ttl), RSRC_CONF,
                  "ID token lifetime in seconds"),
    AP_INIT_TAKE1(OAS_DIR_MAX_BODY, set_server_int, OFF_S(max_body), RSRC_CONF,
                  "largest accepted form body in bytes"),
    AP_INIT_TAKE12(OAS_DIR_AUTHFAIL_LIMIT, set_authfail_limit, NULL, RSRC_CONF,
                   "failed client authentications per client and address within a window "
                   "(seconds, default 60) before 429; 0 = off"),
    AP_INIT_TAKE1(OAS_DIR_RT_GRACE, set_server_int_or_off, OFF_S(rt_grace), RSRC_CONF,
                  "seconds a rotated-out refresh token of a confidential client may be "
                  "retried (default 30; 0 = off)"),
    AP_INIT_TAKE1(OAS_DIR_CLIENT_QUOTA, set_server_int_or_off, OFF_S(client_quota), RSRC_CONF,
                  "authorization requests one client may start within the longest "
                  "short-lived lifetime (default 30000; 0 = no limit)"),
    AP_INIT_TAKE1(OAS_DIR_USER_QUOTA, set_server_int_or_off, OFF_S(user_quota), RSRC_CONF,
                  "authorization requests one signed-in user may start within the longest "
                  "short-lived lifetime (default 100; 0 = no limit)"),
    AP_INIT_TAKE1(OAS_DIR_ADDRESS_QUOTA, set_server_int_or_off, OFF_S(address_quota), RSRC_CONF,
                  "pushes of public clients one address (IPv6: its /64) may make within the "
                  "longest short-lived lifetime (default 1000; 0 = no limit)"),
    AP_INIT_TAKE1(OAS_DIR_CONSENT_LIFETIME, set_server_int, OFF_S(consent_ttl), RSRC_CONF,
                  "seconds a consent page stays answerable (default 300)"),
    AP_INIT_TAKE1(OAS_DIR_SESSION_LIFETIME, set_server_int, OFF_S(session_ttl), RSRC_CONF,
                  "seconds an authorization-server session lives (default 86400)"),
    AP_INIT_TAKE1(OAS_DIR_LOGIN_URL, oas_cmd_login_url, NULL, RSRC_CONF,
                  "where the browser signs in again for prompt=login and max_age (a local "
                  "path or an https URL; it gets a return parameter)"),
    AP_INIT_TAKE1(OAS_DIR_AT_LIFETIME, oas_cmd_lifetime, NULL, RSRC_CONF,
                  "access token lifetime in seconds"),
    AP_INIT_TAKE1(OAS_DIR_RT_LIFETIME, oas_cmd_lifetime, NULL, RSRC_CONF,
                  "refresh token lifetime in seconds"),
    AP_INIT_TAKE1(OAS_DIR_REQUIRE_PAR, oas_cmd_require_par, NULL, RSRC_CONF,
                  "On: authorization requests must come through PAR"),
    AP_INIT_TAKE1(OAS_DIR_REQUEST_OBJECT, oas_cmd_request_object, NULL, RSRC_CONF,
                  "signed request objects (JAR): Off, Allowed (default with "
                  "OAuthASClientJWKS) or Required"),
    AP_INIT_TAKE1(OAS_DIR_DPOP, oas_cmd_dpop, NULL, RSRC_CONF,
                  "DPoP proofs at the token endpoint: Off, Allowed (default) or Required"),
    AP_INIT_TAKE1(OAS_DIR_DPOP_NONCE, oas_cmd_dpop, NULL, RSRC_CONF,
                  "On: DPoP proofs must carry a nonce of this server (default Off)"),
    AP_INIT_TAKE1(OAS_DIR_PROFILE, oas_cmd_profile, NULL, RSRC_CONF,
                  "none (default) or fapi2: FAPI 2.0 Security Profile rules for the server "
                  "or the client"),
    AP_INIT_TAKE1(OAS_DIR_CONSENT_TEMPLATE, set_consent_template, NULL, RSRC_CONF,
                  "consent page template file"),
    AP_INIT_TAKE1(OAS_DIR_ACCOUNT_TEMPLATE, set_account_template, NULL, RSRC_CONF,
                  "template file of the user's page of allowed applications"),
    AP_INIT_TAKE1(OAS_DIR_LOGOUT_TEMPLATE, set_logout_template, NULL, RSRC_CONF,
                  "sign-out pages template file (confirmation, signed out)"),
    AP_INIT_TAKE1(OAS_DIR_LOGOUT_URL, set_logout_url, NULL, RSRC_CONF,
                  "where the site's own sign-in is ended after a sign-out here (given the next "
                  "URL in 'return')"),
    AP_INIT_TAKE2(OAS_DIR_CLAIM, set_claim, NULL, RSRC_CONF,
                  "a user claim: name and ap_expr string"),
    AP_INIT_TAKE2(OAS_DIR_SCOPE_DESC, set_scope_description, NULL, RSRC_CONF,
                  "text shown for a scope on the consent page"),
    AP_INIT_TAKE1(OAS_DIR_ENDPOINT, set_endpoint, NULL, RSRC_CONF | ACCESS_CONF,
                  "the endpoint this <Location> serves: authorize, par, token, metadata, "
                  "jwks, userinfo, revoke, introspect, resource-metadata, register, account, "
                  "end-session or metrics"),
    AP_INIT_TAKE1(OAS_DIR_CA_FILE, oas_cmd_ca_file, NULL, RSRC_CONF,
                  "PEM file of the CAs that verify outbound https calls (default: the system's)"),
    AP_INIT_ITERATE(OAS_DIR_CORS_ORIGIN, set_cors_origin, NULL, RSRC_CONF,
                    "origins (https://host[:port]) of browser-based clients allowed to call the "
                    "token, revocation, introspection, userinfo and metadata endpoints, or *"),
    AP_INIT_ITERATE(OAS_DIR_OUTBOUND_ALLOW, oas_cmd_outbound_allow, NULL, RSRC_CONF,
                    "hosts outbound calls may reach although they resolve outside the public "
                    "internet (loopback, private ranges)"),
    AP_INIT_TAKE1(OAS_DIR_REGISTRATION, oas_cmd_registration, NULL, RSRC_CONF,
                  "dynamic client registration (RFC 7591): Off (default), Open or Token"),
    AP_INIT_ITERATE(OAS_DIR_REGISTRATION_TOKEN, oas_cmd_registration_list, (void *)1, RSRC_CONF,
                    "initial access tokens that OAuthASRegistration Token accepts"),
    AP_INIT_ITERATE(OAS_DIR_REGISTRATION_AUDIENCE, oas_cmd_registration_list, NULL, RSRC_CONF,
                    "resources that dynamically registered clients may ask for"),
    AP_INIT_RAW_ARGS(OAS_DIR_REGISTRATION_DEFAULTS, oas_cmd_registration_defaults, NULL,
                     RSRC_CONF, "what dynamic clients may get: scope=\"...\" "
                     "access-token-lifetime=SEC refresh-token-lifetime=SEC client-lifetime=SEC "
                     "max-clients=N"),
    AP_INIT_TAKE1(OAS_DIR_CIMD, oas_cmd_cimd, NULL, RSRC_CONF,
                  "On: a client_id that is an https URL names the client's metadata document, "
                  "fetched from there (default Off)"),
    AP_INIT_RAW_ARGS(OAS_DIR_CLIENT_BLOCK, oas_cmd_client_block, NULL, RSRC_CONF,
                     "a client: <" OAS_DIR_CLIENT " client-id> ... </" OAS_DIR_CLIENT ">"),
    AP_INIT_RAW_ARGS(OAS_DIR_RESOURCE_BLOCK, oas_cmd_resource_block, NULL, RSRC_CONF,
                     "a resource (audience): <" OAS_DIR_RESOURCE " urn:api> ... </" OAS_DIR_RESOURCE
                     ">"),
    AP_INIT_TAKE1(OAS_DIR_CLIENT_SECRET, oas_cmd_client_secret, NULL, RSRC_CONF,
                  "client secret: plaintext or an htpasswd-style hash; none = public client"),
    AP_INIT_TAKE1(OAS_DIR_REDIRECT_URI, oas_cmd_redirect_uri, NULL, RSRC_CONF,
                  "a registered redirect URI (exact match)"),
    AP_INIT_TAKE1(OAS_DIR_POST_LOGOUT_URI, oas_cmd_redirect_uri, (void *)1, RSRC_CONF,
                  "where the client may ask to return after a sign-out (exact match)"),
    AP_INIT_ITERATE(OAS_DIR_SCOPE, oas_cmd_scope, NULL, RSRC_CONF,
                    "scopes a client may ask for, or a resource offers"),
    AP_INIT_ITERATE(OAS_DIR_AUDIENCE, oas_cmd_audience, NULL, RSRC_CONF,
                    "resources a client may ask for"),
    AP_INIT_ITERATE(OAS_DIR_AUTH_METHOD, oas_cmd_auth_method, NULL, RSRC_CONF,
                    "client_secret_basic, client_secret_post, private_key_jwt, "
                    "client_secret_jwt, tls_client_auth, self_signed_tls_client_auth or none"),
    AP_INIT_ITERATE(
        OAS_DIR_GRANT_TYPE, oas_cmd_grant_type, NULL, RSRC_CONF,
        "authorization_code, refresh_token, client_credentials, " OAS_GRANT_TYPE_EXCHANGE),
    AP_INIT_TAKE_ARGV(OAS_DIR_TOKEN_EXCHANGE, oas_cmd_token_exchange, NULL, RSRC_CONF,
                      "SUBJECT-CLIENT-OR-* AUDIENCE...: tokens of that client (* any) may be "
                      "exchanged for these audiences (RFC 8693)"),
    AP_INIT_TAKE1(OAS_DIR_REQUIRE_PKCE, oas_cmd_client_flag, OFF_C(require_pkce), RSRC_CONF,
                  "On (default): the client must use PKCE S256"),
    AP_INIT_TAKE1(OAS_DIR_CONSENT, oas_cmd_client_flag, OFF_C(consent), RSRC_CONF,
                  "Off: first-party client, no consent page"),
    AP_INIT_TAKE1(OAS_DIR_RT_ROTATION, oas_cmd_client_flag, OFF_C(rt_rotation), RSRC_CONF,
                  "On: rotate refresh tokens of this confidential client"),
    AP_INIT_TAKE1(OAS_DIR_CLIENT_JWKS, oas_cmd_client_jwks, NULL, RSRC_CONF,
                  "the client's public keys: a JWK Set file or an https jwks_uri"),
    AP_INIT_TAKE1(OAS_DIR_CLIENT_NAME, oas_cmd_client_name, NULL, RSRC_CONF,
                  "the client's name shown on the consent page"),
    AP_INIT_TAKE1(OAS_DIR_ASSERTION_AUD, oas_cmd_assertion_aud, NULL, RSRC_CONF,
                  "Strict (default): a client assertion's aud is the issuer; Legacy: or the "
                  "token endpoint URL"),
    AP_INIT_TAKE1(OAS_DIR_MTLS_ALIAS, oas_cmd_mtls_alias, NULL, RSRC_CONF,
                  "https URL of the host that asks for client certificates and serves this "
                  "issuer's token, par, userinfo, introspect and revoke endpoints (RFC 8705 §5)"),
    AP_INIT_TAKE1(OAS_DIR_CERT_SUBJECT, oas_cmd_cert_subject, NULL, RSRC_CONF,
                  "tls_client_auth: the subject DN of the client's certificate (RFC 4514)"),
    AP_INIT_TAKE2(OAS_DIR_CERT_SAN, oas_cmd_cert_san, NULL, RSRC_CONF,
                  "tls_client_auth: a subjectAltName of the client's certificate: "
                  "dns|uri|ip|email VALUE"),
    AP_INIT_TAKE1(OAS_DIR_CERT_CA, oas_cmd_cert_ca, NULL, RSRC_CONF,
                  "tls_client_auth: PEM file of the CA the client's certificate must chain to"),
    AP_INIT_TAKE1(OAS_DIR_CERT_BOUND, oas_cmd_client_flag, OFF_C(cert_bound), RSRC_CONF,
                  "On (default for mTLS clients): access tokens bound to the client certificate"),
    AP_INIT_TAKE1(OAS_DIR_INTROSPECTION, oas_cmd_client_flag, OFF_C(introspection), RSRC_CONF,
                  "On: this client (a resource server) may introspect any access token; "
                  "default Off: only its own tokens"),
    AP_INIT_TAKE1(OAS_DIR_BACKCHANNEL_LOGOUT_URI, oas_cmd_logout_uri, NULL, RSRC_CONF,
                  "https URL where this client receives back-channel logout tokens"),
    AP_INIT_TAKE1(OAS_DIR_FRONTCHANNEL_LOGOUT_URI, oas_cmd_logout_uri, NULL, RSRC_CONF,
                  "https URL the \"signed out\" page loads in an iframe (with iss and sid)"),
    {NULL}};
