/* mod_oauth_as: what OpenID Connect Back-Channel and Front-Channel Logout 1.0 send to a
 * relying party when a session ends: the logout token (Back-Channel §2.4), the front-channel
 * URL with iss and sid (Front-Channel §2), and the check of the URIs a client gives for them
 * (OAuthASBackchannelLogoutURI, OAuthASFrontchannelLogoutURI and their registration
 * metadata). */
#ifndef OAS_LOGOUT_TOKEN_H
#define OAS_LOGOUT_TOKEN_H

#include "oas_conf.h"

#define OAS_LOGOUT_TOKEN_TTL 120 /* exp - iat: next-wave.md §6.2, at most 2 minutes */
#define OAS_LOGOUT_EVENT "http://schemas.openid.net/event/backchannel-logout"
#define OAS_LOGOUT_MAX_URI 2048

/** 1 when uri may be a client's back- or front-channel logout URI: an absolute https URL
 * with a host, no user information and no fragment (a query is allowed), at most
 * OAS_LOGOUT_MAX_URI bytes; else 0 and *perr (static) says why. */
int oas_logout_uri_valid(const char **perr, apr_pool_t *p, const char *uri);

/** A logout token for client_id, signed as its ID tokens are (the issuer's ID-token key),
 * header typ logout+jwt; claims iss, sub, aud (client_id), iat (now), exp (now +
 * OAS_LOGOUT_TOKEN_TTL), a fresh random jti, events {OAS_LOGOUT_EVENT: {}} and sid; never a
 * nonce. sub and sid are what the client's ID tokens of that session carried; at least one
 * is given (NULL leaves the claim out).
 * @return APR_SUCCESS; APR_EINVAL (neither sub nor sid, or not UTF-8); APR_EGENERAL (the RNG
 *         or the signature failed) */
apr_status_t oas_logout_token(const char **ptok, apr_pool_t *p, const oas_issuer_t *iss,
                              const char *client_id, const char *sub, const char *sid,
                              apr_int64_t now);

/** The URL a "signed out" page loads in an iframe for a client's front-channel logout: uri
 * with iss and sid added to its query (each %-encoded; an existing query kept). */
const char *oas_frontchannel_url(apr_pool_t *p, const oas_issuer_t *iss, const char *uri,
                                 const char *sid);

#endif
