/* mod_oauth_as: the Device Authorization Grant, RFC 8628 (oas_device.h). */
#include <stdio.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "oas_authz.h"
#include "oas_clients.h"
#include "oas_device.h"
#include "oas_issue.h"
#include "oas_jsonr.h"
#include "oas_jsonw.h"
#include "oas_refresh.h"
#include "oas_throttle.h"
#include "oas_util.h"

#define HANDLE_LABEL "mod_oauth_as device handle\n"
#define HANDLE_BYTES 16
#define ALPHABET_LEN (sizeof(OAS_USER_CODE_ALPHABET) - 1)

/* ---- codes ---- */

const char *oas_device_user_code_new(apr_pool_t *p)
{
    char *out = apr_palloc(p, OAS_USER_CODE_CHARS + 2);
    unsigned char b[32];
    apr_size_t i, k = 0, n = 0;

    while (n < OAS_USER_CODE_CHARS) {
        if (k == 0 && !oas_rand_bytes(b, sizeof(b)))
            return NULL;
        /* 240 = 12 * 20: a byte at or above it is drawn again, so every symbol is as likely */
        if (b[k] < 240) {
            i = n < OAS_USER_CODE_CHARS / 2 ? n : n + 1;
            out[i] = OAS_USER_CODE_ALPHABET[b[k] % ALPHABET_LEN];
            n++;
        }
        k = (k + 1) % sizeof(b);
    }
    out[OAS_USER_CODE_CHARS / 2] = '-';
    out[OAS_USER_CODE_CHARS + 1] = '\0';
    return out;
}

const char *oas_device_user_code_norm(apr_pool_t *p, const char *s)
{
    char out[OAS_USER_CODE_CHARS + 1];
    apr_size_t n = 0;

    if (!s || strlen(s) > OAS_USER_CODE_MAX_INPUT)
        return NULL;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '-' || ch == ' ' || ch == '\t') /* separators the user may type */
            continue;
        ch = (unsigned char)apr_toupper(ch);
        if (ch >= 0x80 || !ch || !strchr(OAS_USER_CODE_ALPHABET, ch) || n == OAS_USER_CODE_CHARS)
            return NULL;
        out[n++] = (char)ch;
    }
    if (n != OAS_USER_CODE_CHARS)
        return NULL;
    return apr_pstrmemdup(p, out, n);
}

/* The digest that names a code's records: base64url of 16 bytes of SHA-256 over a label, the
 * kind ('d' device code, 'u' user code) and the code; the codes themselves are never kept. */
static const char *handle(apr_pool_t *p, char kind, const char *code)
{
    unsigned char d[OAS_SHA256_LEN];
    oas_bytes_t parts[3] = {
        {HANDLE_LABEL, sizeof(HANDLE_LABEL) - 1}, {&kind, 1}, {code, strlen(code)}};

    return oas_sha256_parts(d, parts, 3) ? oas_b64url_encode(p, d, HANDLE_BYTES) : NULL;
}

static const char *key(apr_pool_t *p, const char *prefix, const char *h)
{
    return apr_pstrcat(p, prefix, h, NULL);
}

static apr_status_t no_random(oas_err_t *e, apr_pool_t *p)
{
    return oas_err(e, p, 500, "server_error", "cannot make a code", OAS_LOG_ERR,
                   OAS_LOGNO(07101) "no random bytes for a device or user code");
}

/* ---- the device endpoint ---- */

static apr_status_t check_request(const char **pscope, const char **pres, oas_err_t *e,
                                  oas_ctx_t *x, const oas_client_t *c, apr_table_t *form)
{
    const char *scope = apr_table_get(form, "scope");
    apr_array_header_t *scopes;
    int i;

    if (!(c->grant_types & OAS_GRANT_DEVICE))
        return oas_err(e, x->p, 400, "unauthorized_client",
                       "the client may not use the device authorization grant", OAS_LOG_INFO,
                       OAS_LOGNO(07102) "client %s may not use the device grant", c->id);
    if (scope && !oas_scope_valid(scope, 0)) {
        OAS_ERR_SET(e, 400, "invalid_scope", "malformed scope");
        return APR_EINVAL;
    }
    scopes = oas_scope_split(x->p, scope);
    for (i = 0; i < scopes->nelts; i++) {
        if (!oas_list_has(c->scopes, APR_ARRAY_IDX(scopes, i, const char *)))
            return oas_err(e, x->p, 400, "invalid_scope",
                           "the client may not ask for a requested scope", OAS_LOG_INFO,
                           OAS_LOGNO(07103) "client %s may not ask for scope %s", c->id,
                           APR_ARRAY_IDX(scopes, i, const char *));
    }
    *pscope = apr_array_pstrcat(x->p, scopes, ' ');
    return oas_resource_check(pres, e, x->iss, c, form);
}

/* Records the request of c (rec) under a fresh device code and user code in *a. */
static apr_status_t record(oas_device_auth_t *a, oas_err_t *e, oas_ctx_t *x, oas_store_t *st,
                           const char *rec)
{
    int ttl = oas_iss_device_ttl(x->iss), tries;
    const char *dh, *uh;
    apr_status_t rv;

    if (oas_random_token(&a->device_code, x->p, OAS_TOKEN_BYTES) != APR_SUCCESS ||
        !(dh = handle(x->p, 'd', a->device_code)))
        return no_random(e, x->p);
    /* kept past its expiry for as long again, so that a late poll learns expired_token */
    if ((rv = oas_store_put(st, x->p, OAS_NS_DEVICE, key(x->p, "d", dh), rec, strlen(rec),
                            apr_time_from_sec(x->now + 2 * (apr_int64_t)ttl))) != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "recording a device request");
    /* a user code names one live request: a collision (1 in 20^8 per live code) draws again */
    for (tries = 0, rv = APR_EEXIST; rv == APR_EEXIST && tries < 4; tries++) {
        if (!(a->user_code = oas_device_user_code_new(x->p)) ||
            !(uh = handle(x->p, 'u', oas_device_user_code_norm(x->p, a->user_code)))) {
            rv = APR_EGENERAL;
            break;
        }
        rv = oas_store_put_new(st, x->p, OAS_NS_DEVICE, key(x->p, "u", uh), dh, strlen(dh),
                               apr_time_from_sec(x->now + ttl));
    }
    if (rv == APR_SUCCESS)
        return APR_SUCCESS;
    oas_store_del(st, x->p, OAS_NS_DEVICE, key(x->p, "d", dh));
    if (rv == APR_EGENERAL)
        return no_random(e, x->p);
    return oas_store_refused(x, e, rv == APR_EEXIST ? APR_ENOSPC : rv, "recording a user code");
}

apr_status_t oas_device_authorize(oas_device_auth_t *a, oas_err_t *e, oas_ctx_t *x,
                                  const oas_client_t *c, apr_table_t *form)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_SHORT);
    const char *scope = NULL, *res = NULL, *rec;
    oas_jsonw_t w;
    apr_status_t rv;

    if ((rv = check_request(&scope, &res, e, x, c, form)) != APR_SUCCESS)
        return rv;
    if (!st)
        return oas_store_refused(x, e, APR_ENOTIMPL, "starting a device authorization");
    oas_jsonw_init(&w, x->p, 256);
    oas_jsonw_str(&w, "cid", c->id);
    oas_jsonw_str_keep_empty(&w, "sc", scope);
    oas_jsonw_str(&w, "res", res);
    oas_jsonw_int(&w, "exp", x->now + oas_iss_device_ttl(x->iss));
    if (!(rec = oas_jsonw_end(&w)))
        return oas_err(e, x->p, 500, "server_error", "cannot record the request", OAS_LOG_ERR,
                       OAS_LOGNO(07104) "cannot write the device request of client %s", c->id);
    if ((rv = oas_authz_record_fits(e, rec)) != APR_SUCCESS ||
        (rv = oas_quota_take(x, e, c, NULL)) != APR_SUCCESS)
        return rv;
    if ((rv = record(a, e, x, st, rec)) != APR_SUCCESS) {
        oas_quota_give_back(x, c, NULL); /* nothing is held */
        return rv;
    }
    a->expires_in = oas_iss_device_ttl(x->iss);
    a->interval = oas_iss_device_interval(x->iss);
    OAS_CTX_LOG(x, OAS_LOG_INFO, 0,
                OAS_LOGNO(07105) "device authorization of client %s started (scope %s)", c->id,
                *scope ? scope : "-");
    return APR_SUCCESS;
}

/* ---- the verification page ---- */

static apr_status_t page(oas_err_t *e, int status, const char *error, const char *desc)
{
    OAS_ERR_SET(e, status, error, desc);
    e->page = 1;
    return APR_EINVAL;
}

apr_status_t oas_device_form_token(const char **ptok, oas_err_t *e, oas_ctx_t *x)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_SHORT);
    const char *k = apr_pstrcat(x->p, "f", x->user ? x->user : "", NULL), *tok;
    char *val;
    apr_size_t len;
    apr_status_t rv;
    int i;

    if (!st)
        return oas_store_refused(x, e, APR_ENOTIMPL, "showing the code form");
    for (i = 0; i < 2; i++) {
        if ((rv = oas_store_get(st, x->p, OAS_NS_DEVICE, k, &val, &len)) == APR_SUCCESS) {
            *ptok = val;
            return APR_SUCCESS;
        }
        if (rv != APR_NOTFOUND)
            break;
        if (oas_random_token(&tok, x->p, OAS_TOKEN_BYTES) != APR_SUCCESS)
            return no_random(e, x->p);
        /* one token per user: a second tab reads the first one's */
        rv = oas_store_put_new(st, x->p, OAS_NS_DEVICE, k, tok, strlen(tok),
                               apr_time_from_sec(x->now + oas_iss_device_ttl(x->iss)));
        if (rv == APR_SUCCESS) {
            *ptok = tok;
            return APR_SUCCESS;
        }
        if (rv != APR_EEXIST)
            break;
    }
    return oas_store_refused(x, e, rv, "showing the code form");
}

apr_status_t oas_device_form_check(oas_err_t *e, oas_ctx_t *x, const char *tok)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_SHORT);
    char *val = NULL;
    apr_size_t len;
    apr_status_t rv =
        st ? oas_store_get(st, x->p, OAS_NS_DEVICE,
                           apr_pstrcat(x->p, "f", x->user ? x->user : "", NULL), &val, &len)
           : APR_ENOTIMPL;

    if (rv != APR_SUCCESS && rv != APR_NOTFOUND)
        return oas_store_refused(x, e, rv, "reading the code form");
    if (rv == APR_SUCCESS && x->user && tok && oas_secure_streq(tok, val))
        return APR_SUCCESS;
    oas_err(e, x->p, 403, "access_denied",
            "The form does not belong to this session. Please load the page again.", OAS_LOG_INFO,
            OAS_LOGNO(07106) "code form of user %s refused: CSRF token %s", x->user ? x->user : "-",
            tok ? "wrong or expired" : "missing");
    e->page = 1;
    return APR_EINVAL;
}

/* RFC 8628 §5.1: wrong user codes counted per user and per address (IPv6: its /64); *over
 * when one of them is at the limit. count 0: a read alone (a counter not yet there is 0). */
static apr_status_t guesses(int *over, apr_int64_t *left, apr_int64_t *most, oas_ctx_t *x,
                            int count)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_COUNTERS);
    const char *keys[2] = {apr_pstrcat(x->p, "d", x->user ? x->user : "", NULL),
                           apr_pstrcat(x->p, "e", oas_addr_prefix(x->p, x->addr), NULL)};
    apr_int64_t n;
    apr_time_t until;
    apr_status_t rv;
    int i;

    *over = 0;
    *most = 0;
    *left = OAS_DEVICE_GUESS_WINDOW;
    if (!st)
        return APR_ENOTIMPL;
    for (i = 0; i < 2; i++) {
        rv = oas_store_incr(st, x->p, OAS_NS_QUOTA, keys[i], count,
                            apr_time_from_sec(x->now + OAS_DEVICE_GUESS_WINDOW), &n, &until);
        if (rv == APR_NOTFOUND || (rv == APR_SUCCESS && apr_time_sec(until) <= x->now))
            continue; /* none, or one whose window is over */
        if (rv != APR_SUCCESS)
            return rv;
        if (n > *most)
            *most = n;
        if (n >= OAS_DEVICE_GUESS_LIMIT + count) { /* count: this miss is allowed at the limit */
            *over = 1;
            *left = apr_time_sec(until) - x->now > 0 ? apr_time_sec(until) - x->now : 1;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t too_many(oas_err_t *e, oas_ctx_t *x, apr_int64_t left)
{
    oas_err(e, x->p, 429, "temporarily_unavailable",
            "Too many wrong codes. Please wait a minute and try again.", OAS_LOG_INFO,
            OAS_LOGNO(07107) "user %s from %s: too many wrong user codes, refused for "
                             "%" APR_INT64_T_FMT " s",
            x->user ? x->user : "-", x->addr ? x->addr : "-", left);
    e->retry_after = left;
    e->page = 1;
    return APR_EINVAL;
}

/* A code typed that names no request: counted, then refused. */
static apr_status_t wrong_code(oas_err_t *e, oas_ctx_t *x, const char *why)
{
    apr_int64_t left, most;
    int over;
    apr_status_t rv = guesses(&over, &left, &most, x, 1);

    if (rv != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "counting a wrong user code");
    if (most == OAS_DEVICE_GUESS_LIMIT) /* logged once per window */
        OAS_CTX_LOG(x, OAS_LOG_WARNING, 0,
                    OAS_LOGNO(07121) "user %s from %s: %d wrong user codes, refused for "
                                     "%" APR_INT64_T_FMT " s",
                    x->user, x->addr ? x->addr : "-", OAS_DEVICE_GUESS_LIMIT, left);
    if (over)
        return too_many(e, x, left);
    oas_err(e, x->p, 400, "invalid_request",
            "This code is not valid. Check it on your device's screen and type it again.",
            OAS_LOG_INFO, OAS_LOGNO(07108) "user %s typed a user code that %s", x->user, why);
    e->page = 1;
    return APR_EINVAL;
}

/* The device request under handle dh: its record parsed, or *e set. */
static apr_status_t request_of(oas_jobj_t *o, oas_err_t *e, oas_ctx_t *x, oas_store_t *st,
                               const char *dh, int take)
{
    char *val;
    apr_size_t len;
    const char *k = key(x->p, "d", dh);
    apr_status_t rv = take ? oas_store_take(st, x->p, OAS_NS_DEVICE, k, &val, &len)
                           : oas_store_get(st, x->p, OAS_NS_DEVICE, k, &val, &len);

    if (rv == APR_NOTFOUND)
        return rv;
    if (rv != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "reading a device request");
    if (oas_jsonr_parse(o, x->p, val, len) != APR_SUCCESS || !oas_jobj_str(o, "cid"))
        return oas_err(e, x->p, 500, "server_error", "the device request is unreadable",
                       OAS_LOG_ERR, OAS_LOGNO(07109) "unreadable device request record");
    return APR_SUCCESS;
}

/* The decision on dh: APR_SUCCESS with *o, APR_NOTFOUND, or *e set. */
static apr_status_t decision_of(oas_jobj_t *o, oas_err_t *e, oas_ctx_t *x, oas_store_t *st,
                                const char *dh)
{
    char *val;
    apr_size_t len;
    apr_status_t rv = oas_store_get(st, x->p, OAS_NS_DEVICE, key(x->p, "r", dh), &val, &len);

    if (rv == APR_NOTFOUND)
        return rv;
    if (rv != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "reading a device decision");
    if (oas_jsonr_parse(o, x->p, val, len) != APR_SUCCESS)
        return oas_err(e, x->p, 500, "server_error", "the device decision is unreadable",
                       OAS_LOG_ERR, OAS_LOGNO(07110) "unreadable device decision record");
    return APR_SUCCESS;
}

apr_status_t oas_device_lookup(oas_pending_t *pd, oas_err_t *e, oas_ctx_t *x, const char *user_code,
                               apr_int64_t auth_time)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_SHORT);
    const char *norm = oas_device_user_code_norm(x->p, user_code), *uh;
    const oas_client_t *c;
    oas_grant_t *g;
    oas_jobj_t o, d;
    char *dh;
    apr_size_t len;
    apr_int64_t left, most;
    apr_status_t rv;
    int over;

    memset(pd, 0, sizeof(*pd));
    if (!x->user)
        return page(e, 403, "access_denied", "Nobody is signed in.");
    /* a party at its limit learns nothing more, right or wrong */
    if ((rv = guesses(&over, &left, &most, x, 0)) != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "counting a wrong user code");
    if (over)
        return too_many(e, x, left);
    if (!st)
        return oas_store_refused(x, e, APR_ENOTIMPL, "reading a user code");
    if (!norm)
        return wrong_code(e, x, "is not a user code");
    if (!(uh = handle(x->p, 'u', norm)))
        return no_random(e, x->p);
    rv = oas_store_get(st, x->p, OAS_NS_DEVICE, key(x->p, "u", uh), &dh, &len);
    if (rv == APR_NOTFOUND)
        return wrong_code(e, x, "is unknown or expired");
    if (rv != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "reading a user code");
    if ((rv = request_of(&o, e, x, st, dh, 0)) == APR_NOTFOUND ||
        (rv == APR_SUCCESS && oas_jobj_int(&o, "exp", 0) <= x->now))
        return wrong_code(e, x, "is expired or used");
    if (rv != APR_SUCCESS)
        return rv;
    if ((rv = decision_of(&d, e, x, st, dh)) == APR_SUCCESS)
        return page(e, 400, OAS_AUTHZ_GONE, "This code was already used.");
    if (rv != APR_NOTFOUND)
        return rv;
    if (!(c = oas_ctx_client(x, oas_jobj_str(&o, "cid"))))
        return page(e, 400, "invalid_request", "The application is not known any more.");
    pd->grant = g = apr_pcalloc(x->p, sizeof(*g));
    pd->device = dh;
    g->iss = x->iss->issuer;
    g->client_id = c->id;
    g->sub = x->user;
    g->scope = oas_jobj_str(&o, "sc");
    g->resource = oas_jobj_str(&o, "res");
    g->auth_time = auth_time;
    OAS_CTX_LOG(x, OAS_LOG_INFO, 0,
                OAS_LOGNO(07111) "user %s typed the user code of a device request of client %s",
                x->user, c->id);
    return APR_SUCCESS;
}

apr_status_t oas_device_decide(oas_err_t *e, oas_ctx_t *x, const oas_pending_t *pd, int allow)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_SHORT);
    const char *gj = NULL, *rec;
    oas_jobj_t o;
    oas_jsonw_t w;
    apr_status_t rv;

    if (!st)
        return oas_store_refused(x, e, APR_ENOTIMPL, "recording a device decision");
    if ((rv = request_of(&o, e, x, st, pd->device, 0)) == APR_NOTFOUND ||
        (rv == APR_SUCCESS && oas_jobj_int(&o, "exp", 0) <= x->now))
        return page(e, 400, OAS_AUTHZ_GONE,
                    "This request has expired. Please start again on your device.");
    if (rv != APR_SUCCESS)
        return rv;
    if (allow && oas_grant_to_json(&gj, x->p, pd->grant) != APR_SUCCESS)
        return oas_err(e, x->p, 500, "server_error", "cannot record the decision", OAS_LOG_ERR,
                       OAS_LOGNO(07112) "cannot write the grant of a device request");
    oas_jsonw_init(&w, x->p, 1024);
    oas_jsonw_int(&w, "ok", allow ? 1 : 0);
    if (gj)
        oas_jsonw_raw(&w, "g", gj);
    if (!(rec = oas_jsonw_end(&w)) || oas_authz_record_fits(e, rec) != APR_SUCCESS)
        return oas_err(e, x->p, 500, "server_error", "cannot record the decision", OAS_LOG_ERR,
                       OAS_LOGNO(07113) "the decision on a device request is too large");
    rv = oas_store_put_new(st, x->p, OAS_NS_DEVICE, key(x->p, "r", pd->device), rec, strlen(rec),
                           apr_time_from_sec(oas_jobj_int(&o, "exp", x->now) + 1));
    if (rv == APR_EEXIST)
        return page(e, 400, OAS_AUTHZ_GONE, "This code was already used.");
    if (rv != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "recording a device decision");
    OAS_CTX_LOG(x, OAS_LOG_INFO, 0, OAS_LOGNO(07114) "user %s %s the device request of client %s",
                x->user, allow ? "approved" : "denied", oas_jobj_str(&o, "cid"));
    return APR_SUCCESS;
}

/* ---- polling ---- */

/* RFC 8628 §3.5: the device polls no sooner than the interval after its previous poll; the
 * interval grows by OAS_DEVICE_SLOW_DOWN seconds with every slow_down. The last poll is a
 * marker that lives for the interval (one atomic put_new: two polls at once cannot both pass),
 * the slow_downs a counter; neither touches the request's record. */
static apr_status_t pace(oas_err_t *e, oas_ctx_t *x, const oas_client_t *c, const char *dh,
                         apr_int64_t exp)
{
    oas_store_t *mk = oas_ctx_store(x, OAS_CTX_REPLAY), *ct = oas_ctx_store(x, OAS_CTX_COUNTERS);
    const char *k = key(x->p, "p", dh);
    apr_int64_t n = 0, interval;
    apr_time_t until;
    apr_status_t rv;

    if (!mk || !ct)
        return oas_store_refused(x, e, APR_ENOTIMPL, "pacing a device");
    /* a read of the slow_downs so far (a counter not there yet stays away) */
    rv = oas_store_incr(ct, x->p, OAS_NS_DEVICE_PACE, k, 0, apr_time_from_sec(exp + 1), &n, &until);
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND)
        return oas_store_refused(x, e, rv, "pacing a device");
    interval = oas_iss_device_interval(x->iss) + OAS_DEVICE_SLOW_DOWN * (rv == APR_SUCCESS ? n : 0);
    rv = oas_store_put_new(mk, x->p, OAS_NS_DEVICE_PACE, dh, "", 0,
                           apr_time_from_sec(x->now + interval));
    if (rv == APR_SUCCESS)
        return oas_err(e, x->p, 400, "authorization_pending", "the user has not answered yet",
                       OAS_LOG_INFO, OAS_LOGNO(07115) "device request of client %s: pending",
                       c->id);
    if (rv != APR_EEXIST)
        return oas_store_refused(x, e, rv, "pacing a device");
    if ((rv = oas_store_incr(ct, x->p, OAS_NS_DEVICE_PACE, k, 1, apr_time_from_sec(exp + 1), &n,
                             &until)) != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "pacing a device");
    interval = oas_iss_device_interval(x->iss) + OAS_DEVICE_SLOW_DOWN * n;
    /* the interval counts from this poll */
    oas_store_del(mk, x->p, OAS_NS_DEVICE_PACE, dh);
    oas_store_put_new(mk, x->p, OAS_NS_DEVICE_PACE, dh, "", 0,
                      apr_time_from_sec(x->now + interval));
    oas_err(e, x->p, 400, "slow_down", "polling too often: wait longer between requests",
            OAS_LOG_INFO,
            OAS_LOGNO(07116) "device request of client %s: polled too soon, interval now "
                             "%" APR_INT64_T_FMT " s",
            c->id, interval);
    return APR_EINVAL;
}

static apr_status_t invalid_grant(oas_err_t *e, oas_ctx_t *x, const oas_client_t *c,
                                  const char *why)
{
    return oas_err(e, x->p, 400, "invalid_grant", "the device code is invalid or was used",
                   OAS_LOG_INFO, OAS_LOGNO(07117) "device code presented by client %s: %s", c->id,
                   why);
}

/* The approved request is taken (one poll only gets past this) and its tokens issued. */
static apr_status_t redeem(const char **pbody, oas_err_t *e, oas_ctx_t *x, const oas_client_t *c,
                           oas_store_t *st, const char *dh, const char *gj)
{
    const char *jti, *rt;
    oas_grant_t *g;
    oas_jobj_t o;
    apr_status_t rv;

    if (!gj || oas_grant_from_json(&g, x->p, gj, strlen(gj)) != APR_SUCCESS)
        return oas_err(e, x->p, 500, "server_error", "the device decision is unreadable",
                       OAS_LOG_ERR, OAS_LOGNO(07118) "unreadable grant in a device decision");
    if ((rv = oas_issue_target_check(e, x, c, g)) != APR_SUCCESS ||
        (rv = oas_issue_jti(&jti, e, x->p)) != APR_SUCCESS)
        return rv;
    /* the single commit point: of two polls at once, one takes the request */
    if ((rv = request_of(&o, e, x, st, dh, 1)) == APR_NOTFOUND)
        return invalid_grant(e, x, c, "already redeemed");
    if (rv != APR_SUCCESS)
        return rv;
    if ((rv = oas_issue_refresh(&rt, e, x, c, g, jti)) != APR_SUCCESS)
        return rv;
    if ((rv = oas_issue_tokens(pbody, e, x, c, g, jti, rt)) != APR_SUCCESS) {
        oas_refresh_revoke_family(x, g->family, "its access token could not be recorded");
        return rv;
    }
    oas_quota_give_back(x, c, NULL);
    return APR_SUCCESS;
}

apr_status_t oas_device_poll(const char **pbody, oas_err_t *e, oas_ctx_t *x, const oas_client_t *c,
                             const char *device_code)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_SHORT);
    const char *dh;
    oas_jobj_t o, d;
    apr_int64_t exp;
    apr_status_t rv;

    if (!device_code) {
        OAS_ERR_SET(e, 400, "invalid_request", "the device_code parameter is missing");
        return APR_EINVAL;
    }
    if (!st)
        return oas_store_refused(x, e, APR_ENOTIMPL, "reading a device request");
    if (!(dh = handle(x->p, 'd', device_code)))
        return no_random(e, x->p);
    if ((rv = request_of(&o, e, x, st, dh, 0)) == APR_NOTFOUND)
        return invalid_grant(e, x, c, "unknown, expired long ago or already redeemed");
    if (rv != APR_SUCCESS)
        return rv;
    if (strcmp(oas_jobj_str(&o, "cid"), c->id))
        return invalid_grant(e, x, c,
                             apr_psprintf(x->p, "issued to client %s", oas_jobj_str(&o, "cid")));
    if ((exp = oas_jobj_int(&o, "exp", 0)) <= x->now)
        return oas_err(e, x->p, 400, "expired_token", "the device code has expired", OAS_LOG_INFO,
                       OAS_LOGNO(07119) "device code of client %s expired", c->id);
    if ((rv = decision_of(&d, e, x, st, dh)) == APR_NOTFOUND)
        return pace(e, x, c, dh, exp);
    if (rv != APR_SUCCESS)
        return rv;
    if (oas_jobj_int(&d, "ok", 0) != 1)
        return oas_err(e, x->p, 400, "access_denied", "the user denied the request", OAS_LOG_INFO,
                       OAS_LOGNO(07120) "device request of client %s: denied", c->id);
    return redeem(pbody, e, x, c, st, dh, oas_jobj_object(&d, "g"));
}
