/* mod_oauth_as: the Device Authorization Grant (RFC 8628) in the core. A device asks at the
 * device endpoint (oas_device_authorize) and gets a device code and a user code; the user
 * types the user code on the verification page (oas_device_lookup), consents there through
 * the consent engine (oas_consent_txn.h: the transaction carries the device), and the
 * decision is recorded (oas_device_decide); meanwhile the device polls the token endpoint
 * (oas_device_poll): authorization_pending, slow_down, access_denied, expired_token, then
 * the tokens, once.
 *
 * Records (OAS_NS_DEVICE), each keyed by a digest, never by a code itself: "d" + H(device
 * code) -> {"cid", "sc", "res", "exp"} (written once, taken by the poll that gets the tokens);
 * "u" + H(user code) -> H(device code); "r" + H(device code) -> the decision {"ok", "g"},
 * written once (put_new) so that a request is decided once. A poll writes nothing of these:
 * its pace is a marker and a counter of their own (OAS_NS_DEVICE_PACE), so that a poll can
 * never overwrite a decision. */
#ifndef OAS_DEVICE_H
#define OAS_DEVICE_H

#include "oas_code_issue.h"
#include "oas_ctx.h"

#define OAS_USER_CODE_ALPHABET "BCDFGHJKLMNPQRSTVWXZ" /* base 20: no vowels, no look-alikes */
#define OAS_USER_CODE_CHARS 8                         /* shown as XXXX-XXXX */
#define OAS_USER_CODE_MAX_INPUT 64 /* longer input is not a user code, whatever it holds */
#define OAS_DEVICE_GUESS_LIMIT 5   /* wrong user codes per user, and per address, ... */
#define OAS_DEVICE_GUESS_WINDOW 60 /* ... per this many seconds */
#define OAS_DEVICE_SLOW_DOWN 5     /* RFC 8628 §3.5: seconds added to the interval */

/** A fresh user code: OAS_USER_CODE_CHARS symbols of OAS_USER_CODE_ALPHABET drawn from
 * RAND_bytes without modulo bias, written XXXX-XXXX. NULL when the RNG fails. */
const char *oas_device_user_code_new(apr_pool_t *p);

/** The user code typed in s in its canonical form (upper case, no separators: RFC 8628 §6.1
 * lets the user type it in either case, with or without dashes or spaces), or NULL when s is
 * not one: another character, or not OAS_USER_CODE_CHARS symbols. */
const char *oas_device_user_code_norm(apr_pool_t *p, const char *s);

/** What the device endpoint answers (RFC 8628 §3.2). */
typedef struct oas_device_auth_t {
    const char *device_code;
    const char *user_code; /* XXXX-XXXX */
    int expires_in;
    int interval;
} oas_device_auth_t;

/**
 * A device authorization request (RFC 8628 §3.1) of the authenticated client c: scope and
 * resource checked as at /authorize, counted against the quotas (D07), then recorded.
 * @return APR_SUCCESS with *a set, or APR_EINVAL with *e set: unauthorized_client,
 *         invalid_scope, invalid_target, 429, 503, 500.
 */
apr_status_t oas_device_authorize(oas_device_auth_t *a, oas_err_t *e, oas_ctx_t *x,
                                  const oas_client_t *c, apr_table_t *form);

/** The CSRF token of x->user's code form (one per user, made on first use; lives as long as a
 * device code). APR_SUCCESS, or *e set (503, 500). */
apr_status_t oas_device_form_token(const char **ptok, oas_err_t *e, oas_ctx_t *x);

/** Whether tok is x->user's code-form token: APR_SUCCESS, or *e set (a page: 403). */
apr_status_t oas_device_form_check(oas_err_t *e, oas_ctx_t *x, const char *tok);

/**
 * The pending device request that the user code typed by x->user names, as a pending
 * authorization for the consent engine: pd->grant for x->user (auth_time: when httpd
 * authenticated the user), pd->device the request's handle. Wrong codes are limited to
 * OAS_DEVICE_GUESS_LIMIT per OAS_DEVICE_GUESS_WINDOW, per user and per address (RFC 8628 §5.1).
 * @return APR_SUCCESS, or APR_EINVAL with *e a page: 400 invalid_request (unknown, expired or
 *         already answered code), 429 (too many wrong codes), 503, 500.
 */
apr_status_t oas_device_lookup(oas_pending_t *pd, oas_err_t *e, oas_ctx_t *x, const char *user_code,
                               apr_int64_t auth_time);

/** Records the user's decision on pd's device request (allow: pd->grant is what the device
 * gets). Once: a request already decided is a page 400 OAS_AUTHZ_GONE; 503, 500. */
apr_status_t oas_device_decide(oas_err_t *e, oas_ctx_t *x, const oas_pending_t *pd, int allow);

/**
 * A poll of the token endpoint by client c (RFC 8628 §3.4, §3.5) with device_code.
 * @return APR_SUCCESS with *pbody the tokens (once per device code), or APR_EINVAL with *e
 *         set: invalid_request (no device_code), invalid_grant (unknown, used, another
 *         client's), expired_token, authorization_pending, slow_down, access_denied,
 *         invalid_target, 503, 500.
 */
apr_status_t oas_device_poll(const char **pbody, oas_err_t *e, oas_ctx_t *x, const oas_client_t *c,
                             const char *device_code);

#endif
