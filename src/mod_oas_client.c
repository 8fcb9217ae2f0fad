/* mod_oauth_as: the common front of the token-style endpoints (token, PAR, revocation,
 * introspection): POST, form body, client authentication and its brute-force brake. */
#include <http_protocol.h>

#include "mod_oas_client.h"
#include "mod_oas_request.h"
#include "mod_oas_store.h"

static int send_err(request_rec *r, const oas_err_t *e)
{
    return oas_mod_send_oauth_error(r, e->status, e->error, e->description);
}

/* ---- brute-force throttling of client secrets (SECURITY.md C07) ----
 * Failed authentications of a known client that has a secret are counted per
 * (client id, client address) in the short-lived store, in a fixed window that starts with
 * the first failure. At OAuthASClientAuthFailureLimit failures the pair is refused with 429
 * until the window ends, without looking at the secret. Keying on the address means an
 * attacker elsewhere cannot lock the real client out; a success resets nothing. Counting
 * is best effort (get + put, not atomic): concurrent failures may be counted once. */

/* The client a request names (Basic user, else the form's client_id), when it is a known
 * client with a secret: only those can be brute-forced. */
static const oas_client_t *authfail_client(const oas_issuer_t *iss, int basic, const char *bid,
                                           apr_table_t *form)
{
    const char *id = basic > 0 ? bid : apr_table_get(form, "client_id");
    const oas_client_t *c = id ? oas_issuer_client(iss, id) : NULL;

    return c && c->secret ? c : NULL;
}

static const char *authfail_key(request_rec *r, const oas_client_t *c)
{
    return apr_pstrcat(r->pool, c->id, "\n", r->useragent_ip ? r->useragent_ip : "", NULL);
}

static void authfail_count(request_rec *r, const oas_issuer_t *iss, const oas_client_t *c)
{
    oas_store_t *st = oas_mod_store_short(r, iss);
    const char *key = authfail_key(r, c);
    apr_int64_t now = apr_time_sec(apr_time_now()), until;
    long count;
    apr_status_t rv;

    if (!st)
        return;
    oas_mod_counter_get(r, st, OAS_NS_AUTHFAIL, key, &count, &until);
    if (count <= 0 || until <= now) {
        count = 0;
        until = now + oas_iss_authfail_window(iss);
    }
    count++;
    rv = oas_mod_counter_put(r, st, OAS_NS_AUTHFAIL, key, count, until);
    if (rv != APR_SUCCESS)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv, r, OAS_LOGNO(00135)
                      "cannot count a failed authentication of client %s", c->id);
    else if (count == oas_iss_authfail_limit(iss))
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAS_LOGNO(00136)
                      "client %s: %ld failed authentications from %s, refused for %"
                      APR_INT64_T_FMT " s", c->id, count, r->useragent_ip, until - now);
}

/* 1 when the (client, address) pair is over the limit: the 429 is then set up in r and
 * its sending left to the caller. */
static int authfail_over(request_rec *r, const oas_issuer_t *iss, const oas_client_t *c)
{
    apr_int64_t now = apr_time_sec(apr_time_now()), until;
    long count;

    oas_mod_counter_get(r, oas_mod_store_short(r, iss), OAS_NS_AUTHFAIL, authfail_key(r, c),
                        &count, &until);
    if (count < oas_iss_authfail_limit(iss) || until <= now)
        return 0;
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAS_LOGNO(00137)
                  "client %s refused: too many failed authentications from %s", c->id,
                  r->useragent_ip);
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%" APR_INT64_T_FMT, until - now));
    return 1;
}

int oas_mod_client_request(const oas_client_t **pc, apr_table_t **pform, request_rec *r,
                           const oas_issuer_t *iss)
{
    const char *perr, *bid, *bsecret;
    const oas_client_t *named = NULL;
    oas_err_t err;
    int basic, status;

    *pc = NULL;
    *pform = NULL;
    if ((status = oas_mod_check_method(r, 0, 1)) != OK)
        return status;
    if ((status = oas_mod_read_form(pform, &perr, r, (apr_size_t)oas_iss_max_body(iss))) != OK)
        return status;
    if (!*pform)
        return oas_mod_send_oauth_error(r, HTTP_BAD_REQUEST, "invalid_request", perr);
    /* RFC 6749 §2.3.1, §3.2: parameters and credentials never travel in the URI */
    if (r->args && *r->args) {
        return oas_mod_send_oauth_error(r, HTTP_BAD_REQUEST, "invalid_request",
                                        "parameters must be sent in the request body");
    }
    basic = oas_mod_basic_credentials(&bid, &bsecret, r);
    if (oas_iss_authfail_limit(iss) > 0 && (named = authfail_client(iss, basic, bid, *pform)) &&
        authfail_over(r, iss, named))
        return oas_mod_send_oauth_error(r, HTTP_TOO_MANY_REQUESTS, "temporarily_unavailable",
                                        "too many failed client authentications, try again "
                                        "later");
    if (oas_client_authenticate(pc, &err, r->pool, iss, basic, bid, bsecret, *pform) !=
        APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAS_LOGNO(00130)
                      "client authentication failed: %s", err.description);
        if (named && err.status == HTTP_UNAUTHORIZED)
            authfail_count(r, iss, named);
        return send_err(r, &err);
    }
    return OK;
}
