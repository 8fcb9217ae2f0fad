/* Unit tests: the Device Authorization Grant in the core (oas_device.c, RFC 8628): user codes
 * (alphabet, no bias, normalisation), the state machine of a device request (pending, then
 * approved, denied or expired; redeemed once, by its client), slow_down arithmetic and the
 * guessing limit, each on the shm store and on the sqlite store. */
#include "unit.h"

#include "engine_stores.h"
#include "oas_device.h"
#include "oas_issue.h"
#include "oas_liveness.h"
#include "oas_mtls.h"
#include "token_fixture.h"

#define DEVICE_GT OAS_GRANT_TYPE_DEVICE

static void test_user_code_new(void **state)
{
    apr_pool_t *p = *state;
    unsigned counts[20] = {0};
    int i, j;

    for (i = 0; i < 2000; i++) {
        const char *c = oas_device_user_code_new(p);
        assert_non_null(c);
        assert_int_equal(strlen(c), 9);
        assert_int_equal(c[4], '-');
        for (j = 0; j < 9; j++) {
            const char *at;
            if (j == 4)
                continue;
            assert_non_null(at = strchr(OAS_USER_CODE_ALPHABET, c[j]));
            counts[at - OAS_USER_CODE_ALPHABET]++;
        }
        assert_string_equal(oas_device_user_code_norm(p, c),
                            apr_pstrcat(p, apr_pstrndup(p, c, 4), c + 5, NULL));
    }
    /* 16,000 symbols, 800 expected each: every symbol drawn, none far off */
    for (i = 0; i < 20; i++)
        assert_in_range(counts[i], 650, 950);
}

static void test_user_code_norm(void **state)
{
    apr_pool_t *p = *state;
    static const struct {
        const char *in, *out;
    } rows[] = {
        {"BCDF-GHJK", "BCDFGHJK"},
        {"bcdf-ghjk", "BCDFGHJK"},
        {"bcdfghjk", "BCDFGHJK"},
        {" BC DF - GH JK ", "BCDFGHJK"},
        {"B-C-D-F-G-H-J-K", "BCDFGHJK"},
        {"\tBCDF\tGHJK", "BCDFGHJK"},
        {"BCDF-GHJ", NULL},         /* too short */
        {"BCDF-GHJKL", NULL},       /* too long */
        {"BCDA-GHJK", NULL},        /* a vowel: not in the alphabet */
        {"BCD1-GHJK", NULL},        /* a digit */
        {"BCDF_GHJK", NULL},        /* another separator */
        {"BCDF-GHJ\xc3\x9f", NULL}, /* non-ASCII */
        {"", NULL},
        {"----", NULL},
    };
    char longer[200];
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *got = oas_device_user_code_norm(p, rows[i].in);
        if (rows[i].out)
            assert_string_equal(got, rows[i].out);
        else
            assert_null(got);
    }
    assert_null(oas_device_user_code_norm(p, NULL));
    /* separators beyond the input limit: not a user code, whatever it holds */
    memset(longer, ' ', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    memcpy(longer, "BCDFGHJK", 8);
    assert_null(oas_device_user_code_norm(p, longer));
}

/* ---- the engine ---- */

typedef struct {
    tok_env_t *env;
    oas_client_t *tv;  /* public device client */
    oas_client_t *tvc; /* confidential device client */
    oas_ctx_t *x;
} dev_env_t;

static void dev_init(dev_env_t *d, apr_pool_t *p, engine_store_e k)
{
    d->env = tok_env(p);
    d->tv = env_client(p, d->env, "tv", NULL, 1);
    d->tvc = env_client(p, d->env, "tvc", "s3", 0);
    d->tv->grant_types = d->tvc->grant_types = OAS_GRANT_DEVICE | OAS_GRANT_REFRESH;
    d->x = engine_ctx(p, d->env->iss, k, tok_now());
    d->x->user = "alice";
}

static apr_table_t *form1(apr_pool_t *p, const char *k, const char *v)
{
    apr_table_t *t = apr_table_make(p, 2);

    if (k)
        apr_table_set(t, k, v);
    return t;
}

static oas_device_auth_t start(dev_env_t *d, const oas_client_t *c, const char *scope)
{
    oas_device_auth_t a;
    oas_err_t e;

    assert_int_equal(oas_device_authorize(&a, &e, d->x, c, form1(d->x->p, "scope", scope)),
                     APR_SUCCESS);
    return a;
}

static apr_status_t poll(dev_env_t *d, const oas_client_t *c, const char *dc, const char **body,
                         oas_err_t *e)
{
    return oas_device_poll(body, e, d->x, c, dc);
}

/* A poll of c with dc refused with 400 error (detail: a piece of its log line, or NULL). */
static void refused(dev_env_t *d, const oas_client_t *c, const char *dc, const char *error,
                    const char *detail)
{
    const char *body;
    oas_err_t e;

    assert_int_equal(poll(d, c, dc, &body, &e), APR_EINVAL);
    assert_err(e, 400, error, detail);
}

/* The user typed a's code and decided (allow or deny). */
static void decided(dev_env_t *d, const oas_device_auth_t *a, int allow)
{
    oas_pending_t pd;
    oas_err_t e;

    assert_int_equal(oas_device_lookup(&pd, &e, d->x, a->user_code, d->x->now), APR_SUCCESS);
    assert_non_null(pd.device);
    assert_string_equal(pd.grant->sub, "alice");
    assert_int_equal(oas_device_decide(&e, d->x, &pd, allow), APR_SUCCESS);
    /* once */
    assert_int_equal(oas_device_decide(&e, d->x, &pd, !allow), APR_EINVAL);
    assert_err(e, 400, OAS_AUTHZ_GONE, NULL);
    assert_true(e.page);
}

static void test_authorize_on(dev_env_t *d, apr_pool_t *p)
{
    oas_device_auth_t a = start(d, d->tv, "openid api.read");
    oas_err_t e;

    assert_int_equal(a.expires_in, OAS_DEFAULT_DEVICE_TTL);
    assert_int_equal(a.interval, OAS_DEFAULT_DEVICE_INTERVAL);
    assert_true(strlen(a.device_code) >= 43);
    /* the codes are stored by digest only */
    {
        char *v;
        apr_size_t n;
        assert_int_equal(oas_store_get(d->x->store[0], p, OAS_NS_DEVICE,
                                       apr_pstrcat(p, "d", a.device_code, NULL), &v, &n),
                         APR_NOTFOUND);
    }
    assert_int_equal(oas_device_authorize(&a, &e, d->x, d->env->conf1, form1(p, "scope", "openid")),
                     APR_EINVAL);
    assert_err(e, 400, "unauthorized_client", "OAS07102");
    assert_int_equal(oas_device_authorize(&a, &e, d->x, d->tv, form1(p, "scope", "profile")),
                     APR_EINVAL);
    assert_err(e, 400, "invalid_scope", "OAS07103");
    assert_int_equal(oas_device_authorize(&a, &e, d->x, d->tv, form1(p, "resource", "urn:x")),
                     APR_EINVAL);
    assert_err(e, 400, "invalid_scope", NULL);
    assert_int_equal(oas_device_authorize(&a, &e, d->x, d->tv, form1(p, NULL, NULL)), APR_SUCCESS);
}
ENGINE_EACH_STORE(test_authorize, dev_env_t, dev_init)

static void test_pending_then_approved_on(dev_env_t *d, apr_pool_t *p)
{
    oas_device_auth_t a = start(d, d->tv, "openid offline_access api.read");
    const char *body;
    oas_err_t e;

    refused(d, d->tv, a.device_code, "authorization_pending", "OAS07115");
    decided(d, &a, 1);
    /* another client's poll: invalid_grant, and it spends nothing */
    refused(d, d->tvc, a.device_code, "invalid_grant", "issued to client tv");
    /* approved: the tokens, with no wait for the interval (the decision came) */
    assert_int_equal(poll(d, d->tv, a.device_code, &body, &e), APR_SUCCESS);
    assert_non_null(tok_member(p, body, "access_token"));
    assert_non_null(tok_member(p, body, "id_token"));
    assert_non_null(tok_member(p, body, "refresh_token"));
    assert_string_equal(tok_member(p, body, "scope"), "openid offline_access api.read");
    /* once */
    refused(d, d->tv, a.device_code, "invalid_grant", "OAS07117");
    /* the user code is spent too */
    {
        oas_pending_t pd;
        assert_int_equal(oas_device_lookup(&pd, &e, d->x, a.user_code, 0), APR_EINVAL);
        assert_err(e, 400, "invalid_request", "expired or used");
    }
}
ENGINE_EACH_STORE(test_pending_then_approved, dev_env_t, dev_init)

static void test_denied_on(dev_env_t *d, apr_pool_t *p)
{
    oas_device_auth_t a = start(d, d->tvc, "api.read");

    decided(d, &a, 0);
    refused(d, d->tvc, a.device_code, "access_denied", "OAS07120");
    refused(d, d->tvc, a.device_code, "access_denied", NULL);
}
ENGINE_EACH_STORE(test_denied, dev_env_t, dev_init)

static void test_expired_on(dev_env_t *d, apr_pool_t *p)
{
    oas_device_auth_t a = start(d, d->tv, "api.read"), b = start(d, d->tv, "api.read");
    oas_pending_t pd;
    oas_err_t e;

    decided(d, &b, 1);
    d->x->now += OAS_DEFAULT_DEVICE_TTL; /* the request's exp: expired */
    refused(d, d->tv, a.device_code, "expired_token", "OAS07119");
    /* approved too late is expired too */
    refused(d, d->tv, b.device_code, "expired_token", NULL);
    /* the user can no longer type it */
    assert_int_equal(oas_device_lookup(&pd, &e, d->x, a.user_code, 0), APR_EINVAL);
    assert_err(e, 400, "invalid_request", "expired or used");
    /* unknown codes */
    refused(d, d->tv, "nope", "invalid_grant", NULL);
    refused(d, d->tv, NULL, "invalid_request", NULL);
}
ENGINE_EACH_STORE(test_expired, dev_env_t, dev_init)

/* RFC 8628 §3.5: polls sooner than the interval after the previous one get slow_down, and the
 * interval grows by 5 s each time (the server's clock: the polls here come at once). */
static void test_slow_down_on(dev_env_t *d, apr_pool_t *p)
{
    oas_device_auth_t a = start(d, d->tv, "api.read");
    const char *body;
    oas_err_t e;

    /* the first poll may come at once */
    refused(d, d->tv, a.device_code, "authorization_pending", NULL);
    refused(d, d->tv, a.device_code, "slow_down", "interval now 10 s");
    refused(d, d->tv, a.device_code, "slow_down", "interval now 15 s");
    refused(d, d->tv, a.device_code, "slow_down", "interval now 20 s");
    /* another device request has its own pace */
    a = start(d, d->tv, "api.read");
    refused(d, d->tv, a.device_code, "authorization_pending", NULL);
    /* once decided, the answer comes at once */
    decided(d, &a, 1);
    assert_int_equal(poll(d, d->tv, a.device_code, &body, &e), APR_SUCCESS);
}
ENGINE_EACH_STORE(test_slow_down, dev_env_t, dev_init)

static void test_guessing_on(dev_env_t *d, apr_pool_t *p)
{
    oas_device_auth_t a = start(d, d->tv, "api.read");
    const char *wrong = strcmp(a.user_code, "BCDF-GHJK") ? "BCDF-GHJK" : "ZZZZ-ZZZZ";
    oas_pending_t pd;
    oas_err_t e;
    int i;

    for (i = 0; i < OAS_DEVICE_GUESS_LIMIT; i++) {
        assert_int_equal(oas_device_lookup(&pd, &e, d->x, i % 2 ? wrong : "not a code", 0),
                         APR_EINVAL);
        assert_err(e, 400, "invalid_request", "OAS07108");
    }
    /* at the limit: refused, the right code too */
    assert_int_equal(oas_device_lookup(&pd, &e, d->x, a.user_code, 0), APR_EINVAL);
    assert_err(e, 429, "temporarily_unavailable", "OAS07107");
    assert_true(e.retry_after > 0 && e.retry_after <= OAS_DEVICE_GUESS_WINDOW);
    /* another user from the same address: refused (per address) */
    d->x->user = "bob";
    assert_int_equal(oas_device_lookup(&pd, &e, d->x, a.user_code, 0), APR_EINVAL);
    assert_err(e, 429, "temporarily_unavailable", NULL);
    /* alice from elsewhere: refused (per user) */
    d->x->user = "alice";
    d->x->addr = "198.51.100.7";
    assert_int_equal(oas_device_lookup(&pd, &e, d->x, a.user_code, 0), APR_EINVAL);
    assert_err(e, 429, "temporarily_unavailable", NULL);
    /* bob from elsewhere: fine */
    d->x->user = "bob";
    assert_int_equal(oas_device_lookup(&pd, &e, d->x, a.user_code, 0), APR_SUCCESS);
    assert_string_equal(pd.grant->sub, "bob");
}
ENGINE_EACH_STORE(test_guessing, dev_env_t, dev_init)

static void test_form_token_on(dev_env_t *d, apr_pool_t *p)
{
    const char *t1, *t2;
    oas_err_t e;

    assert_int_equal(oas_device_form_token(&t1, &e, d->x), APR_SUCCESS);
    assert_int_equal(oas_device_form_token(&t2, &e, d->x), APR_SUCCESS);
    assert_string_equal(t1, t2); /* one per user */
    assert_int_equal(oas_device_form_check(&e, d->x, t1), APR_SUCCESS);
    assert_int_equal(oas_device_form_check(&e, d->x, "forged"), APR_EINVAL);
    assert_err(e, 403, "access_denied", "OAS07106");
    assert_int_equal(oas_device_form_check(&e, d->x, NULL), APR_EINVAL);
    d->x->user = "bob";
    assert_int_equal(oas_device_form_check(&e, d->x, t1), APR_EINVAL);
    assert_int_equal(oas_device_form_token(&t2, &e, d->x), APR_SUCCESS);
    assert_string_not_equal(t1, t2);
}
ENGINE_EACH_STORE(test_form_token, dev_env_t, dev_init)

/* RFC 8705 §3, §4 and RFC 9449 §5 as on the other grants: a client that binds its tokens gets
 * them bound to the connection's certificate, a DPoP proof binds them to its key, and a public
 * client's refresh family is bound to both. */
static void test_bound_on(dev_env_t *d, apr_pool_t *p)
{
    static const oas_cert_t cert = {.x5t = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"};
    oas_device_auth_t a;
    const char *body;
    oas_grant_t *g;
    json_t *claims;
    oas_err_t e;

    d->tv->cert_bound = 1;
    a = start(d, d->tv, "offline_access api.read");
    decided(d, &a, 1);
    d->x->cert = &cert;
    d->x->dpop_jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
    assert_int_equal(poll(d, d->tv, a.device_code, &body, &e), APR_SUCCESS);
    assert_string_equal(tok_member(p, body, "token_type"), "DPoP");
    assert_int_equal(oas_token_verify_access(&claims, p, d->x->iss,
                                             tok_member(p, body, "access_token"), d->x->now),
                     APR_SUCCESS);
    assert_string_equal(oas_mtls_token_x5t(claims), cert.x5t);
    assert_string_equal(json_string_value(json_object_get(json_object_get(claims, "cnf"), "jkt")),
                        d->x->dpop_jkt);
    assert_int_equal(oas_live_refresh(&g, d->x, tok_member(p, body, "refresh_token")), APR_SUCCESS);
    assert_string_equal(g->cert_x5t, cert.x5t);
    assert_string_equal(g->dpop_jkt, d->x->dpop_jkt);
}
ENGINE_EACH_STORE(test_bound, dev_env_t, dev_init)

/* A store that refuses: 503 with Retry-After, nothing half-written (the quota given back). */
static void test_store_failures_on(dev_env_t *d, apr_pool_t *p)
{
    oas_device_auth_t a = start(d, d->tv, "api.read");
    const char *body;
    oas_pending_t pd;
    oas_err_t e;

    d->env->iss->client_quota = 1; /* the request above holds the client's one */
    assert_int_equal(oas_device_authorize(&a, &e, d->x, d->tv, form1(p, NULL, NULL)), APR_EINVAL);
    assert_err(e, 429, "temporarily_unavailable", NULL);
    d->env->iss->client_quota = 3; /* the refusal above counted too: one place left */
    tok_fail(d->x, OAS_NS_DEVICE, APR_ENOSPC);
    assert_int_equal(oas_device_authorize(&a, &e, d->x, d->tv, form1(p, NULL, NULL)), APR_ENOSPC);
    assert_err(e, 503, "temporarily_unavailable", "recording a device request");
    assert_true(e.retry_after > 0);
    /* the refused request gave its place back: one more fits (on a store that works) */
    d->x->store[OAS_CTX_SHORT] = d->x->store[OAS_CTX_LONG] =
        ((tok_failing_t *)d->x->store[OAS_CTX_SHORT]->ctx)->below;
    a = start(d, d->tv, "api.read");
    d->x->store[OAS_CTX_SHORT] = NULL;
    assert_int_equal(poll(d, d->tv, a.device_code, &body, &e), APR_ENOTIMPL);
    assert_err(e, 503, "temporarily_unavailable", NULL);
    assert_int_equal(oas_device_lookup(&pd, &e, d->x, a.user_code, 0), APR_ENOTIMPL);
    assert_err(e, 503, "temporarily_unavailable", NULL);
}
ENGINE_EACH_STORE(test_store_failures, dev_env_t, dev_init)

/* The token endpoint's dispatch knows the grant type, and a client needs it. */
static void test_dispatch_on(dev_env_t *d, apr_pool_t *p)
{
    oas_device_auth_t a = start(d, d->tv, "api.read");
    const char *body;
    oas_err_t e;
    apr_table_t *f = form1(p, "grant_type", DEVICE_GT);

    apr_table_set(f, "device_code", a.device_code);
    assert_int_equal(oas_issue_request(&body, &e, d->x, d->tv, f), APR_EINVAL);
    assert_err(e, 400, "authorization_pending", NULL);
    assert_int_equal(oas_issue_request(&body, &e, d->x, d->env->conf1, f), APR_EINVAL);
    assert_err(e, 400, "unauthorized_client", NULL);
}
ENGINE_EACH_STORE(test_dispatch, dev_env_t, dev_init)

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_user_code_new), UNIT_TEST(test_user_code_norm),
        UNIT_TEST(test_authorize),     UNIT_TEST(test_pending_then_approved),
        UNIT_TEST(test_denied),        UNIT_TEST(test_expired),
        UNIT_TEST(test_slow_down),     UNIT_TEST(test_guessing),
        UNIT_TEST(test_form_token),    UNIT_TEST(test_dispatch),
        UNIT_TEST(test_bound),         UNIT_TEST(test_store_failures),
    };
    return UNIT_RUN(tests);
}
