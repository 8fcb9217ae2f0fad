/* mod_oauth_as: the counters that keep one party from taking the server (issue 14): the
 * brute-force brake on client secrets per (client, address) (SECURITY.md C07) and the quotas
 * on authorization requests started per client, per signed-in user and per address (D07).
 * Each counter is a fixed window in the short-lived store, counted with oas_store_incr
 * (atomic where the backend has it). */
#ifndef OAS_THROTTLE_H
#define OAS_THROTTLE_H

#include "oas_ctx.h"

/** The client a token-style request names (the Basic user when basic > 0, the unverified sub
 * of a client_assertion, else the form's client_id) when it is a known confidential client:
 * only those have a secret or a key to guess. NULL too when the brake is off
 * (OAuthASClientAuthFailureLimit 0). */
const oas_client_t *oas_authfail_client(oas_ctx_t *x, int basic, const char *bid,
                                        apr_table_t *form);

/** C07, before the secret is looked at: refuses c from x->addr (APR_EINVAL, *e 429
 * temporarily_unavailable with Retry-After until the window ends) when its failures reached
 * OAuthASClientAuthFailureLimit. A read alone, so that a client authenticating correctly costs
 * no write; the refusal itself is counted, and logged once per window (OAS00137). Fails closed:
 * a counter that cannot be read answers 503, the brake is never skipped. */
apr_status_t oas_authfail_check(oas_ctx_t *x, oas_err_t *e, const oas_client_t *c);

/** C07, after a wrong secret: counts the failure with one atomic increment and logs when it
 * reaches the limit (OAS00136). Guesses that passed oas_authfail_check together are numbered
 * by that increment: those beyond the limit get APR_EINVAL with *e a 429 instead of their 401,
 * so N parallel guesses learn at most the limit's worth of answers. Fails closed (503). */
apr_status_t oas_authfail_failed(oas_ctx_t *x, oas_err_t *e, const oas_client_t *c);

/** D07 (OAuthASClientQuota, OAuthASUserQuota, OAuthASAddressQuota): counts one more
 * authorization request started (a push, a front-channel request, hence a consent
 * transaction) in a window of oas_iss_short_lived(): against client c (NULL: a request the
 * client's push was counted for already), against user (NULL: none signed in) and, for a public
 * client's push (no user, no credentials), against x->addr (IPv6: its /64). APR_EINVAL with *e set
 * (429 temporarily_unavailable, Retry-After until the window ends) when one of them is over its
 * quota: what the request counted against the others is given back, and the refusal is logged once
 * per window and counted (OAS_STORE_EV_QUOTA_*). A counter that cannot be written is a 503
 * (oas_store_refused). APR_SUCCESS also when no quota is on or there is no store (the request
 * then fails where it needs the store). */
apr_status_t oas_quota_take(oas_ctx_t *x, oas_err_t *e, const oas_client_t *c, const char *user);

/** D07 for dynamic registration (oas_registration.h): every registration stores a client
 * until it is deleted, so an address (IPv6: its /64) may make OAuthASAddressQuota of them per
 * window of oas_iss_short_lived(), as it may make pushes of public clients; APR_EINVAL with *e
 * a 429 (Retry-After until the window ends) beyond, logged once per window; 503 when the
 * counter cannot be written. */
apr_status_t oas_quota_registration(oas_ctx_t *x, oas_err_t *e);

/** The same count for any record an anonymous request leaves in the store (kind: a letter of
 * its own, e.g. 'r' registrations, 'l' sign-out confirmations; what: its plural, for the
 * answer and the log line): OAuthASAddressQuota per address (IPv6: its /64) and window. */
apr_status_t oas_quota_address(oas_ctx_t *x, oas_err_t *e, char kind, const char *what);

/** D07: a flow of client c for user ended with its code redeemed: it holds no record any more,
 * so what it counted against c and user is given back. Quotas then bound what a party holds,
 * not how fast it works: a busy client whose flows complete never reaches its quota. (A
 * push's address is not known here; its count ends with the window.) */
void oas_quota_give_back(oas_ctx_t *x, const oas_client_t *c, const char *user);

/** The key an address is counted under: IPv4 as is, IPv6 by its /64 (one subscriber's
 * prefix), an IPv4-mapped IPv6 address as its IPv4 address. */
const char *oas_addr_prefix(apr_pool_t *p, const char *addr);

#endif
