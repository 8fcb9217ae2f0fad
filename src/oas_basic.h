/* mod_oauth_as: HTTP Basic client credentials (RFC 7617, RFC 6749 §2.3.1). Core file: the
 * header value comes in as a string, so the parser can be unit-tested and fuzzed. */
#ifndef OAS_BASIC_H
#define OAS_BASIC_H

#include "oas.h"

#define OAS_BASIC_MAX_LEN 4096 /* longest base64 credentials we decode */

/** Parse an Authorization header value for client credentials.
 * The scheme "Basic" is matched without regard to case and followed by one space; the rest
 * must be strict base64 (oas_b64_decode) of at most OAS_BASIC_MAX_LEN characters decoding to
 * "id:secret" with no NUL byte; id and secret are each form-urlencoded (RFC 6749 §2.3.1) and
 * decoded with the form parser's rules (valid %-escapes, UTF-8, no control characters).
 * @param h the header value, or NULL when the request has none
 * @return 0 when h is NULL (*pid = *psecret = NULL); 1 with *pid and *psecret in p;
 *         -1 for another scheme or malformed credentials (*pid = *psecret = NULL) */
int oas_basic_parse(const char **pid, const char **psecret, apr_pool_t *p, const char *h);

#endif
