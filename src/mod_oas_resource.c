/* mod_oauth_as: the resource server inside httpd, glue (the core: oas_resource_server.h).
 * `AuthType oauth-as` is an authentication hook of its own (the credential is a token, not a
 * user and password, so no AuthBasicProvider); `Require oauth-as-scope|oauth-as-claim|
 * oauth-as-user` are authz providers, usable in <RequireAll>/<RequireAny> like any other. The
 * directives OAuthASResourceIssuer and OAuthASResourceAudience say whose tokens, for which
 * audience; `OAuthASEndpoint resource-metadata` serves RFC 9728's document. */
#include <apr_strings.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_auth.h>
#include <util_cfgtree.h>

#include "mod_oas_config.h"
#include "mod_oas_mtls.h"
#include "mod_oas_request.h"
#include "mod_oas_resource.h"
#include "mod_oas_store.h"
#include "oas_authz.h"
#include "oas_directives.h"
#include "oas_json.h"
#include "oas_resource_server.h"

#define AUTH_TYPE "oauth-as"
#define NOTE_KEY  "oas-resource"

/* ---- the configuration: each <Location> that names an issuer or an audience is remembered
 * with where it was written, for the whole-configuration check ---- */

typedef struct {
    const oas_dir_conf_t *dc;
    const char *where;
} rs_section_t;

/* in pconf, gone with the configuration: */
static apr_array_header_t *sections; /* rs_section_t */
static apr_hash_t *issuers;          /* issuer URL -> const oas_issuer_t *, built at start-up */
static apr_hash_t *metadata_urls;    /* audience -> its RFC 9728 document's URL, when served */
static oas_token_cache_t *token_cache; /* this child's verified tokens (oas_token_cache.h) */

static apr_status_t forget_sections(void *unused)
{
    (void)unused;
    sections = NULL;
    return APR_SUCCESS;
}

static apr_status_t forget_issuers(void *unused)
{
    (void)unused;
    issuers = metadata_urls = NULL;
    return APR_SUCCESS;
}

static void remember(cmd_parms *cmd, oas_dir_conf_t *dc)
{
    rs_section_t *s;

    if (dc->rs_remembered)
        return;
    if (!sections) {
        sections = apr_array_make(cmd->pool, 8, sizeof(rs_section_t));
        apr_pool_cleanup_register(cmd->pool, NULL, forget_sections, apr_pool_cleanup_null);
    }
    s = apr_array_push(sections);
    s->dc = dc;
    s->where = apr_psprintf(cmd->pool, "%s:%d", cmd->directive->filename,
                            cmd->directive->line_num);
    dc->rs_remembered = 1;
}

static const char *in_location(cmd_parms *cmd, oas_dir_conf_t *dc, const char *name)
{
    if (!cmd->path || dc->client || dc->resource)
        return apr_pstrcat(cmd->pool, name, " must be placed inside <Location> or <Directory>",
                           NULL);
    return NULL;
}

const char *oas_cmd_resource_issuer(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = in_location(cmd, dc, OAS_DIR_RESOURCE_ISSUER);

    if (err)
        return err;
    dc->rs_issuer = arg;
    remember(cmd, dc);
    return NULL;
}

const char *oas_cmd_resource_audience(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = in_location(cmd, dc, OAS_DIR_RESOURCE_AUDIENCE);

    if (err)
        return err;
    dc->rs_audience = arg;
    remember(cmd, dc);
    return NULL;
}

void oas_mod_resource_endpoint(cmd_parms *cmd, oas_dir_conf_t *dc)
{
    remember(cmd, dc);
}

static const oas_issuer_t *served_issuer(server_rec *s, const char *url)
{
    for (; s; s = s->next) {
        const oas_issuer_t *iss = oas_mod_issuer(s);
        if (iss->issuer && !strcmp(iss->issuer, url))
            return iss;
    }
    return NULL;
}

/* ---- AuthType oauth-as without the two directives: found in the configuration tree, since
 * AuthType belongs to mod_authn_core. A section is covered when it, an enclosing one, or a
 * section of the same kind whose path is a prefix of its own (httpd merges those first) names
 * the directive. .htaccess files are not in the tree: there the request is refused (500,
 * OAS00551) ---- */

/* the path of a <Location /x/> or <Directory /x/> node ("/x/"), or NULL */
static const char *section_path(apr_pool_t *p, const ap_directive_t *d)
{
    const char *args = d && d->first_child ? d->args : NULL;
    const char *a = args ? ap_getword_conf(p, &args) : NULL;
    apr_size_t n;

    if (!a || !*a || *a == '~' ||
        (strcasecmp(d->directive, "<Location") && strcasecmp(d->directive, "<Directory")))
        return NULL;
    n = strlen(a);
    return n && a[n - 1] == '>' ? apr_pstrmemdup(p, a, n - 1) : a;
}

static int names_directive(const ap_directive_t *sec, const char *name)
{
    const ap_directive_t *c;

    for (c = sec ? sec->first_child : NULL; c; c = c->next)
        if (!strcasecmp(c->directive, name))
            return 1;
    return 0;
}

/* does a section of the same kind whose path is a prefix of sec's name it? (depth-first) */
static int prefix_names(apr_pool_t *p, const ap_directive_t *tree, const ap_directive_t *sec,
                        const char *path, const char *name)
{
    const ap_directive_t *d;
    const char *q;

    for (d = tree; d; d = d->next) {
        if (d != sec && !strcasecmp(d->directive, sec->directive) &&
            (q = section_path(p, d)) && !strncmp(path, q, strlen(q)) && names_directive(d, name))
            return 1;
        if (d->first_child && prefix_names(p, d->first_child, sec, path, name))
            return 1;
    }
    return 0;
}

static int covered(apr_pool_t *p, const ap_directive_t *at, const char *name)
{
    const ap_directive_t *sec;
    const char *path;

    for (sec = at->parent; sec; sec = sec->parent)
        if (names_directive(sec, name))
            return 1;
    path = section_path(p, at->parent);
    return path && prefix_names(p, ap_conftree, at->parent, path, name);
}

static int check_auth_types(apr_pool_t *p, server_rec *s, const ap_directive_t *d)
{
    int bad = 0;

    for (; d; d = d->next) {
        if (!strcasecmp(d->directive, "AuthType") && d->args &&
            !strcasecmp(d->args, AUTH_TYPE) &&
            (!covered(p, d, OAS_DIR_RESOURCE_ISSUER) || !covered(p, d, OAS_DIR_RESOURCE_AUDIENCE))) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, OAS_LOGNO(00552)
                         "%s:%d: AuthType " AUTH_TYPE " needs " OAS_DIR_RESOURCE_ISSUER
                         " and " OAS_DIR_RESOURCE_AUDIENCE " where it applies",
                         d->filename, d->line_num);
            bad = 1;
        }
        if (d->first_child)
            bad |= check_auth_types(p, s, d->first_child);
    }
    return bad;
}

int oas_mod_resource_check(server_rec *s, apr_pool_t *ptemp)
{
    int i, bad = check_auth_types(ptemp, s, ap_conftree);

#define FAULT(fmt, ...)                                                                            \
    do {                                                                                           \
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, OAS_LOGNO(00550) "%s: " fmt, sec->where,        \
                     __VA_ARGS__);                                                                 \
        bad = 1;                                                                                   \
    } while (0)
    for (i = 0; sections && i < sections->nelts; i++) {
        const rs_section_t *sec = &APR_ARRAY_IDX(sections, i, rs_section_t);
        const oas_dir_conf_t *dc = sec->dc;
        const oas_issuer_t *iss = dc->rs_issuer ? served_issuer(s, dc->rs_issuer) : NULL;

        if (dc->rs_issuer && !iss)
            FAULT(OAS_DIR_RESOURCE_ISSUER " %s: no server of this httpd has that "
                  OAS_DIR_ISSUER, dc->rs_issuer);
        else if (iss && dc->rs_audience && !oas_issuer_resource(iss, dc->rs_audience))
            FAULT(OAS_DIR_RESOURCE_AUDIENCE " %s: not a <" OAS_DIR_RESOURCE "> of %s",
                  dc->rs_audience, iss->issuer);
        if (dc->endpoint == OAS_EP_RESOURCE_METADATA) {
            if (!dc->rs_issuer || !dc->rs_audience)
                FAULT("%s", OAS_DIR_ENDPOINT " resource-metadata needs " OAS_DIR_RESOURCE_ISSUER
                            " and " OAS_DIR_RESOURCE_AUDIENCE " in the same <Location>");
            else if (!oas_rs_metadata_url(ptemp, dc->rs_audience))
                FAULT(OAS_DIR_RESOURCE_AUDIENCE " %s: a resource with a metadata document is "
                      "named by an https URL (RFC 9728)", dc->rs_audience);
        }
    }
#undef FAULT
    return bad;
}

void oas_mod_resource_post_config(apr_pool_t *pconf, server_rec *s)
{
    int i;

    issuers = apr_hash_make(pconf);
    metadata_urls = apr_hash_make(pconf);
    apr_pool_cleanup_register(pconf, NULL, forget_issuers, apr_pool_cleanup_null);
    for (; s; s = s->next) {
        const oas_issuer_t *iss = oas_mod_issuer(s);
        if (iss->issuer && !apr_hash_get(issuers, iss->issuer, APR_HASH_KEY_STRING))
            apr_hash_set(issuers, iss->issuer, APR_HASH_KEY_STRING, iss);
    }
    /* RFC 9728 §5.1: challenges name the document only where one is served */
    for (i = 0; sections && i < sections->nelts; i++) {
        const oas_dir_conf_t *dc = APR_ARRAY_IDX(sections, i, rs_section_t).dc;
        const char *url = dc->rs_audience ? oas_rs_metadata_url(pconf, dc->rs_audience) : NULL;
        if (dc->endpoint == OAS_EP_RESOURCE_METADATA && url)
            apr_hash_set(metadata_urls, dc->rs_audience, APR_HASH_KEY_STRING, url);
    }
}

/* ---- the request: authentication ---- */

/* what the authentication left for the Require lines and for a 403's challenge */
typedef struct {
    const oas_issuer_t *iss;
    const oas_dir_conf_t *dc;
    json_t *claims;
    int scheme;
    const char *missing;   /* scopes a Require oauth-as-scope lacked */
    int denied;            /* a Require line of ours said no */
} rs_note_t;

static rs_note_t *note_of(request_rec *r)
{
    void *n = NULL;

    apr_pool_userdata_get(&n, NOTE_KEY, r->pool);
    return n;
}

static void challenge(request_rec *r, const rs_note_t *n, const char *error, const char *desc,
                      const char *scope)
{
    const char *md = metadata_urls ? apr_hash_get(metadata_urls, n->dc->rs_audience,
                                                  APR_HASH_KEY_STRING)
                                   : NULL;
    apr_array_header_t *lines =
        oas_rs_challenges(r->pool, n->iss, n->scheme, error, desc, scope, md);
    int i;

    apr_table_unset(r->err_headers_out, "WWW-Authenticate");
    for (i = 0; i < lines->nelts; i++)
        apr_table_addn(r->err_headers_out, "WWW-Authenticate",
                       APR_ARRAY_IDX(lines, i, const char *));
}

static int has_ours(void *found, const char *key, const char *value)
{
    (void)value;
    if (strncasecmp(key, "OAUTH_AS_", 9))
        return 1;
    *(int *)found = 1;
    return 0;
}

static void set_env(void *baton, const char *name, const char *value)
{
    request_rec *r = baton;

    apr_table_setn(r->subprocess_env, name, value ? value : "");
}

/* no OAUTH_AS_* variable yet (the usual case): adding spares a search per variable */
static void add_env(void *baton, const char *name, const char *value)
{
    request_rec *r = baton;

    apr_table_addn(r->subprocess_env, name, value ? value : "");
}

/* the request's own URL (scheme, host and port as it arrived), for the DPoP proof's htu */
static const char *request_url(request_rec *r)
{
    return ap_construct_url(r->pool, r->parsed_uri.path ? r->parsed_uri.path : r->uri, r);
}

static int rs_authn(request_rec *r)
{
    const char *type = ap_auth_type(r), *nonce;
    const char *authorization = apr_table_get(r->headers_in, "Authorization");
    const oas_dir_conf_t *dc;
    oas_dpop_req_t dpop;
    rs_note_t *n;
    oas_ctx_t *x;
    oas_err_t e;
    int found;

    if (!type || strcasecmp(type, AUTH_TYPE))
        return DECLINED;
    dc = ap_get_module_config(r->per_dir_config, &oauth_as_module);
    n = apr_pcalloc(r->pool, sizeof(*n));
    n->dc = dc;
    n->iss = dc && dc->rs_issuer && issuers
                 ? apr_hash_get(issuers, dc->rs_issuer, APR_HASH_KEY_STRING)
                 : NULL;
    if (!n->iss || !dc->rs_audience) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAS_LOGNO(00551)
                      "AuthType " AUTH_TYPE " needs " OAS_DIR_RESOURCE_ISSUER
                      " (an issuer of this httpd) and " OAS_DIR_RESOURCE_AUDIENCE
                      " where it applies to %s",
                      r->uri);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_userdata_setn(n, NOTE_KEY, NULL, r->pool);
    x = oas_mod_ctx(r, n->iss);
    oas_mod_client_cert(r, x); /* RFC 8705 §3: for certificate-bound tokens */
    oas_mod_dpop_in(&dpop, r);
    if (oas_rs_credential(&n->scheme, authorization) && n->scheme == OAS_RS_DPOP)
        dpop.htu = request_url(r); /* only a proof names it */
    if (oas_rs_check(&n->claims, &n->scheme, &nonce, &e, x, authorization, &dpop,
                     dc->rs_audience, token_cache) != APR_SUCCESS) {
        oas_mod_dpop_nonce(r, nonce);
        if (e.error)
            oas_mod_log_err(r, &e);
        if (e.status == HTTP_SERVICE_UNAVAILABLE)
            return e.status;
        challenge(r, n, e.error, e.description, NULL);
        return e.status;
    }
    oas_mod_dpop_nonce(r, nonce);
    r->user = apr_pstrdup(r->pool, oas_json_str(n->claims, "sub"));
    r->ap_auth_type = (char *)AUTH_TYPE;
    found = 0;
    apr_table_do(has_ours, &found, r->subprocess_env, NULL);
    oas_rs_env(r->pool, n->claims, found ? set_env : add_env, r);
    return OK;
}

/* mod_authz_core asks the AuthType to challenge when a Require needs a user that is not
 * there (our authentication answers itself, so this is for the case it did not run) */
static int rs_note_auth_failure(request_rec *r, const char *type)
{
    rs_note_t *n = note_of(r);

    if (strcasecmp(type, AUTH_TYPE))
        return DECLINED;
    if (n && n->iss)
        challenge(r, n, NULL, NULL, NULL);
    return OK;
}

/* A Require of ours that said no: RFC 6750 §3.1's 403 insufficient_scope, with the challenge
 * clients step up with. Set here, once the answer is known to be an error (another Require
 * of a <RequireAny> may still grant access after one of ours said no). mod_authz_core
 * answers an authenticated user's refusal with 401 ("try again", right for passwords)
 * unless AuthzSendForbiddenOnFailure is On; a token that is valid but not enough is a 403
 * whatever that setting, so the status is changed here, with a body that says so. */
static void rs_insert_error_filter(request_rec *r)
{
    rs_note_t *n = r->status == HTTP_UNAUTHORIZED || r->status == HTTP_FORBIDDEN ? note_of(r)
                                                                                  : NULL;

    if (!n || !n->denied || !n->claims)
        return;
    /* the canned text of the status httpd started with, replaced for this request only
     * (ap_custom_response marks it as text) */
    ap_custom_response(r, r->status,
                       "<!DOCTYPE html>\n<title>403 Forbidden</title>\n<h1>Forbidden</h1>\n"
                       "<p>The access token does not allow this request.</p>\n");
    r->status = HTTP_FORBIDDEN;
    challenge(r, n, "insufficient_scope",
              n->missing ? "the access token lacks a required scope"
                         : "the access token lacks a required claim",
              n->missing);
}

/* ---- the request: authorization (Require lines) ---- */

static rs_note_t *ours(request_rec *r)
{
    rs_note_t *n = note_of(r);

    return n && n->claims && r->user ? n : NULL;
}

static authz_status deny(rs_note_t *n)
{
    n->denied = 1;
    return AUTHZ_DENIED;
}

static authz_status scope_check(request_rec *r, const char *args, const void *parsed)
{
    rs_note_t *n = ours(r);
    const char *missing;

    if (!r->user)
        return AUTHZ_DENIED_NO_USER;
    if (!n)
        return AUTHZ_DENIED;
    if (!(missing = oas_rs_missing_scopes(r->pool, n->claims, args)))
        return AUTHZ_GRANTED;
    n->missing = n->missing ? apr_pstrcat(r->pool, n->missing, " ", missing, NULL) : missing;
    return deny(n);
}

static authz_status claim_check(request_rec *r, const char *args, const void *parsed)
{
    rs_note_t *n = ours(r);
    const char *name, *value;

    if (!r->user)
        return AUTHZ_DENIED_NO_USER;
    if (!n)
        return AUTHZ_DENIED;
    name = ap_getword_conf(r->pool, &args);
    value = ap_getword_conf(r->pool, &args);
    return oas_rs_claim_is(r->pool, n->claims, name, value) ? AUTHZ_GRANTED : deny(n);
}

static authz_status user_check(request_rec *r, const char *args, const void *parsed)
{
    rs_note_t *n = ours(r);

    if (!r->user)
        return AUTHZ_DENIED_NO_USER;
    if (!n)
        return AUTHZ_DENIED;
    return oas_rs_has_user(n->claims) ? AUTHZ_GRANTED : deny(n);
}

/* the Require lines are checked when the configuration is read */
static const char *scope_parse(cmd_parms *cmd, const char *args, const void **parsed)
{
    const char *w;

    if (!*args)
        return "Require oauth-as-scope needs at least one scope";
    while (*(w = ap_getword_conf(cmd->temp_pool, &args)))
        if (!oas_scope_valid(w, 1))
            return apr_psprintf(cmd->pool, "Require oauth-as-scope: invalid scope '%s'", w);
    return NULL;
}

static const char *claim_parse(cmd_parms *cmd, const char *args, const void **parsed)
{
    const char *name = ap_getword_conf(cmd->temp_pool, &args);
    const char *value = ap_getword_conf(cmd->temp_pool, &args);

    if (!*name || !*value || *ap_getword_conf(cmd->temp_pool, &args))
        return "Require oauth-as-claim needs a claim name and a value";
    return NULL;
}

static const char *user_parse(cmd_parms *cmd, const char *args, const void **parsed)
{
    return *args ? "Require oauth-as-user takes no argument" : NULL;
}

static const authz_provider scope_provider = {scope_check, scope_parse};
static const authz_provider claim_provider = {claim_check, claim_parse};
static const authz_provider user_provider = {user_check, user_parse};

/* ---- the resource's metadata document (RFC 9728 §3) ---- */

int oas_mod_resource_metadata(request_rec *r, const oas_dir_conf_t *dc)
{
    const oas_issuer_t *iss =
        issuers && dc->rs_issuer ? apr_hash_get(issuers, dc->rs_issuer, APR_HASH_KEY_STRING)
                                 : NULL;
    const char *json;
    int rv;

    if (!iss || !dc->rs_audience) /* configtest refuses this */
        return HTTP_NOT_FOUND;
    if ((rv = oas_mod_cors(r, iss, OAS_EP_RESOURCE_METADATA)) != DECLINED)
        return rv; /* a preflight, answered */
    if ((rv = oas_mod_check_method(r, 1, 0)) != OK)
        return rv;
    json = oas_rs_metadata_json(r->pool, iss, dc->rs_audience);
    apr_table_setn(r->headers_out, "Cache-Control", "public, max-age=300");
    return oas_mod_send_json(r, HTTP_OK, json);
}

static void rs_child_init(apr_pool_t *pchild, server_rec *s)
{
    if (!(token_cache = oas_token_cache_create(pchild)))
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, OAS_LOGNO(00553)
                     "no cache of verified access tokens in this child (no mutex): every "
                     "request to AuthType " AUTH_TYPE " verifies its token's signature");
}

void oas_mod_resource_register(apr_pool_t *p)
{
    ap_hook_child_init(rs_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_authn(rs_authn, NULL, NULL, APR_HOOK_MIDDLE, AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_note_auth_failure(rs_note_auth_failure, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_insert_error_filter(rs_insert_error_filter, NULL, NULL, APR_HOOK_MIDDLE);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "oauth-as-scope", AUTHZ_PROVIDER_VERSION,
                              &scope_provider, AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "oauth-as-claim", AUTHZ_PROVIDER_VERSION,
                              &claim_provider, AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "oauth-as-user", AUTHZ_PROVIDER_VERSION,
                              &user_provider, AP_AUTH_INTERNAL_PER_CONF);
}
