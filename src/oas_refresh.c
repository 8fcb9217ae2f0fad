/* mod_oauth_as: refresh tokens (oas_refresh.h).
 *
 * One record per family (issue 14): the family record (OAS_NS_FAMILY, key: the family's public
 * handle, oas_grant_handle, which its access tokens carry so that liveness finds the grant without
 * a record per token) holds the grant, the generation, the digests of its live tokens and those of
 * the tokens rotated out within OAuthASRefreshTokenGrace, with when. A token is the family id
 * followed by a secret, both random and base64url (128 and 256 bits: 22 and 43 characters; a token
 * stays one opaque base64url word): it finds its family by itself, so a rotated-out token needs no
 * marker of its own. A token naming a live family that is none of its live tokens nor one it may
 * retry with is of an older generation: reuse, and the family is revoked (RFC 9700 §4.14.2). The
 * family id is as secret as the tokens (it is in no log and no answer), so only a holder of one of
 * its tokens can name it. The store keeps digests, never a token.
 *
 * Rotation is a compare-and-swap on the generation: generation n has a ticket (OAS_NS_REFRESH, key
 * "<family id>#<n>", empty: only a token's holder names it) and only the request that takes it
 * (take is atomic across processes and hosts) writes generation n + 1, its ticket first, then the
 * record. A revocation takes the ticket as well before it deletes the record (or, while a rotation
 * holds it, creates the next one first), so a rotation racing with it cannot write the family back.
 * A family costs its record and one empty ticket however often it rotates; revoking it frees both.
 *
 * Tokens of the previous build (a bare secret with a record of its own in OAS_NS_REFRESH,
 * reuse markers in OAS_NS_REFRESH_USED, the family record "1") are read the old way until
 * they expire; their first rotation moves the family to the new form. A family record of the
 * previous builds is keyed by the family id (no token names its handle); it is read there when
 * its handle finds nothing, and a rotation moves it under the handle. */
#include <apr_strings.h>

#include "oas_authz.h"
#include "oas_issue.h"
#include "oas_jsonr.h"
#include "oas_jsonw.h"
#include "oas_mtls.h"
#include "oas_refresh.h"
#include "oas_session.h"
#include "oas_util.h"

#define FAMILY_ID_BYTES 16
#define FAMILY_ID_CHARS 22                 /* base64url of FAMILY_ID_BYTES */
#define TOKEN_CHARS (FAMILY_ID_CHARS + 43) /* and of OAS_TOKEN_BYTES */
/* reads of a family another request is rotating this very moment (two store operations) */
#define FAMILY_TRIES 5
/* A retry within the grace branches the family (the token the lost answer carried may still
 * arrive and stay in use), as every rotated-out token within the grace may be retried: a
 * family keeps the last few of each, which the honest client never exceeds; a token dropped
 * from the lists counts as reuse, so a full list fails closed. */
#define LIVE_MAX 4
#define OUT_MAX 4

typedef struct {
    const char *id;
    oas_grant_t *g;   /* NULL: a family of the previous build ("1") */
    apr_int64_t gen;  /* the generation */
    const char *live; /* digests of its live tokens, separated by spaces */
    const char *out;  /* "digest@time" of tokens rotated out within the grace, likewise */
    const char *key;  /* its handle: where the record is kept */
    int by_id;        /* the record is still a previous build's, kept under the id */
} family_t;

static const char *digest(apr_pool_t *p, const char *secret)
{
    unsigned char d[OAS_SHA256_LEN];

    oas_sha256(d, secret, strlen(secret));
    return oas_b64url_encode(p, d, sizeof(d));
}

static const char *ticket(apr_pool_t *p, const char *family, apr_int64_t gen)
{
    return apr_psprintf(p, "%s#%" APR_INT64_T_FMT, family, gen);
}

/* The entry of list (see family_t) for digest d, or NULL. */
static const char *entry(const char *list, const char *d)
{
    apr_size_t n = strlen(d);

    for (; list && *list; list = strchr(list, ' '), list = list ? list + 1 : NULL)
        if (!strncmp(list, d, n) && (!list[n] || list[n] == ' ' || list[n] == '@'))
            return list;
    return NULL;
}

/* list without the entry of digest drop and, when since is given, without entries rotated out
 * before since; then add; the last max entries. */
static const char *list_update(apr_pool_t *p, const char *list, const char *drop, apr_int64_t since,
                               const char *add, int max)
{
    apr_array_header_t *a = apr_array_make(p, max + 1, sizeof(const char *));
    char *l = apr_pstrdup(p, list ? list : ""), *w, *last, *at;
    int i;

    for (w = apr_strtok(l, " ", &last); w; w = apr_strtok(NULL, " ", &last)) {
        if ((drop && entry(w, drop)) ||
            (since && (at = strchr(w, '@')) && apr_atoi64(at + 1) < since))
            continue;
        APR_ARRAY_PUSH(a, const char *) = w;
    }
    APR_ARRAY_PUSH(a, const char *) = add;
    for (i = a->nelts > max ? a->nelts - max : 0, l = NULL; i < a->nelts; i++)
        l = l ? apr_pstrcat(p, l, " ", APR_ARRAY_IDX(a, i, const char *), NULL)
              : apr_pstrdup(p, APR_ARRAY_IDX(a, i, const char *));
    return l;
}

/* APR_NOTFOUND: no such family (never issued, expired or revoked). */
static apr_status_t family_read(family_t *f, oas_ctx_t *x, oas_store_t *lst, const char *id)
{
    oas_jobj_t o;
    const char *g;
    char *v;
    apr_size_t n;
    apr_status_t rv;

    memset(f, 0, sizeof(*f));
    f->id = id;
    if (!(f->key = oas_grant_handle(x->p, id)))
        return APR_ENOMEM;
    rv = oas_store_get(lst, x->p, OAS_NS_FAMILY, f->key, &v, &n);
    if (rv == APR_NOTFOUND && (rv = oas_store_get(lst, x->p, OAS_NS_FAMILY, id, &v, &n)) ==
                                  APR_SUCCESS)
        f->by_id = 1;
    if (rv != APR_SUCCESS)
        return rv;
    if (n == 1 && *v == '1') /* an older build's record */
        return APR_SUCCESS;
    if (oas_jsonr_parse(&o, x->p, v, n) != APR_SUCCESS || !(g = oas_jobj_object(&o, "g")) ||
        oas_grant_from_json(&f->g, x->p, g, strlen(g)) != APR_SUCCESS)
        return APR_EGENERAL;
    f->g->family = id;
    f->g->family_by_id = f->by_id;
    f->gen = oas_jobj_int(&o, "n", 0);
    f->live = oas_jobj_str(&o, "live");
    f->out = oas_jobj_str(&o, "out");
    return APR_SUCCESS;
}

/* Writes f under its handle; a record of the previous builds moves there (the generation's
 * ticket, which the writer holds, keeps any other writer out meanwhile). */
static apr_status_t family_write(oas_ctx_t *x, oas_store_t *lst, family_t *f, int fresh)
{
    const char *g, *v;
    oas_jsonw_t w;
    apr_status_t rv;

    if (oas_grant_to_json(&g, x->p, f->g) != APR_SUCCESS)
        return APR_EINVAL;
    oas_jsonw_init(&w, x->p, strlen(g) + 160);
    oas_jsonw_raw(&w, "g", g);
    oas_jsonw_int(&w, "n", f->gen);
    oas_jsonw_str(&w, "live", f->live);
    oas_jsonw_str(&w, "out", f->out);
    if (!(v = oas_jsonw_end(&w)))
        return APR_EINVAL;
    if ((rv = (fresh ? lst->put_new : lst->put)(lst, x->p, OAS_NS_FAMILY, f->key, strlen(f->key),
                                                v, strlen(v), apr_time_from_sec(f->g->family_exp))))
        return rv;
    if (f->by_id)
        oas_store_del(lst, x->p, OAS_NS_FAMILY, f->id);
    f->by_id = f->g->family_by_id = 0;
    return APR_SUCCESS;
}

/* Generation 0 of family id (grant g), whose live token is the new *prt and whose rotated-out
 * one is out ("digest@time", or NULL): a new family (fresh), or one of the previous build
 * moving to the new form (its ticket 0 makes exactly one request the one that moves it: the
 * others get APR_EEXIST). */
static apr_status_t family_start(const char **prt, oas_ctx_t *x, oas_store_t *lst, const char *id,
                                 const oas_grant_t *g, const char *out, int fresh)
{
    const char *secret, *t0 = ticket(x->p, id, 0);
    family_t f = {id, apr_pmemdup(x->p, g, sizeof(*g)), 0, NULL, out, oas_grant_handle(x->p, id),
                  !fresh};
    apr_status_t rv;

    if (!f.key)
        return APR_ENOMEM;
    /* what a refresh needs of the grant, no more: a refreshed ID token has no nonce (OIDC
     * Core §12.2) and the code's binding (PKCE, redirect_uri) is spent */
    f.g->nonce = f.g->code_challenge = f.g->redirect_uri = NULL;
    f.g->redirect_uri_sent = 0;
    if ((rv = oas_random_token(&secret, x->p, OAS_TOKEN_BYTES)) != APR_SUCCESS)
        return rv;
    f.live = digest(x->p, secret);
    if ((rv = oas_store_put_new(lst, x->p, OAS_NS_REFRESH, t0, "", 0,
                                apr_time_from_sec(g->family_exp))) != APR_SUCCESS)
        return rv;
    if ((rv = family_write(x, lst, &f, fresh)) != APR_SUCCESS) {
        oas_store_del(lst, x->p, OAS_NS_REFRESH, t0);
        return rv;
    }
    *prt = apr_pstrcat(x->p, id, secret, NULL);
    return APR_SUCCESS;
}

apr_status_t oas_refresh_new(const char **prt, oas_ctx_t *x, const oas_client_t *c, oas_grant_t *g)
{
    oas_store_t *lst = oas_ctx_store(x, OAS_CTX_LONG);
    apr_status_t rv;

    if (!lst)
        return APR_ENOTIMPL;
    if (g->family) /* families are made here, and only here */
        return APR_EINVAL;
    g->family_exp = x->now + oas_client_rt_ttl(x->iss, c);
    if ((rv = oas_random_token(&g->family, x->p, FAMILY_ID_BYTES)) != APR_SUCCESS)
        return rv;
    return family_start(prt, x, lst, g->family, g, NULL, 1);
}

/* FAPI 2.0 SP §5.3.2.1: a confidential client that lost the answer to a rotating refresh may
 * retry with a rotated-out token for OAuthASRefreshTokenGrace seconds; a public client never:
 * for it any second use is a theft (RFC 9700 §4.14.2). */
static int retry_allowed(const oas_issuer_t *iss, const oas_client_t *c)
{
    return oas_iss_rt_grace(iss) > 0 && !oas_client_is_public(c);
}

/* The compare-and-swap of a rotation of token d of f by client c: takes f's generation ticket
 * and writes the next generation, with the new *prt live. d goes out (recorded when c may
 * retry with it); a retry (d already out) branches: the token the lost answer carried stays
 * live. APR_EEXIST: another request took the generation first. */
static apr_status_t advance(const char **prt, oas_ctx_t *x, oas_store_t *lst, const oas_client_t *c,
                            family_t *f, const char *d, int retry)
{
    apr_time_t exp = apr_time_from_sec(f->g->family_exp);
    const char *t = ticket(x->p, f->id, f->gen), *next = ticket(x->p, f->id, f->gen + 1), *secret;
    family_t n = *f;
    apr_status_t rv;

    if ((rv = oas_random_token(&secret, x->p, OAS_TOKEN_BYTES)) != APR_SUCCESS)
        return rv;
    if ((rv = oas_store_take(lst, x->p, OAS_NS_REFRESH, t, NULL, NULL)) != APR_SUCCESS)
        return rv == APR_NOTFOUND ? APR_EEXIST : rv;
    n.gen++;
    n.live = list_update(x->p, f->live, retry ? NULL : d, 0, digest(x->p, secret), LIVE_MAX);
    if (!retry)
        n.out = !retry_allowed(x->iss, c)
                    ? NULL
                    : list_update(x->p, f->out, NULL, x->now - oas_iss_rt_grace(x->iss),
                                  apr_psprintf(x->p, "%s@%" APR_INT64_T_FMT, d, x->now), OUT_MAX);
    rv = oas_store_put_new(lst, x->p, OAS_NS_REFRESH, next, "", 0, exp);
    if (rv == APR_EEXIST) /* a revocation bars the next generation: the family is going */
        return rv;
    if (rv == APR_SUCCESS) {
        if ((rv = family_write(x, lst, &n, 0)) == APR_SUCCESS) {
            *f = n;
            *prt = apr_pstrcat(x->p, f->id, secret, NULL);
            return APR_SUCCESS;
        }
        oas_store_del(lst, x->p, OAS_NS_REFRESH, next);
    }
    /* nothing changed: the generation goes back, the client may try again */
    oas_store_put_new(lst, x->p, OAS_NS_REFRESH, t, "", 0, exp);
    return rv;
}

void oas_refresh_revoke_family(oas_ctx_t *x, const char *family, const char *why)
{
    oas_store_t *lst = oas_ctx_store(x, OAS_CTX_LONG);
    const char *next;
    family_t f, again;
    apr_status_t rv;
    int i;

    if (!family || !lst)
        return;
    /* The generation's ticket first. When a rotation holds it, the next generation's ticket
     * bars that rotation from writing the family back (it creates that ticket before it
     * writes); if the family moved on meanwhile, the bar goes and the new generation is read.
     * After a few reads (a rotation stopped half-way) the record goes all the same. */
    for (i = 0; i < FAMILY_TRIES; i++) {
        if (family_read(&f, x, lst, family) == APR_NOTFOUND)
            return;
        if (!f.g || oas_store_take(lst, x->p, OAS_NS_REFRESH, ticket(x->p, family, f.gen), NULL,
                                   NULL) == APR_SUCCESS)
            break;
        next = ticket(x->p, family, f.gen + 1);
        if (oas_store_put_new(lst, x->p, OAS_NS_REFRESH, next, "", 0,
                              apr_time_from_sec(f.g->family_exp)) == APR_SUCCESS) {
            if (family_read(&again, x, lst, family) != APR_SUCCESS || !again.g ||
                again.gen == f.gen)
                break;
            oas_store_del(lst, x->p, OAS_NS_REFRESH, next);
        }
    }
    if (!f.key)
        return;
    /* under its handle, and under the id where a previous build kept it */
    rv = oas_store_del(lst, x->p, OAS_NS_FAMILY, f.key);
    if (f.by_id && oas_store_del(lst, x->p, OAS_NS_FAMILY, family) == APR_SUCCESS)
        rv = APR_SUCCESS;
    if (rv == APR_SUCCESS)
        OAS_CTX_LOG(x, OAS_LOG_WARNING, 0, OAS_LOGNO(00134) "revoked a refresh token family: %s",
                    why);
}

static apr_status_t invalid_rt(oas_err_t *e, oas_ctx_t *x, const oas_client_t *c, const char *why)
{
    return oas_err(e, x->p, 400, "invalid_grant", "the refresh token is invalid or expired",
                   OAS_LOG_INFO, OAS_LOGNO(02010) "refresh token of client %s refused: %s", c->id,
                   why);
}

static apr_status_t no_family(oas_err_t *e, oas_ctx_t *x, const oas_client_t *c)
{
    return oas_err(e, x->p, 400, "invalid_grant", "the refresh token was revoked or has expired",
                   OAS_LOG_INFO,
                   OAS_LOGNO(02015) "refresh token of client %s: its family was revoked or "
                                    "has expired",
                   c->id);
}

static apr_status_t foreign(oas_err_t *e, oas_ctx_t *x, const oas_client_t *c, const oas_grant_t *g)
{
    return oas_err(e, x->p, 400, "invalid_grant", "the refresh token was not issued to this client",
                   OAS_LOG_INFO,
                   OAS_LOGNO(02014) "refresh token of client %s (issuer %s) presented "
                                    "by client %s",
                   g ? g->client_id : "?", g ? g->iss : "?", c->id);
}

static apr_status_t foreign_rotated_out(oas_err_t *e, oas_ctx_t *x, const oas_client_t *c,
                                        const char *cid)
{
    return oas_err(e, x->p, 400, "invalid_grant", "the refresh token is invalid or expired",
                   OAS_LOG_INFO,
                   OAS_LOGNO(02011) "rotated-out refresh token of client %s presented "
                                    "by client %s",
                   cid ? cid : "?", c->id);
}

/* A second use of a token another request has just rotated: a theft unless the client may
 * retry. */
static apr_status_t lost_race(oas_err_t *e, oas_ctx_t *x, const oas_client_t *c, const char *family)
{
    if (!retry_allowed(x->iss, c))
        oas_refresh_revoke_family(x, family, "a refresh token was used twice at once");
    return oas_err(e, x->p, 400, "invalid_grant", "the refresh token was already used",
                   OAS_LOG_INFO,
                   OAS_LOGNO(02013) "refresh token of client %s rotated by a concurrent "
                                    "request",
                   c->id);
}

static apr_status_t reused(oas_err_t *e, oas_ctx_t *x, const oas_client_t *c, const char *family)
{
    oas_refresh_revoke_family(x, family, "a rotated-out refresh token was used again");
    return invalid_rt(e, x, c, "rotated out and used again (reuse)");
}

/* What the new tokens carry: the grant g, narrowed to scope when asked (RFC 6749 §6: never
 * wider), and their jti; checked before anything is rotated, so a refused request leaves the
 * token as it was. */
static apr_status_t prepare(oas_grant_t *use, const char **pjti, oas_err_t *e, oas_ctx_t *x,
                            const oas_client_t *c, const oas_grant_t *g, const char *scope)
{
    *use = *g;
    if (oas_issue_target_check(e, x, c, g) != APR_SUCCESS)
        return APR_EINVAL;
    /* Back-Channel Logout 1.0 §2.7: a refresh token issued in a session without
     * offline_access ends with the session (with offline_access it outlives it) */
    if (g->sid && !oas_list_has(oas_scope_split(x->p, g->scope), "offline_access") &&
        oas_session_ended(x, g->sid)) {
        oas_refresh_revoke_family(x, g->family, "its session ended");
        return oas_err(e, x->p, 400, "invalid_grant",
                       "the refresh token was revoked or has expired", OAS_LOG_INFO,
                       OAS_LOGNO(06933) "refresh token of client %s: issued in session %s "
                                        "without offline_access, and the session ended",
                       c->id, g->sid);
    }
    if (scope) {
        if (!oas_scope_subset(x->p, scope, g->scope))
            return oas_err(e, x->p, 400, "invalid_scope", "the scope exceeds what was granted",
                           OAS_LOG_INFO,
                           OAS_LOGNO(02016) "client %s asked to refresh with a scope wider "
                                            "than granted",
                           c->id);
        use->scope = apr_array_pstrcat(x->p, oas_scope_split(x->p, scope), ' ');
    }
    use->nonce = NULL; /* OIDC Core §12.2: no nonce in a refreshed ID token */
    return oas_issue_jti(pjti, e, x->p);
}

/* The refresh grant for the token of family id whose secret has digest d. */
static apr_status_t family_grant(const char **pbody, oas_err_t *e, oas_ctx_t *x, oas_store_t *lst,
                                 const oas_client_t *c, const char *id, const char *d,
                                 const char *scope)
{
    const char *jti = NULL, *new_rt = NULL, *out;
    oas_grant_t use;
    family_t f;
    apr_status_t rv;
    int i, retry;

    for (i = 0;; i++) {
        if ((rv = family_read(&f, x, lst, id)) == APR_NOTFOUND || (rv == APR_SUCCESS && !f.g))
            return no_family(e, x, c);
        if (rv != APR_SUCCESS)
            return oas_store_refused(x, e, rv, "reading a refresh token");
        if (strcmp(f.g->iss, x->iss->issuer) || strcmp(f.g->client_id, c->id))
            return entry(f.live, d) ? foreign(e, x, c, f.g)
                                    : foreign_rotated_out(e, x, c, f.g->client_id);
        /* RFC 9449 §5: a family bound to a key needs a proof of it; without one nothing is
         * rotated or revoked (whoever lacks the key learns nothing and changes nothing) */
        if (f.g->dpop_jkt && (!x->dpop_jkt || strcmp(x->dpop_jkt, f.g->dpop_jkt)))
            return oas_err(e, x->p, 400, "invalid_grant",
                           "the refresh token is bound to another DPoP key", OAS_LOG_INFO,
                           OAS_LOGNO(06451) "refresh token of client %s: bound to a DPoP key, "
                                            "presented %s",
                           c->id, x->dpop_jkt ? "with a proof of another key" : "without a proof");
        if (f.g->cert_x5t && (!x->cert || !oas_secure_streq(x->cert->x5t, f.g->cert_x5t)))
            return oas_err(e, x->p, 400, "invalid_grant",
                           "the refresh token is bound to another client certificate",
                           OAS_LOG_INFO,
                           OAS_LOGNO(06509) "refresh token of client %s: bound to a certificate, "
                                            "presented %s",
                           c->id, x->cert ? "with another" : "without one");
        if (entry(f.live, d))
            retry = 0;
        else if (retry_allowed(x->iss, c) && (out = entry(f.out, d)) &&
                 x->now - apr_atoi64(out + strlen(d) + 1) <= oas_iss_rt_grace(x->iss))
            retry = 1;
        else
            return reused(e, x, c, id);
        if (!jti && (rv = prepare(&use, &jti, e, x, c, f.g, scope)) != APR_SUCCESS)
            return rv;
        if (!c->rt_rotation || (rv = advance(&new_rt, x, lst, c, &f, d, retry)) == APR_SUCCESS)
            break;
        if (rv != APR_EEXIST)
            return oas_store_refused(x, e, rv, "rotating a refresh token");
        /* another request rotated it first: a client that may retry reads it again */
        if (!retry_allowed(x->iss, c) || i + 1 == FAMILY_TRIES)
            return lost_race(e, x, c, id);
    }
    use.family_by_id = f.by_id; /* a rotation moved it under its handle */
    return oas_issue_tokens(pbody, e, x, c, &use, jti, new_rt);
}

/* A rotated-out token of the previous build came back (marker: its reuse marker) and its
 * family is of that build too. Within the grace of a confidential client this is a retry:
 * *pg gets the grant the marker kept. Otherwise its family is revoked (reuse detection). */
static apr_status_t legacy_rotated_out(oas_grant_t **pg, oas_err_t *e, oas_ctx_t *x,
                                       const oas_client_t *c, const oas_jobj_t *m)
{
    const char *g;

    if (retry_allowed(x->iss, c) && (g = oas_jobj_object(m, "g")) &&
        x->now - oas_jobj_int(m, "t", 0) <= oas_iss_rt_grace(x->iss) &&
        oas_grant_from_json(pg, x->p, g, strlen(g)) == APR_SUCCESS)
        return APR_SUCCESS;
    return reused(e, x, c, oas_jobj_str(m, "fam"));
}

/* A family of the previous build moves to the new form, with the new *prt as its live token
 * and prev (rotated out at pt) as its rotated-out one; its ticket 0 lets exactly one
 * request move it. */
static apr_status_t legacy_adopt(const char **prt, oas_err_t *e, oas_ctx_t *x, oas_store_t *lst,
                                 const oas_client_t *c, const oas_grant_t *g, const char *prev,
                                 apr_int64_t pt)
{
    apr_status_t rv;

    if ((rv = family_start(prt, x, lst, g->family, g,
                           apr_psprintf(x->p, "%s@%" APR_INT64_T_FMT, prev, pt), 0)) == APR_EEXIST)
        return lost_race(e, x, c, g->family);
    return rv == APR_SUCCESS ? rv : oas_store_refused(x, e, rv, "rotating a refresh token");
}

/* The first rotation of a family of the previous build, by its current token rt: the one
 * request whose reuse marker for rt is new (put_new) moves the family to the new form, rt
 * becoming its rotated-out token (a later use of rt is a retry or reuse by the new rules). */
static apr_status_t legacy_rotate(const char **prt, oas_err_t *e, oas_ctx_t *x, oas_store_t *lst,
                                  const oas_client_t *c, const char *rt, const oas_grant_t *g)
{
    const char *marker;
    oas_jsonw_t w;
    apr_status_t rv;

    oas_jsonw_init(&w, x->p, 128);
    oas_jsonw_str(&w, "cid", c->id);
    oas_jsonw_str(&w, "fam", g->family);
    if (!(marker = oas_jsonw_end(&w)))
        return oas_err(e, x->p, 500, "server_error", "cannot issue tokens", OAS_LOG_ERR,
                       OAS_LOGNO(02012) "cannot write the reuse marker of a refresh token "
                                        "of client %s",
                       c->id);
    rv = oas_store_put_new(lst, x->p, OAS_NS_REFRESH_USED, rt, marker, strlen(marker),
                           apr_time_from_sec(g->family_exp));
    if (rv == APR_EEXIST)
        return lost_race(e, x, c, g->family);
    if (rv != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "rotating a refresh token");
    oas_store_del(lst, x->p, OAS_NS_REFRESH, rt);
    return legacy_adopt(prt, e, x, lst, c, g, digest(x->p, rt), x->now);
}

/* A token of the previous build: its own record (the grant) while current, else its reuse
 * marker. Once its family is of the new form, the new rules decide (rt is its rotated-out
 * token, or older). */
static apr_status_t legacy_grant(const char **pbody, oas_err_t *e, oas_ctx_t *x, oas_store_t *lst,
                                 const oas_client_t *c, const char *rt, const char *scope)
{
    const char *jti, *new_rt = NULL, *cid, *fam;
    oas_grant_t *g = NULL, use;
    oas_jobj_t m;
    family_t f;
    char *val;
    apr_size_t len;
    apr_status_t rv;
    apr_int64_t pt = 0; /* a retry: when rt was rotated out */

    rv = oas_store_get(lst, x->p, OAS_NS_REFRESH, rt, &val, &len);
    if (rv == APR_NOTFOUND) {
        rv = oas_store_get(lst, x->p, OAS_NS_REFRESH_USED, rt, &val, &len);
        if (rv == APR_NOTFOUND)
            return invalid_rt(e, x, c, "unknown or expired");
        if (rv != APR_SUCCESS)
            return oas_store_refused(x, e, rv, "reading a refresh token");
        if (oas_jsonr_parse(&m, x->p, val, len) != APR_SUCCESS || !(fam = oas_jobj_str(&m, "fam")))
            return invalid_rt(e, x, c, "unreadable reuse marker");
        if (strcmp((cid = oas_jobj_str(&m, "cid")) ? cid : "", c->id))
            return foreign_rotated_out(e, x, c, cid);
        if ((rv = family_read(&f, x, lst, fam)) == APR_SUCCESS && f.g)
            return family_grant(pbody, e, x, lst, c, fam, digest(x->p, rt), scope);
        if ((rv = legacy_rotated_out(&g, e, x, c, &m)) != APR_SUCCESS)
            return rv;
        pt = oas_jobj_int(&m, "t", 0);
    }
    else if (rv != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "reading a refresh token");
    else if (oas_grant_from_json(&g, x->p, val, len) != APR_SUCCESS)
        g = NULL;
    if (!g || strcmp(g->iss, x->iss->issuer) || strcmp(g->client_id, c->id) || !g->family)
        return foreign(e, x, c, g);
    if ((rv = family_read(&f, x, lst, g->family)) == APR_NOTFOUND)
        return no_family(e, x, c);
    if (rv != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "reading a refresh token");
    if (f.g) /* another token of the family moved it to the new form */
        return family_grant(pbody, e, x, lst, c, g->family, digest(x->p, rt), scope);
    g->family_by_id = 1; /* until a rotation moves it (below) */
    if ((rv = prepare(&use, &jti, e, x, c, g, scope)) != APR_SUCCESS)
        return rv;
    if (c->rt_rotation && !pt && (rv = legacy_rotate(&new_rt, e, x, lst, c, rt, g)))
        return rv;
    /* a retry: the token the lost answer carried stays of the old form, and is reuse */
    if (c->rt_rotation && pt && (rv = legacy_adopt(&new_rt, e, x, lst, c, g, digest(x->p, rt), pt)))
        return rv;
    use.family_by_id = !c->rt_rotation;
    return oas_issue_tokens(pbody, e, x, c, &use, jti, new_rt);
}

/* RFC 6749 §6, RFC 9700 §4.14.2: rotation with reuse detection for public clients (and
 * confidential ones that ask for it); a rotated-out token presented again revokes its family. */
apr_status_t oas_refresh_grant(const char **pbody, oas_err_t *e, oas_ctx_t *x,
                               const oas_client_t *c, const char *rt, const char *scope)
{
    oas_store_t *lst = oas_ctx_store(x, OAS_CTX_LONG);
    if (!rt) {
        OAS_ERR_SET(e, 400, "invalid_request", "the refresh_token parameter is missing");
        return APR_EINVAL;
    }
    if (!lst)
        return oas_store_refused(x, e, APR_ENOTIMPL, "reading a refresh token");
    if (strlen(rt) != TOKEN_CHARS) /* the previous build's were 43 characters */
        return legacy_grant(pbody, e, x, lst, c, rt, scope);
    return family_grant(pbody, e, x, lst, c, apr_pstrmemdup(x->p, rt, FAMILY_ID_CHARS),
                        digest(x->p, rt + FAMILY_ID_CHARS), scope);
}

apr_status_t oas_refresh_lookup(oas_grant_t **pg, oas_ctx_t *x, const char *rt)
{
    oas_store_t *lst = oas_ctx_store(x, OAS_CTX_LONG);
    oas_grant_t *g;
    family_t f;
    char *v;
    apr_size_t n;

    if (!lst)
        return APR_ENOTIMPL;
    if (strlen(rt) == TOKEN_CHARS) {
        if (family_read(&f, x, lst, apr_pstrmemdup(x->p, rt, FAMILY_ID_CHARS)) != APR_SUCCESS ||
            !f.g || !entry(f.live, digest(x->p, rt + FAMILY_ID_CHARS)))
            return APR_NOTFOUND;
        *pg = f.g;
        return APR_SUCCESS;
    }
    if (oas_store_get(lst, x->p, OAS_NS_REFRESH, rt, &v, &n) != APR_SUCCESS ||
        oas_grant_from_json(&g, x->p, v, n) != APR_SUCCESS || !g->family ||
        family_read(&f, x, lst, g->family) != APR_SUCCESS || f.g)
        return APR_NOTFOUND;
    *pg = g;
    return APR_SUCCESS;
}
