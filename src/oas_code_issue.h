/* mod_oauth_as: a validated authorization request on its way to the code (RFC 6749 §4.1.2):
 * the pending authorization, and its end, where the code is issued or an error redirected
 * and a PAR request_uri is used up at that single point (SECURITY.md §2: consumed when the
 * authorization ends, not at the first GET). */
#ifndef OAS_CODE_ISSUE_H
#define OAS_CODE_ISSUE_H

#include "oas_authz.h"
#include "oas_ctx.h"
#include "oas_token.h"

/* Our own error code of a pending authorization (request_uri or consent transaction) that is
 * unknown, expired, used or already answered: it picks the page shown ("Request expired")
 * and never reaches a client. */
#define OAS_AUTHZ_GONE "request_expired"

/* What travels from the validated request to the code (through the consent page when it is
 * shown): the grant, the state to echo and the PAR request_uri to use up. */
typedef struct oas_pending_t {
    oas_grant_t *grant;
    const char *state;       /* NULL when absent */
    const char *request_uri; /* the opaque part after the urn prefix, or NULL */
    int jarm;                /* the response goes back as a JWT (oas_jarm.h) */
    const char *device;      /* a device request's handle (oas_device.h): the decision goes to
                              * the device, not to a redirect URI; NULL for /authorize */
} oas_pending_t;

/**
 * The pending authorization of the validated request req for x->user (who becomes the sub
 * claim; the caller adds the user's claims): refused when prompt=none came without a
 * signed-in user (login_required), when a front-channel request puts the client over its
 * quota (D07: a pushed request was counted when it was pushed), or when the user name is
 * not UTF-8 text (a page: JSON cannot carry it).
 * @param ru the PAR request_uri's opaque part, or NULL
 * @param auth_time when httpd authenticated the user (seconds)
 * @return APR_SUCCESS, or APR_EINVAL with *e set; *pd is filled in both cases, so that an
 *         error can be redirected
 */
apr_status_t oas_authz_pending(oas_pending_t *pd, oas_ctx_t *x, oas_err_t *e,
                               const oas_authz_req_t *req, const char *ru, apr_int64_t auth_time);

/**
 * Ends a PAR authorization: its request_uri ru is dead from now on (ru NULL, a
 * front-channel request: nothing to do). An authorization ends once: when another tab or a
 * concurrent request already ended it (a code or an error), this one gets no
 * authorization response at all.
 * @return APR_SUCCESS, or with *e set: a page 400 OAS_AUTHZ_GONE (already used or expired), 503
 * store.
 */
apr_status_t oas_request_uri_use_up(oas_ctx_t *x, oas_err_t *e, const char *ru);

/**
 * Issues the code for pd: uses up pd->request_uri first, so exactly one code is ever issued
 * for it, then stores the code for the issuer's code lifetime.
 * @param pcode the code, in x->p
 * @return APR_SUCCESS, or with *e set: 400 invalid_request "too large" (not a page: the
 *         caller redirects it, after oas_request_uri_use_up), those of
 *         oas_request_uri_use_up, 503 store, 500.
 */
apr_status_t oas_code_issue(const char **pcode, oas_ctx_t *x, oas_err_t *e,
                            const oas_pending_t *pd);

/**
 * Keeps rec (a record of a pending authorization: a pushed request, a consent transaction,
 * a code) in the short-lived store under a fresh random token, for ttl seconds.
 * @param ptoken the token, in x->p (NULL on failure)
 * @param what what is stored, for the log line of a store failure
 * @return APR_SUCCESS, or with *e set: 503 store, 500 no random token
 */
apr_status_t oas_authz_keep(const char **ptoken, oas_ctx_t *x, oas_err_t *e, int ns,
                            const char *rec, int ttl, const char *what);

/** The "too large" rule: state and nonce come from the client, up to the body limit, and
 * JSON escaping may double them: a code or consent record larger than the store keeps is
 * the client's invalid_request, not a busy server. APR_EINVAL with *e set when rec is too
 * large. */
apr_status_t oas_authz_record_fits(oas_err_t *e, const char *rec);

#endif
