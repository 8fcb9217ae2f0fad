/* mod_oauth_as: redeeming an authorization code (oas_grant_code.h). */
#include <apr_strings.h>

#include "oas_grant_code.h"
#include "oas_issue.h"
#include "oas_jsonr.h"
#include "oas_jsonw.h"
#include "oas_mtls.h"
#include "oas_pkce.h"
#include "oas_refresh.h"
#include "oas_throttle.h"

/* A code that is not (or no longer) there was presented. If it is a redeemed code presented
 * again by the rightful client, RFC 6749 §4.1.2 asks to revoke what the first redemption
 * issued; invalid replays (wrong client or verifier) revoke nothing (OAuth 2.1 §7.5.2).
 * Either way the answer is invalid_grant, with what happened in its detail. */
static apr_status_t replayed(oas_err_t *e, oas_ctx_t *x, const oas_client_t *c, const char *code,
                             const char *verifier)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_SHORT), *lst = oas_ctx_store(x, OAS_CTX_LONG);
    const char *jti, *cc, *cid, *what = "unknown, expired or already redeemed";
    char *val;
    apr_size_t len;
    oas_jobj_t t;

    if (st && lst && oas_store_get(st, x->p, OAS_NS_CODE_USED, code, &val, &len) == APR_SUCCESS &&
        oas_jsonr_parse(&t, x->p, val, len) == APR_SUCCESS) {
        jti = oas_jobj_str(&t, "jti");
        cc = oas_jobj_str(&t, "cc");
        cid = oas_jobj_str(&t, "cid");
        if (!jti || strcmp(cid ? cid : "", c->id))
            what = apr_psprintf(x->p, "redeemed by client %s, nothing revoked", cid ? cid : "?");
        else if (cc && !oas_pkce_verify_s256(verifier, cc))
            what = "redeemed, replayed with a wrong code_verifier, nothing revoked";
        else {
            if (oas_store_put(lst, x->p, OAS_NS_REVOKED, jti, "", 0,
                              apr_time_from_sec(oas_jobj_int(&t, "exp", 0) + 1)) == APR_SUCCESS)
                OAS_CTX_LOG(x, OAS_LOG_WARNING, 0,
                            OAS_LOGNO(00131) "authorization code replayed by client %s: revoked "
                                             "the access token jti %s issued from it",
                            c->id, jti);
            oas_refresh_revoke_family(x, oas_jobj_str(&t, "fam"),
                                      "its authorization code was replayed");
            what = "redeemed, replayed by its client: what it issued is revoked";
        }
    }
    return oas_err(e, x->p, 400, "invalid_grant", "the code is invalid, expired or already used",
                   OAS_LOG_INFO, OAS_LOGNO(02020) "code presented by client %s: %s", c->id, what);
}

/* Every check of a code record g against the request; *e set when one fails. */
static apr_status_t check(oas_err_t *e, oas_ctx_t *x, const oas_client_t *c, const oas_grant_t *g,
                          const char *verifier, const char *ru)
{
    if (strcmp(g->iss, x->iss->issuer) || strcmp(g->client_id, c->id))
        return oas_err(e, x->p, 400, "invalid_grant", "the code was not issued to this client",
                       OAS_LOG_INFO,
                       OAS_LOGNO(02021) "code issued to client %s (issuer %s), presented by %s",
                       g->client_id, g->iss, c->id);
    /* RFC 6749 §4.1.3: identical redirect_uri when the authorization request had one */
    if ((g->redirect_uri_sent && !ru) || (ru && strcmp(ru, g->redirect_uri)))
        return oas_err(e, x->p, 400, "invalid_grant",
                       "redirect_uri does not match the authorization request", OAS_LOG_INFO,
                       OAS_LOGNO(02022) "code of client %s: redirect_uri %s", c->id,
                       ru ? "differs from the authorization request's" : "missing");
    if (g->code_challenge) {
        if (!verifier || !oas_pkce_verify_s256(verifier, g->code_challenge))
            return oas_err(e, x->p, 400, "invalid_grant",
                           "code_verifier does not match the code challenge", OAS_LOG_INFO,
                           OAS_LOGNO(02023) "code of client %s: code_verifier %s", c->id,
                           verifier ? "does not match the challenge" : "missing");
    }
    else if (verifier) { /* RFC 9700 §4.8.2: PKCE downgrade */
        return oas_err(e, x->p, 400, "invalid_request",
                       "code_verifier sent but no code_challenge was used", OAS_LOG_INFO,
                       OAS_LOGNO(02024) "code of client %s: code_verifier for a code without "
                                        "code_challenge (PKCE downgrade)",
                       c->id);
    }
    if (oas_issue_target_check(e, x, c, g) != APR_SUCCESS)
        return APR_EINVAL; /* the code stays redeemable, as below */
    /* RFC 9449 §10: a code bound to a key needs a proof of that key; the code stays
     * redeemable, as nothing is taken before every check passed */
    if (g->dpop_jkt && (!x->dpop_jkt || strcmp(x->dpop_jkt, g->dpop_jkt)))
        return oas_err(e, x->p, 400, "invalid_grant",
                       "the code is bound to another DPoP key", OAS_LOG_INFO,
                       OAS_LOGNO(06450) "code of client %s: bound to a DPoP key, redeemed %s",
                       c->id, x->dpop_jkt ? "with a proof of another key" : "without a proof");
    return APR_SUCCESS;
}

/* When the access token issued now for g expires (seconds). */
static apr_int64_t at_exp(oas_ctx_t *x, const oas_client_t *c, const oas_grant_t *g)
{
    return x->now + oas_client_at_ttl(x->iss, c, oas_issuer_resource(x->iss, g->resource));
}

/* A tombstone remembers what the code issued, so a replay can revoke it. A replay comes soon
 * after the theft it reveals: the tombstone lives twice the code lifetime (at least two
 * minutes), not as long as the tokens, so that a busy server does not fill its store with
 * dead codes. Without it a replay could not revoke: the caller issues nothing then. */
static apr_status_t tombstone(oas_ctx_t *x, oas_store_t *st, const oas_client_t *c,
                              const char *code, const oas_grant_t *g, const char *jti)
{
    int ttl = oas_iss_code_ttl(x->iss) * 2;
    const char *tomb;
    oas_jsonw_t t;

    oas_jsonw_init(&t, x->p, 256);
    oas_jsonw_str(&t, "cid", c->id);
    oas_jsonw_str(&t, "jti", jti);
    oas_jsonw_int(&t, "exp", at_exp(x, c, g));
    oas_jsonw_str(&t, "cc", g->code_challenge);
    oas_jsonw_str(&t, "fam", g->family);
    if (!(tomb = oas_jsonw_end(&t)))
        return APR_EGENERAL;
    return oas_store_put(st, x->p, OAS_NS_CODE_USED, code, tomb, strlen(tomb),
                         apr_time_from_sec(x->now + (ttl > 120 ? ttl : 120)));
}

apr_status_t oas_grant_code_redeem(const char **pbody, oas_err_t *e, oas_ctx_t *x,
                                   const oas_client_t *c, const char *code, const char *verifier,
                                   const char *ru)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_SHORT);
    const char *jti, *rt = NULL;
    char *val;
    apr_size_t len;
    oas_grant_t *g;
    apr_status_t rv;

    if (!code) {
        OAS_ERR_SET(e, 400, "invalid_request", "the code parameter is missing");
        return APR_EINVAL;
    }
    if (!st)
        return oas_store_refused(x, e, APR_ENOTIMPL, "redeeming a code");
    rv = oas_store_get(st, x->p, OAS_NS_CODE, code, &val, &len);
    if (rv == APR_NOTFOUND)
        return replayed(e, x, c, code, verifier);
    if (rv != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "reading a code");
    if (oas_grant_from_json(&g, x->p, val, len) != APR_SUCCESS)
        return oas_err(e, x->p, 400, "invalid_grant", "the code was not issued to this client",
                       OAS_LOG_ERR, OAS_LOGNO(02025) "unreadable code record, client %s", c->id);
    if ((rv = check(e, x, c, g, verifier, ru)) != APR_SUCCESS ||
        (rv = oas_issue_jti(&jti, e, x->p)) != APR_SUCCESS)
        return rv;
    /* the single commit point: only one redemption takes the code */
    rv = oas_store_take(st, x->p, OAS_NS_CODE, code, NULL, NULL);
    if (rv == APR_NOTFOUND)
        return replayed(e, x, c, code, verifier);
    if (rv != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "redeeming a code");
    if ((rv = oas_issue_refresh(&rt, e, x, c, g, jti)) != APR_SUCCESS)
        return rv;
    /* RFC 6749 §4.1.2: what a replay must revoke is on record before anything is issued;
     * when it cannot be, nothing is (the refresh token just made dies with its family) */
    if ((rv = tombstone(x, st, c, code, g, jti)) != APR_SUCCESS) {
        oas_store_refused(x, e, rv, "storing a redeemed code's tombstone");
        oas_refresh_revoke_family(x, g->family, "its code's tombstone could not be stored");
        return rv;
    }
    if ((rv = oas_issue_tokens(pbody, e, x, c, g, jti, rt)) != APR_SUCCESS) {
        oas_refresh_revoke_family(x, g->family, "its access token could not be recorded");
        return rv;
    }
    oas_quota_give_back(x, c, g->sub);
    return APR_SUCCESS;
}
