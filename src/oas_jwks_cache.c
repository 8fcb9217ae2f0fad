/* mod_oauth_as: the keys of clients with an https jwks_uri (see oas_jwks_cache.h). */
#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>

#include "oas_json.h"
#include "oas_jwk.h"
#include "oas_jwks_cache.h"
#include "oas_log.h"
#include "oas_parse_cache.h"

/* Records of one client in OAS_NS_JWKS, keyed by the kind letter, the client id and the
 * jwks_uri (two issuers may have clients of one id; a changed URL is another document). Each
 * value starts with the time it was written, in seconds: the policy reads that time against
 * the request's clock, the store's own expiry only collects garbage. */
#define REC_DOC 'd'  /* "<fetched at> <the document, compacted>" */
#define REC_FAIL 'f' /* "<failed at> <why>" */
#define REC_KID 'a'  /* "<at>": the last refetch for an unknown kid */
#define REC_BUSY 'l' /* "<at>": a fetch in progress */

static struct {
    oas_fetch_fn *fetch;
    int wait_ms;
    oas_parse_cache_t *parsed; /* the keys this process parsed, by client and document */
} g = {NULL, OAS_FETCH_TIMEOUT_MS, NULL};

void oas_jwks_cache_set_fetch(oas_fetch_fn *fetch, int wait_ms)
{
    g.fetch = fetch;
    g.wait_ms = wait_ms;
}

static apr_status_t cache_gone(void *data)
{
    g.parsed = NULL;
    return APR_SUCCESS;
}

apr_status_t oas_jwks_cache_child_init(apr_pool_t *p)
{
    if (!(g.parsed = oas_parse_cache_create(p, OAS_JWKS_CACHE_SLOTS)))
        return APR_ENOMEM;
    apr_pool_cleanup_register(p, NULL, cache_gone, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

/* ---- the process's parsed keys ---- */

static apr_status_t parse_keys(void **pval, const char **pwhy, apr_pool_t *p, const char *bytes,
                               apr_size_t len, void *baton)
{
    apr_array_header_t *keys = NULL;
    apr_status_t rv = oas_jwks_parse(&keys, pwhy, p, bytes, len);

    *pval = keys;
    return rv;
}

/* The keys of doc (a document this cache stored, or just fetched and checked), parsed once
 * per process and document (oas_parse_cache.h): another document of the client replaces them,
 * while requests that hold the old ones keep them until their pool goes. */
static apr_status_t keys_of(apr_array_header_t **pkeys, const char **perr, oas_ctx_t *x,
                            const oas_client_t *c, const char *doc, apr_size_t len)
{
    void *keys = NULL;
    apr_status_t rv = oas_parse_cache_get(&keys, perr, g.parsed, x->iss,
                                          apr_pstrcat(x->p, c->id, "\n", c->jwks_uri, NULL),
                                          doc, len, parse_keys, NULL, x->p);

    *pkeys = keys;
    return rv;
}

int oas_jwks_has_kid(const apr_array_header_t *keys, const char *kid)
{
    int i;

    for (i = 0; keys && i < keys->nelts; i++) {
        const oas_jwk_t *k = APR_ARRAY_IDX(keys, i, const oas_jwk_t *);
        if (k->kid && !strcmp(k->kid, kid))
            return 1;
    }
    return 0;
}

/* ---- the shared records ---- */

static const char *rec_key(apr_pool_t *p, int kind, const oas_client_t *c)
{
    return apr_psprintf(p, "%c\n%s\n%s", kind, c->id, c->jwks_uri);
}

/* A record of kind written less than max_age seconds ago: its time and the rest of its value
 * (after the space). APR_NOTFOUND otherwise, also when the store fails (a lost record costs a
 * refetch, never the request). */
static apr_status_t rec_get(apr_int64_t *pts, const char **prest, apr_size_t *prlen,
                            oas_store_t *st, oas_ctx_t *x, int kind, const oas_client_t *c,
                            apr_int64_t max_age)
{
    char *v, *end;
    apr_size_t n;
    apr_int64_t ts;

    if (!st || oas_store_get(st, x->p, OAS_NS_JWKS, rec_key(x->p, kind, c), &v, &n) != APR_SUCCESS)
        return APR_NOTFOUND;
    ts = apr_strtoi64(v, &end, 10);
    if (end == v || (*end && *end != ' ') || x->now - ts >= max_age || ts > x->now + max_age)
        return APR_NOTFOUND;
    if (pts)
        *pts = ts;
    if (prest) {
        *prest = *end ? end + 1 : end;
        *prlen = n - (apr_size_t)(*prest - v);
    }
    return APR_SUCCESS;
}

static apr_status_t rec_put(oas_store_t *st, oas_ctx_t *x, int kind, const oas_client_t *c,
                            const char *rest, apr_size_t rlen, apr_int64_t ttl, int only_new)
{
    char *v = apr_psprintf(x->p, "%" APR_INT64_T_FMT " ", x->now);
    apr_size_t vl = strlen(v);
    const char *key = rec_key(x->p, kind, c);
    apr_time_t exp = apr_time_from_sec(x->now + ttl);

    if (rlen) {
        char *full = apr_palloc(x->p, vl + rlen);
        memcpy(full, v, vl);
        memcpy(full + vl, rest, rlen);
        v = full;
    }
    vl += rlen;
    return only_new ? oas_store_put_new(st, x->p, OAS_NS_JWKS, key, v, vl, exp)
                    : oas_store_put(st, x->p, OAS_NS_JWKS, key, v, vl, exp);
}

/* Claims the right to act for window seconds (one refetch per client and gap, one fetch at a
 * time): 1 for exactly one caller across every process while the claim lives. A record the
 * store still keeps but the clock says has lapsed is taken (atomic) and claimed anew. When the
 * store cannot record a claim, on_error is the answer. */
static int claim(oas_store_t *st, oas_ctx_t *x, int kind, const oas_client_t *c, apr_int64_t window,
                 int on_error)
{
    const char *key;
    apr_status_t rv;

    if (!st)
        return on_error;
    rv = rec_put(st, x, kind, c, NULL, 0, window, 1);
    if (rv == APR_SUCCESS)
        return 1;
    if (rv != APR_EEXIST)
        return on_error;
    if (rec_get(NULL, NULL, NULL, st, x, kind, c, window) == APR_SUCCESS)
        return 0;
    key = rec_key(x->p, kind, c);
    return oas_store_take(st, x->p, OAS_NS_JWKS, key, NULL, NULL) == APR_SUCCESS &&
           rec_put(st, x, kind, c, NULL, 0, window, 1) == APR_SUCCESS;
}

/* ---- fetching ---- */

/* The document with only what a public JWK needs, so that it fits the store
 * (OAS_STORE_MAX_VALUE) and a record holds nothing we did not check. Members we do not read
 * are dropped; x5c keeps its first certificate. */
static const char *compact(apr_pool_t *p, const char *doc, apr_size_t len)
{
    static const char *const keep[] = {"kty", "kid", "use", "alg", "n", "e", "crv", "x", "y", NULL};
    json_t *in, *out = oas_json_adopt(p, json_object()), *arr = json_array(), *keys;
    size_t i;
    int k;

    if (!out || !arr || oas_json_parse(&in, p, doc, len) != APR_SUCCESS ||
        !json_is_array(keys = json_object_get(in, "keys"))) {
        json_decref(arr);
        return NULL;
    }
    json_object_set_new(out, "keys", arr);
    for (i = 0; i < json_array_size(keys); i++) {
        json_t *jk = json_array_get(keys, i), *ok = json_object(), *x5c;
        if (!ok)
            return NULL;
        for (k = 0; keep[k]; k++) {
            json_t *v = json_object_get(jk, keep[k]);
            if (v)
                json_object_set(ok, keep[k], v);
        }
        if (json_is_array(x5c = json_object_get(jk, "x5c")) && json_array_size(x5c) > 0)
            json_object_set_new(ok, "x5c", json_pack("[O]", json_array_get(x5c, 0)));
        json_array_append_new(arr, ok);
    }
    return oas_json_dumps(p, out, 0);
}

/* Fetches c's jwks_uri, checks the document (oas_jwks_parse: no private key, supported types)
 * and shares it; a failure is remembered for OAS_JWKS_FAIL_MEMORY. *pwhy says what failed. */
static apr_status_t fetch_and_share(apr_array_header_t **pkeys, const char **pwhy, oas_store_t *st,
                                    oas_ctx_t *x, const oas_client_t *c)
{
    oas_fetch_opts_t o;
    apr_array_header_t *checked;
    const char *doc = NULL, *why = NULL;
    char *body;
    apr_size_t len;
    apr_status_t rv;

    memset(&o, 0, sizeof(o));
    o.ca_file = x->iss->ca_file;
    o.allow = x->iss->outbound_allow;
    if (!g.fetch) {
        why = "outbound calls are not set up";
        rv = APR_ENOTIMPL;
    }
    else if ((rv = g.fetch(&body, &len, &why, x->p, c->jwks_uri, &o)) != APR_SUCCESS)
        ; /* why says it */
    else if ((rv = oas_jwks_parse(&checked, &why, x->p, body, len)) != APR_SUCCESS)
        why = apr_pstrcat(x->p, "the document is refused: ", why ? why : "unusable", NULL);
    else if (!(doc = compact(x->p, body, len))) {
        why = "the document is refused: not a JWK Set";
        rv = APR_EINVAL;
    }
    else if (strlen(doc) + 24 > OAS_STORE_MAX_VALUE) {
        why = apr_psprintf(x->p,
                           "the document holds more than the store takes (%" APR_SIZE_T_FMT
                           " bytes of keys, at most %d)",
                           strlen(doc), OAS_STORE_MAX_VALUE - 24);
        rv = APR_ENOSPC;
    }
    else
        rv = keys_of(pkeys, &why, x, c, doc, strlen(doc));
    if (rv != APR_SUCCESS) {
        *pwhy = why ? why : "failed";
        if (st)
            rec_put(st, x, REC_FAIL, c, *pwhy, strlen(*pwhy), OAS_JWKS_FAIL_MEMORY, 0);
        return rv;
    }
    if (st && rec_put(st, x, REC_DOC, c, doc, strlen(doc), OAS_JWKS_STALE_MAX, 0) != APR_SUCCESS) {
        OAS_CTX_LOG(
            x, OAS_LOG_WARNING, 0,
            OAS_LOGNO(06102) "client %s: the keys fetched from %s cannot be shared with other "
                             "processes (store full or failing): they fetch their own",
            c->id, c->jwks_uri);
    }
    if (st)
        oas_store_del(st, x->p, OAS_NS_JWKS, rec_key(x->p, REC_FAIL, c));
    OAS_CTX_LOG(x, OAS_LOG_INFO, 0, OAS_LOGNO(06103) "client %s: fetched %d key(s) from %s", c->id,
                (*pkeys)->nelts, c->jwks_uri);
    return APR_SUCCESS;
}

static apr_int64_t busy_window(void)
{
    return g.wait_ms / 1000 + 2;
}

/* Another process fetches the document: wait for its outcome, at most g.wait_ms (the fetch
 * timeout: that fetch began before we came, so it ends within it). */
static apr_status_t await_other(apr_array_header_t **pkeys, const char **pwhy, oas_store_t *st,
                                oas_ctx_t *x, const oas_client_t *c)
{
    apr_time_t until = apr_time_now() + apr_time_from_msec(g.wait_ms);
    const char *rest;
    apr_size_t rlen;

    while (apr_time_now() < until) {
        apr_sleep(apr_time_from_msec(20));
        if (rec_get(NULL, &rest, &rlen, st, x, REC_DOC, c, OAS_JWKS_STALE_MAX) == APR_SUCCESS)
            return keys_of(pkeys, pwhy, x, c, rest, rlen);
        if (rec_get(NULL, &rest, &rlen, st, x, REC_FAIL, c, OAS_JWKS_FAIL_MEMORY) == APR_SUCCESS) {
            *pwhy = apr_pstrcat(x->p, "another process's fetch failed: ", rest, NULL);
            return APR_EGENERAL;
        }
        if (rec_get(NULL, NULL, NULL, st, x, REC_BUSY, c, busy_window()) != APR_SUCCESS)
            break;
    }
    *pwhy = "another process's fetch gave no document in time";
    return APR_TIMEUP;
}

apr_status_t oas_jwks_cache_keys(apr_array_header_t **pkeys, oas_err_t *err, oas_ctx_t *x,
                                 const oas_client_t *c, const char *kid)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_SHORT);
    apr_array_header_t *fresh;
    const char *rest, *why = NULL;
    apr_size_t rlen;
    apr_int64_t ts;
    apr_status_t rv;

    *pkeys = NULL;
    if (rec_get(&ts, &rest, &rlen, st, x, REC_DOC, c, OAS_JWKS_STALE_MAX) == APR_SUCCESS) {
        if ((rv = keys_of(pkeys, &why, x, c, rest, rlen)) != APR_SUCCESS) {
            OAS_CTX_LOG(
                x, OAS_LOG_WARNING, rv,
                OAS_LOGNO(
                    06104) "client %s: the shared copy of %s does not parse (%s): fetching it",
                c->id, c->jwks_uri, why);
            goto miss;
        }
        if (x->now - ts < OAS_JWKS_FRESH) {
            if (!kid || oas_jwks_has_kid(*pkeys, kid))
                return APR_SUCCESS;
            if (!claim(st, x, REC_KID, c, OAS_JWKS_REFETCH_GAP, 0)) {
                OAS_CTX_LOG(
                    x, OAS_LOG_INFO, 0,
                    OAS_LOGNO(
                        06105) "client %s: no key '%.64s' in %s, refetched less than %d s ago",
                    c->id, kid, c->jwks_uri, OAS_JWKS_REFETCH_GAP);
                return APR_SUCCESS;
            }
            OAS_CTX_LOG(x, OAS_LOG_INFO, 0,
                        OAS_LOGNO(06106) "client %s: no key '%.64s' in %s: fetching it again",
                        c->id, kid, c->jwks_uri);
        }
        else if (rec_get(NULL, &why, &rlen, st, x, REC_FAIL, c, OAS_JWKS_FAIL_MEMORY) ==
                     APR_SUCCESS ||
                 !claim(st, x, REC_BUSY, c, busy_window(), 1)) {
            return APR_SUCCESS; /* refreshed by another process, or failing: the stale keys */
        }
        if (fetch_and_share(&fresh, &why, st, x, c) == APR_SUCCESS)
            *pkeys = fresh;
        else {
            OAS_CTX_LOG(
                x, OAS_LOG_WARNING, 0,
                OAS_LOGNO(
                    06107) "client %s: fetching %s failed: %s; the keys fetched %" APR_INT64_T_FMT
                           " s ago are used",
                c->id, c->jwks_uri, why, x->now - ts);
        }
        if (st && x->now - ts >= OAS_JWKS_FRESH)
            oas_store_del(st, x->p, OAS_NS_JWKS, rec_key(x->p, REC_BUSY, c));
        return APR_SUCCESS;
    }

miss:
    *pkeys = NULL;
    if (rec_get(&ts, &why, &rlen, st, x, REC_FAIL, c, OAS_JWKS_FAIL_MEMORY) == APR_SUCCESS) {
        return oas_err(err, x->p, 401, "invalid_client", "client authentication failed",
                       OAS_LOG_INFO,
                       OAS_LOGNO(06108) "client %s: fetching %s failed %" APR_INT64_T_FMT
                                        " s ago (%s); no new attempt within %d s",
                       c->id, c->jwks_uri, x->now - ts, why, OAS_JWKS_FAIL_MEMORY);
    }
    if (!claim(st, x, REC_BUSY, c, busy_window(), 1)) {
        if ((rv = await_other(pkeys, &why, st, x, c)) == APR_SUCCESS)
            return APR_SUCCESS;
        return oas_err(err, x->p, 401, "invalid_client", "client authentication failed",
                       OAS_LOG_INFO, OAS_LOGNO(06109) "client %s: no keys from %s: %s", c->id,
                       c->jwks_uri, why);
    }
    rv = fetch_and_share(pkeys, &why, st, x, c);
    if (st)
        oas_store_del(st, x->p, OAS_NS_JWKS, rec_key(x->p, REC_BUSY, c));
    if (rv != APR_SUCCESS) {
        return oas_err(err, x->p, 401, "invalid_client", "client authentication failed",
                       OAS_LOG_WARNING, OAS_LOGNO(06110) "client %s: fetching %s failed: %s", c->id,
                       c->jwks_uri, why);
    }
    return APR_SUCCESS;
}
