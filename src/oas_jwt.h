/* mod_oauth_as: the claims of a JWT (RFC 7519) whose JWS was verified: client assertions
 * (RFC 7523), request objects (RFC 9101) and DPoP proofs (RFC 9449) share the reading of the
 * registered claims and one set of clock rules. */
#ifndef OAS_JWT_H
#define OAS_JWT_H

#include "oas.h"
#include "oas_jsonr.h"

/* Clock rules (INTERFACE.md, issue 15): an iat or nbf up to this many seconds in the future is
 * accepted (clients' clocks run fast; 10 s must pass, more than 60 s must not) ... */
#define OAS_JWT_FUTURE_SKEW 30
/* ... and an exp up to this many seconds in the past */
#define OAS_JWT_EXP_LEEWAY 10

typedef struct oas_jwt_t {
    const char *iss, *sub, *jti;   /* NULL when absent; present but not a string: refused */
    const char *aud;               /* "aud" as a string, NULL otherwise */
    apr_array_header_t *aud_array; /* "aud" as an array: its strings (const char *) */
    int aud_is_array;
    apr_int64_t exp, nbf, iat; /* NumericDate, seconds (a fraction is dropped) */
    int has_exp, has_nbf, has_iat;
    oas_jobj_t claims; /* every member, for the others (scope, nonce, htm, ...) */
} oas_jwt_t;

/** Read the claims of a verified payload. Refused: not one JSON object; iss, sub or jti not
 * a string; aud neither a string nor a non-empty array of strings; exp, nbf or iat not a JSON
 * number (fractions allowed, truncated; negative or beyond year 9999 refused).
 * @param pc receives the claims in p
 * @param perr receives a short reason for the log on failure (static; names no content)
 * @return APR_SUCCESS, APR_EINVAL */
apr_status_t oas_jwt_parse(oas_jwt_t **pc, const char **perr, apr_pool_t *p, const char *payload,
                           apr_size_t len);

/** The clock rules, the same for every JWT we receive: exp (required when need_exp) no more
 * than OAS_JWT_EXP_LEEWAY seconds past now; nbf and iat no more than OAS_JWT_FUTURE_SKEW
 * seconds ahead of now; with max_lifetime > 0 the lifetime (exp - iat, or exp - now without
 * iat) at most max_lifetime seconds (and exp required).
 * @param perr receives a short reason on failure (static)
 * @return APR_SUCCESS, APR_EINVAL */
apr_status_t oas_jwt_check_times(const oas_jwt_t *c, apr_int64_t now, int need_exp,
                                 apr_int64_t max_lifetime, const char **perr);

/** True when "aud" is exactly expected (byte comparison: no case or trailing-slash folding).
 * allow_array: an array holding expected counts too; 0: a JSON string only. */
int oas_jwt_aud_is(const oas_jwt_t *c, const char *expected, int allow_array);

/** True when a JOSE header's "typ" is absent or names kind: "JWT", or the specific type
 * (e.g. "oauth-authz-req+jwt"). A media type (RFC 7515 §4.1.9): compared without case,
 * "application/" optional. Any other explicit type is another kind of JWT (a DPoP proof, a
 * request object, an access token, a logout token) that must not pass for this one. */
int oas_jwt_typ_is(const char *typ, const char *kind);

#endif
