/* mod_oauth_as: token liveness, revocation, introspection and userinfo (oas_liveness.h). */
#include <apr_strings.h>

#include "oas_authz.h"
#include "oas_directives.h"
#include "oas_dpop_endpoint.h"
#include "oas_issue.h"
#include "oas_json.h"
#include "oas_jsonr.h"
#include "oas_jsonw.h"
#include "oas_liveness.h"
#include "oas_mtls.h"
#include "oas_refresh.h"

static apr_status_t not_live(const char **pwhy, const char *why)
{
    if (pwhy)
        *pwhy = why;
    return APR_EINVAL;
}

/* A family named by its id in a previous build's record: kept under its handle, or under the
 * id while it is a previous build's. */
static int family_live(oas_ctx_t *x, oas_store_t *lst, const char *fam)
{
    const char *h = oas_grant_handle(x->p, fam);
    char *v;
    apr_size_t n;
    apr_status_t rv = h ? oas_store_get(lst, x->p, OAS_NS_FAMILY, h, &v, &n) : APR_ENOMEM;

    if (rv == APR_NOTFOUND)
        rv = oas_store_get(lst, x->p, OAS_NS_FAMILY, fam, &v, &n);
    return rv == APR_SUCCESS;
}

apr_status_t oas_live_access(json_t **pclaims, const char **pui, const char **pwhy, oas_ctx_t *x,
                             const char *tok)
{
    json_t *c;

    if (pui)
        *pui = NULL;
    if (oas_token_verify_access(&c, x->p, x->iss, tok, x->now) != APR_SUCCESS)
        return not_live(pwhy, "not a valid access token of this issuer (signature, expiry)");
    if (oas_live_claims(pui, pwhy, x, c, NULL) != APR_SUCCESS)
        return APR_EINVAL;
    *pclaims = c;
    return APR_SUCCESS;
}

apr_status_t oas_live_claims(const char **pui, const char **pwhy, oas_ctx_t *x, const json_t *c,
                             int *punlinked)
{
    oas_store_t *lst = oas_ctx_store(x, OAS_CTX_LONG);
    const char *jti, *fam, *gid;
    oas_jobj_t rec;
    char *v;
    apr_size_t n;
    apr_status_t rv;

    if (pui)
        *pui = NULL;
    if (!lst)
        return not_live(pwhy, "no store to ask whether it was revoked");
    jti = oas_json_str(c, "jti");
    rv = oas_store_get(lst, x->p, OAS_NS_REVOKED, jti, &v, &n);
    if (rv != APR_NOTFOUND) /* revoked, or the store cannot tell: not active */
        return not_live(pwhy, rv == APR_SUCCESS ? "revoked" : "the store cannot tell");
    /* a token of a refresh family lives as long as the family: its record, by its handle */
    if ((gid = oas_json_str(c, "gid"))) {
        rv = oas_store_get(lst, x->p, OAS_NS_FAMILY, gid, &v, &n);
        if (rv != APR_SUCCESS)
            return not_live(pwhy,
                            rv == APR_NOTFOUND ? "its grant was revoked" : "the store cannot tell");
        return APR_SUCCESS;
    }
    /* else the record the previous builds kept per token, while there is one */
    if (punlinked && *punlinked)
        return APR_SUCCESS;
    rv = oas_store_get(lst, x->p, OAS_NS_ACCESS, jti, &v, &n);
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND)
        return not_live(pwhy, "the store cannot tell");
    if (rv == APR_NOTFOUND && punlinked)
        *punlinked = 1;
    if (rv == APR_SUCCESS && oas_jsonr_parse(&rec, x->p, v, n) == APR_SUCCESS) {
        if ((fam = oas_jobj_str(&rec, "fam")) && !family_live(x, lst, fam))
            return not_live(pwhy, "its grant was revoked");
        if (pui)
            *pui = oas_jobj_object(&rec, "ui");
    }
    return APR_SUCCESS;
}

apr_status_t oas_live_refresh(oas_grant_t **pg, oas_ctx_t *x, const char *tok)
{
    oas_grant_t *g;

    if (oas_refresh_lookup(&g, x, tok) != APR_SUCCESS || strcmp(g->iss, x->iss->issuer))
        return APR_EINVAL;
    *pg = g;
    return APR_SUCCESS;
}

apr_status_t oas_revoke_token(oas_err_t *e, oas_ctx_t *x, const oas_client_t *c, const char *tok)
{
    oas_store_t *lst;
    oas_grant_t *g;
    json_t *at;
    const char *cid, *jti;
    apr_status_t rv;

    if (oas_live_refresh(&g, x, tok) == APR_SUCCESS) {
        if (!strcmp(g->client_id, c->id)) /* RFC 7009 §2.1: only the client's own tokens */
            oas_refresh_revoke_family(x, g->family, "revoked by its client");
        return APR_SUCCESS;
    }
    if (oas_live_access(&at, NULL, NULL, x, tok) != APR_SUCCESS ||
        !(cid = oas_json_str(at, "client_id")) || strcmp(cid, c->id))
        return APR_SUCCESS;
    jti = oas_json_str(at, "jti");
    lst = oas_ctx_store(x, OAS_CTX_LONG);
    rv = lst ? oas_store_put(lst, x->p, OAS_NS_REVOKED, jti, "", 0,
                             apr_time_from_sec(oas_json_int(at, "exp", 0) + 1))
             : APR_ENOTIMPL;
    if (rv != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "revoking an access token");
    OAS_CTX_LOG(x, OAS_LOG_INFO, 0, OAS_LOGNO(00160) "client %s revoked access token jti %s", c->id,
                jti);
    return APR_SUCCESS;
}

/* The claims of a live access token an introspection answer repeats (RFC 7662 §2.2). */
/* act: who acts for sub in a token exchanged with an actor token (RFC 8693 §4.1) */
static const char *const introspected[] = {"scope", "client_id", "sub",       "aud", "iss", "exp",
                                           "iat",   "jti",       "auth_time", "act", NULL};

/* May caller learn about a token of client owner? (its own, or any access token for a
 * resource server); logged when not */
static int may_introspect(oas_ctx_t *x, const oas_client_t *caller, const char *owner,
                          int access_token)
{
    if ((owner && !strcmp(caller->id, owner)) || (access_token && caller->introspection))
        return 1;
    OAS_CTX_LOG(x, OAS_LOG_INFO, APR_SUCCESS,
                OAS_LOGNO(02040) "introspection: client %s asked about %s of client %s: "
                                 "answered inactive (not its own%s)",
                caller->id, access_token ? "an access token" : "a refresh token",
                owner ? owner : "?",
                access_token ? "; " OAS_DIR_INTROSPECTION " is Off for it" : "");
    return 0;
}

const char *oas_introspect(oas_ctx_t *x, const oas_client_t *caller, const char *tok)
{
    oas_jsonw_t w;
    oas_grant_t *g;
    json_t *at;
    const char *out;
    int i, live_at = oas_live_access(&at, NULL, NULL, x, tok) == APR_SUCCESS;

    oas_jsonw_init(&w, x->p, 512);
    if (live_at && may_introspect(x, caller, oas_json_str(at, "client_id"), 1)) {
        oas_jsonw_bool(&w, "active", 1);
        for (i = 0; introspected[i]; i++)
            oas_jsonw_json(&w, introspected[i], json_object_get(at, introspected[i]));
        /* RFC 9449 §6.2, RFC 8705 §3.2: a bound token's key or certificate, so that a
         * resource server checks the proof or the connection */
        if (oas_dpop_token_jkt(at) || oas_mtls_token_x5t(at)) {
            oas_jsonw_object(&w, "cnf");
            oas_jsonw_str(&w, "jkt", oas_dpop_token_jkt(at));
            oas_jsonw_str(&w, "x5t#S256", oas_mtls_token_x5t(at));
            oas_jsonw_close(&w);
        }
        oas_jsonw_str(&w, "token_type", oas_dpop_token_jkt(at) ? "DPoP" : "Bearer");
    }
    else if (!live_at && oas_live_refresh(&g, x, tok) == APR_SUCCESS &&
             may_introspect(x, caller, g->client_id, 0)) {
        oas_jsonw_bool(&w, "active", 1);
        oas_jsonw_str_keep_empty(&w, "scope", g->scope);
        oas_jsonw_str_keep_empty(&w, "client_id", g->client_id);
        oas_jsonw_str_keep_empty(&w, "sub", g->sub);
        oas_jsonw_str_keep_empty(&w, "iss", g->iss);
        if (g->family_exp > 0) /* RFC 7662 §2.2: when the family (and so the token) ends */
            oas_jsonw_int(&w, "exp", g->family_exp);
        oas_jsonw_str(&w, "token_type", "refresh_token");
    }
    else {
        oas_jsonw_bool(&w, "active", 0);
    }
    return (out = oas_jsonw_end(&w)) ? out : "{\"active\":false}";
}

apr_status_t oas_userinfo(const char **pbody, oas_err_t *e, oas_ctx_t *x, const char *tok,
                          const oas_dpop_req_t *dpop, const char **pnonce)
{
    const char *ui, *why, *aud, *nonce;
    json_t *c;
    apr_status_t rv;

    if (pnonce)
        *pnonce = NULL;
    if (oas_live_access(&c, &ui, &why, x, tok) != APR_SUCCESS)
        return oas_err(e, x->p, 401, "invalid_token", "the access token is invalid", OAS_LOG_INFO,
                       OAS_LOGNO(02030) "userinfo: access token refused: %s", why);
    rv = oas_dpop_at_resource(&nonce, e, x, c, tok, dpop, OAS_EP_USERINFO);
    if (pnonce)
        *pnonce = nonce;
    if (rv != APR_SUCCESS)
        return rv;
    if ((rv = oas_mtls_at_resource(e, x, c)) != APR_SUCCESS) /* RFC 8705 §3 */
        return rv;
    aud = oas_json_str(c, "aud");
    if (strcmp(aud ? aud : "", x->iss->issuer) ||
        !oas_list_has(oas_scope_split(x->p, oas_json_str(c, "scope")), "openid"))
        return oas_err(e, x->p, 403, "insufficient_scope",
                       "the access token is not for userinfo (needs openid)", OAS_LOG_INFO,
                       OAS_LOGNO(02031) "userinfo: access token jti %s of client %s is %s",
                       oas_json_str(c, "jti"), oas_json_str(c, "client_id"),
                       aud && strcmp(aud, x->iss->issuer) ? "for another audience"
                                                          : "without the openid scope");
    if (!ui) {
        /* the user's claims at their latest issuance, filtered by this token's scope (OIDC
         * Core §5.4); none on record (no claims configured, or expired): sub alone */
        oas_store_t *lst = oas_ctx_store(x, OAS_CTX_LONG);
        const char *sub = oas_json_str(c, "sub");
        char *v = NULL;
        apr_size_t n;

        rv = oas_store_get(lst, x->p, OAS_NS_USER, oas_issue_user_key(x->p, x->iss, sub), &v, &n);
        if (rv != APR_SUCCESS && rv != APR_NOTFOUND)
            return oas_store_refused(x, e, rv, "reading the user's claims");
        ui = oas_token_userinfo_json(x->p, sub, oas_json_str(c, "scope"),
                                     rv == APR_SUCCESS ? apr_pstrmemdup(x->p, v, n) : NULL);
    }
    *pbody = ui ? ui : "{}";
    return APR_SUCCESS;
}
