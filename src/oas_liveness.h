/* mod_oauth_as: what an issued token is worth now (in the core): an access token is live when
 * its signature holds, its jti is not revoked and its refresh family (if any: the family its
 * claim gid names, or a previous build's record of the token names) still lives; a
 * refresh token when its record and family do. Built on that: revocation (RFC 7009),
 * introspection (RFC 7662, with a DPoP-bound token's cnf) and userinfo (OIDC Core §5.3, with
 * Bearer or DPoP tokens). */
#ifndef OAS_LIVENESS_H
#define OAS_LIVENESS_H

#include "oas_ctx.h"
#include "oas_dpop.h"
#include "oas_token.h"

/** Is tok a live access token of this issuer? APR_SUCCESS with *pclaims its claims and, when
 * pui is given, *pui the user's claims a previous build kept with the token (raw JSON object,
 * or NULL: userinfo reads the user's record); else
 * APR_EINVAL with *pwhy (when given) saying why, for the log. */
apr_status_t oas_live_access(json_t **pclaims, const char **pui, const char **pwhy, oas_ctx_t *x,
                             const char *tok);

/** The second half of oas_live_access, for claims c of a token whose signature and expiry
 * were checked (by oas_token_verify_access, now or earlier: oas_token_cache.h): is it still
 * live (not revoked, its family alive)? APR_SUCCESS, or APR_EINVAL with *pwhy.
 * @param punlinked (may be NULL) in: 1 when an earlier check found that this token has no
 *        per-token record (such a record is written when the token is issued, before anyone
 *        has it, so once absent it stays absent): the lookup is skipped; out: set to 1 when
 *        this check found none. The revocation of the token itself is asked every time. */
apr_status_t oas_live_claims(const char **pui, const char **pwhy, oas_ctx_t *x, const json_t *c,
                             int *punlinked);

/** Is tok a live refresh token of this issuer? APR_SUCCESS with *pg its grant, else
 * APR_EINVAL. */
apr_status_t oas_live_refresh(oas_grant_t **pg, oas_ctx_t *x, const char *tok);

/** RFC 7009: client c revokes tok, one of its own tokens (a refresh token takes its family
 * along). Unknown, foreign or dead tokens are no error (§2.2): only a store that cannot
 * record the revocation is (*e: 503). */
apr_status_t oas_revoke_token(oas_err_t *e, oas_ctx_t *x, const oas_client_t *c, const char *tok);

/** RFC 7662 §2.2: the introspection answer for tok to the authenticated client caller (never
 * NULL). INTERFACE.md: a client introspects the tokens issued to it; one with
 * OAuthASIntrospection On (a resource server) also any access token; a refresh token only
 * its own client. Anything else is {"active": false}, as an unknown token is (§2.2: the
 * answer tells no more to whom may not know it). */
const char *oas_introspect(oas_ctx_t *x, const oas_client_t *caller, const char *tok);

/** OIDC Core §5.3: the userinfo answer for the access token tok: the user's claims of their
 * latest issuance that the token's scope releases; or an error in *e (401 invalid_token, 403
 * insufficient_scope, 503 when the store cannot be read; with DPoP, those of
 * oas_dpop_at_resource) for the glue to render.
 * @param dpop the request's DPoP header when tok came with the DPoP scheme (RFC 9449 §7.1),
 *        NULL for a Bearer token
 * @param pnonce (may be NULL) a DPoP-Nonce to send, or NULL */
apr_status_t oas_userinfo(const char **pbody, oas_err_t *e, oas_ctx_t *x, const char *tok,
                          const oas_dpop_req_t *dpop, const char **pnonce);

#endif
