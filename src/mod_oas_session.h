/* mod_oauth_as: the AS session's cookie and the site's sign-in (src/mod_oas_session.c). */
#ifndef MOD_OAS_SESSION_H
#define MOD_OAS_SESSION_H

#include "mod_oas_private.h"

/** The value of the browser's session cookie (OAS_SESSION_COOKIE), or NULL. */
const char *oas_mod_session_cookie(request_rec *r);

/** Set-Cookie of a session cookie with value, living max_age seconds: __Host- (Secure,
 * Path=/, no Domain), HttpOnly, SameSite=Lax. */
void oas_mod_session_set(request_rec *r, const char *value, apr_int64_t max_age);

/** Set-Cookie that deletes the session cookie. */
void oas_mod_session_clear(request_rec *r);

/** A sign-in again begins (prompt=login, max_age): the site's own sign-in is dropped from its
 * mod_session session (mod_auth_form keeps it there) and txn is written beside it, in this very
 * response. 0 when the request's user was not signed in through its mod_session session
 * (mod_session absent or off here, or another authentication such as HTTP Basic): the site
 * cannot be asked to sign the user in again, the caller answers login_required. */
int oas_mod_session_reauth_begin(request_rec *r, const char *txn);

/** The browser came back from the sign-in with txn: 1 when its mod_session session carries
 * txn beside the sign-in of the request's user (who can only be there by a sign-in after
 * oas_mod_session_reauth_begin); the marker is removed either way. */
int oas_mod_session_reauth_done(request_rec *r, const char *txn);

/** 1 when mod_session is loaded (OAuthASLoginURL needs it). */
int oas_mod_session_available(void);

#endif
