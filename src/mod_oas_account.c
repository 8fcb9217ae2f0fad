/* mod_oauth_as: the user's page of allowed applications (OAuthASEndpoint account), behind the
 * site's authentication like /authorize; the core (oas_account.h) lists and revokes. GET shows
 * the page; its revoke buttons POST back here and are answered 303 to the page again. */
#include <apr_strings.h>
#include <http_protocol.h>
#include <http_request.h>

#include "mod_oas_endpoints.h"
#include "mod_oas_request.h"
#include "mod_oas_store.h"
#include "oas_account.h"
#include "oas_form.h"

static int show_page(request_rec *r, oas_ctx_t *x, const oas_issuer_t *iss)
{
    oas_account_view_t v;
    apr_array_header_t *apps;
    oas_err_t e;

    if (oas_account_list(&apps, &e, x) != APR_SUCCESS ||
        oas_account_csrf(&v.csrf, &e, x) != APR_SUCCESS)
        return oas_mod_send_err_page(r, &e);
    v.user = r->user;
    v.action = r->uri;
    v.apps = apps;
    v.revoked = r->args && !strcmp(r->args, "revoked=1");
    return oas_mod_send_html(r, HTTP_OK, oas_account_render(x, iss->account_tmpl, &v));
}

static int revoke_app(request_rec *r, oas_ctx_t *x, const oas_issuer_t *iss)
{
    oas_account_form_t f;
    apr_table_t *form;
    const char *perr, *dup;
    char *body;
    apr_size_t len = 0;
    oas_err_t e;
    int status;

    if ((status = oas_mod_read_form_raw(&body, &len, &perr, r,
                                        (apr_size_t)oas_iss_max_body(iss))) != OK)
        return status;
    if (!body || oas_form_parse_first(&form, &dup, r->pool, body, len, OAS_MAX_FORM_PAIRS) !=
                     APR_SUCCESS ||
        dup)
        return oas_mod_send_error_page(r, HTTP_BAD_REQUEST, "Invalid request",
                                       "The form is malformed (bad encoding, or a field "
                                       "repeated).");
    f.client_id = apr_table_get(form, "client_id");
    f.csrf = apr_table_get(form, "csrf");
    oas_mod_form_site(r, &f.origin, &f.site, &f.our_origin);
    if (oas_account_revoke(&e, x, &f) != APR_SUCCESS)
        return oas_mod_send_err_page(r, &e);
    /* a reload of the page that follows must not post again */
    return oas_mod_redirect(r, apr_pstrcat(r->pool, r->uri, "?revoked=1", NULL), HTTP_SEE_OTHER);
}

int oas_mod_account(request_rec *r, const oas_issuer_t *iss)
{
    int status;

    if ((status = oas_mod_check_method(r, 1, 1)) != OK)
        return status;
    if (!r->user)
        return oas_mod_unprotected(r, "account");
    if (r->header_only) /* HEAD: a link scanner or prefetch must change nothing */
        return oas_mod_send_html(r, HTTP_OK, "");
    if (r->method_number == M_POST)
        return revoke_app(r, oas_mod_ctx(r, iss), iss);
    return show_page(r, oas_mod_ctx(r, iss), iss);
}
