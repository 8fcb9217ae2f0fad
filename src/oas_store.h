/* mod_oauth_as: the storage interface. Short-lived state (codes, request_uris, consent
 * transactions) and long-lived state (refresh tokens, remembered consents, revoked jtis)
 * go through this table of functions; shm (oas_store_shm.c) and mod_dbd back it. */
#ifndef OAS_STORE_H
#define OAS_STORE_H

#include "oas.h"

/* Namespaces keep one kind of item from being used as another (a code is not a
 * request_uri). The byte is hashed with the key, so the same secret in two namespaces
 * gives two unrelated entries. */
typedef enum {
    OAS_NS_CODE = 'c',        /* authorization code -> code record */
    OAS_NS_CODE_USED = 'u',   /* redeemed code -> tombstone (what it issued) */
    OAS_NS_REQUEST_URI = 'r', /* PAR request_uri -> pushed request */
    OAS_NS_TXN = 't',         /* consent transaction id -> validated request */
    OAS_NS_CONSENT = 'g',     /* user+client+scopes -> remembered grant */
    OAS_NS_REFRESH = 'R',     /* family id "#" generation -> "" (its rotation ticket); the
                                 previous build's refresh token -> its record */
    OAS_NS_REFRESH_USED = 'U', /* the previous build's rotated-out refresh token -> {"cid",
                                  "fam"} (reuse marker; written once per family, to move it) */
    OAS_NS_REVOKED = 'j',     /* revoked access-token jti -> "" */
    OAS_NS_FAMILY = 'f',      /* refresh family's handle (oas_grant_handle) -> {"g": grant,
                                 "n": generation, "live", "out": token digests} while live;
                                 the previous builds': keyed by the family id ("1": older) */
    OAS_NS_ACCESS = 'i',      /* access-token jti -> {"fam": its refresh family, "ui": claims}:
                                 the previous build's, and a family of the previous build's */
    OAS_NS_USER = 'w',        /* issuer "\n" sub -> the user's claims at their latest issuance */
    OAS_NS_AUTHFAIL = 'a',    /* client id "\n" client address -> "count expiry" (C07) */
    OAS_NS_QUOTA = 'q',       /* client id -> "count expiry": requests started (D07) */
    OAS_NS_JWKS = 'k',        /* a kind letter, client id and jwks_uri -> the fetched JWKS and
                                 its fetch markers (oas_jwks_cache.c): a lost one costs a
                                 refetch */
    OAS_NS_CIMD = 'm',        /* a kind letter, issuer and client id URL -> the fetched client
                                 metadata document, or why its fetch failed (oas_cimd.c): a
                                 lost one costs a refetch */
    OAS_NS_ASSERTION = 'J',   /* client id "\n" jti of a client assertion -> "" until its exp
                                 plus the skew (live: an evicted jti would let a replay in) */
    OAS_NS_DPOP = 'D',        /* DPoP proof's jkt "\n" jti -> "": spent until the proof's
                                 window is over (live: an evicted jti would allow a replay) */
    OAS_NS_CLIENT = 'C',      /* a registered client's id (RFC 7591) -> its record
                                 (oas_clients.h): live until it expires
                                 (client-lifetime) or is deleted */
    OAS_NS_REG_COUNT = 'n',   /* issuer "\n" width "\n" bucket -> how many clients were
                                 registered in that time bucket (oas_reg_policy.c): live
                                 while they may be (max-clients counts them) */
    OAS_NS_SESSION = 's',     /* keyed digest of a session cookie -> the AS session
                                 (oas_session.c); best effort: a lost one costs a sign-in */
    OAS_NS_SESSION_END = 'e', /* sid of an ended session -> "" until the longest refresh-token
                                 lifetime: its refresh tokens without offline_access stop;
                                 best effort, so that logouts never fill the store for a month
                                 (refresh tokens are only issued with offline_access today) */
    OAS_NS_LOGIN = 'l',       /* a re-authentication in progress (prompt=login, max_age) ->
                                 the user and the authorization request to resume */
    OAS_NS_ACCOUNT = 'A',     /* issuer "\n" user -> what each client holds of the user
                                 (oas_account.h: consents, refresh families, access tokens) */
    OAS_NS_ACCOUNT_LOCK = 'L', /* the same key -> "" while a request updates that record
                                  (live: an evicted lock would let two writers lose one's
                                  update; not durable: it lives seconds) */
    OAS_NS_DEVICE = 'v',      /* RFC 8628 (oas_device.c): "d" device-code handle -> the device
                                 request; "u" user-code handle -> the device-code handle; "r"
                                 device-code handle -> the user's decision */
    OAS_NS_DEVICE_PACE = 'p', /* a device-code handle -> its last poll (marker) and how often
                                 it was told slow_down (counter) */
    OAS_NS_TEST = 'x'         /* unit and integration tests only */
} oas_store_ns_e;

/* Classes of records (issue 14, availability). LIVE: state a later request depends on
 * (a code, a pushed request, a consent transaction, a refresh family, a revocation, the link
 * of an access token to its grant): never evicted; when such records alone fill the store, a
 * put fails with APR_ENOSPC and the caller answers 503 with an honest Retry-After.
 * BEST_EFFORT: records that only make a check stricter for a while (replay tombstones,
 * counters, quota windows, markers past their use): when the store is full they give way,
 * oldest first, to any new record. A write of either class must still succeed or be
 * refused: nothing a security property depends on is skipped silently. */
#define OAS_STORE_LIVE        0
#define OAS_STORE_BEST_EFFORT 1
#define OAS_STORE_CLASSES     2

/** The class of a namespace's records. */
static inline int oas_store_ns_class(int ns)
{
    switch (ns) {
    case OAS_NS_CODE_USED:
    case OAS_NS_REFRESH_USED:
    case OAS_NS_AUTHFAIL:
    case OAS_NS_QUOTA:
    case OAS_NS_JWKS:
    case OAS_NS_CIMD:
    case OAS_NS_SESSION:
    case OAS_NS_SESSION_END:
    case OAS_NS_DEVICE_PACE:
        return OAS_STORE_BEST_EFFORT;
    default:
        return OAS_STORE_LIVE;
    }
}

/** 1 when a namespace's records must survive a crash of the database that holds them:
 * refresh-token families and their rotation, remembered consents, revocations. The others
 * live seconds to minutes (codes, pushed requests, consent transactions, their tombstones,
 * counters, the user's latest claims rewritten at every issuance); a database store may
 * commit them without waiting for the disk (PostgreSQL: synchronous_commit off), since a
 * database crash forgets at most its last fraction of a second of them. */
static inline int oas_store_ns_durable(int ns)
{
    switch (ns) {
    case OAS_NS_CONSENT:
    case OAS_NS_REFRESH:
    case OAS_NS_REFRESH_USED:
    case OAS_NS_REVOKED:
    case OAS_NS_FAMILY:
    case OAS_NS_CLIENT:
    case OAS_NS_REG_COUNT:
    case OAS_NS_SESSION_END:
    case OAS_NS_ACCOUNT:
        return 1;
    default:
        return 0;
    }
}

/* Events a store counts for server-status (and later the metrics), across every process
 * that shares it. */
typedef enum {
    OAS_STORE_EV_EVICTED = 0,   /* a best-effort record gave way to a new one */
    OAS_STORE_EV_FULL,          /* a put refused: live records alone fill the store */
    OAS_STORE_EV_AUTHFAIL_REFUSED, /* 429: the brute-force brake */
    OAS_STORE_EV_QUOTA_CLIENT,  /* 429: a client over its quota */
    OAS_STORE_EV_QUOTA_USER,    /* 429: a signed-in user over theirs */
    OAS_STORE_EV_QUOTA_ADDR,    /* 429: an address (IPv6: its /64) over its quota */
    OAS_STORE_EV_COUNT
} oas_store_event_e;

/* Every backend stores values of up to this many bytes (shm refuses larger ones with
 * APR_ENOSPC): callers that build a value from client input check it first. */
#define OAS_STORE_MAX_VALUE (16 * 1024)

typedef struct oas_store_t oas_store_t;

/* Every function returns:
 *   APR_SUCCESS   done
 *   APR_NOTFOUND  no live entry (missing or expired: an expired entry is never returned)
 *   APR_EEXIST    put_new only: a live entry already exists
 *   APR_ENOSPC    the store is full or the value too large (callers answer 503 + Retry-After)
 *   APR_EINVAL    bad arguments
 *   other         the backend failed (lock, database); callers answer 503
 * Keys are arbitrary byte strings (the raw secret); a backend stores only a digest of
 * (namespace, key). Values are opaque bytes; get/take copy them into pool p,
 * NUL-terminated (the NUL is not counted in *plen). */
struct oas_store_t {
    const char *name; /* "shm" or "dbd", for log lines */
    void *ctx;
    apr_status_t (*put)(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                        apr_size_t klen, const void *val, apr_size_t vlen, apr_time_t expires);
    apr_status_t (*put_new)(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                            apr_size_t klen, const void *val, apr_size_t vlen,
                            apr_time_t expires);
    apr_status_t (*get)(oas_store_t *st, apr_pool_t *p, int ns, const char *key, apr_size_t klen,
                        char **pval, apr_size_t *plen);
    /* Read and delete in one atomic step: across all processes and threads, exactly one
     * caller gets APR_SUCCESS for a given live entry. pval may be NULL. */
    apr_status_t (*take)(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                         apr_size_t klen, char **pval, apr_size_t *plen);
    apr_status_t (*del)(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                        apr_size_t klen);
    /* Optional (NULL: oas_store_incr falls back to get + put, not atomic). Adds delta (may
     * be negative) to the counter under (ns, key) in one atomic step across every process
     * and host: a missing or expired counter starts at delta and lives until `expires`; a
     * live one keeps its expiry. *pcount gets the new count, *pexpires (may be NULL) the
     * counter's expiry. */
    apr_status_t (*incr)(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                         apr_size_t klen, apr_int64_t delta, apr_time_t expires,
                         apr_int64_t *pcount, apr_time_t *pexpires);
    /* Optional (NULL: not counted). Counts one event (oas_store_event_e); never fails. */
    void (*note)(oas_store_t *st, int event);
    /* 1 when incr itself removes a counter that a negative delta brings to 0 or below (it
     * then reports 0): callers need not delete it. */
    int incr_drops_spent;
};

/* Convenience wrappers for NUL-terminated keys. */
#define oas_store_put(st, p, ns, key, val, vlen, exp)                                             \
    (st)->put((st), (p), (ns), (key), strlen(key), (val), (vlen), (exp))
#define oas_store_put_new(st, p, ns, key, val, vlen, exp)                                         \
    (st)->put_new((st), (p), (ns), (key), strlen(key), (val), (vlen), (exp))
#define oas_store_get(st, p, ns, key, pval, plen)                                                 \
    (st)->get((st), (p), (ns), (key), strlen(key), (pval), (plen))
#define oas_store_take(st, p, ns, key, pval, plen)                                                \
    (st)->take((st), (p), (ns), (key), strlen(key), (pval), (plen))
#define oas_store_del(st, p, ns, key) (st)->del((st), (p), (ns), (key), strlen(key))

/** The counter of (ns, key) plus delta (see incr above), through the backend's atomic incr
 * when it has one. The fallback keeps the counter as decimal text "count expires" (expires in
 * apr_time_t) and is best effort: concurrent requests may be counted once. */
apr_status_t oas_store_incr(oas_store_t *st, apr_pool_t *p, int ns, const char *key,
                            apr_int64_t delta, apr_time_t expires, apr_int64_t *pcount,
                            apr_time_t *pexpires);

/** Counts an event when the backend counts them. */
#define oas_store_note(st, ev)                                                                    \
    do {                                                                                        \
        if ((st) && (st)->note)                                                                 \
            (st)->note((st), (ev));                                                             \
    } while (0)

#endif
