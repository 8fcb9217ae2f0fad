/* Unit tests for oas_shm_lock.c: the store's own lock in shared memory (robust,
 * process-shared, no priority inheritance, timed). Processes share it through an anonymous
 * MAP_SHARED mapping, as the children of httpd share the store's segment. */
#include "unit.h"

#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_atomic.h>
#include <apr_thread_proc.h>
#include <apr_time.h>

#include "oas_shm_lock.h"

typedef struct {
    oas_shm_lock_t lock;
    volatile apr_uint32_t counter; /* changed only under the lock, non-atomically */
    volatile apr_uint32_t go;
} shared_t;

static shared_t *shared_map(void)
{
    shared_t *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                        -1, 0);
    assert_true(sh != MAP_FAILED);
    memset(sh, 0, sizeof(*sh));
    assert_int_equal(oas_shm_lock_init(&sh->lock), 0);
    return sh;
}

static void shared_unmap(shared_t *sh)
{
    munmap(sh, sizeof(*sh));
}

/* A child that takes the lock and exits without releasing it (as kill -9 inside). */
static void child_dies_holding(shared_t *sh)
{
    int status = -1;
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        int rec;
        _exit(oas_shm_lock_acquire(&sh->lock, apr_time_from_sec(5), &rec) == APR_SUCCESS
                  ? 0 : 2);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_uncontended(void **state)
{
    shared_t *sh = shared_map();
    int rec = -1, i;

    assert_true(oas_shm_lock_usable(&sh->lock));
    for (i = 0; i < 3; i++) {
        assert_int_equal(oas_shm_lock_acquire(&sh->lock, apr_time_from_sec(1), &rec),
                         APR_SUCCESS);
        assert_int_equal(rec, 0);
        oas_shm_lock_release(&sh->lock);
    }
    /* a negative timeout waits for ever (pthread_mutex_lock) */
    assert_int_equal(oas_shm_lock_acquire(&sh->lock, -1, &rec), APR_SUCCESS);
    assert_int_equal(rec, 0);
    oas_shm_lock_release(&sh->lock);
    assert_int_equal(sh->lock.recoveries, 0);
    assert_int_equal(sh->lock.current, 0);
    shared_unmap(sh);
}

/* The holder dies: the next acquire succeeds at once with OWNER_DIED (EOWNERDEAD made
 * consistent), and the lock is an ordinary lock again afterwards. */
static void test_owner_dies(void **state)
{
    shared_t *sh = shared_map();
    apr_time_t t0;
    int rec = -1;

    child_dies_holding(sh);
    t0 = apr_time_now();
    assert_int_equal(oas_shm_lock_acquire(&sh->lock, apr_time_from_sec(5), &rec), APR_SUCCESS);
    assert_true(apr_time_now() - t0 < apr_time_from_sec(4)); /* not a timeout */
    assert_int_equal(rec, OAS_SHM_LOCK_OWNER_DIED);
    assert_int_equal(sh->lock.recoveries, 1);
    oas_shm_lock_release(&sh->lock);
    assert_int_equal(oas_shm_lock_acquire(&sh->lock, apr_time_from_sec(5), &rec), APR_SUCCESS);
    assert_int_equal(rec, 0);
    oas_shm_lock_release(&sh->lock);
    /* and again: each death is recovered */
    child_dies_holding(sh);
    assert_int_equal(oas_shm_lock_acquire(&sh->lock, apr_time_from_sec(5), &rec), APR_SUCCESS);
    assert_int_equal(rec, OAS_SHM_LOCK_OWNER_DIED);
    assert_int_equal(sh->lock.recoveries, 2);
    assert_int_equal(sh->lock.current, 0);
    oas_shm_lock_release(&sh->lock);
    shared_unmap(sh);
}

/* A holder that is alive but does not let go: the acquire gives up with APR_TIMEUP after
 * the timeout (with the spin and without), and succeeds once the holder releases. */
static void timed_out(apr_uint32_t spin)
{
    shared_t *sh = shared_map();
    int to_child[2], to_parent[2];
    int status = -1, rec = -1;
    apr_time_t t0, waited;
    pid_t pid;
    char c;

    sh->lock.spin = spin;
    assert_int_equal(pipe(to_child), 0);
    assert_int_equal(pipe(to_parent), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int r;
        if (oas_shm_lock_acquire(&sh->lock, apr_time_from_sec(5), &r) != APR_SUCCESS)
            _exit(2);
        if (write(to_parent[1], "h", 1) != 1 || read(to_child[0], &c, 1) != 1)
            _exit(3);
        oas_shm_lock_release(&sh->lock);
        _exit(0);
    }
    assert_int_equal(read(to_parent[0], &c, 1), 1); /* the child holds it */
    t0 = apr_time_now();
    assert_int_equal(oas_shm_lock_acquire(&sh->lock, apr_time_from_msec(300), &rec),
                     APR_TIMEUP);
    waited = apr_time_now() - t0;
    assert_true(waited >= apr_time_from_msec(290));
    assert_true(waited < apr_time_from_sec(10)); /* generous: a loaded machine */
    assert_int_equal(write(to_child[1], "r", 1), 1);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(oas_shm_lock_acquire(&sh->lock, apr_time_from_sec(5), &rec), APR_SUCCESS);
    assert_int_equal(rec, 0);
    oas_shm_lock_release(&sh->lock);
    close(to_child[0]);
    close(to_child[1]);
    close(to_parent[0]);
    close(to_parent[1]);
    shared_unmap(sh);
}

static void test_timeout(void **state)
{
    timed_out(100); /* the spin (compiled out by default) keeps its timeout too */
}

static void test_timeout_no_spin(void **state)
{
    timed_out(0);
}

/* Slot 0 made not recoverable (a recovered mutex released without being made consistent,
 * as only a bug or a scribble could do): the acquire moves everyone to the next slot and
 * says so; when every slot is spent it fails with APR_EGENERAL instead of hanging. */
static void test_not_recoverable(void **state)
{
    shared_t *sh = shared_map();
    int rec = -1, i;

    for (i = 0; i < OAS_SHM_LOCK_SLOTS; i++) {
        child_dies_holding(sh);
        assert_int_equal(pthread_mutex_lock(&sh->lock.slot[i].m), EOWNERDEAD);
        assert_int_equal(pthread_mutex_unlock(&sh->lock.slot[i].m), 0); /* not consistent */
        assert_int_equal(pthread_mutex_trylock(&sh->lock.slot[i].m), ENOTRECOVERABLE);
        rec = -1;
        if (i + 1 < OAS_SHM_LOCK_SLOTS) {
            assert_int_equal(oas_shm_lock_acquire(&sh->lock, apr_time_from_sec(5), &rec),
                             APR_SUCCESS);
            assert_int_equal(rec, OAS_SHM_LOCK_MOVED);
            assert_int_equal(sh->lock.current, (apr_uint32_t)i + 1);
            assert_true(oas_shm_lock_usable(&sh->lock));
            oas_shm_lock_release(&sh->lock);
            /* the new slot is an ordinary lock */
            assert_int_equal(oas_shm_lock_acquire(&sh->lock, apr_time_from_sec(5), &rec),
                             APR_SUCCESS);
            assert_int_equal(rec, 0);
            oas_shm_lock_release(&sh->lock);
        }
        else {
            assert_int_equal(oas_shm_lock_acquire(&sh->lock, apr_time_from_sec(5), &rec),
                             APR_EGENERAL);
            assert_false(oas_shm_lock_usable(&sh->lock));
        }
    }
    shared_unmap(sh);
}

/* Mutual exclusion under contention: processes x threads increment a plain counter. */
#define PROCS 3
#define THREADS 4
#define ROUNDS 20000

static void *APR_THREAD_FUNC bump(apr_thread_t *t, void *data)
{
    shared_t *sh = data;
    int i, rec;

    while (!apr_atomic_read32(&sh->go)) {
    }
    for (i = 0; i < ROUNDS; i++) {
        if (oas_shm_lock_acquire(&sh->lock, apr_time_from_sec(30), &rec) != APR_SUCCESS)
            break;
        sh->counter = sh->counter + 1;
        oas_shm_lock_release(&sh->lock);
    }
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static int run_threads(shared_t *sh, apr_pool_t *p)
{
    apr_thread_t *th[THREADS];
    apr_status_t trv;
    int i;

    for (i = 0; i < THREADS; i++) {
        if (apr_thread_create(&th[i], NULL, bump, sh, p) != APR_SUCCESS)
            return 0;
    }
    for (i = 0; i < THREADS; i++) {
        apr_thread_join(&trv, th[i]);
    }
    return 1;
}

static void contended(apr_pool_t *p, apr_uint32_t spin)
{
    shared_t *sh = shared_map();
    pid_t kids[PROCS];
    int i;

    sh->lock.spin = spin;
    for (i = 0; i < PROCS; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            apr_pool_t *cp;
            apr_pool_create(&cp, NULL);
            _exit(run_threads(sh, cp) ? 0 : 2);
        }
    }
    apr_atomic_set32(&sh->go, 1);
    assert_true(run_threads(sh, p));
    for (i = 0; i < PROCS; i++) {
        int status = -1;
        assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_int_equal(sh->counter, (PROCS + 1) * THREADS * ROUNDS);
    assert_int_equal(sh->lock.recoveries, 0);
    shared_unmap(sh);
}

static void test_contended(void **state)
{
    contended(*state, 100);
}

static void test_contended_no_spin(void **state)
{
    contended(*state, 0);
}

/* The start-up self-test passes with this C library, and the store then takes its own lock
 * in place of APR's pthread mutex (and never in place of another mechanism). */
static void test_selftest_passes(void **state)
{
    const char *why = "unset";

    assert_null(oas_shm_lock_selftest());
    assert_true(oas_shm_lock_wanted("pthread", &why));
    assert_null(why);
    why = "unset";
    assert_false(oas_shm_lock_wanted("fcntl", &why));
    assert_null(why); /* not a failure: another mechanism was asked for */
    assert_false(oas_shm_lock_wanted("sysvsem", &why));
    assert_null(why);
}

/* Each check of the self-test, made to fail by the test hook, says why and makes the store
 * fall back to APR's mutex; failing half-way leaves nothing held (the real self-test passes
 * again afterwards, and this thread's robust list is clean: ASan would see a stale one). */
#define SELFTEST_CHECKS 20 /* the checks of selftest_run, src/oas_shm_lock.c */
static void test_selftest_forced_failure(void **state)
{
    const char *why, *prev = NULL;
    int n, distinct = 0;

    for (n = 1; n <= SELFTEST_CHECKS + 1; n++) {
        oas_shm_lock_selftest_fail = n;
        why = NULL;
        if (n > SELFTEST_CHECKS) {
            assert_true(oas_shm_lock_wanted("pthread", &why)); /* past the last check */
            assert_null(why);
            break;
        }
        assert_false(oas_shm_lock_wanted("pthread", &why));
        assert_non_null(why);
        assert_true(strlen(why) > 10);
        distinct += prev && strcmp(prev, why) != 0;
        prev = why;
    }
    assert_int_equal(distinct, SELFTEST_CHECKS - 1);
    oas_shm_lock_selftest_fail = 0;
    assert_null(oas_shm_lock_selftest());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_uncontended),    UNIT_TEST(test_owner_dies),
        UNIT_TEST(test_timeout),        UNIT_TEST(test_timeout_no_spin),
        UNIT_TEST(test_not_recoverable), UNIT_TEST(test_contended),
        UNIT_TEST(test_contended_no_spin), UNIT_TEST(test_selftest_passes),
        UNIT_TEST(test_selftest_forced_failure),
    };
    return UNIT_RUN(tests);
}
