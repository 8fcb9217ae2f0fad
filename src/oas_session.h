/* mod_oauth_as: the authorization server's session (OpenID Connect): one per browser, named by
 * a cookie whose value is a random secret (the store keeps only its keyed digest), carrying a
 * public `sid` (put in every ID token issued in it, in logout tokens and front-channel URLs),
 * the site's user, when the site authenticated that user (auth_time, OIDC Core §2) and the
 * clients that got ID tokens in it. Records live in the long-lived store, so that the nodes of
 * a cluster share them. */
#ifndef OAS_SESSION_H
#define OAS_SESSION_H

#include "oas_authz.h"
#include "oas_ctx.h"
#include "oas_token.h"

/* The cookie (glue: src/mod_oas_session.c): __Host- so that it is Secure, host-only, Path=/ */
#define OAS_SESSION_COOKIE "__Host-oauth_as_session"

/* a client that got (or will get, from a code issued in the session) an ID token, and the
 * `sub` that ID token carries */
typedef struct {
    const char *client_id;
    const char *sub;
} oas_session_rp_t;

typedef struct {
    const char *sid;       /* public, random (>= 128 bits, base64url): ID tokens, logout
                            * tokens, front-channel URLs; never the cookie value */
    const char *user;      /* the site's authenticated user (r->user) */
    apr_int64_t auth_time; /* when the site authenticated the user for this session */
    apr_int64_t expires;
    apr_array_header_t *rps; /* oas_session_rp_t */
    const char *key;         /* private: the store key of the record (the cookie's digest) */
    int unsaved;             /* private: begun by this request, not stored yet: the code's
                              * client joins it in the same write (oas_session_keep) */
} oas_session_t;

/** The browser's live session from its cookie value (NULL cookie -> *s NULL, APR_SUCCESS;
 * an unknown, expired or ended one too). Other statuses: the store failed. */
apr_status_t oas_session_get(oas_session_t **s, oas_ctx_t *x, const char *cookie);

/** Ends it everywhere: the record removed, the sid remembered as ended until the longest
 * refresh-token lifetime, so refresh tokens issued in it without offline_access stop. */
apr_status_t oas_session_end(oas_ctx_t *x, const oas_session_t *s, oas_err_t *err);

/** 1 when the session sid was ended (oas_session_end), 0 when not or unknown. */
int oas_session_ended(oas_ctx_t *x, const char *sid);

/** Stores a session this request began (s->unsaved) and has not stored yet: before a page
 * that leaves the flow to a later request (the consent page). NULL s or a stored one: nothing
 * to do. Other statuses: the store failed (*e set). */
apr_status_t oas_session_keep(oas_ctx_t *x, oas_err_t *e, oas_session_t *s);

/** A new session of user x->user authenticated at auth_time: *pcookie gets the cookie's
 * value (random, 256 bits, base64url) to send to the browser. */
apr_status_t oas_session_begin(oas_session_t **s, const char **pcookie, oas_ctx_t *x,
                               apr_int64_t auth_time, oas_err_t *err);

/** Adds client_id (with the sub of its ID tokens) to the clients of session s, once, and
 * writes the record back. */
apr_status_t oas_session_add_rp(oas_ctx_t *x, oas_session_t *s, const char *client_id,
                                const char *sub, oas_err_t *err);

/** 1 when cookie has the form of our cookie values (so that nothing else is hashed). */
int oas_session_cookie_valid(const char *cookie);

/** A session record (the store's value) read into *ps (key not set). APR_EINVAL: not one. */
apr_status_t oas_session_parse(oas_session_t **ps, apr_pool_t *p, const char *v, apr_size_t n);

/**
 * /authorize, after the request is valid, for x->user (the site's user): the browser's session
 * from cookie (NULL when none), or a new one; prompt and max_age (OIDC Core §3.1.2.1) weighed
 * against its auth_time.
 * @param reauthed the user has just signed in again through OAuthASLoginURL (the glue saw it):
 *        the session's auth_time becomes now
 * @param ps the session of the authorization (NULL when *preauth)
 * @param pcookie the new cookie's value when a session began, else NULL
 * @param preauth set when the user must sign in again (prompt=login, max_age): the glue sends
 *        the browser to OAuthASLoginURL, or answers login_required
 * @return APR_SUCCESS, or with *e set: login_required (prompt=none without a live session of
 *         this user, or with a sign-in older than max_age), 503 store, 500
 */
apr_status_t oas_session_authorize(oas_session_t **ps, const char **pcookie, int *preauth,
                                   oas_ctx_t *x, oas_err_t *e, const oas_authz_req_t *req,
                                   const char *cookie, int reauthed);

/** The grant g is made in session s (NULL: nothing): it carries the session's sid and
 * auth_time (OIDC Core §2: the session's sign-in, not this request's). */
void oas_session_join(oas_session_t *s, oas_grant_t *g);

/** A code of grant g is about to be issued: with openid, its client joins the clients of the
 * session g->sid (s, or the browser's session from cookie when s is NULL: the consent form
 * came back), once. Nothing when that session is gone. */
apr_status_t oas_session_code(oas_ctx_t *x, oas_err_t *e, oas_session_t *s, const char *cookie,
                              const oas_grant_t *g);

/** A sign-in again begins: the request's parameters (as they came, before PAR or a request
 * object replaced them) kept in the short-lived store for at least 10 minutes under *ptxn,
 * the one-time name the browser brings back. */
apr_status_t oas_session_login_start(const char **ptxn, oas_ctx_t *x, oas_err_t *e,
                                     const apr_table_t *params);

/** The browser came back with txn: the parameters to resume with (taken: once). A page error
 * (OAS_AUTHZ_GONE) when it is unknown, expired or used. */
apr_status_t oas_session_login_resume(apr_table_t **pparams, oas_ctx_t *x, oas_err_t *e,
                                      const char *txn);

#endif
