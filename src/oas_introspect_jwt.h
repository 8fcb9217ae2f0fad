/* mod_oauth_as: signed introspection responses (RFC 9701): the RFC 7662 answer inside a JWT
 * the issuer signs, for a resource server that asks for one in its Accept header (FAPI 2.0
 * Message Signing §5.5). No I/O. */
#ifndef OAS_INTROSPECT_JWT_H
#define OAS_INTROSPECT_JWT_H

#include "oas_conf.h"

#define OAS_INTROSPECT_JWT_MEDIA "application/token-introspection+jwt" /* RFC 9701 §4 */

/** 1 when the Accept header (NULL when absent) names application/token-introspection+jwt
 * (case-insensitive, parameters ignored, except a q of 0 which declines it); copied into p. */
int oas_introspect_jwt_wanted(apr_pool_t *p, const char *accept);

/**
 * The signed answer (RFC 9701 §5): header typ "token-introspection+jwt", claims iss, aud (the
 * client that asked), iat and token_introspection (answer, an RFC 7662 JSON object as
 * oas_introspect gives it), signed with iss's ID token key.
 * @return APR_SUCCESS with *pjwt in p; APR_ENOTIMPL when iss has no signing key; APR_EINVAL when
 *         client_id is not UTF-8 text; APR_EGENERAL when signing fails.
 */
apr_status_t oas_introspect_jwt(const char **pjwt, apr_pool_t *p, const oas_issuer_t *iss,
                                const char *client_id, const char *answer, apr_int64_t now);

#endif
