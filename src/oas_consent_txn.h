/* mod_oauth_as: the consent step of /authorize: remembered consents, and the transaction a
 * consent page opens (its CSRF token, the decision posted back, the cross-site check). The
 * page itself is rendered by oas_consent.h. */
#ifndef OAS_CONSENT_TXN_H
#define OAS_CONSENT_TXN_H

#include "oas_code_issue.h"

/** The key of a remembered consent: user, client, the set of scopes (order-free), resource.
 * In pool p. */
const char *oas_consent_key(apr_pool_t *p, const char *user, const char *client_id,
                            const char *scope, const char *resource);

/** 1 when the consent under key is remembered (an unavailable store remembers nothing). */
int oas_consent_remembered(oas_ctx_t *x, const char *key);

/** 1 when the user must be asked: the client asks for consent and the request says
 * prompt=consent, or this consent (req's client, scopes and resource for x->user) is not
 * remembered. */
int oas_consent_needed(oas_ctx_t *x, const oas_authz_req_t *req);

/** Remembers the consent (of scope) under key for as long as c's refresh tokens live (best
 * effort: logged when it cannot). With the account page on, the user's record lists it
 * first; when it cannot, the consent is not remembered (the user is asked again). */
void oas_consent_remember(oas_ctx_t *x, const oas_client_t *c, const char *key,
                          const char *scope);

/** A started transaction: what the consent page posts back. */
typedef struct oas_consent_txn_t {
    const char *txn;  /* the transaction's id */
    const char *csrf; /* its CSRF token, bound to x->user */
} oas_consent_txn_t;

/**
 * Keeps pd for x->user as a consent transaction (OAuthASConsentLifetime), with a fresh
 * CSRF token.
 * @return APR_SUCCESS with *t set (in x->p), or with *e set: 400 invalid_request "too
 *         large" (redirected, see oas_authz_record_fits), 503 store, 500.
 */
apr_status_t oas_consent_txn_start(oas_consent_txn_t *t, oas_ctx_t *x, oas_err_t *e,
                                   const oas_pending_t *pd);

/** The consent form as posted back. */
typedef struct oas_consent_form_t {
    const char *txn, *csrf, *decision; /* the form's fields, NULL when absent */
    const char *origin, *site;         /* Origin and Sec-Fetch-Site headers, NULL when absent */
    const char *our_origin;            /* scheme://Host of this request */
} oas_consent_form_t;

/** 1 when the POST may come from our own consent page, 0 when another site sent it: a
 * function of the request headers only. */
int oas_consent_same_site(const char *origin, const char *site, const char *our_origin);

/** The start of deciding a form posted back (consent, sign-out; what names it in messages):
 * sent from our own page (oas_consent_same_site), complete (txn, csrf, decision), its
 * transaction read (*pval, *plen in x->p; not yet taken).
 * @return APR_SUCCESS, or a page in *e: 403 access_denied (another site, incomplete), 400
 *         OAS_AUTHZ_GONE (unknown or expired); 503 store */
apr_status_t oas_decision_read(char **pval, apr_size_t *plen, oas_ctx_t *x, oas_err_t *e,
                               const oas_consent_form_t *f, const char *what);

/** The end of it, once the transaction is known to be the user's: the decision "allow" or
 * "deny" (else a 400 invalid_request page, nothing spent), then the transaction taken, once
 * even when posted twice at once (else a 400 OAS_AUTHZ_GONE page; 503 store). */
apr_status_t oas_decision_take(oas_ctx_t *x, oas_err_t *e, const oas_consent_form_t *f,
                               const char *what);

/**
 * Decides a consent transaction for x->user: the cross-site check, the form complete, the
 * transaction x->user's with the right CSRF token, then taken (one decision per
 * transaction, even when posted twice at once). "allow" also remembers the consent.
 * @param pd the pending authorization, filled from the transaction (also on "deny")
 * @return APR_SUCCESS on "allow" (the caller issues the code: oas_code_issue); otherwise
 *         *e is set: access_denied on "deny" (redirected, with pd filled), or a page: 403
 *         access_denied (cross-site, incomplete, another user or CSRF token), 400
 *         OAS_AUTHZ_GONE (unknown,
 *         expired, already answered), 400 invalid_request (unknown
 *         decision or client), 503 store, 500.
 */
apr_status_t oas_consent_decide(oas_pending_t *pd, oas_ctx_t *x, oas_err_t *e,
                                const oas_consent_form_t *f);

#endif
