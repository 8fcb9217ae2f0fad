/* mod_oauth_as: redirect URI checks for the configuration, the match of a request's
 * redirect_uri with a registered one (exact, SECURITY.md N1, A03, but for the port of a
 * loopback IP literal), and building authorization responses. */
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

/** 1 when the requested redirect URI matches the registered one: the same string, or, for a
 * registered `http://127.0.0.1` or `http://[::1]` URI, the same but for the port (RFC 8252
 * §7.3, RFC 9700 §2.1: a native app listens on whatever port it gets). Not for `localhost`,
 * whose resolution the app does not control (RFC 8252 §8.3). */
int oas_uri_redirect_matches(const char *registered, const char *requested);

/** 1 when requested matches one of the registered redirect URIs (const char *) in list. */
int oas_uri_redirect_registered(const apr_array_header_t *list, const char *requested);

/** uri with the pairs (an array of const char *: name, value, name, value...) appended to its
 * query, each name and value %-encoded by oas_uri_encode(). An existing query is kept
 * (RFC 6749 §3.1.2): '&' joins, or nothing when uri already ends with '?' or '&'. A pair with
 * a NULL value is skipped; an odd last element is ignored. Any fragment stays last. */
const char *oas_uri_add_query(apr_pool_t *p, const char *uri, const apr_array_header_t *pairs);

/** s with every byte except the unreserved ALPHA / DIGIT / "-" / "." / "_" / "~" (RFC 3986
 * §2.3) written as %XX (upper-case hex), so the result has no controls, spaces or delimiters. */
const char *oas_uri_encode(apr_pool_t *p, const char *s);

#endif
