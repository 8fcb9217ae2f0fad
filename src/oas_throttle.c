/* mod_oauth_as: the brute-force brake (C07) and the per-client quota (D07), oas_throttle.h.
 * Failed authentications are keyed on (client id, client address): an attacker elsewhere
 * cannot lock the real client out. */
#include <stdio.h>

#include <apr_strings.h>

#include "oas_throttle.h"

/* A counter "count until" under (ns, key): the count and the window's end (seconds), 0/0
 * when none is running or the value is not ours. */
static void counter_get(oas_store_t *st, apr_pool_t *p, int ns, const char *key, long *count,
                        apr_int64_t *until)
{
    char *val;
    apr_size_t len;

    *count = 0;
    *until = 0;
    if (st && oas_store_get(st, p, ns, key, &val, &len) == APR_SUCCESS &&
        sscanf(val, "%ld %" APR_INT64_T_FMT, count, until) != 2) {
        *count = 0;
        *until = 0;
    }
}

static apr_status_t counter_put(oas_store_t *st, apr_pool_t *p, int ns, const char *key, long count,
                                apr_int64_t until)
{
    const char *val = apr_psprintf(p, "%ld %" APR_INT64_T_FMT, count, until);

    return oas_store_put(st, p, ns, key, val, strlen(val), apr_time_from_sec(until));
}

const oas_client_t *oas_authfail_client(const oas_issuer_t *iss, int basic, const char *bid,
                                        apr_table_t *form)
{
    const char *id = basic > 0 ? bid : apr_table_get(form, "client_id");
    const oas_client_t *c;

    if (oas_iss_authfail_limit(iss) <= 0 || !id)
        return NULL;
    c = oas_issuer_client(iss, id);
    return c && c->secret ? c : NULL;
}

static const char *authfail_key(oas_ctx_t *x, const oas_client_t *c)
{
    return apr_pstrcat(x->p, c->id, "\n", x->addr, NULL);
}

apr_status_t oas_authfail_check(oas_ctx_t *x, oas_err_t *e, const oas_client_t *c)
{
    apr_int64_t until;
    long count;

    counter_get(oas_ctx_store(x, OAS_CTX_SHORT), x->p, OAS_NS_AUTHFAIL, authfail_key(x, c), &count,
                &until);
    if (count < oas_iss_authfail_limit(x->iss) || until <= x->now)
        return APR_SUCCESS;
    oas_err(e, x->p, 429, "temporarily_unavailable",
            "too many failed client authentications, try again later", OAS_LOG_INFO,
            OAS_LOGNO(00137) "client %s refused: too many failed authentications from %s", c->id,
            x->addr);
    e->retry_after = until - x->now;
    return APR_EINVAL;
}

void oas_authfail_count(oas_ctx_t *x, const oas_client_t *c)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_SHORT);
    const char *key = authfail_key(x, c);
    apr_int64_t until;
    long count;
    apr_status_t rv;

    if (!st)
        return;
    counter_get(st, x->p, OAS_NS_AUTHFAIL, key, &count, &until);
    if (count <= 0 || until <= x->now) {
        count = 0;
        until = x->now + oas_iss_authfail_window(x->iss);
    }
    count++;
    rv = counter_put(st, x->p, OAS_NS_AUTHFAIL, key, count, until);
    if (rv != APR_SUCCESS)
        OAS_CTX_LOG(x, OAS_LOG_WARNING, rv,
                    OAS_LOGNO(00135) "cannot count a failed authentication of client %s", c->id);
    else if (count == oas_iss_authfail_limit(x->iss))
        OAS_CTX_LOG(x, OAS_LOG_WARNING, 0,
                    OAS_LOGNO(00136) "client %s: %ld failed authentications from %s, refused "
                                     "for %" APR_INT64_T_FMT " s",
                    c->id, count, x->addr, until - x->now);
}

apr_status_t oas_quota_take(oas_ctx_t *x, oas_err_t *e, const oas_client_t *c)
{
    const oas_issuer_t *iss = x->iss;
    int quota = oas_iss_client_quota(iss);
    oas_store_t *st;
    apr_int64_t until;
    long count;

    if (quota <= 0 || !(st = oas_ctx_store(x, OAS_CTX_SHORT)))
        return APR_SUCCESS;
    counter_get(st, x->p, OAS_NS_QUOTA, c->id, &count, &until);
    if (until <= x->now) {
        int ru_ttl = oas_iss_request_uri_ttl(iss), code_ttl = oas_iss_code_ttl(iss);
        count = 0;
        until = x->now + (ru_ttl > code_ttl ? ru_ttl : code_ttl);
    }
    if (count >= quota) {
        oas_err(e, x->p, 429, "temporarily_unavailable", "too many pending authorization requests",
                OAS_LOG_INFO,
                OAS_LOGNO(00162) "client %s over its quota of %d authorization requests", c->id,
                quota);
        e->retry_after = until - x->now;
        return APR_EINVAL;
    }
    counter_put(st, x->p, OAS_NS_QUOTA, c->id, count + 1, until);
    return APR_SUCCESS;
}
