/* mod_oauth_as: the shared-memory store's own lock, kept inside the segment (STYLE.md C15).
 * A process-shared, robust pthread mutex WITHOUT priority inheritance: an uncontended
 * acquire/release stays in user space and a contended one is a plain futex wait/wake,
 * where APR's robust "pthread" proc mutex is a priority-inheritance futex (every contended
 * operation enters the kernel through FUTEX_LOCK_PI/UNLOCK_PI). Core file: no httpd headers.
 *
 * Safety, as APR's mutex gives it:
 * - a holder that dies: the next locker gets EOWNERDEAD, marks the mutex consistent and
 *   is told (recovered), so the caller can check the table it guards;
 * - a holder that is alive but does not run (stopped, starved): others give up after a
 *   timeout (pthread_mutex_clocklock on CLOCK_MONOTONIC) with APR_TIMEUP.
 * ENOTRECOVERABLE (a recovered mutex released without being made consistent: not done by
 * this code, but memory shared with other processes may be scribbled on) cannot be repaired
 * in place: re-initialising a mutex other processes may be waiting on is undefined. So the
 * lock holds OAS_SHM_LOCK_SLOTS mutexes, all initialised at format time, and an index of
 * the one in use: whoever meets ENOTRECOVERABLE on slot i moves the index from i to i + 1
 * (compare-and-swap, so one move per dead slot) and locks the next. A slot that is not
 * recoverable can never be held, so nobody can be inside the old slot when the index moves.
 * When every slot is spent the acquire fails with APR_EGENERAL (the store answers 503);
 * the segment is then re-created by the next restart (oas_shm_lock_usable() is false).
 * Recovery rests on glibc internals no interface promises; oas_shm_lock_selftest() checks
 * them at start-up, and the glue falls back to APR's mutex when one does not hold. */
#ifndef OAS_SHM_LOCK_H
#define OAS_SHM_LOCK_H

#include <apr_time.h>
#include <pthread.h>

#define OAS_SHM_LOCK_SLOTS 4
#define OAS_SHM_LOCK_OWNER_DIED 1 /* EOWNERDEAD, recovered */
#define OAS_SHM_LOCK_MOVED 2      /* ENOTRECOVERABLE, moved on to a spare slot */
/* Looks at the lock (a CPU pause between them, a trylock when it looks free) before sleeping
 * in the kernel. 0: measured on 2 CPUs x 64 workers, a spin of 100 did not help (bench/README,
 * "The store's own lock"); kept as a compile-time knob to measure again elsewhere. */
#ifndef OAS_SHM_LOCK_SPIN
#define OAS_SHM_LOCK_SPIN 0
#endif

/* One cache line per mutex: a waiter spinning on one does not slow down the holder's
 * writes to the table header. */
typedef struct {
    union {
        pthread_mutex_t m;
        unsigned char line[64];
    } slot[OAS_SHM_LOCK_SLOTS];
    apr_uint32_t current; /* slot in use; only ever grows (compare-and-swap) */
    apr_uint32_t recoveries; /* EOWNERDEAD seen: holders that died inside */
    apr_uint32_t spin;       /* trylock attempts before sleeping */
    unsigned char pad[64 - 3 * sizeof(apr_uint32_t)];
} oas_shm_lock_t;

/** Initialise every slot (process-shared, robust, no priority inheritance). Only while no
 * other process or thread can use *l (format time).
 * @return APR_SUCCESS, or the pthread error (an APR status) of the attribute calls */
apr_status_t oas_shm_lock_init(oas_shm_lock_t *l);

/** False when every slot is spent (or oas_shm_lock_init failed): the region must be made
 * again. */
int oas_shm_lock_usable(const oas_shm_lock_t *l);

/** Take the lock.
 * @param timeout   longest wait; negative waits for ever
 * @param recovered 0, or flags: OAS_SHM_LOCK_OWNER_DIED when the previous holder died
 *                  holding it, OAS_SHM_LOCK_MOVED when the lock moved to a spare slot (the
 *                  state of the guarded data is unknown in both cases)
 * @return APR_SUCCESS; APR_TIMEUP after timeout; APR_EGENERAL when every slot is spent or
 *         the mutex reports another error */
apr_status_t oas_shm_lock_acquire(oas_shm_lock_t *l, apr_interval_time_t timeout,
                                  int *recovered);

/** Release a lock taken by oas_shm_lock_acquire in this thread. */
void oas_shm_lock_release(oas_shm_lock_t *l);

/** Checks, on a scratch lock in private memory, what this lock takes from glibc beyond
 * POSIX: the fields it peeks at (a free mutex has __lock 0, a held one not; a not-recoverable
 * one has __owner 0x7ffffffe), a dead holder reported as EOWNERDEAD to trylock and timed
 * lock, a recovered mutex released without pthread_mutex_consistent turning not recoverable
 * and recognised as such afterwards, the lock moving on to a spare slot. A thread exiting
 * inside stands in for a dead process. Takes a few milliseconds (a thread, short waits).
 * @return NULL when every check holds, else the first that failed (static text, for a log) */
const char *oas_shm_lock_selftest(void);

/** Whether the store should use this lock instead of an APR global mutex of mechanism mech
 * (apr_global_mutex_name): only in place of APR's "pthread" (robust, but with priority
 * inheritance), and only when oas_shm_lock_selftest passes.
 * @param why  NULL, or why the self-test failed (then 0 is returned) */
int oas_shm_lock_wanted(const char *mech, const char **why);

/* Test hook: when n > 0, check number n of oas_shm_lock_selftest (1 = the first) fails. */
extern int oas_shm_lock_selftest_fail;

#endif
