/* Unit tests: the authorization server's session (oas_session.c), each case on the shm store
 * and on the sqlite store: records, the clients of a session, its end, prompt and max_age
 * against its auth_time, sign-in transactions, and refresh tokens of an ended session. */
#include "unit.h"

#include "engine_stores.h"
#include "oas_grant_code.h"
#include "oas_refresh.h"
#include "oas_session.h"
#include "token_fixture.h"

static oas_ctx_t *ctx(apr_pool_t *p, tok_env_t *env, int k, const char *user)
{
    oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());

    x->user = user;
    return x;
}

static oas_authz_req_t *req(apr_pool_t *p, const tok_env_t *env)
{
    oas_authz_req_t *q = apr_pcalloc(p, sizeof(*q));

    q->client = env->conf1;
    q->max_age = -1;
    return q;
}

/* Each case on each store: a context of alice's with a session begun 5 s ago. */
typedef struct {
    tok_env_t *env;
    oas_ctx_t *x;
    oas_session_t *s;
    const char *cookie;
    oas_err_t e;
} sess_env_t;

static void sess_init(sess_env_t *t, apr_pool_t *p, engine_store_e k)
{
    t->env = tok_env(p);
    t->x = ctx(p, t->env, k, "alice");
    assert_int_equal(oas_session_begin(&t->s, &t->cookie, t->x, t->x->now - 5, &t->e), APR_SUCCESS);
}

/* A record under a keyed digest of the cookie (never the cookie), the sid apart from it. */
static void test_begin_and_get_on(sess_env_t *t, apr_pool_t *p)
{
    oas_ctx_t *x = t->x;
    oas_session_t *s = t->s, *g;
    const char *cookie = t->cookie;
    char *v;
    apr_size_t n;

    assert_true(oas_session_cookie_valid(cookie));
    assert_true(strlen(s->sid) >= 22);
    assert_string_not_equal(s->sid, cookie);
    assert_int_equal(s->expires, x->now + OAS_DEFAULT_SESSION_TTL);
    assert_int_equal(oas_store_get(x->store[OAS_CTX_LONG], p, OAS_NS_SESSION, cookie, &v, &n),
                     APR_NOTFOUND);
    assert_int_equal(oas_session_get(&g, x, cookie), APR_SUCCESS);
    assert_non_null(g);
    assert_string_equal(g->sid, s->sid);
    assert_string_equal(g->user, "alice");
    assert_int_equal(g->auth_time, x->now - 5);
    assert_int_equal(g->rps->nelts, 0);
    /* no cookie, a malformed one, an unknown one */
    assert_int_equal(oas_session_get(&g, x, NULL), APR_SUCCESS);
    assert_null(g);
    assert_int_equal(oas_session_get(&g, x, "short"), APR_SUCCESS);
    assert_null(g);
    assert_int_equal(oas_session_get(&g, x, apr_pstrcat(p, "!", cookie + 1, NULL)), APR_SUCCESS);
    assert_null(g);
    assert_int_equal(oas_session_get(&g, x, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                     APR_SUCCESS);
    assert_null(g);
    /* another issuer sharing the store does not see it */
    {
        oas_issuer_t other = *t->env->iss;
        oas_ctx_t y = *x;
        other.issuer = "https://other.test";
        y.iss = &other;
        assert_int_equal(oas_session_get(&g, &y, cookie), APR_SUCCESS);
        assert_null(g);
    }
    /* expired */
    x->now += OAS_DEFAULT_SESSION_TTL;
    assert_int_equal(oas_session_get(&g, x, cookie), APR_SUCCESS);
    assert_null(g);
}
ENGINE_EACH_STORE(test_begin_and_get, sess_env_t, sess_init)

/* The clients of a session: each once (its latest sub), kept in the record. */
static void test_rps_on(sess_env_t *t, apr_pool_t *p)
{
    oas_ctx_t *x = t->x;
    oas_session_t *s = t->s, *g;
    const char *cookie = t->cookie;
    oas_err_t e;
    int i;

    assert_int_equal(oas_session_add_rp(x, s, "conf1", "alice", &e), APR_SUCCESS);
    assert_int_equal(oas_session_add_rp(x, s, "conf2", "alice", &e), APR_SUCCESS);
    assert_int_equal(oas_session_add_rp(x, s, "conf1", "alice", &e), APR_SUCCESS);
    assert_int_equal(oas_session_get(&g, x, cookie), APR_SUCCESS);
    assert_int_equal(g->rps->nelts, 2);
    assert_string_equal(APR_ARRAY_IDX(g->rps, 0, oas_session_rp_t).client_id, "conf1");
    assert_string_equal(APR_ARRAY_IDX(g->rps, 1, oas_session_rp_t).client_id, "conf2");
    assert_string_equal(APR_ARRAY_IDX(g->rps, 1, oas_session_rp_t).sub, "alice");
    /* a bounded list: the oldest gives way */
    tok_log_start();
    for (i = 0; i < 70; i++)
        assert_int_equal(oas_session_add_rp(x, g, apr_psprintf(p, "c%d", i), "alice", &e),
                         APR_SUCCESS);
    assert_non_null(strstr(tok_log, "OAS06926"));
    assert_int_equal(oas_session_get(&s, x, cookie), APR_SUCCESS);
    assert_int_equal(s->rps->nelts, 64);
    assert_string_equal(APR_ARRAY_IDX(s->rps, 63, oas_session_rp_t).client_id, "c69");
}
ENGINE_EACH_STORE(test_rps, sess_env_t, sess_init)

/* oas_session_end: gone at once; its sid is remembered as ended. */
static void test_end_on(sess_env_t *t, apr_pool_t *p)
{
    oas_ctx_t *x = t->x;
    oas_session_t *s = t->s, *g;

    assert_false(oas_session_ended(x, s->sid));
    assert_int_equal(oas_session_get(&g, x, t->cookie), APR_SUCCESS);
    assert_int_equal(oas_session_end(x, g, &t->e), APR_SUCCESS);
    assert_true(oas_session_ended(x, s->sid));
    assert_false(oas_session_ended(x, "other"));
    assert_false(oas_session_ended(x, NULL));
    assert_int_equal(oas_session_get(&g, x, t->cookie), APR_SUCCESS);
    assert_null(g);
    /* ending it again (a second logout of a stale page): the record is gone already */
    assert_int_equal(oas_session_end(x, s, &t->e), APR_SUCCESS);
}
ENGINE_EACH_STORE(test_end, sess_env_t, sess_init)

/* /authorize: the session of the request, the site's user, prompt and max_age. */
static void test_authorize(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    oas_authz_req_t *q = req(p, env);
    oas_session_t *s, *s2;
    const char *cookie, *c2;
    oas_err_t e;
    int k, reauth;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = ctx(p, env, k, "alice");
        q->prompt_none = q->prompt_login = 0;
        q->max_age = -1;
        /* prompt=none without a session */
        q->prompt_none = 1;
        assert_int_equal(oas_session_authorize(&s, &cookie, &reauth, x, &e, q, NULL, 0),
                         APR_EINVAL);
        assert_err(e, 400, "login_required",
                   "OAS06930: prompt=none of client conf1 for alice: "
                   "no live session");
        /* an interactive request begins one */
        q->prompt_none = 0;
        assert_int_equal(oas_session_authorize(&s, &cookie, &reauth, x, &e, q, NULL, 0),
                         APR_SUCCESS);
        assert_non_null(s);
        assert_non_null(cookie);
        assert_false(reauth);
        assert_int_equal(s->auth_time, x->now);
        /* stored with the code's client (oas_session_code) or before the consent page */
        assert_true(s->unsaved);
        assert_int_equal(oas_session_keep(x, &e, s), APR_SUCCESS);
        assert_false(s->unsaved);
        /* the same browser and user: the same session, its auth_time kept */
        x->now += 100;
        q->prompt_none = 1;
        assert_int_equal(oas_session_authorize(&s2, &c2, &reauth, x, &e, q, cookie, 0),
                         APR_SUCCESS);
        assert_null(c2);
        assert_string_equal(s2->sid, s->sid);
        assert_int_equal(s2->auth_time, x->now - 100);
        /* max_age: older than that wants a sign-in (prompt=none: login_required) */
        q->max_age = 50;
        assert_int_equal(oas_session_authorize(&s2, &c2, &reauth, x, &e, q, cookie, 0), APR_EINVAL);
        assert_err(e, 400, "login_required", "older than max_age");
        q->prompt_none = 0;
        assert_int_equal(oas_session_authorize(&s2, &c2, &reauth, x, &e, q, cookie, 0),
                         APR_SUCCESS);
        assert_true(reauth);
        assert_null(s2);
        q->max_age = 500;
        assert_int_equal(oas_session_authorize(&s2, &c2, &reauth, x, &e, q, cookie, 0),
                         APR_SUCCESS);
        assert_false(reauth);
        /* max_age=0 and prompt=login always want one */
        q->max_age = 0;
        assert_int_equal(oas_session_authorize(&s2, &c2, &reauth, x, &e, q, cookie, 0),
                         APR_SUCCESS);
        assert_true(reauth);
        q->max_age = -1;
        q->prompt_login = 1;
        assert_int_equal(oas_session_authorize(&s2, &c2, &reauth, x, &e, q, NULL, 0), APR_SUCCESS);
        assert_true(reauth);
        /* back from the sign-in: auth_time is now, the same session */
        assert_int_equal(oas_session_authorize(&s2, &c2, &reauth, x, &e, q, cookie, 1),
                         APR_SUCCESS);
        assert_false(reauth);
        assert_null(c2);
        assert_string_equal(s2->sid, s->sid);
        assert_int_equal(s2->auth_time, x->now);
        assert_int_equal(oas_session_get(&s2, x, cookie), APR_SUCCESS);
        assert_int_equal(s2->auth_time, x->now);
        q->prompt_login = 0;
        /* another user at the site: a new session, the old one untouched */
        x->user = "bob";
        tok_log_start();
        assert_int_equal(oas_session_authorize(&s2, &c2, &reauth, x, &e, q, cookie, 0),
                         APR_SUCCESS);
        assert_non_null(c2);
        assert_string_not_equal(s2->sid, s->sid);
        assert_string_equal(s2->user, "bob");
        assert_non_null(strstr(tok_log, "OAS06929"));
        assert_int_equal(oas_session_get(&s2, x, cookie), APR_SUCCESS);
        assert_string_equal(s2->user, "alice");
        /* ended: prompt=none is login_required again */
        x->user = "alice";
        assert_int_equal(oas_session_end(x, s2, &e), APR_SUCCESS);
        q->prompt_none = 1;
        assert_int_equal(oas_session_authorize(&s2, &c2, &reauth, x, &e, q, cookie, 0), APR_EINVAL);
        assert_err(e, 400, "login_required", "no live session");
    }
}

/* The grant carries the session's sid and auth_time; a code with openid lists its client. */
static void test_join_and_code_on(sess_env_t *t, apr_pool_t *p)
{
    oas_ctx_t *x = t->x;
    oas_session_t *s = t->s, *g;
    const char *cookie = t->cookie, *json;
    oas_grant_t *gr;
    oas_err_t e;

    gr = tok_grant(p, t->env, t->env->conf1, "api.read");
    oas_session_join(NULL, gr);
    assert_null(gr->sid);
    oas_session_join(s, gr);
    assert_string_equal(gr->sid, s->sid);
    assert_int_equal(gr->auth_time, x->now - 5);
    /* the sid travels in the code's record */
    assert_int_equal(oas_grant_to_json(&json, p, gr), APR_SUCCESS);
    assert_int_equal(oas_grant_from_json(&gr, p, json, strlen(json)), APR_SUCCESS);
    assert_string_equal(gr->sid, s->sid);
    /* no openid: no ID token, not a client of the session */
    assert_int_equal(oas_session_code(x, &e, s, cookie, gr), APR_SUCCESS);
    assert_int_equal(oas_session_get(&g, x, cookie), APR_SUCCESS);
    assert_int_equal(g->rps->nelts, 0);
    /* with openid, found by the cookie (the consent form came back) */
    gr->scope = "openid api.read";
    assert_int_equal(oas_session_code(x, &e, NULL, cookie, gr), APR_SUCCESS);
    assert_int_equal(oas_session_get(&g, x, cookie), APR_SUCCESS);
    assert_int_equal(g->rps->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(g->rps, 0, oas_session_rp_t).client_id, "conf1");
    /* another session behind the cookie, or none: nothing to list, the code still comes */
    gr->client_id = "conf2";
    gr->sid = "another";
    assert_int_equal(oas_session_code(x, &e, NULL, cookie, gr), APR_SUCCESS);
    assert_int_equal(oas_session_code(x, &e, NULL, NULL, gr), APR_SUCCESS);
    assert_int_equal(oas_session_get(&g, x, cookie), APR_SUCCESS);
    assert_int_equal(g->rps->nelts, 1);
}
ENGINE_EACH_STORE(test_join_and_code, sess_env_t, sess_init)

/* A sign-in transaction keeps the request's parameters, once. */
static void test_login_transaction(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    apr_table_t *in = apr_table_make(p, 4), *out;
    const char *txn;
    oas_err_t e;
    int k;

    apr_table_set(in, "client_id", "conf1");
    apr_table_set(in, "prompt", "login");
    apr_table_set(in, "state", "");
    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = ctx(p, env, k, "alice");
        assert_int_equal(oas_session_login_start(&txn, x, &e, in), APR_SUCCESS);
        assert_int_equal(oas_session_login_resume(&out, x, &e, txn), APR_SUCCESS);
        assert_string_equal(apr_table_get(out, "client_id"), "conf1");
        assert_string_equal(apr_table_get(out, "prompt"), "login");
        assert_string_equal(apr_table_get(out, "state"), "");
        assert_int_equal(apr_table_elts(out)->nelts, 3);
        assert_int_equal(oas_session_login_resume(&out, x, &e, txn), APR_NOTFOUND);
        assert_true(e.page);
        assert_int_equal(e.status, 400);
        assert_int_equal(oas_session_login_resume(&out, x, &e, "unknown"), APR_NOTFOUND);
    }
}

/* Back-Channel Logout 1.0 §2.7: a refresh token of an ended session stops unless it was
 * issued with offline_access. */
static void test_refresh_after_end_on(sess_env_t *t, apr_pool_t *p)
{
    tok_env_t *env = t->env;
    oas_ctx_t *x = t->x;
    oas_session_t *s = t->s;
    oas_grant_t *g;
    const char *rt, *rt2, *body;
    oas_err_t e;

    g = tok_grant(p, env, env->conf1, "openid email");
    oas_session_join(s, g);
    assert_int_equal(oas_refresh_new(&rt, x, env->conf1, g), APR_SUCCESS);
    g = tok_grant(p, env, env->conf1, "openid offline_access");
    oas_session_join(s, g);
    assert_int_equal(oas_refresh_new(&rt2, x, env->conf1, g), APR_SUCCESS);
    assert_int_equal(oas_refresh_grant(&body, &e, x, env->conf1, rt, NULL), APR_SUCCESS);
    assert_int_equal(oas_session_end(x, s, &e), APR_SUCCESS);
    assert_int_equal(oas_refresh_grant(&body, &e, x, env->conf1, rt, NULL), APR_EINVAL);
    assert_err(e, 400, "invalid_grant", "OAS06933");
    /* revoked for good */
    assert_int_equal(oas_refresh_lookup(&g, x, rt), APR_NOTFOUND);
    assert_int_equal(oas_refresh_grant(&body, &e, x, env->conf1, rt2, NULL), APR_SUCCESS);
    assert_non_null(tok_member(p, body, "id_token"));
}
ENGINE_EACH_STORE(test_refresh_after_end, sess_env_t, sess_init)

/* A record that is not one is refused. */
static void test_parse(void **state)
{
    apr_pool_t *p = *state;
    static const char *const bad[] = {
        "",
        "{}",
        "[]",
        "{\"sid\":\"s\",\"u\":\"a\",\"at\":1}",
        "{\"sid\":\"s\",\"u\":\"a\",\"at\":0,\"exp\":5}",
        "{\"sid\":\"s\",\"u\":\"a\",\"at\":1,\"exp\":5,\"rp\":{\"c\":1}}",
        "{\"sid\":1,\"u\":\"a\",\"at\":1,\"exp\":5}",
        NULL};
    const char *good = "{\"sid\":\"s\",\"u\":\"a\",\"at\":1,\"exp\":5,\"rp\":{\"c\":\"a\"}}";
    oas_session_t *s;
    int i;

    for (i = 0; bad[i]; i++)
        assert_int_equal(oas_session_parse(&s, p, bad[i], strlen(bad[i])), APR_EINVAL);
    assert_int_equal(oas_session_parse(&s, p, good, strlen(good)), APR_SUCCESS);
    assert_int_equal(s->rps->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(s->rps, 0, oas_session_rp_t).sub, "a");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_begin_and_get),
        UNIT_TEST(test_rps),
        UNIT_TEST(test_end),
        UNIT_TEST(test_authorize),
        UNIT_TEST(test_join_and_code),
        UNIT_TEST(test_login_transaction),
        UNIT_TEST(test_refresh_after_end),
        UNIT_TEST(test_parse),
    };
    return UNIT_RUN(tests);
}
