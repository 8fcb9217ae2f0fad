/* mod_oauth_as: the authorization server's session (oas_session.h).
 *
 * The record lives in the long-lived store under a keyed digest of the cookie's value (a
 * label, the issuer and the value: SHA-256, base64url), so the store holds no cookie and a
 * record of one issuer is never another's; the public sid is a separate random value, so
 * nothing that travels in ID tokens or front-channel URLs leads back to the cookie. Records
 * are best effort (oas_store.h): a full store drops the oldest sessions, which costs their
 * users one more sign-in, rather than refusing new ones. The relying parties of a session are
 * one JSON object (client id -> sub), rewritten when a client joins: two authorizations of
 * one browser finishing at the same instant may keep only one of their clients (no atomic
 * append in the store interface); the one kept is the later. */
#include <apr_lib.h>
#include <apr_strings.h>

#include "oas_authz.h"
#include "oas_code_issue.h"
#include "oas_jsonr.h"
#include "oas_jsonw.h"
#include "oas_session.h"
#include "oas_util.h"

#define KEY_LABEL "mod_oauth_as session\n"
#define COOKIE_CHARS 43 /* base64url of OAS_TOKEN_BYTES */
#define SID_BYTES 16
/* the clients one session remembers (the oldest gives way): well above what a person signs
 * in to in one day, well below the store's value limit */
#define RPS_MAX 64
/* how long a re-authentication (OAuthASLoginURL) may take, at least */
#define LOGIN_TTL_MIN 600

static const char *record_key(apr_pool_t *p, const oas_issuer_t *iss, const char *cookie)
{
    unsigned char d[OAS_SHA256_LEN];
    oas_bytes_t parts[4] = {{KEY_LABEL, sizeof(KEY_LABEL) - 1},
                            {iss->issuer, strlen(iss->issuer)},
                            {"\n", 1},
                            {cookie, strlen(cookie)}};

    return oas_sha256_parts(d, parts, 4) ? oas_b64url_encode(p, d, sizeof(d)) : NULL;
}

int oas_session_cookie_valid(const char *cookie)
{
    apr_size_t i;

    if (!cookie || strlen(cookie) != COOKIE_CHARS)
        return 0;
    for (i = 0; i < COOKIE_CHARS; i++)
        if (!apr_isalnum(cookie[i]) && cookie[i] != '-' && cookie[i] != '_')
            return 0;
    return 1;
}

static const char *record(apr_pool_t *p, const oas_session_t *s)
{
    oas_jsonw_t w;
    int i;

    oas_jsonw_init(&w, p, 256 + 64 * s->rps->nelts);
    oas_jsonw_str(&w, "sid", s->sid);
    oas_jsonw_str(&w, "u", s->user);
    oas_jsonw_int(&w, "at", s->auth_time);
    oas_jsonw_int(&w, "exp", s->expires);
    oas_jsonw_object(&w, "rp");
    for (i = 0; i < s->rps->nelts; i++) {
        const oas_session_rp_t *rp = &APR_ARRAY_IDX(s->rps, i, oas_session_rp_t);
        oas_jsonw_str_keep_empty(&w, rp->client_id, rp->sub);
    }
    oas_jsonw_close(&w);
    return oas_jsonw_end(&w);
}

apr_status_t oas_session_parse(oas_session_t **ps, apr_pool_t *p, const char *v, apr_size_t n)
{
    oas_session_t *s = apr_pcalloc(p, sizeof(*s));
    const char *rps;
    oas_jobj_t o, r;
    int i;

    if (oas_jsonr_parse(&o, p, v, n) != APR_SUCCESS || !(s->sid = oas_jobj_str(&o, "sid")) ||
        !(s->user = oas_jobj_str(&o, "u")) || (s->auth_time = oas_jobj_int(&o, "at", 0)) <= 0 ||
        (s->expires = oas_jobj_int(&o, "exp", 0)) <= 0)
        return APR_EINVAL;
    s->rps = apr_array_make(p, 4, sizeof(oas_session_rp_t));
    if ((rps = oas_jobj_object(&o, "rp"))) {
        if (oas_jsonr_parse(&r, p, rps, strlen(rps)) != APR_SUCCESS)
            return APR_EINVAL;
        for (i = 0; i < r.n; i++) {
            oas_session_rp_t *rp = apr_array_push(s->rps);
            if (r.m[i].type != OAS_JSON_STRING)
                return APR_EINVAL;
            rp->client_id = r.m[i].key;
            rp->sub = r.m[i].str;
        }
    }
    *ps = s;
    return APR_SUCCESS;
}

/* Stores s (s->unsaved cleared). */
static apr_status_t save(oas_ctx_t *x, oas_err_t *e, oas_session_t *s)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_LONG);
    const char *rec = record(x->p, s);
    apr_status_t rv;

    if (!st)
        return oas_store_refused(x, e, APR_ENOTIMPL, "storing a session");
    if (!rec)
        return oas_err(e, x->p, 500, "server_error", "the session could not be kept", OAS_LOG_ERR,
                       OAS_LOGNO(06921) "cannot write the record of session %s", s->sid);
    /* a new session's key digests a fresh random cookie: no other record can have it, so a
     * plain put (idempotent, rerun by a dbd store after it repaired a connection a database
     * restart broke) serves as well as put_new, which is never rerun (oas_store_dbd.c) */
    rv = oas_store_put(st, x->p, OAS_NS_SESSION, s->key, rec, strlen(rec),
                       apr_time_from_sec(s->expires));
    if (rv != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "storing a session");
    s->unsaved = 0;
    return APR_SUCCESS;
}

apr_status_t oas_session_get(oas_session_t **ps, oas_ctx_t *x, const char *cookie)
{
    oas_store_t *st;
    const char *key;
    char *v;
    apr_size_t n;
    apr_status_t rv;

    *ps = NULL;
    if (!oas_session_cookie_valid(cookie))
        return APR_SUCCESS;
    if (!(st = oas_ctx_store(x, OAS_CTX_LONG)))
        return APR_ENOTIMPL;
    if (!(key = record_key(x->p, x->iss, cookie)))
        return APR_ENOMEM;
    rv = oas_store_get(st, x->p, OAS_NS_SESSION, key, &v, &n);
    if (rv == APR_NOTFOUND)
        return APR_SUCCESS;
    if (rv != APR_SUCCESS)
        return rv;
    if (oas_session_parse(ps, x->p, v, n) != APR_SUCCESS) {
        OAS_CTX_LOG(x, OAS_LOG_ERR, 0, OAS_LOGNO(06922) "unreadable session record: ignored");
        *ps = NULL;
        return APR_SUCCESS;
    }
    /* the record goes when the session ends (oas_session_end fails when it cannot remove
     * it); the end marker is for the refresh tokens issued in it */
    if ((*ps)->expires <= x->now) {
        *ps = NULL;
        return APR_SUCCESS;
    }
    (*ps)->key = key;
    return APR_SUCCESS;
}

/* A new session, not stored yet (s->unsaved). */
static apr_status_t begin(oas_session_t **ps, const char **pcookie, oas_ctx_t *x,
                          apr_int64_t auth_time, oas_err_t *err)
{
    oas_session_t *s = apr_pcalloc(x->p, sizeof(*s));
    apr_status_t rv;

    *ps = NULL;
    *pcookie = NULL;
    if ((rv = oas_random_token(pcookie, x->p, OAS_TOKEN_BYTES)) != APR_SUCCESS ||
        (rv = oas_random_token(&s->sid, x->p, SID_BYTES)) != APR_SUCCESS)
        return oas_err(err, x->p, 500, "server_error", "the session could not be made", OAS_LOG_ERR,
                       OAS_LOGNO(06923) "no random bytes for a session");
    if (!(s->key = record_key(x->p, x->iss, *pcookie)))
        return oas_err(err, x->p, 500, "server_error", "the session could not be made", OAS_LOG_ERR,
                       OAS_LOGNO(06924) "cannot hash a session cookie");
    s->user = x->user;
    s->auth_time = auth_time;
    s->expires = x->now + oas_iss_session_ttl(x->iss);
    s->rps = apr_array_make(x->p, 4, sizeof(oas_session_rp_t));
    s->unsaved = 1;
    OAS_CTX_LOG(x, OAS_LOG_INFO, 0, OAS_LOGNO(06925) "session %s of %s begins", s->sid, s->user);
    *ps = s;
    return APR_SUCCESS;
}

apr_status_t oas_session_keep(oas_ctx_t *x, oas_err_t *e, oas_session_t *s)
{
    return s && s->unsaved ? save(x, e, s) : APR_SUCCESS;
}

apr_status_t oas_session_begin(oas_session_t **ps, const char **pcookie, oas_ctx_t *x,
                               apr_int64_t auth_time, oas_err_t *err)
{
    apr_status_t rv = begin(ps, pcookie, x, auth_time, err);

    if (rv == APR_SUCCESS && (rv = oas_session_keep(x, err, *ps)) != APR_SUCCESS) {
        *ps = NULL;
        *pcookie = NULL;
    }
    return rv;
}

apr_status_t oas_session_add_rp(oas_ctx_t *x, oas_session_t *s, const char *client_id,
                                const char *sub, oas_err_t *err)
{
    oas_session_rp_t *rp;
    int i;

    for (i = 0; i < s->rps->nelts; i++) {
        rp = &APR_ARRAY_IDX(s->rps, i, oas_session_rp_t);
        if (!strcmp(rp->client_id, client_id) && !strcmp(rp->sub, sub))
            return APR_SUCCESS; /* listed: a stored session (a new one lists no client) */
        if (!strcmp(rp->client_id, client_id)) { /* one sub per client: the latest */
            memmove(rp, rp + 1, (s->rps->nelts - i - 1) * sizeof(*rp));
            s->rps->nelts--;
            break;
        }
    }
    if (s->rps->nelts >= RPS_MAX) {
        OAS_CTX_LOG(x, OAS_LOG_WARNING, 0,
                    OAS_LOGNO(06926) "session %s: more than %d clients, client %s forgotten "
                                     "(it will not be told of the logout)",
                    s->sid, RPS_MAX, APR_ARRAY_IDX(s->rps, 0, oas_session_rp_t).client_id);
        memmove(s->rps->elts, s->rps->elts + sizeof(*rp), (RPS_MAX - 1) * sizeof(*rp));
        s->rps->nelts = RPS_MAX - 1;
    }
    rp = apr_array_push(s->rps);
    rp->client_id = apr_pstrdup(x->p, client_id);
    rp->sub = apr_pstrdup(x->p, sub);
    return save(x, err, s); /* a new session is stored here with its first client */
}

/* The longest lifetime a refresh token of this issuer may have: how long an ended session's
 * marker must stop them. */
static apr_int64_t rt_ttl_max(oas_ctx_t *x)
{
    apr_int64_t max = oas_iss_rt_ttl(x->iss), t;
    apr_hash_index_t *hi;

    for (hi = x->iss->clients ? apr_hash_first(x->p, x->iss->clients) : NULL; hi;
         hi = apr_hash_next(hi))
        if ((t = oas_client_rt_ttl(x->iss, apr_hash_this_val(hi))) > max)
            max = t;
    return max;
}

apr_status_t oas_session_end(oas_ctx_t *x, const oas_session_t *s, oas_err_t *err)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_LONG);
    apr_status_t rv;

    if (!st)
        return oas_store_refused(x, err, APR_ENOTIMPL, "ending a session");
    /* the marker first: once it is there, the refresh tokens issued in the session stop on
     * every node, whatever becomes of the record */
    if ((rv = oas_store_put(st, x->p, OAS_NS_SESSION_END, s->sid, "", 0,
                            apr_time_from_sec(x->now + rt_ttl_max(x) + 1))) != APR_SUCCESS)
        return oas_store_refused(x, err, rv, "ending a session");
    /* reading a session does not look for the marker (one read less per /authorize): the
     * record must go, or the logout fails and is retried */
    if (s->key && (rv = oas_store_del(st, x->p, OAS_NS_SESSION, s->key)) != APR_SUCCESS &&
        rv != APR_NOTFOUND) {
        OAS_CTX_LOG(x, OAS_LOG_WARNING, rv,
                    OAS_LOGNO(06927) "session %s: its record could not be removed", s->sid);
        return oas_store_refused(x, err, rv, "ending a session");
    }
    OAS_CTX_LOG(x, OAS_LOG_INFO, 0, OAS_LOGNO(06928) "session %s of %s ended (%d clients)", s->sid,
                s->user, s->rps ? s->rps->nelts : 0);
    return APR_SUCCESS;
}

int oas_session_ended(oas_ctx_t *x, const char *sid)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_LONG);
    char *v;
    apr_size_t n;

    return sid && st && oas_store_get(st, x->p, OAS_NS_SESSION_END, sid, &v, &n) == APR_SUCCESS;
}

/* ---- /authorize: the session of the request, prompt and max_age (OIDC Core §3.1.2.1) ---- */

apr_status_t oas_session_authorize(oas_session_t **ps, const char **pcookie, int *preauth,
                                   oas_ctx_t *x, oas_err_t *e, const oas_authz_req_t *req,
                                   const char *cookie, int reauthed)
{
    oas_session_t *s = NULL;
    apr_status_t rv;
    int fresh;

    *ps = NULL;
    *pcookie = NULL;
    *preauth = 0;
    if ((rv = oas_session_get(&s, x, cookie)) != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "reading a session");
    /* the site's user is the truth: a session of someone else is not this user's */
    if (s && strcmp(s->user, x->user)) {
        OAS_CTX_LOG(x, OAS_LOG_INFO, 0,
                    OAS_LOGNO(06929) "the browser's session %s is of %s, the site's user is "
                                     "%s: a new session",
                    s->sid, s->user, x->user);
        s = NULL;
    }
    if (reauthed) { /* the user signed in again just now (OAuthASLoginURL) */
        if (!s)
            return oas_session_begin(ps, pcookie, x, x->now, e);
        s->auth_time = x->now;
        if ((rv = save(x, e, s)) != APR_SUCCESS)
            return rv;
        *ps = s;
        return APR_SUCCESS;
    }
    /* OIDC Core §3.1.2.1: prompt=login and max_age=0 ask for a sign-in now, whatever the
     * session; max_age for one no older than that; a new session's sign-in is the site's
     * (this request's user), not one we saw happen */
    fresh = req->prompt_login || req->max_age == 0 ||
            (req->max_age > 0 && s && x->now - s->auth_time > req->max_age);
    if (req->prompt_none && (!s || fresh))
        return oas_err(e, x->p, 400, "login_required", "the user is not signed in", OAS_LOG_INFO,
                       OAS_LOGNO(06930) "prompt=none of client %s for %s: %s", req->client->id,
                       x->user, s ? "the sign-in is older than max_age" : "no live session");
    if (fresh) {
        *preauth = 1;
        return APR_SUCCESS;
    }
    if (!s) /* stored with its first client (oas_session_code) or before the consent page */
        return begin(ps, pcookie, x, x->now, e);
    *ps = s;
    return APR_SUCCESS;
}

void oas_session_join(oas_session_t *s, oas_grant_t *g)
{
    if (!s)
        return;
    g->sid = s->sid;
    g->auth_time = s->auth_time;
}

apr_status_t oas_session_code(oas_ctx_t *x, oas_err_t *e, oas_session_t *s, const char *cookie,
                              const oas_grant_t *g)
{
    apr_status_t rv;

    if (!g->sid || !oas_list_has(oas_scope_split(x->p, g->scope), "openid"))
        return oas_session_keep(x, e, s);
    if (!s && (rv = oas_session_get(&s, x, cookie)) != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "reading a session");
    /* the session ended or gave way to another while the consent page was shown: the code
     * is still the user's answer, and no session is left to list its client */
    if (!s || strcmp(s->sid, g->sid))
        return APR_SUCCESS;
    return oas_session_add_rp(x, s, g->client_id, g->sub, e);
}

/* ---- re-authentication through OAuthASLoginURL ---- */

apr_status_t oas_session_login_start(const char **ptxn, oas_ctx_t *x, oas_err_t *e,
                                     const apr_table_t *params)
{
    const apr_array_header_t *a = apr_table_elts(params);
    const char *rec;
    oas_jsonw_t w;
    int i, ttl = oas_iss_consent_ttl(x->iss);

    oas_jsonw_init(&w, x->p, 1024);
    oas_jsonw_str(&w, "u", x->user);
    oas_jsonw_object(&w, "q");
    for (i = 0; i < a->nelts; i++) {
        const apr_table_entry_t *t = &APR_ARRAY_IDX(a, i, apr_table_entry_t);
        oas_jsonw_str_keep_empty(&w, t->key, t->val);
    }
    oas_jsonw_close(&w);
    if (!(rec = oas_jsonw_end(&w)) || oas_authz_record_fits(e, rec) != APR_SUCCESS)
        return oas_err(e, x->p, 400, "login_required",
                       "the user must sign in again, and the request is too large to resume",
                       OAS_LOG_INFO,
                       OAS_LOGNO(06931) "client %s: a sign-in again was asked, but the request "
                                        "cannot be kept",
                       apr_table_get(params, "client_id"));
    return oas_authz_keep(ptxn, x, e, OAS_NS_LOGIN, rec, ttl > LOGIN_TTL_MIN ? ttl : LOGIN_TTL_MIN,
                          "storing a sign-in in progress");
}

apr_status_t oas_session_login_resume(apr_table_t **pparams, oas_ctx_t *x, oas_err_t *e,
                                      const char *txn)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_SHORT);
    const char *q;
    oas_jobj_t o, r;
    char *v;
    apr_size_t n;
    apr_status_t rv;
    int i;

    *pparams = NULL;
    if (!st)
        return oas_store_refused(x, e, APR_ENOTIMPL, "reading a sign-in in progress");
    rv = oas_store_take(st, x->p, OAS_NS_LOGIN, txn, &v, &n);
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND)
        return oas_store_refused(x, e, rv, "reading a sign-in in progress");
    if (rv == APR_NOTFOUND || oas_jsonr_parse(&o, x->p, v, n) != APR_SUCCESS ||
        !(q = oas_jobj_object(&o, "q")) || oas_jsonr_parse(&r, x->p, q, strlen(q)) != APR_SUCCESS) {
        OAS_ERR_SET(e, 400, OAS_AUTHZ_GONE,
                    "This sign-in has expired or was already used. Please start again from "
                    "the application.");
        e->page = 1;
        return APR_NOTFOUND;
    }
    *pparams = apr_table_make(x->p, r.n);
    for (i = 0; i < r.n; i++)
        if (r.m[i].type == OAS_JSON_STRING)
            apr_table_setn(*pparams, r.m[i].key, r.m[i].str);
    OAS_CTX_LOG(x, OAS_LOG_INFO, 0,
                OAS_LOGNO(06932) "%s signed in again (started by %s): the authorization "
                                 "request of client %s resumes",
                x->user, oas_jobj_str(&o, "u") ? oas_jobj_str(&o, "u") : "?",
                apr_table_get(*pparams, "client_id") ? apr_table_get(*pparams, "client_id") : "?");
    return APR_SUCCESS;
}
