/* mod_oauth_as: the userinfo endpoint (OIDC Core §5.3) with Bearer tokens (RFC 6750); the
 * core (oas_liveness.h) checks the token and answers. */
#include <http_protocol.h>

#include "mod_oas_endpoints.h"
#include "mod_oas_request.h"
#include "mod_oas_store.h"
#include "oas_jsonw.h"
#include "oas_liveness.h"

static int bearer_error(request_rec *r, int status, const char *error, const char *desc)
{
    oas_jsonw_t w;
    const char *body;

    /* error and desc are our own constants (RFC 6750 §3 charset), never input */
    apr_table_setn(
        r->err_headers_out, "WWW-Authenticate",
        error ? apr_psprintf(r->pool, "Bearer error=\"%s\", error_description=\"%s\"", error, desc)
              : "Bearer");
    oas_jsonw_init(&w, r->pool, 128);
    oas_jsonw_str(&w, "error", error);
    oas_jsonw_str(&w, "error_description", desc);
    body = oas_jsonw_end(&w);
    return oas_mod_send_json(r, status, body ? body : "{}");
}

int oas_mod_userinfo(request_rec *r, const oas_issuer_t *iss)
{
    const char *h = apr_table_get(r->headers_in, "Authorization");
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    const char *tok = NULL, *perr, *body;
    apr_table_t *form;
    oas_err_t e;
    int status;

    if ((status = oas_mod_check_method(r, 1, 1)) != OK)
        return status;
    if (h && !strncasecmp(h, "Bearer", 6) && (!h[6] || h[6] == ' ')) {
        /* RFC 6750 §3.1: a malformed Bearer credential is invalid_request (400); another
         * scheme is no Bearer credential at all (401 without an error code, below) */
        if (h[6] != ' ' || !h[7] || ap_strchr_c(h + 7, ' '))
            return bearer_error(r, 400, "invalid_request", "malformed Bearer credential");
        tok = h + 7;
    }
    if (r->method_number == M_POST && ct &&
        !strncasecmp(ct, "application/x-www-form-urlencoded", 33)) {
        /* RFC 6750 §2.2: the form body may carry the token */
        if ((status = oas_mod_read_form(&form, &perr, r, (apr_size_t)oas_iss_max_body(iss))) != OK)
            return status;
        if (!form)
            return bearer_error(r, 400, "invalid_request", "malformed request body");
        if (apr_table_get(form, "access_token")) {
            if (tok)
                return bearer_error(r, 400, "invalid_request", "more than one token");
            tok = apr_table_get(form, "access_token");
        }
    }
    if (!tok)
        return bearer_error(r, 401, NULL, NULL); /* RFC 6750 §3.1: no error code */
    if (oas_userinfo(&body, &e, oas_mod_ctx(r, iss), tok) != APR_SUCCESS) {
        oas_mod_log_err(r, &e);
        return bearer_error(r, e.status, e.error, e.description);
    }
    return oas_mod_send_json(r, HTTP_OK, body);
}
