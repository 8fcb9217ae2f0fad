/* mod_oauth_as: signed request objects (JAR, RFC 9101) at /oauth/par and /authorize: the
 * object is verified with the keys of the client that sent it, and its claims become the
 * request's only parameters (RFC 9101 §6.3; OIDC Core's merge of outer parameters is not
 * done). OAuthASRequestObject (oas_client_request_object, oas_conf.h) says who may or must. */
#ifndef OAS_REQUEST_OBJECT_H
#define OAS_REQUEST_OBJECT_H

#include "oas_ctx.h"

/* Limits (INTERFACE.md "Signed request objects", FAPI 2.0 Message Signing §5.3.1): */
#define OAS_REQOBJ_MAX_LEN 16384     /* bytes of the compact JWS */
#define OAS_REQOBJ_MAX_LIFETIME 3600 /* exp - nbf at most, seconds */
#define OAS_REQOBJ_MAX_AGE 3600      /* nbf at most this far in the past, seconds */

/**
 * Verifies the request object jws of client c and returns its claims as parameters.
 * Checked: size; a strict JWS (oas_jws_parse: never "none"); "typ" absent, "JWT" or
 * "oauth-authz-req+jwt"; "alg" in OAuthASClientSigningAlgs (never HS256); the signature with a
 * key of c (oas_client_keys); "iss" and "client_id" present and equal to c; "aud" the issuer (a
 * string, or an array holding it); "exp" and "nbf" present, exp - nbf <= OAS_REQOBJ_MAX_LIFETIME,
 * nbf no older than OAS_REQOBJ_MAX_AGE, and the clock rules of oas_jwt_check_times; no
 * "request" or "request_uri" claim.
 * The parameters: every claim but the JWT's own (iss, aud, exp, nbf, iat, jti, sub); strings as
 * they are, numbers and booleans as their text, objects and arrays as their compact JSON text; null
 * and empty strings are left out (an empty form value counts as omitted too).
 * @param pparams receives the parameters in x->p (client_id among them)
 * @return APR_SUCCESS, or APR_EINVAL with *err set: 400 invalid_request_object, the log detail
 *         naming the failed check (never the object); keys that cannot be had (a jwks_uri
 *         that fails) are invalid_request_object too, never a 5xx
 */
apr_status_t oas_request_object_params(apr_table_t **pparams, oas_err_t *err, oas_ctx_t *x,
                                       const oas_client_t *c, const char *jws);

/**
 * The parameters an authorization request of client c stands for, as its OAuthASRequestObject
 * says: params unchanged when it sent no "request" (refused when it must sign: 400
 * invalid_request) or may not use request objects at all (oas_authz_validate then answers
 * request_not_supported); else the object's parameters only (oas_request_object_params),
 * whose client_id must be the one outside when one was sent (400 invalid_request).
 * @param origin OAS_AUTHZ_PAR (the form of an authenticated push: token-endpoint errors) or
 *        OAS_AUTHZ_FRONT (/authorize: every error is a page, err->page, as nothing in the
 *        request is trusted yet)
 * @return APR_SUCCESS with *pparams set, or APR_EINVAL with *err set
 */
apr_status_t oas_request_object_use(apr_table_t **pparams, oas_err_t *err, oas_ctx_t *x,
                                    const oas_client_t *c, apr_table_t *params, int origin);

#endif
