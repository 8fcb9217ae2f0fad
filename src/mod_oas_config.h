/* mod_oauth_as: server and directory configuration, the directive table, and the
 * whole-configuration steps of the lifecycle. The server config is the core's oas_issuer_t
 * (src/oas_conf.h). */
#ifndef MOD_OAS_CONFIG_H
#define MOD_OAS_CONFIG_H

#include "mod_oas_private.h"
#include "oas_conf.h"

/* Per-directory config: which endpoint a <Location> serves. Inside <OAuthASClient> and
 * <OAuthASResource> blocks the same struct carries the block being filled. */
typedef struct oas_dir_conf_t {
    oas_endpoint_e endpoint;
    oas_client_t *client;     /* only while parsing a client block */
    oas_resource_t *resource; /* only while parsing a resource block */
    /* AuthType oauth-as (src/mod_oas_resource.c): whose tokens, for which audience */
    const char *rs_issuer;   /* OAuthASResourceIssuer */
    const char *rs_audience; /* OAuthASResourceAudience */
    int rs_remembered;       /* this section is in the list the configuration check reads */
} oas_dir_conf_t;

extern const command_rec oas_mod_cmds[];

void *oas_mod_config_create_server(apr_pool_t *p, server_rec *s);
void *oas_mod_config_merge_server(apr_pool_t *p, void *basev, void *addv);
void *oas_mod_config_create_dir(apr_pool_t *p, char *path);
void *oas_mod_config_merge_dir(apr_pool_t *p, void *basev, void *addv);

/* Checks what needs the whole configuration (every server; src/oas_conf_check.c). Writes
 * nothing: logs each fault naming the directive; returns non-zero when it is unusable. */
int oas_mod_config_check(server_rec *s, apr_pool_t *ptemp);

/* Prepares per-issuer data once at start-up (src/oas_startup.c: ID-token key, consent
 * template, metadata and JWKS documents); logs and fails when it cannot. */
apr_status_t oas_mod_config_prepare(server_rec *s, apr_pool_t *pconf);

static inline oas_issuer_t *oas_mod_issuer(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &oauth_as_module);
}

#endif
