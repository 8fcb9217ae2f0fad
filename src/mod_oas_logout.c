/* mod_oauth_as: OAuthASEndpoint end-session, OpenID Connect RP-Initiated Logout 1.0 (GET and
 * POST) and the confirmation form posted back to it. The checks and the confirmation's
 * transaction are the core's (oas_logout.h); here the session is read from its cookie, ended
 * (oas_session.h), the clients told (oas_logout_notify.h) and the pages sent. */
#include <apr_strings.h>
#include <http_protocol.h>
#include <http_request.h>

#include "mod_oas_endpoints.h"
#include "mod_oas_request.h"
#include "mod_oas_session.h"
#include "mod_oas_store.h"
#include "oas_logout.h"
#include "oas_logout_notify.h"

/* Our own "signed out" page: where OAuthASLogoutURL returns to when the client named no
 * post_logout_redirect_uri. */
static const char *signed_out_url(request_rec *r, const oas_issuer_t *iss)
{
    return apr_pstrcat(r->pool, iss->issuer_origin, iss->endpoints[OAS_EP_END_SESSION],
                       "?" OAS_LOGOUT_DONE_QUERY "=1", NULL);
}

static int render(request_rec *r, const oas_issuer_t *iss, const oas_logout_view_t *v)
{
    const char *page = oas_logout_render(r->pool, iss->logout_tmpl, iss, v);

    return oas_mod_send_html_frames(r, HTTP_OK, page, oas_logout_frame_src(r->pool, v->frames));
}

static int show(request_rec *r, const oas_issuer_t *iss, oas_logout_view_e view, const char *user)
{
    oas_logout_view_t v;

    memset(&v, 0, sizeof(v));
    v.view = view;
    v.user = user;
    return render(r, iss, &v);
}

/* Ends session s (when there is one), tells its clients, forgets the cookie, and sends the
 * browser on: to the signed-out page with the front-channel iframes, which then goes on by
 * itself; else straight to OAuthASLogoutURL or the client; else our signed-out page. */
static int log_out(request_rec *r, oas_ctx_t *x, const oas_session_t *s,
                   const oas_logout_req_t *req)
{
    apr_array_header_t *front = NULL;
    oas_logout_view_t v;
    oas_err_t e;

    if (s) {
        if (oas_session_end(x, s, &e) != APR_SUCCESS)
            return oas_mod_send_err_page(r, &e);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAS_LOGNO(00650)
                      "session %s of user %s ended by RP-initiated logout (client %s)", s->sid,
                      s->user ? s->user : "-", req->client ? req->client->id : "-");
        oas_logout_notify(&front, x, s); /* logs what it could not queue */
    }
    oas_mod_session_clear(r);
    memset(&v, 0, sizeof(v));
    v.view = OAS_LOGOUT_SIGNED_OUT;
    v.frames = front;
    v.next = oas_logout_next(r->pool, x->iss, req, signed_out_url(r, x->iss));
    if (front && front->nelts)
        return render(r, x->iss, &v);
    if (v.next) /* after the form's POST, a 303 turns it into a GET */
        return oas_mod_redirect(r, v.next,
                                r->method_number == M_POST ? HTTP_SEE_OTHER
                                                           : HTTP_MOVED_TEMPORARILY);
    return render(r, x->iss, &v);
}

/* Asks the user: the request gave no valid hint, or one of another session. */
static int confirm(request_rec *r, oas_ctx_t *x, const oas_session_t *s,
                   const oas_logout_req_t *req)
{
    oas_logout_txn_t t;
    oas_logout_view_t v;
    oas_err_t e;

    if (oas_logout_txn_start(&t, x, &e, req, s) != APR_SUCCESS)
        return oas_mod_send_err_page(r, &e);
    memset(&v, 0, sizeof(v));
    v.view = OAS_LOGOUT_CONFIRM;
    v.user = s ? s->user : NULL;
    v.client = req->client;
    v.action = r->uri;
    v.txn = t.txn;
    v.csrf = t.csrf;
    return render(r, x->iss, &v);
}

/* The confirmation came back: allow logs out, deny keeps the session. */
static int decision(request_rec *r, oas_ctx_t *x, const oas_session_t *s, apr_table_t *form)
{
    oas_consent_form_t f;
    oas_logout_req_t req;
    oas_err_t e;
    int allow;

    oas_mod_decision_form(&f, r, form);
    if (oas_logout_decide(&req, &allow, x, &e, &f, s) != APR_SUCCESS)
        return oas_mod_send_err_page(r, &e);
    if (allow)
        return log_out(r, x, s, &req);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAS_LOGNO(00651)
                  "sign-out declined by the user: session %s kept", s ? s->sid : "-");
    return show(r, x->iss, OAS_LOGOUT_KEPT, s ? s->user : NULL);
}

int oas_mod_end_session(request_rec *r, const oas_issuer_t *iss)
{
    apr_table_t *params;
    const char *dup;
    oas_logout_req_t req;
    oas_session_t *s;
    oas_ctx_t *x;
    oas_err_t e;
    apr_status_t rv;
    int status;

    if ((status = oas_mod_read_params(&params, &dup, r, iss)) != OK || !params)
        return status;
    x = oas_mod_ctx(r, iss);
    if ((rv = oas_session_get(&s, x, oas_mod_session_cookie(r))) != APR_SUCCESS) {
        oas_store_refused(x, &e, rv, "reading the session");
        return oas_mod_send_err_page(r, &e);
    }
    if (r->method_number == M_POST && apr_table_get(params, "txn")) {
        if (dup)
            return oas_mod_send_error_page(r, HTTP_BAD_REQUEST, "Invalid request",
                                           "The sign-out form was submitted with a repeated "
                                           "field.");
        return decision(r, x, s, params);
    }
    if (oas_logout_validate(&req, x, &e, params, dup) != APR_SUCCESS)
        return oas_mod_send_err_page(r, &e);
    /* back from OAuthASLogoutURL (or anyone's link to it): "signed out" only when it is so */
    if (!s && !req.hint_valid && apr_table_get(params, OAS_LOGOUT_DONE_QUERY))
        return show(r, iss, OAS_LOGOUT_SIGNED_OUT, NULL);
    if (!oas_logout_needs_confirmation(&req, s))
        return log_out(r, x, s, &req);
    return confirm(r, x, s, &req);
}
