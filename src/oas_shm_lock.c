/* mod_oauth_as: the shared-memory store's own lock (see oas_shm_lock.h). */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <apr_errno.h>

#include "oas_shm_lock.h"

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

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

/* The slow path: spin a little, then sleep in the kernel until the deadline. */
static int lock_wait(oas_shm_lock_t *l, pthread_mutex_t *m, apr_interval_time_t timeout)
{
    struct timespec ts;
    apr_uint32_t n;
    int rc;

    for (n = l->spin; n > 0; n--) {
        cpu_relax();
        if (looks_free(m) && (rc = pthread_mutex_trylock(m)) != EBUSY)
            return rc;
    }
    if (not_recoverable(m))
        return ENOTRECOVERABLE;
    if (timeout < 0)
        return pthread_mutex_lock(m);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)apr_time_sec(timeout);
    ts.tv_nsec += (long)apr_time_usec(timeout) * 1000;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    rc = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &ts);
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
