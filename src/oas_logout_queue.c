/* mod_oauth_as: the back-channel logout queue and its thread (oas_logout_queue.h). */
#include <stdlib.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include "oas_log.h"
#include "oas_logout_queue.h"
#include "oas_logout_token.h"
#include "oas_uri.h"

/* seconds after the logout when each attempt is due: at once, then soon (an RP restarting),
 * a minute, four minutes; the last ends by 245 s, inside OAS_LOGOUT_BOUND */
static const apr_int64_t schedule[OAS_LOGOUT_ATTEMPTS] = {0, 5, 60, 240};

typedef struct item_t {
    struct item_t *next;
    const oas_issuer_t *iss; /* the configuration outlives the process's queue */
    char *client_id, *sub, *sid, *uri;
    apr_int64_t t0, due;
    int attempt; /* attempts made */
} item_t;

struct oas_logout_queue_t {
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *wake;
    apr_thread_t *thread;
    oas_logout_send_fn *send;
    item_t *head;        /* pending, not under way */
    int pending;         /* queued and under way */
    int stop;            /* under lock */
    int kicked;          /* an item came while the thread was busy: look again */
    int live_clock;      /* runs read the clock (the thread's), not their argument */
    apr_uint32_t cancel; /* atomic: a transfer under way stops */
};

static oas_logout_queue_t *process_queue;

apr_int64_t oas_logout_due(int n, apr_int64_t t0)
{
    return n >= 0 && n < OAS_LOGOUT_ATTEMPTS ? t0 + schedule[n] : -1;
}

apr_int64_t oas_logout_next_due(int made, apr_int64_t t0, apr_int64_t last)
{
    apr_int64_t due = oas_logout_due(made, t0);

    if (due >= 0 && due < last + OAS_LOGOUT_GAP)
        due = last + OAS_LOGOUT_GAP; /* the thread was busy: never two attempts back to back */
    if (due >= 0 && due + OAS_LOGOUT_TIMEOUT_MS / 1000 > t0 + OAS_LOGOUT_BOUND)
        return -1; /* it would end after the bound */
    return due;
}

oas_logout_queue_t *oas_logout_queue_get(void)
{
    return process_queue;
}

void oas_logout_queue_set(oas_logout_queue_t *q)
{
    process_queue = q;
}

static void item_free(item_t *it)
{
    free(it->client_id);
    free(it->sub);
    free(it->sid);
    free(it->uri);
    free(it);
}

static char *dup_or_null(const char *s, int *bad)
{
    char *d;

    if (!s)
        return NULL;
    if (!(d = strdup(s)))
        *bad = 1;
    return d;
}

/* the queue's pool goes: what is still queued goes with it (a started queue has dropped it,
 * logged, already) */
static apr_status_t free_items(void *data)
{
    oas_logout_queue_t *q = data;
    item_t *it;

    while ((it = q->head)) {
        q->head = it->next;
        item_free(it);
    }
    return APR_SUCCESS;
}

apr_status_t oas_logout_queue_make(oas_logout_queue_t **pq, apr_pool_t *p, oas_logout_send_fn *send)
{
    oas_logout_queue_t *q = apr_pcalloc(p, sizeof(*q));
    apr_status_t rv;

    if ((rv = apr_thread_mutex_create(&q->lock, APR_THREAD_MUTEX_DEFAULT, p)) ||
        (rv = apr_thread_cond_create(&q->wake, p)))
        return rv;
    q->send = send ? send : oas_fetch_post_stream;
    apr_pool_cleanup_register(p, q, free_items, apr_pool_cleanup_null);
    *pq = q;
    return APR_SUCCESS;
}

static item_t *item_make(const oas_issuer_t *iss, const oas_logout_rp_t *rp, const char *sid,
                         apr_int64_t now)
{
    item_t *it = calloc(1, sizeof(*it));
    int bad = 0;

    if (!it)
        return NULL;
    it->client_id = dup_or_null(rp->client_id, &bad);
    it->sub = dup_or_null(rp->sub, &bad);
    it->sid = dup_or_null(sid, &bad);
    it->uri = dup_or_null(rp->uri, &bad);
    if (bad) {
        item_free(it);
        return NULL;
    }
    it->iss = iss;
    it->t0 = it->due = now;
    return it;
}

void oas_logout_queue_add(oas_logout_queue_t *q, const oas_issuer_t *iss, const char *sid,
                          oas_logout_rp_t *rps, int n, apr_int64_t now)
{
    item_t **made = calloc(n ? n : 1, sizeof(*made));
    int i;

    for (i = 0; made && i < n; i++) /* outside the lock */
        made[i] = item_make(iss, &rps[i], sid, now);
    /* published together, so that the thread takes them in one batch (in parallel) */
    apr_thread_mutex_lock(q->lock);
    for (i = 0; i < n; i++) {
        item_t *it = made ? made[i] : NULL;
        rps[i].rv = !it                                  ? APR_ENOMEM
                    : q->stop                            ? APR_EINVAL
                    : q->pending >= OAS_LOGOUT_QUEUE_MAX ? APR_ENOSPC
                                                         : APR_SUCCESS;
        if (rps[i].rv != APR_SUCCESS) {
            if (it)
                item_free(it);
            continue;
        }
        q->pending++;
        it->next = q->head;
        q->head = it;
    }
    q->kicked = 1;
    apr_thread_cond_signal(q->wake);
    apr_thread_mutex_unlock(q->lock);
    free(made);
}

/* One attempt under way: its post (first, so that the stream's post leads back here), the
 * outbound policy, the delivery, when it started, the pool it lives in. */
typedef struct {
    oas_fetch_post_t post;
    oas_fetch_opts_t o;
    item_t *it;
    apr_int64_t now;
    apr_pool_t *p;
} flight_t;

/* The post of one attempt: a token signed now, the issuer's outbound policy; 0 when the
 * token cannot be made (logged). */
static int prepare(flight_t *f, oas_logout_queue_t *q)
{
    const item_t *it = f->it;
    const char *tok;
    apr_status_t rv;

    rv = oas_logout_token(&tok, f->p, it->iss, it->client_id, it->sub, it->sid, f->now);
    if (rv != APR_SUCCESS) {
        oas_log(OAS_LOG_MARK, OAS_LOG_ERR, rv, NULL,
                OAS_LOGNO(07001) "back-channel logout of client %s: the logout token cannot "
                                 "be made",
                it->client_id);
        return 0;
    }
    f->o.ca_file = it->iss->ca_file;
    f->o.allow = it->iss->outbound_allow;
    f->o.connect_timeout_ms = OAS_LOGOUT_CONNECT_MS;
    f->o.timeout_ms = OAS_LOGOUT_TIMEOUT_MS;
    f->o.max_body = 4096; /* the answer is not read: only its status counts */
    f->o.cancel = &q->cancel;
    f->post.url = it->uri;
    f->post.form = apr_pstrcat(f->p, "logout_token=", oas_uri_encode(f->p, tok), NULL);
    f->post.o = &f->o;
    return 1;
}

/* What attempt it->attempt came to, logged: 1 when the RP took the token (200 or 204). */
static int outcome(const item_t *it, const oas_fetch_post_t *post, apr_pool_t *p)
{
    const char *err = post->err;

    if (post->rv == APR_SUCCESS && (post->status == 200 || post->status == 204)) {
        oas_log(OAS_LOG_MARK, OAS_LOG_INFO, 0, NULL,
                OAS_LOGNO(07002) "back-channel logout of client %s delivered (HTTP %d, "
                                 "attempt %d)",
                it->client_id, post->status, it->attempt);
        return 1;
    }
    if (post->rv == APR_SUCCESS)
        err = apr_psprintf(p, "HTTP status %d", post->status);
    oas_log(OAS_LOG_MARK, OAS_LOG_WARNING, post->rv, NULL,
            OAS_LOGNO(07003) "back-channel logout of client %s: attempt %d of %d failed (%s)",
            it->client_id, it->attempt, OAS_LOGOUT_ATTEMPTS, err ? err : "no answer");
    return 0;
}

static void log_dropped(const item_t *it)
{
    oas_log(OAS_LOG_MARK, OAS_LOG_WARNING, 0, NULL,
            OAS_LOGNO(07005) "back-channel logout of client %s dropped: the process is exiting",
            it->client_id);
}

/* the first pending item due at now, unlinked; NULL when none (under lock) */
static item_t *take_due(oas_logout_queue_t *q, apr_int64_t now)
{
    item_t **pp;

    for (pp = &q->head; *pp; pp = &(*pp)->next) {
        if ((*pp)->due <= now) {
            item_t *it = *pp;
            *pp = it->next;
            return it;
        }
    }
    return NULL;
}

/* After an attempt that started at now (or none: out of time): done, retried later, or
 * given up. */
static void finish(oas_logout_queue_t *q, item_t *it, int done, apr_int64_t now)
{
    it->due = done ? -1 : oas_logout_next_due(it->attempt, it->t0, now);
    if (!done && it->due < 0)
        oas_log(OAS_LOG_MARK, OAS_LOG_WARNING, 0, NULL,
                OAS_LOGNO(07004) "back-channel logout of client %s given up after %d attempts",
                it->client_id, it->attempt);
    apr_thread_mutex_lock(q->lock);
    if (done || it->due < 0 || q->stop) {
        if (!done && it->due >= 0)
            log_dropped(it);
        q->pending--;
        item_free(it);
    }
    else {
        it->next = q->head;
        q->head = it;
    }
    apr_thread_mutex_unlock(q->lock);
}

typedef struct {
    oas_logout_queue_t *q;
    apr_int64_t now; /* the run's time (the thread's runs read the clock instead) */
} run_t;

/* The stream's next post: an attempt of a delivery due now, or NULL. */
static oas_fetch_post_t *next_post(void *baton, apr_pool_t *p)
{
    run_t *r = baton;
    oas_logout_queue_t *q = r->q;
    apr_int64_t now = q->live_clock ? apr_time_sec(apr_time_now()) : r->now;
    flight_t *f;
    item_t *it;

    for (;;) {
        apr_thread_mutex_lock(q->lock);
        it = q->stop ? NULL : take_due(q, now);
        apr_thread_mutex_unlock(q->lock);
        if (!it)
            return NULL;
        if (now + OAS_LOGOUT_TIMEOUT_MS / 1000 > it->t0 + OAS_LOGOUT_BOUND) {
            finish(q, it, 0, now); /* held up so long that it would end after the bound */
            continue;
        }
        it->attempt++;
        f = apr_pcalloc(p, sizeof(*f));
        f->it = it;
        f->now = now;
        f->p = p;
        if (prepare(f, q))
            return &f->post;
        finish(q, it, 0, now);
    }
}

static void post_ended(void *baton, oas_fetch_post_t *post)
{
    run_t *r = baton;
    flight_t *f = (flight_t *)post;

    finish(r->q, f->it, outcome(f->it, post, f->p), f->now);
}

apr_int64_t oas_logout_queue_run(oas_logout_queue_t *q, apr_pool_t *p, apr_int64_t now)
{
    run_t r = {q, now};
    oas_fetch_stream_t s = {next_post, post_ended, &r};
    apr_int64_t next = -1;
    item_t *it;

    q->send(&s, p);
    apr_thread_mutex_lock(q->lock);
    for (it = q->head; it; it = it->next) {
        if (next < 0 || it->due < next)
            next = it->due;
    }
    apr_thread_mutex_unlock(q->lock);
    return next;
}

int oas_logout_queue_pending(oas_logout_queue_t *q)
{
    int n;

    apr_thread_mutex_lock(q->lock);
    n = q->pending;
    apr_thread_mutex_unlock(q->lock);
    return n;
}

static void *APR_THREAD_FUNC worker(apr_thread_t *thread, void *data)
{
    oas_logout_queue_t *q = data;
    apr_int64_t now, next;
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    apr_thread_mutex_lock(q->lock);
    while (!q->stop) {
        q->kicked = 0;
        apr_thread_mutex_unlock(q->lock);
        now = apr_time_sec(apr_time_now());
        next = oas_logout_queue_run(q, p, now);
        apr_pool_clear(p);
        apr_thread_mutex_lock(q->lock);
        if (q->stop || q->kicked)
            continue;
        /* nothing pending: sleep until an item comes (add signals); else until it is due */
        now = apr_time_sec(apr_time_now());
        if (next < 0)
            apr_thread_cond_wait(q->wake, q->lock);
        else if (next > now)
            apr_thread_cond_timedwait(q->wake, q->lock, apr_time_from_sec(next - now));
    }
    apr_thread_mutex_unlock(q->lock);
    apr_pool_destroy(p);
    /* a plain return, not apr_thread_exit() (see mod_oas_dbd.c's purge thread) */
    (void)thread;
    return NULL;
}

static apr_status_t stop_queue(void *data)
{
    oas_logout_queue_t *q = data;
    apr_status_t rv;
    item_t *it;

    apr_thread_mutex_lock(q->lock);
    q->stop = 1;
    apr_atomic_set32(&q->cancel, 1);
    apr_thread_cond_signal(q->wake);
    apr_thread_mutex_unlock(q->lock);
    apr_thread_join(&rv, q->thread);
    if (process_queue == q)
        process_queue = NULL;
    while ((it = q->head)) {
        q->head = it->next;
        log_dropped(it);
        item_free(it);
    }
    q->pending = 0;
    return APR_SUCCESS;
}

apr_status_t oas_logout_queue_start(apr_pool_t *pchild)
{
    oas_logout_queue_t *q;
    apr_status_t rv;

    if ((rv = oas_logout_queue_make(&q, pchild, NULL)))
        return rv;
    q->live_clock = 1;
    if ((rv = apr_thread_create(&q->thread, NULL, worker, q, pchild)))
        return rv;
    /* a pre-cleanup: the thread stops before pchild's subpools (its own among them) go */
    apr_pool_pre_cleanup_register(pchild, q, stop_queue);
    process_queue = q;
    return APR_SUCCESS;
}
