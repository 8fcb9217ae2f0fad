/* mod_oauth_as: the token endpoint in the core (RFC 6749 §3.2, §5): the grant_type dispatch,
 * client_credentials (§4.4), and issuing: minting the tokens of a grant and keeping what their
 * JWTs do not carry: the user's claims for userinfo, one record per user (OAS_NS_USER). */
#ifndef OAS_ISSUE_H
#define OAS_ISSUE_H

#include "oas_ctx.h"
#include "oas_token.h"

/** A token request of the authenticated client c (form: its decoded parameters).
 * @return APR_SUCCESS with *pbody the 200 answer (RFC 6749 §5.1), or an error with *e set */
apr_status_t oas_issue_request(const char **pbody, oas_err_t *e, oas_ctx_t *x,
                               const oas_client_t *c, apr_table_t *form);

/** The client_credentials grant (RFC 6749 §4.4): the client acts for itself. */
apr_status_t oas_issue_client_credentials(const char **pbody, oas_err_t *e, oas_ctx_t *x,
                                          const oas_client_t *c, const char *scope,
                                          apr_table_t *form);

/** Mints the tokens of grant g under jti and keeps their record; *pbody gets the 200 answer
 * with refresh_token (may be NULL). The access token is bound to x->dpop_jkt when set. */
apr_status_t oas_issue_tokens(const char **pbody, oas_err_t *e, oas_ctx_t *x, const oas_client_t *c,
                              const oas_grant_t *g, const char *jti, const char *refresh_token);

/** The key of sub's claims record (OAS_NS_USER). */
const char *oas_issue_user_key(apr_pool_t *p, const oas_issuer_t *iss, const char *sub);

/** A fresh access-token id (*pjti); on failure *e is a 500. */
apr_status_t oas_issue_jti(const char **pjti, oas_err_t *e, apr_pool_t *p);

/** RFC 8707 §2.2: a code or refresh grant g asked for with resource x->target: only the
 * resource it was granted for (we grant one), else 400 invalid_target. */
apr_status_t oas_issue_target_check(oas_err_t *e, oas_ctx_t *x, const oas_client_t *c,
                                    const oas_grant_t *g);

/** The refresh token of a grant g just redeemed by c (*prt NULL when c gets none): a public
 * client's is bound to the key of this request's DPoP proof (RFC 9449 §5) and, when it binds
 * its tokens, to its certificate (RFC 8705 §4); a confidential client's to neither (each
 * refresh binds anew). Then the user's account record lists the family, or the access token
 * jti about to be issued (oas_account_note_grant). APR_SUCCESS, or *e set (503). */
apr_status_t oas_issue_refresh(const char **prt, oas_err_t *e, oas_ctx_t *x, const oas_client_t *c,
                               oas_grant_t *g, const char *jti);

/** True when the client gets a refresh token for scope (grant type and offline_access). */
int oas_issue_wants_refresh(const oas_client_t *c, const char *scope, apr_pool_t *p);

#endif
