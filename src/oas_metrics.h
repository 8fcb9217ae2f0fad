/* mod_oauth_as: the metrics registry (OAuthASEndpoint metrics, Prometheus text exposition
 * 0.0.4). The counters live in one small shared segment made by the glue in post_config: a
 * few slots of plain 64-bit counters, each thread adding to its own slot with relaxed atomic
 * adds (no lock on the request path), summed at scrape time. */
#ifndef OAS_METRICS_H
#define OAS_METRICS_H

#include <apr_pools.h>

#include "oas_conf.h"
#include "oas_store_shm.h"
#include "oas_tally.h"

#define OAS_METRICS_SLOTS   8  /* threads share a slot round-robin; fewer shared cache lines */
#define OAS_METRICS_EPS     16 /* endpoint kinds (oas_endpoint_e), room to grow */
#define OAS_METRICS_CLASSES 5  /* HTTP status classes 1xx..5xx */
#define OAS_METRICS_BUCKETS 12 /* latency buckets, +Inf excluded (oas_metrics_bucket_us) */

/* OAuth error codes counted by name; others are "other" (the last). */
#define OAS_METRICS_ERRORS 30

/* Grants tokens are issued for (label grant) */
typedef enum {
    OAS_MG_CODE = 0, OAS_MG_REFRESH, OAS_MG_CC, OAS_MG_EXCHANGE, OAS_MG_OTHER, OAS_MG_COUNT
} oas_metrics_grant_e;
/* What the access token is bound to (label binding) */
typedef enum { OAS_MB_BEARER = 0, OAS_MB_DPOP, OAS_MB_MTLS, OAS_MB_COUNT } oas_metrics_bind_e;
/* Token kinds (label type), as bits for oas_metrics_tokens */
#define OAS_MT_ACCESS  0x1
#define OAS_MT_REFRESH 0x2
#define OAS_MT_ID      0x4
#define OAS_MT_COUNT   3
/* Client authentication methods (label method) */
typedef enum {
    OAS_MA_BASIC = 0, OAS_MA_POST, OAS_MA_JWT, OAS_MA_TLS, OAS_MA_NONE, OAS_MA_COUNT
} oas_metrics_auth_e;
/* Replays refused (label kind) */
typedef enum { OAS_MR_DPOP = 0, OAS_MR_ASSERTION, OAS_MR_COUNT } oas_metrics_replay_e;

/* One slot; the segment's slots are summed into one of these for a scrape. */
typedef struct {
    apr_uint64_t requests[OAS_METRICS_EPS][OAS_METRICS_CLASSES];
    apr_uint64_t errors[OAS_METRICS_EPS][OAS_METRICS_ERRORS];
    apr_uint64_t latency[OAS_METRICS_EPS][OAS_METRICS_BUCKETS + 1]; /* per bucket, not cumulative */
    apr_uint64_t latency_us[OAS_METRICS_EPS];                      /* sum, microseconds */
    apr_uint64_t tokens[OAS_MG_COUNT][OAS_MB_COUNT][OAS_MT_COUNT];
    apr_uint64_t auth_failures[OAS_MA_COUNT];
    apr_uint64_t replays[OAS_MR_COUNT];
    apr_uint64_t pad[8]; /* keeps the next slot's first counters off this one's cache line */
} oas_metrics_slot_t;

/** Bytes of the segment. */
apr_size_t oas_metrics_size(void);

/** Zeroes the segment at base (a fresh start: first start or hard restart). */
void oas_metrics_format(void *base, apr_size_t size);

/** Makes the segment at base this process's registry (NULL: none; counting is then a no-op).
 * @return APR_EINVAL when base is not a formatted segment of this layout */
apr_status_t oas_metrics_attach(void *base, apr_size_t size);

/** 1 when this process has a registry. */
int oas_metrics_enabled(void);

/** A request to endpoint ep ended with status (its OAuth error code, or NULL) after usec. */
void oas_metrics_request(int ep, int status, const char *error, apr_int64_t usec);

/** Tokens of the kinds (OAS_MT_* bits) issued for grant, bound as bind. */
void oas_metrics_tokens(oas_metrics_grant_e grant, oas_metrics_bind_e bind, int kinds);

/** A client authentication by method failed. */
void oas_metrics_auth_failure(oas_metrics_auth_e method);

/** A replayed DPoP proof or client assertion refused. */
void oas_metrics_replay(oas_metrics_replay_e kind);

/** The error code's index (OAS_METRICS_ERRORS - 1: "other"). */
int oas_metrics_error_index(const char *error);

/** The upper bound in microseconds of latency bucket i (< OAS_METRICS_BUCKETS), and the
 * bucket of a duration (OAS_METRICS_BUCKETS: +Inf). */
apr_int64_t oas_metrics_bucket_us(int i);
int oas_metrics_bucket_of(apr_int64_t usec);

/** Adds every slot of the segment at base into *sum (zeroed first); relaxed atomic reads. */
void oas_metrics_sum(oas_metrics_slot_t *sum, const void *base);

/** The registry's sum (zero when none). */
void oas_metrics_read(oas_metrics_slot_t *sum);

/** A label value escaped for the exposition format (\\, \", \n). */
const char *oas_metrics_escape(apr_pool_t *p, const char *v);

/** The exposition (text/plain; version=0.0.4) of sum, with the shared-memory store's figures
 * when shm is not NULL and the tally's counters (oas_tally_counters) when tally is not NULL. */
char *oas_metrics_render(apr_pool_t *p, const oas_metrics_slot_t *sum, const oas_shm_usage_t *shm,
                         const oas_tally_stats_t *tally);

#endif
