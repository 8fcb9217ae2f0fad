/* mod_oauth_as: the tally (oas_tally.h), counters and single-use markers in shared memory. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>
#include <openssl/rand.h>

#include "oas_tally.h"

#define TALLY_MAGIC 0x4c41544fu /* "OTAL" */
#define TALLY_VERSION 1u
#define LIVE_BIT 0x80000000u  /* in `until`: a single-use marker (never evicted) */
#define UNTIL_MASK 0x7fffffffu
#define SALT_LEN 32

typedef struct {
    apr_uint64_t tag;   /* 0: free */
    apr_uint32_t until; /* seconds after the table's base, and LIVE_BIT */
    apr_int32_t n;      /* a counter's count */
} slot_t;

typedef struct {
    apr_uint32_t lock; /* 0, or the pid of the process whose thread holds the group */
    apr_uint32_t pad[3];
    slot_t s[OAS_TALLY_WAYS];
} group_t;

/* Fixed-width fields only: every process, and a build restarted gracefully into, reads the
 * same bytes. The counters at the end change by atomic adds. */
typedef struct {
    apr_uint32_t magic;
    apr_uint32_t version;
    apr_uint32_t ngroups;
    apr_uint32_t reserved;
    apr_uint64_t size;
    apr_int64_t base; /* seconds since the epoch that `until` counts from */
    unsigned char salt[SALT_LEN];
    apr_uint64_t evicted;
    apr_uint64_t full;
    apr_uint64_t stolen;
    apr_uint64_t reserved2[5]; /* the groups start on a cache line of their own */
} hdr_t;

struct oas_tally_t {
    hdr_t *hdr;
    group_t *groups;
    apr_uint32_t ngroups;
    apr_uint32_t pid; /* this process's, for the lock words */
};

typedef char group_is_256_bytes[sizeof(group_t) == 256 ? 1 : -1];
typedef char hdr_is_128_bytes[sizeof(hdr_t) == 128 ? 1 : -1];

apr_size_t oas_tally_size(apr_size_t bytes)
{
    apr_size_t n;

    if (bytes < OAS_TALLY_MIN_BYTES)
        return 0;
    n = (bytes - sizeof(hdr_t)) / sizeof(group_t);
    if (n > UNTIL_MASK)
        n = UNTIL_MASK;
    return sizeof(hdr_t) + n * sizeof(group_t);
}

apr_status_t oas_tally_format(void *base, apr_size_t size, apr_int64_t now)
{
    hdr_t *h = base;
    apr_size_t used = oas_tally_size(size);

    if (!base || !used)
        return APR_EINVAL;
    memset(base, 0, used);
    if (RAND_bytes(h->salt, SALT_LEN) != 1)
        return APR_EGENERAL;
    h->ngroups = (apr_uint32_t)((used - sizeof(hdr_t)) / sizeof(group_t));
    h->size = used;
    h->base = now - 1; /* every time from now on is 1 or more: 0 means "never" */
    h->version = TALLY_VERSION;
    __atomic_store_n(&h->magic, TALLY_MAGIC, __ATOMIC_RELEASE);
    return APR_SUCCESS;
}

apr_status_t oas_tally_attach(oas_tally_t **pt, apr_pool_t *p, void *base, apr_size_t size)
{
    hdr_t *h = base;
    oas_tally_t *t;

    if (!base || size < sizeof(hdr_t) || __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) !=
        TALLY_MAGIC || h->version != TALLY_VERSION || h->size > size || h->ngroups == 0 ||
        sizeof(hdr_t) + (apr_uint64_t)h->ngroups * sizeof(group_t) != h->size)
        return APR_EINVAL;
    t = apr_pcalloc(p, sizeof(*t));
    t->hdr = h;
    t->groups = (group_t *)(h + 1);
    t->ngroups = h->ngroups;
    t->pid = (apr_uint32_t)getpid();
    *pt = t;
    return APR_SUCCESS;
}

void oas_tally_digest(unsigned char out[OAS_SHA256_LEN], const oas_tally_t *t, int ns,
                      const char *key, apr_size_t klen)
{
    unsigned char nsb = (unsigned char)ns;
    oas_bytes_t parts[3] = {{t->hdr->salt, SALT_LEN}, {&nsb, 1}, {key, klen}};

    oas_sha256_parts(out, parts, 3);
}

/* ---- locking ---- */

/* A group's lock is held for a few dozen instructions with no call inside, so a waiter
 * spins, then yields the CPU (the holder may be preempted); once in a long while it asks
 * whether the holder's process still exists: a child killed while holding a group leaves its
 * pid there, and the group is taken over (its slots are whole records or free: a record
 * half-written then is one wrong count or marker until it expires). */
static void group_lock(oas_tally_t *t, group_t *g)
{
    apr_uint32_t spins = 0, cur;

    for (;;) {
        cur = 0;
        if (__atomic_compare_exchange_n(&g->lock, &cur, t->pid, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return;
        spins++;
        if (spins % 64)
            oas_cpu_relax();
        else if (spins % 65536)
            sched_yield();
        else if (cur != t->pid && kill((pid_t)cur, 0) != 0 && errno == ESRCH &&
                 __atomic_compare_exchange_n(&g->lock, &cur, t->pid, 0, __ATOMIC_ACQUIRE,
                                             __ATOMIC_RELAXED)) {
            __atomic_add_fetch(&t->hdr->stolen, 1, __ATOMIC_RELAXED);
            return;
        }
    }
}

static void group_unlock(group_t *g)
{
    __atomic_store_n(&g->lock, 0, __ATOMIC_RELEASE);
}

/* The two groups of digest d, locked (lower index first: no two threads wait on each other
 * in a cycle); g[1] is NULL when both picks are the same group. */
typedef struct {
    group_t *g[2];
    apr_uint64_t tag;
    apr_uint32_t now; /* relative to the base */
} span_t;

static apr_uint32_t rel(const oas_tally_t *t, apr_int64_t when)
{
    apr_int64_t r = when - t->hdr->base;

    return r < 1 ? 1 : r > (apr_int64_t)UNTIL_MASK ? UNTIL_MASK : (apr_uint32_t)r;
}

static void span_lock(span_t *sp, oas_tally_t *t, const unsigned char *d, apr_int64_t now)
{
    apr_uint32_t a, b;

    memcpy(&sp->tag, d, sizeof(sp->tag));
    if (!sp->tag)
        sp->tag = 1;
    memcpy(&a, d + 8, sizeof(a));
    memcpy(&b, d + 12, sizeof(b));
    a %= t->ngroups;
    b %= t->ngroups;
    if (a > b) {
        apr_uint32_t c = a;
        a = b;
        b = c;
    }
    sp->g[0] = &t->groups[a];
    sp->g[1] = a == b ? NULL : &t->groups[b];
    sp->now = rel(t, now);
    group_lock(t, sp->g[0]);
    if (sp->g[1])
        group_lock(t, sp->g[1]);
}

static void span_unlock(span_t *sp)
{
    if (sp->g[1])
        group_unlock(sp->g[1]);
    group_unlock(sp->g[0]);
}

static int in_window(const slot_t *s, apr_uint32_t now)
{
    return s->tag && (s->until & UNTIL_MASK) > now;
}

/* The record of the span's tag in its window, or NULL; expired ones met on the way are freed
 * (so that one tag is never in two slots). */
static slot_t *span_find(span_t *sp)
{
    slot_t *hit = NULL;
    int i, k;

    for (k = 0; k < 2 && sp->g[k]; k++) {
        for (i = 0; i < OAS_TALLY_WAYS; i++) {
            slot_t *s = &sp->g[k]->s[i];

            if (s->tag != sp->tag)
                continue;
            if (in_window(s, sp->now))
                hit = s;
            else
                s->tag = 0;
        }
    }
    return hit;
}

/* A slot for a new record: a free one in the emptier group; else, in the group with fewer
 * live markers (so that markers spread as evenly as when the table was empty), the
 * best-effort record that ends first gives way (counted); else NULL (live markers alone
 * fill both groups). */
static slot_t *span_room(oas_tally_t *t, span_t *sp)
{
    slot_t *free_[2] = {NULL, NULL}, *oldest[2] = {NULL, NULL};
    int nfree[2] = {0, 0}, nlive[2] = {0, 0};
    int i, k, pick;

    for (k = 0; k < 2 && sp->g[k]; k++) {
        for (i = 0; i < OAS_TALLY_WAYS; i++) {
            slot_t *s = &sp->g[k]->s[i];

            if (!in_window(s, sp->now)) {
                if (!nfree[k]++)
                    free_[k] = s;
            } else if (s->until & LIVE_BIT) {
                nlive[k]++;
            } else if (!oldest[k] || (s->until & UNTIL_MASK) < (oldest[k]->until & UNTIL_MASK)) {
                oldest[k] = s;
            }
        }
    }
    if (nfree[0] || nfree[1])
        return nfree[1] > nfree[0] ? free_[1] : free_[0];
    pick = oldest[1] && (!oldest[0] || nlive[1] < nlive[0]) ? 1 : 0;
    if (oldest[pick])
        __atomic_add_fetch(&t->hdr->evicted, 1, __ATOMIC_RELAXED);
    return oldest[pick];
}

/* ---- operations ---- */

apr_status_t oas_tally_incr(oas_tally_t *t, const unsigned char d[OAS_SHA256_LEN],
                            apr_int64_t delta, apr_int64_t now, apr_int64_t until,
                            apr_int64_t *n, apr_int64_t *puntil)
{
    span_t sp;
    slot_t *s;
    apr_int64_t v = delta;
    apr_status_t rv = APR_SUCCESS;

    if (!t || !d || !n)
        return APR_EINVAL;
    span_lock(&sp, t, d, now);
    if ((s = span_find(&sp))) {
        v = (apr_int64_t)s->n + delta;
        until = t->hdr->base + (s->until & UNTIL_MASK);
    } else if (delta > 0 && (s = span_room(t, &sp))) {
        s->tag = sp.tag;
        s->until = rel(t, until);
    } else if (delta > 0) {
        rv = APR_ENOSPC; /* only when live markers fill both groups */
    }
    if (s && rv == APR_SUCCESS) {
        if (v <= 0 && delta < 0)
            s->tag = 0; /* given back to nothing: takes no room */
        else
            s->n = v > APR_INT32_MAX ? APR_INT32_MAX : (apr_int32_t)v;
    }
    span_unlock(&sp);
    *n = v > 0 ? v : 0;
    if (puntil)
        *puntil = until;
    return rv;
}

apr_status_t oas_tally_peek(oas_tally_t *t, const unsigned char d[OAS_SHA256_LEN],
                            apr_int64_t now, apr_int64_t *n, apr_int64_t *until)
{
    span_t sp;
    slot_t *s;

    if (!t || !d)
        return APR_EINVAL;
    span_lock(&sp, t, d, now);
    if ((s = span_find(&sp))) {
        *n = s->n;
        *until = t->hdr->base + (s->until & UNTIL_MASK);
    }
    span_unlock(&sp);
    return s ? APR_SUCCESS : APR_NOTFOUND;
}

apr_status_t oas_tally_claim(oas_tally_t *t, const unsigned char d[OAS_SHA256_LEN],
                             apr_int64_t now, apr_int64_t until)
{
    span_t sp;
    slot_t *s;
    apr_status_t rv = APR_SUCCESS;

    if (!t || !d)
        return APR_EINVAL;
    span_lock(&sp, t, d, now);
    if (span_find(&sp))
        rv = APR_EEXIST;
    else if ((s = span_room(t, &sp))) {
        s->tag = sp.tag;
        s->until = rel(t, until) | LIVE_BIT;
        s->n = 0;
    } else {
        rv = APR_ENOSPC;
        __atomic_add_fetch(&t->hdr->full, 1, __ATOMIC_RELAXED);
    }
    span_unlock(&sp);
    return rv;
}

apr_status_t oas_tally_drop(oas_tally_t *t, const unsigned char d[OAS_SHA256_LEN],
                            apr_int64_t now)
{
    span_t sp;
    slot_t *s;

    if (!t || !d)
        return APR_EINVAL;
    span_lock(&sp, t, d, now);
    if ((s = span_find(&sp)))
        s->tag = 0;
    span_unlock(&sp);
    return s ? APR_SUCCESS : APR_NOTFOUND;
}

apr_uint32_t oas_tally_slots(const oas_tally_t *t)
{
    return t->ngroups * OAS_TALLY_WAYS;
}

void oas_tally_counters(const oas_tally_t *t, oas_tally_stats_t *st)
{
    memset(st, 0, sizeof(*st));
    st->bytes = (apr_size_t)t->hdr->size;
    st->slots = oas_tally_slots(t);
    st->evicted = __atomic_load_n(&t->hdr->evicted, __ATOMIC_RELAXED);
    st->full = __atomic_load_n(&t->hdr->full, __ATOMIC_RELAXED);
    st->stolen = __atomic_load_n(&t->hdr->stolen, __ATOMIC_RELAXED);
}

void oas_tally_stats(const oas_tally_t *t, apr_int64_t now, oas_tally_stats_t *st)
{
    apr_uint32_t g, i, r = rel(t, now);

    oas_tally_counters(t, st);
    for (g = 0; g < t->ngroups; g++) {
        for (i = 0; i < OAS_TALLY_WAYS; i++) {
            slot_t s = t->groups[g].s[i]; /* a racy copy: figures for a human */

            if (in_window(&s, r)) {
                if (s.until & LIVE_BIT)
                    st->live++;
                else
                    st->best_effort++;
            }
        }
    }
}

/* ---- the store over the tally ---- */

typedef struct {
    oas_tally_t *t;
    oas_store_t *notes;
} tstore_t;

static apr_int64_t sec_up(apr_time_t t)
{
    return (apr_int64_t)((t + APR_USEC_PER_SEC - 1) / APR_USEC_PER_SEC);
}

static apr_status_t ts_digest(unsigned char *d, oas_store_t *st, int ns, const char *key,
                              apr_size_t klen)
{
    if (!key || !klen)
        return APR_EINVAL;
    oas_tally_digest(d, ((tstore_t *)st->ctx)->t, ns, key, klen);
    return APR_SUCCESS;
}

static apr_status_t ts_put(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                           apr_size_t klen, const void *val, apr_size_t vlen, apr_time_t expires)
{
    (void)st, (void)p, (void)ns, (void)key, (void)klen, (void)val, (void)vlen, (void)expires;
    return APR_ENOTIMPL;
}

static apr_status_t ts_put_new(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                               apr_size_t klen, const void *val, apr_size_t vlen,
                               apr_time_t expires)
{
    unsigned char d[OAS_SHA256_LEN];
    apr_status_t rv;

    (void)p, (void)val;
    if (vlen) /* a marker holds nothing */
        return APR_EINVAL;
    if ((rv = ts_digest(d, st, ns, key, klen)) != APR_SUCCESS)
        return rv;
    return oas_tally_claim(((tstore_t *)st->ctx)->t, d, apr_time_sec(apr_time_now()),
                           sec_up(expires));
}

static apr_status_t ts_get(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                           apr_size_t klen, char **pval, apr_size_t *plen)
{
    unsigned char d[OAS_SHA256_LEN];
    apr_int64_t n, until;
    apr_status_t rv;

    if ((rv = ts_digest(d, st, ns, key, klen)) != APR_SUCCESS ||
        (rv = oas_tally_peek(((tstore_t *)st->ctx)->t, d, apr_time_sec(apr_time_now()), &n,
                             &until)) != APR_SUCCESS)
        return rv;
    /* as the store's counters read: "count expires" (microseconds) */
    *pval = apr_psprintf(p, "%" APR_INT64_T_FMT " %" APR_INT64_T_FMT, n,
                         (apr_int64_t)apr_time_from_sec(until));
    if (plen)
        *plen = strlen(*pval);
    return APR_SUCCESS;
}

static apr_status_t ts_take(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                            apr_size_t klen, char **pval, apr_size_t *plen)
{
    (void)st, (void)p, (void)ns, (void)key, (void)klen, (void)pval, (void)plen;
    return APR_ENOTIMPL;
}

static apr_status_t ts_del(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                           apr_size_t klen)
{
    unsigned char d[OAS_SHA256_LEN];
    apr_status_t rv;

    (void)p;
    if ((rv = ts_digest(d, st, ns, key, klen)) != APR_SUCCESS)
        return rv;
    return oas_tally_drop(((tstore_t *)st->ctx)->t, d, apr_time_sec(apr_time_now()));
}

static apr_status_t ts_incr(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                            apr_size_t klen, apr_int64_t delta, apr_time_t expires,
                            apr_int64_t *pcount, apr_time_t *pexpires)
{
    unsigned char d[OAS_SHA256_LEN];
    apr_int64_t until;
    apr_status_t rv;

    (void)p;
    if (!pcount || (rv = ts_digest(d, st, ns, key, klen)) != APR_SUCCESS)
        return APR_EINVAL;
    rv = oas_tally_incr(((tstore_t *)st->ctx)->t, d, delta, apr_time_sec(apr_time_now()),
                        sec_up(expires), pcount, &until);
    if (rv == APR_SUCCESS && pexpires)
        *pexpires = apr_time_from_sec(until);
    return rv;
}

static void ts_note(oas_store_t *st, int event)
{
    oas_store_t *notes = ((tstore_t *)st->ctx)->notes;

    if (notes && notes->note)
        notes->note(notes, event);
}

oas_store_t *oas_tally_store(oas_tally_t *t, apr_pool_t *p, oas_store_t *notes)
{
    oas_store_t *st = apr_pcalloc(p, sizeof(*st));
    tstore_t *c = apr_palloc(p, sizeof(*c));

    c->t = t;
    c->notes = notes;
    st->name = "tally";
    st->ctx = c;
    st->put = ts_put;
    st->put_new = ts_put_new;
    st->get = ts_get;
    st->take = ts_take;
    st->del = ts_del;
    st->incr = ts_incr;
    st->note = ts_note;
    st->incr_drops_spent = 1;
    return st;
}
