/* mod_oauth_as: the token endpoint (RFC 6749 §3.2, §4.1.3, §5) and the client
 * authentication it shares with PAR. */
#include <http_protocol.h>

#include "mod_oas_client.h"
#include "mod_oas_endpoints.h"
#include "mod_oas_request.h"
#include "mod_oas_store.h"
#include "oas_json.h"
#include "oas_pkce.h"
#include "oas_token.h"
#include "oas_util.h"

static int send_err(request_rec *r, const oas_err_t *e)
{
    return oas_mod_send_oauth_error(r, e->status, e->error, e->description);
}

int oas_mod_client_request(const oas_client_t **pc, apr_table_t **pform, request_rec *r,
                           const oas_issuer_t *iss)
{
    const char *perr, *bid, *bsecret;
    oas_err_t err;
    int basic, status;

    *pc = NULL;
    *pform = NULL;
    if ((status = oas_mod_check_method(r, 0, 1)) != OK)
        return status;
    if ((status = oas_mod_read_form(pform, &perr, r, (apr_size_t)iss->max_body)) != OK)
        return status;
    if (!*pform)
        return oas_mod_send_oauth_error(r, HTTP_BAD_REQUEST, "invalid_request", perr);
    /* RFC 6749 §2.3.1, §3.2: parameters and credentials never travel in the URI */
    if (r->args && *r->args) {
        return oas_mod_send_oauth_error(r, HTTP_BAD_REQUEST, "invalid_request",
                                        "parameters must be sent in the request body");
    }
    basic = oas_mod_basic_credentials(&bid, &bsecret, r);
    if (oas_client_authenticate(pc, &err, r->pool, iss, basic, bid, bsecret, *pform) !=
        APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAS_LOGNO(00130)
                      "client authentication failed: %s", err.description);
        return send_err(r, &err);
    }
    return OK;
}

/* A second redemption by the rightful client: RFC 6749 §4.1.2 asks to revoke what the
 * first issued. Invalid replays (wrong client or verifier) revoke nothing (OAuth 2.1 §7.5.2). */
static void revoke_replayed(request_rec *r, const oas_issuer_t *iss, const oas_client_t *c,
                            const char *code, const char *verifier)
{
    oas_store_t *st = oas_mod_store_short(iss), *lst = oas_mod_store_long(iss);
    char *val;
    apr_size_t len;
    json_t *t;
    const char *jti, *cc;

    if (!st || !lst || oas_store_get(st, r->pool, OAS_NS_CODE_USED, code, &val, &len) ||
        oas_json_parse(&t, r->pool, val, len))
        return;
    jti = oas_json_str(t, "jti");
    cc = oas_json_str(t, "cc");
    if (!jti || strcmp(oas_json_str(t, "cid") ? oas_json_str(t, "cid") : "", c->id) ||
        (cc && !oas_pkce_verify_s256(verifier, cc)))
        return;
    if (oas_store_put(lst, r->pool, OAS_NS_REVOKED, jti, "", 0,
                      apr_time_from_sec(oas_json_int(t, "exp", 0) + 1)) == APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAS_LOGNO(00131)
                      "authorization code replayed by client %s: revoked the access token "
                      "jti %s issued from it",
                      c->id, jti);
    }
}

static int grant_authorization_code(request_rec *r, const oas_issuer_t *iss,
                                    const oas_client_t *c, apr_table_t *form)
{
    oas_store_t *st = oas_mod_store_short(iss);
    const char *code = apr_table_get(form, "code");
    const char *verifier = apr_table_get(form, "code_verifier");
    const char *ru = apr_table_get(form, "redirect_uri");
    const char *jti, *tomb;
    char *val;
    apr_size_t len;
    oas_grant_t *g;
    oas_tokens_t tok;
    apr_int64_t now = apr_time_sec(apr_time_now());
    apr_status_t rv;

    if (!code)
        return oas_mod_send_oauth_error(r, 400, "invalid_request", "the code parameter is missing");
    if (!st)
        return oas_mod_store_failure(r, APR_ENOTIMPL, "redeeming a code", 1);
    rv = oas_store_get(st, r->pool, OAS_NS_CODE, code, &val, &len);
    if (rv == APR_NOTFOUND) {
        revoke_replayed(r, iss, c, code, verifier);
        return oas_mod_send_oauth_error(r, 400, "invalid_grant",
                                        "the code is invalid, expired or already used");
    }
    if (rv != APR_SUCCESS)
        return oas_mod_store_failure(r, rv, "reading a code", 1);
    if (oas_grant_from_json(&g, r->pool, val, len) != APR_SUCCESS ||
        strcmp(g->iss, iss->issuer) || strcmp(g->client_id, c->id))
        return oas_mod_send_oauth_error(r, 400, "invalid_grant",
                                        "the code was not issued to this client");
    /* RFC 6749 §4.1.3: identical redirect_uri when the authorization request had one */
    if ((g->redirect_uri_sent && !ru) || (ru && strcmp(ru, g->redirect_uri)))
        return oas_mod_send_oauth_error(r, 400, "invalid_grant",
                                        "redirect_uri does not match the authorization request");
    if (g->code_challenge) {
        if (!verifier || !oas_pkce_verify_s256(verifier, g->code_challenge))
            return oas_mod_send_oauth_error(r, 400, "invalid_grant",
                                            "code_verifier does not match the code challenge");
    }
    else if (verifier) { /* RFC 9700 §4.8.2: PKCE downgrade */
        return oas_mod_send_oauth_error(r, 400, "invalid_request",
                                        "code_verifier sent but no code_challenge was used");
    }

    if (oas_random_token(&jti, r->pool, 16) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    /* the single commit point: only one redemption takes the code */
    rv = oas_store_take(st, r->pool, OAS_NS_CODE, code, NULL, NULL);
    if (rv == APR_NOTFOUND) {
        revoke_replayed(r, iss, c, code, verifier);
        return oas_mod_send_oauth_error(r, 400, "invalid_grant",
                                        "the code is invalid, expired or already used");
    }
    if (rv != APR_SUCCESS)
        return oas_mod_store_failure(r, rv, "redeeming a code", 1);
    if (oas_token_mint(&tok, r->pool, iss, c, g, jti, now) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAS_LOGNO(00132) "cannot sign tokens");
        return oas_mod_send_oauth_error(r, 500, "server_error", "cannot issue tokens");
    }
    /* a tombstone remembers what the code issued, so a replay can revoke it */
    {
        json_t *t = oas_json_adopt(r->pool, json_object());
        json_object_set_new(t, "cid", json_string(c->id));
        json_object_set_new(t, "jti", json_string(jti));
        json_object_set_new(t, "exp", json_integer(tok.exp));
        if (g->code_challenge)
            json_object_set_new(t, "cc", json_string(g->code_challenge));
        tomb = oas_json_dumps(r->pool, t, 0);
    }
    oas_store_put(st, r->pool, OAS_NS_CODE_USED, code, tomb, strlen(tomb),
                  apr_time_from_sec(tok.exp + 1));
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAS_LOGNO(00133)
                  "issued tokens to client %s for %s (jti %s)", c->id, g->sub, jti);
    return oas_mod_send_json(r, HTTP_OK, oas_token_response_json(r->pool, &tok, g->scope, NULL));
}

int oas_mod_token(request_rec *r, const oas_issuer_t *iss)
{
    const oas_client_t *c;
    apr_table_t *form;
    const char *gt;
    int status = oas_mod_client_request(&c, &form, r, iss);

    if (status != OK || !c)
        return status;
    gt = apr_table_get(form, "grant_type");
    if (!gt)
        return oas_mod_send_oauth_error(r, 400, "invalid_request", "grant_type is missing");
    if (!strcmp(gt, "authorization_code")) {
        if (!(c->grant_types & OAS_GRANT_CODE))
            return oas_mod_send_oauth_error(r, 400, "unauthorized_client",
                                            "the client may not use this grant type");
        return grant_authorization_code(r, iss, c, form);
    }
    if (!strcmp(gt, "refresh_token") || !strcmp(gt, "client_credentials")) {
        return oas_mod_send_oauth_error(r, 400, "unauthorized_client",
                                        "the client may not use this grant type");
    }
    return oas_mod_send_oauth_error(r, 400, "unsupported_grant_type",
                                    "the grant type is not supported");
}
