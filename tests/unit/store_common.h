/* What the shm store test (test_store.c) and the database store test (test_store_dbd.c)
 * check alike through the oas_store.h interface: each file includes it after unit.h and
 * after defining NS and HOUR. */
#ifndef OAS_STORE_COMMON_H
#define OAS_STORE_COMMON_H

#include "oas_store.h"

/* Pseudo-random bytes from a seed (a value that is not text). */
static void fill(unsigned char *buf, apr_size_t len, unsigned int seed)
{
    apr_size_t i;
    for (i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (unsigned char)(seed >> 16);
    }
}

/* get, put, get keeps it, put overwrites longer; ends with "k" = "s" put, not yet taken. */
static void store_check_put_get(apr_pool_t *p, oas_store_t *st, apr_time_t exp)
{
    char *v;
    apr_size_t n;

    assert_int_equal(oas_store_get(st, p, NS, "k", &v, &n), APR_NOTFOUND);
    assert_int_equal(oas_store_put(st, p, NS, "k", "v1", 2, exp), APR_SUCCESS);
    assert_int_equal(oas_store_get(st, p, NS, "k", &v, &n), APR_SUCCESS);
    assert_int_equal(n, 2);
    assert_string_equal(v, "v1");
    assert_int_equal(oas_store_get(st, p, NS, "k", &v, &n), APR_SUCCESS); /* get keeps it */

    /* put overwrites, longer then shorter */
    assert_int_equal(oas_store_put(st, p, NS, "k", "a much longer value", 19, exp), APR_SUCCESS);
    assert_int_equal(oas_store_get(st, p, NS, "k", &v, &n), APR_SUCCESS);
    assert_string_equal(v, "a much longer value");
    assert_int_equal(oas_store_put(st, p, NS, "k", "s", 1, exp), APR_SUCCESS);
}

/* Follows store_check_put_get: take once, empty value, del, byte keys, bad arguments. */
static void store_check_take_del(apr_pool_t *p, oas_store_t *st, apr_time_t exp)
{
    char *v;
    apr_size_t n;
    static const char bkey[] = {'a', '\0', 'b'}; /* keys are bytes, not C strings */

    assert_int_equal(oas_store_take(st, p, NS, "k", &v, &n), APR_SUCCESS);
    assert_string_equal(v, "s");
    assert_int_equal(oas_store_take(st, p, NS, "k", &v, &n), APR_NOTFOUND);
    assert_int_equal(oas_store_get(st, p, NS, "k", &v, &n), APR_NOTFOUND);

    /* empty value; take with pval NULL; del */
    assert_int_equal(oas_store_put(st, p, NS, "e", "", 0, exp), APR_SUCCESS);
    assert_int_equal(oas_store_get(st, p, NS, "e", &v, &n), APR_SUCCESS);
    assert_int_equal(n, 0);
    assert_string_equal(v, "");
    assert_int_equal(oas_store_take(st, p, NS, "e", NULL, NULL), APR_SUCCESS);
    assert_int_equal(oas_store_put(st, p, NS, "d", "x", 1, exp), APR_SUCCESS);
    assert_int_equal(oas_store_del(st, p, NS, "d"), APR_SUCCESS);
    assert_int_equal(oas_store_del(st, p, NS, "d"), APR_NOTFOUND);

    assert_int_equal(st->put(st, p, NS, bkey, 3, "B", 1, exp), APR_SUCCESS);
    assert_int_equal(st->get(st, p, NS, bkey, 1, &v, &n), APR_NOTFOUND);
    assert_int_equal(st->get(st, p, NS, bkey, 3, &v, &n), APR_SUCCESS);

    /* bad arguments */
    assert_int_equal(st->put(st, p, 256, "k", 1, "v", 1, exp), APR_EINVAL);
    assert_int_equal(st->put(st, p, NS, NULL, 1, "v", 1, exp), APR_EINVAL);
    assert_int_equal(st->put(st, p, NS, "k", 1, NULL, 1, exp), APR_EINVAL);
    assert_int_equal(st->get(st, NULL, NS, "k", 1, &v, &n), APR_EINVAL);
}

/* put_new: the first writer wins; a deleted or expired entry does not count as existing. */
static void store_check_put_new(apr_pool_t *p, oas_store_t *st)
{
    apr_time_t exp = apr_time_now() + HOUR;
    char *v;
    apr_size_t n;

    assert_int_equal(oas_store_put_new(st, p, NS, "k", "one", 3, exp), APR_SUCCESS);
    assert_int_equal(oas_store_put_new(st, p, NS, "k", "two", 3, exp), APR_EEXIST);
    assert_int_equal(oas_store_get(st, p, NS, "k", &v, &n), APR_SUCCESS);
    assert_string_equal(v, "one"); /* the first writer wins, untouched */
    assert_int_equal(oas_store_del(st, p, NS, "k"), APR_SUCCESS);
    assert_int_equal(oas_store_put_new(st, p, NS, "k", "two", 3, exp), APR_SUCCESS);
    /* an expired entry does not count as existing */
    assert_int_equal(oas_store_put(st, p, NS, "old", "x", 1, apr_time_now() - 1), APR_SUCCESS);
    assert_int_equal(oas_store_put_new(st, p, NS, "old", "y", 1, exp), APR_SUCCESS);
    assert_int_equal(oas_store_get(st, p, NS, "old", &v, &n), APR_SUCCESS);
    assert_string_equal(v, "y");
}

/* One key in two namespaces: two entries that do not see each other. */
static void store_check_namespaces(apr_pool_t *p, oas_store_t *st)
{
    apr_time_t exp = apr_time_now() + HOUR;
    char *v;
    apr_size_t n;

    assert_int_equal(oas_store_put(st, p, OAS_NS_CODE, "s3cret", "code", 4, exp), APR_SUCCESS);
    assert_int_equal(oas_store_get(st, p, OAS_NS_REQUEST_URI, "s3cret", &v, &n), APR_NOTFOUND);
    assert_int_equal(oas_store_put_new(st, p, OAS_NS_REQUEST_URI, "s3cret", "par", 3, exp),
                     APR_SUCCESS);
    assert_int_equal(oas_store_take(st, p, OAS_NS_REQUEST_URI, "s3cret", &v, &n), APR_SUCCESS);
    assert_string_equal(v, "par");
    assert_int_equal(oas_store_get(st, p, OAS_NS_CODE, "s3cret", &v, &n), APR_SUCCESS);
    assert_string_equal(v, "code");
}

#endif
