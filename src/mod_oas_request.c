/* mod_oauth_as: capped body reading, form and Basic parsing, and the response senders.
 * Every response of the module leaves through the senders below, so the cache and
 * security headers cannot be forgotten on one path. */
#include <apr_strings.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>

#include "mod_oas_request.h"
#include "oas_basic.h"
#include "oas_code_issue.h"
#include "oas_cors.h"
#include "oas_form.h"
#include "oas_html.h"
#include "oas_jsonw.h"

/* Reads the whole body up to max bytes (STYLE.md C11: never trust r->remaining). */
static int read_body(char **pbody, apr_size_t *plen, request_rec *r, apr_size_t max)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_bucket_brigade *acc = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_size_t total = 0;
    int eos = 0;

    while (!eos) {
        apr_bucket *b;
        apr_status_t rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES, APR_BLOCK_READ,
                                         HUGE_STRING_LEN);
        if (rv != APR_SUCCESS)
            return ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = APR_BUCKET_NEXT(b)) {
            const char *data;
            apr_size_t len;
            if (APR_BUCKET_IS_EOS(b)) {
                eos = 1;
                break;
            }
            if (APR_BUCKET_IS_METADATA(b))
                continue;
            if (apr_bucket_read(b, &data, &len, APR_BLOCK_READ) != APR_SUCCESS)
                return HTTP_BAD_REQUEST;
            if (len > max - total)
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            apr_brigade_write(acc, NULL, NULL, data, len);
            total += len;
        }
        apr_brigade_cleanup(bb);
    }
    *pbody = apr_palloc(r->pool, total + 1);
    *plen = total;
    if (total)
        apr_brigade_flatten(acc, *pbody, plen);
    (*pbody)[total] = '\0';
    return OK;
}

static int is_form_content_type(const char *ct)
{
    const char *semi;
    apr_size_t n;

    if (!ct)
        return 0;
    semi = ap_strchr_c(ct, ';');
    n = semi ? (apr_size_t)(semi - ct) : strlen(ct);
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if (n != 33 || strncasecmp(ct, "application/x-www-form-urlencoded", 33))
        return 0;
    if (semi) {
        /* only a UTF-8 charset parameter is allowed (RFC 6749 App. B) */
        const char *cs = ap_strcasestr(semi, "charset=");
        if (cs) {
            cs += 8;
            if (*cs == '"')
                cs++;
            if (strncasecmp(cs, "utf-8", 5) && strncasecmp(cs, "utf8", 4))
                return 0;
        }
    }
    return 1;
}

static const char *form_error(request_rec *r, const char *bad)
{
    if (bad)
        return apr_psprintf(r->pool, "invalid or repeated parameter: %s", bad);
    return "malformed form encoding";
}

int oas_mod_read_form_raw(char **pbody, apr_size_t *plen, const char **perr, request_rec *r,
                          apr_size_t max)
{
    *pbody = NULL;
    *perr = NULL;
    if (!is_form_content_type(apr_table_get(r->headers_in, "Content-Type"))) {
        /* the body is left unread: close the connection after the error response */
        *perr = "content type must be application/x-www-form-urlencoded";
        r->connection->keepalive = AP_CONN_CLOSE;
        return OK;
    }
    return read_body(pbody, plen, r, max);
}

int oas_mod_read_json(char **pbody, apr_size_t *plen, const char **perr, request_rec *r,
                      apr_size_t max)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    apr_size_t n = ct ? strcspn(ct, "; \t") : 0;

    *pbody = NULL;
    *perr = NULL;
    if (n != 16 || strncasecmp(ct, "application/json", 16)) {
        *perr = "content type must be application/json";
        r->connection->keepalive = AP_CONN_CLOSE; /* the body is left unread */
        return OK;
    }
    return read_body(pbody, plen, r, max);
}

int oas_mod_read_form(apr_table_t **ptab, const char **perr, request_rec *r, apr_size_t max)
{
    char *body;
    apr_size_t len = 0;
    const char *bad = NULL;
    int status;

    *ptab = NULL;
    if ((status = oas_mod_read_form_raw(&body, &len, perr, r, max)) != OK || !body)
        return status;
    if (oas_form_parse(ptab, &bad, r->pool, body, len, OAS_MAX_FORM_PAIRS) != APR_SUCCESS) {
        *ptab = NULL;
        *perr = form_error(r, bad);
    }
    return OK;
}

int oas_mod_query_form(apr_table_t **ptab, const char **perr, request_rec *r)
{
    const char *bad = NULL;
    const char *q = r->args ? r->args : "";
    apr_status_t rv = oas_form_parse(ptab, &bad, r->pool, q, strlen(q), OAS_MAX_FORM_PAIRS);

    *perr = NULL;
    if (rv != APR_SUCCESS) {
        *ptab = NULL;
        *perr = form_error(r, bad);
    }
    return OK;
}

/* The token of an Authorization header of scheme s (matched case-insensitively, RFC 9110
 * §11.1): NULL when h is of another scheme; "" when the credential is malformed. */
int oas_mod_basic_credentials(const char **pid, const char **psecret, request_rec *r)
{
    return oas_basic_parse(pid, psecret, r->pool, apr_table_get(r->headers_in, "Authorization"));
}

static int send_body(request_rec *r, int status, const char *ctype, const char *body)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);

    r->status = status;
    ap_set_content_type(r, ctype);
    ap_set_content_length(r, strlen(body));
    if (!r->header_only)
        apr_brigade_write(bb, NULL, NULL, body, strlen(body));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    return ap_pass_brigade_fchk(r, bb, NULL);
}

static int count_header(void *rec, const char *key, const char *value)
{
    ++*(int *)rec;
    return 1;
}

void oas_mod_dpop_in(oas_dpop_req_t *in, request_rec *r)
{
    memset(in, 0, sizeof(*in));
    in->header = apr_table_get(r->headers_in, "DPoP");
    /* header names are case-insensitive: "DPOP" counts too */
    apr_table_do(count_header, &in->header_count, r->headers_in, "DPoP", NULL);
    in->method = r->method;
}

void oas_mod_dpop_nonce(request_rec *r, const char *nonce)
{
    if (nonce)
        apr_table_setn(r->err_headers_out, "DPoP-Nonce", nonce);
}

int oas_mod_send_nostore(request_rec *r, int status, const char *ctype, const char *body)
{
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->err_headers_out, "Pragma", "no-cache");
    return send_body(r, status, ctype, body);
}

int oas_mod_send_json(request_rec *r, int status, const char *json)
{
    return oas_mod_send_nostore(r, status, "application/json", json);
}

/* The RFC 6749 §5.2 body; NULL when a string is not valid UTF-8 */
static const char *oauth_error_json(apr_pool_t *p, const char *error, const char *description)
{
    oas_jsonw_t w;

    oas_jsonw_init(&w, p, 256);
    oas_jsonw_str_keep_empty(&w, "error", error);
    oas_jsonw_str_keep_empty(&w, "error_description", description);
    return oas_jsonw_end(&w);
}

#define OAS_NOTE_ERROR "oauth-as-error"

void oas_mod_note_error(request_rec *r, const char *error)
{
    if (error)
        apr_table_setn(r->notes, OAS_NOTE_ERROR, error);
}

const char *oas_mod_noted_error(request_rec *r)
{
    return apr_table_get(r->notes, OAS_NOTE_ERROR);
}

int oas_mod_send_oauth_error(request_rec *r, int status, const char *error,
                             const char *description)
{
    /* error is one of our constants; the description may name a request parameter
     * (form_error), so it is escaped like every response, and left out if not UTF-8 */
    const char *body = oauth_error_json(r->pool, error, description);

    if (!body)
        body = oauth_error_json(r->pool, error, NULL);
    oas_mod_note_error(r, error);

    if (status == HTTP_UNAUTHORIZED) {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                       "Basic realm=\"oauth\", charset=\"UTF-8\"");
    }
    return oas_mod_send_json(r, status, body);
}

void oas_mod_log_err(request_rec *r, const oas_err_t *e)
{
    int level = e->level ? e->level : APLOG_INFO;

    if (e->detail)
        ap_log_rerror(APLOG_MARK, level, e->rv, r, "%s", e->detail);
    if (e->retry_after > 0)
        apr_table_setn(r->err_headers_out, "Retry-After",
                       apr_psprintf(r->pool, "%" APR_INT64_T_FMT, e->retry_after));
}

int oas_mod_send_err(request_rec *r, const oas_err_t *e)
{
    oas_mod_log_err(r, e);
    return oas_mod_send_oauth_error(r, e->status, e->error, e->description);
}

/* Our pages run no script, load nothing but their own images, and are never framed. */
#define CSP                                                                                     \
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "                     \
    "frame-ancestors 'none'; base-uri 'none'"

static void html_headers(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->err_headers_out, "Pragma", "no-cache");
    apr_table_setn(r->err_headers_out, "X-Frame-Options", "DENY");
    apr_table_setn(r->err_headers_out, "Content-Security-Policy", CSP);
    apr_table_setn(r->err_headers_out, "X-Content-Type-Options", "nosniff");
    apr_table_setn(r->err_headers_out, "Referrer-Policy", "no-referrer");
}

int oas_mod_send_html(request_rec *r, int status, const char *html)
{
    html_headers(r);
    return send_body(r, status, "text/html; charset=utf-8", html);
}

int oas_mod_send_html_frames(request_rec *r, int status, const char *html, const char *frame_src)
{
    html_headers(r);
    if (frame_src && *frame_src)
        apr_table_setn(r->err_headers_out, "Content-Security-Policy",
                       apr_pstrcat(r->pool, CSP "; frame-src ", frame_src, NULL));
    return send_body(r, status, "text/html; charset=utf-8", html);
}

int oas_mod_send_error_page(request_rec *r, int status, const char *title, const char *text)
{
    const char *t = oas_html_escape(r->pool, title);
    const char *page = apr_pstrcat(
        r->pool,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>",
        t,
        "</title><style>body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1d2433;"
        "margin:0}main{max-width:32rem;margin:10vh auto;background:#fff;border-radius:12px;"
        "padding:2rem;box-shadow:0 2px 12px rgba(0,0,0,.08)}h1{font-size:1.3rem;margin-top:0}"
        "</style></head><body><main><h1>",
        t, "</h1><p>", oas_html_escape(r->pool, text), "</p></main></body></html>\n", NULL);

    return oas_mod_send_html(r, status, page);
}

void oas_mod_form_site(request_rec *r, const char **porigin, const char **psite,
                       const char **pours)
{
    *porigin = apr_table_get(r->headers_in, "Origin");
    *psite = apr_table_get(r->headers_in, "Sec-Fetch-Site");
    *pours = apr_pstrcat(r->pool, ap_http_scheme(r), "://", apr_table_get(r->headers_in, "Host"),
                         NULL);
}

int oas_mod_send_err_page(request_rec *r, const oas_err_t *e)
{
    oas_mod_log_err(r, e);
    if (e->status == HTTP_SERVICE_UNAVAILABLE)
        return oas_mod_send_error_page(r, HTTP_SERVICE_UNAVAILABLE, "Temporarily unavailable",
                                       "The server is busy. Please try again in a moment.");
    if (e->status >= HTTP_INTERNAL_SERVER_ERROR)
        return HTTP_INTERNAL_SERVER_ERROR;
    if (e->status == HTTP_FORBIDDEN)
        return oas_mod_send_error_page(r, e->status, "Request refused", e->description);
    if (e->status == HTTP_TOO_MANY_REQUESTS)
        return oas_mod_send_error_page(r, e->status, "Too many requests",
                                       "Please try again later.");
    return oas_mod_send_error_page(
        r, e->status, strcmp(e->error, OAS_AUTHZ_GONE) ? "Invalid request" : "Request expired",
        e->description);
}

int oas_mod_read_params(apr_table_t **pparams, const char **pdup, request_rec *r,
                        const oas_issuer_t *iss)
{
    const char *data = r->args ? r->args : "";
    const char *perr;
    int status;

    *pparams = NULL;
    *pdup = NULL;
    if ((status = oas_mod_check_method(r, 1, 1)) != OK)
        return status;
    if (r->header_only) /* HEAD: a link scanner or prefetch must change nothing */
        return oas_mod_send_html(r, HTTP_OK, "");
    if (r->method_number == M_POST) {
        char *body;
        apr_size_t len = 0;
        status = oas_mod_read_form_raw(&body, &len, &perr, r, (apr_size_t)oas_iss_max_body(iss));
        if (status)
            return status;
        if (!body)
            return oas_mod_send_error_page(r, HTTP_BAD_REQUEST, "Invalid request", perr);
        data = *data ? apr_pstrcat(r->pool, data, "&", body, NULL) : body;
    }
    if (oas_form_parse_first(pparams, pdup, r->pool, data, strlen(data), OAS_MAX_FORM_PAIRS) !=
        APR_SUCCESS)
        return oas_mod_send_error_page(r, HTTP_BAD_REQUEST, "Invalid request",
                                       "The request is malformed (bad encoding, control "
                                       "characters or too many or too long parameters).");
    return OK;
}

void oas_mod_decision_form(oas_consent_form_t *f, request_rec *r, const apr_table_t *form)
{
    f->txn = apr_table_get(form, "txn");
    f->csrf = apr_table_get(form, "csrf");
    f->decision = apr_table_get(form, "decision");
    oas_mod_form_site(r, &f->origin, &f->site, &f->our_origin);
}

int oas_mod_redirect(request_rec *r, const char *location, int status)
{
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->err_headers_out, "Pragma", "no-cache");
    apr_table_setn(r->err_headers_out, "Referrer-Policy", "no-referrer");
    apr_table_setn(r->headers_out, "Location", location);
    return send_body(r, status, "text/html; charset=utf-8", "");
}

int oas_mod_cors(request_rec *r, const oas_issuer_t *iss, oas_endpoint_e ep)
{
    const char *methods = oas_cors_methods(ep), *allow;

    if (!methods || !iss->cors_origins)
        return DECLINED;
    if (!(allow = oas_cors_allow(iss, apr_table_get(r->headers_in, "Origin")))) {
        /* the answer depends on Origin: caches must not hand one origin's to another */
        apr_table_mergen(r->err_headers_out, "Vary", "Origin");
        return DECLINED;
    }
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Origin", allow);
    apr_table_setn(r->err_headers_out, "Access-Control-Expose-Headers", OAS_CORS_EXPOSE_HEADERS);
    if (strcmp(allow, "*"))
        apr_table_mergen(r->err_headers_out, "Vary", "Origin");
    if (r->method_number != M_OPTIONS ||
        !apr_table_get(r->headers_in, "Access-Control-Request-Method"))
        return DECLINED;
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Methods", methods);
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Headers", OAS_CORS_ALLOW_HEADERS);
    apr_table_setn(r->err_headers_out, "Access-Control-Max-Age", OAS_CORS_MAX_AGE);
    r->status = HTTP_NO_CONTENT;
    ap_set_content_length(r, 0);
    return OK;
}

int oas_mod_check_method(request_rec *r, int allow_get, int allow_post)
{
    int ok = (allow_get && (r->method_number == M_GET)) ||
             (allow_post && r->method_number == M_POST);

    if (ok)
        return OK;
    r->allowed = 0;
    if (allow_get)
        r->allowed |= (AP_METHOD_BIT << M_GET);
    if (allow_post)
        r->allowed |= (AP_METHOD_BIT << M_POST);
    /* the Allow header of a 405 is built from allowed_methods, not from r->allowed */
    r->allowed_methods->method_mask = r->allowed;
    return HTTP_METHOD_NOT_ALLOWED;
}
