/* Unit tests: refresh tokens in the core (oas_refresh.c), each case on the shm store and on
 * the sqlite store: the catalogue's R rows (rotation, reuse detection, the retry grace,
 * scopes, revoked families) without an httpd. */
#include "unit.h"

#include "engine_stores.h"
#include "oas_grant_code.h"
#include "oas_jose.h"
#include "oas_liveness.h"
#include "oas_refresh.h"
#include "token_fixture.h"

static const char *family_of(oas_ctx_t *x, const char *rt)
{
    oas_grant_t *g;

    assert_int_equal(oas_live_refresh(&g, x, rt), APR_SUCCESS);
    return g->family;
}

/* R01: a confidential client without rotation keeps its refresh token; the new ID token has
 * no nonce (OIDC Core §12.2); no ID token without openid. */
static void test_r01_refresh(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body, *rt, *idt, *pl, *hdr;
    oas_err_t e;
    int k, i;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        rt = tok_exchange(x, env, env->conf1, "openid email offline_access", NULL);
        for (i = 0; i < 2; i++) {
            assert_int_equal(oas_refresh_grant(&body, &e, x, env->conf1, rt, NULL), APR_SUCCESS);
            assert_non_null(tok_member(p, body, "access_token"));
            assert_null(tok_member(p, body, "refresh_token"));
            assert_non_null(idt = tok_member(p, body, "id_token"));
            assert_int_equal(oas_jws_verify(&pl, &hdr, p, idt, env->iss->keys), APR_SUCCESS);
            assert_null(strstr(pl, "nonce"));
        }
        x = engine_ctx(p, env->iss, k, tok_now());
        rt = tok_exchange(x, env, env->conf1, "email offline_access", NULL);
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->conf1, rt, NULL), APR_SUCCESS);
        assert_null(tok_member(p, body, "id_token"));
    }
}

/* R02: a refresh token is bound to its client and its issuer. */
static void test_r02_binding(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body, *rt, *json;
    oas_grant_t *g;
    oas_err_t e;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        rt = tok_exchange(x, env, env->pub1, "openid offline_access", NULL);
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->conf1, rt, NULL), APR_EINVAL);
        assert_err(e, 400, "invalid_grant",
                   "OAS02014: refresh token of client pub1 (issuer "
                   "https://as.test) presented by client conf1");
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->pub1, rt, NULL), APR_SUCCESS);
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->conf1, NULL, NULL), APR_EINVAL);
        assert_err(e, 400, "invalid_request", NULL);

        /* a record of another issuer (a shared database store) */
        g = tok_grant(p, env, env->conf1, "openid");
        g->iss = "https://other.test";
        g->family = "F";
        assert_int_equal(oas_grant_to_json(&json, p, g), APR_SUCCESS);
        assert_int_equal(oas_store_put(x->store[1], p, OAS_NS_REFRESH, "RT-OTHER", json,
                                       strlen(json), apr_time_from_sec(x->now + 60)),
                         APR_SUCCESS);
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->conf1, "RT-OTHER", NULL), APR_EINVAL);
        assert_err(e, 400, "invalid_grant", "(issuer https://other.test)");
    }
}

/* R03: a narrower scope may be asked for, a wider one never; none means the granted one. */
static void test_r03_scope(void **state)
{
    static const struct {
        const char *scope;
        const char *error; /* NULL: 200 */
        const char *granted;
    } rows[] = {
        {"email", NULL, "email"},
        {"email  openid", NULL, "email openid"},
        {NULL, NULL, "openid email offline_access"},
        {"openid api.read", "invalid_scope", NULL},
    };
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body, *rt;
    oas_err_t e;
    size_t i;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        rt = tok_exchange(x, env, env->conf1, "openid email offline_access", NULL);
        for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            apr_status_t rv = oas_refresh_grant(&body, &e, x, env->conf1, rt, rows[i].scope);
            if (rows[i].error) {
                assert_int_equal(rv, APR_EINVAL);
                assert_err(e, 400, rows[i].error, "OAS02016");
                continue;
            }
            assert_int_equal(rv, APR_SUCCESS);
            assert_string_equal(tok_member(p, body, "scope"), rows[i].granted);
        }
    }
}

/* R04: a public client rotates; a rotated-out token presented again revokes its family,
 * with every token of it and every access token issued with them. */
static void test_r04_rotation_and_reuse(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body, *rt1, *rt2, *rt3, *at3, *fam;
    oas_grant_t *g;
    json_t *claims;
    oas_err_t e;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        rt1 = tok_exchange(x, env, env->pub1, "openid offline_access", NULL);
        fam = family_of(x, rt1);
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->pub1, rt1, NULL), APR_SUCCESS);
        rt2 = tok_member(p, body, "refresh_token");
        assert_string_not_equal(rt1, rt2);
        assert_string_equal(family_of(x, rt2), fam);
        assert_int_equal(oas_live_refresh(&g, x, rt1), APR_EINVAL); /* rotated out */
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->pub1, rt2, NULL), APR_SUCCESS);
        rt3 = tok_member(p, body, "refresh_token");
        at3 = tok_member(p, body, "access_token");
        assert_int_equal(oas_live_access(&claims, NULL, NULL, x, at3), APR_SUCCESS);

        tok_log_start();
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->pub1, rt1, NULL), APR_EINVAL);
        oas_log_set(NULL, NULL);
        assert_err(e, 400, "invalid_grant",
                   "OAS02010: refresh token of client pub1 refused: "
                   "rotated out and used again");
        assert_non_null(strstr(tok_log, "OAS00134: revoked a refresh token family: a "
                                        "rotated-out refresh token was used again"));
        assert_int_equal(oas_live_refresh(&g, x, rt3), APR_EINVAL);
        assert_int_equal(oas_live_access(&claims, NULL, NULL, x, at3), APR_EINVAL);
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->pub1, rt3, NULL), APR_EINVAL);
        assert_err(e, 400, "invalid_grant", "OAS02015");
    }
}

/* Another request runs on x's store just before this request's first take (read the family,
 * then take the generation's ticket: the race two simultaneous refreshes run) or first put_new
 * (the rotation holds the ticket, the next generation is not written yet) in OAS_NS_REFRESH:
 * a refresh of rt by client c (its answer in body), or when family is set its revocation. */
static struct {
    oas_ctx_t *x;
    const oas_client_t *c;
    const char *rt, *family, *body;
    apr_status_t rv;
    int at_put_new;
} race;

static void race_run(tok_failing_t *f, int ns, int put_new)
{
    oas_ctx_t other;
    oas_err_t e;

    if (ns != OAS_NS_REFRESH || !race.x || put_new != race.at_put_new)
        return;
    other = *race.x;
    race.x = NULL;
    other.store[OAS_CTX_SHORT] = other.store[OAS_CTX_LONG] = f->below;
    if (race.family)
        oas_refresh_revoke_family(&other, race.family, "a test");
    else
        race.rv = oas_refresh_grant(&race.body, &e, &other, race.c, race.rt, NULL);
}

static apr_status_t racing_take(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                                apr_size_t klen, char **pval, apr_size_t *plen)
{
    race_run(st->ctx, ns, 0);
    return failing_take(st, p, ns, key, klen, pval, plen);
}

static apr_status_t racing_put_new(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                                   apr_size_t klen, const void *val, apr_size_t vlen,
                                   apr_time_t expires)
{
    race_run(st->ctx, ns, 1);
    return failing_put_new(st, p, ns, key, klen, val, vlen, expires);
}

/* A context on x's store where that race happens. */
static oas_ctx_t *racing(oas_ctx_t *x, const oas_client_t *c, const char *rt, const char *family,
                         int at_put_new)
{
    oas_ctx_t *raced = apr_pmemdup(x->p, x, sizeof(*x));

    race.x = x;
    race.c = c;
    race.rt = rt;
    race.family = family;
    race.at_put_new = at_put_new;
    tok_fail(raced, -1, APR_SUCCESS); /* fails on no namespace: forwards everything */
    raced->store[OAS_CTX_LONG]->take = racing_take;
    raced->store[OAS_CTX_LONG]->put_new = racing_put_new;
    return raced;
}

/* Two requests rotate the same token at once: exactly one takes the generation. For a public
 * client the other is a second use: the family is revoked; a confidential client within the
 * grace reads the family again and its request is a retry of the winner's. */
static void test_r04_concurrent_rotation(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body, *rt, *fam;
    oas_grant_t *g;
    oas_ctx_t *x;
    oas_err_t e;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        x = engine_ctx(p, env->iss, k, tok_now());
        rt = tok_exchange(x, env, env->pub1, "openid offline_access", NULL);
        assert_int_equal(
            oas_refresh_grant(&body, &e, racing(x, env->pub1, rt, NULL, 0), env->pub1, rt, NULL),
            APR_EINVAL);
        assert_int_equal(race.rv, APR_SUCCESS); /* the other request won */
        assert_err(e, 400, "invalid_grant", "OAS02013");
        assert_string_equal(e.description, "the refresh token was already used");
        /* the family is gone, with the winner's token */
        assert_int_equal(oas_live_refresh(&g, x, tok_member(p, race.body, "refresh_token")),
                         APR_EINVAL);

        rt = tok_exchange(x, env, env->conf2, "openid offline_access", NULL);
        fam = family_of(x, rt);
        assert_int_equal(
            oas_refresh_grant(&body, &e, racing(x, env->conf2, rt, NULL, 0), env->conf2, rt, NULL),
            APR_SUCCESS);
        assert_int_equal(race.rv, APR_SUCCESS);
        assert_string_equal(family_of(x, tok_member(p, body, "refresh_token")), fam);
        assert_string_equal(family_of(x, tok_member(p, race.body, "refresh_token")), fam);
    }
}

/* A revocation racing with a rotation wins, whether it takes the generation first or the
 * rotation already holds it (the revocation then bars the next generation): the rotation is
 * refused and never writes the family back. */
static void test_revocation_racing_rotation(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body, *rt, *fam;
    oas_grant_t *g;
    char *v;
    apr_size_t n;
    oas_err_t e;
    int k, at_put_new;

    for (k = 0; k < ENGINE_STORES; k++) {
        for (at_put_new = 0; at_put_new < 2; at_put_new++) {
            oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
            rt = tok_exchange(x, env, env->conf2, "openid offline_access", NULL);
            assert_int_equal(oas_refresh_grant(&body, &e, x, env->conf2, rt, NULL), APR_SUCCESS);
            rt = tok_member(p, body, "refresh_token");
            fam = family_of(x, rt);
            assert_int_equal(oas_refresh_grant(&body, &e,
                                               racing(x, env->conf2, rt, fam, at_put_new),
                                               env->conf2, rt, NULL),
                             APR_EINVAL);
            assert_null(race.x); /* the revocation ran */
            assert_err(e, 400, "invalid_grant", "OAS02015");
            assert_int_equal(oas_store_get(x->store[1], p, OAS_NS_FAMILY, fam, &v, &n),
                             APR_NOTFOUND);
            assert_int_equal(oas_live_refresh(&g, x, rt), APR_EINVAL);
        }
    }
}

/* R05: a rotated-out token comes back after `elapsed` seconds: a confidential client's retry
 * within OAuthASRefreshTokenGrace gets new tokens of the same family; late, with the grace
 * off, or from a public client it is reuse: the family is revoked. */
static void test_r05_retry_grace(void **state)
{
    static const struct {
        int pub, grace, elapsed, ok;
    } rows[] = {
        {0, 30, 0, 1}, {0, 30, 30, 1}, {0, 30, 31, 0}, {0, 0, 0, 0}, {1, 30, 0, 0},
    };
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body, *rt1, *rt2, *fam;
    oas_grant_t *g;
    oas_err_t e;
    size_t i;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now()), later;
            const oas_client_t *c = rows[i].pub ? env->pub1 : env->conf2;
            env->iss->rt_grace = rows[i].grace;
            rt1 = tok_exchange(x, env, c, "openid offline_access", NULL);
            assert_int_equal(oas_refresh_grant(&body, &e, x, c, rt1, NULL), APR_SUCCESS);
            rt2 = tok_member(p, body, "refresh_token");
            fam = family_of(x, rt2);
            later = *x;
            later.now += rows[i].elapsed;
            if (rows[i].ok) {
                assert_int_equal(oas_refresh_grant(&body, &e, &later, c, rt1, NULL), APR_SUCCESS);
                assert_string_equal(family_of(x, tok_member(p, body, "refresh_token")), fam);
                /* the family branches: the token of the lost answer may still arrive */
                assert_int_equal(oas_live_refresh(&g, x, rt2), APR_SUCCESS);
            }
            else {
                assert_int_equal(oas_refresh_grant(&body, &e, &later, c, rt1, NULL), APR_EINVAL);
                assert_err(e, 400, "invalid_grant", "rotated out and used again");
                assert_int_equal(oas_live_refresh(&g, x, rt2), APR_EINVAL);
            }
        }
    }
}

/* A rotated-out token of another client: refused, and nothing of that client revoked. */
static void test_rotated_out_of_another_client(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body, *rt1, *rt2;
    oas_grant_t *g;
    oas_err_t e;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        rt1 = tok_exchange(x, env, env->pub1, "openid offline_access", NULL);
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->pub1, rt1, NULL), APR_SUCCESS);
        rt2 = tok_member(p, body, "refresh_token");
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->conf2, rt1, NULL), APR_EINVAL);
        assert_err(e, 400, "invalid_grant",
                   "OAS02011: rotated-out refresh token of client pub1 presented by client conf2");
        assert_int_equal(oas_live_refresh(&g, x, rt2), APR_SUCCESS);
    }
}

/* R06: a revoked family, an expired and an unknown token. */
static void test_r06_revoked_and_expired(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    oas_client_t short_lived = *env->conf1;
    const char *body, *rt;
    oas_err_t e;
    int k;

    short_lived.rt_ttl = 0; /* the family ends as it starts */
    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        rt = tok_exchange(x, env, env->conf1, "openid offline_access", NULL);
        oas_refresh_revoke_family(x, family_of(x, rt), "a test");
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->conf1, rt, NULL), APR_EINVAL);
        assert_err(e, 400, "invalid_grant",
                   "OAS02015: refresh token of client conf1: its "
                   "family was revoked or has expired");
        assert_string_equal(e.description, "the refresh token was revoked or has expired");

        x->now -= 1;
        rt = tok_exchange(x, env, &short_lived, "openid offline_access", NULL);
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->conf1, rt, NULL), APR_EINVAL);
        assert_err(e, 400, "invalid_grant", "OAS02015");
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->conf1, "garbage", NULL), APR_EINVAL);
        assert_err(e, 400, "invalid_grant", "refused: unknown or expired");
    }
}

/* A full or failing store answers 503 with Retry-After at each step of a rotation. */
static void test_store_failures(void **state)
{
    static const struct {
        int ns;
        apr_status_t rv;
        const char *detail;
    } rows[] = {
        {OAS_NS_REFRESH, APR_ENOSPC, "store full while rotating a refresh token"},
        {OAS_NS_FAMILY, APR_EGENERAL, "store failure while rotating a refresh token"},
    };
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body, *rt;
    oas_err_t e;
    size_t i;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
            rt = tok_exchange(x, env, env->pub1, "openid offline_access", NULL);
            oas_ctx_t failing = *x;
            tok_fail(&failing, rows[i].ns, rows[i].rv);
            assert_int_equal(oas_refresh_grant(&body, &e, &failing, env->pub1, rt, NULL),
                             rows[i].rv);
            assert_err(e, 503, "temporarily_unavailable", rows[i].detail);
            /* a full store frees itself as short-lived records expire; a failing one may
             * come back at any moment */
            assert_int_equal(e.retry_after, rows[i].rv == APR_ENOSPC
                                                ? oas_iss_short_lived(env->iss)
                                                : 5);
            /* nothing was rotated: the token still works once the store does */
            assert_int_equal(oas_refresh_grant(&body, &e, x, env->pub1, rt, NULL), APR_SUCCESS);
        }
        {
            oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
            rt = tok_exchange(x, env, env->pub1, "openid offline_access", NULL);
            x->store[OAS_CTX_LONG] = NULL;
            assert_int_equal(oas_refresh_grant(&body, &e, x, env->pub1, rt, NULL), APR_ENOTIMPL);
            assert_err(e, 503, "temporarily_unavailable", "reading a refresh token");
        }
    }
}

/* The live entries a refresh family may leave (families, rotation tickets, the previous
 * build's records and reuse markers) written or removed through a store of counting(). */
static apr_hash_t *counted_live;

static apr_status_t counted(apr_status_t rv, int ns, const char *key, apr_size_t klen, int add)
{
    if (rv == APR_SUCCESS &&
        (ns == OAS_NS_FAMILY || ns == OAS_NS_REFRESH || ns == OAS_NS_REFRESH_USED))
        apr_hash_set(counted_live,
                     apr_psprintf(apr_hash_pool_get(counted_live), "%c%.*s", ns, (int)klen, key),
                     APR_HASH_KEY_STRING, add ? "" : NULL);
    return rv;
}

static apr_status_t counting_put(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                                 apr_size_t klen, const void *val, apr_size_t vlen,
                                 apr_time_t expires)
{
    return counted(failing_put(st, p, ns, key, klen, val, vlen, expires), ns, key, klen, 1);
}

static apr_status_t counting_put_new(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                                     apr_size_t klen, const void *val, apr_size_t vlen,
                                     apr_time_t expires)
{
    return counted(failing_put_new(st, p, ns, key, klen, val, vlen, expires), ns, key, klen, 1);
}

static apr_status_t counting_take(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                                  apr_size_t klen, char **pval, apr_size_t *plen)
{
    return counted(failing_take(st, p, ns, key, klen, pval, plen), ns, key, klen, 0);
}

static apr_status_t counting_del(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                                 apr_size_t klen)
{
    return counted(failing_del(st, p, ns, key, klen), ns, key, klen, 0);
}

/* x's stores, counted from now on. */
static void counting(oas_ctx_t *x)
{
    tok_fail(x, -1, APR_SUCCESS); /* fails on no namespace: forwards everything */
    x->store[OAS_CTX_LONG]->put = counting_put;
    x->store[OAS_CTX_LONG]->put_new = counting_put_new;
    x->store[OAS_CTX_LONG]->take = counting_take;
    x->store[OAS_CTX_LONG]->del = counting_del;
    counted_live = apr_hash_make(x->p);
}

/* Issue 14: a family costs one record (and its empty rotation ticket) however often it
 * rotates, retries included; revoking it frees both. */
static void test_one_record_per_family(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const oas_client_t *clients[] = {env->pub1, env->conf2, env->conf1};
    const char *body, *rt, *prev;
    oas_err_t e;
    size_t j;
    int k, i;

    for (k = 0; k < ENGINE_STORES; k++) {
        for (j = 0; j < sizeof(clients) / sizeof(clients[0]); j++) {
            oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
            counting(x);
            prev = rt = tok_exchange(x, env, clients[j], "openid offline_access", NULL);
            assert_int_equal(apr_hash_count(counted_live), 2);
            for (i = 0; i < 200; i++) {
                /* conf2 retries every other time, as if it had lost the answer */
                const char *use = clients[j] == env->conf2 && i % 2 ? prev : rt;
                assert_int_equal(oas_refresh_grant(&body, &e, x, clients[j], use, NULL),
                                 APR_SUCCESS);
                if (clients[j]->rt_rotation) {
                    prev = use;
                    rt = tok_member(p, body, "refresh_token");
                }
                assert_int_equal(apr_hash_count(counted_live), 2);
            }
            assert_int_equal(oas_revoke_token(&e, x, clients[j], rt), APR_SUCCESS);
            assert_int_equal(apr_hash_count(counted_live), 0);
        }
    }
}

/* A token of the previous build (a bare secret with a record of its own, the family "1")
 * keeps working: without rotation as it is, with rotation once, moving its family to the new
 * form; after that it is the family's previous token (a retry within the grace, else reuse). A
 * reuse marker of that build still revokes. */
static void test_previous_build_tokens(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const oas_client_t *clients[] = {env->conf1, env->pub1, env->conf2};
    const char *body, *json, *rt, *at;
    char *json_buf;
    apr_size_t json_len;
    oas_grant_t *g;
    json_t *claims;
    oas_err_t e;
    size_t j;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        for (j = 0; j < sizeof(clients) / sizeof(clients[0]); j++) {
            const oas_client_t *c = clients[j];
            oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
            apr_time_t exp = apr_time_from_sec(x->now + 3600);
            g = tok_grant(p, env, c, "openid offline_access");
            g->family = "LEGACYFAMILY0123456789";
            g->family_exp = x->now + 3600;
            assert_int_equal(oas_grant_to_json(&json, p, g), APR_SUCCESS);
            assert_int_equal(
                oas_store_put(x->store[1], p, OAS_NS_REFRESH, "LEGACY", json, strlen(json), exp),
                APR_SUCCESS);
            assert_int_equal(oas_store_put(x->store[1], p, OAS_NS_FAMILY, g->family, "1", 1, exp),
                             APR_SUCCESS);
            assert_int_equal(oas_live_refresh(&g, x, "LEGACY"), APR_SUCCESS);
            assert_string_equal(g->family, "LEGACYFAMILY0123456789");

            assert_int_equal(oas_refresh_grant(&body, &e, x, c, "LEGACY", NULL), APR_SUCCESS);
            at = tok_member(p, body, "access_token");
            rt = tok_member(p, body, "refresh_token");
            if (!c->rt_rotation) {
                assert_null(rt);
                assert_int_equal(oas_refresh_grant(&body, &e, x, c, "LEGACY", NULL), APR_SUCCESS);
                continue;
            }
            assert_non_null(strstr(rt, "LEGACYFAMILY0123456789"));
            assert_string_equal(family_of(x, rt), "LEGACYFAMILY0123456789");
            assert_int_equal(oas_live_refresh(&g, x, "LEGACY"), APR_EINVAL);
            assert_int_equal(oas_live_access(&claims, NULL, NULL, x, at), APR_SUCCESS);
            if (c == env->conf2) { /* a retry within the grace */
                assert_int_equal(oas_refresh_grant(&body, &e, x, c, "LEGACY", NULL), APR_SUCCESS);
                rt = tok_member(p, body, "refresh_token");
                assert_string_equal(family_of(x, rt), "LEGACYFAMILY0123456789");
                continue;
            }
            assert_int_equal(oas_refresh_grant(&body, &e, x, c, "LEGACY", NULL), APR_EINVAL);
            assert_err(e, 400, "invalid_grant", "rotated out and used again");
            assert_int_equal(oas_live_refresh(&g, x, rt), APR_EINVAL);
            assert_int_equal(oas_live_access(&claims, NULL, NULL, x, at), APR_EINVAL);
        }
        {
            /* a token the previous build rotated out, its family still of that build */
            oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
            apr_time_t exp = apr_time_from_sec(x->now + 3600);
            const char *m = "{\"cid\":\"pub1\",\"fam\":\"OLDFAM\"}";
            assert_int_equal(oas_store_put(x->store[1], p, OAS_NS_FAMILY, "OLDFAM", "1", 1, exp),
                             APR_SUCCESS);
            assert_int_equal(
                oas_store_put(x->store[1], p, OAS_NS_REFRESH_USED, "OLD", m, strlen(m), exp),
                APR_SUCCESS);
            assert_int_equal(oas_refresh_grant(&body, &e, x, env->conf2, "OLD", NULL), APR_EINVAL);
            assert_err(e, 400, "invalid_grant", "OAS02011");
            assert_int_equal(oas_refresh_grant(&body, &e, x, env->pub1, "OLD", NULL), APR_EINVAL);
            assert_err(e, 400, "invalid_grant", "rotated out and used again");
            assert_int_equal(
                oas_store_get(x->store[1], p, OAS_NS_FAMILY, "OLDFAM", &json_buf, &json_len),
                APR_NOTFOUND);
        }
    }
}

/* Issue 14: the family record is kept under the family's handle, which the access tokens
 * carry (claim gid). One of the build before (kept under the family id, its access tokens
 * linked by a record each) keeps working: without rotation its access tokens still get
 * their record; a rotation moves it under the handle. Either way revoking it kills them. */
static void test_family_of_the_build_before(void **state)
{
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const oas_client_t *clients[] = {env->conf1, env->pub1};
    const char *body, *rt, *at, *fam, *h;
    char *v;
    apr_size_t n;
    json_t *c;
    oas_err_t e;
    size_t j;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        for (j = 0; j < sizeof(clients) / sizeof(clients[0]); j++) {
            oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
            oas_store_t *st = x->store[1];
            rt = tok_exchange(x, env, clients[j], "openid offline_access", &at);
            fam = family_of(x, rt);
            h = oas_grant_handle(p, fam);
            assert_int_equal(strlen(h), 22);
            assert_int_equal(oas_store_get(st, p, OAS_NS_FAMILY, fam, &v, &n), APR_NOTFOUND);
            assert_int_equal(oas_store_get(st, p, OAS_NS_FAMILY, h, &v, &n), APR_SUCCESS);
            /* as the build before kept it */
            assert_int_equal(oas_store_put(st, p, OAS_NS_FAMILY, fam, v, n,
                                           apr_time_from_sec(x->now + 3600)),
                             APR_SUCCESS);
            assert_int_equal(oas_store_del(st, p, OAS_NS_FAMILY, h), APR_SUCCESS);
            assert_string_equal(family_of(x, rt), fam);
            assert_int_equal(oas_refresh_grant(&body, &e, x, clients[j], rt, NULL), APR_SUCCESS);
            at = tok_member(p, body, "access_token");
            assert_int_equal(oas_live_access(&c, NULL, NULL, x, at), APR_SUCCESS);
            if (clients[j]->rt_rotation) { /* moved under its handle */
                rt = tok_member(p, body, "refresh_token");
                assert_string_equal(oas_json_str(c, "gid"), h);
                assert_int_equal(oas_store_get(st, p, OAS_NS_FAMILY, fam, &v, &n), APR_NOTFOUND);
                assert_int_equal(oas_store_get(st, p, OAS_NS_FAMILY, h, &v, &n), APR_SUCCESS);
            }
            else { /* no handle finds it: the access token's record links it */
                assert_null(oas_json_str(c, "gid"));
                assert_int_equal(oas_store_get(st, p, OAS_NS_ACCESS, oas_json_str(c, "jti"), &v,
                                               &n),
                                 APR_SUCCESS);
            }
            assert_int_equal(oas_revoke_token(&e, x, clients[j], rt), APR_SUCCESS);
            assert_int_equal(oas_live_access(&c, NULL, NULL, x, at), APR_EINVAL);
            assert_int_equal(oas_store_get(st, p, OAS_NS_FAMILY, fam, &v, &n), APR_NOTFOUND);
            assert_int_equal(oas_store_get(st, p, OAS_NS_FAMILY, h, &v, &n), APR_NOTFOUND);
        }
    }
}

/* A token is one base64url word: the family id (22 characters), then the secret (43: 256
 * bits). One naming a family with a secret that is none of its tokens' is of an older
 * generation (only a holder of one of its tokens knows the family id): reuse. */
static void test_unknown_generation(void **state)
{
    static const char *const secret43 = "0123456789012345678901234567890123456789012";
    apr_pool_t *p = *state;
    tok_env_t *env = tok_env(p);
    const char *body, *rt;
    oas_grant_t *g;
    oas_err_t e;
    int k;

    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, env->iss, k, tok_now());
        rt = tok_exchange(x, env, env->pub1, "openid offline_access", NULL);
        assert_int_equal(strlen(rt), 22 + 43);
        assert_int_equal(strspn(rt, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789-_"),
                         strlen(rt));
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->pub1, "x", NULL), APR_EINVAL);
        assert_err(e, 400, "invalid_grant", "unknown or expired");
        assert_int_equal(oas_refresh_grant(&body, &e, x, env->pub1,
                                           apr_pstrcat(p, "AAAAAAAAAAAAAAAAAAAAAA", secret43, NULL),
                                           NULL),
                         APR_EINVAL);
        assert_err(e, 400, "invalid_grant", "OAS02015");
        assert_int_equal(oas_live_refresh(&g, x, rt), APR_SUCCESS);
        assert_int_equal(
            oas_refresh_grant(&body, &e, x, env->pub1,
                              apr_pstrcat(p, apr_pstrmemdup(p, rt, 22), secret43, NULL), NULL),
            APR_EINVAL);
        assert_err(e, 400, "invalid_grant", "rotated out and used again");
        assert_int_equal(oas_live_refresh(&g, x, rt), APR_EINVAL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_r01_refresh),
        UNIT_TEST(test_r02_binding),
        UNIT_TEST(test_r03_scope),
        UNIT_TEST(test_r04_rotation_and_reuse),
        UNIT_TEST(test_r04_concurrent_rotation),
        UNIT_TEST(test_revocation_racing_rotation),
        UNIT_TEST(test_r05_retry_grace),
        UNIT_TEST(test_rotated_out_of_another_client),
        UNIT_TEST(test_family_of_the_build_before),
        UNIT_TEST(test_r06_revoked_and_expired),
        UNIT_TEST(test_store_failures),
        UNIT_TEST(test_one_record_per_family),
        UNIT_TEST(test_previous_build_tokens),
        UNIT_TEST(test_unknown_generation),
    };
    return UNIT_RUN(tests);
}
