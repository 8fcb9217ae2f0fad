/* Unit tests: the metrics registry (oas_metrics.c): label escaping, histogram buckets, slots
 * summed across threads, and the exposition format (Prometheus text 0.0.4). */
#include "unit.h"

#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <stdlib.h>

#include "oas_metrics.h"

static void *segment(void)
{
    void *base = calloc(1, oas_metrics_size());

    assert_non_null(base);
    oas_metrics_format(base, oas_metrics_size());
    assert_int_equal(oas_metrics_attach(base, oas_metrics_size()), APR_SUCCESS);
    return base;
}

static void release(void *base)
{
    oas_metrics_attach(NULL, 0);
    free(base);
}

static void test_escape(void **state)
{
    apr_pool_t *p = *state;
    const char *plain = "token";

    assert_ptr_equal(oas_metrics_escape(p, plain), plain);
    assert_string_equal(oas_metrics_escape(p, "a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    assert_string_equal(oas_metrics_escape(p, ""), "");
}

static void test_buckets(void **state)
{
    int i;

    (void)state;
    assert_int_equal(oas_metrics_bucket_of(0), 0);
    assert_int_equal(oas_metrics_bucket_of(1000), 0);
    assert_int_equal(oas_metrics_bucket_of(1001), 1);
    for (i = 1; i < OAS_METRICS_BUCKETS; i++) {
        assert_true(oas_metrics_bucket_us(i) > oas_metrics_bucket_us(i - 1));
        assert_int_equal(oas_metrics_bucket_of(oas_metrics_bucket_us(i)), i);
        assert_int_equal(oas_metrics_bucket_of(oas_metrics_bucket_us(i - 1) + 1), i);
    }
    assert_int_equal(oas_metrics_bucket_of(oas_metrics_bucket_us(OAS_METRICS_BUCKETS - 1) + 1),
                     OAS_METRICS_BUCKETS);
}

static void test_error_index(void **state)
{
    (void)state;
    assert_int_equal(oas_metrics_error_index("invalid_request"), 0);
    assert_int_equal(oas_metrics_error_index("invalid_grant"), 2);
    assert_int_equal(oas_metrics_error_index("no_such_error"), OAS_METRICS_ERRORS - 1);
    assert_int_equal(oas_metrics_error_index(NULL), OAS_METRICS_ERRORS - 1);
}

static void test_attach_refuses_unformatted(void **state)
{
    void *base = calloc(1, oas_metrics_size());

    (void)state;
    assert_int_equal(oas_metrics_attach(base, oas_metrics_size()), APR_EINVAL);
    assert_false(oas_metrics_enabled());
    oas_metrics_format(base, oas_metrics_size());
    assert_int_equal(oas_metrics_attach(base, oas_metrics_size() - 1), APR_EINVAL);
    oas_metrics_request(OAS_EP_TOKEN, 200, NULL, 10); /* no registry: nothing, no crash */
    free(base);
}

static void *APR_THREAD_FUNC counting_thread(apr_thread_t *t, void *data)
{
    int i;

    (void)data;
    for (i = 0; i < 1000; i++) {
        oas_metrics_request(OAS_EP_TOKEN, 200, NULL, 100);
    }
    oas_metrics_tokens(OAS_MG_CODE, OAS_MB_DPOP, OAS_MT_ACCESS | OAS_MT_REFRESH);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

/* Each thread adds to its own slot; the sum is every thread's count. */
static void test_sum_slots(void **state)
{
    apr_pool_t *p = *state;
    void *base = segment();
    apr_thread_t *t[3];
    apr_status_t trv;
    oas_metrics_slot_t sum;
    const oas_metrics_slot_t *slots;
    int i, used = 0;

    oas_metrics_request(OAS_EP_TOKEN, 400, "invalid_grant", 100);
    for (i = 0; i < 3; i++) {
        assert_int_equal(apr_thread_create(&t[i], NULL, counting_thread, NULL, p), APR_SUCCESS);
    }
    for (i = 0; i < 3; i++) {
        apr_thread_join(&trv, t[i]);
    }
    oas_metrics_read(&sum);
    assert_int_equal(sum.requests[OAS_EP_TOKEN][1], 3000);
    assert_int_equal(sum.requests[OAS_EP_TOKEN][3], 1);
    assert_int_equal(sum.errors[OAS_EP_TOKEN][oas_metrics_error_index("invalid_grant")], 1);
    assert_int_equal(sum.latency[OAS_EP_TOKEN][0], 3001);
    assert_int_equal(sum.latency_us[OAS_EP_TOKEN], 300100);
    assert_int_equal(sum.tokens[OAS_MG_CODE][OAS_MB_DPOP][0], 3);
    assert_int_equal(sum.tokens[OAS_MG_CODE][OAS_MB_DPOP][1], 3);
    assert_int_equal(sum.tokens[OAS_MG_CODE][OAS_MB_DPOP][2], 0);
    /* the four threads took four slots */
    slots = (const oas_metrics_slot_t *)((const char *)base + oas_metrics_size() -
                                         OAS_METRICS_SLOTS * sizeof(oas_metrics_slot_t));
    for (i = 0; i < OAS_METRICS_SLOTS; i++) {
        used += slots[i].latency[OAS_EP_TOKEN][0] != 0;
    }
    assert_int_equal(used, 4);
    /* formatting again (a hard restart) zeroes every slot */
    oas_metrics_format(base, oas_metrics_size());
    oas_metrics_read(&sum);
    assert_int_equal(sum.requests[OAS_EP_TOKEN][1], 0);
    release(base);
}

/* A strict reading of the text format: HELP then TYPE for each family, samples of the family
 * just typed only, names and labels well formed, values numbers. */
static void check_format(const char *text)
{
    char *copy = strdup(text), *save = NULL, *line;
    char family[128] = "", type[32] = "";

    assert_true(text[strlen(text) - 1] == '\n');
    for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[128], rest[512];
        if (!strncmp(line, "# HELP ", 7)) {
            assert_int_equal(sscanf(line + 7, "%127s", family), 1);
            type[0] = '\0';
            continue;
        }
        if (!strncmp(line, "# TYPE ", 7)) {
            assert_int_equal(sscanf(line + 7, "%127s %31s", name, type), 2);
            assert_string_equal(name, family);
            assert_true(!strcmp(type, "counter") || !strcmp(type, "gauge") ||
                        !strcmp(type, "histogram"));
            continue;
        }
        assert_true(line[0] != '#');
        assert_true(type[0]);
        assert_int_equal(sscanf(line, "%127[a-z_]%511[^\n]", name, rest), 2);
        if (!strcmp(type, "histogram"))
            assert_true(!strcmp(name, apr_pstrcat(unit_pool, family, "_bucket", NULL)) ||
                        !strcmp(name, apr_pstrcat(unit_pool, family, "_sum", NULL)) ||
                        !strcmp(name, apr_pstrcat(unit_pool, family, "_count", NULL)));
        else
            assert_string_equal(name, family);
        if (rest[0] == '{') {
            char *end = strstr(rest, "} ");
            assert_non_null(end);
            assert_non_null(strchr(end + 2, '\0'));
            assert_true(strtod(end + 2, NULL) >= 0);
        }
        else {
            assert_true(rest[0] == ' ');
        }
    }
    free(copy);
}

static void test_exposition(void **state)
{
    apr_pool_t *p = *state;
    void *base = segment();
    oas_metrics_slot_t sum;
    oas_shm_usage_t u;
    oas_tally_stats_t ts;
    const char *text;

    oas_metrics_request(OAS_EP_TOKEN, 200, NULL, 500);
    oas_metrics_request(OAS_EP_TOKEN, 400, "invalid_grant", 3000);
    oas_metrics_request(OAS_EP_TOKEN, 503, "temporarily_unavailable", 20000000);
    oas_metrics_auth_failure(OAS_MA_BASIC);
    oas_metrics_replay(OAS_MR_DPOP);
    oas_metrics_replay(OAS_MR_DPOP);
    oas_metrics_read(&sum);
    memset(&u, 0, sizeof(u));
    u.capacity = 100;
    u.class_entries[OAS_STORE_LIVE] = 7;
    u.events[OAS_STORE_EV_EVICTED] = 5;
    memset(&ts, 0, sizeof(ts));
    ts.slots = 3825;
    ts.evicted = 9;
    text = oas_metrics_render(p, &sum, &u, &ts);
    check_format(text);
    assert_non_null(strstr(text, "# HELP oauth_as_requests_total "));
    assert_non_null(strstr(text, "# TYPE oauth_as_requests_total counter\n"));
    assert_non_null(
        strstr(text, "\noauth_as_requests_total{endpoint=\"token\",status=\"2xx\"} 1\n"));
    assert_non_null(
        strstr(text, "\noauth_as_requests_total{endpoint=\"token\",status=\"4xx\"} 1\n"));
    assert_null(strstr(text, "endpoint=\"par\""));
    assert_non_null(strstr(
        text, "\noauth_as_oauth_errors_total{endpoint=\"token\",error=\"invalid_grant\"} 1\n"));
    assert_non_null(strstr(text, "# TYPE oauth_as_request_duration_seconds histogram\n"));
    assert_non_null(strstr(
        text, "\noauth_as_request_duration_seconds_bucket{endpoint=\"token\",le=\"0.001\"} 1\n"));
    assert_non_null(strstr(
        text, "\noauth_as_request_duration_seconds_bucket{endpoint=\"token\",le=\"0.0025\"} 1\n"));
    assert_non_null(strstr(
        text, "\noauth_as_request_duration_seconds_bucket{endpoint=\"token\",le=\"0.005\"} 2\n"));
    assert_non_null(strstr(
        text, "\noauth_as_request_duration_seconds_bucket{endpoint=\"token\",le=\"10\"} 2\n"));
    assert_non_null(strstr(
        text, "\noauth_as_request_duration_seconds_bucket{endpoint=\"token\",le=\"+Inf\"} 3\n"));
    assert_non_null(
        strstr(text, "\noauth_as_request_duration_seconds_sum{endpoint=\"token\"} 20.003500\n"));
    assert_non_null(
        strstr(text, "\noauth_as_request_duration_seconds_count{endpoint=\"token\"} 3\n"));
    assert_non_null(strstr(
        text, "\noauth_as_client_auth_failures_total{method=\"client_secret_basic\"} 1\n"));
    assert_non_null(strstr(text, "\noauth_as_replays_refused_total{kind=\"dpop_proof\"} 2\n"));
    assert_non_null(strstr(
        text, "\noauth_as_tokens_issued_total{grant=\"authorization_code\",binding=\"bearer\","
              "type=\"access\"} 0\n"));
    assert_non_null(strstr(text, "\noauth_as_store_entries{class=\"live\"} 7\n"));
    assert_non_null(strstr(text, "\noauth_as_store_capacity_entries 100\n"));
    assert_non_null(strstr(text, "\noauth_as_store_evictions_total 5\n"));
    assert_non_null(strstr(text, "\noauth_as_tally_slots 3825\n"));
    assert_non_null(strstr(text, "\noauth_as_tally_evictions_total 9\n"));
    /* without a store and a tally: their families are left out */
    text = oas_metrics_render(p, &sum, NULL, NULL);
    check_format(text);
    assert_null(strstr(text, "oauth_as_store_"));
    assert_null(strstr(text, "oauth_as_tally_"));
    release(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_escape),          UNIT_TEST(test_buckets),
        UNIT_TEST(test_error_index),     UNIT_TEST(test_attach_refuses_unformatted),
        UNIT_TEST(test_sum_slots),       UNIT_TEST(test_exposition),
    };

    return UNIT_RUN(tests);
}
