/* mod_oauth_as: OAuth 2.0 Token Exchange (RFC 8693) at the token endpoint, in the core. A
 * confidential client trades a token of this issuer (the subject token: an access token or an
 * ID token) for an access token for another audience, as its OAuthASTokenExchange lines allow
 * (INTERFACE.md "More grants"). The subject token is checked as the resource server checks
 * tokens (oas_liveness.h: signature, typ, iss, expiry, revocation of the token and its grant),
 * then for an audience of this issuer and, when it is bound (DPoP or certificate), for its
 * holder: the caller must prove the same key or present the same certificate, as a resource
 * server would require (RFC 8693 says nothing; anything else would let a stolen bound token
 * be laundered into an unbound one). Scopes never widen; a refresh token is never issued, and
 * none is accepted as a subject (a refresh token is a credential of its client alone: the
 * client that holds it asks the refresh grant). With an actor token (delegation, §1.1) the new
 * token carries act {sub: the actor, act: the subject token's own act} (§4.1); without one
 * (impersonation) it keeps the subject token's act, so a delegation chain is never dropped. */
#ifndef OAS_TOKEN_EXCHANGE_H
#define OAS_TOKEN_EXCHANGE_H

#include <jansson.h>

#include "oas_ctx.h"

#define OAS_TOKEN_TYPE_PREFIX "urn:ietf:params:oauth:token-type:"
#define OAS_TOKEN_TYPE_ACCESS OAS_TOKEN_TYPE_PREFIX "access_token"
#define OAS_EXCHANGE_MAX_ACT 8 /* actors in a delegation chain (act nested in act) */

#define OAS_XCHG_OK 0       /* a line allows it */
#define OAS_XCHG_SUBJECT 1  /* no line names the subject token's client (or *) */
#define OAS_XCHG_AUDIENCE 2 /* lines name the subject, none with this audience */

/** Which of c's OAuthASTokenExchange lines allow a token issued to client subject_client to be
 * exchanged for audience: OAS_XCHG_OK, OAS_XCHG_SUBJECT or OAS_XCHG_AUDIENCE. */
int oas_exchange_allowed(const oas_client_t *c, const char *subject_client, const char *audience);

/** The scope of the new token (never wider than have, the subject token's): want (when not
 * NULL) if each of its scopes is in have and, when res declares scopes, in res's; else have
 * narrowed to res's scopes. openid and offline_access never pass (no ID or refresh token is
 * issued). APR_EINVAL with *pbad the first scope of want that may not pass. */
apr_status_t oas_exchange_scope(const char **pscope, const char **pbad, apr_pool_t *p,
                                const char *have, const char *want, const oas_resource_t *res);

/** The act claim (RFC 8693 §4.1) as JSON object text: {"sub": actor_sub, "act": prior} (prior,
 * the subject token's act, may be NULL). NULL when the chain would hold more than
 * OAS_EXCHANGE_MAX_ACT actors or prior is not an object. */
const char *oas_exchange_act(apr_pool_t *p, const char *actor_sub, const json_t *prior);

/** RFC 8693 §4.4: when the subject token has may_act, actor (the actor token's sub, else the
 * calling client) must be its sub; 1 when allowed. */
int oas_exchange_may_act(const json_t *subject, const char *actor);

/** The token-exchange grant of the authenticated client c (form: its parameters).
 * @return APR_SUCCESS with *pbody the answer (access_token, issued_token_type, token_type
 *         Bearer or DPoP, expires_in, scope), or an error in *e: invalid_request (missing or
 *         unpaired parameters, a token not acceptable, a subject the policy does not name),
 *         invalid_target, invalid_scope (a store that cannot tell whether the subject was
 *         revoked makes it not acceptable: invalid_request, logged) */
apr_status_t oas_exchange_grant(const char **pbody, oas_err_t *e, oas_ctx_t *x,
                                const oas_client_t *c, apr_table_t *form);

#endif
