/* mod_oauth_as: the token endpoint (RFC 6749 §3.2, §4.1.3, §5) and the client
 * authentication it shares with PAR. */
#include <http_protocol.h>

#include "mod_oas_client.h"
#include "mod_oas_endpoints.h"
#include "mod_oas_request.h"
#include "mod_oas_store.h"
#include "oas_authz.h"
#include "oas_json.h"
#include "oas_jsonr.h"
#include "oas_jsonw.h"
#include "oas_pkce.h"
#include "oas_token.h"
#include "oas_util.h"

/* Revokes a refresh-token family: every token of it stops working at once. */
void oas_mod_revoke_family(request_rec *r, const oas_issuer_t *iss, const char *family,
                           const char *why)
{
    oas_store_t *lst = oas_mod_store_long(r, iss);

    if (family && lst && oas_store_del(lst, r->pool, OAS_NS_FAMILY, family) == APR_SUCCESS)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAS_LOGNO(00134)
                      "revoked a refresh token family: %s", why);
}

/* A second redemption by the rightful client: RFC 6749 §4.1.2 asks to revoke what the
 * first issued. Invalid replays (wrong client or verifier) revoke nothing (OAuth 2.1 §7.5.2). */
static void revoke_replayed(request_rec *r, const oas_issuer_t *iss, const oas_client_t *c,
                            const char *code, const char *verifier)
{
    oas_store_t *st = oas_mod_store_short(r, iss), *lst = oas_mod_store_long(r, iss);
    char *val;
    apr_size_t len;
    oas_jobj_t t;
    const char *jti, *cc;

    if (!st || !lst || oas_store_get(st, r->pool, OAS_NS_CODE_USED, code, &val, &len) ||
        oas_jsonr_parse(&t, r->pool, val, len))
        return;
    jti = oas_jobj_str(&t, "jti");
    cc = oas_jobj_str(&t, "cc");
    if (!jti || strcmp(oas_jobj_str(&t, "cid") ? oas_jobj_str(&t, "cid") : "", c->id) ||
        (cc && !oas_pkce_verify_s256(verifier, cc)))
        return;
    if (oas_store_put(lst, r->pool, OAS_NS_REVOKED, jti, "", 0,
                      apr_time_from_sec(oas_jobj_int(&t, "exp", 0) + 1)) == APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, OAS_LOGNO(00131)
                      "authorization code replayed by client %s: revoked the access token "
                      "jti %s issued from it",
                      c->id, jti);
    }
    oas_mod_revoke_family(r, iss, oas_jobj_str(&t, "fam"), "its authorization code was replayed");
}

/* A new refresh token for grant g: of a new family when g has none, else of g's family.
 * A family is created once with an absolute lifetime and never written again, so a
 * revocation (which deletes it) cannot be undone by a rotation racing with it. */
static apr_status_t new_refresh_token(const char **prt, request_rec *r, const oas_issuer_t *iss,
                                      const oas_client_t *c, oas_grant_t *g)
{
    oas_store_t *lst = oas_mod_store_long(r, iss);
    const char *json;
    apr_status_t rv;

    if (!lst)
        return APR_ENOTIMPL;
    if (!g->family) {
        g->family_exp = apr_time_sec(apr_time_now()) + oas_client_rt_ttl(iss, c);
        if ((rv = oas_random_token(&g->family, r->pool, 16)) ||
            (rv = oas_store_put_new(lst, r->pool, OAS_NS_FAMILY, g->family, "1", 1,
                                    apr_time_from_sec(g->family_exp))))
            return rv;
    }
    if ((rv = oas_random_token(prt, r->pool, OAS_TOKEN_BYTES)) ||
        (rv = oas_grant_to_json(&json, r->pool, g)))
        return rv;
    return oas_store_put_new(lst, r->pool, OAS_NS_REFRESH, *prt, json, strlen(json),
                             apr_time_from_sec(g->family_exp));
}

/* Mints the tokens of grant g, keeps the user's claims for userinfo, answers 200. */
static int send_tokens(request_rec *r, const oas_issuer_t *iss, const oas_client_t *c,
                       const oas_grant_t *g, const char *jti, const char *refresh_token)
{
    oas_store_t *st = oas_mod_store_long(r, iss);
    oas_tokens_t tok;

    if (oas_token_mint(&tok, r->pool, iss, c, g, jti, apr_time_sec(apr_time_now())) !=
        APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAS_LOGNO(00132) "cannot sign tokens");
        return oas_mod_send_oauth_error(r, 500, "server_error", "cannot issue tokens");
    }
    /* what the access token itself does not say: the family it lives and dies with
     * (RFC 9700 §4.14.2: a revoked grant takes its access tokens along) and, for userinfo,
     * the user's claims */
    if (st && (g->family || (tok.id_token && g->claims_json))) {
        oas_jsonw_t w;
        const char *rec;
        oas_jsonw_init(&w, r->pool, 256);
        oas_jsonw_str(&w, "fam", g->family);
        if (tok.id_token && g->claims_json)
            oas_jsonw_raw(&w, "ui",
                          oas_token_userinfo_json(r->pool, g->sub, g->scope, g->claims_json));
        if ((rec = oas_jsonw_end(&w)))
            oas_store_put(st, r->pool, OAS_NS_ACCESS, jti, rec, strlen(rec),
                          apr_time_from_sec(tok.exp + 1));
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAS_LOGNO(00133)
                  "issued tokens to client %s for %s (jti %s)", c->id, g->sub, jti);
    return oas_mod_send_json(r, HTTP_OK,
                             oas_token_response_json(r->pool, &tok, g->scope, refresh_token));
}

static int wants_refresh(const oas_client_t *c, const char *scope, apr_pool_t *p)
{
    return (c->grant_types & OAS_GRANT_REFRESH) &&
           oas_list_has(oas_scope_split(p, scope), "offline_access");
}

static int grant_authorization_code(request_rec *r, const oas_issuer_t *iss,
                                    const oas_client_t *c, apr_table_t *form)
{
    oas_store_t *st = oas_mod_store_short(r, iss);
    const char *code = apr_table_get(form, "code");
    const char *verifier = apr_table_get(form, "code_verifier");
    const char *ru = apr_table_get(form, "redirect_uri");
    const char *jti, *tomb, *rt = NULL;
    char *val;
    apr_size_t len;
    oas_grant_t *g;
    oas_jsonw_t t;
    apr_int64_t exp;
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
    if (wants_refresh(c, g->scope, r->pool) &&
        (rv = new_refresh_token(&rt, r, iss, c, g)) != APR_SUCCESS)
        return oas_mod_store_failure(r, rv, "storing a refresh token", 1);

    /* a tombstone remembers what the code issued, so a replay can revoke it */
    exp = apr_time_sec(apr_time_now()) +
          oas_client_at_ttl(iss, c, g->resource ? oas_issuer_resource(iss, g->resource) : NULL);
    oas_jsonw_init(&t, r->pool, 256);
    oas_jsonw_str(&t, "cid", c->id);
    oas_jsonw_str(&t, "jti", jti);
    oas_jsonw_int(&t, "exp", exp);
    oas_jsonw_str(&t, "cc", g->code_challenge);
    oas_jsonw_str(&t, "fam", g->family);
    tomb = oas_jsonw_end(&t);
    /* A replay comes soon after the theft it reveals: the tombstone lives twice the code
     * lifetime (at least two minutes), not as long as the tokens, so that a busy server does
     * not fill its store with dead codes. */
    if (tomb)
        oas_store_put(st, r->pool, OAS_NS_CODE_USED, code, tomb, strlen(tomb),
                      apr_time_now() + apr_time_from_sec(oas_iss_code_ttl(iss) * 2 > 120
                                                             ? oas_iss_code_ttl(iss) * 2
                                                             : 120));
    return send_tokens(r, iss, c, g, jti, rt);
}

/* FAPI 2.0 SP §5.3.2.1: a confidential client that lost the answer to a rotating refresh may
 * retry with the previous token for OAuthASRefreshTokenGrace seconds (the marker then keeps
 * the grant); a public client never: for it any second use is a theft (RFC 9700 §4.14.2). */
static int retry_allowed(const oas_issuer_t *iss, const oas_client_t *c)
{
    return oas_iss_rt_grace(iss) > 0 && !oas_client_is_public(c);
}

/* A rotated-out token came back. Within the grace window of a confidential client this is a
 * retry: *pval gets the grant kept in the marker and 1 is returned. Otherwise its family is
 * revoked (reuse detection) and 0 is returned. */
static int rotated_out(char **pval, apr_size_t *plen, request_rec *r, const oas_issuer_t *iss,
                       const oas_client_t *c, const char *marker, apr_size_t mlen)
{
    oas_jobj_t m;
    const char *g;
    apr_int64_t now = apr_time_sec(apr_time_now());

    if (oas_jsonr_parse(&m, r->pool, marker, mlen) != APR_SUCCESS ||
        strcmp(oas_jobj_str(&m, "cid") ? oas_jobj_str(&m, "cid") : "", c->id))
        return 0; /* another client's token: nothing of ours to revoke */
    if (retry_allowed(iss, c) && (g = oas_jobj_object(&m, "g")) &&
        now - oas_jobj_int(&m, "t", 0) <= oas_iss_rt_grace(iss)) {
        *pval = (char *)g;
        *plen = strlen(g);
        return 1;
    }
    oas_mod_revoke_family(r, iss, oas_jobj_str(&m, "fam"),
                          "a rotated-out refresh token was used again");
    return 0;
}

/* RFC 6749 §6, RFC 9700 §4.14.2: rotation with reuse detection for public clients (and
 * confidential ones that ask for it); a rotated-out token presented again revokes its family. */
static int grant_refresh_token(request_rec *r, const oas_issuer_t *iss, const oas_client_t *c,
                               apr_table_t *form)
{
    oas_store_t *lst = oas_mod_store_long(r, iss);
    const char *rt = apr_table_get(form, "refresh_token");
    const char *scope = apr_table_get(form, "scope");
    const char *jti, *new_rt = NULL, *marker;
    char *val, *fam;
    apr_size_t len;
    oas_grant_t *g, use;
    oas_jsonw_t w;
    apr_status_t rv;
    int retry = 0;

    if (!rt)
        return oas_mod_send_oauth_error(r, 400, "invalid_request",
                                        "the refresh_token parameter is missing");
    if (!lst)
        return oas_mod_store_failure(r, APR_ENOTIMPL, "reading a refresh token", 1);
    rv = oas_store_get(lst, r->pool, OAS_NS_REFRESH, rt, &val, &len);
    if (rv == APR_NOTFOUND) {
        rv = oas_store_get(lst, r->pool, OAS_NS_REFRESH_USED, rt, &val, &len);
        if (rv != APR_SUCCESS && rv != APR_NOTFOUND)
            return oas_mod_store_failure(r, rv, "reading a refresh token", 1);
        if (rv == APR_NOTFOUND || !(retry = rotated_out(&val, &len, r, iss, c, val, len)))
            return oas_mod_send_oauth_error(r, 400, "invalid_grant",
                                            "the refresh token is invalid or expired");
    }
    else if (rv != APR_SUCCESS) {
        return oas_mod_store_failure(r, rv, "reading a refresh token", 1);
    }
    if (oas_grant_from_json(&g, r->pool, val, len) != APR_SUCCESS ||
        strcmp(g->iss, iss->issuer) || strcmp(g->client_id, c->id) || !g->family)
        return oas_mod_send_oauth_error(r, 400, "invalid_grant",
                                        "the refresh token was not issued to this client");
    rv = oas_store_get(lst, r->pool, OAS_NS_FAMILY, g->family, &fam, &len);
    if (rv == APR_NOTFOUND)
        return oas_mod_send_oauth_error(r, 400, "invalid_grant", "the refresh token was revoked");
    if (rv != APR_SUCCESS)
        return oas_mod_store_failure(r, rv, "reading a refresh token", 1);
    use = *g;
    if (scope) { /* RFC 6749 §6: a narrower scope may be asked for, never a wider one */
        if (!oas_scope_subset(r->pool, scope, g->scope))
            return oas_mod_send_oauth_error(r, 400, "invalid_scope",
                                            "the scope exceeds what was granted");
        use.scope = apr_array_pstrcat(r->pool, oas_scope_split(r->pool, scope), ' ');
    }
    use.nonce = NULL; /* OIDC Core §12.2: no nonce in a refreshed ID token */
    if (oas_random_token(&jti, r->pool, 16) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    if (c->rt_rotation && !retry) {
        /* the commit point: exactly one request creates the reuse marker (put_new is
         * atomic across processes and hosts); the marker outlives the token so that a
         * later replay is recognised, and only then is the token itself removed */
        oas_jsonw_init(&w, r->pool, 256 + (retry_allowed(iss, c) ? len : 0));
        oas_jsonw_str(&w, "cid", c->id);
        oas_jsonw_str(&w, "fam", g->family);
        if (retry_allowed(iss, c)) {
            oas_jsonw_int(&w, "t", apr_time_sec(apr_time_now()));
            oas_jsonw_raw(&w, "g", val);
        }
        if (!(marker = oas_jsonw_end(&w)))
            return HTTP_INTERNAL_SERVER_ERROR;
        rv = oas_store_put_new(lst, r->pool, OAS_NS_REFRESH_USED, rt, marker, strlen(marker),
                               apr_time_from_sec(g->family_exp));
        if (rv == APR_EEXIST && !retry_allowed(iss, c)) {
            /* a concurrent request rotated it first: this is a second use as well */
            oas_mod_revoke_family(r, iss, g->family, "a refresh token was used twice at once");
            return oas_mod_send_oauth_error(r, 400, "invalid_grant",
                                            "the refresh token was already used");
        }
        if (rv != APR_SUCCESS && rv != APR_EEXIST)
            return oas_mod_store_failure(r, rv, "rotating a refresh token", 1);
        if (rv == APR_SUCCESS)
            oas_store_del(lst, r->pool, OAS_NS_REFRESH, rt);
        /* APR_EEXIST here: a confidential client's concurrent retry, inside the grace */
    }
    if (c->rt_rotation && (rv = new_refresh_token(&new_rt, r, iss, c, g)) != APR_SUCCESS)
        return oas_mod_store_failure(r, rv, "storing a refresh token", 1);
    return send_tokens(r, iss, c, &use, jti, new_rt);
}

/* RFC 6749 §4.4: the client acts for itself. */
static int grant_client_credentials(request_rec *r, const oas_issuer_t *iss,
                                    const oas_client_t *c, apr_table_t *form)
{
    const char *scope = apr_table_get(form, "scope");
    const char *res;
    apr_array_header_t *scopes = oas_scope_split(r->pool, scope);
    oas_err_t err;
    oas_grant_t g;
    const char *jti;
    int i;

    if (oas_client_is_public(c))
        return oas_mod_send_oauth_error(r, 400, "unauthorized_client",
                                        "public clients cannot use client_credentials");
    for (i = 0; i < scopes->nelts; i++) {
        const char *sc = APR_ARRAY_IDX(scopes, i, const char *);
        if (!oas_list_has(c->scopes, sc) || !strcmp(sc, "openid") ||
            !strcmp(sc, "offline_access"))
            return oas_mod_send_oauth_error(r, 400, "invalid_scope",
                                            "the client may not ask for a requested scope");
    }
    if (oas_resource_check(&res, &err, iss, c, form) != APR_SUCCESS)
        return oas_mod_send_oauth_error(r, 400, err.error, err.description);
    memset(&g, 0, sizeof(g));
    g.iss = iss->issuer;
    g.client_id = c->id;
    g.sub = c->id;
    g.scope = apr_array_pstrcat(r->pool, scopes, ' ');
    g.resource = res;
    if (oas_random_token(&jti, r->pool, 16) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    return send_tokens(r, iss, c, &g, jti, NULL);
}

int oas_mod_token(request_rec *r, const oas_issuer_t *iss)
{
    const oas_client_t *c;
    apr_table_t *form;
    const char *gt;
    int status = oas_mod_client_request(&c, &form, r, iss);
    int bit;

    if (status != OK || !c)
        return status;
    gt = apr_table_get(form, "grant_type");
    if (!gt)
        return oas_mod_send_oauth_error(r, 400, "invalid_request", "grant_type is missing");
    if (!strcmp(gt, "authorization_code"))
        bit = OAS_GRANT_CODE;
    else if (!strcmp(gt, "refresh_token"))
        bit = OAS_GRANT_REFRESH;
    else if (!strcmp(gt, "client_credentials"))
        bit = OAS_GRANT_CC;
    else
        return oas_mod_send_oauth_error(r, 400, "unsupported_grant_type",
                                        "the grant type is not supported");
    if (!(c->grant_types & bit))
        return oas_mod_send_oauth_error(r, 400, "unauthorized_client",
                                        "the client may not use this grant type");
    if (bit == OAS_GRANT_CODE)
        return grant_authorization_code(r, iss, c, form);
    if (bit == OAS_GRANT_REFRESH)
        return grant_refresh_token(r, iss, c, form);
    return grant_client_credentials(r, iss, c, form);
}
