/* mod_oauth_as: JWT client authentication (RFC 7523 §2.2 and §3, OpenID Connect Core §9,
 * RFC 10070): private_key_jwt and client_secret_jwt assertions, checked by every rule of
 * INTERFACE.md "Client keys and JWT client authentication". */
#ifndef OAS_CLIENT_ASSERTION_H
#define OAS_CLIENT_ASSERTION_H

#include "oas_ctx.h"

#define OAS_ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define OAS_ASSERTION_MAX_LEN 8192     /* longest assertion we look at */
#define OAS_ASSERTION_MAX_LIFETIME 300 /* exp - iat (without iat: exp - now), seconds */
#define OAS_ASSERTION_MAX_JTI 256      /* bytes */

/* OAuthASAssertionAudience (per client): what an assertion's aud may be. */
#define OAS_ASSERTION_AUD_STRICT 0 /* the issuer identifier, as a JSON string */
#define OAS_ASSERTION_AUD_LEGACY 1 /* that, or the token endpoint URL (a string too) */

/** The client an assertion names, unverified (its sub; without one, NULL): only for the
 * brute-force brake (oas_throttle.h), which counts a failed assertion against that client as
 * it counts a wrong secret. Cheap: a parse, no signature check. */
const char *oas_client_assertion_sub(apr_pool_t *p, const char *assertion);

/**
 * Authenticates the client of a request by its assertion (client_assertion_type already
 * checked by the caller): the client is found by the assertion's sub, then iss, aud, exp,
 * iat/nbf, typ, the algorithm and key of the client's method, the signature and finally the
 * single use of its jti (put-if-absent in the short-lived store, across children and nodes).
 * @param client_id the request's client_id parameter, or NULL; one that differs from the
 *        assertion's sub fails
 * @return APR_SUCCESS with *pc set; else *err is set: APR_EINVAL for a 401 invalid_client
 *         whose log detail names the failed check (never the assertion), the store's status
 *         for a 503 with Retry-After when the jti cannot be recorded (a replay is never let
 *         through silently)
 */
apr_status_t oas_client_assertion_verify(const oas_client_t **pc, oas_err_t *err, oas_ctx_t *x,
                                         const char *assertion, const char *client_id);

#endif
