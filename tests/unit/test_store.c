/* Unit tests: the shm store (oas_store_shm.c) through the oas_store.h interface, including
 * single-use `take` raced by forked processes and by threads. */
#include "unit.h"

#include <errno.h>
#include <unistd.h>

#include <apr_atomic.h>
#include <apr_global_mutex.h>
#include <apr_shm.h>
#include <apr_thread_proc.h>

#include "oas_shm_lock.h"
#include "oas_shm_table.h" /* what a slot and a chunk are charged */
#include "oas_store_shm.h"

#define NS OAS_NS_TEST
#define HOUR apr_time_from_sec(3600)

#include "store_common.h"

static apr_uint32_t free_chunks(apr_pool_t *p, oas_store_t *st)
{
    apr_uint32_t n = 0;
    assert_int_equal(oas_shm_store_verify(&n, p, st), APR_SUCCESS);
    return n;
}

static apr_uint32_t live(oas_store_t *st)
{
    apr_uint32_t n;
    oas_shm_store_stats(st, &n, NULL, NULL);
    return n;
}

/* A formatted, attached store in pool memory (8-aligned), no mutex. */
static oas_store_t *mkstore(apr_pool_t *p, apr_uint32_t entries, void **pbase)
{
    apr_size_t sz = oas_shm_store_size_needed(entries);
    void *base = apr_palloc(p, sz);
    oas_store_t *st;

    assert_true(sz > 0);
    assert_int_equal(oas_shm_store_format(base, sz, entries), APR_SUCCESS);
    assert_int_equal(oas_shm_store_attach(&st, p, base, sz, NULL), APR_SUCCESS);
    if (pbase)
        *pbase = base;
    return st;
}

static void test_basic(void **state)
{
    apr_pool_t *p = *state;
    oas_store_t *st = mkstore(p, 16, NULL);
    apr_time_t exp = apr_time_now() + HOUR;

    store_check_put_get(p, st, exp);
    assert_int_equal(live(st), 1);
    store_check_take_del(p, st, exp);
    assert_string_equal(st->name, "shm");
    assert_int_equal(oas_shm_store_verify(NULL, p, st), APR_SUCCESS);
}

static void test_put_new(void **state)
{
    apr_pool_t *p = *state;

    store_check_put_new(p, mkstore(p, 8, NULL));
}

static void test_namespaces(void **state)
{
    apr_pool_t *p = *state;

    store_check_namespaces(p, mkstore(p, 8, NULL));
}

static void test_expiry(void **state)
{
    apr_pool_t *p = *state;
    oas_store_t *st = mkstore(p, 8, NULL);
    apr_uint32_t fc = free_chunks(p, st);
    char *v;
    apr_size_t n;
    int i;

    assert_int_equal(oas_store_put(st, p, NS, "past", "x", 1, apr_time_now() - 1), APR_SUCCESS);
    assert_int_equal(oas_store_get(st, p, NS, "past", &v, &n), APR_NOTFOUND);
    assert_int_equal(live(st), 0); /* met on the chain walk: reclaimed */
    assert_int_equal(free_chunks(p, st), fc);

    assert_int_equal(oas_store_put(st, p, NS, "soon", "x", 1, apr_time_now() + 1000), APR_SUCCESS);
    apr_sleep(5000);
    assert_int_equal(oas_store_take(st, p, NS, "soon", &v, &n), APR_NOTFOUND);

    /* full of entries about to expire: refused now, accepted once they are gone */
    for (i = 0; i < 8; i++) {
        const char *k = apr_psprintf(p, "k%d", i);
        assert_int_equal(oas_store_put(st, p, NS, k, "v", 1, apr_time_now() + 50000), APR_SUCCESS);
    }
    assert_int_equal(oas_store_put(st, p, NS, "more", "v", 1, apr_time_now() + HOUR), APR_ENOSPC);
    apr_sleep(60000);
    for (i = 0; i < 8; i++) {
        const char *k = apr_psprintf(p, "n%d", i);
        assert_int_equal(oas_store_put(st, p, NS, k, "v", 1, apr_time_now() + HOUR), APR_SUCCESS);
    }
    assert_int_equal(live(st), 8);
    assert_int_equal(oas_store_get(st, p, NS, "k3", &v, &n), APR_NOTFOUND);
    assert_int_equal(oas_shm_store_verify(NULL, p, st), APR_SUCCESS);
}

/* A bigger table than one sweep batch: every put on the full, expired table still finds room. */
static void test_sweep_rotates(void **state)
{
    apr_pool_t *p = *state;
    oas_store_t *st = mkstore(p, 1000, NULL);
    apr_time_t soon = apr_time_now() + 30000;
    int i;

    for (i = 0; i < 1000; i++) {
        assert_int_equal(oas_store_put(st, p, NS, apr_itoa(p, i), "v", 1, soon), APR_SUCCESS);
    }
    apr_sleep(40000);
    for (i = 0; i < 1000; i++) {
        const char *k = apr_psprintf(p, "new%d", i);
        assert_int_equal(oas_store_put(st, p, NS, k, "v", 1, apr_time_now() + HOUR), APR_SUCCESS);
    }
    assert_int_equal(live(st), 1000);
    assert_int_equal(oas_shm_store_verify(NULL, p, st), APR_SUCCESS);
}

/* Expired entries are reclaimed by the puts' rotating sweep even when no lookup meets them
 * and the table is far from full: the live count follows the entries in force. */
static void test_reclaim_without_lookups(void **state)
{
    apr_pool_t *p = *state;
    oas_store_t *st = mkstore(p, 1000, NULL);
    apr_time_t soon = apr_time_now() + 30000;
    apr_uint32_t fc = free_chunks(p, st);
    int i;

    for (i = 0; i < 500; i++) {
        assert_int_equal(oas_store_put(st, p, NS, apr_itoa(p, i), "v", 1, soon), APR_SUCCESS);
    }
    assert_int_equal(live(st), 500);
    apr_sleep(40000);
    /* 100 puts look at 1,600 slots: every slot of the table once at least */
    for (i = 0; i < 100; i++) {
        const char *k = apr_psprintf(p, "new%d", i);
        assert_int_equal(oas_store_put(st, p, NS, k, "v", 1, apr_time_now() + HOUR), APR_SUCCESS);
    }
    assert_int_equal(live(st), 100);
    assert_int_equal(free_chunks(p, st), fc - 100);
    assert_int_equal(oas_shm_store_verify(NULL, p, st), APR_SUCCESS);
}

static void test_full(void **state)
{
    apr_pool_t *p = *state;
    oas_store_t *st = mkstore(p, 4, NULL);
    apr_time_t exp = apr_time_now() + HOUR;
    char *v;
    apr_size_t n;
    int i;

    for (i = 0; i < 4; i++) {
        assert_int_equal(oas_store_put(st, p, NS, apr_itoa(p, i), "v", 1, exp), APR_SUCCESS);
    }
    assert_int_equal(oas_store_put(st, p, NS, "x", "v", 1, exp), APR_ENOSPC);
    assert_int_equal(oas_store_put_new(st, p, NS, "x", "v", 1, exp), APR_ENOSPC);
    assert_int_equal(oas_store_put(st, p, NS, "2", "again", 5, exp), APR_SUCCESS); /* overwrite */
    assert_int_equal(oas_store_put_new(st, p, NS, "2", "v", 1, exp), APR_EEXIST);
    assert_int_equal(oas_store_del(st, p, NS, "1"), APR_SUCCESS);
    assert_int_equal(oas_store_put(st, p, NS, "x", "v", 1, exp), APR_SUCCESS);
    assert_int_equal(oas_store_get(st, p, NS, "2", &v, &n), APR_SUCCESS);
    assert_string_equal(v, "again");
    assert_int_equal(live(st), 4);
    assert_int_equal(oas_shm_store_verify(NULL, p, st), APR_SUCCESS);
}

static void test_large_values(void **state)
{
    apr_pool_t *p = *state;
    oas_store_t *st = mkstore(p, 40, NULL); /* 160 chunks of 128 bytes */
    apr_time_t exp = apr_time_now() + HOUR;
    unsigned char *big = apr_palloc(p, OAS_SHM_MAX_VALUE + 1);
    apr_uint32_t fc = free_chunks(p, st);
    apr_uint32_t fc2;
    char *v;
    apr_size_t n;
    apr_size_t len;

    assert_int_equal(fc, 160);
    fill(big, OAS_SHM_MAX_VALUE + 1, 7);
    /* lengths around chunk boundaries, up to 8 KiB */
    for (len = 1; len <= 8192; len = len * 2 + (len & 1 ? 0 : 1)) {
        assert_int_equal(oas_store_put(st, p, NS, "big", big, len, exp), APR_SUCCESS);
        assert_int_equal(oas_store_get(st, p, NS, "big", &v, &n), APR_SUCCESS);
        assert_int_equal(n, len);
        assert_memory_equal(v, big, len);
        assert_int_equal(v[len], '\0');
    }
    assert_int_equal(oas_store_put(st, p, NS, "big", big, 8192, exp), APR_SUCCESS);
    assert_int_equal(oas_store_take(st, p, NS, "big", &v, &n), APR_SUCCESS);
    assert_int_equal(n, 8192);
    assert_memory_equal(v, big, 8192);
    assert_int_equal(free_chunks(p, st), fc);

    /* too large for the limit, or for what is left of the arena: refused, nothing leaked */
    assert_int_equal(oas_store_put(st, p, NS, "huge", big, OAS_SHM_MAX_VALUE + 1, exp), APR_ENOSPC);
    assert_int_equal(free_chunks(p, st), fc);
    assert_int_equal(oas_store_put(st, p, NS, "max", big, OAS_SHM_MAX_VALUE, exp), APR_SUCCESS);
    fc2 = free_chunks(p, st);
    assert_int_equal(fc2, fc - OAS_SHM_MAX_VALUE / OAS_SHM_CHUNK_SIZE);
    assert_int_equal(oas_store_put(st, p, NS, "half", big, 8192, exp), APR_ENOSPC);
    assert_int_equal(free_chunks(p, st), fc2);
    assert_int_equal(live(st), 1);
    /* overwriting the big value reuses its chunks even though the arena is short */
    assert_int_equal(oas_store_put(st, p, NS, "max", big + 1, OAS_SHM_MAX_VALUE, exp), APR_SUCCESS);
    assert_int_equal(oas_store_get(st, p, NS, "max", &v, &n), APR_SUCCESS);
    assert_memory_equal(v, big + 1, OAS_SHM_MAX_VALUE);
    /* a failed overwrite keeps the old value */
    assert_int_equal(oas_store_put(st, p, NS, "max", big, OAS_SHM_MAX_VALUE + 1, exp), APR_ENOSPC);
    assert_int_equal(oas_store_get(st, p, NS, "max", &v, &n), APR_SUCCESS);
    assert_memory_equal(v, big + 1, OAS_SHM_MAX_VALUE);
    assert_int_equal(oas_store_del(st, p, NS, "max"), APR_SUCCESS);
    assert_int_equal(free_chunks(p, st), fc);
}

static void test_capacity_edges(void **state)
{
    apr_pool_t *p = *state;
    static const apr_uint32_t caps[] = {1, 2, 3, 7, 33, 100};
    apr_time_t exp = apr_time_now() + HOUR;
    apr_size_t sz;
    apr_size_t bpe;
    apr_uint32_t cap;
    char *v;
    apr_size_t n;
    size_t i;
    apr_uint32_t j;

    assert_int_equal(oas_shm_store_size_needed(0), 0);
    assert_int_equal(oas_shm_store_size_needed(OAS_SHM_MAX_ENTRIES + 1), 0);
    sz = oas_shm_store_size_needed(4);
    {
        char *base = apr_palloc(p, sz + 8);
        assert_int_equal(oas_shm_store_format(base, sz - 1, 4), APR_EINVAL);
        assert_int_equal(oas_shm_store_format(base + 1, sz, 4), APR_EINVAL);
        assert_int_equal(oas_shm_store_format(base, sz, 0), APR_EINVAL);
    }
    for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        oas_store_t *st = mkstore(p, caps[i], NULL);
        apr_uint32_t fc = free_chunks(p, st);

        for (j = 0; j < caps[i]; j++) {
            assert_int_equal(oas_store_put(st, p, NS, apr_itoa(p, j), "val", 3, exp), APR_SUCCESS);
        }
        assert_int_equal(oas_store_put(st, p, NS, "one-too-many", "v", 1, exp), APR_ENOSPC);
        assert_int_equal(oas_shm_store_verify(NULL, p, st), APR_SUCCESS);
        for (j = 0; j < caps[i]; j++) {
            assert_int_equal(oas_store_take(st, p, NS, apr_itoa(p, j), &v, &n), APR_SUCCESS);
            assert_string_equal(v, "val");
        }
        assert_int_equal(live(st), 0);
        assert_int_equal(free_chunks(p, st), fc);
    }
    /* the figure the module logs: well under 1 KiB per entry */
    oas_shm_store_stats(mkstore(p, 100000, NULL), NULL, &cap, &bpe);
    assert_int_equal(cap, 100000);
    assert_true(bpe < 1024);
    print_message("shm store: %lu bytes per entry\n", (unsigned long)bpe);
}

static void test_attach_rejects(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t sz = oas_shm_store_size_needed(8);
    unsigned char *base;
    oas_store_t *st = mkstore(p, 8, (void **)&base);

    assert_non_null(st);
    assert_int_equal(oas_shm_store_attach(&st, p, base, sz - 1, NULL), APR_EINVAL);
    assert_null(st);
    assert_int_equal(oas_shm_store_attach(&st, p, base, 16, NULL), APR_EINVAL);
    base[0] ^= 1; /* magic */
    assert_int_equal(oas_shm_store_attach(&st, p, base, sz, NULL), APR_EINVAL);
    base[0] ^= 1;
    assert_int_equal(oas_shm_store_attach(&st, p, base, sz, NULL), APR_SUCCESS);
    memset(base, 0, sz);
    assert_int_equal(oas_shm_store_attach(&st, p, base, sz, NULL), APR_EINVAL);
}

/* White box: the header is 448 bytes, `busy` sits at offset 64 (after the salt) and the
 * store's own lock (oas_shm_lock_t) at offset 128. */
#define HDR_SIZE (128 + sizeof(oas_shm_lock_t))
#define BUSY_OFF 64
#define LOCK_OFF 128

static void test_damage(void **state)
{
    apr_pool_t *p = *state;
    apr_uint32_t cap = 16;
    apr_size_t sz = oas_shm_store_size_needed(cap);
    apr_time_t exp = apr_time_now() + HOUR;
    unsigned char *base;
    oas_store_t *st = mkstore(p, cap, (void **)&base);
    unsigned char *copy = apr_palloc(p, sz);
    apr_uint32_t one = 1;
    unsigned int seed = 1;
    char *v;
    apr_size_t n;
    int round;
    int i;

    /* a holder died mid-update: the next operation starts from an empty table */
    assert_int_equal(oas_store_put(st, p, NS, "k", "v", 1, exp), APR_SUCCESS);
    memcpy(base + BUSY_OFF, &one, sizeof(one));
    assert_int_equal(oas_store_get(st, p, NS, "k", &v, &n), APR_NOTFOUND);
    assert_int_equal(oas_shm_store_verify(NULL, p, st), APR_SUCCESS);

    /* everything after the header is garbage: out-of-range indexes, found and wiped */
    assert_int_equal(oas_store_put(st, p, NS, "k", "v", 1, exp), APR_SUCCESS);
    memset(base + HDR_SIZE, 0xa5, sz - HDR_SIZE);
    assert_int_equal(oas_store_get(st, p, NS, "k", &v, &n), APR_NOTFOUND);
    assert_int_equal(oas_shm_store_verify(NULL, p, st), APR_SUCCESS);
    assert_int_equal(oas_store_put(st, p, NS, "k", "v", 1, exp), APR_SUCCESS);

    /* random byte flips anywhere past the magic: no crash (ASan watches), no garbage */
    for (i = 0; i < 12; i++) {
        unsigned char *val = apr_palloc(p, 300);
        fill(val, 300, (unsigned int)i);
        assert_int_equal(oas_store_put(st, p, NS, apr_itoa(p, i), val, 300, exp), APR_SUCCESS);
    }
    memcpy(copy, base, sz);
    for (round = 0; round < 200; round++) {
        memcpy(base, copy, sz);
        for (i = 0; i < 8; i++) {
            apr_size_t off;
            seed = seed * 1103515245u + 12345u;
            off = 4 + (seed >> 8) % (sz - 4);
            seed = seed * 1103515245u + 12345u;
            base[off] ^= (unsigned char)(1 + (seed >> 16) % 255);
        }
        for (i = 0; i < 14; i++) {
            const char *k = apr_itoa(p, i);
            apr_status_t rv = oas_store_get(st, p, NS, k, &v, &n);
            assert_true(rv == APR_SUCCESS || rv == APR_NOTFOUND);
            if (rv == APR_SUCCESS)
                assert_true(n == 300 || n == 1);
            rv = oas_store_put(st, p, NS, apr_psprintf(p, "n%d", i), "v", 1, exp);
            assert_true(rv == APR_SUCCESS || rv == APR_ENOSPC || rv == APR_EGENERAL);
            rv = oas_store_take(st, p, NS, k, NULL, NULL);
            assert_true(rv == APR_SUCCESS || rv == APR_NOTFOUND);
        }
    }
}

/* A child dies holding the lock in the middle of an update: the lock is released by the
 * system (robust pthread mutex, fcntl, flock, SysV SEM_UNDO) and the next holder sees `busy`
 * and starts from an empty table instead of trusting a half-written slot. */
/* oas_shm_store_usage: the counters server-status shows follow puts, overwrites, takes,
 * expiry and a wipe, and agree with the full check. */
static void test_usage(void **state)
{
    apr_pool_t *p = *state;
    oas_store_t *st = mkstore(p, 16, NULL);
    apr_time_t exp = apr_time_now() + HOUR;
    char big[3 * OAS_SHM_CHUNK_SIZE + 1];
    oas_shm_usage_t u;
    char *v;
    apr_size_t n;

    memset(big, 'b', sizeof(big));
    assert_int_equal(oas_shm_store_usage(&u, st), APR_SUCCESS);
    assert_int_equal(u.entries, 0);
    assert_int_equal(u.capacity, 16);
    assert_int_equal(u.chunks_used, 0);
    assert_int_equal(u.chunks, free_chunks(p, st));
    assert_int_equal(u.value_bytes, 0);
    assert_int_equal(u.bytes, oas_shm_store_size_needed(16));
    assert_int_equal(u.resets, 0);

    assert_int_equal(oas_store_put(st, p, NS, "a", "v", 1, exp), APR_SUCCESS);
    assert_int_equal(oas_store_put(st, p, NS, "b", big, sizeof(big), exp), APR_SUCCESS);
    assert_int_equal(oas_store_put(st, p, NS, "c", "", 0, exp), APR_SUCCESS); /* no chunk */
    assert_int_equal(oas_shm_store_usage(&u, st), APR_SUCCESS);
    assert_int_equal(u.entries, 3);
    assert_int_equal(u.chunks_used, 1 + 4);
    assert_int_equal(u.chunks - u.chunks_used, free_chunks(p, st));
    assert_int_equal(u.value_bytes, 5 * OAS_SHM_CHUNK_SIZE);

    /* an overwrite keeps the entry count and changes the chunks */
    assert_int_equal(oas_store_put(st, p, NS, "b", "w", 1, exp), APR_SUCCESS);
    assert_int_equal(oas_shm_store_usage(&u, st), APR_SUCCESS);
    assert_int_equal(u.entries, 3);
    assert_int_equal(u.chunks_used, 2);

    /* take and expiry give them back */
    assert_int_equal(oas_store_take(st, p, NS, "a", &v, &n), APR_SUCCESS);
    assert_int_equal(oas_store_put(st, p, NS, "old", "x", 1, apr_time_now() - 1), APR_SUCCESS);
    assert_int_equal(oas_shm_store_usage(&u, st), APR_SUCCESS);
    assert_int_equal(u.entries, 3); /* the expired one counts until it is reclaimed */
    assert_int_equal(oas_store_get(st, p, NS, "old", &v, &n), APR_NOTFOUND);
    assert_int_equal(oas_shm_store_usage(&u, st), APR_SUCCESS);
    assert_int_equal(u.entries, 2);
    assert_int_equal(u.chunks_used, 1);
    assert_int_equal(u.chunks - u.chunks_used, free_chunks(p, st));
}

/* A holder that died inside the lock: the next reader of the counters wipes the table and
 * the wipe is counted. */
static void test_usage_after_wipe(void **state)
{
    apr_pool_t *p = *state;
    unsigned char *base;
    oas_store_t *st = mkstore(p, 8, (void **)&base);
    apr_uint32_t one = 1;
    oas_shm_usage_t u;

    assert_int_equal(oas_store_put(st, p, NS, "k", "v", 1, apr_time_now() + HOUR), APR_SUCCESS);
    memcpy(base + BUSY_OFF, &one, sizeof(one));
    assert_int_equal(oas_shm_store_usage(&u, st), APR_SUCCESS);
    assert_int_equal(u.entries, 0);
    assert_int_equal(u.chunks_used, 0);
    assert_int_equal(u.resets, 1);
    assert_int_equal(oas_shm_store_verify(NULL, p, st), APR_SUCCESS);
}

/* In a forked child holding the lock: mark the table busy, half-write it and die. */
static void die_mid_update(unsigned char *base)
{
    apr_uint32_t one = 1;

    memcpy(base + BUSY_OFF, &one, sizeof(one));
    memset(base + HDR_SIZE, 0x5a, 16); /* the half-written part */
    _exit(0);
}

/* In a forked child (no cmocka asserts there): joins the parent's mutex in a pool of its
 * own and takes it; NULL when either fails. */
static apr_global_mutex_t *child_lock(apr_global_mutex_t *mutex, const char *lock)
{
    apr_global_mutex_t *m = mutex;
    apr_pool_t *cp;

    apr_pool_create(&cp, NULL);
    if (apr_global_mutex_child_init(&m, lock, cp) != APR_SUCCESS ||
        apr_global_mutex_lock(m) != APR_SUCCESS)
        return NULL;
    return m;
}

/* A holder that is alive but does not let go (a stopped child): other operations give up
 * after the lock timeout with APR_TIMEUP, change nothing, and work again once it lets go. */
static void test_lock_timeout(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t sz = oas_shm_store_size_needed(8);
    apr_time_t exp = apr_time_now() + HOUR;
    const char *lock = apr_psprintf(p, "/tmp/oas-test-timeout-%ld.lock", (long)getpid());
    apr_global_mutex_t *mutex;
    apr_shm_t *shm;
    apr_proc_t kid;
    oas_store_t *st;
    oas_shm_usage_t u;
    apr_exit_why_e why;
    apr_time_t t0;
    int code = -1;
    int pipefd[2];
    char c;
    char *v;
    apr_size_t n;

    assert_int_equal(apr_shm_create(&shm, sz, NULL, p), APR_SUCCESS);
    assert_int_equal(apr_global_mutex_create(&mutex, lock, APR_LOCK_DEFAULT, p), APR_SUCCESS);
    assert_int_equal(oas_shm_store_format(apr_shm_baseaddr_get(shm), sz, 8), APR_SUCCESS);
    assert_int_equal(oas_shm_store_attach(&st, p, apr_shm_baseaddr_get(shm), sz, mutex),
                     APR_SUCCESS);
    oas_shm_store_set_lock_timeout(st, apr_time_from_msec(200));
    assert_int_equal(oas_store_put(st, p, NS, "k", "v", 1, exp), APR_SUCCESS);
    assert_int_equal(pipe(pipefd), 0);
    if (apr_proc_fork(&kid, p) == APR_INCHILD) {
        apr_global_mutex_t *m = child_lock(mutex, lock);

        if (!m)
            _exit(2);
        if (write(pipefd[1], "L", 1) != 1) /* holding it */
            _exit(3);
        apr_sleep(apr_time_from_msec(1500));
        apr_global_mutex_unlock(m);
        _exit(0);
    }
    assert_int_equal(read(pipefd[0], &c, 1), 1);
    t0 = apr_time_now();
    assert_true(APR_STATUS_IS_TIMEUP(oas_store_put(st, p, NS, "x", "v", 1, exp)));
    assert_true(apr_time_now() - t0 < apr_time_from_msec(1200));
    assert_true(APR_STATUS_IS_TIMEUP(oas_store_take(st, p, NS, "k", &v, &n)));
    assert_true(APR_STATUS_IS_TIMEUP(oas_shm_store_usage(&u, st)));
    assert_int_equal(u.capacity, 8); /* the fixed figures are there */
    assert_int_equal(apr_proc_wait(&kid, &code, &why, APR_WAIT), APR_CHILD_DONE);
    assert_int_equal(code, 0);
    /* nothing was changed meanwhile, nothing wiped */
    assert_int_equal(oas_store_get(st, p, NS, "x", &v, &n), APR_NOTFOUND);
    assert_int_equal(oas_store_take(st, p, NS, "k", &v, &n), APR_SUCCESS);
    assert_int_equal(oas_shm_store_usage(&u, st), APR_SUCCESS);
    assert_int_equal(u.resets, 0);
    close(pipefd[0]);
    close(pipefd[1]);
    apr_global_mutex_destroy(mutex);
    apr_shm_destroy(shm);
}

static void test_holder_dies(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t sz = oas_shm_store_size_needed(8);
    apr_time_t exp = apr_time_now() + HOUR;
    const char *lock = apr_psprintf(p, "/tmp/oas-test-dies-%ld.lock", (long)getpid());
    const char *mech;
    apr_global_mutex_t *mutex;
    apr_shm_t *shm;
    apr_proc_t kid;
    oas_store_t *st;
    unsigned char *base;
    apr_exit_why_e why;
    int code = -1;
    char *v;
    apr_size_t n;

    assert_int_equal(apr_shm_create(&shm, sz, NULL, p), APR_SUCCESS);
    base = apr_shm_baseaddr_get(shm);
    assert_int_equal(apr_global_mutex_create(&mutex, lock, APR_LOCK_DEFAULT, p), APR_SUCCESS);
    mech = apr_global_mutex_name(mutex);
    if (strcmp(mech, "pthread") && strcmp(mech, "fcntl") && strcmp(mech, "flock") &&
        strcmp(mech, "sysvsem")) {
        skip(); /* a lock that stays held after its owner died would hang this test */
    }
    assert_int_equal(oas_shm_store_format(base, sz, 8), APR_SUCCESS);
    assert_int_equal(oas_shm_store_attach(&st, p, base, sz, mutex), APR_SUCCESS);
    assert_int_equal(oas_store_put(st, p, NS, "k", "v", 1, exp), APR_SUCCESS);
    if (apr_proc_fork(&kid, p) == APR_INCHILD) {
        if (!child_lock(mutex, lock))
            _exit(2);
        die_mid_update(base);
    }
    assert_int_equal(apr_proc_wait(&kid, &code, &why, APR_WAIT), APR_CHILD_DONE);
    assert_int_equal(code, 0);
    assert_int_equal(oas_store_get(st, p, NS, "k", &v, &n), APR_NOTFOUND);
    assert_int_equal(oas_shm_store_verify(NULL, p, st), APR_SUCCESS);
    assert_int_equal(oas_store_put(st, p, NS, "k", "v", 1, exp), APR_SUCCESS);
    assert_int_equal(oas_store_get(st, p, NS, "k", &v, &n), APR_SUCCESS);
    apr_global_mutex_destroy(mutex);
    apr_shm_destroy(shm);
}

/* A store of 8 entries on a fresh segment, with the lock kept in the segment, holding "k". */
static oas_store_t *own_lock_store(apr_pool_t *p, apr_shm_t **pshm, unsigned char **pbase,
                                   oas_shm_lock_t **plk)
{
    apr_size_t sz = oas_shm_store_size_needed(8);
    oas_store_t *st;

    assert_int_equal(apr_shm_create(pshm, sz, NULL, p), APR_SUCCESS);
    *pbase = apr_shm_baseaddr_get(*pshm);
    *plk = (oas_shm_lock_t *)(*pbase + LOCK_OFF);
    assert_int_equal(oas_shm_store_format(*pbase, sz, 8), APR_SUCCESS);
    assert_int_equal(oas_shm_store_attach_own_lock(&st, p, *pbase, sz), APR_SUCCESS);
    assert_int_equal(oas_store_put(st, p, NS, "k", "v", 1, apr_time_now() + HOUR), APR_SUCCESS);
    return st;
}

/* The same with the lock kept in the segment: a forked child takes it, marks the table busy,
 * half-writes and dies. The next operation gets EOWNERDEAD (recovered), sees busy and
 * wipes the table; the lock works normally afterwards. */
static void test_holder_dies_own_lock(void **state)
{
    apr_pool_t *p = *state;
    apr_time_t exp = apr_time_now() + HOUR;
    apr_shm_t *shm;
    apr_proc_t kid;
    oas_shm_lock_t *lk;
    unsigned char *base;
    oas_store_t *st = own_lock_store(p, &shm, &base, &lk);
    apr_exit_why_e why;
    int code = -1;
    char *v;
    apr_size_t n;

    assert_int_equal(lk->recoveries, 0);
    if (apr_proc_fork(&kid, p) == APR_INCHILD) {
        int rec;

        if (oas_shm_lock_acquire(lk, apr_time_from_sec(5), &rec) != APR_SUCCESS)
            _exit(2);
        die_mid_update(base);
    }
    assert_int_equal(apr_proc_wait(&kid, &code, &why, APR_WAIT), APR_CHILD_DONE);
    assert_int_equal(code, 0);
    assert_int_equal(oas_store_get(st, p, NS, "k", &v, &n), APR_NOTFOUND);
    assert_int_equal(lk->recoveries, 1);
    assert_int_equal(oas_shm_store_verify(NULL, p, st), APR_SUCCESS);
    assert_int_equal(oas_store_put(st, p, NS, "k", "v", 1, exp), APR_SUCCESS);
    assert_int_equal(oas_store_get(st, p, NS, "k", &v, &n), APR_SUCCESS);
    assert_int_equal(lk->recoveries, 1);
    apr_shm_destroy(shm);
}

/* The lock's slot made not recoverable (a recovered mutex released without being made
 * consistent): the next operation moves to a spare slot, and since nothing is known about
 * the table then, wipes it; the store works normally afterwards. */
static void test_own_lock_not_recoverable(void **state)
{
    apr_pool_t *p = *state;
    apr_time_t exp = apr_time_now() + HOUR;
    apr_shm_t *shm;
    apr_proc_t kid;
    oas_shm_lock_t *lk;
    oas_shm_usage_t u;
    unsigned char *base;
    oas_store_t *st = own_lock_store(p, &shm, &base, &lk);
    apr_exit_why_e why;
    int code = -1;
    char *v;
    apr_size_t n;

    if (apr_proc_fork(&kid, p) == APR_INCHILD) {
        int rec;
        _exit(oas_shm_lock_acquire(lk, apr_time_from_sec(5), &rec) == APR_SUCCESS ? 0 : 2);
    }
    assert_int_equal(apr_proc_wait(&kid, &code, &why, APR_WAIT), APR_CHILD_DONE);
    assert_int_equal(code, 0);
    assert_int_equal(pthread_mutex_lock(&lk->slot[0].m), EOWNERDEAD);
    assert_int_equal(pthread_mutex_unlock(&lk->slot[0].m), 0); /* not made consistent */
    assert_int_equal(oas_store_get(st, p, NS, "k", &v, &n), APR_NOTFOUND);
    assert_int_equal(lk->current, 1);
    assert_int_equal(oas_shm_store_usage(&u, st), APR_SUCCESS);
    assert_int_equal(u.resets, 1);
    assert_int_equal(oas_shm_store_verify(NULL, p, st), APR_SUCCESS);
    assert_int_equal(oas_store_put(st, p, NS, "k", "v", 1, exp), APR_SUCCESS);
    assert_int_equal(oas_store_get(st, p, NS, "k", &v, &n), APR_SUCCESS);
    assert_int_equal(oas_shm_store_usage(&u, st), APR_SUCCESS);
    assert_int_equal(u.resets, 1); /* the spare slot is an ordinary lock: no more wipes */
    assert_int_equal(lk->current, 1);
    apr_shm_destroy(shm);
}

/* ---- races: exactly one take wins per key ---- */

#define RACERS 8
#define RACE_KEYS 1024

typedef struct {
    oas_store_t *st;
    apr_pool_t *p;
    volatile apr_uint32_t *go;
    volatile apr_uint32_t *wins; /* RACE_KEYS counters */
    volatile apr_uint32_t *errors;
    int id;
} racer_t;

static void race_setup(oas_store_t *st, apr_pool_t *p)
{
    apr_time_t exp = apr_time_now() + HOUR;
    int k;

    for (k = 0; k < RACE_KEYS; k++) {
        const char *key = apr_psprintf(p, "race-%d", k);
        assert_int_equal(oas_store_put(st, p, OAS_NS_CODE, key, key, strlen(key), exp),
                         APR_SUCCESS);
    }
}

/* Every racer tries every key, starting at its own offset so that they collide. */
static void race_run(racer_t *r)
{
    apr_pool_t *sub;
    int i;

    apr_pool_create(&sub, r->p);
    while (!apr_atomic_read32(r->go)) {
        /* spin: all racers start together */
    }
    for (i = 0; i < RACE_KEYS; i++) {
        int k = (i + r->id * (RACE_KEYS / RACERS / 2)) % RACE_KEYS;
        const char *key = apr_psprintf(sub, "race-%d", k);
        char *v;
        apr_size_t n;
        apr_status_t rv = oas_store_take(r->st, sub, OAS_NS_CODE, key, &v, &n);

        if (rv == APR_SUCCESS && n == strlen(key) && !strcmp(v, key))
            apr_atomic_inc32(&r->wins[k]);
        else if (rv != APR_NOTFOUND)
            apr_atomic_inc32(r->errors);
        apr_pool_clear(sub);
    }
    apr_pool_destroy(sub);
}

static void race_check(apr_pool_t *p, oas_store_t *st, volatile apr_uint32_t *wins,
                       volatile apr_uint32_t *errors)
{
    int k;

    assert_int_equal(*errors, 0);
    for (k = 0; k < RACE_KEYS; k++) {
        assert_int_equal(wins[k], 1);
    }
    assert_int_equal(live(st), 0);
    assert_int_equal(oas_shm_store_verify(NULL, p, st), APR_SUCCESS);
}

static void race_processes(apr_pool_t *p, int own)
{
    apr_size_t ssz = oas_shm_store_size_needed(RACE_KEYS);
    apr_size_t csz = sizeof(apr_uint32_t) * (RACE_KEYS + 2);
    const char *lock = apr_psprintf(p, "/tmp/oas-test-store-%ld.lock", (long)getpid());
    apr_global_mutex_t *mutex;
    apr_shm_t *shm;
    apr_proc_t kids[RACERS];
    oas_store_t *st;
    unsigned char *base;
    volatile apr_uint32_t *ctr;
    racer_t r;
    int i;

    assert_int_equal(apr_shm_create(&shm, ssz + csz, NULL, p), APR_SUCCESS);
    base = apr_shm_baseaddr_get(shm);
    memset(base, 0, ssz + csz);
    ctr = (volatile apr_uint32_t *)(base + ssz); /* [0] go, [1] errors, [2..] wins */
    assert_int_equal(apr_global_mutex_create(&mutex, lock, APR_LOCK_DEFAULT, p), APR_SUCCESS);
    assert_int_equal(oas_shm_store_format(base, ssz, RACE_KEYS), APR_SUCCESS);
    if (own)
        assert_int_equal(oas_shm_store_attach_own_lock(&st, p, base, ssz), APR_SUCCESS);
    else
        assert_int_equal(oas_shm_store_attach(&st, p, base, ssz, mutex), APR_SUCCESS);
    race_setup(st, p);

    for (i = 0; i < RACERS; i++) {
        apr_status_t rv = apr_proc_fork(&kids[i], p);
        if (rv == APR_INCHILD) {
            apr_global_mutex_t *m = mutex;
            apr_pool_t *cp;
            oas_store_t *cst;

            /* no cmocka asserts here: report through the shared counters and exit code */
            apr_pool_create(&cp, NULL);
            if (own ? oas_shm_store_attach_own_lock(&cst, cp, base, ssz) != APR_SUCCESS
                    : (apr_global_mutex_child_init(&m, lock, cp) != APR_SUCCESS ||
                       oas_shm_store_attach(&cst, cp, base, ssz, m) != APR_SUCCESS))
                _exit(2);
            r.st = cst;
            r.p = cp;
            r.go = &ctr[0];
            r.errors = &ctr[1];
            r.wins = &ctr[2];
            r.id = i;
            race_run(&r);
            _exit(0); /* skip atexit handlers (cmocka, ASan leak check of the parent's pools) */
        }
        assert_int_equal(rv, APR_INPARENT);
    }
    apr_atomic_set32(&ctr[0], 1);
    for (i = 0; i < RACERS; i++) {
        int code = -1;
        apr_exit_why_e why;
        assert_int_equal(apr_proc_wait(&kids[i], &code, &why, APR_WAIT), APR_CHILD_DONE);
        assert_int_equal(why, APR_PROC_EXIT);
        assert_int_equal(code, 0);
    }
    race_check(p, st, &ctr[2], &ctr[1]);
    apr_global_mutex_destroy(mutex);
    apr_shm_destroy(shm);
}

static void *APR_THREAD_FUNC race_thread(apr_thread_t *t, void *data)
{
    race_run(data);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static void test_race_processes(void **state)
{
    race_processes(*state, 0);
}

static void test_race_processes_own_lock(void **state)
{
    race_processes(*state, 1);
}

static void race_threads(apr_pool_t *p, int own)
{
    static apr_uint32_t ctr[RACE_KEYS + 2];
    apr_global_mutex_t *mutex;
    apr_thread_t *threads[RACERS];
    racer_t racers[RACERS];
    oas_store_t *st;
    apr_size_t sz = oas_shm_store_size_needed(RACE_KEYS);
    void *base = apr_palloc(p, sz);
    int i;

    memset(ctr, 0, sizeof(ctr));
    assert_int_equal(apr_global_mutex_create(&mutex, NULL, APR_LOCK_DEFAULT, p), APR_SUCCESS);
    assert_int_equal(oas_shm_store_format(base, sz, RACE_KEYS), APR_SUCCESS);
    if (own)
        assert_int_equal(oas_shm_store_attach_own_lock(&st, p, base, sz), APR_SUCCESS);
    else
        assert_int_equal(oas_shm_store_attach(&st, p, base, sz, mutex), APR_SUCCESS);
    race_setup(st, p);
    for (i = 0; i < RACERS; i++) {
        racers[i].st = st;
        apr_pool_create(&racers[i].p, p); /* pools are per thread: made here, not there */
        racers[i].go = &ctr[0];
        racers[i].errors = &ctr[1];
        racers[i].wins = &ctr[2];
        racers[i].id = i;
        assert_int_equal(apr_thread_create(&threads[i], NULL, race_thread, &racers[i], p),
                         APR_SUCCESS);
    }
    apr_atomic_set32(&ctr[0], 1);
    for (i = 0; i < RACERS; i++) {
        apr_status_t trv;
        assert_int_equal(apr_thread_join(&trv, threads[i]), APR_SUCCESS);
    }
    race_check(p, st, &ctr[2], &ctr[1]);
}

static void test_race_threads(void **state)
{
    race_threads(*state, 0);
}

static void test_race_threads_own_lock(void **state)
{
    race_threads(*state, 1);
}

/* ---- classes (issue 14): best-effort records give way oldest first, live ones never ---- */

#define BE OAS_NS_CODE_USED /* a best-effort namespace */
#define LV OAS_NS_CODE      /* a live one */

static apr_uint64_t events(oas_store_t *st, int ev)
{
    oas_shm_usage_t u;
    assert_int_equal(oas_shm_store_usage(&u, st), APR_SUCCESS);
    return u.events[ev];
}

static int has(apr_pool_t *p, oas_store_t *st, int ns, const char *key)
{
    char *v;
    apr_size_t n;
    apr_status_t rv = oas_store_get(st, p, ns, key, &v, &n);

    assert_true(rv == APR_SUCCESS || rv == APR_NOTFOUND);
    return rv == APR_SUCCESS;
}

/* A full store of best-effort records takes new ones of either class by evicting the oldest;
 * an overwrite counts as new; each eviction is counted. */
static void test_evict_oldest_first(void **state)
{
    apr_pool_t *p = *state;
    oas_store_t *st = mkstore(p, 8, NULL);
    apr_time_t exp = apr_time_now() + HOUR;
    int i;

    for (i = 0; i < 8; i++) {
        assert_int_equal(oas_store_put(st, p, BE, apr_itoa(p, i), "t", 1, exp), APR_SUCCESS);
    }
    assert_int_equal(events(st, OAS_STORE_EV_EVICTED), 0);
    /* "0" rewritten: now the newest, so "1" goes first */
    assert_int_equal(oas_store_put(st, p, BE, "0", "t2", 2, exp), APR_SUCCESS);
    assert_int_equal(oas_store_put(st, p, LV, "live-a", "c", 1, exp), APR_SUCCESS);
    assert_false(has(p, st, BE, "1"));
    assert_true(has(p, st, BE, "0") && has(p, st, BE, "2"));
    assert_int_equal(oas_store_put(st, p, BE, "new", "t", 1, exp), APR_SUCCESS);
    assert_false(has(p, st, BE, "2"));
    assert_true(has(p, st, BE, "3"));
    assert_int_equal(events(st, OAS_STORE_EV_EVICTED), 2);
    assert_int_equal(events(st, OAS_STORE_EV_FULL), 0);
    /* taking a record from the middle unlinks it from the FIFO */
    assert_int_equal(oas_store_take(st, p, BE, "5", NULL, NULL), APR_SUCCESS);
    assert_int_equal(oas_shm_store_verify(NULL, p, st), APR_SUCCESS);
    assert_int_equal(oas_store_put(st, p, LV, "live-b", "c", 1, exp), APR_SUCCESS); /* free */
    assert_int_equal(oas_store_put(st, p, LV, "live-c", "c", 1, exp), APR_SUCCESS); /* "3" */
    assert_false(has(p, st, BE, "3"));
    assert_true(has(p, st, BE, "4") && has(p, st, BE, "6") && has(p, st, BE, "new"));
    assert_int_equal(events(st, OAS_STORE_EV_EVICTED), 3);
    assert_int_equal(oas_shm_store_verify(NULL, p, st), APR_SUCCESS);
}

/* Live records are never evicted: when they alone fill the slots or the arena, a put of
 * either class is refused with APR_ENOSPC and counted, and nothing is lost. */
static void test_live_never_evicted(void **state)
{
    apr_pool_t *p = *state;
    oas_store_t *st = mkstore(p, 6, NULL); /* 128 chunks: one value of the maximum size */
    apr_time_t exp = apr_time_now() + HOUR;
    unsigned char *big = apr_palloc(p, OAS_SHM_MAX_VALUE);
    int i;

    fill(big, OAS_SHM_MAX_VALUE, 3);
    for (i = 0; i < 5; i++) {
        assert_int_equal(oas_store_put(st, p, LV, apr_itoa(p, i), "c", 1, exp), APR_SUCCESS);
    }
    assert_int_equal(oas_store_put(st, p, BE, "t", "t", 1, exp), APR_SUCCESS);
    /* a live put evicts the one best-effort record; then the slots are all live */
    assert_int_equal(oas_store_put(st, p, LV, "5", "c", 1, exp), APR_SUCCESS);
    assert_false(has(p, st, BE, "t"));
    assert_int_equal(oas_store_put(st, p, LV, "6", "c", 1, exp), APR_ENOSPC);
    assert_int_equal(oas_store_put(st, p, BE, "u", "t", 1, exp), APR_ENOSPC);
    assert_int_equal(events(st, OAS_STORE_EV_FULL), 2);
    assert_int_equal(events(st, OAS_STORE_EV_EVICTED), 1);
    for (i = 0; i < 6; i++) {
        assert_true(has(p, st, LV, apr_itoa(p, i)));
    }
    /* the arena: live values hold all but two chunks, a best-effort record holds one of
     * them and gives it up for a live value needing two; one needing three is refused
     * without evicting anything */
    for (i = 1; i < 6; i++) {
        assert_int_equal(oas_store_del(st, p, LV, apr_itoa(p, i)), APR_SUCCESS);
    }
    assert_int_equal(oas_store_put(st, p, LV, "0", big, OAS_SHM_MAX_VALUE - 2 * 128, exp),
                     APR_SUCCESS);
    assert_int_equal(oas_store_put(st, p, BE, "t", big, 128, exp), APR_SUCCESS);
    assert_int_equal(oas_store_put(st, p, LV, "x", big, 3 * 128, exp), APR_ENOSPC);
    assert_true(has(p, st, BE, "t"));
    assert_int_equal(oas_store_put(st, p, LV, "x", big, 2 * 128, exp), APR_SUCCESS);
    assert_false(has(p, st, BE, "t"));
    assert_int_equal(events(st, OAS_STORE_EV_FULL), 3);
    assert_int_equal(events(st, OAS_STORE_EV_EVICTED), 2);
    assert_int_equal(oas_shm_store_verify(NULL, p, st), APR_SUCCESS);
}

/* A large live value takes the chunks of as many best-effort records as it needs. */
static void test_evict_for_chunks(void **state)
{
    apr_pool_t *p = *state;
    oas_store_t *st = mkstore(p, 40, NULL); /* 160 chunks */
    apr_time_t exp = apr_time_now() + HOUR;
    unsigned char *big = apr_palloc(p, OAS_SHM_MAX_VALUE);
    char *v;
    apr_size_t n;
    int i;

    fill(big, OAS_SHM_MAX_VALUE, 5);
    for (i = 0; i < 40; i++) { /* 4 chunks each: the arena is full */
        assert_int_equal(oas_store_put(st, p, BE, apr_itoa(p, i), big, 512, exp), APR_SUCCESS);
    }
    assert_int_equal(oas_store_put(st, p, LV, "big", big, 8192, exp), APR_SUCCESS);
    assert_int_equal(events(st, OAS_STORE_EV_EVICTED), 16); /* 64 chunks */
    assert_false(has(p, st, BE, "15"));
    assert_true(has(p, st, BE, "16"));
    assert_int_equal(oas_store_get(st, p, LV, "big", &v, &n), APR_SUCCESS);
    assert_int_equal(n, 8192);
    assert_memory_equal(v, big, 8192);
    assert_int_equal(oas_shm_store_verify(NULL, p, st), APR_SUCCESS);
}

/* Bytes by class: each record is charged its slot and its chunks. */
static void test_bytes_by_class(void **state)
{
    apr_pool_t *p = *state;
    oas_store_t *st = mkstore(p, 16, NULL);
    apr_time_t exp = apr_time_now() + HOUR;
    char val[300];
    oas_shm_usage_t u;

    memset(val, 'v', sizeof(val));
    assert_int_equal(oas_store_put(st, p, LV, "a", val, 300, exp), APR_SUCCESS); /* 3 chunks */
    assert_int_equal(oas_store_put(st, p, LV, "b", val, 0, exp), APR_SUCCESS);   /* none */
    assert_int_equal(oas_store_put(st, p, BE, "c", val, 129, exp), APR_SUCCESS); /* 2 */
    assert_int_equal(oas_shm_store_usage(&u, st), APR_SUCCESS);
    assert_int_equal(u.class_entries[OAS_STORE_LIVE], 2);
    assert_int_equal(u.class_entries[OAS_STORE_BEST_EFFORT], 1);
    assert_int_equal(u.class_bytes[OAS_STORE_LIVE],
                     2 * OAS_SHM_SLOT_BYTES + 3 * OAS_SHM_CHUNK_BYTES);
    assert_int_equal(u.class_bytes[OAS_STORE_BEST_EFFORT],
                     OAS_SHM_SLOT_BYTES + 2 * OAS_SHM_CHUNK_BYTES);
    assert_int_equal(OAS_SHM_SLOT_BYTES, 68);
    assert_int_equal(OAS_SHM_CHUNK_BYTES, 132);
    /* overwrite, take: the books follow */
    assert_int_equal(oas_store_put(st, p, LV, "a", val, 10, exp), APR_SUCCESS);
    assert_int_equal(oas_store_take(st, p, BE, "c", NULL, NULL), APR_SUCCESS);
    assert_int_equal(oas_shm_store_usage(&u, st), APR_SUCCESS);
    assert_int_equal(u.class_bytes[OAS_STORE_LIVE], 2 * OAS_SHM_SLOT_BYTES + OAS_SHM_CHUNK_BYTES);
    assert_int_equal(u.class_bytes[OAS_STORE_BEST_EFFORT], 0);
    assert_int_equal(u.class_entries[OAS_STORE_BEST_EFFORT], 0);
    assert_int_equal(oas_shm_store_verify(NULL, p, st), APR_SUCCESS);
}

/* A store sized in bytes: the whole region laid out at 2 chunks per slot, within its size. */
static void test_format_bytes(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t sizes[] = {OAS_SHM_MIN_BYTES, 512 * 1024, 4 * 1024 * 1024 + 13};
    oas_shm_usage_t u;
    unsigned int i;

    assert_int_equal(oas_shm_store_entries_in(OAS_SHM_MIN_BYTES - 1), 0);
    assert_int_equal(oas_shm_store_entries_in((apr_size_t)1 << 40), 0); /* too many slots */
    assert_int_equal(oas_shm_store_entries_in(oas_shm_store_max_bytes()), OAS_SHM_MAX_ENTRIES);
    assert_int_equal(oas_shm_store_entries_in(oas_shm_store_max_bytes() + 1), 0);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        apr_uint32_t n = oas_shm_store_entries_in(sizes[i]);
        void *base = apr_palloc(p, sizes[i]);
        oas_store_t *st;

        assert_true(n > 0);
        /* a slot and its 2 chunks cost 332 bytes; the header takes less than a page */
        assert_true((apr_size_t)n * 332 < sizes[i] && (apr_size_t)(n + 1) * 332 + 4096 > sizes[i]);
        assert_int_equal(oas_shm_store_format_bytes(base, sizes[i]), APR_SUCCESS);
        assert_int_equal(oas_shm_store_attach(&st, p, base, sizes[i], NULL), APR_SUCCESS);
        oas_shm_store_geometry(&u, st);
        assert_int_equal(u.capacity, n);
        assert_int_equal(u.chunks, 2 * n);
        assert_true(u.bytes <= sizes[i] && u.bytes + 332 + 16 > sizes[i]);
        assert_int_equal(oas_store_put(st, p, NS, "k", "v", 1, apr_time_now() + HOUR),
                         APR_SUCCESS);
        assert_int_equal(oas_shm_store_verify(NULL, p, st), APR_SUCCESS);
    }
    assert_int_equal(oas_shm_store_format_bytes(apr_palloc(p, 1024), 1024), APR_EINVAL);
}

/* incr: a counter starts at delta with its expiry, later adds keep the expiry; a value that
 * is not a counter starts again; the text is the one oas_store_incr's fallback reads. */
static void test_incr(void **state)
{
    apr_pool_t *p = *state;
    oas_store_t *st = mkstore(p, 8, NULL);
    apr_time_t exp = apr_time_now() + HOUR;
    apr_int64_t count = 0;
    apr_time_t until = 0;
    char *v;
    apr_size_t n;
    int i;

    assert_non_null(st->incr);
    assert_int_equal(oas_store_incr(st, p, OAS_NS_AUTHFAIL, "c\n1.2.3.4", 1, exp, &count, &until),
                     APR_SUCCESS);
    assert_int_equal(count, 1);
    assert_true(until == exp);
    assert_int_equal(oas_store_incr(st, p, OAS_NS_AUTHFAIL, "c\n1.2.3.4", 5, exp + HOUR, &count,
                                    &until), APR_SUCCESS);
    assert_int_equal(count, 6);
    assert_true(until == exp); /* kept */
    assert_int_equal(oas_store_incr(st, p, OAS_NS_AUTHFAIL, "c\n1.2.3.4", -2, exp, &count, NULL),
                     APR_SUCCESS);
    assert_int_equal(count, 4);
    assert_int_equal(oas_store_get(st, p, OAS_NS_AUTHFAIL, "c\n1.2.3.4", &v, &n), APR_SUCCESS);
    assert_string_equal(v, apr_psprintf(p, "4 %" APR_INT64_T_FMT, (apr_int64_t)exp));
    /* not a counter: starts again */
    assert_int_equal(oas_store_put(st, p, OAS_NS_QUOTA, "q", "junk", 4, exp), APR_SUCCESS);
    assert_int_equal(oas_store_incr(st, p, OAS_NS_QUOTA, "q", 1, exp, &count, NULL), APR_SUCCESS);
    assert_int_equal(count, 1);
    /* expired: starts again with the new expiry */
    assert_int_equal(oas_store_put(st, p, OAS_NS_QUOTA, "old", "9 1", 3, apr_time_now() - 1),
                     APR_SUCCESS);
    assert_int_equal(oas_store_incr(st, p, OAS_NS_QUOTA, "old", 1, exp, &count, &until),
                     APR_SUCCESS);
    assert_int_equal(count, 1);
    assert_true(until == exp);
    /* counters are best effort: a full store of live records refuses a new one */
    for (i = 0; oas_store_put(st, p, LV, apr_itoa(p, i), "c", 1, exp) == APR_SUCCESS; i++) {
    }
    assert_int_equal(oas_store_incr(st, p, OAS_NS_AUTHFAIL, "c\n1.2.3.4", 1, exp, &count, NULL),
                     APR_ENOSPC); /* it was evicted for the live puts */
    assert_int_equal(oas_shm_store_verify(NULL, p, st), APR_SUCCESS);
}

#define INCR_KIDS 4
#define INCR_EACH 500

/* incr and note are atomic across processes: forked children add to one counter and count
 * one event; nothing is lost. */
static void test_incr_processes(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t ssz = oas_shm_store_size_needed(64);
    apr_proc_t kids[INCR_KIDS];
    apr_int64_t count = 0;
    oas_store_t *st;
    apr_shm_t *shm;
    void *base;
    int i;

    assert_int_equal(apr_shm_create(&shm, ssz, NULL, p), APR_SUCCESS);
    base = apr_shm_baseaddr_get(shm);
    assert_int_equal(oas_shm_store_format(base, ssz, 64), APR_SUCCESS);
    assert_int_equal(oas_shm_store_attach_own_lock(&st, p, base, ssz), APR_SUCCESS);
    for (i = 0; i < INCR_KIDS; i++) {
        apr_status_t rv = apr_proc_fork(&kids[i], p);
        if (rv == APR_INCHILD) {
            apr_pool_t *cp;
            oas_store_t *cst;
            apr_int64_t c;
            int j;

            apr_pool_create(&cp, NULL);
            if (oas_shm_store_attach_own_lock(&cst, cp, base, ssz) != APR_SUCCESS)
                _exit(2);
            for (j = 0; j < INCR_EACH; j++) {
                if (oas_store_incr(cst, cp, OAS_NS_QUOTA, "k", 1, apr_time_now() + HOUR, &c,
                                   NULL) != APR_SUCCESS)
                    _exit(3);
                oas_store_note(cst, OAS_STORE_EV_QUOTA_ADDR);
            }
            _exit(0);
        }
        assert_int_equal(rv, APR_INPARENT);
    }
    for (i = 0; i < INCR_KIDS; i++) {
        int code = -1;
        apr_exit_why_e why;
        assert_int_equal(apr_proc_wait(&kids[i], &code, &why, APR_WAIT), APR_CHILD_DONE);
        assert_int_equal(code, 0);
    }
    assert_int_equal(oas_store_incr(st, p, OAS_NS_QUOTA, "k", 0, 0, &count, NULL), APR_SUCCESS);
    assert_int_equal(count, INCR_KIDS * INCR_EACH);
    assert_int_equal(events(st, OAS_STORE_EV_QUOTA_ADDR), INCR_KIDS * INCR_EACH);
    assert_int_equal(events(st, OAS_STORE_EV_QUOTA_USER), 0);
    oas_store_note(st, OAS_STORE_EV_COUNT); /* out of range: ignored */
    oas_store_note(st, -1);
    assert_int_equal(oas_shm_store_verify(NULL, p, st), APR_SUCCESS);
    apr_shm_destroy(shm);
}

/* Eviction storms: random puts of both classes and sizes, takes, expiries; the table stays
 * consistent and every live record put and not taken stays readable. */
static void test_eviction_storm(void **state)
{
    apr_pool_t *p = *state;
    oas_store_t *st = mkstore(p, 64, NULL); /* 256 chunks */
    apr_time_t now = apr_time_now();
    unsigned char val[2000];
    char *present = apr_pcalloc(p, 40);
    unsigned int seed = 11;
    int i, k;

    fill(val, sizeof(val), 1);
    for (i = 0; i < 20000; i++) {
        unsigned int r;
        apr_status_t rv;

        seed = seed * 1103515245u + 12345u;
        r = seed >> 8;
        if (r % 8 == 0) { /* a live record of 40 keys, at most ~600 bytes */
            k = (int)(r / 8 % 40);
            rv = oas_store_put(st, p, LV, apr_itoa(p, k), val, r % 600, now + HOUR);
            assert_true(rv == APR_SUCCESS || rv == APR_ENOSPC);
            if (rv == APR_SUCCESS)
                present[k] = 1;
        }
        else if (r % 8 == 1) {
            k = (int)(r / 8 % 40);
            rv = oas_store_take(st, p, LV, apr_itoa(p, k), NULL, NULL);
            assert_int_equal(rv, present[k] ? APR_SUCCESS : APR_NOTFOUND);
            present[k] = 0;
        }
        else { /* best effort, some already expired */
            rv = oas_store_put(st, p, BE, apr_itoa(p, (int)(r % 5000)), val, r % 1500,
                               r % 5 ? now + HOUR : now - 1);
            assert_true(rv == APR_SUCCESS || rv == APR_ENOSPC);
        }
        if (i % 500 == 0)
            assert_int_equal(oas_shm_store_verify(NULL, p, st), APR_SUCCESS);
    }
    assert_int_equal(oas_shm_store_verify(NULL, p, st), APR_SUCCESS);
    for (k = 0; k < 40; k++) {
        assert_int_equal(has(p, st, LV, apr_itoa(p, k)), present[k]);
    }
    assert_true(events(st, OAS_STORE_EV_EVICTED) > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_basic),          UNIT_TEST(test_put_new),
        UNIT_TEST(test_namespaces),     UNIT_TEST(test_expiry),
        UNIT_TEST(test_sweep_rotates),  UNIT_TEST(test_reclaim_without_lookups),  UNIT_TEST(test_full),
        UNIT_TEST(test_large_values),   UNIT_TEST(test_capacity_edges),
        UNIT_TEST(test_attach_rejects), UNIT_TEST(test_damage),
        UNIT_TEST(test_holder_dies),    UNIT_TEST(test_race_processes),
        UNIT_TEST(test_race_threads), UNIT_TEST(test_usage),
        UNIT_TEST(test_usage_after_wipe), UNIT_TEST(test_lock_timeout),
        UNIT_TEST(test_holder_dies_own_lock), UNIT_TEST(test_race_processes_own_lock),
        UNIT_TEST(test_race_threads_own_lock), UNIT_TEST(test_own_lock_not_recoverable),
        UNIT_TEST(test_evict_oldest_first), UNIT_TEST(test_live_never_evicted),
        UNIT_TEST(test_evict_for_chunks), UNIT_TEST(test_bytes_by_class),
        UNIT_TEST(test_format_bytes), UNIT_TEST(test_incr), UNIT_TEST(test_incr_processes),
        UNIT_TEST(test_eviction_storm),
    };
    return UNIT_RUN(tests);
}
