/* mod_oauth_as: mutual TLS (RFC 8705) in httpd: the client certificate from mod_ssl. */
#ifndef MOD_OAS_MTLS_H
#define MOD_OAS_MTLS_H

#include "mod_oas_private.h"
#include "oas_ctx.h"

/** Looks up mod_ssl's optional functions (the optional_fn_retrieve hook). */
void oas_mod_mtls_retrieve(void);

/** The TLS side of r for the core: x->cert, the client certificate of r's connection (and
 * the chain the client sent) when mod_ssl is on for it and the client presented one, else
 * NULL (a certificate OpenSSL cannot read is logged, INFO, and left out); x->on_mtls_alias,
 * whether r's server is the OAuthASMTLSAlias host: its ServerName is the alias's host and
 * its port (ServerName's, or its VirtualHost address's) the alias's. */
void oas_mod_client_cert(request_rec *r, oas_ctx_t *x);

/** Start-up: warns, for every OAuthASMTLSAlias, when no server of this httpd is that host
 * (ServerName and port, as oas_mod_client_cert matches it), or that host has no server-level
 * `SSLEngine on` and `SSLVerifyClient` other than none. To the error log (to_log: post_config)
 * or to the console (`apache2 -t`: check_config, before any log is open). */
void oas_mod_mtls_check_aliases(server_rec *s, apr_pool_t *ptemp, int to_log);

#endif
