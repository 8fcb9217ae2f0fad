/* mod_oauth_as: JWT Secured Authorization Response Mode (JARM, OpenID Foundation): the
 * authorization response (a code, or an error) as a JWT the issuer signs, for
 * response_mode=jwt or query.jwt (FAPI 2.0 Message Signing §5.4). No I/O. */
#ifndef OAS_JARM_H
#define OAS_JARM_H

#include "oas_conf.h"

/* JARM §4.1 recommends at most 10 minutes; the response is used at once by the client */
#define OAS_JARM_TTL 120

/* What a response_mode asks for (response_type=code only: jwt means query.jwt). */
#define OAS_JARM_NO      0  /* absent or query */
#define OAS_JARM_QUERY   1  /* jwt or query.jwt */
#define OAS_JARM_UNKNOWN -1 /* anything else (fragment, form_post, their .jwt forms) */

/** The mode response_mode (NULL when absent) asks for. */
int oas_jarm_mode(const char *response_mode);

/**
 * The signed response: {"iss", "aud": client_id, "exp": now + OAS_JARM_TTL, then each pair}
 * signed with iss's ID token key (JARM §2.1). With JARM the issuer is only inside the JWT.
 * @param pairs name, value, name, value... (const char *), e.g. code and state
 * @return APR_SUCCESS with *pjwt in p; APR_ENOTIMPL when iss has no signing key; APR_EINVAL
 *         when a value is not UTF-8 text; APR_EGENERAL when signing fails.
 */
apr_status_t oas_jarm_response(const char **pjwt, apr_pool_t *p, const oas_issuer_t *iss,
                               const char *client_id, const apr_array_header_t *pairs,
                               apr_int64_t now);

#endif
