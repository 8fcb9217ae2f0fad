/* Unit tests: the authorization engine (oas_throttle, oas_par_record, oas_code_issue,
 * oas_consent_txn) on both engine stores: the brute-force brake (C07), the client quota
 * (D07), pushed requests (P04-P06), code issuance using up a request_uri once, consent
 * transactions (H02, H03) and store failures (503). */
#include "unit.h"

#include <apr_strings.h>

#include "engine_stores.h"
#include "oas_consent_txn.h"
#include "oas_par_record.h"
#include "oas_throttle.h"

#define CH "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

/* One issuer with a confidential client "rp" (consent asked) and a public one "pub" (no
 * consent); every setting at its default unless a test sets it. */
static oas_issuer_t *make_issuer(apr_pool_t *p)
{
    oas_issuer_t *iss = oas_issuer_make(p);
    oas_client_t *c = oas_client_make(p, "rp"), *pub = oas_client_make(p, "pub");

    iss->issuer = "https://as.test";
    iss->clients = apr_hash_make(p);
    c->secret = "s3cret";
    c->redirect_uris = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(c->redirect_uris, const char *) = "https://rp.test/cb";
    c->scopes = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(c->scopes, const char *) = "openid";
    APR_ARRAY_PUSH(c->scopes, const char *) = "api";
    pub->redirect_uris = c->redirect_uris;
    pub->scopes = c->scopes;
    pub->consent = 0;
    oas_client_resolve(c);
    oas_client_resolve(pub);
    apr_hash_set(iss->clients, c->id, APR_HASH_KEY_STRING, c);
    apr_hash_set(iss->clients, pub->id, APR_HASH_KEY_STRING, pub);
    return iss;
}

/* The same issuer with OAuthASClientQuota quota. */
static oas_issuer_t *quota_issuer(apr_pool_t *p, int quota)
{
    oas_issuer_t *iss = make_issuer(p);

    iss->client_quota = quota;
    return iss;
}

static const oas_client_t *client(const oas_issuer_t *iss, const char *id)
{
    return oas_issuer_client(iss, id);
}

/* A context on store k at the real clock (stored entries expire by it), signed-in "alice". */
static oas_ctx_t *ctx(apr_pool_t *p, const oas_issuer_t *iss, int k)
{
    oas_ctx_t *x = engine_ctx(p, iss, k, apr_time_sec(apr_time_now()));

    x->user = "alice";
    return x;
}

/* Runs a case on a fresh context over each engine store (ENGINE_STORES). */
static void on_each_store(apr_pool_t *p, const oas_issuer_t *iss,
                          void (*fn)(apr_pool_t *p, oas_ctx_t *x))
{
    int k;

    for (k = 0; k < ENGINE_STORES; k++)
        fn(p, ctx(p, iss, k));
}

/* A second request on the same stores, at now + later seconds, from addr. */
static oas_ctx_t *again(apr_pool_t *p, const oas_ctx_t *x, apr_int64_t later, const char *addr)
{
    oas_ctx_t *y = apr_pmemdup(p, x, sizeof(*x));

    y->now = x->now + later;
    y->addr = addr;
    return y;
}

/* A valid authorization request of rp as form fields. */
static apr_table_t *form(apr_pool_t *p)
{
    apr_table_t *t = apr_table_make(p, 8);

    apr_table_set(t, "response_type", "code");
    apr_table_set(t, "client_id", "rp");
    apr_table_set(t, "redirect_uri", "https://rp.test/cb");
    apr_table_set(t, "scope", "openid api");
    apr_table_set(t, "state", "S");
    apr_table_set(t, "code_challenge", CH);
    apr_table_set(t, "code_challenge_method", "S256");
    apr_table_set(t, "client_secret", "s3cret");
    return t;
}

/* rp's front-channel request, validated */
static oas_authz_req_t *front(apr_pool_t *p, const oas_issuer_t *iss)
{
    oas_authz_req_t *req;
    oas_err_t e;

    assert_int_equal(oas_authz_validate(&req, &e, p, iss, form(p), NULL, OAS_AUTHZ_FRONT),
                     APR_SUCCESS);
    return req;
}

static const char *push(apr_pool_t *p, oas_ctx_t *x)
{
    const char *token;
    oas_err_t e;

    assert_int_equal(oas_par_push(&token, x, &e, client(x->iss, "rp"), form(p)), APR_SUCCESS);
    assert_int_equal(strlen(token), 43); /* 32 random bytes, base64url */
    return apr_pstrcat(p, OAS_REQUEST_URI_PREFIX, token, NULL);
}

/* The pending authorization of rp's request (pushed when ru is set) for x->user. */
static oas_pending_t pending(apr_pool_t *p, oas_ctx_t *x, const char *ru)
{
    apr_table_t *params = form(p);
    const char *opaque = NULL;
    oas_authz_req_t *req;
    oas_pending_t pd;
    oas_err_t e;

    if (ru)
        assert_int_equal(oas_par_load(&params, &opaque, x, &e, ru, "rp"), APR_SUCCESS);
    assert_int_equal(
        oas_authz_validate(&req, &e, p, x->iss, params, NULL, ru ? OAS_AUTHZ_PAR : OAS_AUTHZ_FRONT),
        APR_SUCCESS);
    assert_int_equal(oas_authz_pending(&pd, x, &e, req, opaque, 1000), APR_SUCCESS);
    return pd;
}

/* n copies of c, in p */
static char *repeat(apr_pool_t *p, char c, apr_size_t n)
{
    char *s = apr_palloc(p, n + 1);

    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* ---- stores that fail: none configured, or one that answers every call with rv ---- */

static apr_status_t failing_rv;

static apr_status_t fail_put(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                             apr_size_t klen, const void *val, apr_size_t vlen, apr_time_t exp)
{
    return failing_rv;
}

static apr_status_t fail_get(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                             apr_size_t klen, char **pval, apr_size_t *plen)
{
    return failing_rv;
}

static apr_status_t fail_del(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                             apr_size_t klen)
{
    return failing_rv;
}

static oas_store_t failing_store = {
    .name = "failing", .put = fail_put, .put_new = fail_put, .get = fail_get, .take = fail_get,
    .del = fail_del};

/* A context whose stores are absent (store NULL) or failing with rv. */
static oas_ctx_t *broken_ctx(apr_pool_t *p, const oas_issuer_t *iss, int absent, apr_status_t rv)
{
    oas_ctx_t *x = apr_palloc(p, sizeof(*x));

    oas_ctx_init(x, p, iss, apr_time_sec(apr_time_now()));
    failing_rv = rv;
    x->store[OAS_CTX_SHORT] = x->store[OAS_CTX_LONG] = absent ? NULL : &failing_store;
    x->opened[OAS_CTX_SHORT] = x->opened[OAS_CTX_LONG] = 1;
    x->user = "alice";
    return x;
}

static void assert_503(const oas_err_t *e, const char *what)
{
    assert_int_equal(e->status, 503);
    assert_string_equal(e->error, "temporarily_unavailable");
    /* a failing store may come back any moment; a full one when short-lived records expire */
    assert_int_equal(e->retry_after, e->rv == APR_ENOSPC ? OAS_DEFAULT_CONSENT_TTL : 5);
    assert_non_null(strstr(e->detail, what));
}

/* ---- the log: what the engine wrote (lines at every level) ---- */

static char logged[4096];

static int log_all(void *baton, int level)
{
    return 1;
}

static void log_keep(const char *file, int line, int level, apr_status_t rv, void *baton,
                     const char *msg)
{
    apr_size_t n = strlen(logged);

    apr_snprintf(logged + n, sizeof(logged) - n, "%s\n", msg);
}

static int log_count(const char *tag)
{
    const char *s = logged;
    int n = 0;

    while ((s = strstr(s, tag))) {
        n++;
        s++;
    }
    return n;
}

static void log_start(void)
{
    logged[0] = '\0';
    oas_log_set(log_all, log_keep);
}

/* ---- C07: the brute-force brake ---- */

static void test_authfail_client(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p);
    apr_table_t *f = apr_table_make(p, 2);
    oas_ctx_t x;

    oas_ctx_init(&x, p, iss, 0);
    apr_table_set(f, "client_id", "rp");
    assert_ptr_equal(oas_authfail_client(&x, 0, NULL, f), client(iss, "rp"));
    assert_ptr_equal(oas_authfail_client(&x, 1, "rp", NULL), client(iss, "rp"));
    assert_null(oas_authfail_client(&x, 1, "nosuch", f)); /* unknown: nothing to brake */
    assert_null(oas_authfail_client(&x, -1, "rp", apr_table_make(p, 1)));
    apr_table_set(f, "client_id", "pub");
    assert_null(oas_authfail_client(&x, 0, NULL, f)); /* public: no secret to guess */
    apr_table_set(f, "client_id", "rp");
    iss->authfail_limit = 0; /* the brake is off */
    assert_null(oas_authfail_client(&x, 0, NULL, f));
}

/* Counts the events a store notes (server-status), whatever the backend does with them. */
static int noted[OAS_STORE_EV_COUNT];

static void note_count(oas_store_t *st, int ev)
{
    noted[ev]++;
}

/* x's stores, noting events into noted[] (cleared). */
static oas_ctx_t *noting(apr_pool_t *p, oas_ctx_t *x)
{
    oas_store_t *st = apr_pmemdup(p, x->store[OAS_CTX_SHORT], sizeof(*st));

    st->note = note_count;
    memset(noted, 0, sizeof(noted));
    x->store[OAS_CTX_SHORT] = x->store[OAS_CTX_LONG] = st;
    return x;
}

/* One request of c from x->addr with the right (ok) or a wrong secret, as the glue runs it:
 * check, then count a failure. */
static apr_status_t authenticate(oas_ctx_t *x, oas_err_t *e, const oas_client_t *c, int ok)
{
    apr_status_t rv = oas_authfail_check(x, e, c);

    if (rv == APR_SUCCESS && !ok)
        rv = oas_authfail_failed(x, e, c);
    return rv;
}

static void case_c07_limit_window_and_address(apr_pool_t *p, oas_ctx_t *x)
{
    const oas_issuer_t *iss = x->iss;
    oas_ctx_t *later;
    const oas_client_t *c = client(iss, "rp");
    oas_err_t e;
    int i;

    x = noting(p, x);
    log_start();
    for (i = 0; i < 3; i++)
        assert_int_equal(authenticate(again(p, x, i, x->addr), &e, c, 0), APR_SUCCESS);
    oas_log_set(NULL, NULL);
    assert_int_equal(log_count("OAS00136"), 1); /* the limit reached: logged once */
    /* at the limit: 429 until the window (started at the first failure) ends, even with the
     * right secret (it is not looked at) */
    later = again(p, x, 10, x->addr);
    assert_int_equal(authenticate(later, &e, c, 1), APR_EINVAL);
    assert_int_equal(e.status, 429);
    assert_string_equal(e.error, "temporarily_unavailable");
    assert_int_equal(e.retry_after, 50);
    assert_non_null(strstr(e.detail, "OAS00137"));
    assert_non_null(strstr(e.detail, "client rp"));
    assert_non_null(strstr(e.detail, x->addr));
    assert_null(strstr(e.detail, "s3cret"));
    /* refused again: counted, not logged again within the window */
    assert_int_equal(authenticate(again(p, x, 11, x->addr), &e, c, 0), APR_EINVAL);
    assert_int_equal(e.status, 429);
    assert_null(e.detail);
    assert_int_equal(noted[OAS_STORE_EV_AUTHFAIL_REFUSED], 2);
    /* another address is not locked out, and the right secret there never counts */
    for (i = 0; i < 10; i++)
        assert_int_equal(authenticate(again(p, x, 10, "198.51.100.7"), &e, c, 1), APR_SUCCESS);
    /* the window ends: allowed again, and counting starts afresh */
    later = again(p, x, 60, x->addr);
    assert_int_equal(authenticate(later, &e, c, 0), APR_SUCCESS);
    assert_int_equal(authenticate(again(p, x, 61, x->addr), &e, c, 1), APR_SUCCESS);
}

static void test_c07_limit_window_and_address(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p);

    iss->authfail_limit = 3;
    iss->authfail_window = 60;
    on_each_store(p, iss, case_c07_limit_window_and_address);
}

/* C07, issue 14: 38 guesses in flight at once (all past the check, none answered yet)
 * against a limit of 10: the atomic count of their failures gives exactly 10 a 401 and 28 a
 * 429. A client that authenticates correctly writes nothing: never braked by its successes. */
static void case_c07_parallel_guesses(apr_pool_t *p, oas_ctx_t *x)
{
    const oas_client_t *c = client(x->iss, "rp");
    oas_err_t e;
    int i, answered = 0, refused = 0;

    for (i = 0; i < 100; i++)
        assert_int_equal(authenticate(x, &e, c, 1), APR_SUCCESS);
    for (i = 0; i < 38; i++)
        assert_int_equal(oas_authfail_check(x, &e, c), APR_SUCCESS);
    for (i = 0; i < 38; i++) {
        if (oas_authfail_failed(x, &e, c) == APR_SUCCESS)
            answered++;
        else if (e.status == 429)
            refused++;
    }
    assert_int_equal(answered, 10);
    assert_int_equal(refused, 28);
    /* and now the check refuses before any secret is looked at */
    assert_int_equal(oas_authfail_check(x, &e, c), APR_EINVAL);
    assert_int_equal(e.status, 429);
}

static void test_c07_parallel_guesses(void **state)
{
    on_each_store(*state, make_issuer(*state), case_c07_parallel_guesses);
}

/* C07 fails closed: a brake that cannot count refuses (503), it is never skipped. */
static void test_c07_without_store(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p);
    oas_ctx_t *x = broken_ctx(p, iss, 1, APR_SUCCESS);
    oas_err_t e;

    iss->authfail_limit = 1;
    assert_int_equal(oas_authfail_check(x, &e, client(iss, "rp")), APR_ENOTIMPL);
    assert_int_equal(e.status, 503);
    x = broken_ctx(p, iss, 0, APR_EGENERAL);
    assert_int_equal(oas_authfail_check(x, &e, client(iss, "rp")), APR_EGENERAL);
    assert_int_equal(e.status, 503);
    assert_true(e.retry_after > 0);
    assert_non_null(strstr(e.detail, "OAS00135"));
    x = broken_ctx(p, iss, 0, APR_ENOSPC); /* full: as long as short-lived records live */
    assert_int_equal(oas_authfail_check(x, &e, client(iss, "rp")), APR_ENOSPC);
    assert_int_equal(e.retry_after, oas_iss_short_lived(iss));
}

/* ---- D07: the quotas ---- */

static void case_d07_quota(apr_pool_t *p, oas_ctx_t *x)
{
    const oas_issuer_t *iss = x->iss;
    oas_err_t e;

    assert_int_equal(oas_quota_take(x, &e, client(iss, "rp"), NULL), APR_SUCCESS);
    assert_int_equal(oas_quota_take(again(p, x, 1, x->addr), &e, client(iss, "rp"), NULL),
                     APR_SUCCESS);
    assert_int_equal(oas_quota_take(again(p, x, 20, x->addr), &e, client(iss, "rp"), NULL),
                     APR_EINVAL);
    assert_int_equal(e.status, 429);
    assert_string_equal(e.error, "temporarily_unavailable");
    assert_int_equal(e.retry_after, 70); /* the window: the longest short-lived lifetime */
    assert_non_null(strstr(e.detail, "OAS00162"));
    /* one client over its quota leaves the others alone */
    assert_int_equal(oas_quota_take(x, &e, client(iss, "pub"), NULL), APR_SUCCESS);
    /* a new window */
    assert_int_equal(oas_quota_take(again(p, x, 90, x->addr), &e, client(iss, "rp"), NULL),
                     APR_SUCCESS);
}

static void test_d07_quota(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = quota_issuer(p, 2);

    iss->request_uri_ttl = 90;
    iss->code_ttl = 30;
    iss->consent_ttl = 60;
    on_each_store(p, iss, case_d07_quota);
    iss->client_quota = 0; /* no quota: never counted */
    iss->user_quota = iss->address_quota = 0;
    assert_int_equal(
        oas_quota_take(broken_ctx(p, iss, 0, APR_EGENERAL), NULL, client(iss, "rp"), "alice"),
        APR_SUCCESS);
}

/* Issue 14: one signed-in user who opens consent pages without end is refused (429, logged
 * once, counted) long before the store fills, without using up the client's quota: other
 * users of the client go on. A pushed request opened again and again counts each time. */
static void case_d07_user_quota(apr_pool_t *p, oas_ctx_t *x)
{
    const oas_issuer_t *iss = x->iss;
    oas_authz_req_t *req = front(p, iss);
    const char *ru = push(p, x); /* the client: 1 */
    oas_pending_t pd;
    oas_err_t e;
    int i;

    x = noting(p, x);
    assert_int_equal(oas_authz_pending(&pd, x, &e, req, NULL, 1), APR_SUCCESS); /* client 2 */
    for (i = 0; i < 2; i++) /* the user at 3 (two visits of the same push) */
        pd = pending(p, x, ru);
    for (i = 0; i < 20; i++) {
        assert_int_equal(oas_authz_pending(&pd, x, &e, req, i % 2 ? ru : NULL, 1), APR_EINVAL);
        assert_int_equal(e.status, 429);
        assert_false(e.page); /* redirected to the client, as a 429 of the client quota */
        assert_true(e.retry_after > 0 && e.retry_after <= oas_iss_short_lived(iss));
        if (i == 0) {
            assert_non_null(strstr(e.detail, "OAS00162"));
            assert_non_null(strstr(e.detail, "user alice"));
        }
        else
            assert_null(e.detail);
    }
    assert_int_equal(noted[OAS_STORE_EV_QUOTA_USER], 20);
    assert_int_equal(noted[OAS_STORE_EV_QUOTA_CLIENT], 0);
    /* bob: the client is at 2 of 3 */
    x->user = "bob";
    assert_int_equal(oas_authz_pending(&pd, x, &e, req, NULL, 1), APR_SUCCESS);
    /* the client is full now: bob is refused by it, and gets his own count back */
    assert_int_equal(oas_authz_pending(&pd, x, &e, req, NULL, 1), APR_EINVAL);
    assert_non_null(strstr(e.detail, "client rp: client rp over its quota of 3"));
    assert_int_equal(noted[OAS_STORE_EV_QUOTA_CLIENT], 1);
    assert_int_equal(oas_authz_pending(&pd, x, &e, req, ru, 1), APR_SUCCESS); /* bob at 2 */
    assert_int_equal(oas_authz_pending(&pd, x, &e, req, ru, 1), APR_SUCCESS); /* bob at 3 */
    assert_int_equal(oas_authz_pending(&pd, x, &e, req, ru, 1), APR_EINVAL);
}

static void test_d07_user_quota(void **state)
{
    oas_issuer_t *iss = quota_issuer(*state, 3);

    iss->user_quota = 3;
    on_each_store(*state, iss, case_d07_user_quota);
}

/* Issue 14: pushes of a public client (no credentials) are counted per address, IPv6 by its
 * /64: a flood from one address gets 429 while another address and the client's quota are
 * untouched. */
static void case_d07_address_quota(apr_pool_t *p, oas_ctx_t *x)
{
    const oas_client_t *pub = client(x->iss, "pub");
    oas_ctx_t *v6 = again(p, x, 0, "2001:db8:1:2::1");
    oas_err_t e;
    int i;

    x = noting(p, x);
    for (i = 0; i < 2; i++) {
        assert_int_equal(oas_quota_take(x, &e, pub, NULL), APR_SUCCESS);
        assert_int_equal(oas_quota_take(v6, &e, pub, NULL), APR_SUCCESS);
    }
    for (i = 0; i < 10; i++) {
        assert_int_equal(oas_quota_take(x, &e, pub, NULL), APR_EINVAL);
        assert_int_equal(e.status, 429);
    }
    assert_true(e.retry_after > 0);
    assert_int_equal(noted[OAS_STORE_EV_QUOTA_ADDR], 10);
    /* another host of the same /64 is the same party */
    assert_int_equal(oas_quota_take(again(p, v6, 0, "2001:db8:1:2:aaaa::9"), &e, pub, NULL),
                     APR_EINVAL);
    /* another /64 and another IPv4 address: served; the client quota (5) was not used up by
     * the refusals: 4 counted so far */
    assert_int_equal(oas_quota_take(again(p, x, 0, "2001:db8:1:3::1"), &e, pub, NULL), APR_SUCCESS);
    assert_int_equal(oas_quota_take(again(p, x, 0, "203.0.113.9"), &e, pub, NULL), APR_EINVAL);
    assert_int_equal(noted[OAS_STORE_EV_QUOTA_CLIENT], 1);
    /* a confidential client's push is counted against the client, not the address */
    assert_int_equal(oas_quota_take(x, &e, client(x->iss, "rp"), NULL), APR_SUCCESS);
}

static void test_d07_address_quota(void **state)
{
    oas_issuer_t *iss = quota_issuer(*state, 5);

    iss->address_quota = 2;
    on_each_store(*state, iss, case_d07_address_quota);
}

/* D07: a flow that ended with its code redeemed gives its counts back: a busy user or client
 * whose flows complete never reaches the quota, and a counter back at nothing takes no room. */
static void case_d07_give_back(apr_pool_t *p, oas_ctx_t *x)
{
    const oas_client_t *rp = client(x->iss, "rp");
    char *v;
    apr_size_t n;
    oas_err_t e;
    int i;

    for (i = 0; i < 10; i++) {
        assert_int_equal(oas_quota_take(x, &e, rp, "alice"), APR_SUCCESS);
        assert_int_equal(oas_quota_take(x, &e, rp, "alice"), APR_SUCCESS);
        oas_quota_give_back(x, rp, "alice");
        oas_quota_give_back(x, rp, "alice");
    }
    assert_int_equal(oas_store_get(x->store[OAS_CTX_SHORT], p, OAS_NS_QUOTA, "ualice", &v, &n),
                     APR_NOTFOUND);
    assert_int_equal(oas_store_get(x->store[OAS_CTX_SHORT], p, OAS_NS_QUOTA, "crp", &v, &n),
                     APR_NOTFOUND);
    assert_int_equal(oas_quota_take(x, &e, rp, "alice"), APR_SUCCESS);
    assert_int_equal(oas_quota_take(x, &e, rp, "alice"), APR_SUCCESS);
    assert_int_equal(oas_quota_take(x, &e, rp, "alice"), APR_EINVAL); /* held: refused */
    assert_int_equal(e.status, 429);
}

static void test_d07_give_back(void **state)
{
    oas_issuer_t *iss = quota_issuer(*state, 2);

    iss->user_quota = 2;
    on_each_store(*state, iss, case_d07_give_back);
}

static void test_addr_prefix(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(oas_addr_prefix(p, "192.0.2.1"), "192.0.2.1");
    assert_string_equal(oas_addr_prefix(p, "2001:db8:1:2::1"), "2001:0db8:0001:0002::/64");
    assert_string_equal(oas_addr_prefix(p, "2001:db8:1:2:ffff:1:2:3"), "2001:0db8:0001:0002::/64");
    assert_string_equal(oas_addr_prefix(p, "::ffff:192.0.2.7"), "192.0.2.7");
    assert_string_equal(oas_addr_prefix(p, "not:an:address"), "not:an:address");
    assert_string_equal(oas_addr_prefix(p, NULL), "");
}

/* Issue 14: the defaults are on, and the window is the longest short-lived lifetime (the
 * consent lifetime, 5 minutes). */
static void test_quota_defaults(void **state)
{
    oas_issuer_t *iss = make_issuer(*state);

    assert_int_equal(oas_iss_client_quota(iss), OAS_DEFAULT_CLIENT_QUOTA);
    assert_true(oas_iss_user_quota(iss) > 0 && oas_iss_user_quota(iss) < 3000);
    assert_true(oas_iss_address_quota(iss) > 0 && oas_iss_address_quota(iss) < 3000);
    assert_int_equal(oas_iss_consent_ttl(iss), 300);
    assert_int_equal(oas_iss_short_lived(iss), 300);
    iss->request_uri_ttl = 900;
    assert_int_equal(oas_iss_short_lived(iss), 900);
}

/* Issue 14: what one request may leave in the store is bounded (README "Limits"). */
static void test_request_limits(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p);
    oas_authz_req_t *req;
    apr_table_t *f = form(p);
    oas_err_t e;

    apr_table_set(f, "state", repeat(p, 's', OAS_AUTHZ_MAX_STATE)); /* a return URL fits */
    apr_table_set(f, "nonce", repeat(p, 'n', OAS_AUTHZ_MAX_NONCE));
    assert_int_equal(oas_authz_validate(&req, &e, p, iss, f, NULL, OAS_AUTHZ_FRONT), APR_SUCCESS);
    apr_table_set(f, "state", repeat(p, 's', OAS_AUTHZ_MAX_STATE + 1));
    assert_int_equal(oas_authz_validate(&req, &e, p, iss, f, NULL, OAS_AUTHZ_FRONT), APR_EINVAL);
    assert_string_equal(e.error, "invalid_request");
    assert_false(e.page); /* redirected, without the state */
    assert_null(req->state);
    apr_table_set(f, "state", "S");
    apr_table_set(f, "nonce", repeat(p, 'n', OAS_AUTHZ_MAX_NONCE + 1));
    assert_int_equal(oas_authz_validate(&req, &e, p, iss, f, NULL, OAS_AUTHZ_PAR), APR_EINVAL);
    assert_string_equal(e.error, "invalid_request");
    assert_string_equal(req->state, "S");
    apr_table_unset(f, "nonce");
    /* valid scopes written out long */
    apr_table_set(f, "scope",
                  apr_pstrcat(p, "openid", repeat(p, ' ', OAS_AUTHZ_MAX_VALUE), "api", NULL));
    assert_int_equal(oas_authz_validate(&req, &e, p, iss, f, NULL, OAS_AUTHZ_FRONT), APR_EINVAL);
    assert_string_equal(e.error, "invalid_request");
}

/* Issue 14: a full store does not use up a pushed request before its code is stored: the
 * client may come back with it (503 with an honest Retry-After, not 5). */
static void test_full_store_keeps_request_uri(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p);
    oas_ctx_t *x = ctx(p, iss, ENGINE_SHM);
    oas_pending_t pd;
    apr_table_t *params;
    const char *ru, *code, *opaque;
    oas_err_t e;
    int i;

    x->store[OAS_CTX_SHORT] = x->store[OAS_CTX_LONG] = engine_store(p, ENGINE_SHM, 8);
    ru = push(p, x);
    pd = pending(p, x, ru);
    for (i = 0; oas_par_push(&code, x, &e, client(iss, "rp"), form(p)) == APR_SUCCESS; i++)
        assert_true(i < 1000);
    assert_int_not_equal(oas_code_issue(&code, x, &e, &pd), APR_SUCCESS);
    assert_int_equal(e.status, 503);
    assert_int_equal(e.retry_after, oas_iss_short_lived(iss));
    assert_int_equal(oas_par_load(&params, &opaque, x, &e, ru, "rp"), APR_SUCCESS);
}

/* ---- PAR records ---- */

static void case_par_push_and_load(apr_pool_t *p, oas_ctx_t *x)
{
    const char *ru = push(p, x), *opaque;
    apr_table_t *params;
    oas_err_t e;

    assert_int_equal(oas_par_load(&params, &opaque, x, &e, ru, "rp"), APR_SUCCESS);
    assert_string_equal(opaque, ru + strlen(OAS_REQUEST_URI_PREFIX));
    assert_string_equal(apr_table_get(params, "client_id"), "rp");
    assert_string_equal(apr_table_get(params, "state"), "S");
    assert_string_equal(apr_table_get(params, "scope"), "openid api");
    assert_null(apr_table_get(params, OAS_PAR_RECORD_CLIENT));
    assert_null(apr_table_get(params, "client_secret")); /* never kept */
    /* loading does not use it up */
    assert_int_equal(oas_par_load(&params, &opaque, x, &e, ru, "rp"), APR_SUCCESS);
}

static void test_par_push_and_load(void **state)
{
    on_each_store(*state, make_issuer(*state), case_par_push_and_load);
}

/* /authorize with request_uri ru and client_id cid is refused with a 400 page: why. */
static oas_err_t load_refused(oas_ctx_t *x, const char *ru, const char *cid)
{
    apr_table_t *params;
    const char *opaque;
    oas_err_t e;

    assert_int_equal(oas_par_load(&params, &opaque, x, &e, ru, cid), APR_EINVAL);
    assert_null(params);
    assert_int_equal(e.status, 400);
    assert_true(e.page);
    return e;
}

static void case_p04_bound_to_client(apr_pool_t *p, oas_ctx_t *x)
{
    const char *ru = push(p, x);
    oas_err_t e = load_refused(x, ru, "pub");

    assert_string_equal(e.error, "invalid_request_uri");
    assert_non_null(strstr(e.description, "belongs to another client"));
    assert_non_null(strstr(e.detail, "OAS03002"));
    assert_non_null(strstr(e.detail, "client rp presented for client pub"));
    assert_string_equal(load_refused(x, ru, NULL).error, "invalid_request");
}

static void test_p04_bound_to_client(void **state)
{
    on_each_store(*state, make_issuer(*state), case_p04_bound_to_client);
}

static const char *const unknown_request_uris[] = {
    OAS_REQUEST_URI_PREFIX "nosuch",
    "https://attacker.test/req",
    "urn:ietf:params:oauth:request_uri",
    OAS_REQUEST_URI_PREFIX "0123456789012345678901234567890123456789012345678901234567890"
                           "12345",
};

static void case_p07_unknown_request_uris(apr_pool_t *p, oas_ctx_t *x)
{
    int i;

    for (i = 0; i < (int)(sizeof(unknown_request_uris) / sizeof(unknown_request_uris[0])); i++)
        assert_string_equal(load_refused(x, unknown_request_uris[i], "rp").error, OAS_AUTHZ_GONE);
}

static void test_p07_unknown_request_uris(void **state)
{
    on_each_store(*state, make_issuer(*state), case_p07_unknown_request_uris);
}

static void case_p06_expired(apr_pool_t *p, oas_ctx_t *x)
{
    oas_err_t e = load_refused(x, push(p, x), "rp");

    assert_string_equal(e.error, OAS_AUTHZ_GONE);
    assert_non_null(strstr(e.description, "has expired"));
}

static void test_p06_expired(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p);

    iss->request_uri_ttl = -2; /* stored already expired */
    on_each_store(p, iss, case_p06_expired);
}

/* What a push refuses. */
static const struct {
    const char *name, *value; /* set in the form (NULL value: removed) */
    int status;
    const char *error;
} push_rows[] = {
    {"request_uri", OAS_REQUEST_URI_PREFIX "x", 400, "invalid_request"},
    {"response_type", NULL, 400, "invalid_request"},
    {"response_type", "token", 400, "unsupported_response_type"},
    {"redirect_uri", "https://evil.test/cb", 400, "invalid_request"}, /* a page at /authorize */
    {"scope", "admin", 400, "invalid_scope"},
    {"state", "", 0, NULL}, /* an empty state is kept */
};

static void case_par_push_refusals(apr_pool_t *p, oas_ctx_t *x)
{
    const oas_issuer_t *iss = x->iss;
    int i;

    for (i = 0; i < (int)(sizeof(push_rows) / sizeof(push_rows[0])); i++) {
        apr_table_t *f = form(p);
        const char *token;
        oas_err_t e;
        if (push_rows[i].value)
            apr_table_set(f, push_rows[i].name, push_rows[i].value);
        else
            apr_table_unset(f, push_rows[i].name);
        if (!push_rows[i].status) {
            assert_int_equal(oas_par_push(&token, x, &e, client(iss, "rp"), f), APR_SUCCESS);
            continue;
        }
        assert_int_equal(oas_par_push(&token, x, &e, client(iss, "rp"), f), APR_EINVAL);
        assert_null(token);
        assert_int_equal(e.status, push_rows[i].status);
        assert_string_equal(e.error, push_rows[i].error);
        assert_false(e.page); /* RFC 9126 §2.3: never a redirect, never a page */
    }
}

static void test_par_push_refusals(void **state)
{
    on_each_store(*state, make_issuer(*state), case_par_push_refusals);
}

static void case_par_too_large_and_quota(apr_pool_t *p, oas_ctx_t *x)
{
    const oas_issuer_t *iss = x->iss;
    apr_table_t *f = form(p);
    const char *token;
    oas_err_t e;

    /* a state over its limit (issue 14: it used to be refused only past the store's 16 KiB) */
    apr_table_set(f, "state", repeat(p, '"', OAS_AUTHZ_MAX_STATE + 1));
    assert_int_equal(oas_par_push(&token, x, &e, client(iss, "rp"), f), APR_EINVAL);
    assert_int_equal(e.status, 400);
    assert_string_equal(e.error, "invalid_request");
    /* too large was not counted against the quota: the next push fits, then 429 */
    assert_int_equal(oas_par_push(&token, x, &e, client(iss, "rp"), form(p)), APR_SUCCESS);
    assert_int_equal(oas_par_push(&token, x, &e, client(iss, "rp"), form(p)), APR_EINVAL);
    assert_int_equal(e.status, 429);
    assert_true(e.retry_after > 0);
}

static void test_par_too_large_and_quota(void **state)
{
    on_each_store(*state, quota_issuer(*state, 1), case_par_too_large_and_quota);
}

/* ---- the end of an authorization: the code, the request_uri used up exactly once ---- */

static void case_p05_code_uses_up_request_uri_once(apr_pool_t *p, oas_ctx_t *x)
{
    const char *ru = push(p, x), *code, *code2;
    oas_pending_t pd = pending(p, x, ru);
    oas_grant_t *g;
    char *val;
    apr_size_t len;
    oas_err_t e;

    log_start();
    assert_int_equal(oas_code_issue(&code, x, &e, &pd), APR_SUCCESS);
    oas_log_set(NULL, NULL);
    assert_int_equal(log_count("OAS00141"), 1);
    assert_null(strstr(logged, code)); /* the code never reaches the log */
    /* the code carries the grant */
    assert_int_equal(oas_store_get(x->store[0], p, OAS_NS_CODE, code, &val, &len), APR_SUCCESS);
    assert_int_equal(oas_grant_from_json(&g, p, val, len), APR_SUCCESS);
    assert_string_equal(g->client_id, "rp");
    assert_string_equal(g->sub, "alice");
    assert_string_equal(g->code_challenge, CH);
    /* the request_uri is dead: no second code, no second load */
    assert_int_equal(oas_code_issue(&code2, x, &e, &pd), APR_NOTFOUND);
    assert_null(code2);
    assert_true(e.page);
    assert_string_equal(e.error, OAS_AUTHZ_GONE);
    assert_string_equal(load_refused(x, ru, "rp").error, OAS_AUTHZ_GONE);
    assert_int_equal(oas_request_uri_use_up(x, &e, pd.request_uri), APR_NOTFOUND);
    /* a front-channel authorization has nothing to use up */
    assert_int_equal(oas_request_uri_use_up(x, &e, NULL), APR_SUCCESS);
    pd = pending(p, x, NULL);
    assert_int_equal(oas_code_issue(&code, x, &e, &pd), APR_SUCCESS);
    assert_int_equal(oas_code_issue(&code2, x, &e, &pd), APR_SUCCESS);
    assert_string_not_equal(code, code2);
}

static void test_p05_code_uses_up_request_uri_once(void **state)
{
    on_each_store(*state, make_issuer(*state), case_p05_code_uses_up_request_uri_once);
}

static void case_code_too_large_keeps_request_uri(apr_pool_t *p, oas_ctx_t *x)
{
    const char *ru = push(p, x), *code;
    oas_pending_t pd = pending(p, x, ru);
    oas_consent_txn_t t;
    oas_err_t e;

    pd.grant->nonce = repeat(p, 'n', OAS_STORE_MAX_VALUE);
    assert_int_equal(oas_code_issue(&code, x, &e, &pd), APR_EINVAL);
    assert_int_equal(e.status, 400);
    assert_string_equal(e.error, "invalid_request");
    assert_false(e.page); /* redirected to the client... */
    assert_int_equal(oas_consent_txn_start(&t, x, &e, &pd), APR_EINVAL);
    assert_string_equal(e.error, "invalid_request");
    assert_false(e.page);
    /* ...which uses the request_uri up, once */
    assert_int_equal(oas_request_uri_use_up(x, &e, pd.request_uri), APR_SUCCESS);
    assert_int_equal(oas_request_uri_use_up(x, &e, pd.request_uri), APR_NOTFOUND);
}

static void test_code_too_large_keeps_request_uri(void **state)
{
    on_each_store(*state, make_issuer(*state), case_code_too_large_keeps_request_uri);
}

static void case_pending_refusals(apr_pool_t *p, oas_ctx_t *x)
{
    const char *ru = push(p, x); /* counted at the push: the quota is used */
    oas_authz_req_t *req = front(p, x->iss);
    oas_pending_t pd;
    oas_err_t e;

    /* a pushed request is not counted again */
    pd = pending(p, x, ru);
    assert_string_equal(pd.grant->redirect_uri, "https://rp.test/cb");
    assert_int_equal(pd.grant->auth_time, 1000);
    /* a front-channel one is: over the quota, redirected */
    assert_int_equal(oas_authz_pending(&pd, x, &e, req, NULL, 1), APR_EINVAL);
    assert_int_equal(e.status, 429);
    assert_false(e.page);
    assert_string_equal(pd.state, "S");
    /* prompt=none without a user */
    x->user = NULL;
    assert_int_equal(oas_authz_pending(&pd, x, &e, req, NULL, 1), APR_EINVAL);
    assert_string_equal(e.error, "login_required");
    assert_false(e.page);
    assert_string_equal(pd.grant->redirect_uri, "https://rp.test/cb");
    /* a user name that cannot be the sub claim: a page */
    x->user = "al\xffice";
    assert_int_equal(oas_authz_pending(&pd, x, &e, req, ru, 1), APR_EINVAL);
    assert_int_equal(e.status, 403);
    assert_true(e.page);
}

static void test_pending_refusals(void **state)
{
    on_each_store(*state, quota_issuer(*state, 1), case_pending_refusals);
}

/* ---- consent ---- */

static void case_consent_remembered(apr_pool_t *p, oas_ctx_t *x)
{
    oas_authz_req_t *req = front(p, x->iss);

    assert_true(oas_consent_needed(x, req));
    oas_consent_remember(x, req->client, oas_consent_key(p, "alice", "rp", "api openid", NULL),
                         "api openid");
    assert_false(oas_consent_needed(x, req));
    req->prompt_consent = 1; /* asked again on request */
    assert_true(oas_consent_needed(x, req));
    req->prompt_consent = 0;
    x->user = "bob"; /* another user's consent is not bob's */
    assert_true(oas_consent_needed(x, req));
    req->client = client(x->iss, "pub"); /* a client that asks none */
    assert_false(oas_consent_needed(x, req));
}

static void test_consent_remembered(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p);

    /* the key does not depend on the order of the scopes */
    assert_string_equal(oas_consent_key(p, "u", "c", "b a", NULL),
                        oas_consent_key(p, "u", "c", "a b", NULL));
    assert_string_not_equal(oas_consent_key(p, "u", "c", "a", NULL),
                            oas_consent_key(p, "u", "c", "a", "urn:r"));
    on_each_store(p, iss, case_consent_remembered);
}

static void test_cross_site_matrix(void **state)
{
    static const struct {
        const char *origin, *site;
        int ok;
    } rows[] = {
        {NULL, NULL, 1},
        {NULL, "same-origin", 1},
        {NULL, "cross-site", 0},
        {"https://as.test", NULL, 1},
        {"https://as.test", "same-origin", 1},
        {"https://as.test", "cross-site", 0}, /* the browser's word wins */
        {"https://evil.test", NULL, 0},
        {"https://evil.test", "same-origin", 0},
        {"https://as.test:8443", NULL, 0},
        {"http://as.test", NULL, 0},
        {"null", "same-origin", 1}, /* our own page under Referrer-Policy: no-referrer */
        {"null", NULL, 0},
        {"null", "same-site", 0},
        {"null", "cross-site", 0},
        {"null", "none", 0},
        {"", NULL, 0},
    };
    int i;

    (void)state;
    for (i = 0; i < (int)(sizeof(rows) / sizeof(rows[0])); i++)
        assert_int_equal(oas_consent_same_site(rows[i].origin, rows[i].site, "https://as.test"),
                         rows[i].ok);
}

/* A consent page opened for alice on pd: its form, answered with decision. */
static oas_consent_form_t consent_form(const oas_consent_txn_t *t, const char *decision)
{
    return engine_decision_form(t->txn, t->csrf, decision);
}

/* A consent page opened for x->user on rp's request (pushed when pushed): *t, and the
 * pending authorization it holds. */
static oas_pending_t open_txn(apr_pool_t *p, oas_ctx_t *x, int pushed, oas_consent_txn_t *t)
{
    oas_pending_t pd = pending(p, x, pushed ? push(p, x) : NULL);
    oas_err_t e;

    assert_int_equal(oas_consent_txn_start(t, x, &e, &pd), APR_SUCCESS);
    return pd;
}

static void case_h02_allow_once(apr_pool_t *p, oas_ctx_t *x)
{
    oas_consent_txn_t t;
    oas_pending_t pd = open_txn(p, x, 1, &t), got;
    oas_consent_form_t f;
    oas_err_t e;

    assert_string_not_equal(t.txn, t.csrf);
    f = consent_form(&t, "allow");
    assert_int_equal(oas_consent_decide(&got, x, &e, &f), APR_SUCCESS);
    assert_string_equal(got.state, "S");
    assert_string_equal(got.request_uri, pd.request_uri);
    assert_string_equal(got.grant->client_id, "rp");
    assert_string_equal(got.grant->sub, "alice");
    /* remembered: the next request of the same scopes asks nothing */
    assert_false(oas_consent_needed(x, front(p, x->iss)));
    /* one decision per transaction */
    assert_int_equal(oas_consent_decide(&got, x, &e, &f), APR_EINVAL);
    assert_int_equal(e.status, 400);
    assert_true(e.page);
    assert_string_equal(e.error, OAS_AUTHZ_GONE);
    f.decision = "deny";
    assert_int_equal(oas_consent_decide(&got, x, &e, &f), APR_EINVAL);
    assert_string_equal(e.error, OAS_AUTHZ_GONE);
}

static void test_h02_allow_once(void **state)
{
    on_each_store(*state, make_issuer(*state), case_h02_allow_once);
}

static void case_h03_deny(apr_pool_t *p, oas_ctx_t *x)
{
    oas_consent_txn_t t;
    oas_pending_t pd = open_txn(p, x, 1, &t), got;
    oas_consent_form_t f;
    oas_err_t e;

    f = consent_form(&t, "deny");
    assert_int_equal(oas_consent_decide(&got, x, &e, &f), APR_EINVAL);
    assert_string_equal(e.error, "access_denied");
    assert_false(e.page); /* redirected, with what the transaction held */
    assert_string_equal(got.grant->redirect_uri, "https://rp.test/cb");
    assert_string_equal(got.request_uri, pd.request_uri);
    assert_true(oas_consent_needed(x, front(p, x->iss))); /* nothing remembered */
    f.decision = "allow";
    assert_int_equal(oas_consent_decide(&got, x, &e, &f), APR_EINVAL); /* taken */
    assert_string_equal(e.error, OAS_AUTHZ_GONE);
}

static void test_h03_deny(void **state)
{
    on_each_store(*state, make_issuer(*state), case_h03_deny);
}

/* Refusals of a consent form: each leaves the transaction answerable. */
enum { CSRF, USER, NO_USER, CROSS, NULL_ORIGIN, NO_CSRF, NO_DECISION, DECISION, UNKNOWN };
static const struct {
    int what, status;
    const char *error, *tag;
} consent_rows[] = {
    {CSRF, 403, "access_denied", "OAS03004"},
    {USER, 403, "access_denied", "OAS03004"},
    {NO_USER, 403, "access_denied", "OAS03004"},
    {CROSS, 403, "access_denied", "OAS03003"},
    {NULL_ORIGIN, 403, "access_denied", "OAS03003"},
    {NO_CSRF, 403, "access_denied", NULL},
    {NO_DECISION, 403, "access_denied", NULL},
    {DECISION, 400, "invalid_request", NULL},
    {UNKNOWN, 400, OAS_AUTHZ_GONE, NULL},
};

static void case_h02_refusals(apr_pool_t *p, oas_ctx_t *x)
{
    oas_consent_txn_t t;
    oas_pending_t got;
    oas_consent_form_t f;
    oas_err_t e;
    int i;

    open_txn(p, x, 0, &t);
    for (i = 0; i < (int)(sizeof(consent_rows) / sizeof(consent_rows[0])); i++) {
        oas_ctx_t *y = again(p, x, 0, x->addr);
        f = consent_form(&t, "allow");
        switch (consent_rows[i].what) {
        case CSRF:
            f.csrf = apr_pstrcat(p, t.csrf, "x", NULL);
            break;
        case USER:
            y->user = "bob";
            break;
        case NO_USER:
            y->user = NULL;
            break;
        case CROSS:
            f.site = "cross-site";
            break;
        case NULL_ORIGIN:
            f.origin = "null";
            break;
        case NO_CSRF:
            f.csrf = NULL;
            break;
        case NO_DECISION:
            f.decision = NULL;
            break;
        case DECISION:
            f.decision = "maybe";
            break;
        case UNKNOWN:
            f.txn = "nosuch";
            break;
        }
        assert_int_equal(oas_consent_decide(&got, y, &e, &f), APR_EINVAL);
        assert_int_equal(e.status, consent_rows[i].status);
        assert_string_equal(e.error, consent_rows[i].error);
        assert_true(e.page);
        if (consent_rows[i].tag)
            assert_non_null(strstr(e.detail, consent_rows[i].tag));
        if (e.detail)
            assert_null(strstr(e.detail, t.csrf));
    }
    /* none of them used the transaction up */
    f = consent_form(&t, "allow");
    assert_int_equal(oas_consent_decide(&got, x, &e, &f), APR_SUCCESS);
}

static void test_h02_refusals(void **state)
{
    on_each_store(*state, make_issuer(*state), case_h02_refusals);
}

static void case_h02_expired_transaction(apr_pool_t *p, oas_ctx_t *x)
{
    oas_store_t *st = x->store[OAS_CTX_SHORT];
    oas_consent_txn_t t;
    oas_pending_t got;
    oas_consent_form_t f;
    char *rec;
    apr_size_t len;
    oas_err_t e;

    open_txn(p, x, 0, &t);
    /* the same record, past its lifetime */
    assert_int_equal(oas_store_take(st, p, OAS_NS_TXN, t.txn, &rec, &len), APR_SUCCESS);
    assert_int_equal(
        oas_store_put(st, p, OAS_NS_TXN, t.txn, rec, len, apr_time_now() - apr_time_from_sec(1)),
        APR_SUCCESS);
    f = consent_form(&t, "allow");
    assert_int_equal(oas_consent_decide(&got, x, &e, &f), APR_EINVAL);
    assert_int_equal(e.status, 400);
    assert_string_equal(e.error, OAS_AUTHZ_GONE);
    assert_non_null(strstr(e.description, "expired"));
}

static void test_h02_expired_transaction(void **state)
{
    on_each_store(*state, make_issuer(*state), case_h02_expired_transaction);
}

/* ---- store failures: 503 with Retry-After, never a 4xx or a crash ---- */

static void test_store_failures_503(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p);
    int absent;

    for (absent = 0; absent < 2; absent++) {
        oas_ctx_t *good = ctx(p, iss, ENGINE_SHM);
        oas_pending_t pd = pending(p, good, push(p, good));
        oas_ctx_t *x = broken_ctx(p, iss, absent, APR_EGENERAL);
        oas_consent_txn_t t = {"txn", "csrf"};
        oas_consent_form_t f = consent_form(&t, "allow");
        apr_table_t *params;
        const char *s;
        oas_err_t e;
        assert_int_not_equal(oas_par_push(&s, x, &e, client(iss, "rp"), form(p)), APR_SUCCESS);
        /* a failing store fails at the quota's counter first */
        assert_503(&e, absent ? "storing a pushed request" : "counting an authorization request");
        assert_int_not_equal(oas_par_load(&params, &s, x, &e, OAS_REQUEST_URI_PREFIX "x", "rp"),
                             APR_SUCCESS);
        assert_503(&e, "reading a request_uri");
        assert_int_not_equal(oas_code_issue(&s, x, &e, &pd), APR_SUCCESS);
        /* the code is stored before the pushed request is used up */
        assert_503(&e, absent ? "issuing a code" : "storing a code");
        pd.request_uri = NULL;
        assert_int_not_equal(oas_code_issue(&s, x, &e, &pd), APR_SUCCESS);
        assert_503(&e, absent ? "issuing a code" : "storing a code");
        assert_int_not_equal(oas_consent_txn_start(&t, x, &e, &pd), APR_SUCCESS);
        assert_503(&e, "starting a consent");
        assert_int_not_equal(oas_consent_decide(&pd, x, &e, &f), APR_SUCCESS);
        assert_503(&e, "reading a consent");
        /* a consent that cannot be remembered is logged, not refused */
        log_start();
        oas_consent_remember(x, client(iss, "rp"), "k", "openid");
        oas_log_set(NULL, NULL);
        assert_int_equal(log_count("OAS00143"), 1);
        assert_false(oas_consent_remembered(x, "k"));
    }
}

/* A full shm store: the push and the code answer 503 (store full, a warning). */
static void test_full_store_503(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p);
    oas_ctx_t *x = ctx(p, iss, ENGINE_SHM);
    oas_pending_t pd = pending(p, x, NULL);
    const char *token;
    oas_err_t e;
    int i;

    x->store[OAS_CTX_SHORT] = x->store[OAS_CTX_LONG] = engine_store(p, ENGINE_SHM, 8);
    for (i = 0; oas_par_push(&token, x, &e, client(iss, "rp"), form(p)) == APR_SUCCESS; i++)
        assert_true(i < 1000);
    /* live pushed requests fill the store: the push fails either counting it (its quota
     * counter finds no best-effort record to evict) or storing it, both a full store */
    assert_503(&e, "store full while");
    /* a warning, unless one was given this second (then debug: a flood logs a line a second) */
    assert_true(e.level == OAS_LOG_WARNING || e.level == OAS_LOG_DEBUG);
    assert_int_equal(e.rv, APR_ENOSPC);
    assert_int_not_equal(oas_code_issue(&token, x, &e, &pd), APR_SUCCESS);
    assert_503(&e, "store full while storing a code");
    /* within one second, the second "full" is at debug whatever the first was */
    {
        apr_int64_t t0;
        oas_err_t e1;
        do {
            t0 = apr_time_sec(apr_time_now());
            oas_err_store(&e1, p, APR_ENOSPC, "a");
            oas_err_store(&e, p, APR_ENOSPC, "b");
        } while (apr_time_sec(apr_time_now()) != t0);
        assert_int_equal(e.level, OAS_LOG_DEBUG);
    }
    /* a failing store (not a full one) is an error every time */
    oas_err_store(&e, p, APR_EGENERAL, "reading");
    assert_int_equal(e.level, OAS_LOG_ERR);
    oas_err_store(&e, p, APR_EGENERAL, "reading");
    assert_int_equal(e.level, OAS_LOG_ERR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_authfail_client),
        UNIT_TEST(test_c07_limit_window_and_address),
        UNIT_TEST(test_c07_parallel_guesses),
        UNIT_TEST(test_c07_without_store),
        UNIT_TEST(test_d07_quota),
        UNIT_TEST(test_d07_user_quota),
        UNIT_TEST(test_d07_address_quota),
        UNIT_TEST(test_d07_give_back),
        UNIT_TEST(test_addr_prefix),
        UNIT_TEST(test_quota_defaults),
        UNIT_TEST(test_request_limits),
        UNIT_TEST(test_full_store_keeps_request_uri),
        UNIT_TEST(test_par_push_and_load),
        UNIT_TEST(test_p04_bound_to_client),
        UNIT_TEST(test_p07_unknown_request_uris),
        UNIT_TEST(test_p06_expired),
        UNIT_TEST(test_par_push_refusals),
        UNIT_TEST(test_par_too_large_and_quota),
        UNIT_TEST(test_p05_code_uses_up_request_uri_once),
        UNIT_TEST(test_code_too_large_keeps_request_uri),
        UNIT_TEST(test_pending_refusals),
        UNIT_TEST(test_consent_remembered),
        UNIT_TEST(test_cross_site_matrix),
        UNIT_TEST(test_h02_allow_once),
        UNIT_TEST(test_h03_deny),
        UNIT_TEST(test_h02_refusals),
        UNIT_TEST(test_h02_expired_transaction),
        UNIT_TEST(test_store_failures_503),
        UNIT_TEST(test_full_store_503),
    };
    return unit_run("authz_engine", tests, sizeof(tests) / sizeof(tests[0]));
}
