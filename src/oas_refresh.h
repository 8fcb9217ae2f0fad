/* mod_oauth_as: refresh tokens in the core (RFC 6749 §6, RFC 9700 §4.14.2): families, rotation
 * with reuse detection, the confidential client's retry grace (FAPI 2.0 SP §5.3.2.1) and the
 * revocation of a family. */
#ifndef OAS_REFRESH_H
#define OAS_REFRESH_H

#include "oas_ctx.h"
#include "oas_token.h"

/** A new refresh token *prt for grant g, of a new family (g->family and g->family_exp are then
 * set; g must have none).
 * @return the store's status (APR_ENOTIMPL without a long-lived store) */
apr_status_t oas_refresh_new(const char **prt, oas_ctx_t *x, const oas_client_t *c, oas_grant_t *g);

/** The refresh_token grant of client c for token rt, optionally narrowing to scope. */
apr_status_t oas_refresh_grant(const char **pbody, oas_err_t *e, oas_ctx_t *x,
                               const oas_client_t *c, const char *rt, const char *scope);

/** The grant of rt when it is a live refresh token: the current token of a live family, or a
 * live token of the previous build. APR_NOTFOUND when not (APR_ENOTIMPL: no store). */
apr_status_t oas_refresh_lookup(oas_grant_t **pg, oas_ctx_t *x, const char *rt);

/** Revokes a refresh-token family: every token of it, and every access token issued with it,
 * stops working at once, and its record is freed. why is logged. NULL family: nothing. */
void oas_refresh_revoke_family(oas_ctx_t *x, const char *family, const char *why);

#endif
