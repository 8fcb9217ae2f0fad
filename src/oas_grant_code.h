/* mod_oauth_as: redeeming an authorization code in the core (RFC 6749 §4.1.3, RFC 7636 §4.6):
 * the checks, the one commit point, the tombstone of a redeemed code and the revocation of
 * what it issued when it is replayed (RFC 6749 §4.1.2). */
#ifndef OAS_GRANT_CODE_H
#define OAS_GRANT_CODE_H

#include "oas_ctx.h"

/** Redeems code for client c (verifier, redirect_uri: as sent, or NULL).
 * @return APR_SUCCESS with *pbody the 200 answer, or an error with *e set */
apr_status_t oas_grant_code_redeem(const char **pbody, oas_err_t *e, oas_ctx_t *x,
                                   const oas_client_t *c, const char *code, const char *verifier,
                                   const char *redirect_uri);

#endif
