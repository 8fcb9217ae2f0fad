/* mod_oauth_as: the common front of the token-style endpoints (token, PAR, later revoke
 * and introspect): POST, form body, client authentication. */
#ifndef MOD_OAS_CLIENT_H
#define MOD_OAS_CLIENT_H

#include "mod_oas_private.h"
#include "oas_client_auth.h"

/* Reads the form and authenticates the client. Returns OK with *pc set, OK with *pc NULL
 * when an error response was already sent, or an HTTP status for httpd to answer. */
int oas_mod_client_request(const oas_client_t **pc, apr_table_t **pform, request_rec *r,
                           const oas_issuer_t *iss);

#endif
