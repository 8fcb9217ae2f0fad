/* Unit tests: the engine's context (oas_ctx.c), the error value (oas_err.c), the log bridge
 * (oas_log.c), and that both engine test stores work through the context. */
#include "unit.h"

#include <apr_strings.h>

#include "engine_stores.h"
#include "oas_err.h"
#include "oas_log.h"

static int opens;

static oas_store_t *open_counting(void *baton, int kind)
{
    opens++;
    return kind == OAS_CTX_LONG ? (oas_store_t *)baton : NULL;
}

static void test_stores_opened_once(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t iss;
    oas_store_t fake;
    oas_ctx_t x;

    memset(&iss, 0, sizeof(iss));
    oas_ctx_init(&x, p, &iss, 1000);
    assert_int_equal(x.now, 1000);
    assert_string_equal(x.addr, "");
    assert_null(oas_ctx_store(&x, OAS_CTX_SHORT)); /* no opener: nothing */
    x.opened[OAS_CTX_SHORT] = 0;
    x.open = open_counting;
    x.open_baton = &fake;
    opens = 0;
    assert_null(oas_ctx_store(&x, OAS_CTX_SHORT));
    assert_null(oas_ctx_store(&x, OAS_CTX_SHORT)); /* a failed open is not retried */
    assert_ptr_equal(oas_ctx_store(&x, OAS_CTX_LONG), &fake);
    assert_ptr_equal(oas_ctx_store(&x, OAS_CTX_LONG), &fake);
    assert_int_equal(opens, 2);
}

static void test_err_values(void **state)
{
    apr_pool_t *p = *state;
    oas_err_t e;

    assert_int_equal(oas_err(&e, p, 400, "invalid_grant", "the code is invalid", OAS_LOG_INFO,
                             OAS_LOGNO(99999) "code of client %s presented by %s", "a", "b"),
                     APR_EINVAL);
    assert_int_equal(e.status, 400);
    assert_string_equal(e.error, "invalid_grant");
    assert_string_equal(e.detail, "OAS99999: code of client a presented by b");
    assert_int_equal(e.retry_after, 0);

    assert_int_equal(oas_err_store(&e, p, APR_ENOSPC, "storing a code"), APR_ENOSPC);
    assert_int_equal(e.status, 503);
    assert_string_equal(e.error, "temporarily_unavailable");
    assert_int_equal(e.retry_after, 5);
    assert_int_equal(e.level, OAS_LOG_WARNING);
    assert_non_null(strstr(e.detail, "store full while storing a code"));
    assert_int_equal(oas_err_store(&e, p, APR_SUCCESS, "x"), APR_EGENERAL);
    assert_int_equal(e.level, OAS_LOG_ERR);
    assert_non_null(strstr(e.detail, "store failure while x"));
}

static int seen_level, seen_count;
static char seen_msg[256];
static void *seen_baton;

static int only_warnings(void *baton, int level)
{
    return level <= OAS_LOG_WARNING;
}

static void record(const char *file, int line, int level, apr_status_t rv, void *baton,
                   const char *msg)
{
    seen_level = level;
    seen_count++;
    seen_baton = baton;
    apr_cpystrn(seen_msg, msg, sizeof(seen_msg));
}

static int formatted;
static const char *count_format(void)
{
    formatted++;
    return "x";
}

static void test_log_bridge(void **state)
{
    int baton;

    oas_log_set(only_warnings, record);
    seen_count = formatted = 0;
    oas_log(OAS_LOG_MARK, OAS_LOG_INFO, 0, &baton, OAS_LOGNO(99998) "%s", count_format());
    assert_int_equal(seen_count, 0); /* below the level: not written */
    oas_log(OAS_LOG_MARK, OAS_LOG_WARNING, 0, &baton, OAS_LOGNO(99997) "n=%d", 7);
    assert_int_equal(seen_count, 1);
    assert_int_equal(seen_level, OAS_LOG_WARNING);
    assert_ptr_equal(seen_baton, &baton);
    assert_string_equal(seen_msg, "OAS99997: n=7");
    assert_true(oas_log_is_level(NULL, OAS_LOG_ERR));
    assert_false(oas_log_is_level(NULL, OAS_LOG_DEBUG));
    oas_log_set(NULL, NULL);
}

static void test_engine_stores(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t iss;
    int k;

    memset(&iss, 0, sizeof(iss));
    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, &iss, k, 1000);
        oas_store_t *st = oas_ctx_store(x, OAS_CTX_SHORT);
        char *v;
        apr_size_t n;
        assert_ptr_equal(st, oas_ctx_store(x, OAS_CTX_LONG));
        assert_int_equal(oas_store_put_new(st, p, OAS_NS_TEST, "k", "v", 1,
                                           apr_time_now() + apr_time_from_sec(60)),
                         APR_SUCCESS);
        assert_int_equal(oas_store_take(st, p, OAS_NS_TEST, "k", &v, &n), APR_SUCCESS);
        assert_string_equal(v, "v");
        assert_int_equal(oas_store_take(st, p, OAS_NS_TEST, "k", &v, &n), APR_NOTFOUND);
    }
}

/* oas_store_incr on both engine stores (the fallback or the backend's own incr): a new
 * counter starts at 1 with the given expiry, a live one counts on and keeps its expiry, an
 * expired one starts again. */
static void test_store_incr(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t iss;
    int k;

    memset(&iss, 0, sizeof(iss));
    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = engine_ctx(p, &iss, k, 1000);
        oas_store_t *st = oas_ctx_store(x, OAS_CTX_SHORT);
        apr_time_t now = apr_time_now(), exp1 = now + apr_time_from_sec(60), exp;
        apr_int64_t n;
        assert_int_equal(oas_store_incr(st, p, OAS_NS_TEST, "c", 1, exp1, &n, &exp), APR_SUCCESS);
        assert_int_equal(n, 1);
        assert_true(exp == exp1);
        assert_int_equal(oas_store_incr(st, p, OAS_NS_TEST, "c", 1, exp1 + 5000000, &n, &exp),
                         APR_SUCCESS);
        assert_int_equal(n, 2);
        assert_true(exp == exp1); /* a live counter keeps its window */
        assert_int_equal(oas_store_incr(st, p, OAS_NS_TEST, "c", -1, exp1, &n, &exp),
                         APR_SUCCESS);
        assert_int_equal(n, 1); /* a reservation given back */
        assert_int_equal(oas_store_incr(st, p, OAS_NS_TEST, "d", 1, exp1, &n, NULL), APR_SUCCESS);
        assert_int_equal(n, 1);
        /* an expired counter is gone: the next one starts a new window */
        assert_int_equal(oas_store_put(st, p, OAS_NS_TEST, "e", "7 1", 3, now - 1000000),
                         APR_SUCCESS);
        assert_int_equal(oas_store_incr(st, p, OAS_NS_TEST, "e", 1, exp1, &n, &exp), APR_SUCCESS);
        assert_int_equal(n, 1);
        assert_true(exp == exp1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_stores_opened_once),
        UNIT_TEST(test_err_values),
        UNIT_TEST(test_log_bridge),
        UNIT_TEST(test_engine_stores),
        UNIT_TEST(test_store_incr),
    };
    return unit_run("ctx", tests, sizeof(tests) / sizeof(tests[0]));
}
