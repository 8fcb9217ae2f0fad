/* mod_oauth_as: the endpoints that look at issued tokens: userinfo (OIDC Core §5.3),
 * revocation (RFC 7009) and introspection (RFC 7662). */
#include <http_protocol.h>

#include "mod_oas_client.h"
#include "mod_oas_endpoints.h"
#include "mod_oas_request.h"
#include "mod_oas_store.h"
#include "oas_authz.h"
#include "oas_json.h"
#include "oas_token.h"

static apr_int64_t now_sec(void)
{
    return apr_time_sec(apr_time_now());
}

/* An access token of ours that is valid, not revoked and whose refresh family (if any) is
 * still live: its claims, and its store record (family, userinfo claims) in *prec. */
static json_t *live_access_token(request_rec *r, const oas_issuer_t *iss, const char *tok,
                                 json_t **prec)
{
    oas_store_t *lst = oas_mod_store_long(r, iss);
    json_t *c, *rec = NULL;
    const char *fam;
    char *v;
    apr_size_t n;
    apr_status_t rv;

    if (prec)
        *prec = NULL;
    if (oas_token_verify_access(&c, r->pool, iss, tok, now_sec()) != APR_SUCCESS)
        return NULL;
    if (!lst || oas_store_get(lst, r->pool, OAS_NS_REVOKED, oas_json_str(c, "jti"), &v, &n) !=
                    APR_NOTFOUND)
        return NULL; /* revoked, or the store cannot tell: not active */
    rv = oas_store_get(lst, r->pool, OAS_NS_ACCESS, oas_json_str(c, "jti"), &v, &n);
    if (rv == APR_SUCCESS && oas_json_parse(&rec, r->pool, v, n) == APR_SUCCESS &&
        (fam = oas_json_str(rec, "fam")) &&
        oas_store_get(lst, r->pool, OAS_NS_FAMILY, fam, &v, &n) != APR_SUCCESS)
        return NULL; /* its grant was revoked */
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND)
        return NULL;
    if (prec)
        *prec = rec;
    return c;
}

/* A live refresh token of ours: its grant, else NULL. */
static oas_grant_t *live_refresh_token(request_rec *r, const oas_issuer_t *iss, const char *tok)
{
    oas_store_t *lst = oas_mod_store_long(r, iss);
    oas_grant_t *g;
    char *v;
    apr_size_t n;

    if (!lst || oas_store_get(lst, r->pool, OAS_NS_REFRESH, tok, &v, &n) != APR_SUCCESS ||
        oas_grant_from_json(&g, r->pool, v, n) != APR_SUCCESS || !g->family ||
        strcmp(g->iss, iss->issuer) ||
        oas_store_get(lst, r->pool, OAS_NS_FAMILY, g->family, &v, &n) != APR_SUCCESS)
        return NULL;
    return g;
}

/* ---- userinfo ---- */

static int bearer_error(request_rec *r, int status, const char *error, const char *desc)
{
    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   error ? apr_psprintf(r->pool, "Bearer error=\"%s\", error_description=\"%s\"",
                                        error, desc)
                         : "Bearer");
    if (!error)
        return oas_mod_send_json(r, status, "{}");
    return oas_mod_send_json(r, status,
                             apr_psprintf(r->pool, "{\"error\":\"%s\",\"error_description\":\"%s\"}",
                                          error, desc));
}

int oas_mod_userinfo(request_rec *r, const oas_issuer_t *iss)
{
    const char *h = apr_table_get(r->headers_in, "Authorization");
    const char *tok = NULL, *perr, *sub, *ui = NULL;
    apr_table_t *form;
    json_t *c, *rec;
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
    if (r->method_number == M_POST && apr_table_get(r->headers_in, "Content-Type") &&
        !strncasecmp(apr_table_get(r->headers_in, "Content-Type"),
                     "application/x-www-form-urlencoded", 33)) {
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
    if (!(c = live_access_token(r, iss, tok, &rec)))
        return bearer_error(r, 401, "invalid_token", "the access token is invalid");
    if (strcmp(oas_json_str(c, "aud") ? oas_json_str(c, "aud") : "", iss->issuer) ||
        !oas_list_has(oas_scope_split(r->pool, oas_json_str(c, "scope")), "openid"))
        return bearer_error(r, 403, "insufficient_scope",
                            "the access token is not for userinfo (needs openid)");
    sub = oas_json_str(c, "sub");
    if (rec && json_is_object(json_object_get(rec, "ui")))
        ui = oas_json_dumps(r->pool, json_object_get(rec, "ui"), 0);
    if (!ui) {
        json_t *o = oas_json_adopt(r->pool, json_object());
        json_object_set_new(o, "sub", json_string(sub));
        ui = oas_json_dumps(r->pool, o, 0);
    }
    return oas_mod_send_json(r, HTTP_OK, ui);
}

/* ---- revocation and introspection: confidential clients only ---- */

static int confidential_request(const oas_client_t **pc, apr_table_t **pform, request_rec *r,
                                const oas_issuer_t *iss, const char **ptok)
{
    int status = oas_mod_client_request(pc, pform, r, iss);

    *ptok = NULL;
    if (status != OK || !*pc)
        return status;
    if (oas_client_is_public(*pc)) {
        *pc = NULL;
        return oas_mod_send_oauth_error(r, 401, "invalid_client",
                                        "this endpoint is for confidential clients");
    }
    if (!(*ptok = apr_table_get(*pform, "token"))) {
        *pc = NULL;
        return oas_mod_send_oauth_error(r, 400, "invalid_request", "the token parameter is missing");
    }
    return OK;
}

int oas_mod_revoke(request_rec *r, const oas_issuer_t *iss)
{
    const oas_client_t *c;
    apr_table_t *form;
    const char *tok;
    oas_grant_t *g;
    json_t *at;
    int status = confidential_request(&c, &form, r, iss, &tok);

    if (status != OK || !c)
        return status;
    if ((g = live_refresh_token(r, iss, tok))) {
        if (!strcmp(g->client_id, c->id)) /* RFC 7009 §2.1: only the client's own tokens */
            oas_mod_revoke_family(r, iss, g->family, "revoked by its client");
    }
    else if ((at = live_access_token(r, iss, tok, NULL)) && oas_json_str(at, "client_id") &&
             !strcmp(oas_json_str(at, "client_id"), c->id)) {
        oas_store_t *lst = oas_mod_store_long(r, iss);
        if (!lst || oas_store_put(lst, r->pool, OAS_NS_REVOKED, oas_json_str(at, "jti"), "", 0,
                                  apr_time_from_sec(oas_json_int(at, "exp", 0) + 1)))
            return oas_mod_store_failure(r, APR_EGENERAL, "revoking an access token", 1);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAS_LOGNO(00160)
                      "client %s revoked access token jti %s", c->id, oas_json_str(at, "jti"));
    }
    /* RFC 7009 §2.2: unknown, foreign or already invalid tokens get 200 as well */
    return oas_mod_send_json(r, HTTP_OK, "{}");
}

int oas_mod_introspect(request_rec *r, const oas_issuer_t *iss)
{
    const oas_client_t *c;
    apr_table_t *form;
    const char *tok;
    oas_grant_t *g;
    json_t *at, *o;
    int status = confidential_request(&c, &form, r, iss, &tok);

    if (status != OK || !c)
        return status;
    o = oas_json_adopt(r->pool, json_object());
    if ((at = live_access_token(r, iss, tok, NULL))) {
        static const char *const copy[] = {"scope", "client_id", "sub", "aud", "iss",
                                           "exp",   "iat",       "jti", "auth_time", NULL};
        int i;
        json_object_set_new(o, "active", json_true());
        for (i = 0; copy[i]; i++) {
            json_t *v = json_object_get(at, copy[i]);
            if (v)
                json_object_set(o, copy[i], v);
        }
        json_object_set_new(o, "token_type", json_string("Bearer"));
    }
    else if ((g = live_refresh_token(r, iss, tok))) {
        json_object_set_new(o, "active", json_true());
        json_object_set_new(o, "scope", json_string(g->scope));
        json_object_set_new(o, "client_id", json_string(g->client_id));
        json_object_set_new(o, "sub", json_string(g->sub));
        json_object_set_new(o, "iss", json_string(g->iss));
        json_object_set_new(o, "token_type", json_string("refresh_token"));
    }
    else {
        json_object_set_new(o, "active", json_false());
    }
    return oas_mod_send_json(r, HTTP_OK, oas_json_dumps(r->pool, o, 0));
}
