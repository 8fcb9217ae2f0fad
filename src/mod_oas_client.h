/* mod_oauth_as: the common front of the token-style endpoints (token, PAR, revocation,
 * introspection): POST, form body, client authentication and its brake. */
#ifndef MOD_OAS_CLIENT_H
#define MOD_OAS_CLIENT_H

#include "mod_oas_private.h"
#include "oas_client_auth.h"
#include "oas_ctx.h"

/* Reads the form and authenticates the client. Returns OK with *pc set, OK with *pc NULL
 * when an error response was already sent, or an HTTP status for httpd to answer. *px gets
 * the request's engine context (oas_mod_ctx) in every case, for the endpoint's core call. */
int oas_mod_client_request(oas_ctx_t **px, const oas_client_t **pc, apr_table_t **pform,
                           request_rec *r, const oas_issuer_t *iss);

#endif
