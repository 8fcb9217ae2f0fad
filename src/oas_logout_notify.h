/* mod_oauth_as: telling the relying parties of an ended session that the user left
 * (OpenID Connect Back-Channel Logout 1.0 and Front-Channel Logout 1.0). The end-session
 * endpoint calls oas_logout_notify once the session is ended (oas_session_end): each RP with
 * an OAuthASBackchannelLogoutURI gets a logout token, posted in the background (never in the
 * request that logs out); each RP with an OAuthASFrontchannelLogoutURI gets a URL for the
 * "signed out" page's iframes. */
#ifndef OAS_LOGOUT_NOTIFY_H
#define OAS_LOGOUT_NOTIFY_H

#include "oas_ctx.h"
#include "oas_session.h"

/** Every RP of the ended session s: back-channel logout tokens queued for background
 * delivery; *front (allocated in x->p) gets the front-channel URLs (const char *), each
 * the client's frontchannel_logout_uri with iss and sid added, that the "signed out" page
 * loads in iframes (an empty array when no RP has one).
 * @return APR_SUCCESS; a failure to queue one RP's token is logged (client id) and does not
 *         stop the others, nor the logout */
apr_status_t oas_logout_notify(apr_array_header_t **front, oas_ctx_t *x, const oas_session_t *s);

#endif
