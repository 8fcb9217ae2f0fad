/* mod_oauth_as: refresh tokens (oas_refresh.h). */
#include <apr_strings.h>

#include "oas_authz.h"
#include "oas_issue.h"
#include "oas_jsonr.h"
#include "oas_jsonw.h"
#include "oas_refresh.h"
#include "oas_util.h"

void oas_refresh_revoke_family(oas_ctx_t *x, const char *family, const char *why)
{
    oas_store_t *lst = oas_ctx_store(x, OAS_CTX_LONG);

    if (family && lst && oas_store_del(lst, x->p, OAS_NS_FAMILY, family) == APR_SUCCESS)
        OAS_CTX_LOG(x, OAS_LOG_WARNING, 0, OAS_LOGNO(00134) "revoked a refresh token family: %s",
                    why);
}

/* A family is created once with an absolute lifetime and never written again, so a
 * revocation (which deletes it) cannot be undone by a rotation racing with it. */
apr_status_t oas_refresh_new(const char **prt, oas_ctx_t *x, const oas_client_t *c, oas_grant_t *g)
{
    oas_store_t *lst = oas_ctx_store(x, OAS_CTX_LONG);
    const char *json;
    apr_status_t rv;

    if (!lst)
        return APR_ENOTIMPL;
    if (!g->family) {
        g->family_exp = x->now + oas_client_rt_ttl(x->iss, c);
        if ((rv = oas_random_token(&g->family, x->p, 16)) ||
            (rv = oas_store_put_new(lst, x->p, OAS_NS_FAMILY, g->family, "1", 1,
                                    apr_time_from_sec(g->family_exp))))
            return rv;
    }
    if ((rv = oas_random_token(prt, x->p, OAS_TOKEN_BYTES)) ||
        (rv = oas_grant_to_json(&json, x->p, g)))
        return rv;
    return oas_store_put_new(lst, x->p, OAS_NS_REFRESH, *prt, json, strlen(json),
                             apr_time_from_sec(g->family_exp));
}

/* FAPI 2.0 SP §5.3.2.1: a confidential client that lost the answer to a rotating refresh may
 * retry with the previous token for OAuthASRefreshTokenGrace seconds (the marker then keeps
 * the grant); a public client never: for it any second use is a theft (RFC 9700 §4.14.2). */
static int retry_allowed(const oas_issuer_t *iss, const oas_client_t *c)
{
    return oas_iss_rt_grace(iss) > 0 && !oas_client_is_public(c);
}

static apr_status_t invalid_rt(oas_err_t *e, oas_ctx_t *x, const oas_client_t *c, const char *why)
{
    return oas_err(e, x->p, 400, "invalid_grant", "the refresh token is invalid or expired",
                   OAS_LOG_INFO, OAS_LOGNO(02010) "refresh token of client %s refused: %s", c->id,
                   why);
}

/* A rotated-out token came back (marker: its reuse marker). Within the grace window of a
 * confidential client this is a retry: *pval gets the grant kept in the marker. Otherwise
 * its family is revoked (reuse detection) and the refusal is in *e. */
static apr_status_t rotated_out(char **pval, apr_size_t *plen, oas_err_t *e, oas_ctx_t *x,
                                const oas_client_t *c, const char *marker, apr_size_t mlen)
{
    oas_jobj_t m;
    const char *g, *cid;

    if (oas_jsonr_parse(&m, x->p, marker, mlen) != APR_SUCCESS)
        return invalid_rt(e, x, c, "unreadable reuse marker");
    cid = oas_jobj_str(&m, "cid");
    if (strcmp(cid ? cid : "", c->id)) /* another client's token: nothing of ours to revoke */
        return oas_err(e, x->p, 400, "invalid_grant", "the refresh token is invalid or expired",
                       OAS_LOG_INFO,
                       OAS_LOGNO(02011) "rotated-out refresh token of client %s presented "
                                        "by client %s",
                       cid ? cid : "?", c->id);
    if (retry_allowed(x->iss, c) && (g = oas_jobj_object(&m, "g")) &&
        x->now - oas_jobj_int(&m, "t", 0) <= oas_iss_rt_grace(x->iss)) {
        *pval = (char *)g;
        *plen = strlen(g);
        return APR_SUCCESS;
    }
    oas_refresh_revoke_family(x, oas_jobj_str(&m, "fam"),
                              "a rotated-out refresh token was used again");
    return invalid_rt(e, x, c, "rotated out and used again (reuse)");
}

/* Rotation: the old token rt of grant g (record val) is replaced. *e is set when the
 * rotation must be refused. */
static apr_status_t rotate(oas_err_t *e, oas_ctx_t *x, const oas_client_t *c, const char *rt,
                           const oas_grant_t *g, const char *val, apr_size_t len)
{
    oas_store_t *lst = oas_ctx_store(x, OAS_CTX_LONG);
    int grace = retry_allowed(x->iss, c);
    const char *marker;
    oas_jsonw_t w;
    apr_status_t rv;

    /* the commit point: exactly one request creates the reuse marker (put_new is
     * atomic across processes and hosts); the marker outlives the token so that a
     * later replay is recognised, and only then is the token itself removed */
    oas_jsonw_init(&w, x->p, 256 + (grace ? len : 0));
    oas_jsonw_str(&w, "cid", c->id);
    oas_jsonw_str(&w, "fam", g->family);
    if (grace) {
        oas_jsonw_int(&w, "t", x->now);
        oas_jsonw_raw(&w, "g", val);
    }
    if (!(marker = oas_jsonw_end(&w)))
        return oas_err(e, x->p, 500, "server_error", "cannot issue tokens", OAS_LOG_ERR,
                       OAS_LOGNO(02012) "cannot write the reuse marker of a refresh token "
                                        "of client %s",
                       c->id);
    rv = oas_store_put_new(lst, x->p, OAS_NS_REFRESH_USED, rt, marker, strlen(marker),
                           apr_time_from_sec(g->family_exp));
    if (rv == APR_EEXIST && !grace) {
        /* a concurrent request rotated it first: this is a second use as well */
        oas_refresh_revoke_family(x, g->family, "a refresh token was used twice at once");
        return oas_err(e, x->p, 400, "invalid_grant", "the refresh token was already used",
                       OAS_LOG_INFO,
                       OAS_LOGNO(02013) "refresh token of client %s rotated by a concurrent "
                                        "request",
                       c->id);
    }
    if (rv != APR_SUCCESS && rv != APR_EEXIST)
        return oas_err_store(e, x->p, rv, "rotating a refresh token");
    if (rv == APR_SUCCESS)
        oas_store_del(lst, x->p, OAS_NS_REFRESH, rt);
    /* APR_EEXIST here: a confidential client's concurrent retry, inside the grace */
    return APR_SUCCESS;
}

/* RFC 6749 §6, RFC 9700 §4.14.2: rotation with reuse detection for public clients (and
 * confidential ones that ask for it); a rotated-out token presented again revokes its family. */
apr_status_t oas_refresh_grant(const char **pbody, oas_err_t *e, oas_ctx_t *x,
                               const oas_client_t *c, const char *rt, const char *scope)
{
    oas_store_t *lst = oas_ctx_store(x, OAS_CTX_LONG);
    const char *jti, *new_rt = NULL;
    char *val, *fam;
    apr_size_t len;
    oas_grant_t *g = NULL, use;
    apr_status_t rv;
    int retry = 0;

    if (!rt) {
        OAS_ERR_SET(e, 400, "invalid_request", "the refresh_token parameter is missing");
        return APR_EINVAL;
    }
    if (!lst)
        return oas_err_store(e, x->p, APR_ENOTIMPL, "reading a refresh token");
    rv = oas_store_get(lst, x->p, OAS_NS_REFRESH, rt, &val, &len);
    if (rv == APR_NOTFOUND) {
        rv = oas_store_get(lst, x->p, OAS_NS_REFRESH_USED, rt, &val, &len);
        if (rv == APR_NOTFOUND)
            return invalid_rt(e, x, c, "unknown or expired");
        if (rv != APR_SUCCESS)
            return oas_err_store(e, x->p, rv, "reading a refresh token");
        if ((rv = rotated_out(&val, &len, e, x, c, val, len)) != APR_SUCCESS)
            return rv;
        retry = 1;
    }
    else if (rv != APR_SUCCESS) {
        return oas_err_store(e, x->p, rv, "reading a refresh token");
    }
    if (oas_grant_from_json(&g, x->p, val, len) != APR_SUCCESS)
        g = NULL;
    if (!g || strcmp(g->iss, x->iss->issuer) || strcmp(g->client_id, c->id) || !g->family)
        return oas_err(e, x->p, 400, "invalid_grant",
                       "the refresh token was not issued to this client", OAS_LOG_INFO,
                       OAS_LOGNO(02014) "refresh token of client %s (issuer %s) presented "
                                        "by client %s",
                       g ? g->client_id : "?", g ? g->iss : "?", c->id);
    rv = oas_store_get(lst, x->p, OAS_NS_FAMILY, g->family, &fam, &len);
    if (rv == APR_NOTFOUND)
        return oas_err(e, x->p, 400, "invalid_grant", "the refresh token was revoked", OAS_LOG_INFO,
                       OAS_LOGNO(02015) "refresh token of client %s: its family was revoked",
                       c->id);
    if (rv != APR_SUCCESS)
        return oas_err_store(e, x->p, rv, "reading a refresh token");
    use = *g;
    if (scope) { /* RFC 6749 §6: a narrower scope may be asked for, never a wider one */
        if (!oas_scope_subset(x->p, scope, g->scope))
            return oas_err(e, x->p, 400, "invalid_scope", "the scope exceeds what was granted",
                           OAS_LOG_INFO,
                           OAS_LOGNO(02016) "client %s asked to refresh with a scope wider "
                                            "than granted",
                           c->id);
        use.scope = apr_array_pstrcat(x->p, oas_scope_split(x->p, scope), ' ');
    }
    use.nonce = NULL; /* OIDC Core §12.2: no nonce in a refreshed ID token */
    if ((rv = oas_issue_jti(&jti, e, x->p)) != APR_SUCCESS)
        return rv;
    if (c->rt_rotation && !retry && (rv = rotate(e, x, c, rt, g, val, len)) != APR_SUCCESS)
        return rv;
    if (c->rt_rotation && (rv = oas_refresh_new(&new_rt, x, c, g)) != APR_SUCCESS)
        return oas_err_store(e, x->p, rv, "storing a refresh token");
    return oas_issue_tokens(pbody, e, x, c, &use, jti, new_rt);
}
