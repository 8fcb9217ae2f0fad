/* mod_oauth_as: what the directive handlers share (src/mod_oas_directives.c: server-wide
 * directives and the command table; src/mod_oas_blocks.c: <OAuthASClient> and
 * <OAuthASResource> blocks and the directives that may stand in them). Private to those two
 * files. */
#ifndef MOD_OAS_DIRECTIVES_H
#define MOD_OAS_DIRECTIVES_H

#include "mod_oas_config.h"
#include "oas_directives.h"

#define OAS_MAX_LIFETIME (10 * 365 * 86400) /* ten years: anything above is a typo */

/* Where a directive may stand. */
#define OAS_IN_SERVER 0x1
#define OAS_IN_CLIENT 0x2
#define OAS_IN_RESOURCE 0x4

/* The issuer (server configuration) being configured. */
oas_issuer_t *oas_cmd_issuer(cmd_parms *cmd);

/* Checks that the directive stands where it may (OAS_IN_* bits); returns an error or NULL. */
const char *oas_cmd_check_place(cmd_parms *cmd, void *mconfig, int allowed);

/* A lifetime or size: a positive decimal number within [1, max]. */
const char *oas_cmd_parse_positive(cmd_parms *cmd, const char *arg, apr_int64_t max, int *out);

/* On or Off, as 1 or 0. */
const char *oas_cmd_parse_flag(cmd_parms *cmd, const char *arg, int *out);

/* Handlers of src/mod_oas_blocks.c, for the command table. */
/* Handlers of src/mod_oas_register.c (registration, RFC 7591). */
const char *oas_cmd_registration(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_registration_list(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_registration_defaults(cmd_parms *cmd, void *mconfig, const char *args);

const char *oas_cmd_client_block(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_resource_block(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_lifetime(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_require_par(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_request_object(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_dpop(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_profile(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_scope(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_client_flag(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_client_secret(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_redirect_uri(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_audience(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_client_name(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_auth_method(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_grant_type(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_token_exchange(cmd_parms *cmd, void *mconfig, int argc, char *const argv[]);
const char *oas_cmd_client_jwks(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_assertion_aud(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_logout_uri(cmd_parms *cmd, void *mconfig, const char *arg);

/* Handlers of src/mod_oas_mtls.c (mutual TLS, RFC 8705). */
const char *oas_cmd_cert_subject(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_cert_san(cmd_parms *cmd, void *mconfig, const char *kind, const char *value);
const char *oas_cmd_cert_ca(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_mtls_alias(cmd_parms *cmd, void *mconfig, const char *arg);

/* Handlers of src/mod_oas_outbound.c (outbound https calls). */
const char *oas_cmd_ca_file(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_outbound_allow(cmd_parms *cmd, void *mconfig, const char *arg);
const char *oas_cmd_cimd(cmd_parms *cmd, void *mconfig, const char *arg);

/* Handlers of src/mod_oas_session.c (the AS session). */
const char *oas_cmd_login_url(cmd_parms *cmd, void *mconfig, const char *arg);

#endif
