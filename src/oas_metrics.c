/* mod_oauth_as: the metrics registry and its Prometheus text exposition (format 0.0.4).
 * Counting is a relaxed atomic add to the calling thread's slot: no lock, no shared cache
 * line between threads of different slots; a scrape sums the slots. */
#include <apr_strings.h>
#include <string.h>

#include "oas_metrics.h"

#define OAS_METRICS_MAGIC   0x4f41534dU /* "OASM" */
#define OAS_METRICS_VERSION 1U

typedef struct {
    apr_uint32_t magic;
    apr_uint32_t version;
    apr_uint32_t size;
    apr_uint32_t next_slot; /* round-robin hand for threads taking their slot */
    apr_uint64_t pad[7];
    oas_metrics_slot_t slot[OAS_METRICS_SLOTS];
} oas_metrics_seg_t;

/* this process's segment; set at start-up (post_config, child_init), read-only after */
static oas_metrics_seg_t *seg;
/* the calling thread's slot, taken on its first count */
static __thread oas_metrics_slot_t *my_slot;
static __thread const oas_metrics_seg_t *my_seg;

static const char *const error_names[OAS_METRICS_ERRORS] = {
    "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
    "unsupported_grant_type", "invalid_scope", "access_denied", "unsupported_response_type",
    "server_error", "temporarily_unavailable", "invalid_token", "insufficient_scope",
    "invalid_dpop_proof", "use_dpop_nonce", "invalid_target", "invalid_request_uri",
    "invalid_request_object", "request_not_supported", "request_uri_not_supported",
    "invalid_redirect_uri", "invalid_client_metadata", "login_required", "consent_required",
    "interaction_required", "account_selection_required", "invalid_authorization_details",
    "slow_down", "authorization_pending", "expired_token", "other"};

/* upper bounds, microseconds: 1 ms to 10 s */
static const apr_int64_t bucket_us[OAS_METRICS_BUCKETS] = {
    1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 10000000};
/* the same in seconds, as the le label says them (apr_psprintf's %g drops the leading 0) */
static const char *const bucket_le[OAS_METRICS_BUCKETS] = {
    "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "10"};

static const char *const grant_names[OAS_MG_COUNT] = {
    "authorization_code", "refresh_token", "client_credentials", "token_exchange", "other"};
static const char *const bind_names[OAS_MB_COUNT] = {"bearer", "dpop", "mtls"};
static const char *const kind_names[OAS_MT_COUNT] = {"access", "refresh", "id"};
static const char *const auth_names[OAS_MA_COUNT] = {
    "client_secret_basic", "client_secret_post", "jwt_assertion", "tls_client_auth", "none"};
static const char *const replay_names[OAS_MR_COUNT] = {"dpop_proof", "client_assertion"};

apr_size_t oas_metrics_size(void)
{
    return sizeof(oas_metrics_seg_t);
}

void oas_metrics_format(void *base, apr_size_t size)
{
    oas_metrics_seg_t *s = base;

    memset(base, 0, size < sizeof(*s) ? size : sizeof(*s));
    if (size < sizeof(*s))
        return;
    s->magic = OAS_METRICS_MAGIC;
    s->version = OAS_METRICS_VERSION;
    s->size = (apr_uint32_t)sizeof(*s);
}

static int seg_ok(const oas_metrics_seg_t *s, apr_size_t size)
{
    return size >= sizeof(*s) && s->magic == OAS_METRICS_MAGIC &&
           s->version == OAS_METRICS_VERSION && s->size == sizeof(*s);
}

apr_status_t oas_metrics_attach(void *base, apr_size_t size)
{
    if (base && !seg_ok(base, size)) {
        seg = NULL;
        return APR_EINVAL;
    }
    seg = base;
    return APR_SUCCESS;
}

int oas_metrics_enabled(void)
{
    return seg != NULL;
}

/* The thread's slot, taken once (again when the process attached another segment). */
static oas_metrics_slot_t *slot(void)
{
    oas_metrics_seg_t *s = seg;

    if (!s)
        return NULL;
    if (my_seg != s) {
        apr_uint32_t n = __atomic_fetch_add(&s->next_slot, 1, __ATOMIC_RELAXED);
        my_slot = &s->slot[n % OAS_METRICS_SLOTS];
        my_seg = s;
    }
    return my_slot;
}

#define ADD(c) __atomic_fetch_add(&(c), 1, __ATOMIC_RELAXED)

int oas_metrics_error_index(const char *error)
{
    int i;

    for (i = 0; error && i < OAS_METRICS_ERRORS - 1; i++) {
        if (!strcmp(error, error_names[i]))
            return i;
    }
    return OAS_METRICS_ERRORS - 1;
}

apr_int64_t oas_metrics_bucket_us(int i)
{
    return bucket_us[i];
}

int oas_metrics_bucket_of(apr_int64_t usec)
{
    int i;

    for (i = 0; i < OAS_METRICS_BUCKETS; i++) {
        if (usec <= bucket_us[i])
            return i;
    }
    return OAS_METRICS_BUCKETS;
}

void oas_metrics_request(int ep, int status, const char *error, apr_int64_t usec)
{
    oas_metrics_slot_t *m = slot();
    int cls = status / 100 - 1;

    if (!m || ep <= 0 || ep >= OAS_METRICS_EPS)
        return;
    if (cls >= 0 && cls < OAS_METRICS_CLASSES)
        ADD(m->requests[ep][cls]);
    if (error)
        ADD(m->errors[ep][oas_metrics_error_index(error)]);
    if (usec < 0)
        usec = 0;
    ADD(m->latency[ep][oas_metrics_bucket_of(usec)]);
    __atomic_fetch_add(&m->latency_us[ep], (apr_uint64_t)usec, __ATOMIC_RELAXED);
}

void oas_metrics_tokens(oas_metrics_grant_e grant, oas_metrics_bind_e bind, int kinds)
{
    oas_metrics_slot_t *m = slot();
    int k;

    if (!m || (unsigned)grant >= OAS_MG_COUNT || (unsigned)bind >= OAS_MB_COUNT)
        return;
    for (k = 0; k < OAS_MT_COUNT; k++) {
        if (kinds & (1 << k))
            ADD(m->tokens[grant][bind][k]);
    }
}

void oas_metrics_auth_failure(oas_metrics_auth_e method)
{
    oas_metrics_slot_t *m = slot();

    if (m && (unsigned)method < OAS_MA_COUNT)
        ADD(m->auth_failures[method]);
}

void oas_metrics_replay(oas_metrics_replay_e kind)
{
    oas_metrics_slot_t *m = slot();

    if (m && (unsigned)kind < OAS_MR_COUNT)
        ADD(m->replays[kind]);
}

void oas_metrics_sum(oas_metrics_slot_t *sum, const void *base)
{
    const oas_metrics_seg_t *s = base;
    apr_uint64_t *out = (apr_uint64_t *)sum;
    size_t n = sizeof(*sum) / sizeof(apr_uint64_t);
    size_t i;
    int k;

    memset(sum, 0, sizeof(*sum));
    if (!s)
        return;
    for (k = 0; k < OAS_METRICS_SLOTS; k++) {
        const apr_uint64_t *in = (const apr_uint64_t *)&s->slot[k];
        for (i = 0; i < n; i++) {
            out[i] += __atomic_load_n(&in[i], __ATOMIC_RELAXED);
        }
    }
}

void oas_metrics_read(oas_metrics_slot_t *sum)
{
    oas_metrics_sum(sum, seg);
}

const char *oas_metrics_escape(apr_pool_t *p, const char *v)
{
    size_t n = 0;
    const char *s;
    char *out, *o;

    for (s = v; *s; s++) {
        n += (*s == '\\' || *s == '"' || *s == '\n') ? 2 : 1;
    }
    if (n == (size_t)(s - v))
        return v;
    o = out = apr_palloc(p, n + 1);
    for (s = v; *s; s++) {
        if (*s == '\\' || *s == '"' || *s == '\n') {
            *o++ = '\\';
            *o++ = *s == '\n' ? 'n' : *s;
        }
        else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

/* The exposition being written: pieces joined at the end. */
typedef struct {
    apr_pool_t *p;
    apr_array_header_t *parts;
} out_t;

static void put(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out_t *o, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    APR_ARRAY_PUSH(o->parts, const char *) = apr_pvsprintf(o->p, fmt, ap);
    va_end(ap);
}

static void family(out_t *o, const char *name, const char *type, const char *help)
{
    put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const char *ep_label(apr_pool_t *p, int ep)
{
    return oas_metrics_escape(p, oas_endpoint_name((oas_endpoint_e)ep));
}

static void render_requests(out_t *o, const oas_metrics_slot_t *m)
{
    int ep, i;

    family(o, "oauth_as_requests_total", "counter",
           "Requests answered, by endpoint and HTTP status class.");
    for (ep = 1; ep < OAS_EP_COUNT; ep++) {
        for (i = 0; i < OAS_METRICS_CLASSES; i++) {
            if (m->requests[ep][i])
                put(o, "oauth_as_requests_total{endpoint=\"%s\",status=\"%dxx\"} %" APR_UINT64_T_FMT
                       "\n", ep_label(o->p, ep), i + 1, m->requests[ep][i]);
        }
    }
    family(o, "oauth_as_oauth_errors_total", "counter",
           "OAuth error responses, by endpoint and error code.");
    for (ep = 1; ep < OAS_EP_COUNT; ep++) {
        for (i = 0; i < OAS_METRICS_ERRORS; i++) {
            if (m->errors[ep][i])
                put(o, "oauth_as_oauth_errors_total{endpoint=\"%s\",error=\"%s\"} %"
                       APR_UINT64_T_FMT "\n", ep_label(o->p, ep), error_names[i], m->errors[ep][i]);
        }
    }
}

static void render_latency(out_t *o, const oas_metrics_slot_t *m)
{
    int ep, i;

    family(o, "oauth_as_request_duration_seconds", "histogram",
           "Time from the request line to the end of the answer, by endpoint.");
    for (ep = 1; ep < OAS_EP_COUNT; ep++) {
        apr_uint64_t cum = 0;
        const char *e = ep_label(o->p, ep);

        for (i = 0; i <= OAS_METRICS_BUCKETS; i++) {
            cum += m->latency[ep][i];
        }
        if (!cum)
            continue;
        cum = 0;
        for (i = 0; i < OAS_METRICS_BUCKETS; i++) {
            cum += m->latency[ep][i];
            put(o, "oauth_as_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%s\"} %"
                   APR_UINT64_T_FMT "\n", e, bucket_le[i], cum);
        }
        cum += m->latency[ep][OAS_METRICS_BUCKETS];
        put(o, "oauth_as_request_duration_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} %"
               APR_UINT64_T_FMT "\n", e, cum);
        put(o, "oauth_as_request_duration_seconds_sum{endpoint=\"%s\"} %" APR_UINT64_T_FMT
               ".%06" APR_UINT64_T_FMT "\n", e, m->latency_us[ep] / 1000000,
            m->latency_us[ep] % 1000000);
        put(o, "oauth_as_request_duration_seconds_count{endpoint=\"%s\"} %" APR_UINT64_T_FMT
               "\n", e, cum);
    }
}

static void render_events(out_t *o, const oas_metrics_slot_t *m)
{
    int g, b, k;

    family(o, "oauth_as_tokens_issued_total", "counter",
           "Tokens issued, by grant, binding of the access token and token type.");
    for (g = 0; g < OAS_MG_COUNT; g++) {
        for (b = 0; b < OAS_MB_COUNT; b++) {
            for (k = 0; k < OAS_MT_COUNT; k++) {
                put(o, "oauth_as_tokens_issued_total{grant=\"%s\",binding=\"%s\",type=\"%s\"} %"
                       APR_UINT64_T_FMT "\n", grant_names[g], bind_names[b], kind_names[k],
                    m->tokens[g][b][k]);
            }
        }
    }
    family(o, "oauth_as_client_auth_failures_total", "counter",
           "Failed client authentications, by method.");
    for (k = 0; k < OAS_MA_COUNT; k++) {
        put(o, "oauth_as_client_auth_failures_total{method=\"%s\"} %" APR_UINT64_T_FMT "\n",
            auth_names[k], m->auth_failures[k]);
    }
    family(o, "oauth_as_replays_refused_total", "counter",
           "Replayed single-use proofs refused, by kind.");
    for (k = 0; k < OAS_MR_COUNT; k++) {
        put(o, "oauth_as_replays_refused_total{kind=\"%s\"} %" APR_UINT64_T_FMT "\n",
            replay_names[k], m->replays[k]);
    }
}

static void render_store(out_t *o, const oas_shm_usage_t *u)
{
    static const char *const cls[OAS_STORE_CLASSES] = {"live", "best_effort"};
    int i;

    family(o, "oauth_as_store_entries", "gauge",
           "Entries of the shared-memory store in use, by class.");
    for (i = 0; i < OAS_STORE_CLASSES; i++) {
        put(o, "oauth_as_store_entries{class=\"%s\"} %u\n", cls[i], u->class_entries[i]);
    }
    family(o, "oauth_as_store_bytes", "gauge",
           "Bytes of the shared-memory store charged to entries, by class.");
    for (i = 0; i < OAS_STORE_CLASSES; i++) {
        put(o, "oauth_as_store_bytes{class=\"%s\"} %" APR_SIZE_T_FMT "\n", cls[i],
            u->class_bytes[i]);
    }
    family(o, "oauth_as_store_capacity_entries", "gauge",
           "Entry slots of the shared-memory store (OAuthASStoreSize).");
    put(o, "oauth_as_store_capacity_entries %u\n", u->capacity);
    family(o, "oauth_as_store_evictions_total", "counter",
           "Best-effort records of the shared-memory store that gave way to new ones.");
    put(o, "oauth_as_store_evictions_total %" APR_UINT64_T_FMT "\n",
        u->events[OAS_STORE_EV_EVICTED]);
    family(o, "oauth_as_store_full_refusals_total", "counter",
           "Writes refused because live records fill the shared-memory store.");
    put(o, "oauth_as_store_full_refusals_total %" APR_UINT64_T_FMT "\n",
        u->events[OAS_STORE_EV_FULL]);
}

/* The tally's counters only: its occupancy needs a walk of the table (server-status). */
static void render_tally(out_t *o, const oas_tally_stats_t *t)
{
    family(o, "oauth_as_tally_slots", "gauge",
           "Slots of the tally (brute-force brake and quota counters, single-use markers).");
    put(o, "oauth_as_tally_slots %u\n", t->slots);
    family(o, "oauth_as_tally_evictions_total", "counter",
           "Tally counters that gave way to a new record.");
    put(o, "oauth_as_tally_evictions_total %" APR_UINT64_T_FMT "\n", t->evicted);
    family(o, "oauth_as_tally_full_refusals_total", "counter",
           "Single-use markers refused: their groups were full of live markers.");
    put(o, "oauth_as_tally_full_refusals_total %" APR_UINT64_T_FMT "\n", t->full);
}

char *oas_metrics_render(apr_pool_t *p, const oas_metrics_slot_t *sum, const oas_shm_usage_t *shm,
                         const oas_tally_stats_t *tally)
{
    out_t o;

    o.p = p;
    o.parts = apr_array_make(p, 256, sizeof(const char *));
    render_requests(&o, sum);
    render_latency(&o, sum);
    render_events(&o, sum);
    if (shm)
        render_store(&o, shm);
    if (tally)
        render_tally(&o, tally);
    return apr_array_pstrcat(p, o.parts, '\0');
}
