/* Unit tests: the per-process cache of parsed bytes (oas_parse_cache.h): a hit for the same
 * name and bytes, a miss for other bytes, eviction by another name, the bound, and entries
 * that stay alive while a request holds them (run under ASan: a use after free fails). */
#include "unit.h"

#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "oas_parse_cache.h"

static int parses, freed;
static const int owner1 = 1, owner2 = 2; /* two issuers, say */

static apr_status_t count_free(void *data)
{
    freed++;
    return APR_SUCCESS;
}

/* the "parsed" value: a copy of the bytes in the entry's pool; "bad" is refused */
static apr_status_t copy_parse(void **pval, const char **pwhy, apr_pool_t *p, const char *bytes,
                               apr_size_t len, void *baton)
{
    parses++;
    if (len == 3 && !memcmp(bytes, "bad", 3)) {
        *pwhy = apr_pstrdup(p, "refused bytes"); /* in the entry's pool: copied out */
        return APR_EINVAL;
    }
    *pval = apr_pstrmemdup(p, bytes, len);
    apr_pool_cleanup_register(p, NULL, count_free, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

static const char *get_of(oas_parse_cache_t *pc, const void *owner, const char *name,
                          const char *bytes, apr_pool_t *p)
{
    void *v = NULL;
    const char *why;

    assert_int_equal(
        oas_parse_cache_get(&v, &why, pc, owner, name, bytes, strlen(bytes), copy_parse, NULL, p),
        APR_SUCCESS);
    assert_non_null(v);
    assert_string_equal(v, bytes);
    return v;
}

static const char *get(oas_parse_cache_t *pc, const char *name, const char *bytes, apr_pool_t *p)
{
    return get_of(pc, &owner1, name, bytes, p);
}

static void counts(oas_parse_cache_t *pc, int hits, int misses, int alive)
{
    apr_uint64_t h, m, a;

    oas_parse_cache_counts(pc, &h, &m, &a);
    assert_int_equal((int)h, hits);
    assert_int_equal((int)m, misses);
    assert_int_equal((int)a, alive);
}

static void test_hit_and_changed_bytes(void **state)
{
    apr_pool_t *p = *state, *req;
    oas_parse_cache_t *pc = oas_parse_cache_create(p, 8);
    const char *a, *b;

    parses = freed = 0;
    apr_pool_create(&req, p);
    a = get(pc, "c1", "{\"v\":1}", req);
    assert_ptr_equal(get(pc, "c1", "{\"v\":1}", req), a); /* parsed once */
    assert_int_equal(parses, 1);
    counts(pc, 1, 1, 1);
    /* the same name with other bytes (an updated record) is parsed anew and replaces it; the
     * old value stays readable while the request holds it */
    b = get(pc, "c1", "{\"v\":2}", req);
    assert_ptr_not_equal(a, b);
    assert_int_equal(parses, 2);
    assert_string_equal(a, "{\"v\":1}");
    counts(pc, 1, 2, 2);
    assert_int_equal(freed, 0);
    apr_pool_destroy(req); /* the old one goes with its last holder; the new one stays */
    assert_int_equal(freed, 1);
    counts(pc, 1, 2, 1);
    apr_pool_create(&req, p);
    assert_ptr_equal(get(pc, "c1", "{\"v\":2}", req), b);
    /* the bytes back as they were: a miss too (only the newest version is kept) */
    get(pc, "c1", "{\"v\":1}", req);
    assert_int_equal(parses, 3);
    /* another name with the same bytes is another entry, so is another owner's name */
    get(pc, "c2", "{\"v\":1}", req);
    assert_int_equal(parses, 4);
    get_of(pc, &owner2, "c2", "{\"v\":1}", req);
    assert_int_equal(parses, 5);
    /* bytes of the same length that differ in their last byte */
    get(pc, "c3", "{\"v\":10}", req);
    get(pc, "c3", "{\"v\":11}", req);
    assert_int_equal(parses, 7);
    apr_pool_destroy(req);
}

static void test_refused_not_cached(void **state)
{
    apr_pool_t *p = *state;
    oas_parse_cache_t *pc = oas_parse_cache_create(p, 8);
    void *v = NULL;
    const char *why = NULL;
    int k;

    parses = freed = 0;
    for (k = 0; k < 2; k++) {
        assert_int_equal(
            oas_parse_cache_get(&v, &why, pc, &owner1, "c", "bad", 3, copy_parse, NULL, p),
            APR_EINVAL);
        assert_string_equal(why, "refused bytes"); /* in p, the entry's pool is gone */
    }
    assert_int_equal(parses, 2);
    counts(pc, 0, 2, 0);
    /* without a cache: parsed into the request's pool, every time */
    get(NULL, "c", "ok", p);
    get(NULL, "c", "ok", p);
    assert_int_equal(parses, 4);
}

/* one slot: every other name evicts; held entries outlive their eviction */
static void test_eviction(void **state)
{
    apr_pool_t *p = *state, *r1, *r2;
    oas_parse_cache_t *pc = oas_parse_cache_create(p, 1);
    const char *b;

    parses = freed = 0;
    apr_pool_create(&r1, p);
    apr_pool_create(&r2, p);
    get(pc, "a", "aaaa", r1);
    b = get(pc, "b", "bbbb", r2); /* evicts a, which r1 still holds */
    assert_int_equal(freed, 0);
    counts(pc, 0, 2, 2);
    apr_pool_destroy(r1);
    assert_int_equal(freed, 1); /* a: evicted and no longer held */
    assert_string_equal(b, "bbbb");
    apr_pool_create(&r1, p);
    assert_ptr_equal(get(pc, "b", "bbbb", r1), b);
    apr_pool_destroy(r1);
    apr_pool_destroy(r2);
    assert_int_equal(freed, 1); /* b: still cached */
    counts(pc, 1, 2, 1);
    apr_pool_create(&r1, p);
    get(pc, "a", "aaaa", r1); /* evicts b, held by nobody: freed at once */
    assert_int_equal(freed, 2);
    apr_pool_destroy(r1);
}

/* many names: never more entries alive than slots once no request holds one; all freed with
 * the process's pool */
static void test_bound(void **state)
{
    apr_pool_t *p = *state, *cp, *req;
    oas_parse_cache_t *pc;
    apr_uint64_t h, m, a;
    int i;

    parses = freed = 0;
    apr_pool_create(&cp, p);
    pc = oas_parse_cache_create(cp, 4);
    for (i = 0; i < 200; i++) {
        apr_pool_create(&req, p);
        get(pc, apr_psprintf(req, "client-%d", i), apr_psprintf(req, "bytes-%d", i), req);
        get(pc, apr_psprintf(req, "client-%d", i / 2), apr_psprintf(req, "bytes-%d", i / 2), req);
        apr_pool_destroy(req);
        oas_parse_cache_counts(pc, &h, &m, &a);
        assert_true(a <= 4);
    }
    assert_true(parses <= 400 && parses > 200);
    assert_int_equal(freed + (int)a, parses);
    apr_pool_destroy(cp);
    assert_int_equal(freed, parses);
}

/* the process's pool goes while a request holds an entry: the request keeps it, frees it */
static void test_cache_gone_first(void **state)
{
    apr_pool_t *p = *state, *cp, *req;
    oas_parse_cache_t *pc;
    const char *v;

    parses = freed = 0;
    apr_pool_create(&cp, p);
    apr_pool_create(&req, p);
    pc = oas_parse_cache_create(cp, 2);
    v = get(pc, "a", "held", req);
    get(pc, "b", "not held", cp);
    apr_pool_destroy(cp);
    assert_int_equal(freed, 1);
    assert_string_equal(v, "held");
    apr_pool_destroy(req);
    assert_int_equal(freed, 2);
}

/* threads get, replace and evict the same few slots; ASan and the final counts judge */
static int wrong; /* atomic: values that were not their bytes */

static apr_status_t count_free_atomic(void *data)
{
    __atomic_fetch_add(&freed, 1, __ATOMIC_RELAXED);
    return APR_SUCCESS;
}

static apr_status_t atomic_parse(void **pval, const char **pwhy, apr_pool_t *p, const char *bytes,
                                 apr_size_t len, void *baton)
{
    __atomic_fetch_add(&parses, 1, __ATOMIC_RELAXED);
    *pval = apr_pstrmemdup(p, bytes, len);
    apr_pool_cleanup_register(p, NULL, count_free_atomic, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

typedef struct {
    oas_parse_cache_t *pc;
    int seed;
} worker_t;

static void *APR_THREAD_FUNC work(apr_thread_t *t, void *data)
{
    worker_t *w = data;
    apr_pool_t *req;
    int i;

    for (i = 0; i < 3000; i++) {
        void *v = NULL;
        const char *why, *name, *bytes;
        /* a request's pool: made and freed by this thread alone */
        apr_pool_create_unmanaged_ex(&req, NULL, NULL);
        name = apr_psprintf(req, "n%d", (i + w->seed) % 5);
        bytes = apr_psprintf(req, "%s-v%d", name, (i / 7 + w->seed) % 3);
        if (oas_parse_cache_get(&v, &why, w->pc, &owner1, name, bytes, strlen(bytes), atomic_parse,
                                NULL, req) != APR_SUCCESS ||
            strcmp(v, bytes))
            __atomic_fetch_add(&wrong, 1, __ATOMIC_RELAXED);
        apr_pool_destroy(req);
    }
    return NULL;
}

static void test_threads(void **state)
{
    apr_pool_t *p = *state, *cp;
    apr_thread_t *t[4];
    worker_t w[4];
    apr_status_t trv;
    apr_uint64_t h, m, a;
    int i;

    parses = freed = wrong = 0;
    apr_pool_create(&cp, p);
    w[0].pc = oas_parse_cache_create(cp, 3);
    for (i = 0; i < 4; i++) {
        w[i].pc = w[0].pc;
        w[i].seed = i;
        assert_int_equal(apr_thread_create(&t[i], NULL, work, &w[i], p), APR_SUCCESS);
    }
    for (i = 0; i < 4; i++)
        assert_int_equal(apr_thread_join(&trv, t[i]), APR_SUCCESS);
    assert_int_equal(wrong, 0);
    oas_parse_cache_counts(w[0].pc, &h, &m, &a);
    assert_int_equal((int)(h + m), 4 * 3000);
    assert_int_equal((int)m, parses);
    assert_true(h > 0 && a <= 3);
    apr_pool_destroy(cp);
    assert_int_equal(freed, parses);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_hit_and_changed_bytes),
        UNIT_TEST(test_refused_not_cached),
        UNIT_TEST(test_eviction),
        UNIT_TEST(test_bound),
        UNIT_TEST(test_cache_gone_first),
        UNIT_TEST(test_threads),
    };
    return UNIT_RUN(tests);
}
