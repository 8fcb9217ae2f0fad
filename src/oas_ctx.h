/* mod_oauth_as: what one request gives the protocol engine (the core's state machines:
 * codes, refresh, consent, counters): the issuer, the stores, the clock and who asks. The
 * glue fills it from request_rec (src/mod_oas_store.c); unit tests fill it directly. */
#ifndef OAS_CTX_H
#define OAS_CTX_H

#include "oas_conf.h"
#include "oas_err.h"
#include "oas_log.h"
#include "oas_store.h"

#define OAS_CTX_SHORT 0 /* codes, request_uris, consent transactions */
#define OAS_CTX_LONG  1 /* refresh tokens, families, remembered consents, revocations */
/* The brute-force brake's and the quotas' counters: kept by each node in its own tally
 * (oas_tally.h) whatever the store, so that a flow's counting never waits on a lock of the
 * whole store or on the database; in a cluster each node counts its own requests. */
#define OAS_CTX_COUNTERS 2
/* Single-use markers (a client assertion's or a DPoP proof's jti): the tally when the
 * short-lived store is the node's shared memory; the database when nodes share it, so that
 * a jti spent on one node is spent on every node. */
#define OAS_CTX_REPLAY 3
#define OAS_CTX_KINDS 4

/* Opens the store of one kind for this request (the database store takes a pooled
 * connection): NULL when it cannot be had (the backend logged why). */
typedef oas_store_t *oas_ctx_open_fn(void *baton, int kind);

typedef struct oas_ctx_t {
    apr_pool_t *p;            /* the request's pool */
    const oas_issuer_t *iss;
    apr_int64_t now;          /* seconds since the epoch, read once per request */
    const char *addr;         /* the client's address (r->useragent_ip), or "" */
    const char *user;         /* the signed-in user, or NULL */
    const char *dpop_jkt;     /* the key (RFC 7638 thumbprint) of the request's valid DPoP
                               * proof (RFC 9449), or NULL: what the tokens are bound to */
    const char *target;       /* RFC 8707 §2.2: the resource a token request names (code and
                               * refresh grants), or NULL: the grant's own */
    const struct oas_cert_t *cert; /* the client certificate of the connection (oas_mtls.h),
                                    * or NULL: none, or no TLS */
    int grant;                /* the OAS_GRANT_* bit of the token request served (metrics) */
    int on_mtls_alias;        /* the request arrived on the OAuthASMTLSAlias host: endpoint
                               * URLs (DPoP's htu) are the alias's */
    void *log;                /* log baton (oas_log.h): the glue's request_rec */
    oas_ctx_open_fn *open;    /* NULL: only the stores set below */
    void *open_baton;
    const oas_client_t *reg_client; /* the last registered client read (oas_clients.h) */
    oas_store_t *store[OAS_CTX_KINDS]; /* opened on first use, by kind */
    int opened[OAS_CTX_KINDS];
} oas_ctx_t;

/** A context for iss in pool p at time now, with no stores yet (unit tests set store[]). */
void oas_ctx_init(oas_ctx_t *x, apr_pool_t *p, const oas_issuer_t *iss, apr_int64_t now);

/** The store of kind OAS_CTX_*, opened once: NULL when it cannot be had (callers answer
 * with oas_err_store(..., APR_ENOTIMPL, ...)). Without an open function (unit tests), the
 * counters and markers go to the short-lived store unless a test set their own. */
oas_store_t *oas_ctx_store(oas_ctx_t *x, int kind);

/** oas_err_store with an honest Retry-After: when the store is full (APR_ENOSPC), the time
 * until the short-lived records that fill it have expired (oas_iss_short_lived), not a fixed
 * 5 seconds; a failing backend keeps the 5. Every engine file answers store failures so. */
apr_status_t oas_store_refused(oas_ctx_t *x, oas_err_t *e, apr_status_t rv, const char *what);

#define OAS_CTX_LOG(x, level, rv, ...) oas_log(OAS_LOG_MARK, (level), (rv), (x)->log, __VA_ARGS__)

#endif
