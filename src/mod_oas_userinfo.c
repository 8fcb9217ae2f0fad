/* mod_oauth_as: the userinfo endpoint (OIDC Core §5.3) with Bearer tokens (RFC 6750) and
 * DPoP-bound ones (RFC 9449 §7); the core (oas_liveness.h) checks the token and its proof and
 * answers. */
#include <http_protocol.h>

#include "mod_oas_endpoints.h"
#include "mod_oas_mtls.h"
#include "mod_oas_request.h"
#include "mod_oas_store.h"
#include "oas_dpop_endpoint.h"
#include "oas_jsonw.h"
#include "oas_keys.h"
#include "oas_liveness.h"
#include "oas_resource_server.h"

/* The DPoP challenge (RFC 9449 §7.1): the error, when there is one, and the algorithms. */
static const char *dpop_challenge(request_rec *r, const oas_issuer_t *iss, const char *error,
                                  const char *desc)
{
    apr_array_header_t *algs = oas_alg_names(r->pool, oas_dpop_algs(iss));
    const char *a =
        apr_pstrcat(r->pool, "algs=\"", apr_array_pstrcat(r->pool, algs, ' '), "\"", NULL);

    return error ? apr_psprintf(r->pool, "DPoP error=\"%s\", error_description=\"%s\", %s", error,
                                desc, a)
                 : apr_pstrcat(r->pool, "DPoP ", a, NULL);
}

/* An error answer with its challenge: DPoP when the token came with the DPoP scheme or the
 * proof failed, else Bearer; a request without any token is offered both. */
static int bearer_error(request_rec *r, const oas_issuer_t *iss, int dpop, int status,
                        const char *error, const char *desc)
{
    oas_jsonw_t w;
    const char *body;

    /* error and desc are our own constants (RFC 6750 §3 charset), never input */
    oas_mod_note_error(r, error);
    if (error && (dpop || !strcmp(error, "invalid_dpop_proof") || !strcmp(error, "use_dpop_nonce")))
        apr_table_setn(r->err_headers_out, "WWW-Authenticate", dpop_challenge(r, iss, error, desc));
    else if (error)
        apr_table_setn(
            r->err_headers_out, "WWW-Authenticate",
            apr_psprintf(r->pool, "Bearer error=\"%s\", error_description=\"%s\"", error, desc));
    else {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate", "Bearer");
        if (oas_dpop_algs(iss))
            apr_table_addn(r->err_headers_out, "WWW-Authenticate",
                           dpop_challenge(r, iss, NULL, NULL));
    }
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
    const char *tok, *perr, *body, *nonce = NULL;
    oas_dpop_req_t dpop;
    apr_table_t *form;
    oas_ctx_t *x;
    oas_err_t e;
    int status, scheme, is_dpop;

    if ((status = oas_mod_check_method(r, 1, 1)) != OK)
        return status;
    /* another scheme is no credential of ours at all (401 without an error code, below) */
    tok = oas_rs_credential(&scheme, h);
    is_dpop = scheme == OAS_RS_DPOP;
    if (tok && !*tok)
        return bearer_error(r, iss, is_dpop, 400, "invalid_request",
                            is_dpop ? "malformed DPoP credential" : "malformed Bearer credential");
    if (r->method_number == M_POST && ct &&
        !strncasecmp(ct, "application/x-www-form-urlencoded", 33)) {
        /* RFC 6750 §2.2: the form body may carry the token */
        if ((status = oas_mod_read_form(&form, &perr, r, (apr_size_t)oas_iss_max_body(iss))) != OK)
            return status;
        if (!form)
            return bearer_error(r, iss, is_dpop, 400, "invalid_request", "malformed request body");
        if (apr_table_get(form, "access_token")) {
            if (tok)
                return bearer_error(r, iss, is_dpop, 400, "invalid_request", "more than one token");
            tok = apr_table_get(form, "access_token");
        }
    }
    if (!tok)
        return bearer_error(r, iss, 0, 401, NULL, NULL); /* RFC 6750 §3.1: no error code */
    oas_mod_dpop_in(&dpop, r);
    x = oas_mod_ctx(r, iss);
    oas_mod_client_cert(r, x); /* RFC 8705 §3: for certificate-bound tokens */
    if (oas_userinfo(&body, &e, x, tok, is_dpop ? &dpop : NULL, &nonce) != APR_SUCCESS) {
        oas_mod_log_err(r, &e);
        oas_mod_dpop_nonce(r, nonce);
        return bearer_error(r, iss, is_dpop, e.status, e.error, e.description);
    }
    oas_mod_dpop_nonce(r, nonce);
    return oas_mod_send_json(r, HTTP_OK, body);
}
