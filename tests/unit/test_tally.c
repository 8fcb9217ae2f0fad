/* Unit tests: the tally (src/oas_tally.c): counters with windows, single-use markers, the
 * classes (a counter gives way, a marker never), the store over it, loads two-choice hashing
 * must hold, and claims of one marker racing in threads and in processes. */
#include "unit.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oas_tally.h"

#define NOW 1700000000

static oas_tally_t *make(apr_pool_t *p, apr_size_t bytes, void **pmem)
{
    void *mem = apr_palloc(p, bytes);
    oas_tally_t *t;

    assert_int_equal(oas_tally_format(mem, bytes, NOW), APR_SUCCESS);
    assert_int_equal(oas_tally_attach(&t, p, mem, bytes), APR_SUCCESS);
    if (pmem)
        *pmem = mem;
    return t;
}

static void digest(unsigned char *d, oas_tally_t *t, const char *key)
{
    oas_tally_digest(d, t, 'x', key, strlen(key));
}

static void test_layout(void **state)
{
    apr_pool_t *p = *state;
    void *mem;
    oas_tally_t *t = make(p, 1 << 20, &mem), *t2;
    oas_tally_stats_t s;

    assert_int_equal(oas_tally_size(1000), 0);
    assert_int_equal(oas_tally_format(apr_palloc(p, 1000), 1000, NOW), APR_EINVAL);
    oas_tally_stats(t, NOW, &s);
    assert_true(s.slots >= (1 << 20) / 256 * OAS_TALLY_WAYS - OAS_TALLY_WAYS);
    assert_int_equal(s.live + s.best_effort + s.evicted + s.full, 0);
    /* attached twice (another process): the same table */
    assert_int_equal(oas_tally_attach(&t2, p, mem, 1 << 20), APR_SUCCESS);
    /* not a table, or a smaller region than formatted */
    assert_int_equal(oas_tally_attach(&t2, p, apr_pcalloc(p, 4096), 4096), APR_EINVAL);
    assert_int_equal(oas_tally_attach(&t2, p, mem, 65536), APR_EINVAL);
}

static void test_counter_window(void **state)
{
    oas_tally_t *t = make(*state, 65536, NULL);
    unsigned char d[OAS_SHA256_LEN], e[OAS_SHA256_LEN];
    apr_int64_t n, until;

    digest(d, t, "client\n192.0.2.1");
    digest(e, t, "client\n192.0.2.2");
    assert_int_equal(oas_tally_peek(t, d, NOW, &n, &until), APR_NOTFOUND);
    assert_int_equal(oas_tally_incr(t, d, 1, NOW, NOW + 60, &n, &until), APR_SUCCESS);
    assert_int_equal(n, 1);
    assert_int_equal(until, NOW + 60);
    /* a live counter keeps its expiry */
    assert_int_equal(oas_tally_incr(t, d, 2, NOW + 10, NOW + 70, &n, &until), APR_SUCCESS);
    assert_int_equal(n, 3);
    assert_int_equal(until, NOW + 60);
    assert_int_equal(oas_tally_peek(t, d, NOW + 59, &n, &until), APR_SUCCESS);
    assert_int_equal(n, 3);
    /* another key is another counter */
    assert_int_equal(oas_tally_peek(t, e, NOW, &n, &until), APR_NOTFOUND);
    /* the window over: gone, and a new one starts from delta */
    assert_int_equal(oas_tally_peek(t, d, NOW + 60, &n, &until), APR_NOTFOUND);
    assert_int_equal(oas_tally_incr(t, d, 1, NOW + 60, NOW + 120, &n, &until), APR_SUCCESS);
    assert_int_equal(n, 1);
    assert_int_equal(until, NOW + 120);
    /* given back to nothing: removed; a give-back to no counter stores nothing */
    assert_int_equal(oas_tally_incr(t, d, -1, NOW + 61, NOW + 121, &n, &until), APR_SUCCESS);
    assert_int_equal(n, 0);
    assert_int_equal(oas_tally_peek(t, d, NOW + 61, &n, &until), APR_NOTFOUND);
    assert_int_equal(oas_tally_incr(t, e, -1, NOW, NOW + 60, &n, &until), APR_SUCCESS);
    assert_int_equal(n, 0);
    assert_int_equal(oas_tally_peek(t, e, NOW, &n, &until), APR_NOTFOUND);
    /* drop */
    assert_int_equal(oas_tally_incr(t, e, 5, NOW, NOW + 60, &n, &until), APR_SUCCESS);
    assert_int_equal(oas_tally_drop(t, e, NOW), APR_SUCCESS);
    assert_int_equal(oas_tally_drop(t, e, NOW), APR_NOTFOUND);
    /* a clock before the table's base counts as its first second */
    assert_int_equal(oas_tally_incr(t, e, 1, NOW - 100, NOW + 60, &n, &until), APR_SUCCESS);
    assert_int_equal(n, 1);
}

static void test_marker_single_use(void **state)
{
    oas_tally_t *t = make(*state, 65536, NULL);
    unsigned char d[OAS_SHA256_LEN];
    oas_tally_stats_t s;

    digest(d, t, "jkt\njti-1");
    assert_int_equal(oas_tally_claim(t, d, NOW, NOW + 300), APR_SUCCESS);
    assert_int_equal(oas_tally_claim(t, d, NOW, NOW + 300), APR_EEXIST);
    assert_int_equal(oas_tally_claim(t, d, NOW + 299, NOW + 600), APR_EEXIST);
    oas_tally_stats(t, NOW, &s);
    assert_int_equal(s.live, 1);
    assert_int_equal(s.best_effort, 0);
    /* after its window a jti may be seen again (its proof is refused by its age anyway) */
    assert_int_equal(oas_tally_claim(t, d, NOW + 300, NOW + 600), APR_SUCCESS);
}

/* Fills a small table with n records of one class; returns how many were refused. */
static int fill_at(oas_tally_t *t, apr_int64_t now, int n, int markers, const char *prefix,
                   apr_int64_t until)
{
    unsigned char d[OAS_SHA256_LEN];
    char key[64];
    apr_int64_t c;
    int i, refused = 0;

    for (i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "%s-%d", prefix, i);
        digest(d, t, key);
        if ((markers ? oas_tally_claim(t, d, now, until)
                     : oas_tally_incr(t, d, 1, now, until, &c, NULL)) != APR_SUCCESS)
            refused++;
    }
    return refused;
}
#define fill(t, n, markers, prefix, until) fill_at((t), NOW, (n), (markers), (prefix), (until))

static void test_two_choice_load(void **state)
{
    oas_tally_t *t = make(*state, 1 << 20, NULL);
    oas_tally_stats_t s;

    oas_tally_stats(t, NOW, &s);
    /* 80 % of the slots as live markers: none refused (one choice of a group would refuse
     * a few percent at this load; two choices of 15-slot groups none: at 85 % one run in 20
     * saw a refusal, at 80 % and 82 % none in 100 runs each, random salts) */
    assert_int_equal(fill(t, (int)(s.slots * 80 / 100), 1, "m", NOW + 300), 0);
    oas_tally_stats(t, NOW, &s);
    assert_int_equal(s.full, 0);
    assert_true(s.live >= s.slots * 80 / 100 - 1);
}

static void test_classes(void **state)
{
    oas_tally_t *t = make(*state, 65536, NULL);
    unsigned char d[OAS_SHA256_LEN];
    oas_tally_stats_t s;
    apr_int64_t n, until;
    int slots;

    oas_tally_stats(t, NOW, &s);
    slots = (int)s.slots;
    /* counters fill it; more counters evict the oldest, never fail */
    assert_int_equal(fill(t, slots, 0, "old", NOW + 30), 0);
    assert_int_equal(fill(t, slots, 0, "new", NOW + 60), 0);
    oas_tally_stats(t, NOW, &s);
    assert_true(s.evicted > 0);
    /* markers take the place of counters */
    assert_int_equal(fill(t, slots / 2, 1, "m", NOW + 300), 0);
    /* and once markers alone fill a record's two groups, a claim is refused, a counter too,
     * and nothing live was lost */
    fill(t, slots * 2, 1, "m2", NOW + 300);
    oas_tally_stats(t, NOW, &s);
    assert_true(s.full > 0);
    assert_int_equal(s.best_effort, 0);
    digest(d, t, "m-1");
    assert_int_equal(oas_tally_claim(t, d, NOW, NOW + 300), APR_EEXIST);
    assert_true(fill(t, 50, 0, "c", NOW + 60) > 0);
    /* after the markers' window the table takes everything again */
    assert_int_equal(oas_tally_incr(t, d, 1, NOW + 300, NOW + 360, &n, &until), APR_SUCCESS);
    assert_int_equal(fill_at(t, NOW + 300, slots * 8 / 10, 1, "m3", NOW + 600), 0);
}

typedef struct {
    oas_tally_t *t;
    const unsigned char *d;
    int won;
} racer_t;

static void *racer(void *arg)
{
    racer_t *r = arg;
    r->won = oas_tally_claim(r->t, r->d, NOW, NOW + 60) == APR_SUCCESS;
    return NULL;
}

static void test_claim_race_threads(void **state)
{
    oas_tally_t *t = make(*state, 65536, NULL);
    unsigned char d[OAS_SHA256_LEN];
    pthread_t th[16];
    racer_t r[16];
    int round, i, won;

    for (round = 0; round < 200; round++) {
        char key[32];
        snprintf(key, sizeof(key), "race-%d", round);
        digest(d, t, key);
        for (i = 0; i < 16; i++) {
            r[i] = (racer_t){t, d, 0};
            assert_int_equal(pthread_create(&th[i], NULL, racer, &r[i]), 0);
        }
        for (won = 0, i = 0; i < 16; i++) {
            pthread_join(th[i], NULL);
            won += r[i].won;
        }
        assert_int_equal(won, 1);
    }
}

/* Processes sharing an anonymous mapping, as httpd's children share the segment: each of 4
 * claims the same 2,000 markers; every marker is won exactly once. */
static void test_claim_race_processes(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t bytes = 1 << 20;
    void *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int *wins = mmap(NULL, 2000 * sizeof(int), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    oas_tally_t *t;
    pid_t kid[4];
    int i, k, status;

    assert_true(mem != MAP_FAILED && wins != MAP_FAILED);
    memset(wins, 0, 2000 * sizeof(int));
    assert_int_equal(oas_tally_format(mem, bytes, NOW), APR_SUCCESS);
    for (k = 0; k < 4; k++) {
        if ((kid[k] = fork()) == 0) {
            oas_tally_t *mine;
            unsigned char d[OAS_SHA256_LEN];
            char key[32];
            apr_pool_t *cp;

            apr_pool_create(&cp, NULL);
            if (oas_tally_attach(&mine, cp, mem, bytes) != APR_SUCCESS)
                _exit(2);
            for (i = 0; i < 2000; i++) {
                snprintf(key, sizeof(key), "proc-%d", i);
                digest(d, mine, key);
                if (oas_tally_claim(mine, d, NOW, NOW + 60) == APR_SUCCESS)
                    __atomic_add_fetch(&wins[i], 1, __ATOMIC_RELAXED);
            }
            _exit(0);
        }
        assert_true(kid[k] > 0);
    }
    for (k = 0; k < 4; k++) {
        assert_int_equal(waitpid(kid[k], &status, 0), kid[k]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    for (i = 0; i < 2000; i++)
        assert_int_equal(wins[i], 1);
    assert_int_equal(oas_tally_attach(&t, p, mem, bytes), APR_SUCCESS);
    munmap(wins, 2000 * sizeof(int));
    munmap(mem, bytes);
}

/* A process killed while holding a group's lock: the next one takes the group over. */
static void test_dead_holder(void **state)
{
    apr_size_t bytes = 65536;
    void *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    apr_uint32_t *lockword;
    oas_tally_t *t;
    unsigned char d[OAS_SHA256_LEN];
    apr_uint32_t g;
    oas_tally_stats_t s;
    pid_t kid;
    int status;

    assert_true(mem != MAP_FAILED);
    assert_int_equal(oas_tally_format(mem, bytes, NOW), APR_SUCCESS);
    assert_int_equal(oas_tally_attach(&t, *state, mem, bytes), APR_SUCCESS);
    digest(d, t, "held");
    /* the group the record's first pick names, locked by a process that is gone (the word
     * layout: a 128-byte header, then 256-byte groups whose first word is the lock) */
    memcpy(&g, d + 8, sizeof(g));
    oas_tally_stats(t, NOW, &s);
    g %= s.slots / OAS_TALLY_WAYS;
    lockword = (apr_uint32_t *)((char *)mem + 128 + (apr_size_t)g * 256);
    if ((kid = fork()) == 0)
        _exit(0);
    assert_int_equal(waitpid(kid, &status, 0), kid);
    *lockword = (apr_uint32_t)kid;
    assert_int_equal(oas_tally_claim(t, d, NOW, NOW + 60), APR_SUCCESS);
    oas_tally_stats(t, NOW, &s);
    assert_int_equal(s.stolen, 1);
    assert_int_equal(*lockword, 0);
    munmap(mem, bytes);
}

static void test_store_adapter(void **state)
{
    apr_pool_t *p = *state;
    oas_tally_t *t = make(p, 65536, NULL);
    oas_store_t *st = oas_tally_store(t, p, NULL);
    apr_time_t exp = apr_time_now() + apr_time_from_sec(60), until;
    apr_int64_t n, m, u;
    char *val;
    apr_size_t len;

    assert_int_equal(oas_store_incr(st, p, OAS_NS_QUOTA, "cfp1", 1, exp, &n, &until),
                     APR_SUCCESS);
    assert_int_equal(oas_store_incr(st, p, OAS_NS_QUOTA, "cfp1", 1, exp, &n, &until),
                     APR_SUCCESS);
    assert_int_equal(n, 2);
    assert_true(until >= exp - APR_USEC_PER_SEC && until <= exp + APR_USEC_PER_SEC);
    /* read as the store's counters are read */
    assert_int_equal(oas_store_get(st, p, OAS_NS_QUOTA, "cfp1", &val, &len), APR_SUCCESS);
    assert_int_equal(sscanf(val, "%" APR_INT64_T_FMT " %" APR_INT64_T_FMT, &m, &u), 2);
    assert_int_equal(m, 2);
    assert_int_equal(u, until);
    assert_int_equal(len, strlen(val));
    /* the namespace is part of the name */
    assert_int_equal(oas_store_get(st, p, OAS_NS_AUTHFAIL, "cfp1", &val, &len), APR_NOTFOUND);
    assert_int_equal(oas_store_del(st, p, OAS_NS_QUOTA, "cfp1"), APR_SUCCESS);
    assert_int_equal(oas_store_get(st, p, OAS_NS_QUOTA, "cfp1", &val, &len), APR_NOTFOUND);
    /* markers: put_new of an empty value, once */
    assert_int_equal(oas_store_put_new(st, p, OAS_NS_DPOP, "jkt\njti", "", 0, exp), APR_SUCCESS);
    assert_int_equal(oas_store_put_new(st, p, OAS_NS_DPOP, "jkt\njti", "", 0, exp), APR_EEXIST);
    assert_int_equal(oas_store_put_new(st, p, OAS_NS_ASSERTION, "jkt\njti", "", 0, exp),
                     APR_SUCCESS);
    assert_int_equal(oas_store_put_new(st, p, OAS_NS_DPOP, "k", "v", 1, exp), APR_EINVAL);
    assert_int_equal(oas_store_put(st, p, OAS_NS_DPOP, "k", "", 0, exp), APR_ENOTIMPL);
    assert_int_equal(oas_store_take(st, p, OAS_NS_DPOP, "k", &val, &len), APR_ENOTIMPL);
    assert_int_equal(oas_store_get(st, p, OAS_NS_DPOP, "", &val, &len), APR_EINVAL);
    oas_store_note(st, OAS_STORE_EV_QUOTA_USER); /* no store for notes: nothing happens */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_layout),           UNIT_TEST(test_counter_window),
        UNIT_TEST(test_marker_single_use), UNIT_TEST(test_two_choice_load),
        UNIT_TEST(test_classes),          UNIT_TEST(test_claim_race_threads),
        UNIT_TEST(test_claim_race_processes), UNIT_TEST(test_dead_holder),
        UNIT_TEST(test_store_adapter),
    };
    return UNIT_RUN(tests);
}
