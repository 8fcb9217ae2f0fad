/* mod_oauth_as: back-channel logout deliveries (OpenID Connect Back-Channel Logout 1.0 §2.7):
 * a bounded queue per process and a thread that posts the logout tokens in the background
 * (those due at once in parallel, so that an RP that hangs holds up no other), never in the
 * request that ends the session. A delivery succeeds on HTTP 200 or 204; any
 * other answer, or none, is retried OAS_LOGOUT_ATTEMPTS - 1 times within OAS_LOGOUT_BOUND
 * seconds (INTERFACE.md, "Precise rules": 3 retries over at most 5 minutes), then given up,
 * logged with the client id (never the token). Each attempt signs a fresh token (its exp is
 * 2 minutes after its iat, and retries come later than that).
 * Pending deliveries live in the memory of the process that queued them: a child that exits
 * (graceful restart, stop, MaxConnectionsPerChild) stops at once and drops them, logging each
 * client id. The queue is stopped by the cleanup of the pool it was started in. */
#ifndef OAS_LOGOUT_QUEUE_H
#define OAS_LOGOUT_QUEUE_H

#include "oas_conf.h"
#include "oas_fetch.h"

#define OAS_LOGOUT_QUEUE_MAX 512 /* deliveries one process keeps pending; more are refused */
#define OAS_LOGOUT_ATTEMPTS 4    /* the first and 3 retries */
#define OAS_LOGOUT_BOUND 300     /* seconds after the logout by which every attempt has ended */
#define OAS_LOGOUT_CONNECT_MS 2000
#define OAS_LOGOUT_TIMEOUT_MS 5000 /* one attempt, connect included */
#define OAS_LOGOUT_GAP 5           /* seconds at least between two attempts of one delivery */

/* How deliveries are posted, all those due at once and those that come due meanwhile:
 * oas_fetch_post_stream, or a test's stand-in. */
typedef void oas_logout_send_fn(const oas_fetch_stream_t *s, apr_pool_t *p);

typedef struct oas_logout_queue_t oas_logout_queue_t;

/** The time attempt n (0: the first) of a delivery queued at t0 is due, in seconds; -1 when
 * there is no such attempt (n >= OAS_LOGOUT_ATTEMPTS): the delivery is given up. The last
 * attempt starts early enough to end (OAS_LOGOUT_TIMEOUT_MS) within OAS_LOGOUT_BOUND. */
apr_int64_t oas_logout_due(int n, apr_int64_t t0);

/** When the next attempt of a delivery queued at t0 is due, after `made` attempts of which the
 * last started at `last`: its time in the schedule (oas_logout_due), but no sooner than
 * OAS_LOGOUT_GAP after the last; -1 when none is left or it could not end within
 * OAS_LOGOUT_BOUND (a delivery delayed behind others runs out of time, not over it). */
apr_int64_t oas_logout_next_due(int made, apr_int64_t t0, apr_int64_t last);

/** A queue in p with no thread: unit tests drive it with oas_logout_queue_run.
 * @param send NULL: oas_fetch_post_stream */
apr_status_t oas_logout_queue_make(oas_logout_queue_t **pq, apr_pool_t *p,
                                   oas_logout_send_fn *send);

/** The process's queue (child_init): made in pchild, its thread started, installed as the
 * queue oas_logout_queue_get returns; pchild's cleanup stops the thread at once (a transfer
 * under way is cancelled) and drops what is pending (each logged).
 * @return APR_SUCCESS, or why the thread could not start (nothing installed) */
apr_status_t oas_logout_queue_start(apr_pool_t *pchild);

/** The queue oas_logout_notify adds to (NULL: none, back-channel logout is off here). */
oas_logout_queue_t *oas_logout_queue_get(void);
/** Installs q (unit tests; oas_logout_queue_start does it for the process). */
void oas_logout_queue_set(oas_logout_queue_t *q);

/* One RP to tell of an ended session. */
typedef struct oas_logout_rp_t {
    const char *client_id;
    const char *sub; /* the sub of its ID tokens (NULL: the token carries sid only) */
    const char *uri; /* its back-channel logout URI */
    apr_status_t rv; /* out: APR_SUCCESS (queued); APR_ENOSPC (OAS_LOGOUT_QUEUE_MAX
                      * pending); APR_EINVAL (the queue is stopping); APR_ENOMEM */
} oas_logout_rp_t;

/** Queue the deliveries to the n RPs of the session sid that ended at now, all due at once
 * and published together, so that the thread posts them in parallel; the strings are
 * copied. Each rps[i].rv says whether it was queued. */
void oas_logout_queue_add(oas_logout_queue_t *q, const oas_issuer_t *iss, const char *sid,
                          oas_logout_rp_t *rps, int n, apr_int64_t now);

/** Make every attempt due at now (seconds), outside the queue's lock and in parallel
 * (oas_fetch_post_stream: deliveries queued or come due meanwhile join at once): sign a
 * token, post it, then the delivery is done, retried later or given up. The thread's runs
 * read the clock; a queue of oas_logout_queue_make uses now throughout. p is cleared by the
 * caller between runs.
 * @return when the next pending delivery is due (-1: none pending) */
apr_int64_t oas_logout_queue_run(oas_logout_queue_t *q, apr_pool_t *p, apr_int64_t now);

/** Deliveries pending (queued or under way). */
int oas_logout_queue_pending(oas_logout_queue_t *q);

#endif
