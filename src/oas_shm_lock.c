/* mod_oauth_as: the shared-memory store's own lock (see oas_shm_lock.h). */
#include <errno.h>
#include <semaphore.h>
#include <string.h>
#include <time.h>

#include <apr_errno.h>

#include "oas_shm_lock.h"
#include "oas_util.h"

/* The two peeks below read glibc's private fields; elsewhere they answer "free" and "not
 * known to be unrecoverable", and the self-test does not ask more of them. */
#ifdef __GLIBC__
#define PEEKS 1
#else
#define PEEKS 0
#endif

/* Whether the mutex looks free, without writing to its cache line (glibc keeps the owner's
 * thread id in __lock; elsewhere every look is a trylock). */
static int looks_free(pthread_mutex_t *m)
{
#ifdef __GLIBC__
    return __atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) == 0;
#else
    (void)m;
    return 1;
#endif
}

/* Whether the mutex was made not recoverable. Asked on the slow path because glibc 2.36's
 * pthread_mutex_trylock, when it reports ENOTRECOVERABLE, leaves the lock word holding the
 * caller's thread id: every later trylock says EBUSY and every timed lock ETIMEDOUT, never
 * ENOTRECOVERABLE again. glibc marks such a mutex with __owner = INT_MAX - 1 for good. */
static int not_recoverable(pthread_mutex_t *m)
{
#ifdef __GLIBC__
    /* glibc's PTHREAD_MUTEX_NOTRECOVERABLE (internal: INT_MAX - 1) */
    return __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED) == 0x7ffffffe;
#else
    (void)m;
    return 0;
#endif
}

apr_status_t oas_shm_lock_init(oas_shm_lock_t *l)
{
    pthread_mutexattr_t a;
    int rc, i;

    memset(l, 0, sizeof(*l));
    if ((rc = pthread_mutexattr_init(&a)) != 0)
        return rc;
    if ((rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED)) == 0 &&
        (rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST)) == 0 &&
        (rc = pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_NONE)) == 0) {
        for (i = 0; i < OAS_SHM_LOCK_SLOTS && rc == 0; i++)
            rc = pthread_mutex_init(&l->slot[i].m, &a);
    }
    pthread_mutexattr_destroy(&a);
    l->current = rc == 0 ? 0 : OAS_SHM_LOCK_SLOTS;
    l->spin = OAS_SHM_LOCK_SPIN;
    return rc;
}

int oas_shm_lock_usable(const oas_shm_lock_t *l)
{
    return __atomic_load_n(&l->current, __ATOMIC_ACQUIRE) < OAS_SHM_LOCK_SLOTS;
}

/* pthread_mutex_clocklock with a deadline `timeout` from now on CLOCK_MONOTONIC. */
static int timed_lock(pthread_mutex_t *m, apr_interval_time_t timeout)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)apr_time_sec(timeout);
    ts.tv_nsec += (long)apr_time_usec(timeout) * 1000;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &ts);
}

/* The slow path: spin a little, then sleep in the kernel until the deadline. */
static int lock_wait(oas_shm_lock_t *l, pthread_mutex_t *m, apr_interval_time_t timeout)
{
    apr_uint32_t n;
    int rc;

    for (n = l->spin; n > 0; n--) {
        oas_cpu_relax();
        if (looks_free(m) && (rc = pthread_mutex_trylock(m)) != EBUSY)
            return rc;
    }
    if (not_recoverable(m))
        return ENOTRECOVERABLE;
    if (timeout < 0)
        return pthread_mutex_lock(m);
    rc = timed_lock(m, timeout);
    return rc == ETIMEDOUT && not_recoverable(m) ? ENOTRECOVERABLE : rc;
}

apr_status_t oas_shm_lock_acquire(oas_shm_lock_t *l, apr_interval_time_t timeout,
                                  int *recovered)
{
    *recovered = 0;
    for (;;) {
        apr_uint32_t i = __atomic_load_n(&l->current, __ATOMIC_ACQUIRE);
        pthread_mutex_t *m;
        int rc;

        if (i >= OAS_SHM_LOCK_SLOTS)
            return APR_EGENERAL;
        m = &l->slot[i].m;
        rc = pthread_mutex_trylock(m);
        if (rc == EBUSY)
            rc = lock_wait(l, m, timeout);
        switch (rc) {
        case 0:
            return APR_SUCCESS;
        case EOWNERDEAD:
            /* ours now; the data it guards may be half-written: the caller decides */
            pthread_mutex_consistent(m);
            l->recoveries++;
            *recovered |= OAS_SHM_LOCK_OWNER_DIED;
            return APR_SUCCESS;
        case ETIMEDOUT:
            return APR_TIMEUP;
        case ENOTRECOVERABLE:
            /* nobody can hold slot i any more: move everyone to the next one (only the
             * first of the processes that saw it moves the index) and start again there */
            __atomic_compare_exchange_n(&l->current, &i, i + 1, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE);
            *recovered |= OAS_SHM_LOCK_MOVED;
            continue;
        default:
            return APR_EGENERAL;
        }
    }
}

void oas_shm_lock_release(oas_shm_lock_t *l)
{
    /* the index cannot move while the lock is held: only a slot nobody can hold is left */
    apr_uint32_t i = __atomic_load_n(&l->current, __ATOMIC_ACQUIRE);

    if (i < OAS_SHM_LOCK_SLOTS)
        pthread_mutex_unlock(&l->slot[i].m);
}

/* ---- the start-up self-test (oas_shm_lock_selftest) ----
 * A thread stands in for another process: the kernel walks the robust list of a thread that
 * exits exactly as that of a process killed with SIGKILL, and a process-shared mutex works
 * between threads in private memory as between processes in a shared mapping. */

int oas_shm_lock_selftest_fail;

typedef struct {
    oas_shm_lock_t l; /* scratch; slot 0 is the mutex under test */
    pthread_t th;     /* the holder */
    sem_t held;       /* the holder has tried to take slot 0 */
    sem_t release;    /* the holder may release it */
    int die;          /* the holder exits holding slot 0 */
    int rc;           /* its pthread_mutex_trylock */
    int running;      /* the holder is yet to be joined */
    int mine;         /* this thread holds slot 0: must release it before returning */
    int n;            /* checks made so far */
    const char *why;  /* the first that failed */
} selftest_t;

static void *holder_main(void *data)
{
    selftest_t *t = data;

    t->rc = pthread_mutex_trylock(&t->l.slot[0].m);
    sem_post(&t->held);
    if (t->rc == 0 && !t->die) {
        while (sem_wait(&t->release) != 0)
            ; /* EINTR */
        pthread_mutex_unlock(&t->l.slot[0].m);
    }
    return NULL;
}

/* A holder takes slot 0; one that dies is gone (joined) on return. 1 when it took it. */
static int holder_start(selftest_t *t, int die)
{
    t->die = die;
    t->rc = -1;
    if (pthread_create(&t->th, NULL, holder_main, t) != 0)
        return 0;
    t->running = 1;
    while (sem_wait(&t->held) != 0)
        ; /* EINTR */
    if (die) {
        pthread_join(t->th, NULL);
        t->running = 0;
    }
    return t->rc == 0;
}

static void holder_stop(selftest_t *t)
{
    if (!t->running)
        return;
    sem_post(&t->release);
    pthread_join(t->th, NULL);
    t->running = 0;
}

/* A lock call of this thread on slot 0; remembers when it took the mutex. */
static int took(selftest_t *t, int rc)
{
    if (rc == 0 || rc == EOWNERDEAD)
        t->mine = 1;
    return rc;
}

static int give(selftest_t *t)
{
    t->mine = 0;
    return pthread_mutex_unlock(&t->l.slot[0].m);
}

/* One check; 0 (and why) when it fails, or when the test hook makes it fail. */
static int holds(selftest_t *t, int ok, const char *why)
{
    if (!ok || ++t->n == oas_shm_lock_selftest_fail) {
        t->why = why;
        return 0;
    }
    return 1;
}

/* The checks, in the order the lock's life meets the cases: free, held by a live holder,
 * the holder dead (seen by trylock, and by the timed lock of a waiter), a recovered mutex
 * released without being made consistent. Every lock call has a deadline: a broken
 * assumption fails the test, it never hangs start-up. */
static void selftest_run(selftest_t *t)
{
    pthread_mutex_t *m = &t->l.slot[0].m;
    apr_status_t rv;
    int rc, rec = 0;

    if (!holds(t, oas_shm_lock_init(&t->l) == 0,
               "a robust, process-shared mutex without priority inheritance cannot be made") ||
        !holds(t, !PEEKS || (looks_free(m) && !not_recoverable(m)),
               "a free mutex does not read as free (__lock == 0)") ||
        /* held by a live holder: waiters peek, try, then sleep with a deadline */
        !holds(t, holder_start(t, 0), "no second thread, or it cannot take a free mutex") ||
        !holds(t, !PEEKS || !looks_free(m), "a held mutex reads as free (__lock == 0)") ||
        !holds(t, !not_recoverable(m),
               "a held mutex reads as not recoverable (__owner == 0x7ffffffe)") ||
        !holds(t, took(t, pthread_mutex_trylock(m)) == EBUSY,
               "trying a held mutex does not answer EBUSY") ||
        !holds(t, took(t, timed_lock(m, apr_time_from_msec(1))) == ETIMEDOUT,
               "a timed lock of a held mutex does not time out"))
        return;
    holder_stop(t);
    if (!holds(t, !PEEKS || looks_free(m), "a released mutex does not read as free") ||
        /* the holder dies; the next trylock recovers it */
        !holds(t, holder_start(t, 1), "a thread cannot take a released mutex") ||
        !holds(t, took(t, pthread_mutex_trylock(m)) == EOWNERDEAD,
               "a holder's death is not reported (EOWNERDEAD) to pthread_mutex_trylock") ||
        !holds(t, pthread_mutex_consistent(m) == 0 && give(t) == 0,
               "a recovered mutex cannot be made consistent and released") ||
        !holds(t, took(t, pthread_mutex_trylock(m)) == 0 && give(t) == 0 &&
                      (!PEEKS || looks_free(m)) && !not_recoverable(m),
               "a mutex made consistent is not an ordinary mutex again") ||
        /* the holder dies again; a waiter's timed lock recovers it */
        !holds(t, holder_start(t, 1), "a thread cannot take a recovered mutex") ||
        !holds(t, took(t, timed_lock(m, apr_time_from_msec(100))) == EOWNERDEAD,
               "a holder's death is not reported (EOWNERDEAD) to pthread_mutex_clocklock") ||
        /* released without pthread_mutex_consistent: not recoverable for good */
        !holds(t, give(t) == 0, "a recovered mutex cannot be released as it is") ||
        !holds(t, !PEEKS || not_recoverable(m),
               "a mutex released without being made consistent does not read as not "
               "recoverable (__owner != 0x7ffffffe)") ||
        !holds(t, took(t, pthread_mutex_trylock(m)) == ENOTRECOVERABLE,
               "trying a not-recoverable mutex does not answer ENOTRECOVERABLE"))
        return;
    /* glibc 2.36 answers EBUSY and ETIMEDOUT from now on (see not_recoverable) */
    rc = took(t, pthread_mutex_trylock(m));
    if (!holds(t, rc == ENOTRECOVERABLE || (rc == EBUSY && not_recoverable(m)),
               "a not-recoverable mutex tried again is not recognised as such"))
        return;
    rc = took(t, timed_lock(m, apr_time_from_msec(1)));
    if (!holds(t, rc == ENOTRECOVERABLE || (rc == ETIMEDOUT && not_recoverable(m)),
               "a timed lock of a not-recoverable mutex is not recognised as such"))
        return;
    /* and the lock moves on to the next slot */
    rv = oas_shm_lock_acquire(&t->l, apr_time_from_msec(100), &rec);
    if (rv == APR_SUCCESS)
        oas_shm_lock_release(&t->l);
    holds(t, rv == APR_SUCCESS && rec == OAS_SHM_LOCK_MOVED && t->l.current == 1,
          "the lock does not move on from a not-recoverable mutex");
}

const char *oas_shm_lock_selftest(void)
{
    selftest_t t;

    memset(&t, 0, sizeof(t));
    if (sem_init(&t.held, 0, 0) != 0)
        return "no semaphore for the self-test";
    if (sem_init(&t.release, 0, 0) != 0) {
        sem_destroy(&t.held);
        return "no semaphore for the self-test";
    }
    selftest_run(&t);
    holder_stop(&t);
    /* this thread's robust list must not keep a mutex of a stack frame about to go */
    if (t.mine)
        give(&t);
    sem_destroy(&t.release);
    sem_destroy(&t.held);
    return t.why;
}

int oas_shm_lock_wanted(const char *mech, const char **why)
{
    *why = NULL;
    if (strcmp(mech, "pthread") != 0)
        return 0;
    *why = oas_shm_lock_selftest();
    return *why == NULL;
}
