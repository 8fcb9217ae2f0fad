/* mod_oauth_as: OpenID Connect RP-Initiated Logout 1.0 at OAuthASEndpoint end-session: the
 * request's checks (id_token_hint, client_id, post_logout_redirect_uri, state), whether the
 * user must confirm, the confirmation's transaction (CSRF token, the decision posted back)
 * and where the browser goes once the session is ended. The glue (src/mod_oas_logout.c) ends
 * the session (oas_session.h), tells the clients (oas_logout_notify.h) and renders the pages
 * (oas_logout_render). */
#ifndef OAS_LOGOUT_H
#define OAS_LOGOUT_H

#include "oas_consent_txn.h"
#include "oas_ctx.h"
#include "oas_html.h"
#include "oas_session.h"

/* The query of our own "signed out" page (the end-session URL with it): where the browser
 * returns from OAuthASLogoutURL when the client named no post_logout_redirect_uri. */
#define OAS_LOGOUT_DONE_QUERY "signed_out"

/* An ID token of ours given back as id_token_hint. */
typedef struct oas_logout_hint_t {
    const char *client_id; /* its aud */
    const char *sub;
    const char *sid; /* NULL for an ID token issued outside a session */
} oas_logout_hint_t;

/** Reads jwt as an ID token this issuer signed: signature with one of our keys (never "none",
 * no key of another algorithm), typ absent or JWT (an access or logout token is not an ID
 * token), iss ours, aud one string, sub present. Its exp is not checked: an RP logs out with
 * the ID token it has, expired or not (RP-Initiated Logout 1.0 §2).
 * @param perr a short reason for the log on failure (static; names no content)
 * @return APR_SUCCESS with *h set (in p), APR_EINVAL */
apr_status_t oas_logout_hint_verify(oas_logout_hint_t *h, const char **perr, apr_pool_t *p,
                                    const oas_issuer_t *iss, const char *jwt);

/* A checked end-session request. */
typedef struct oas_logout_req_t {
    const oas_client_t *client; /* the valid hint's (its aud), or NULL: a client_id alone
                                 * names nobody */
    int hint_valid;             /* an id_token_hint was given and verified */
    oas_logout_hint_t hint;
    const char *redirect_uri; /* post_logout_redirect_uri, only when the hint is valid and
                               * it is one of the hint's client's, exactly; else NULL */
    const char *state;
} oas_logout_req_t;

/**
 * Checks the parameters of an end-session request (the query of a GET, the form of a POST;
 * dup: a parameter given twice, or NULL). ui_locales, logout_hint and unknown parameters are
 * ignored. A post_logout_redirect_uri is followed only with a valid hint; without one it is
 * not followed (the user confirms, and sees our "signed out" page).
 * @return APR_SUCCESS with *req set, or a page (e->page): 400 invalid_request for a
 *         repeated parameter, a hint that does not verify, a client_id other than the hint's
 *         aud, a post_logout_redirect_uri the hint's client does not have. Never a redirect.
 */
apr_status_t oas_logout_validate(oas_logout_req_t *req, oas_ctx_t *x, oas_err_t *e,
                                 const apr_table_t *params, const char *dup);

/** 1 when the user must confirm: no valid hint, or one that does not name session s (no
 * session, another sid; an ID token without sid: its client and sub not among s's clients). */
int oas_logout_needs_confirmation(const oas_logout_req_t *req, const oas_session_t *s);

/** Where the browser goes once the session is ended: req's post_logout_redirect_uri with
 * state; else signed_out (our page's URL). With OAuthASLogoutURL, that URL with the next
 * target in "return"; without it, NULL when next is our page (rendered at once). In p. */
const char *oas_logout_next(apr_pool_t *p, const oas_issuer_t *iss, const oas_logout_req_t *req,
                            const char *signed_out);

/** A started confirmation: what its form posts back. */
typedef struct oas_logout_txn_t {
    const char *txn;  /* the transaction's id */
    const char *csrf; /* its CSRF token */
} oas_logout_txn_t;

/**
 * Keeps req as a confirmation (OAuthASConsentLifetime) bound to session s (or to "no session"
 * when s is NULL), with a fresh CSRF token.
 * Counted against OAuthASAddressQuota (x->addr), as anyone may open one.
 * @return APR_SUCCESS with *t set (in x->p), or with *e set (a page): 400 invalid_request
 *         too large, 429 temporarily_unavailable (Retry-After), 503 store, 500.
 */
apr_status_t oas_logout_txn_start(oas_logout_txn_t *t, oas_ctx_t *x, oas_err_t *e,
                                  const oas_logout_req_t *req, const oas_session_t *s);

/**
 * Decides a confirmation posted back (f: txn, csrf, decision, Origin, Sec-Fetch-Site): sent
 * from our own page (oas_consent_same_site), complete, a logout transaction with that CSRF
 * token, of the browser's current session s (the one it was started in), then taken (one
 * decision per transaction). req gets the client and redirect it was started with, checked
 * again (a client that lost the URI since is not followed).
 * @param allow receives 1 for decision=allow (log out), 0 for deny (keep the session)
 * @return APR_SUCCESS, or with *e set (a page): 403 access_denied (another site, incomplete,
 *         wrong CSRF token, another session), 400 OAS_AUTHZ_GONE (unknown, expired, already
 *         answered), 400 invalid_request (unknown decision), 503 store, 500.
 */
apr_status_t oas_logout_decide(oas_logout_req_t *req, int *allow, oas_ctx_t *x, oas_err_t *e,
                               const oas_consent_form_t *f, const oas_session_t *s);

/** 1 when url may be OAuthASLogoutURL: a path on this server ("/...", not "//..."), or an
 * http(s) URL that could be a redirect URI (oas_uri_valid_redirect: http only on loopback);
 * never a fragment, which "return" would follow. */
int oas_logout_url_valid(apr_pool_t *p, const char *url);

/** The origins (scheme://host[:port]) of the front-channel URLs frames, space-separated and
 * each once, for the signed-out page's CSP frame-src; a URL whose origin could not be written
 * there safely is left out (its iframe stays blocked). "" for none. */
const char *oas_logout_frame_src(apr_pool_t *p, const apr_array_header_t *frames);

/** The built-in template text (conf/logout.html, compiled in). */
const char *oas_logout_default_template(void);

/* What the logout page shows. */
typedef enum {
    OAS_LOGOUT_CONFIRM,    /* "Sign out?" with the form */
    OAS_LOGOUT_SIGNED_OUT, /* "You have signed out" (with the front-channel iframes) */
    OAS_LOGOUT_KEPT        /* "You are still signed in" (decision=deny) */
} oas_logout_view_e;

typedef struct oas_logout_view_t {
    oas_logout_view_e view;
    const char *user;                 /* the session's user, or NULL */
    const oas_client_t *client;       /* the client that asked, or NULL */
    const char *action;               /* form action URL path (confirm) */
    const char *txn, *csrf;           /* confirm */
    const apr_array_header_t *frames; /* signed out: front-channel URLs (const char *) */
    const char *next;                 /* signed out: where the page goes on by itself */
} oas_logout_view_t;

/** Renders the page; every value is HTML-escaped by the template engine. */
const char *oas_logout_render(apr_pool_t *p, const oas_tmpl_t *t, const oas_issuer_t *iss,
                              const oas_logout_view_t *v);

#endif
