/* mod_oauth_as: the common front of the token-style endpoints (token, PAR, revocation,
 * introspection): POST, form body, client authentication and its brute-force brake. */
#include <http_protocol.h>

#include "mod_oas_client.h"
#include "mod_oas_mtls.h"
#include "mod_oas_request.h"
#include "mod_oas_store.h"
#include "oas_throttle.h"

/* Client secrets and assertions are braked against brute force per (client, address)
 * (SECURITY.md C07, src/oas_throttle.c): a pair at its limit is refused before the secret or
 * the signature is looked at (a read alone), a failure is counted atomically, and guesses
 * beyond the limit that passed the check together get 429 instead of 401. The address is
 * r->useragent_ip: behind a proxy, mod_remoteip makes it the real client's. */

int oas_mod_client_request(oas_ctx_t **px, const oas_client_t **pc, apr_table_t **pform,
                           request_rec *r, const oas_issuer_t *iss)
{
    const char *perr, *bid, *bsecret;
    const oas_client_t *named;
    oas_ctx_t *x = *px = oas_mod_ctx(r, iss);
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
    if ((named = oas_authfail_client(x, basic, bid, *pform)) &&
        oas_authfail_check(x, &err, named) != APR_SUCCESS)
        return oas_mod_send_err(r, &err);
    oas_mod_client_cert(r, x); /* RFC 8705: for mTLS clients and certificate-bound tokens */
    if (oas_client_authenticate(pc, &err, x, basic, bid, bsecret, *pform) !=
        APR_SUCCESS) {
        oas_err_t brake;
        if (!err.detail) /* the request's form was at fault, not a client */
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                          OAS_LOGNO(00130) "client authentication failed: %s", err.description);
        if (named && err.status == HTTP_UNAUTHORIZED &&
            oas_authfail_failed(x, &brake, named) != APR_SUCCESS) {
            oas_mod_log_err(r, &err);
            return oas_mod_send_err(r, &brake);
        }
        return oas_mod_send_err(r, &err);
    }
    return OK;
}
