/* mod_oauth_as: the user's page of allowed applications (OAuthASEndpoint account, issue 21).
 *
 * Nothing in the stores is indexed by user: a remembered consent is found by its (user,
 * client, scopes, resource), a refresh family by its id, an access token by its jti. So while
 * the endpoint is configured, each user has one record in the long-lived store (OAS_NS_ACCOUNT,
 * key issuer "\n" user) that lists, per client, what the user gave it: the consents
 * remembered, the refresh families made, the access tokens issued outside any family, each
 * with its expiry, and the scopes and first and last dates. It is written when one of those
 * appears (a consent remembered, a code redeemed), under a lock taken with put_new, so two
 * children (or nodes) adding to it at once both land; it is read by the page, and emptied
 * of one client by the page's revoke button. */
#ifndef OAS_ACCOUNT_H
#define OAS_ACCOUNT_H

#include "oas_ctx.h"
#include "oas_html.h"
#include "oas_token.h"

/* What a client holds of a user (oas_account_note). */
#define OAS_ACCOUNT_CONSENT 'g' /* item: the remembered consent's key (oas_consent_key) */
#define OAS_ACCOUNT_FAMILY 'f'  /* item: a refresh family's id */
#define OAS_ACCOUNT_TOKEN 'a'   /* item: an access token's jti (one without a family) */

/* Per client, how many of each kind are kept: beyond, the oldest is revoked (a list that
 * forgot one would leave it beyond the user's reach). */
#define OAS_ACCOUNT_CONSENTS_MAX 8
#define OAS_ACCOUNT_FAMILIES_MAX 16
#define OAS_ACCOUNT_TOKENS_MAX 16

/** 1 when the issuer keeps the users' records: its account endpoint is configured. */
int oas_account_on(const oas_issuer_t *iss);

/** Notes in user's record that client_id holds item (of kind OAS_ACCOUNT_*) for scope until
 * exp (seconds). APR_SUCCESS, or the store's status (APR_TIMEUP: the record stayed locked). */
apr_status_t oas_account_note(oas_ctx_t *x, const char *user, const char *client_id,
                              const char *scope, int kind, const char *item, apr_int64_t exp);

/** At a code's redemption, before any token leaves: notes g's refresh family or, without one,
 * the access token jti (expiring at at_exp) in g->sub's record. Nothing when the endpoint is
 * off. On failure *e is a 503 and nothing may be issued. */
apr_status_t oas_account_note_grant(oas_err_t *e, oas_ctx_t *x, const oas_grant_t *g,
                                    const char *jti, apr_int64_t at_exp);

/* An application on the page. */
typedef struct oas_account_app_t {
    const char *client_id;
    const char *scope;              /* every scope it was given, space-separated */
    apr_int64_t first, last;        /* first and latest time it was given something (seconds) */
    int consents, families, tokens; /* of them, still live */
} oas_account_app_t;

/** The applications x->user allowed that still hold something live, latest first
 * (*papps: oas_account_app_t). On a store failure *e is a 503. */
apr_status_t oas_account_list(apr_array_header_t **papps, oas_err_t *e, oas_ctx_t *x);

/** The CSRF token of x->user's page: the user's one (one record per user in the short-lived
 * store, kept for OAuthASConsentLifetime after the page was last shown), or a new one. On
 * failure *e is a 503 or 500. */
apr_status_t oas_account_csrf(const char **pcsrf, oas_err_t *e, oas_ctx_t *x);

/* The revoke form as posted. */
typedef struct oas_account_form_t {
    const char *client_id, *csrf; /* the form's fields, NULL when absent */
    const char *origin, *site;    /* Origin and Sec-Fetch-Site headers, NULL when absent */
    const char *our_origin;       /* scheme://Host of this request */
} oas_account_form_t;

/** The revoke button: the cross-site check, x->user's CSRF token, then everything client
 * f->client_id holds of x->user: its remembered consents, its refresh families (and the
 * access tokens of each), its access tokens outside a family. An application not (or no
 * longer) on the record is no error. *e (a page): 403 access_denied (another site, a
 * missing or wrong token), 400 invalid_request (no client_id), 503 store. */
apr_status_t oas_account_revoke(oas_err_t *e, oas_ctx_t *x, const oas_account_form_t *f);

/* What the page shows. */
typedef struct oas_account_view_t {
    const char *user;
    const char *action; /* the form's action (the page's own path) */
    const char *csrf;
    int revoked;                    /* an application was just revoked (a notice) */
    const apr_array_header_t *apps; /* oas_account_app_t */
} oas_account_view_t;

/** The built-in template text (conf/account.html, compiled in). */
const char *oas_account_default_template(void);

/** Renders the page; every value is HTML-escaped by the template engine. */
const char *oas_account_render(oas_ctx_t *x, const oas_tmpl_t *t, const oas_account_view_t *v);

#endif
