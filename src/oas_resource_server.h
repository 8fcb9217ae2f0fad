/* mod_oauth_as: the resource server inside httpd (AuthType oauth-as; INTERFACE.md "The resource
 * server inside httpd"). A request to a protected location brings an access token of an
 * issuer of this httpd; it is checked in-process with that issuer's keys and store
 * (oas_liveness.h: signature, typ at+jwt, iss, exp, revocation seen at once), then for this
 * location's audience, its DPoP proof (RFC 9449 §7, htu = the request's own URL) or its
 * certificate (RFC 8705 §3). What the backend gets, what the Require lines ask, the
 * challenges of a refusal (RFC 6750 §3, RFC 9449 §7.1, RFC 9728 §5.1) and the resource's
 * metadata document (RFC 9728 §2) are built here; the glue (src/mod_oas_resource.c) reads the
 * request and renders. No I/O. */
#ifndef OAS_RESOURCE_SERVER_H
#define OAS_RESOURCE_SERVER_H

#include <jansson.h>

#include "oas_ctx.h"
#include "oas_dpop.h"
#include "oas_token_cache.h"

#define OAS_RS_MAX_TOKEN 8192 /* bytes of an access token we look at (ours are < 2 KiB) */

#define OAS_RS_NONE   0 /* no credential of ours: another scheme, or none */
#define OAS_RS_BEARER 1
#define OAS_RS_DPOP   2

/** The credential of an Authorization header value h (NULL: absent) for the schemes Bearer
 * and DPoP, matched case-insensitively (RFC 9110 §11.1).
 * @param pscheme receives OAS_RS_BEARER, OAS_RS_DPOP or OAS_RS_NONE
 * @return the token; NULL for another scheme or none; "" when the credential is malformed
 *         (empty, or more than one token: httpd joins repeated headers with ", ") */
const char *oas_rs_credential(int *pscheme, const char *h);

/** An access token presented to a location whose OAuthASResourceAudience is audience, in x's
 * issuer (x->cert: the connection's certificate, if any).
 * @param authorization the request's Authorization header (NULL: none)
 * @param dpop the request's DPoP header(s), method and htu (the request's URL, normalised by
 *        the check)
 * @param pscheme receives the scheme the token came with (for the challenge)
 * @param pnonce receives a DPoP-Nonce to send, or NULL
 * @param tc this process's cache of verified tokens (may be NULL): what it holds spares the
 *        signature check, never the revocation check
 * @return APR_SUCCESS with *pclaims; else APR_EINVAL (or a store error) with *e: 401 and
 *         error NULL when no token came (RFC 6750 §3.1), 400 invalid_request for a malformed
 *         credential, 401 invalid_token, 401 invalid_dpop_proof or use_dpop_nonce, 503 */
apr_status_t oas_rs_check(json_t **pclaims, int *pscheme, const char **pnonce, oas_err_t *e,
                          oas_ctx_t *x, const char *authorization, const oas_dpop_req_t *dpop,
                          const char *audience, oas_token_cache_t *tc);

/** Require oauth-as-scope: the scopes of need (space-separated) that the token lacks,
 * space-separated, or NULL when it has them all. */
const char *oas_rs_missing_scopes(apr_pool_t *p, const json_t *claims, const char *need);

/** Require oauth-as-claim NAME VALUE: the token's claim name is value (a string equal to it,
 * a number or boolean whose text is it, or an array holding such an element). */
int oas_rs_claim_is(apr_pool_t *p, const json_t *claims, const char *name, const char *value);

/** Require oauth-as-user: the token was issued for a user (it has auth_time); a
 * client_credentials token's sub is its client (RFC 9068 §2.2) and it has none. */
int oas_rs_has_user(const json_t *claims);

/** The backend's variables, each passed to set(baton, name, value): OAUTH_AS_CLIENT_ID,
 * OAUTH_AS_SCOPE, OAUTH_AS_SUBJECT_TYPE (user or client), OAUTH_AS_CLAIM_<name> for every
 * top-level claim whose name is [A-Za-z0-9_] only: strings as they are, numbers and booleans
 * as text, arrays of strings joined by spaces, anything else as compact JSON. */
void oas_rs_env(apr_pool_t *p, const json_t *claims,
                void (*set)(void *baton, const char *name, const char *value), void *baton);

/** RFC 9728 §3.1: the URL of the metadata document of the resource named by the https URL
 * audience (/.well-known/oauth-protected-resource inserted before its path), or NULL when
 * audience is not an https URL without query and fragment. */
const char *oas_rs_metadata_url(apr_pool_t *p, const char *audience);

/** The challenges of a refusal, one per scheme, Bearer first then DPoP (when iss accepts DPoP
 * proofs, with its algorithms): the error (and its description, and the needed scope for
 * insufficient_scope) on the line of the scheme it concerns (DPoP for a token sent with the
 * DPoP scheme or a proof's error, else Bearer); both with resource_metadata when metadata_url
 * is not NULL. error NULL: no error parameters (no token came). Values are ours (RFC 6750 §3
 * charset), never request input. */
apr_array_header_t *oas_rs_challenges(apr_pool_t *p, const oas_issuer_t *iss, int scheme,
                                      const char *error, const char *desc, const char *scope,
                                      const char *metadata_url);

/** RFC 9728 §2: the metadata document of the resource audience of iss. */
const char *oas_rs_metadata_json(apr_pool_t *p, const oas_issuer_t *iss, const char *audience);

#endif
