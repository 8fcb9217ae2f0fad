/* mod_oauth_as: the counters that brake clients: failed client authentications per
 * (client, address) (SECURITY.md C07) and the authorization requests a client has started
 * (D07). Each is a fixed window in the short-lived store; counting is best effort (get +
 * put, not atomic: concurrent requests may be counted once). */
#ifndef OAS_THROTTLE_H
#define OAS_THROTTLE_H

#include "oas_ctx.h"

/** The client a token-style request names (the Basic user when basic > 0, else the form's
 * client_id) when it is a known client with a secret: only those can be brute-forced. NULL
 * too when the brake is off (OAuthASClientAuthFailureLimit 0). */
const oas_client_t *oas_authfail_client(const oas_issuer_t *iss, int basic, const char *bid,
                                        apr_table_t *form);

/** C07: APR_SUCCESS when c may try to authenticate from x->addr; APR_EINVAL with *e set
 * (429 temporarily_unavailable, Retry-After until the window ends) once its failures from
 * that address reached the limit: the secret is then not even looked at. */
apr_status_t oas_authfail_check(oas_ctx_t *x, oas_err_t *e, const oas_client_t *c);

/** C07: counts a failed authentication of c from x->addr. The window starts with the first
 * failure; a success resets nothing. Logged when it cannot be counted and when the limit
 * is reached. */
void oas_authfail_count(oas_ctx_t *x, const oas_client_t *c);

/** D07 (OAuthASClientQuota): counts one more authorization request started by c (a push, or
 * a front-channel request) in a window as long as the longest short-lived entry lives.
 * APR_EINVAL with *e set (429 temporarily_unavailable, Retry-After until the window ends)
 * when c is over its quota; APR_SUCCESS otherwise, also when there is no quota or no
 * store (the request then fails where it needs the store). */
apr_status_t oas_quota_take(oas_ctx_t *x, oas_err_t *e, const oas_client_t *c);

#endif
