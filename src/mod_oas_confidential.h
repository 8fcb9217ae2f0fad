/* mod_oauth_as: the common front of revocation and introspection: endpoints for confidential
 * clients only, about the token in the "token" parameter. */
#ifndef MOD_OAS_CONFIDENTIAL_H
#define MOD_OAS_CONFIDENTIAL_H

#include "mod_oas_private.h"
#include "oas_conf.h"
#include "oas_ctx.h"

/* Reads the form and authenticates a confidential client (or, with allow_public, a public one
 * by its client_id: RFC 7009 §2.1). Returns OK with *pc and *ptok set, OK with *pc NULL when an
 * error response was already sent, or an HTTP status for httpd to answer. */
int oas_mod_confidential_request(oas_ctx_t **px, const oas_client_t **pc, const char **ptok,
                                 request_rec *r, const oas_issuer_t *iss, int allow_public);

#endif
