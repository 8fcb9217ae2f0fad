/* mod_oauth_as: CORS (Fetch standard) for the endpoints a browser-based client calls directly
 * (INTERFACE.md "Open ecosystems", "Precise rules"): metadata, JWKS, token, revocation,
 * introspection, userinfo and a resource's metadata; never /authorize (RFC 9700 §2.6),
 * never with credentials. Which origins: OAuthASCORSOrigin. No I/O. */
#ifndef OAS_CORS_H
#define OAS_CORS_H

#include "oas_conf.h"

#define OAS_CORS_ALLOW_HEADERS  "Authorization, Content-Type, DPoP"
#define OAS_CORS_EXPOSE_HEADERS "WWW-Authenticate, DPoP-Nonce"
#define OAS_CORS_MAX_AGE        "600"

/** 1 when s may be written in OAuthASCORSOrigin: "*", or an origin as browsers serialize it
 * (http or https, lower-case host, an optional port, nothing after: no path, no slash). */
int oas_cors_origin_valid(const char *s);

/** The methods a preflight may ask for at endpoint ep ("GET", "POST" or "GET, POST"), or NULL
 * when ep gets no CORS at all (/authorize, PAR, none). */
const char *oas_cors_methods(oas_endpoint_e ep);

/** The Access-Control-Allow-Origin value for a request from origin (the Origin header; NULL:
 * none) under iss's OAuthASCORSOrigin: the origin itself when listed, "*" when the list is
 * "*", else NULL (no CORS header: the browser keeps the answer from the page). */
const char *oas_cors_allow(const oas_issuer_t *iss, const char *origin);

#endif
