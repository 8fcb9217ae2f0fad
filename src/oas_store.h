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
    OAS_NS_REFRESH = 'R',     /* refresh token -> refresh record */
    OAS_NS_REFRESH_USED = 'U', /* rotated-out refresh token -> {"cid", "fam"} (reuse marker) */
    OAS_NS_REVOKED = 'j',     /* revoked access-token jti -> "" */
    OAS_NS_FAMILY = 'f',      /* refresh family id -> "1" while the family is live */
    OAS_NS_ACCESS = 'i',      /* access-token jti -> {"fam": its refresh family, "ui": claims} */
    OAS_NS_AUTHFAIL = 'a',    /* client id "\n" client address -> "count expiry" (C07) */
    OAS_NS_QUOTA = 'q',       /* client id -> "count expiry": requests started (D07) */
    OAS_NS_TEST = 'x'         /* unit and integration tests only */
} oas_store_ns_e;

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

#endif
