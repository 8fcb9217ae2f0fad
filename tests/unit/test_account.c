/* Unit tests: the user's page of allowed applications (oas_account.c), each case on the shm
 * store and on the sqlite store: what the user's record lists (only that user's), revoking one
 * application (its consents, refresh families and access tokens, and nothing of another), the
 * CSRF refusals, failures that issue nothing, the bounds, the page, and children racing to add
 * to one record. */
#include <apr_atomic.h>
#include <apr_thread_proc.h>

#include "unit.h"

#include "engine_stores.h"
#include "oas_account.h"
#include "oas_consent_txn.h"
#include "oas_grant_code.h"
#include "oas_liveness.h"
#include "oas_refresh.h"
#include "oas_startup.h"
#include "token_fixture.h"

#define ORIGIN "https://as.test"

/* tok_env with the account endpoint on, and the built-in page. */
static tok_env_t *acct_env(apr_pool_t *p)
{
    tok_env_t *env = tok_env(p);
    const char *err;

    env->iss->endpoints[OAS_EP_ACCOUNT] = "/account";
    assert_int_equal(oas_startup_prepare(&err, env->iss, p), APR_SUCCESS);
    return env;
}

/* A code exchange of client c for user, as tok_exchange (which is alice's). */
static const char *exchange_as(oas_ctx_t *x, const tok_env_t *env, const oas_client_t *c,
                               const char *user, const char *scope, const char **pat)
{
    oas_grant_t *g = tok_grant(x->p, env, c, scope);
    const char *body;
    oas_err_t e;

    g->sub = user;
    tok_put_code(x, "C1", g, 60);
    assert_int_equal(
        oas_grant_code_redeem(&body, &e, x, c, "C1", TOK_VERIFIER, "https://rp.test/cb"),
        APR_SUCCESS);
    if (pat)
        *pat = tok_member(x->p, body, "access_token");
    return tok_member(x->p, body, "refresh_token");
}

static apr_array_header_t *list_of(oas_ctx_t *x, const char *user)
{
    apr_array_header_t *apps;
    oas_err_t e;

    x->user = user;
    assert_int_equal(oas_account_list(&apps, &e, x), APR_SUCCESS);
    return apps;
}

static const oas_account_app_t *app_of(apr_array_header_t *apps, const char *client_id)
{
    int i;

    for (i = 0; i < apps->nelts; i++)
        if (!strcmp(APR_ARRAY_IDX(apps, i, oas_account_app_t).client_id, client_id))
            return &APR_ARRAY_IDX(apps, i, oas_account_app_t);
    return NULL;
}

static const char *csrf_of(oas_ctx_t *x, const char *user)
{
    const char *csrf;
    oas_err_t e;

    x->user = user;
    assert_int_equal(oas_account_csrf(&csrf, &e, x), APR_SUCCESS);
    return csrf;
}

static apr_status_t revoke_as(oas_err_t *e, oas_ctx_t *x, const char *user, const char *csrf,
                              const char *client_id)
{
    oas_account_form_t f = {client_id, csrf, ORIGIN, "same-origin", ORIGIN};

    x->user = user;
    return oas_account_revoke(e, x, &f);
}

static void remember(oas_ctx_t *x, const oas_client_t *c, const char *user, const char *scope)
{
    x->user = user;
    oas_consent_remember(x, c, oas_consent_key(x->p, user, c->id, scope, NULL), scope);
}

static int at_live(oas_ctx_t *x, const char *at)
{
    json_t *c;

    return oas_live_access(&c, NULL, NULL, x, at) == APR_SUCCESS;
}

static int rt_live(oas_ctx_t *x, const char *rt)
{
    oas_grant_t *g;

    return oas_live_refresh(&g, x, rt) == APR_SUCCESS;
}

/* The record lists every client the user gave something (a refresh family, an access token,
 * a consent), with the union of the scopes; another user's clients are not on it. */
static void test_lists_only_the_users_apps(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = acct_env(p);
    apr_array_header_t *apps;
    const oas_account_app_t *a;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        assert_int_equal(list_of(x, "alice")->nelts, 0);
        exchange_as(x, env, env->conf1, "alice", "openid offline_access", NULL);
        exchange_as(x, env, env->conf1, "alice", "email", NULL);
        exchange_as(x, env, env->pub1, "alice", "openid", NULL);
        exchange_as(x, env, env->conf2, "bob", "openid offline_access", NULL);
        remember(x, env->conf2, "carol", "api.read");

        apps = list_of(x, "alice");
        assert_int_equal(apps->nelts, 2);
        assert_non_null(a = app_of(apps, "conf1"));
        assert_string_equal(a->scope, "email offline_access openid");
        assert_int_equal(a->families, 1);
        assert_int_equal(a->tokens, 1);
        assert_true(a->first > 0 && a->last >= a->first);
        assert_non_null(a = app_of(apps, "pub1"));
        assert_int_equal(a->families, 0);
        assert_int_equal(a->tokens, 1);
        assert_null(app_of(apps, "conf2"));

        apps = list_of(x, "bob");
        assert_int_equal(apps->nelts, 1);
        assert_non_null(app_of(apps, "conf2"));
        apps = list_of(x, "carol");
        assert_int_equal(apps->nelts, 1);
        assert_non_null(a = app_of(apps, "conf2"));
        assert_int_equal(a->consents, 1);
        assert_string_equal(a->scope, "api.read");
    }
}

/* Revoking one application ends its remembered consent, its refresh families (and their access
 * tokens) and its access tokens outside a family, and nothing of another application or user. */
static void test_revoke_exactly_one(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = acct_env(p);
    const char *rt1, *at1, *at1b, *rt2, *at2, *atp, *rtb, *atb, *ck;
    apr_array_header_t *apps;
    oas_err_t e;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        remember(x, env->conf1, "alice", "openid offline_access");
        rt1 = exchange_as(x, env, env->conf1, "alice", "openid offline_access", &at1);
        exchange_as(x, env, env->conf1, "alice", "openid", &at1b); /* no family */
        rt2 = exchange_as(x, env, env->conf2, "alice", "openid offline_access", &at2);
        exchange_as(x, env, env->pub1, "alice", "openid", &atp);
        rtb = exchange_as(x, env, env->conf1, "bob", "openid offline_access", &atb);
        ck = oas_consent_key(p, "alice", "conf1", "openid offline_access", NULL);
        assert_true(oas_consent_remembered(x, ck));

        tok_log_start();
        assert_int_equal(revoke_as(&e, x, "alice", csrf_of(x, "alice"), "conf1"), APR_SUCCESS);
        assert_non_null(strstr(tok_log, "OAS07055: account page: user alice revoked client conf1 "
                                        "(1 remembered consents, 1 refresh families, 1 access "
                                        "tokens)"));
        assert_false(rt_live(x, rt1));
        assert_false(at_live(x, at1));
        assert_false(at_live(x, at1b));
        assert_false(oas_consent_remembered(x, ck));
        /* the others keep working */
        assert_true(rt_live(x, rt2));
        assert_true(at_live(x, at2));
        assert_true(at_live(x, atp));
        assert_true(rt_live(x, rtb));
        assert_true(at_live(x, atb));
        apps = list_of(x, "alice");
        assert_int_equal(apps->nelts, 2);
        assert_null(app_of(apps, "conf1"));
        assert_non_null(app_of(list_of(x, "bob"), "conf1"));

        /* twice (a double click): nothing left to do, no error */
        assert_int_equal(revoke_as(&e, x, "alice", csrf_of(x, "alice"), "conf1"), APR_SUCCESS);
        assert_non_null(strstr(tok_log, "OAS07057: account page: user alice revoked client conf1, "
                                        "which held nothing of theirs"));
        /* a client alice never allowed: nothing of bob's is touched */
        assert_int_equal(revoke_as(&e, x, "alice", csrf_of(x, "alice"), "nope"), APR_SUCCESS);
        assert_true(rt_live(x, rtb));
        /* the last ones: the record goes */
        assert_int_equal(revoke_as(&e, x, "alice", csrf_of(x, "alice"), "conf2"), APR_SUCCESS);
        assert_int_equal(revoke_as(&e, x, "alice", csrf_of(x, "alice"), "pub1"), APR_SUCCESS);
        assert_false(rt_live(x, rt2));
        assert_false(at_live(x, atp));
        assert_int_equal(list_of(x, "alice")->nelts, 0);
    }
}

/* An application whose grants all ended elsewhere (the client revoked its refresh token) is no
 * longer shown. */
static void test_dead_grants_hidden(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = acct_env(p);
    const char *rt;
    oas_err_t e;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        rt = exchange_as(x, env, env->conf1, "alice", "offline_access", NULL);
        assert_int_equal(list_of(x, "alice")->nelts, 1);
        assert_int_equal(oas_revoke_token(&e, x, env->conf1, rt), APR_SUCCESS);
        assert_int_equal(list_of(x, "alice")->nelts, 0);
    }
}

/* The form: posted from our own page only, with a token of this user's page. */
static void test_csrf(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = acct_env(p);
    const char *rt, *csrf;
    oas_account_form_t f;
    oas_err_t e;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        rt = exchange_as(x, env, env->conf1, "alice", "offline_access", NULL);
        csrf = csrf_of(x, "alice");
        /* one per user: reloads and tabs share it */
        assert_string_equal(csrf_of(x, "alice"), csrf);
        assert_string_not_equal(csrf_of(x, "bob"), csrf);
        x->user = "alice";

        f = (oas_account_form_t){"conf1", csrf, "https://evil.test", NULL, ORIGIN};
        assert_int_equal(oas_account_revoke(&e, x, &f), APR_EINVAL);
        assert_err(e, 403, "access_denied",
                   "OAS07054: account page: a revocation by user alice refused: posted from "
                   "another site (Origin https://evil.test");
        assert_true(e.page);
        f = (oas_account_form_t){"conf1", csrf, NULL, "cross-site", ORIGIN};
        assert_int_equal(oas_account_revoke(&e, x, &f), APR_EINVAL);
        assert_err(e, 403, "access_denied", "another site");

        assert_int_equal(revoke_as(&e, x, "alice", NULL, "conf1"), APR_EINVAL);
        assert_err(e, 403, "access_denied", "no CSRF token");
        assert_int_equal(revoke_as(&e, x, "alice", "", "conf1"), APR_EINVAL);
        assert_err(e, 403, "access_denied", "no CSRF token");
        assert_int_equal(revoke_as(&e, x, "alice", "forged", "conf1"), APR_EINVAL);
        assert_err(e, 403, "access_denied", "unknown or expired CSRF token");
        /* bob's page's token does not revoke alice's applications */
        assert_int_equal(revoke_as(&e, x, "alice", csrf_of(x, "bob"), "conf1"), APR_EINVAL);
        assert_err(e, 403, "access_denied", "another user's");
        assert_int_equal(revoke_as(&e, x, "alice", csrf, NULL), APR_EINVAL);
        assert_err(e, 400, "invalid_request", NULL);
        assert_true(rt_live(x, rt));

        /* the page's own POST (Origin "null" under no-referrer, Chromium's same-origin) */
        f = (oas_account_form_t){"conf1", csrf, "null", "same-origin", ORIGIN};
        x->user = "alice";
        assert_int_equal(oas_account_revoke(&e, x, &f), APR_SUCCESS);
        assert_false(rt_live(x, rt));
    }
}

/* A record that cannot be written issues nothing (and remembers no consent); a record held
 * locked (a child that died holding it) is waited for, then refused with a 503. */
static void test_failures_issue_nothing(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = acct_env(p);
    const char *body;
    oas_err_t e;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        oas_store_t *good = x->store[OAS_CTX_LONG];

        assert_int_equal(oas_store_put_new(good, p, OAS_NS_ACCOUNT_LOCK, "https://as.test\nalice",
                                           "", 0, apr_time_from_sec(x->now + 60)),
                         APR_SUCCESS);
        tok_put_code(x, "C1", tok_grant(p, env, env->conf1, "openid offline_access"), 60);
        tok_log_start();
        assert_int_equal(oas_grant_code_redeem(&body, &e, x, env->conf1, "C1", TOK_VERIFIER,
                                               "https://rp.test/cb"),
                         APR_TIMEUP);
        assert_int_equal(e.status, 503);
        assert_non_null(strstr(tok_log, "OAS07053"));
        assert_non_null(strstr(tok_log, "revoked a refresh token family: the user's account "
                                        "record cannot list it"));
        assert_int_equal(oas_store_del(good, p, OAS_NS_ACCOUNT_LOCK, "https://as.test\nalice"),
                         APR_SUCCESS);

        tok_fail(x, OAS_NS_ACCOUNT, APR_ENOSPC);
        tok_put_code(x, "C1", tok_grant(p, env, env->conf1, "openid"), 60);
        assert_int_equal(oas_grant_code_redeem(&body, &e, x, env->conf1, "C1", TOK_VERIFIER,
                                               "https://rp.test/cb"),
                         APR_ENOSPC);
        assert_int_equal(e.status, 503);
        remember(x, env->conf1, "alice", "openid");
        assert_false(
            oas_consent_remembered(x, oas_consent_key(p, "alice", "conf1", "openid", NULL)));
        x->store[OAS_CTX_SHORT] = x->store[OAS_CTX_LONG] = good;
        assert_int_equal(list_of(x, "alice")->nelts, 0);
    }
}

/* Off (no account endpoint): no record is kept, nothing changes in issuing. */
static void test_off_keeps_nothing(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    char *v;
    apr_size_t n;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        exchange_as(x, env, env->conf1, "alice", "openid offline_access", NULL);
        remember(x, env->conf1, "alice", "openid");
        assert_int_equal(oas_store_get(x->store[OAS_CTX_LONG], p, OAS_NS_ACCOUNT,
                                       "https://as.test\nalice", &v, &n),
                         APR_NOTFOUND);
        assert_int_equal(list_of(x, "alice")->nelts, 0);
    }
}

/* Beyond OAS_ACCOUNT_FAMILIES_MAX families of one client, the oldest is revoked: the record
 * never forgets a live grant. */
static void test_bound_revokes_oldest(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = acct_env(p);
    const char *rt[OAS_ACCOUNT_FAMILIES_MAX + 1];
    int k, i;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        for (i = 0; i <= OAS_ACCOUNT_FAMILIES_MAX; i++)
            rt[i] = exchange_as(x, env, env->conf1, "alice", "offline_access", NULL);
        assert_false(rt_live(x, rt[0]));
        for (i = 1; i <= OAS_ACCOUNT_FAMILIES_MAX; i++)
            assert_true(rt_live(x, rt[i]));
        assert_int_equal(app_of(list_of(x, "alice"), "conf1")->families, OAS_ACCOUNT_FAMILIES_MAX);
    }
}

/* The page: the user's applications with names (escaped), scopes described, the CSRF token in
 * each form; an empty page says so. */
static void test_render(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = acct_env(p);
    oas_ctx_t *x = engine_ctx(p, env->iss, ENGINE_SHM, tok_now());
    oas_account_view_t v = {"alice <x>", "/account", "CSRF1", 0, NULL};
    const char *html;

    v.apps = list_of(x, "alice");
    html = oas_account_render(x, env->iss->account_tmpl, &v);
    assert_non_null(strstr(html, "No application has access to your account."));
    assert_non_null(strstr(html, "alice &lt;x&gt;"));

    exchange_as(x, env, env->conf1, "alice", "openid email offline_access", NULL);
    v.apps = list_of(x, "alice");
    v.revoked = 1;
    html = oas_account_render(x, env->iss->account_tmpl, &v);
    assert_null(strstr(html, "No application has access"));
    assert_non_null(strstr(html, "Access revoked."));
    assert_non_null(strstr(html, "Notes &lt;b&gt;App&lt;/b&gt;"));
    assert_null(strstr(html, "<b>App"));
    assert_non_null(strstr(html, "<input type=\"hidden\" name=\"csrf\" value=\"CSRF1\">"));
    assert_non_null(strstr(html, "<input type=\"hidden\" name=\"client_id\" value=\"conf1\">"));
    assert_non_null(strstr(html, "See your email address"));
    assert_non_null(strstr(html, "Can use your account while you are away."));
    assert_non_null(strstr(html, "action=\"/account\""));
}

/* ---- children racing to add to one record ---- */

#define RACERS 4
#define EACH 6

typedef struct {
    oas_ctx_t *x;
    int n;
    volatile apr_uint32_t *go;
    apr_status_t rv;
} racer_t;

static void *APR_THREAD_FUNC racer(apr_thread_t *t, void *data)
{
    racer_t *r = data;
    int i;

    while (!apr_atomic_read32(r->go))
        ;
    for (i = 0; i < EACH && r->rv == APR_SUCCESS; i++)
        r->rv = oas_account_note(r->x, "alice", apr_psprintf(r->x->p, "c%d-%d", r->n, i), "openid",
                                 OAS_ACCOUNT_TOKEN, apr_psprintf(r->x->p, "jti%d-%d", r->n, i),
                                 r->x->now + 60);
    return NULL;
}

static void race(apr_pool_t *p, const oas_issuer_t *iss, oas_store_t **stores)
{
    volatile apr_uint32_t go = 0;
    apr_thread_t *th[RACERS];
    racer_t rc[RACERS];
    oas_ctx_t *x;
    int i;

    for (i = 0; i < RACERS; i++) {
        apr_pool_t *tp;
        apr_pool_create(&tp, p);
        rc[i].x = apr_palloc(tp, sizeof(oas_ctx_t));
        oas_ctx_init(rc[i].x, tp, iss, tok_now());
        rc[i].x->store[OAS_CTX_SHORT] = rc[i].x->store[OAS_CTX_LONG] = stores[i];
        rc[i].x->opened[OAS_CTX_SHORT] = rc[i].x->opened[OAS_CTX_LONG] = 1;
        rc[i].n = i;
        rc[i].go = &go;
        rc[i].rv = APR_SUCCESS;
        assert_int_equal(apr_thread_create(&th[i], NULL, racer, &rc[i], p), APR_SUCCESS);
    }
    apr_atomic_set32(&go, 1);
    for (i = 0; i < RACERS; i++) {
        apr_status_t trv;
        assert_int_equal(apr_thread_join(&trv, th[i]), APR_SUCCESS);
        assert_int_equal(rc[i].rv, APR_SUCCESS);
    }
    /* every note landed: none was written over by another child's */
    x = rc[0].x;
    x->user = "alice";
    assert_int_equal(list_of(x, "alice")->nelts, RACERS * EACH);
}

static void test_race_shm(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = acct_env(p);
    apr_size_t sz = oas_shm_store_size_needed(256);
    void *base = apr_palloc(p, sz);
    oas_store_t *stores[RACERS];
    int i;

    assert_int_equal(oas_shm_store_format(base, sz, 256), APR_SUCCESS);
    for (i = 0; i < RACERS; i++)
        assert_int_equal(oas_shm_store_attach_own_lock(&stores[i], p, base, sz), APR_SUCCESS);
    race(p, env->iss, stores);
}

static void test_race_sqlite(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = acct_env(p);
    const char *path = engine_sqlite_file(p);
    oas_store_t *stores[RACERS];
    int i;

    for (i = 0; i < RACERS; i++)
        stores[i] = engine_dbd_store(p, path);
    race(p, env->iss, stores);
    engine_sqlite_remove(p, path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_lists_only_the_users_apps),
        UNIT_TEST(test_revoke_exactly_one),
        UNIT_TEST(test_dead_grants_hidden),
        UNIT_TEST(test_csrf),
        UNIT_TEST(test_failures_issue_nothing),
        UNIT_TEST(test_off_keeps_nothing),
        UNIT_TEST(test_bound_revokes_oldest),
        UNIT_TEST(test_render),
        UNIT_TEST(test_race_shm),
        UNIT_TEST(test_race_sqlite),
    };
    return UNIT_RUN(tests);
}
