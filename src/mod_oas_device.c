/* mod_oauth_as: the Device Authorization Grant's endpoints (RFC 8628; engine oas_device.h):
 * the device authorization endpoint (§3.1, a token-style endpoint), and the verification page
 * (§3.3) where a signed-in user types the code, then answers the consent page. */
#include <apr_strings.h>
#include <http_protocol.h>

#include "mod_oas_client.h"
#include "mod_oas_endpoints.h"
#include "mod_oas_request.h"
#include "mod_oas_store.h"
#include "oas_clients.h"
#include "oas_consent.h"
#include "oas_consent_txn.h"
#include "oas_device.h"
#include "oas_html.h"
#include "oas_jsonw.h"
#include "oas_uri.h"

int oas_mod_device(request_rec *r, const oas_issuer_t *iss)
{
    const oas_client_t *c;
    oas_ctx_t *x;
    apr_table_t *form;
    oas_device_auth_t a;
    const char *uri;
    apr_array_header_t *q;
    oas_jsonw_t o;
    oas_err_t e;
    int status = oas_mod_client_request(&x, &c, &form, r, iss);

    if (status != OK || !c)
        return status;
    if (oas_device_authorize(&a, &e, x, c, form) != APR_SUCCESS) {
        if (e.status >= HTTP_INTERNAL_SERVER_ERROR && e.status != HTTP_SERVICE_UNAVAILABLE) {
            oas_mod_log_err(r, &e);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        return oas_mod_send_err(r, &e);
    }
    uri = apr_pstrcat(r->pool, iss->issuer_origin, iss->endpoints[OAS_EP_DEVICE_VERIFY], NULL);
    q = apr_array_make(r->pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(q, const char *) = "user_code";
    APR_ARRAY_PUSH(q, const char *) = a.user_code;
    oas_jsonw_init(&o, r->pool, 512);
    oas_jsonw_str(&o, "device_code", a.device_code);
    oas_jsonw_str(&o, "user_code", a.user_code);
    oas_jsonw_str(&o, "verification_uri", uri);
    oas_jsonw_str(&o, "verification_uri_complete", oas_uri_add_query(r->pool, uri, q));
    oas_jsonw_int(&o, "expires_in", a.expires_in);
    oas_jsonw_int(&o, "interval", a.interval);
    return oas_mod_send_json(r, HTTP_OK, oas_jsonw_end(&o));
}

/* The page where the user types the code (message: why it is shown again, or NULL). */
static int code_form(request_rec *r, oas_ctx_t *x, const char *user_code, const char *message)
{
    const char *tok, *page;
    oas_err_t e;

    if (oas_device_form_token(&tok, &e, x) != APR_SUCCESS)
        return oas_mod_send_err_page(r, &e);
    page = apr_pstrcat(
        r->pool,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>Connect a device</title><style>body{font-family:system-ui,sans-serif;"
        "background:#f4f5f7;color:#1d2433;margin:0}main{max-width:28rem;margin:10vh auto;"
        "background:#fff;border-radius:12px;padding:2rem;box-shadow:0 2px 12px rgba(0,0,0,.08)}"
        "h1{font-size:1.3rem;margin-top:0}input[type=text]{font:inherit;font-size:1.4rem;"
        "letter-spacing:.15em;text-transform:uppercase;width:100%;box-sizing:border-box;"
        "padding:.6rem;border:1px solid #c9cfdb;border-radius:10px}button{margin-top:1rem;"
        "font:inherit;font-weight:600;padding:.7rem 1.2rem;border-radius:10px;border:0;"
        "background:#3b5bdb;color:#fff;cursor:pointer}.msg{color:#8a1c1c}</style></head>"
        "<body><main><h1>Connect a device</h1><p>Signed in as <strong>",
        oas_html_escape(r->pool, r->user), "</strong>. Type the code your device shows.</p>",
        message ? apr_pstrcat(r->pool, "<p class=\"msg\">", oas_html_escape(r->pool, message),
                              "</p>", NULL)
                : "",
        "<form method=\"post\" action=\"", oas_html_escape(r->pool, r->uri),
        "\"><input type=\"hidden\" name=\"csrf\" value=\"", oas_html_escape(r->pool, tok),
        "\"><label for=\"user_code\">Code</label><input type=\"text\" id=\"user_code\" "
        "name=\"user_code\" autocomplete=\"off\" autocapitalize=\"characters\" "
        "spellcheck=\"false\" maxlength=\"" APR_STRINGIFY(OAS_USER_CODE_MAX_INPUT) "\" value=\"",
        oas_html_escape(r->pool, user_code),
        "\" required><button type=\"submit\">Continue"
        "</button></form></main></body></html>\n",
        NULL);
    return oas_mod_send_html(r, HTTP_OK, page);
}

/* The code was typed: the consent page for the request it names. */
static int code_typed(request_rec *r, oas_ctx_t *x, const oas_issuer_t *iss, apr_table_t *form)
{
    const char *code = apr_table_get(form, "user_code");
    oas_consent_form_t f;
    oas_consent_view_t v;
    oas_consent_txn_t t;
    oas_pending_t pd;
    oas_err_t e;

    oas_mod_decision_form(&f, r, form);
    if (!oas_consent_same_site(f.origin, f.site, f.our_origin)) {
        ap_log_rerror(
            APLOG_MARK, APLOG_INFO, 0, r,
            OAS_LOGNO(00710) "device code form of user %s refused: posted from another site",
            r->user);
        return oas_mod_send_error_page(r, HTTP_FORBIDDEN, "Request refused",
                                       "The form was submitted from another site.");
    }
    if (oas_device_form_check(&e, x, apr_table_get(form, "csrf")) != APR_SUCCESS)
        return oas_mod_send_err_page(r, &e);
    if (oas_device_lookup(&pd, &e, x, code, apr_time_sec(r->request_time)) != APR_SUCCESS) {
        if (e.status != HTTP_BAD_REQUEST || strcmp(e.error, "invalid_request"))
            return oas_mod_send_err_page(r, &e);
        oas_mod_log_err(r, &e);
        return code_form(r, x, code, e.description);
    }
    pd.grant->claims_json = oas_mod_eval_claims(r, iss);
    if (oas_consent_txn_start(&t, x, &e, &pd) != APR_SUCCESS) {
        e.page = 1;
        return oas_mod_send_err_page(r, &e);
    }
    memset(&v, 0, sizeof(v));
    v.client = oas_ctx_client(x, pd.grant->client_id);
    v.user = r->user;
    v.scope = pd.grant->scope;
    v.resource = pd.grant->resource;
    v.action = r->uri;
    v.txn = t.txn;
    v.csrf = t.csrf;
    v.other_device = 1;
    if (!v.client)
        return oas_mod_send_error_page(r, HTTP_BAD_REQUEST, "Invalid request",
                                       "The application is not known any more.");
    return oas_mod_send_html(r, HTTP_OK, oas_consent_render(r->pool, iss->consent_tmpl, iss, &v));
}

/* The consent page came back: the decision goes to the device. */
static int decided(request_rec *r, oas_ctx_t *x, apr_table_t *form)
{
    oas_consent_form_t f;
    oas_pending_t pd;
    oas_err_t e;
    int allow;

    oas_mod_decision_form(&f, r, form);
    f.device = 1;
    allow = oas_consent_decide(&pd, x, &e, &f) == APR_SUCCESS;
    if (!allow && (e.page || !pd.device || strcmp(e.error, "access_denied")))
        return oas_mod_send_err_page(r, &e);
    if (oas_device_decide(&e, x, &pd, allow) != APR_SUCCESS)
        return oas_mod_send_err_page(r, &e);
    if (!allow)
        return oas_mod_send_error_page(r, HTTP_OK, "Request denied",
                                       "The device was not connected. You may close this page.");
    return oas_mod_send_error_page(r, HTTP_OK, "Device connected",
                                   "You may return to your device. You may close this page.");
}

int oas_mod_device_verify(request_rec *r, const oas_issuer_t *iss)
{
    apr_table_t *form = NULL;
    const char *perr = NULL;
    oas_ctx_t *x;
    int status;

    if ((status = oas_mod_check_method(r, 1, 1)) != OK)
        return status;
    if (r->header_only) /* HEAD: a link scanner or prefetch must change nothing */
        return oas_mod_send_html(r, HTTP_OK, "");
    if (!r->user)
        return oas_mod_unprotected(r, "device verification");
    x = oas_mod_ctx(r, iss);
    if (r->method_number == M_GET) {
        if ((status = oas_mod_query_form(&form, &perr, r)) != OK)
            return status;
        return code_form(r, x, form ? apr_table_get(form, "user_code") : NULL, NULL);
    }
    if ((status = oas_mod_read_form(&form, &perr, r, (apr_size_t)oas_iss_max_body(iss))) != OK)
        return status;
    if (!form)
        return oas_mod_send_error_page(r, HTTP_BAD_REQUEST, "Invalid request", perr);
    if (apr_table_get(form, "txn"))
        return decided(r, x, form);
    return code_typed(r, x, iss, form);
}
