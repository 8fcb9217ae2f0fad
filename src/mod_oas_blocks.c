/* mod_oauth_as: <OAuthASClient> and <OAuthASResource> blocks and the directives that may
 * stand in them (some also server-wide). A block is read with its own per-directory
 * configuration carrying the client or resource being filled. */
#include <apr_strings.h>
#include <apr_uri.h>
#include <http_core.h>

#include "mod_oas_directives.h"
#include "oas_authz.h"
#include "oas_client_assertion.h"
#include "oas_conf_check.h"
#include "oas_jwk.h"
#include "oas_logout_token.h"
#include "oas_profile.h"
#include "oas_secret.h"
#include "oas_uri.h"

/* ---- helpers ---- */

static const char *where(cmd_parms *cmd)
{
    return apr_psprintf(cmd->pool, "%s:%d", cmd->directive->filename, cmd->directive->line_num);
}

static apr_array_header_t *list_add(apr_pool_t *p, apr_array_header_t **plist, const char *v)
{
    if (!*plist)
        *plist = apr_array_make(p, 4, sizeof(const char *));
    if (!oas_list_has(*plist, v))
        APR_ARRAY_PUSH(*plist, const char *) = v;
    return *plist;
}

/* ---- directives of client and resource blocks (some also server-wide) ---- */

const char *oas_cmd_lifetime(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    int allowed = OAS_IN_SERVER | OAS_IN_CLIENT;
    int is_at = !strcmp(cmd->cmd->name, OAS_DIR_AT_LIFETIME);
    const char *err;
    int *field;

    if (is_at)
        allowed |= OAS_IN_RESOURCE;
    if ((err = oas_cmd_check_place(cmd, mconfig, allowed)))
        return err;
    if (dc && dc->client)
        field = is_at ? &dc->client->at_ttl : &dc->client->rt_ttl;
    else if (dc && dc->resource)
        field = &dc->resource->at_ttl;
    else
        field = is_at ? &oas_cmd_issuer(cmd)->at_ttl : &oas_cmd_issuer(cmd)->rt_ttl;
    return oas_cmd_parse_positive(cmd, arg, OAS_MAX_LIFETIME, field);
}

const char *oas_cmd_require_par(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER | OAS_IN_CLIENT);

    if (err)
        return err;
    return oas_cmd_parse_flag(cmd, arg,
                              (dc && dc->client) ? &dc->client->require_par
                                                 : &oas_cmd_issuer(cmd)->require_par);
}

/* Off|Allowed|Required (0, 1, 2: OAS_REQOBJ_* and OAS_DPOP_* alike) into *field; NULL or
 * the message naming the directive. */
static const char *parse_off_allowed_required(cmd_parms *cmd, const char *arg, int *field)
{
    static const char *const values[] = {"Off", "Allowed", "Required"};
    int i;

    for (i = 0; i < 3; i++) {
        if (!strcasecmp(arg, values[i])) {
            *field = i;
            return NULL;
        }
    }
    return apr_psprintf(cmd->pool, "%s: '%s' is not Off, Allowed or Required", cmd->cmd->name,
                        arg);
}

const char *oas_cmd_request_object(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER | OAS_IN_CLIENT);

    if (err)
        return err;
    return parse_off_allowed_required(cmd, arg,
                                      (dc && dc->client) ? &dc->client->request_object
                                                         : &oas_cmd_issuer(cmd)->request_object);
}

/* OAuthASDPoP Off|Allowed|Required and OAuthASDPoPNonce On|Off: the client's own value in its
 * block, the server's outside. */
const char *oas_cmd_dpop(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER | OAS_IN_CLIENT);
    int nonce = !strcmp(cmd->cmd->name, OAS_DIR_DPOP_NONCE);
    oas_issuer_t *sc = oas_cmd_issuer(cmd);
    int *field;

    if (err)
        return err;
    if (dc && dc->client)
        field = nonce ? &dc->client->dpop_nonce : &dc->client->dpop;
    else
        field = nonce ? &sc->dpop_nonce : &sc->dpop;
    return nonce ? oas_cmd_parse_flag(cmd, arg, field)
                 : parse_off_allowed_required(cmd, arg, field);
}

/* OAuthASProfile none|fapi2|fapi2-message-signing: the client's own in its block, the
 * server's outside. */
const char *oas_cmd_profile(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER | OAS_IN_CLIENT);
    int v = oas_profile_from_name(arg);

    if (err)
        return err;
    if (v == OAS_UNSET)
        return apr_psprintf(cmd->pool, OAS_DIR_PROFILE ": '%s' is not none, fapi2 or fapi2-message-signing",
                            arg);
    *((dc && dc->client) ? &dc->client->profile : &oas_cmd_issuer(cmd)->profile) = v;
    return NULL;
}

const char *oas_cmd_scope(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_CLIENT | OAS_IN_RESOURCE);

    if (err)
        return err;
    if (!oas_scope_valid(arg, 1))
        return apr_psprintf(cmd->pool, OAS_DIR_SCOPE ": invalid scope '%s'", arg);
    list_add(cmd->pool, dc->client ? &dc->client->scopes : &dc->resource->scopes, arg);
    return NULL;
}

const char *oas_cmd_client_flag(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_CLIENT);

    if (err)
        return err;
    return oas_cmd_parse_flag(cmd, arg, (int *)((char *)dc->client + (apr_size_t)cmd->info));
}

const char *oas_cmd_client_secret(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_CLIENT);

    if (err)
        return err;
    if (!strcmp(arg, "none")) {
        dc->client->secret = NULL;
        return NULL;
    }
    if (!*arg)
        return OAS_DIR_CLIENT_SECRET ": empty secret (use 'none' for a public client)";
    dc->client->secret = arg;
    dc->client->secret_hashed = oas_secret_is_hash(arg);
    return NULL;
}

const char *oas_cmd_redirect_uri(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_CLIENT);

    if (err)
        return err;
    if (!oas_uri_valid_redirect(&err, cmd->pool, arg))
        return apr_psprintf(cmd->pool, "%s '%s': %s", cmd->directive->directive, arg, err);
    /* cmd->info: OAuthASPostLogoutRedirectURI, checked alike */
    list_add(cmd->pool, cmd->info ? &dc->client->post_logout_redirect_uris
                                  : &dc->client->redirect_uris, arg);
    return NULL;
}

const char *oas_cmd_audience(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_CLIENT);

    if (err)
        return err;
    list_add(cmd->pool, &dc->client->audiences, arg);
    return NULL;
}

const char *oas_cmd_client_name(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_CLIENT);

    if (err)
        return err;
    dc->client->name = arg;
    return NULL;
}

/* Strict: an assertion's aud is the issuer; Legacy adds the token endpoint URL for old
 * clients, at the risk of audience injection (README, next-wave §4.2). */
const char *oas_cmd_assertion_aud(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_CLIENT);

    if (err)
        return err;
    if (!strcasecmp(arg, "Strict"))
        dc->client->assertion_aud = OAS_ASSERTION_AUD_STRICT;
    else if (!strcasecmp(arg, "Legacy"))
        dc->client->assertion_aud = OAS_ASSERTION_AUD_LEGACY;
    else
        return apr_psprintf(cmd->pool, OAS_DIR_ASSERTION_AUD ": '%s' is not Strict or Legacy",
                            arg);
    return NULL;
}

/* OAuthASClientJWKS: a JWK Set file, read now (a fault fails `apache2 -t`), or an https URL
 * fetched at run time. */
const char *oas_cmd_client_jwks(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_CLIENT);
    const char *path;
    apr_uri_t u;

    if (err)
        return err;
    if (dc->client->jwks || dc->client->jwks_uri)
        return OAS_DIR_CLIENT_JWKS ": given twice (one JWK Set file or one https URL)";
    if (!strncasecmp(arg, "https://", 8)) {
        if (apr_uri_parse(cmd->pool, arg, &u) != APR_SUCCESS || !u.hostname || !*u.hostname ||
            u.user || u.password || u.fragment)
            return apr_psprintf(cmd->pool, OAS_DIR_CLIENT_JWKS " '%s': not a valid https URL", arg);
        dc->client->jwks_uri = arg;
        return NULL;
    }
    if (strstr(arg, "://"))
        return apr_psprintf(cmd->pool, OAS_DIR_CLIENT_JWKS " '%s': a jwks_uri must use https", arg);
    if (!(path = ap_server_root_relative(cmd->pool, arg)))
        return apr_psprintf(cmd->pool, OAS_DIR_CLIENT_JWKS ": invalid path '%s'", arg);
    if (oas_jwks_load_file(&dc->client->jwks, &err, cmd->pool, path) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, OAS_DIR_CLIENT_JWKS ": %s", err);
    return NULL;
}

/* OAuthASBackchannelLogoutURI, OAuthASFrontchannelLogoutURI: an https URL (oas_logout_token.h) */
const char *oas_cmd_logout_uri(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_CLIENT);
    int back = !strcmp(cmd->cmd->name, OAS_DIR_BACKCHANNEL_LOGOUT_URI);
    const char **field;

    if (err)
        return err;
    field = back ? &dc->client->backchannel_logout_uri : &dc->client->frontchannel_logout_uri;
    if (*field)
        return apr_psprintf(cmd->pool, "%s: given twice", cmd->cmd->name);
    if (!oas_logout_uri_valid(&err, cmd->pool, arg))
        return apr_psprintf(cmd->pool, "%s '%s': %s", cmd->cmd->name, arg, err);
    *field = arg;
    return NULL;
}

/* The words of OAuthASAuthMethod and OAuthASGrantType (oas_auth_method_bit,
 * oas_grant_type_bit): each sets one bit of the client's set, which stays OAS_UNSET (the
 * default) until the first word. 1 when arg is one (its bit is added to *set), else 0. */
static int add_word(int *set, int (*bit_of)(const char *), const char *arg)
{
    int bit = bit_of(arg);

    if (bit)
        *set = (*set == OAS_UNSET ? 0 : *set) | bit;
    return bit != 0;
}

const char *oas_cmd_auth_method(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_CLIENT);

    if (err || add_word(&dc->client->auth_methods, oas_auth_method_bit, arg))
        return err;
    return apr_psprintf(cmd->pool,
                        OAS_DIR_AUTH_METHOD ": unknown method '%s' (client_secret_basic, "
                                            "client_secret_post, private_key_jwt, "
                                            "client_secret_jwt, tls_client_auth, "
                                            "self_signed_tls_client_auth or none)",
                        arg);
}

const char *oas_cmd_grant_type(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_CLIENT);

    if (err || add_word(&dc->client->grant_types, oas_grant_type_bit, arg))
        return err;
    return apr_psprintf(cmd->pool,
                        OAS_DIR_GRANT_TYPE
                        ": unsupported grant type '%s' (authorization_code, "
                        "refresh_token, client_credentials or " OAS_GRANT_TYPE_EXCHANGE ")",
                        arg);
}

const char *oas_cmd_token_exchange(cmd_parms *cmd, void *mconfig, int argc, char *const argv[])
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_CLIENT);
    oas_exchange_rule_t *rule;
    int i;

    if (err)
        return err;
    if (argc < 2)
        return OAS_DIR_TOKEN_EXCHANGE " needs a subject client (or *) and at least one audience";
    rule = apr_pcalloc(cmd->pool, sizeof(*rule));
    rule->subject = argv[0];
    for (i = 1; i < argc; i++)
        list_add(cmd->pool, &rule->audiences, argv[i]);
    if (!dc->client->exchange)
        dc->client->exchange = apr_array_make(cmd->pool, 1, sizeof(oas_exchange_rule_t *));
    APR_ARRAY_PUSH(dc->client->exchange, oas_exchange_rule_t *) = rule;
    return NULL;
}

/* ---- the blocks ---- */

/* Directives that may stand inside each kind of block; anything else is refused, so a
 * misplaced ServerName or a typo does not silently configure the server instead. */
static const char *const client_directives[] = {OAS_DIR_CLIENT_SECRET,  OAS_DIR_REDIRECT_URI,
                                                OAS_DIR_SCOPE,          OAS_DIR_AUDIENCE,
                                                OAS_DIR_AUTH_METHOD,    OAS_DIR_GRANT_TYPE,
                                                OAS_DIR_REQUIRE_PAR,    OAS_DIR_REQUIRE_PKCE,
                                                OAS_DIR_CONSENT,        OAS_DIR_RT_ROTATION,
                                                OAS_DIR_AT_LIFETIME,    OAS_DIR_RT_LIFETIME,
                                                OAS_DIR_CLIENT_NAME,    OAS_DIR_REQUEST_OBJECT,
                                                OAS_DIR_ASSERTION_AUD,  OAS_DIR_CLIENT_JWKS,
                                                OAS_DIR_DPOP,           OAS_DIR_DPOP_NONCE,
                                                OAS_DIR_CERT_SUBJECT,   OAS_DIR_CERT_SAN,
                                                OAS_DIR_CERT_CA,        OAS_DIR_CERT_BOUND,
                                                OAS_DIR_PROFILE,        OAS_DIR_INTROSPECTION,
                                                OAS_DIR_TOKEN_EXCHANGE,
                                                OAS_DIR_BACKCHANNEL_LOGOUT_URI,
                                                OAS_DIR_FRONTCHANNEL_LOGOUT_URI,
                                                OAS_DIR_POST_LOGOUT_URI, NULL};
static const char *const resource_directives[] = {OAS_DIR_SCOPE, OAS_DIR_AT_LIFETIME, NULL};

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

static const char *walk_block(cmd_parms *cmd, oas_dir_conf_t *dc, const char *block, const char *id,
                              const char *const *allowed)
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

const char *oas_cmd_client_block(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_issuer_t *sc = oas_cmd_issuer(cmd);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_LOC_FILE);
    const char *id = block_arg(cmd, arg, OAS_DIR_CLIENT_BLOCK);
    oas_dir_conf_t *dc;
    oas_client_t *c;

    if (err)
        return err;
    if (!id)
        return "<" OAS_DIR_CLIENT "> needs a client id: <" OAS_DIR_CLIENT " my-app>";
    if (!sc->clients)
        sc->clients = apr_hash_make(cmd->pool);
    if (apr_hash_get(sc->clients, id, APR_HASH_KEY_STRING))
        return apr_psprintf(cmd->pool, "<" OAS_DIR_CLIENT " %s>: duplicate client id", id);

    c = oas_client_make(cmd->pool, id);
    c->defined_at = where(cmd);
    dc = apr_pcalloc(cmd->pool, sizeof(*dc));
    dc->client = c;
    if ((err = walk_block(cmd, dc, OAS_DIR_CLIENT_BLOCK, id, client_directives)))
        return err;

    /* what only the whole block can tell, on the block as written; then its defaults */
    if ((err = oas_conf_check_client(cmd->pool, c)))
        return err;
    oas_client_resolve(c);
    apr_hash_set(sc->clients, id, APR_HASH_KEY_STRING, c);
    return NULL;
}

const char *oas_cmd_resource_block(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_issuer_t *sc = oas_cmd_issuer(cmd);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_LOC_FILE);
    const char *id = block_arg(cmd, arg, OAS_DIR_RESOURCE_BLOCK);
    oas_dir_conf_t *dc;
    oas_resource_t *r;

    if (err)
        return err;
    if (!id)
        return "<" OAS_DIR_RESOURCE "> needs a resource identifier: <" OAS_DIR_RESOURCE
               " urn:my-api>";
    if (!sc->resources)
        sc->resources = apr_hash_make(cmd->pool);
    if (apr_hash_get(sc->resources, id, APR_HASH_KEY_STRING))
        return apr_psprintf(cmd->pool, "<" OAS_DIR_RESOURCE " %s>: duplicate resource", id);
    r = oas_resource_make(cmd->pool, id);
    r->defined_at = where(cmd);
    dc = apr_pcalloc(cmd->pool, sizeof(*dc));
    dc->resource = r;
    if ((err = walk_block(cmd, dc, OAS_DIR_RESOURCE_BLOCK, id, resource_directives)))
        return err;
    apr_hash_set(sc->resources, id, APR_HASH_KEY_STRING, r);
    return NULL;
}
