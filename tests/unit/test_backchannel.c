/* Back-Channel and Front-Channel Logout (oas_logout_token.h, oas_logout_queue.h,
 * oas_logout_notify.h): the logout token's header and claims, the URI rules, the front-channel
 * URL, the delivery schedule driven by an injected clock and sender, the bound on the queue,
 * and a thread that stops at once with deliveries pending or a transfer under way. */
#include "unit.h"

#include "token_fixture.h"

#include <apr_network_io.h>
#include <jansson.h>

#include "oas_clients.h"
#include "oas_jose.h"
#include "oas_log.h"
#include "oas_logout_notify.h"
#include "oas_logout_queue.h"
#include "oas_logout_token.h"

#define T0 1700000000

static char logbuf[16384];

static int log_all(void *baton, int level)
{
    return 1;
}

static void log_print(const char *file, int line, int level, apr_status_t rv, void *baton,
                      const char *msg)
{
    apr_size_t n = strlen(logbuf);
    apr_snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", msg);
}

static void log_start(void)
{
    logbuf[0] = '\0';
    oas_log_set(log_all, log_print);
}

/* the verified claims and header of a logout token */
static json_t *verify(apr_pool_t *p, const oas_issuer_t *iss, const char *tok, json_t **phdr)
{
    const char *payload, *header;
    json_t *c;

    assert_int_equal(oas_jws_verify(&payload, &header, p, tok, iss->keys), APR_SUCCESS);
    assert_int_equal(oas_json_parse(phdr, p, header, strlen(header)), APR_SUCCESS);
    assert_int_equal(oas_json_parse(&c, p, payload, strlen(payload)), APR_SUCCESS);
    return c;
}

static void test_token_claims(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = fixture_issuer(p, 1);
    const char *tok, *tok2;
    json_t *c, *h, *ev;

    assert_int_equal(oas_logout_token(&tok, p, iss, "rp1", "alice", "sid-1", T0), APR_SUCCESS);
    c = verify(p, iss, tok, &h);
    /* signed as the ID tokens are (the RSA key here), explicitly typed */
    assert_string_equal(oas_json_str(h, "typ"), "logout+jwt");
    assert_string_equal(oas_json_str(h, "alg"), "RS256");
    assert_string_equal(oas_json_str(c, "iss"), "https://as.test");
    assert_string_equal(oas_json_str(c, "aud"), "rp1");
    assert_string_equal(oas_json_str(c, "sub"), "alice");
    assert_string_equal(oas_json_str(c, "sid"), "sid-1");
    assert_int_equal(oas_json_int(c, "iat", 0), T0);
    assert_int_equal(oas_json_int(c, "exp", 0), T0 + 120);
    assert_true(oas_json_str(c, "jti") && strlen(oas_json_str(c, "jti")) >= 16);
    assert_null(json_object_get(c, "nonce"));
    /* exactly one event, an empty object */
    ev = json_object_get(c, "events");
    assert_true(json_is_object(ev));
    assert_int_equal(json_object_size(ev), 1);
    assert_true(json_is_object(json_object_get(ev, OAS_LOGOUT_EVENT)));
    assert_int_equal(json_object_size(json_object_get(ev, OAS_LOGOUT_EVENT)), 0);
    assert_int_equal(json_object_size(c), 8);
    /* every token has its own jti */
    assert_int_equal(oas_logout_token(&tok2, p, iss, "rp1", "alice", "sid-1", T0), APR_SUCCESS);
    assert_string_not_equal(oas_json_str(verify(p, iss, tok2, &h), "jti"), oas_json_str(c, "jti"));
}

static void test_token_sub_or_sid(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = fixture_issuer(p, 0);
    const char *tok;
    json_t *c, *h;

    assert_int_equal(oas_logout_token(&tok, p, iss, "rp1", NULL, "sid-1", T0), APR_SUCCESS);
    c = verify(p, iss, tok, &h);
    assert_string_equal(oas_json_str(h, "alg"), "ES256");
    assert_null(json_object_get(c, "sub"));
    assert_string_equal(oas_json_str(c, "sid"), "sid-1");
    assert_int_equal(oas_logout_token(&tok, p, iss, "rp1", "bob", NULL, T0), APR_SUCCESS);
    assert_null(json_object_get(verify(p, iss, tok, &h), "sid"));
    /* neither: no token */
    assert_int_equal(oas_logout_token(&tok, p, iss, "rp1", NULL, NULL, T0), APR_EINVAL);
    assert_int_equal(oas_logout_token(&tok, p, iss, "rp1", "", "", T0), APR_EINVAL);
    assert_null(tok);
    /* a sub that is not UTF-8 never reaches a token */
    assert_int_equal(oas_logout_token(&tok, p, iss, "rp1", "\xff", "s", T0), APR_EINVAL);
}

static void test_uri_rules(void **state)
{
    apr_pool_t *p = *state;
    const char *err = NULL;
    char *longer = apr_pcalloc(p, 2100);

    assert_true(oas_logout_uri_valid(&err, p, "https://rp.test/logout"));
    assert_true(oas_logout_uri_valid(&err, p, "https://rp.test:8443/cb?logout=backchannel"));
    assert_false(oas_logout_uri_valid(&err, p, "http://rp.test/logout"));
    assert_string_equal(err, "is not an https URL");
    assert_false(oas_logout_uri_valid(&err, p, "https://rp.test/logout#frag"));
    assert_string_equal(err, "has a fragment");
    assert_false(oas_logout_uri_valid(&err, p, "https://user@rp.test/logout"));
    assert_false(oas_logout_uri_valid(&err, p, "/logout"));
    assert_false(oas_logout_uri_valid(&err, p, "https:///logout"));
    assert_false(oas_logout_uri_valid(&err, p, "https://rp.test/log out"));
    assert_false(oas_logout_uri_valid(&err, p, "javascript:alert(1)"));
    assert_false(oas_logout_uri_valid(&err, p, ""));
    assert_false(oas_logout_uri_valid(&err, p, NULL));
    memcpy(longer, "https://rp.test/", 16);
    memset(longer + 16, 'a', 2040);
    assert_false(oas_logout_uri_valid(&err, p, longer));
}

static void test_frontchannel_url(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = oas_issuer_make(p);

    iss->issuer = "https://as.test/t 1";
    assert_string_equal(oas_frontchannel_url(p, iss, "https://rp.test/fc", "a+b/c"),
                        "https://rp.test/fc?iss=https%3A%2F%2Fas.test%2Ft%201&sid=a%2Bb%2Fc");
    assert_string_equal(oas_frontchannel_url(p, iss, "https://rp.test/cb?logout=get", "s1"),
                        "https://rp.test/cb?logout=get&iss=https%3A%2F%2Fas.test%2Ft%201&sid=s1");
}

static void test_schedule(void **state)
{
    int n;

    assert_int_equal(oas_logout_due(0, T0), T0);
    for (n = 1; n < OAS_LOGOUT_ATTEMPTS; n++)
        assert_true(oas_logout_due(n, T0) > oas_logout_due(n - 1, T0));
    /* 3 retries, the last over (timeout included) within 5 minutes */
    assert_int_equal(OAS_LOGOUT_ATTEMPTS, 4);
    assert_true(oas_logout_due(3, T0) + OAS_LOGOUT_TIMEOUT_MS / 1000 <= T0 + OAS_LOGOUT_BOUND);
    assert_true(OAS_LOGOUT_BOUND <= 300);
    assert_int_equal(oas_logout_due(4, T0), -1);
    assert_int_equal(oas_logout_due(-1, T0), -1);
}

static void test_schedule_delayed(void **state)
{
    /* on time: the schedule */
    assert_int_equal(oas_logout_next_due(1, T0, T0), T0 + 5);
    assert_int_equal(oas_logout_next_due(2, T0, T0 + 5), T0 + 60);
    assert_int_equal(oas_logout_next_due(3, T0, T0 + 60), T0 + 240);
    assert_int_equal(oas_logout_next_due(4, T0, T0 + 240), -1);
    /* the thread was busy: 5 s after the late attempt, and never past the bound */
    assert_int_equal(oas_logout_next_due(1, T0, T0 + 50), T0 + 55);
    assert_int_equal(oas_logout_next_due(3, T0, T0 + 280), T0 + 285);
    assert_int_equal(oas_logout_next_due(3, T0, T0 + 291), -1); /* 296 + 5 s > 300 */
    assert_int_equal(oas_logout_next_due(2, T0, T0 + 200), T0 + 205);
}

/* ---- the queue, driven by the test's clock and sender ---- */

static struct {
    int calls;
    int answers[8]; /* status per call, the last repeated; 0: no answer (APR_EGENERAL) */
    int n;
    int batches;
    const char *form, *url;
    const char *urls[8], *forms[8]; /* the first 8 calls' */
    oas_fetch_opts_t o;
    apr_pool_t *p;
} snd;

/* The stream as the real one runs it: every post available at once is started (a batch),
 * then each ends with the next scripted answer; again until none is left. */
static void fake_send(const oas_fetch_stream_t *st, apr_pool_t *p)
{
    oas_fetch_post_t *posts[OAS_FETCH_STREAM_MAX];
    apr_pool_t *fp;
    int i, n;

    for (;;) {
        for (n = 0; n < OAS_FETCH_STREAM_MAX; n++) {
            apr_pool_create(&fp, p);
            if (!(posts[n] = st->next(st->baton, fp)))
                break;
        }
        if (!n)
            return;
        snd.batches++;
        for (i = 0; i < n; i++) {
            int a = snd.answers[snd.calls < snd.n ? snd.calls : snd.n - 1];

            snd.calls++;
            snd.form = apr_pstrdup(snd.p, posts[i]->form);
            snd.url = apr_pstrdup(snd.p, posts[i]->url);
            if (snd.calls <= 8) {
                snd.forms[snd.calls - 1] = snd.form;
                snd.urls[snd.calls - 1] = snd.url;
            }
            snd.o = *posts[i]->o;
            posts[i]->status = a;
            posts[i]->err = a ? NULL : "rp.test: Connection refused";
            posts[i]->rv = a ? APR_SUCCESS : APR_EGENERAL;
            st->ended(st->baton, posts[i]);
        }
    }
}

/* one delivery queued (oas_logout_queue_add of one RP): its rv */
static apr_status_t add1(oas_logout_queue_t *q, const oas_issuer_t *iss, const char *client_id,
                         const char *sub, const char *sid, const char *uri, apr_int64_t now)
{
    oas_logout_rp_t rp = {client_id, sub, uri, APR_EGENERAL};

    oas_logout_queue_add(q, iss, sid, &rp, 1, now);
    return rp.rv;
}

static oas_logout_queue_t *fake_queue(apr_pool_t *p, const int *answers, int n)
{
    oas_logout_queue_t *q;

    memset(&snd, 0, sizeof(snd));
    snd.p = p;
    memcpy(snd.answers, answers, sizeof(int) * n);
    snd.n = n;
    assert_int_equal(oas_logout_queue_make(&q, p, fake_send), APR_SUCCESS);
    log_start();
    return q;
}

static void test_delivered_at_once(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = fixture_issuer(p, 0);
    static const int answers[] = {200};
    oas_logout_queue_t *q = fake_queue(p, answers, 1);
    const char *tok;
    json_t *h, *c;

    iss->ca_file = "/etc/ca.pem";
    iss->outbound_allow = apr_array_make(p, 1, sizeof(const char *));
    assert_int_equal(add1(q, iss, "rp1", "alice", "sid-1", "https://rp.test/bc", T0), APR_SUCCESS);
    assert_int_equal(oas_logout_queue_pending(q), 1);
    assert_int_equal(snd.calls, 0); /* nothing is sent by the caller */
    assert_int_equal(oas_logout_queue_run(q, p, T0), -1);
    assert_int_equal(snd.calls, 1);
    assert_int_equal(oas_logout_queue_pending(q), 0);
    assert_string_equal(snd.url, "https://rp.test/bc");
    /* the form: logout_token=<the token>, signed now */
    assert_int_equal(strncmp(snd.form, "logout_token=", 13), 0);
    tok = snd.form + 13;
    c = verify(p, iss, tok, &h);
    assert_string_equal(oas_json_str(c, "sid"), "sid-1");
    assert_int_equal(oas_json_int(c, "iat", 0), T0);
    /* the outbound policy of the issuer, short timeouts, cancellable */
    assert_string_equal(snd.o.ca_file, "/etc/ca.pem");
    assert_ptr_equal(snd.o.allow, iss->outbound_allow);
    assert_int_equal(snd.o.timeout_ms, OAS_LOGOUT_TIMEOUT_MS);
    assert_non_null(snd.o.cancel);
    assert_non_null(
        strstr(logbuf, "OAS07002: back-channel logout of client rp1 delivered (HTTP 200"));
    assert_null(strstr(logbuf, tok)); /* never the token */
}

static void test_retried_then_delivered(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = fixture_issuer(p, 0);
    static const int answers[] = {503, 204};
    oas_logout_queue_t *q = fake_queue(p, answers, 2);
    json_t *h;

    assert_int_equal(add1(q, iss, "rp1", "alice", "sid-1", "https://rp.test/bc", T0), APR_SUCCESS);
    assert_int_equal(oas_logout_queue_run(q, p, T0), T0 + 5);
    assert_int_equal(snd.calls, 1);
    assert_non_null(strstr(logbuf, "OAS07003: back-channel logout of client rp1: attempt 1 of 4 "
                                   "failed (HTTP status 503)"));
    /* not before it is due */
    assert_int_equal(oas_logout_queue_run(q, p, T0 + 4), T0 + 5);
    assert_int_equal(snd.calls, 1);
    assert_int_equal(oas_logout_queue_run(q, p, T0 + 5), -1);
    assert_int_equal(snd.calls, 2);
    assert_int_equal(oas_logout_queue_pending(q), 0);
    /* a fresh token: signed at the retry, so never expired on arrival */
    assert_int_equal(oas_json_int(verify(p, iss, snd.form + 13, &h), "iat", 0), T0 + 5);
    assert_non_null(strstr(logbuf, "delivered (HTTP 204, attempt 2)"));
}

static void test_given_up_after_bound(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = fixture_issuer(p, 0);
    static const int answers[] = {0, 500, 400, 0, 200};
    oas_logout_queue_t *q = fake_queue(p, answers, 5);
    apr_int64_t now = T0, next;
    int guard = 0;

    assert_int_equal(add1(q, iss, "rp9", "alice", "sid-1", "https://rp.test/bc", T0), APR_SUCCESS);
    /* the clock jumps to each due time: 4 attempts, the last inside the bound */
    while ((next = oas_logout_queue_run(q, p, now)) >= 0 && guard++ < 10) {
        assert_true(next <= T0 + OAS_LOGOUT_BOUND);
        now = next;
    }
    assert_int_equal(snd.calls, 4);
    assert_int_equal(now, T0 + 240);
    assert_int_equal(oas_logout_queue_pending(q), 0);
    assert_non_null(strstr(logbuf, "OAS07004: back-channel logout of client rp9 given up after 4 "
                                   "attempts"));
    assert_non_null(strstr(logbuf, "attempt 1 of 4 failed (rp.test: Connection refused)"));
    /* nothing later */
    assert_int_equal(oas_logout_queue_run(q, p, T0 + 10000), -1);
    assert_int_equal(snd.calls, 4);
}

static void test_queue_late_run(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = fixture_issuer(p, 0);
    static const int answers[] = {503};
    oas_logout_queue_t *q = fake_queue(p, answers, 1);

    assert_int_equal(add1(q, iss, "rp1", "a", "s", "https://rp.test/", T0), APR_SUCCESS);
    /* held up behind others for 50 s: the retry comes 5 s after the late attempt */
    assert_int_equal(oas_logout_queue_run(q, p, T0 + 50), T0 + 55);
    assert_int_equal(oas_logout_queue_run(q, p, T0 + 55), T0 + 60);
    assert_int_equal(oas_logout_queue_run(q, p, T0 + 60), T0 + 240);
    /* held up past the bound: given up without an attempt that would end after it */
    assert_int_equal(oas_logout_queue_run(q, p, T0 + 297), -1);
    assert_int_equal(snd.calls, 3);
    assert_int_equal(oas_logout_queue_pending(q), 0);
    assert_non_null(strstr(logbuf, "OAS07004: back-channel logout of client rp1 given up after 3 "
                                   "attempts"));
}

static void test_queue_bounded(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = fixture_issuer(p, 0);
    static const int answers[] = {200};
    oas_logout_queue_t *q = fake_queue(p, answers, 1);
    int i;

    for (i = 0; i < OAS_LOGOUT_QUEUE_MAX; i++)
        assert_int_equal(add1(q, iss, "rp1", "a", "s", "https://rp.test/", T0), APR_SUCCESS);
    assert_int_equal(add1(q, iss, "rp1", "a", "s", "https://rp.test/", T0), APR_ENOSPC);
    assert_int_equal(oas_logout_queue_run(q, p, T0), -1);
    assert_int_equal(snd.calls, OAS_LOGOUT_QUEUE_MAX);
    /* posted in parallel, OAS_FETCH_STREAM_MAX at a time */
    assert_int_equal(snd.batches, OAS_LOGOUT_QUEUE_MAX / OAS_FETCH_STREAM_MAX);
    assert_int_equal(add1(q, iss, "rp1", "a", "s", "https://rp.test/", T0), APR_SUCCESS);
}

/* ---- oas_logout_notify: who gets what ---- */

static oas_client_t *add_client(apr_pool_t *p, oas_issuer_t *iss, const char *id, const char *back,
                                const char *front)
{
    oas_client_t *c = oas_client_make(p, id);

    c->backchannel_logout_uri = back;
    c->frontchannel_logout_uri = front;
    apr_hash_set(iss->clients, id, APR_HASH_KEY_STRING, c);
    return c;
}

static void push_rp(oas_session_t *s, const char *client_id, const char *sub)
{
    oas_session_rp_t *rp = apr_array_push(s->rps);

    rp->client_id = client_id;
    rp->sub = sub;
}

static void test_notify(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = fixture_issuer(p, 0);
    static const int answers[] = {200};
    oas_logout_queue_t *q = fake_queue(p, answers, 1);
    oas_session_t s;
    apr_array_header_t *front;
    oas_ctx_t x;
    json_t *h, *c;
    int i;

    iss->clients = apr_hash_make(p);
    add_client(p, iss, "both", "https://both.test/bc", "https://both.test/fc");
    add_client(p, iss, "front", NULL, "https://front.test/fc?x=1");
    add_client(p, iss, "none", NULL, NULL);
    add_client(p, iss, "back", "https://back.test/bc", NULL);
    memset(&s, 0, sizeof(s));
    s.sid = "SID_abc-1";
    s.user = "alice";
    s.rps = apr_array_make(p, 4, sizeof(oas_session_rp_t));
    push_rp(&s, "both", "pairwise-alice");
    push_rp(&s, "front", "alice");
    push_rp(&s, "none", "alice");
    push_rp(&s, "gone", "alice"); /* deleted since: skipped */
    push_rp(&s, "back", "alice");
    oas_ctx_init(&x, p, iss, T0);
    oas_logout_queue_set(q);

    assert_int_equal(oas_logout_notify(&front, &x, &s), APR_SUCCESS);
    assert_int_equal(front->nelts, 2);
    assert_string_equal(APR_ARRAY_IDX(front, 0, const char *),
                        "https://both.test/fc?iss=https%3A%2F%2Fas.test&sid=SID_abc-1");
    assert_string_equal(APR_ARRAY_IDX(front, 1, const char *),
                        "https://front.test/fc?x=1&iss=https%3A%2F%2Fas.test&sid=SID_abc-1");
    /* two back-channel deliveries, queued, not sent in the request */
    assert_int_equal(oas_logout_queue_pending(q), 2);
    assert_int_equal(snd.calls, 0);
    assert_non_null(strstr(logbuf, "OAS07008: back-channel logout of client both queued"));
    assert_non_null(strstr(logbuf, "OAS07008: back-channel logout of client back queued"));
    oas_logout_queue_run(q, p, T0);
    assert_int_equal(snd.calls, 2);
    assert_int_equal(snd.batches, 1); /* in parallel */
    for (i = 0; i < 2; i++) {
        int both = !strcmp(snd.urls[i], "https://both.test/bc");
        assert_true(both || !strcmp(snd.urls[i], "https://back.test/bc"));
        c = verify(p, iss, snd.forms[i] + 13, &h);
        assert_string_equal(oas_json_str(c, "aud"), both ? "both" : "back");
        /* the sub the RP saw */
        assert_string_equal(oas_json_str(c, "sub"), both ? "pairwise-alice" : "alice");
        assert_string_equal(oas_json_str(c, "sid"), "SID_abc-1");
    }

    /* no delivery thread: the front channel still works, the miss is logged */
    oas_logout_queue_set(NULL);
    log_start();
    assert_int_equal(oas_logout_notify(&front, &x, &s), APR_SUCCESS);
    assert_int_equal(front->nelts, 2);
    assert_non_null(strstr(logbuf, "OAS07007: back-channel logout of client both not queued"));
    /* no session, no RPs */
    assert_int_equal(oas_logout_notify(&front, &x, NULL), APR_SUCCESS);
    assert_int_equal(front->nelts, 0);
}

/* a registered client's record (oas_registration.c writes it) gives the logout URIs back */
static void test_registered_client_uris(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = oas_issuer_make(p);
    oas_client_t *c;
    const char *rec = "{\"md\":{\"redirect_uris\":[\"https://rp.test/cb\"],"
                      "\"token_endpoint_auth_method\":\"none\","
                      "\"backchannel_logout_uri\":\"https://rp.test/bc?x=1\","
                      "\"backchannel_logout_session_required\":true,"
                      "\"frontchannel_logout_uri\":\"https://rp.test/fc\"},"
                      "\"rh\":\"00\",\"iat\":1}";

    iss->issuer = "https://as.test";
    assert_int_equal(
        oas_client_from_record(&c, p, iss, "dyn-AAAAAAAAAAAAAAAAAAAAAA", rec, strlen(rec)),
        APR_SUCCESS);
    assert_string_equal(c->backchannel_logout_uri, "https://rp.test/bc?x=1");
    assert_string_equal(c->frontchannel_logout_uri, "https://rp.test/fc");
    rec = "{\"md\":{\"token_endpoint_auth_method\":\"none\"},\"rh\":\"00\",\"iat\":1}";
    assert_int_equal(
        oas_client_from_record(&c, p, iss, "dyn-AAAAAAAAAAAAAAAAAAAAAA", rec, strlen(rec)),
        APR_SUCCESS);
    assert_null(c->backchannel_logout_uri);
    assert_null(c->frontchannel_logout_uri);
}

/* ---- the thread: it stops at once, whatever is pending or under way ---- */

static apr_int64_t elapsed_ms(apr_time_t since)
{
    return (apr_time_now() - since) / 1000;
}

static void test_thread_stops_with_retries_pending(void **state)
{
    apr_pool_t *p = *state, *child;
    oas_issuer_t *iss = fixture_issuer(p, 0);
    apr_time_t t;
    int i;

    log_start();
    apr_pool_create(&child, p);
    assert_int_equal(oas_logout_queue_start(child), APR_SUCCESS);
    assert_non_null(oas_logout_queue_get());
    /* a loopback address not allowed: refused before any connection, retried in 5 s */
    assert_int_equal(add1(oas_logout_queue_get(), iss, "rp1", "a", "s", "https://127.0.0.1:1/bc",
                          apr_time_sec(apr_time_now())),
                     APR_SUCCESS);
    for (i = 0; i < 200 && !strstr(logbuf, "OAS07003"); i++)
        apr_sleep(apr_time_from_msec(10));
    assert_non_null(strstr(logbuf, "outside the public internet"));
    t = apr_time_now();
    apr_pool_destroy(child);
    assert_true(elapsed_ms(t) < 500);
    assert_null(oas_logout_queue_get());
    assert_non_null(strstr(logbuf, "OAS07005: back-channel logout of client rp1 dropped: the "
                                   "process is exiting"));
}

static void test_thread_cancels_transfer(void **state)
{
    apr_pool_t *p = *state, *child;
    oas_issuer_t *iss = fixture_issuer(p, 0);
    apr_socket_t *ls;
    apr_sockaddr_t *sa;
    apr_port_t port;
    apr_time_t t;

    /* a server that accepts connections (the kernel's backlog) and never answers */
    assert_int_equal(apr_sockaddr_info_get(&sa, "127.0.0.1", APR_INET, 0, 0, p), APR_SUCCESS);
    assert_int_equal(apr_socket_create(&ls, APR_INET, SOCK_STREAM, APR_PROTO_TCP, p), APR_SUCCESS);
    assert_int_equal(apr_socket_bind(ls, sa), APR_SUCCESS);
    assert_int_equal(apr_socket_listen(ls, 8), APR_SUCCESS);
    assert_int_equal(apr_socket_addr_get(&sa, APR_LOCAL, ls), APR_SUCCESS);
    port = sa->port;
    iss->outbound_allow = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(iss->outbound_allow, const char *) = "127.0.0.1";

    log_start();
    apr_pool_create(&child, p);
    assert_int_equal(oas_logout_queue_start(child), APR_SUCCESS);
    assert_int_equal(add1(oas_logout_queue_get(), iss, "rp2", "a", "s",
                          apr_psprintf(p, "https://127.0.0.1:%d/bc", port),
                          apr_time_sec(apr_time_now())),
                     APR_SUCCESS);
    apr_sleep(apr_time_from_msec(300)); /* the TLS handshake waits on the silent server */
    assert_null(strstr(logbuf, "OAS07003"));
    t = apr_time_now();
    apr_pool_destroy(child); /* well before the attempt's 5 s timeout */
    assert_true(elapsed_ms(t) < 1500);
    assert_non_null(strstr(logbuf, "OAS07005: back-channel logout of client rp2 dropped"));
    apr_socket_close(ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_token_claims),
        UNIT_TEST(test_token_sub_or_sid),
        UNIT_TEST(test_uri_rules),
        UNIT_TEST(test_frontchannel_url),
        UNIT_TEST(test_schedule),
        UNIT_TEST(test_schedule_delayed),
        UNIT_TEST(test_queue_late_run),
        UNIT_TEST(test_delivered_at_once),
        UNIT_TEST(test_retried_then_delivered),
        UNIT_TEST(test_given_up_after_bound),
        UNIT_TEST(test_queue_bounded),
        UNIT_TEST(test_notify),
        UNIT_TEST(test_registered_client_uris),
        UNIT_TEST(test_thread_stops_with_retries_pending),
        UNIT_TEST(test_thread_cancels_transfer),
    };
    return unit_run("backchannel", tests, sizeof(tests) / sizeof(tests[0]));
}
