/* mod_oauth_as: OAuthASRegistrationDefaults, what a dynamic client may get (oas_reg_policy.h). */
#include <apr_lib.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

#include "oas_authz.h"
#include "oas_directives.h"
#include "oas_reg_policy.h"

#define DIR OAS_DIR_REGISTRATION_DEFAULTS ": "
#define MAX_COUNT 1000000000

/* The scopes every dynamic client may ask for unless scope= says otherwise (OpenID Connect
 * Core §5.4, §11); the scopes of the OAuthASRegistrationAudience resources come on top. */
static const char *const open_scopes[] = {"openid", "profile", "email",
                                          "address", "phone", "offline_access"};

static int is_oidc_scope(const char *s)
{
    size_t i;

    for (i = 0; i < sizeof(open_scopes) / sizeof(open_scopes[0]); i++)
        if (!strcmp(s, open_scopes[i]))
            return 1;
    return 0;
}

/* ---- the directive ---- */

/* The next word of *s as httpd reads a directive's (ap_getword_conf), quotes removed; quotes
 * may also stand inside a word (KEY="a b"), as in ProxyPass's KEY=VALUE parameters they
 * cannot. NULL at the end; *bad for an unclosed quote. */
static char *next_word(apr_pool_t *p, const char **s, int *bad)
{
    const char *c = *s;
    char *out, *o, q = 0;

    while (apr_isspace(*c))
        c++;
    if (!*c)
        return NULL;
    o = out = apr_palloc(p, strlen(c) + 1);
    for (; *c && (q || !apr_isspace(*c)); c++) {
        if (q && *c == q)
            q = 0;
        else if (!q && (*c == '"' || *c == '\''))
            q = *c;
        else
            *o++ = *c;
    }
    *o = '\0';
    *bad = q != 0;
    *s = c;
    return out;
}

/* A decimal number in [lo, hi] (a value we write as an int), else -1. */
static apr_int64_t number(const char *v, apr_int64_t lo, apr_int64_t hi)
{
    char *end = NULL;
    apr_int64_t n;

    if (!apr_isdigit(*v))
        return -1;
    n = apr_strtoi64(v, &end, 10);
    return *end || n < lo || n > hi ? -1 : n;
}

static const char *set_scopes(oas_issuer_t *iss, apr_pool_t *p, const char *v)
{
    apr_array_header_t *a = oas_scope_split(p, v);

    if (!oas_scope_valid(v, 0) || !a->nelts)
        return apr_psprintf(p, DIR OAS_REGDEF_SCOPE "='%s' is not a space-separated list of "
                            "scopes", v);
    iss->reg_scopes = a;
    return NULL;
}

static const char *set_number(int *field, apr_pool_t *p, const char *key, const char *v,
                              apr_int64_t lo, apr_int64_t hi)
{
    apr_int64_t n = number(v, lo, hi);

    if (n < 0)
        return apr_psprintf(p, DIR "%s='%s' is not a number from %" APR_INT64_T_FMT
                            " to %" APR_INT64_T_FMT, key, v, lo, hi);
    *field = (int)n;
    return NULL;
}

const char *oas_reg_defaults_parse(oas_issuer_t *iss, apr_pool_t *p, const char *args)
{
    const char *s = args ? args : "", *err = NULL;
    apr_hash_t *seen = apr_hash_make(p);
    char *w, *v, *s2;
    int bad = 0;

    while (!err && (w = next_word(p, &s, &bad))) {
        if (bad)
            return apr_psprintf(p, DIR "a quote is not closed in '%s'", w);
        if (!(v = strchr(w, '=')) || v == w)
            return apr_psprintf(p, DIR "'%s' is not KEY=VALUE", w);
        *v++ = '\0';
        for (s2 = w; *s2; s2++)
            *s2 = (char)apr_tolower((unsigned char)*s2);
        if (apr_hash_get(seen, w, APR_HASH_KEY_STRING))
            return apr_psprintf(p, DIR "%s is given twice", w);
        apr_hash_set(seen, w, APR_HASH_KEY_STRING, "");
        if (!strcmp(w, OAS_REGDEF_SCOPE))
            err = set_scopes(iss, p, v);
        else if (!strcmp(w, OAS_REGDEF_AT_LIFETIME))
            err = set_number(&iss->reg_at_ttl, p, w, v, 1, OAS_REG_FOREVER);
        else if (!strcmp(w, OAS_REGDEF_RT_LIFETIME))
            err = set_number(&iss->reg_rt_ttl, p, w, v, 1, OAS_REG_FOREVER);
        else if (!strcmp(w, OAS_REGDEF_CLIENT_LIFE))
            err = set_number(&iss->reg_client_ttl, p, w, v, 0, OAS_REG_FOREVER);
        else if (!strcmp(w, OAS_REGDEF_MAX_CLIENTS))
            err = set_number(&iss->reg_max_clients, p, w, v, 0, MAX_COUNT);
        else
            err = apr_psprintf(p, DIR "unknown key '%s' (" OAS_REGDEF_SCOPE ", "
                               OAS_REGDEF_AT_LIFETIME ", " OAS_REGDEF_RT_LIFETIME ", "
                               OAS_REGDEF_CLIENT_LIFE ", " OAS_REGDEF_MAX_CLIENTS ")", w);
    }
    if (!err && !apr_hash_count(seen))
        err = DIR "needs at least one KEY=VALUE";
    return err;
}

static int scope_known(const oas_issuer_t *iss, apr_pool_t *p, const char *s)
{
    apr_hash_index_t *hi;

    if (is_oidc_scope(s))
        return 1;
    for (hi = iss->resources ? apr_hash_first(p, iss->resources) : NULL; hi;
         hi = apr_hash_next(hi)) {
        if (oas_list_has(((const oas_resource_t *)apr_hash_this_val(hi))->scopes, s))
            return 1;
    }
    for (hi = iss->clients ? apr_hash_first(p, iss->clients) : NULL; hi; hi = apr_hash_next(hi)) {
        if (oas_list_has(((const oas_client_t *)apr_hash_this_val(hi))->scopes, s))
            return 1;
    }
    return 0;
}

void oas_reg_defaults_check(apr_array_header_t *faults, apr_pool_t *p, const oas_issuer_t *iss)
{
    const apr_array_header_t *sc = iss->reg_scopes;
    int i;

    for (i = 0; sc && i < sc->nelts; i++) {
        if (!scope_known(iss, p, APR_ARRAY_IDX(sc, i, const char *)))
            APR_ARRAY_PUSH(faults, const char *) = apr_psprintf(
                p, DIR OAS_REGDEF_SCOPE ": %s is no scope of this issuer (neither an OpenID "
                "scope nor one that a resource or a client names)",
                APR_ARRAY_IDX(sc, i, const char *));
    }
    /* the server's lifetimes are the most any token gets: a dynamic client's may be shorter */
    if (iss->reg_at_ttl != OAS_UNSET && iss->reg_at_ttl > oas_iss_at_ttl(iss))
        APR_ARRAY_PUSH(faults, const char *) = apr_psprintf(
            p, DIR OAS_REGDEF_AT_LIFETIME "=%d is longer than " OAS_DIR_AT_LIFETIME " (%d)",
            iss->reg_at_ttl, oas_iss_at_ttl(iss));
    if (iss->reg_rt_ttl != OAS_UNSET && iss->reg_rt_ttl > oas_iss_rt_ttl(iss))
        APR_ARRAY_PUSH(faults, const char *) = apr_psprintf(
            p, DIR OAS_REGDEF_RT_LIFETIME "=%d is longer than " OAS_DIR_RT_LIFETIME " (%d)",
            iss->reg_rt_ttl, oas_iss_rt_ttl(iss));
}

/* ---- the policy ---- */

int oas_reg_scope_open(const oas_issuer_t *iss, const char *s)
{
    const apr_array_header_t *aud = iss->registration_audiences;
    int k;

    if (iss->reg_scopes)
        return oas_list_has(iss->reg_scopes, s);
    if (is_oidc_scope(s))
        return 1;
    for (k = 0; aud && k < aud->nelts; k++) {
        const oas_resource_t *r = oas_issuer_resource(iss, APR_ARRAY_IDX(aud, k, const char *));
        if (r && oas_list_has(r->scopes, s))
            return 1;
    }
    return 0;
}

apr_array_header_t *oas_reg_default_scopes(apr_pool_t *p, const oas_issuer_t *iss)
{
    if (!oas_reg_scope_open(iss, "openid"))
        return apr_array_copy(p, iss->reg_scopes);
    return oas_scope_split(p, "openid");
}

void oas_reg_policy_apply(oas_client_t *c, apr_pool_t *p, const oas_issuer_t *iss)
{
    apr_array_header_t *kept = apr_array_make(p, c->scopes ? c->scopes->nelts : 1,
                                              sizeof(const char *));
    int i;

    for (i = 0; c->scopes && i < c->scopes->nelts; i++) {
        if (oas_reg_scope_open(iss, APR_ARRAY_IDX(c->scopes, i, const char *)))
            APR_ARRAY_PUSH(kept, const char *) = APR_ARRAY_IDX(c->scopes, i, const char *);
    }
    c->scopes = kept->nelts ? kept : oas_reg_default_scopes(p, iss);
    c->audiences = iss->registration_audiences;
    c->at_ttl_cap = iss->reg_at_ttl;
    if (iss->reg_rt_ttl != OAS_UNSET)
        c->rt_ttl = iss->reg_rt_ttl;
}

apr_int64_t oas_reg_client_ttl(const oas_issuer_t *iss)
{
    int t = oas_iss_reg_client_ttl(iss);

    return t > 0 ? t : OAS_REG_FOREVER;
}

/* ---- max-clients ----
 * The store counts no records, so registrations are counted in buckets of time: every client
 * lives client-lifetime L from its registration, so a bucket of width w counts the clients
 * registered in it and lives until the last of them may: its end plus L. The live buckets
 * together count every live client (and, for one bucket, some that are already gone: the
 * count errs on the safe side by at most a bucket's registrations). */
#define BUCKETS 8

static apr_int64_t bucket_width(const oas_issuer_t *iss)
{
    return oas_reg_client_ttl(iss) / BUCKETS + 1;
}

static const char *bucket_key(apr_pool_t *p, const oas_issuer_t *iss, apr_int64_t w,
                              apr_int64_t b)
{
    return apr_psprintf(p, "%s\n%" APR_INT64_T_FMT "\n%" APR_INT64_T_FMT, iss->issuer, w, b);
}

/* The clients of the live buckets (a counter reads as "count expires"). */
static apr_status_t live_count(apr_int64_t *pn, oas_ctx_t *x, oas_store_t *st)
{
    apr_int64_t w = bucket_width(x->iss), b, first = (x->now - oas_reg_client_ttl(x->iss)) / w;
    apr_status_t rv;
    apr_size_t len;
    char *v;

    *pn = 0;
    for (b = first - 1; b <= x->now / w; b++) {
        rv = oas_store_get(st, x->p, OAS_NS_REG_COUNT, bucket_key(x->p, x->iss, w, b), &v, &len);
        if (APR_STATUS_IS_NOTFOUND(rv))
            continue;
        if (rv != APR_SUCCESS)
            return rv;
        *pn += apr_atoi64(v);
    }
    return APR_SUCCESS;
}

/* Adds delta to the bucket of a client registered at iat. */
static apr_status_t bucket_add(oas_ctx_t *x, oas_store_t *st, apr_int64_t iat, int delta)
{
    apr_int64_t w = bucket_width(x->iss), b = iat / w, n;
    const char *key = bucket_key(x->p, x->iss, w, b);
    apr_time_t until = apr_time_from_sec((b + 1) * w + oas_reg_client_ttl(x->iss) + 1);
    apr_status_t rv = oas_store_incr(st, x->p, OAS_NS_REG_COUNT, key, delta, until, &n, NULL);

    if (rv == APR_SUCCESS && n <= 0 && !st->incr_drops_spent)
        oas_store_del(st, x->p, OAS_NS_REG_COUNT, key);
    return rv;
}

apr_status_t oas_reg_count_take(oas_ctx_t *x, oas_err_t *e)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_LONG);
    int max = oas_iss_reg_max_clients(x->iss);
    apr_int64_t n = 0;
    apr_status_t rv;

    if (max <= 0)
        return APR_SUCCESS;
    if (!st)
        return oas_store_refused(x, e, APR_ENOTIMPL, "counting registered clients");
    /* counted first, then read: of two registrations that race for the last place, neither
     * passes unseen (both may be refused) */
    if ((rv = bucket_add(x, st, x->now, 1)) != APR_SUCCESS ||
        (rv = live_count(&n, x, st)) != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "counting registered clients");
    if (n <= max)
        return APR_SUCCESS;
    bucket_add(x, st, x->now, -1);
    /* RFC 7591 §3.2.2 has no code for a server that takes no more clients; Keycloak's
     * max-clients policy answers 403 (and 429 would invite a retry that will not succeed
     * before registered clients expire or are deleted): 403 access_denied (RFC 6749 §4.1.2.1,
     * "the authorization server denied the request") */
    return oas_err(e, x->p, 403, "access_denied",
                   "this server takes no more client registrations", OAS_LOG_WARNING,
                   OAS_LOGNO(06830) "registration refused: %d clients registered, the most "
                   OAS_DIR_REGISTRATION_DEFAULTS " " OAS_REGDEF_MAX_CLIENTS " allows", max);
}

void oas_reg_count_give_back(oas_ctx_t *x, apr_int64_t iat)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_LONG);
    apr_int64_t w = bucket_width(x->iss);
    apr_size_t len;
    char *v;

    /* only into a live counter: a bucket counted under another client-lifetime or
     * max-clients=0 is not there, and a new counter would start below zero */
    if (!st || oas_iss_reg_max_clients(x->iss) <= 0 ||
        oas_store_get(st, x->p, OAS_NS_REG_COUNT, bucket_key(x->p, x->iss, w, iat / w), &v,
                      &len) != APR_SUCCESS)
        return;
    bucket_add(x, st, iat, -1);
}
