/* mod_oauth_as: the token endpoint's dispatch, client_credentials and issuing (oas_issue.h). */
#include <apr_strings.h>

#include "oas_authz.h"
#include "oas_grant_code.h"
#include "oas_issue.h"
#include "oas_jsonw.h"
#include "oas_metrics.h"
#include "oas_mtls.h"
#include "oas_refresh.h"
#include "oas_throttle.h"
#include "oas_token_exchange.h"
#include "oas_util.h"

apr_status_t oas_issue_jti(const char **pjti, oas_err_t *e, apr_pool_t *p)
{
    if (oas_random_token(pjti, p, 16) != APR_SUCCESS)
        return oas_err(e, p, 500, "server_error", "cannot issue tokens", OAS_LOG_ERR,
                       OAS_LOGNO(02001) "no random bytes for an access token id");
    return APR_SUCCESS;
}

int oas_issue_wants_refresh(const oas_client_t *c, const char *scope, apr_pool_t *p)
{
    return (c->grant_types & OAS_GRANT_REFRESH) &&
           oas_list_has(oas_scope_split(p, scope), "offline_access");
}

/* The link of access token jti (expiring at exp) to the family of g, kept by the previous
 * builds for every token of a family. */
static apr_status_t access_link(oas_ctx_t *x, oas_err_t *e, oas_store_t *st, const oas_grant_t *g,
                                const char *jti, apr_int64_t exp)
{
    oas_jsonw_t w;
    const char *rec;
    apr_status_t rv;

    if (!st)
        return oas_store_refused(x, e, APR_ENOTIMPL, "recording an access token");
    oas_jsonw_init(&w, x->p, 64);
    oas_jsonw_str(&w, "fam", g->family);
    if (!(rec = oas_jsonw_end(&w)))
        return oas_err(e, x->p, 500, "server_error", "cannot issue tokens", OAS_LOG_ERR,
                       OAS_LOGNO(03009) "cannot write the record of access token jti %s", jti);
    if ((rv = oas_store_put(st, x->p, OAS_NS_ACCESS, jti, rec, strlen(rec),
                            apr_time_from_sec(exp + 1))) != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "recording an access token");
    return APR_SUCCESS;
}

const char *oas_issue_user_key(apr_pool_t *p, const oas_issuer_t *iss, const char *sub)
{
    return apr_pstrcat(p, iss->issuer, "\n", sub, NULL);
}

/* Keeps the user's claims of g (unfiltered: userinfo filters them by each token's scope) as
 * the claims of g->sub at their latest issuance: one record per user, not per token. */
static apr_status_t user_claims(oas_ctx_t *x, oas_err_t *e, oas_store_t *st, const oas_grant_t *g,
                                apr_int64_t exp)
{
    /* as long as the longest-lived access token of the issuer, so that no issuance shortens
     * what an earlier one needs; never shorter than this token needs */
    apr_int64_t until = x->now + x->iss->at_ttl_max;
    apr_status_t rv;

    if (!st)
        return oas_store_refused(x, e, APR_ENOTIMPL, "recording the user's claims");
    if (until < exp)
        until = exp;
    if ((rv = oas_store_put(st, x->p, OAS_NS_USER, oas_issue_user_key(x->p, x->iss, g->sub),
                            g->claims_json, strlen(g->claims_json),
                            apr_time_from_sec(until + 1))) != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "recording the user's claims");
    return APR_SUCCESS;
}

/* The metrics label of a grant bit. */
static oas_metrics_grant_e metrics_grant(int bit)
{
    switch (bit) {
    case OAS_GRANT_CODE:
        return OAS_MG_CODE;
    case OAS_GRANT_REFRESH:
        return OAS_MG_REFRESH;
    case OAS_GRANT_CC:
        return OAS_MG_CC;
    case OAS_GRANT_EXCHANGE:
        return OAS_MG_EXCHANGE;
    default:
        return OAS_MG_OTHER;
    }
}

apr_status_t oas_issue_tokens(const char **pbody, oas_err_t *e, oas_ctx_t *x, const oas_client_t *c,
                              const oas_grant_t *g, const char *jti, const char *refresh_token)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_LONG);
    oas_tokens_t tok;
    oas_cnf_t cnf = {x->dpop_jkt, NULL};
    apr_status_t rv;

    if (oas_client_cert_bound(c) && x->cert)
        cnf.x5t = x->cert->x5t;
    if (oas_token_mint(&tok, x->p, x->iss, c, g, jti, &cnf, x->now) != APR_SUCCESS)
        return oas_err(e, x->p, 500, "server_error", "cannot issue tokens", OAS_LOG_ERR,
                       OAS_LOGNO(00132) "cannot sign tokens");
    /* The access token names its refresh family by the family's handle (claim "gid"), so a
     * revoked grant takes its access tokens along (RFC 9700 §4.14.2) without a record per
     * token. A family a previous build keeps under its id has no handle to find it by: its
     * tokens still get the link on record. Either record unwritten: no tokens. */
    if (g->family && g->family_by_id && (rv = access_link(x, e, st, g, jti, tok.exp)))
        return rv;
    if (tok.id_token && g->claims_json && (rv = user_claims(x, e, st, g, tok.exp)))
        return rv;
    OAS_CTX_LOG(x, OAS_LOG_INFO, 0,
                OAS_LOGNO(00133) "issued tokens to client %s for %s (jti %s%s%s)", c->id, g->sub,
                jti, x->dpop_jkt ? ", DPoP-bound" : "", cnf.x5t ? ", certificate-bound" : "");
    *pbody = oas_token_response_json(x->p, &tok, g->scope, refresh_token);
    oas_metrics_tokens(metrics_grant(x->grant),
                       x->dpop_jkt ? OAS_MB_DPOP : cnf.x5t ? OAS_MB_MTLS : OAS_MB_BEARER,
                       OAS_MT_ACCESS | (refresh_token ? OAS_MT_REFRESH : 0) |
                           (tok.id_token ? OAS_MT_ID : 0));
    return APR_SUCCESS;
}

apr_status_t oas_issue_client_credentials(const char **pbody, oas_err_t *e, oas_ctx_t *x,
                                          const oas_client_t *c, const char *scope,
                                          apr_table_t *form)
{
    apr_array_header_t *scopes = oas_scope_split(x->p, scope);
    const char *res, *jti;
    oas_grant_t g;
    apr_status_t rv;
    int i;

    if (oas_client_is_public(c))
        return oas_err(e, x->p, 400, "unauthorized_client",
                       "public clients cannot use client_credentials", OAS_LOG_INFO,
                       OAS_LOGNO(02002) "public client %s asked for client_credentials", c->id);
    for (i = 0; i < scopes->nelts; i++) {
        const char *sc = APR_ARRAY_IDX(scopes, i, const char *);
        if (!oas_list_has(c->scopes, sc) || !strcmp(sc, "openid") || !strcmp(sc, "offline_access"))
            return oas_err(e, x->p, 400, "invalid_scope",
                           "the client may not ask for a requested scope", OAS_LOG_INFO,
                           OAS_LOGNO(02003) "client %s may not ask for scope %s with "
                                            "client_credentials",
                           c->id, sc);
    }
    if (oas_resource_check(&res, e, x->iss, c, form) != APR_SUCCESS) {
        e->status = 400;
        return APR_EINVAL;
    }
    memset(&g, 0, sizeof(g));
    g.iss = x->iss->issuer;
    g.client_id = c->id;
    g.sub = c->id;
    g.scope = apr_array_pstrcat(x->p, scopes, ' ');
    g.resource = res;
    if ((rv = oas_issue_jti(&jti, e, x->p)) != APR_SUCCESS)
        return rv;
    return oas_issue_tokens(pbody, e, x, c, &g, jti, NULL);
}

apr_status_t oas_issue_target_check(oas_err_t *e, oas_ctx_t *x, const oas_client_t *c,
                                    const oas_grant_t *g)
{
    if (!x->target || (g->resource && !strcmp(x->target, g->resource)))
        return APR_SUCCESS;
    return oas_err(e, x->p, 400, "invalid_target", "the resource was not granted", OAS_LOG_INFO,
                   OAS_LOGNO(02041) "client %s asked for a resource its grant is not for (%s)",
                   c->id, g->resource ? g->resource : "granted for the issuer");
}

apr_status_t oas_issue_request(const char **pbody, oas_err_t *e, oas_ctx_t *x,
                               const oas_client_t *c, apr_table_t *form)
{
    const char *gt = apr_table_get(form, "grant_type");
    int bit;

    if (!gt) {
        OAS_ERR_SET(e, 400, "invalid_request", "grant_type is missing");
        return APR_EINVAL;
    }
    if (!strcmp(gt, "authorization_code"))
        bit = OAS_GRANT_CODE;
    else if (!strcmp(gt, "refresh_token"))
        bit = OAS_GRANT_REFRESH;
    else if (!strcmp(gt, "client_credentials"))
        bit = OAS_GRANT_CC;
    else if (!strcmp(gt, OAS_GRANT_TYPE_EXCHANGE))
        bit = OAS_GRANT_EXCHANGE;
    else {
        OAS_ERR_SET(e, 400, "unsupported_grant_type", "the grant type is not supported");
        return APR_EINVAL;
    }
    x->grant = bit;
    if (!(c->grant_types & bit))
        return oas_err(e, x->p, 400, "unauthorized_client",
                       "the client may not use this grant type", OAS_LOG_INFO,
                       OAS_LOGNO(02004) "client %s may not use the grant type %s", c->id, gt);
    /* RFC 8705 §3, §4: a client whose tokens are bound presents the certificate to bind them
     * to (an mTLS client did, to authenticate); refused before any grant is spent */
    if (oas_client_cert_bound(c) && !x->cert)
        return oas_err(e, x->p, 401, "invalid_client",
                       "a client certificate is required to bind the tokens", OAS_LOG_INFO,
                       OAS_LOGNO(06508) "client %s: OAuthASCertBoundTokens On, no client "
                                        "certificate on the connection",
                       c->id);
    if (bit == OAS_GRANT_EXCHANGE) /* RFC 8693: checks its own target */
        return oas_exchange_grant(pbody, e, x, c, form);
    if (bit != OAS_GRANT_CC) { /* RFC 8707 §2.2: narrows the grant's audience (client
                                * credentials check theirs in oas_resource_check) */
        const char *aud = apr_table_get(form, "audience");
        x->target = apr_table_get(form, "resource");
        if (aud && x->target && strcmp(aud, x->target)) {
            OAS_ERR_SET(e, 400, "invalid_target", "audience and resource name different resources");
            return APR_EINVAL;
        }
        if (!x->target)
            x->target = aud;
    }
    if (bit == OAS_GRANT_CODE)
        return oas_grant_code_redeem(pbody, e, x, c, apr_table_get(form, "code"),
                                     apr_table_get(form, "code_verifier"),
                                     apr_table_get(form, "redirect_uri"));
    if (bit == OAS_GRANT_REFRESH)
        return oas_refresh_grant(pbody, e, x, c, apr_table_get(form, "refresh_token"),
                                 apr_table_get(form, "scope"));
    return oas_issue_client_credentials(pbody, e, x, c, apr_table_get(form, "scope"), form);
}
