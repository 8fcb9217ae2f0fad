/* mod_oauth_as: the authorization server's session (OpenID Connect): one per browser, named by
 * a cookie whose value is a random secret (the store keeps only its keyed digest), carrying a
 * public `sid` (put in every ID token issued in it, in logout tokens and front-channel URLs),
 * the site's user, when the site authenticated that user (auth_time, OIDC Core §2) and the
 * clients that got ID tokens in it. Records live in the long-lived store, so that the nodes of
 * a cluster share them. */
#ifndef OAS_SESSION_H
#define OAS_SESSION_H

#include "oas_ctx.h"

/* The cookie (glue: src/mod_oas_session.c): __Host- so that it is Secure, host-only, Path=/ */
#define OAS_SESSION_COOKIE "__Host-oauth_as_session"

/* a client that got (or will get, from a code issued in the session) an ID token, and the
 * `sub` that ID token carries */
typedef struct {
    const char *client_id;
    const char *sub;
} oas_session_rp_t;

typedef struct {
    const char *sid;          /* public, random (>= 128 bits, base64url): ID tokens, logout
                               * tokens, front-channel URLs; never the cookie value */
    const char *user;         /* the site's authenticated user (r->user) */
    apr_int64_t auth_time;    /* when the site authenticated the user for this session */
    apr_int64_t expires;
    apr_array_header_t *rps;  /* oas_session_rp_t */
    const char *key;          /* private: the store key of the record (the cookie's digest) */
} oas_session_t;

/** The browser's live session from its cookie value (NULL cookie -> *s NULL, APR_SUCCESS;
 * an unknown, expired or ended one too). Other statuses: the store failed. */
apr_status_t oas_session_get(oas_session_t **s, oas_ctx_t *x, const char *cookie);

/** Ends it everywhere: the record removed, the sid remembered as ended until the longest
 * refresh-token lifetime, so refresh tokens issued in it without offline_access stop. */
apr_status_t oas_session_end(oas_ctx_t *x, const oas_session_t *s, oas_err_t *err);

/** 1 when the session sid was ended (oas_session_end), 0 when not or unknown. */
int oas_session_ended(oas_ctx_t *x, const char *sid);

/** A new session of user x->user authenticated at auth_time: *pcookie gets the cookie's
 * value (random, 256 bits, base64url) to send to the browser. */
apr_status_t oas_session_begin(oas_session_t **s, const char **pcookie, oas_ctx_t *x,
                               apr_int64_t auth_time, oas_err_t *err);

/** Adds client_id (with the sub of its ID tokens) to the clients of session s, once, and
 * writes the record back. */
apr_status_t oas_session_add_rp(oas_ctx_t *x, oas_session_t *s, const char *client_id,
                                const char *sub, oas_err_t *err);

#endif
