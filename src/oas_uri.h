/* mod_oauth_as: redirect URI checks for the configuration and building authorization responses.
 * Matching a request's redirect_uri is an exact string comparison done elsewhere (SECURITY.md
 * N1, A03); this file only judges registered values and appends response parameters. */
#ifndef OAS_URI_H
#define OAS_URI_H

#include "oas.h"

/** 1 when uri may be registered as a redirect URI, else 0 with *perr (if perr is not NULL) set
 * to a short static message such as "not an absolute URI" or "has a fragment".
 * Rules: absolute URI (RFC 3986 §4.3) made only of URI characters, valid %-escapes, no fragment
 * (RFC 6749 §3.1.2); no javascript:, data:, vbscript:, file:; http and https need a host and no
 * user information; http only for loopback hosts 127.0.0.1, [::1], localhost (RFC 9700 §2.6,
 * RFC 8252 §7.3); other schemes are native-app private-use schemes (RFC 8252 §7.1). */
int oas_uri_valid_redirect(const char **perr, apr_pool_t *p, const char *uri);

/** uri with the pairs (an array of const char *: name, value, name, value...) appended to its
 * query, each name and value %-encoded by oas_uri_encode(). An existing query is kept
 * (RFC 6749 §3.1.2): '&' joins, or nothing when uri already ends with '?' or '&'. A pair with
 * a NULL value is skipped; an odd last element is ignored. Any fragment stays last. */
const char *oas_uri_add_query(apr_pool_t *p, const char *uri, const apr_array_header_t *pairs);

/** s with every byte except the unreserved ALPHA / DIGIT / "-" / "." / "_" / "~" (RFC 3986
 * §2.3) written as %XX (upper-case hex), so the result has no controls, spaces or delimiters. */
const char *oas_uri_encode(apr_pool_t *p, const char *s);

#endif
