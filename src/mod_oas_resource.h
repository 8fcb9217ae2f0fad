/* mod_oauth_as: the resource server inside httpd (AuthType oauth-as), glue: its directives,
 * its whole-configuration check, its hooks and providers, and the RFC 9728 document. */
#ifndef MOD_OAS_RESOURCE_H
#define MOD_OAS_RESOURCE_H

#include "mod_oas_config.h"

/* OAuthASResourceIssuer URL, OAuthASResourceAudience URI (in <Location> or <Directory>) */
const char *oas_cmd_resource_issuer(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_resource_audience(cmd_parms *cmd, void *mconfig, const char *arg);

/* `OAuthASEndpoint resource-metadata` was set in dc's section (checked with the others). */
void oas_mod_resource_endpoint(cmd_parms *cmd, oas_dir_conf_t *dc);

/* check_config: each issuer named is served by this httpd, each audience a resource of it,
 * each metadata document's section complete; logs each fault naming the directive and
 * returns non-zero when there is one. */
int oas_mod_resource_check(server_rec *s, apr_pool_t *ptemp);

/* post_config: the issuers by URL, and the metadata document of each audience that has one. */
void oas_mod_resource_post_config(apr_pool_t *pconf, server_rec *s);

/* The handler of `OAuthASEndpoint resource-metadata`. */
int oas_mod_resource_metadata(request_rec *r, const oas_dir_conf_t *dc);

/* The authentication hook, the Require providers and the 403 challenge. */
void oas_mod_resource_register(apr_pool_t *p);

#endif
