/* mod_oauth_as: the brute-force brake (C07) and the quotas (D07), oas_throttle.h. Every
 * counter is keyed on the narrowest party that can be told apart: failed authentications on
 * (client id, client address), so an attacker elsewhere cannot lock the real client out; the
 * address is r->useragent_ip, which mod_remoteip sets from a trusted proxy's header. */
#include <arpa/inet.h>
#include <stdio.h>

#include <apr_strings.h>

#include "oas_clients.h"
#include "oas_client_assertion.h"
#include "oas_throttle.h"

const char *oas_addr_prefix(apr_pool_t *p, const char *addr)
{
    unsigned char a[16];

    if (!addr || !strchr(addr, ':') || inet_pton(AF_INET6, addr, a) != 1)
        return addr ? addr : "";
    if (!memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) /* ::ffff:a.b.c.d */
        return apr_psprintf(p, "%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
    /* one subscriber gets a /64 (RFC 6177): its addresses are one party */
    return apr_psprintf(p, "%02x%02x:%02x%02x:%02x%02x:%02x%02x::/64", a[0], a[1], a[2], a[3], a[4],
                        a[5], a[6], a[7]);
}

/* Adds delta to the counter (ns, key) of a window of `window` seconds starting now when
 * none runs; *count and *left (seconds to the window's end) when it could be counted. */
static apr_status_t count(oas_ctx_t *x, oas_store_t *st, int ns, const char *key, apr_int64_t delta,
                          int window, apr_int64_t *n, apr_int64_t *left)
{
    apr_time_t until, exp = apr_time_from_sec(x->now + window);
    apr_status_t rv = oas_store_incr(st, x->p, ns, key, delta, exp, n, &until);

    if (rv == APR_SUCCESS && delta > 0 && apr_time_sec(until) <= x->now) {
        /* the window ended by this request's clock before the store's: a new one starts */
        oas_store_del(st, x->p, ns, key);
        rv = oas_store_incr(st, x->p, ns, key, delta, exp, n, &until);
    }
    /* a counter given back to nothing takes no room (a race with a new count may lose it:
     * one request more, never fewer); the tally removes it itself */
    if (rv == APR_SUCCESS && delta < 0 && *n <= 0 && !st->incr_drops_spent)
        oas_store_del(st, x->p, ns, key);
    if (rv == APR_SUCCESS) {
        *left = apr_time_sec(until) - x->now;
        if (*left < 1)
            *left = 1;
    }
    return rv;
}

/* ---- C07 ---- */

const oas_client_t *oas_authfail_client(oas_ctx_t *x, int basic, const char *bid,
                                        apr_table_t *form)
{
    const char *id = basic > 0 ? bid : apr_table_get(form, "client_id");
    const char *assertion = basic > 0 ? NULL : apr_table_get(form, "client_assertion");
    const oas_client_t *c;

    if (oas_iss_authfail_limit(x->iss) <= 0)
        return NULL;
    /* a forged assertion is a guess at the client's key or secret: it is counted against the
     * client it claims to be, as a wrong secret is */
    if (assertion && (c = oas_ctx_client(x, oas_client_assertion_sub(x->p, assertion))))
        return oas_client_is_public(c) ? NULL : c;
    c = id ? oas_ctx_client(x, id) : NULL;
    return c && !oas_client_is_public(c) ? c : NULL;
}

static const char *authfail_key(oas_ctx_t *x, const oas_client_t *c)
{
    return apr_pstrcat(x->p, c->id, "\n", x->addr, NULL);
}

/* The brake's counter of key by a read alone: *n failures, *left seconds of the window; 0 and
 * 0 when none is running. */
static apr_status_t authfail_peek(oas_ctx_t *x, oas_store_t *st, const char *key, apr_int64_t *n,
                                  apr_int64_t *left)
{
    char *val;
    apr_size_t len;
    apr_int64_t until = 0;
    apr_status_t rv = oas_store_get(st, x->p, OAS_NS_AUTHFAIL, key, &val, &len);

    *n = *left = 0;
    if (rv == APR_NOTFOUND)
        return APR_SUCCESS;
    if (rv != APR_SUCCESS)
        return rv;
    if (sscanf(val, "%" APR_INT64_T_FMT " %" APR_INT64_T_FMT, n, &until) != 2 ||
        apr_time_sec(until) <= x->now) {
        *n = 0;
        return APR_SUCCESS;
    }
    *left = apr_time_sec(until) - x->now;
    return APR_SUCCESS;
}

/* The brake cannot count or read: it refuses (fails closed), it is never skipped. */
static apr_status_t authfail_unavailable(oas_ctx_t *x, oas_err_t *e, apr_status_t rv,
                                         const oas_client_t *c)
{
    oas_store_refused(x, e, rv, "counting a client authentication");
    e->detail = apr_psprintf(x->p,
                             OAS_LOGNO(00135) "cannot count an authentication of client %s: "
                                              "refused",
                             c->id);
    return rv;
}

/* 429 for c from x->addr: the refusal is counted too (n, the count with it), so that the first
 * of the window is the one logged. */
static apr_status_t authfail_refuse(oas_ctx_t *x, oas_err_t *e, oas_store_t *st,
                                    const oas_client_t *c, apr_int64_t n, apr_int64_t left)
{
    OAS_ERR_SET(e, 429, "temporarily_unavailable",
                "too many failed client authentications, try again later");
    e->retry_after = left > 0 ? left : 1;
    oas_store_note(st, OAS_STORE_EV_AUTHFAIL_REFUSED);
    if (n == oas_iss_authfail_limit(x->iss) + 1) /* the first refusal of the window */
        e->detail = apr_psprintf(x->p,
                                 OAS_LOGNO(00137) "client %s refused: too many failed "
                                                  "authentications from %s",
                                 c->id, x->addr);
    return APR_EINVAL;
}

apr_status_t oas_authfail_check(oas_ctx_t *x, oas_err_t *e, const oas_client_t *c)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_COUNTERS);
    const char *key;
    apr_int64_t n, left;
    apr_status_t rv;

    if (!st)
        return authfail_unavailable(x, e, APR_ENOTIMPL, c);
    key = authfail_key(x, c);
    if ((rv = authfail_peek(x, st, key, &n, &left)) != APR_SUCCESS)
        return authfail_unavailable(x, e, rv, c);
    if (n < oas_iss_authfail_limit(x->iss))
        return APR_SUCCESS; /* a client that authenticates correctly never writes */
    /* over the limit: refused without looking at the secret, the refusal counted */
    if (count(x, st, OAS_NS_AUTHFAIL, key, 1, oas_iss_authfail_window(x->iss), &n, &left) !=
        APR_SUCCESS)
        n = 0; /* refused all the same; only its log line is lost */
    return authfail_refuse(x, e, st, c, n, left);
}

apr_status_t oas_authfail_failed(oas_ctx_t *x, oas_err_t *e, const oas_client_t *c)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_COUNTERS);
    int limit = oas_iss_authfail_limit(x->iss);
    apr_int64_t n, left;
    apr_status_t rv;

    if (!st)
        return authfail_unavailable(x, e, APR_ENOTIMPL, c);
    if ((rv = count(x, st, OAS_NS_AUTHFAIL, authfail_key(x, c), 1,
                    oas_iss_authfail_window(x->iss), &n, &left)) != APR_SUCCESS)
        return authfail_unavailable(x, e, rv, c);
    if (n == limit)
        OAS_CTX_LOG(x, OAS_LOG_WARNING, 0,
                    OAS_LOGNO(00136) "client %s: %" APR_INT64_T_FMT " failed authentications "
                                     "from %s, refused for %" APR_INT64_T_FMT " s",
                    c->id, n, x->addr, left);
    /* guesses that passed the check together are counted one by one, atomically: those
     * beyond the limit learn nothing from their secret either */
    return n > limit ? authfail_refuse(x, e, st, c, n, left) : APR_SUCCESS;
}

/* ---- D07 ---- */

typedef struct {
    const char *what; /* for the log: "client", "user", "address" */
    const char *key;  /* "c" id, "u" user or "a" address: one namespace, three parties */
    int limit;
    int ev;
} quota_t;

/* The parties a request of c (NULL: none) by user (NULL: none) from x->addr is counted
 * against, the narrowest first: one over its quota must not use up its client's. */
static int parties(quota_t q[3], oas_ctx_t *x, const oas_client_t *c, const char *user)
{
    const oas_issuer_t *iss = x->iss;
    int k = 0;

    if (user)
        q[k++] = (quota_t){"user", apr_pstrcat(x->p, "u", user, NULL), oas_iss_user_quota(iss),
                           OAS_STORE_EV_QUOTA_USER};
    else if (c && oas_client_is_public(c)) /* a push with no credentials: only its address */
        q[k++] = (quota_t){"address", apr_pstrcat(x->p, "a", oas_addr_prefix(x->p, x->addr), NULL),
                           oas_iss_address_quota(iss), OAS_STORE_EV_QUOTA_ADDR};
    if (c)
        q[k++] = (quota_t){"client", apr_pstrcat(x->p, "c", c->id, NULL), oas_iss_client_quota(iss),
                           OAS_STORE_EV_QUOTA_CLIENT};
    return k;
}

apr_status_t oas_quota_take(oas_ctx_t *x, oas_err_t *e, const oas_client_t *c, const char *user)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_COUNTERS);
    quota_t q[3];
    apr_int64_t n = 0, left = 0;
    apr_status_t rv = APR_SUCCESS;
    int i, k = parties(q, x, c, user);

    if (!st)
        return APR_SUCCESS;
    for (i = 0; i < k; i++) {
        if (q[i].limit > 0 && ((rv = count(x, st, OAS_NS_QUOTA, q[i].key, 1,
                                           oas_iss_short_lived(x->iss), &n, &left)) != APR_SUCCESS ||
                               n > q[i].limit))
            break;
    }
    if (i == k)
        return APR_SUCCESS;
    /* a store that cannot count cannot keep the request's record either: refused now, not
     * after waiting on the store once more */
    if (rv != APR_SUCCESS)
        oas_store_refused(x, e, rv, "counting an authorization request");
    else
        OAS_ERR_SET(e, 429, "temporarily_unavailable", "too many pending authorization requests");
    if (rv == APR_SUCCESS) {
        e->retry_after = left;
        oas_store_note(st, q[i].ev);
    }
    if (rv == APR_SUCCESS && n == q[i].limit + 1) /* the first refusal of the window: logged once */
        e->detail = apr_psprintf(x->p,
                                 OAS_LOGNO(00162) "client %s: %s %s over its quota of %d "
                                                  "authorization requests",
                                 c ? c->id : "-", q[i].what, q[i].key + 1, q[i].limit);
    /* the request stores nothing: what it counted against the parties before is given back */
    while (i-- > 0) {
        if (q[i].limit > 0)
            count(x, st, OAS_NS_QUOTA, q[i].key, -1, oas_iss_short_lived(x->iss), &n, &left);
    }
    return APR_EINVAL;
}

apr_status_t oas_quota_address(oas_ctx_t *x, oas_err_t *e, char kind, const char *what)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_COUNTERS);
    int limit = oas_iss_address_quota(x->iss);
    const char *key = apr_psprintf(x->p, "%c%s", kind, oas_addr_prefix(x->p, x->addr));
    apr_int64_t n = 0, left = 0;
    apr_status_t rv;

    if (!st || limit <= 0)
        return APR_SUCCESS;
    if ((rv = count(x, st, OAS_NS_QUOTA, key, 1, oas_iss_short_lived(x->iss), &n, &left)) !=
        APR_SUCCESS)
        return oas_store_refused(x, e, rv, apr_pstrcat(x->p, "counting ", what, NULL));
    if (n <= limit)
        return APR_SUCCESS;
    OAS_ERR_SET(e, 429, "temporarily_unavailable",
                apr_psprintf(x->p, "too many %s from this address", what));
    e->retry_after = left;
    oas_store_note(st, OAS_STORE_EV_QUOTA_ADDR);
    if (n == limit + 1) /* the first refusal of the window: logged once */
        e->detail = apr_psprintf(x->p, OAS_LOGNO(06810) "address %s over its quota of %d %s",
                                 key + 1, limit, what);
    return APR_EINVAL;
}

apr_status_t oas_quota_registration(oas_ctx_t *x, oas_err_t *e)
{
    return oas_quota_address(x, e, 'r', "registrations");
}

void oas_quota_give_back(oas_ctx_t *x, const oas_client_t *c, const char *user)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_COUNTERS);
    quota_t q[3];
    apr_int64_t n, left;
    int i, k = parties(q, x, c, user);

    for (i = 0; st && i < k; i++) {
        if (q[i].limit > 0)
            count(x, st, OAS_NS_QUOTA, q[i].key, -1, oas_iss_short_lived(x->iss), &n, &left);
    }
}
