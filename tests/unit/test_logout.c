/* Unit tests: RP-Initiated Logout (oas_logout.c): the id_token_hint read as an ID token of
 * ours (expired accepted; alg none, another key, another issuer, an access token refused), the
 * request's checks (client_id, exact post_logout_redirect_uri, never followed without a hint),
 * when the user must confirm, where the browser goes next (OAuthASLogoutURL), the
 * confirmation's transaction on both engine stores (CSRF token, session binding, cross-site,
 * one decision), the frame-src of the front-channel iframes and the pages. */
#include "unit.h"

#include <apr_strings.h>

#include "engine_stores.h"
#include "token_fixture.h"
#include "oas_jose.h"
#include "oas_jsonw.h"
#include "oas_logout.h"
#include "oas_util.h"

/* "https://as.test" (P-256 access tokens, RS256 ID tokens) with client "rp": a post-logout
 * URI https://rp.test/bye, and "other" without one. */
static oas_issuer_t *make_issuer(apr_pool_t *p)
{
    oas_issuer_t *iss = fixture_issuer(p, 1);
    oas_client_t *c = oas_client_make(p, "rp"), *o = oas_client_make(p, "other");

    iss->clients = apr_hash_make(p);
    c->name = "Notes";
    c->post_logout_redirect_uris = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(c->post_logout_redirect_uris, const char *) = "https://rp.test/bye";
    oas_client_resolve(c);
    oas_client_resolve(o);
    apr_hash_set(iss->clients, c->id, APR_HASH_KEY_STRING, c);
    apr_hash_set(iss->clients, o->id, APR_HASH_KEY_STRING, o);
    return iss;
}

/* An ID token signed with key: iss, aud, sub "alice", exp (relative to now), sid (or none). */
static const char *id_token(apr_pool_t *p, const oas_key_t *key, const char *typ,
                            const char *iss, const char *aud, apr_int64_t exp, const char *sid)
{
    const char *jwt;
    oas_jsonw_t w;

    oas_jsonw_init(&w, p, 256);
    oas_jsonw_str(&w, "iss", iss);
    oas_jsonw_str(&w, "sub", "alice");
    oas_jsonw_str(&w, "aud", aud);
    oas_jsonw_int(&w, "exp", apr_time_sec(apr_time_now()) + exp);
    oas_jsonw_int(&w, "iat", apr_time_sec(apr_time_now()) + exp - 600);
    oas_jsonw_str(&w, "sid", sid);
    assert_int_equal(oas_jws_sign(&jwt, p, key, typ, oas_jsonw_end(&w)), APR_SUCCESS);
    return jwt;
}

static const char *good_hint(apr_pool_t *p, const oas_issuer_t *iss, const char *sid)
{
    return id_token(p, iss->id_token_key, "JWT", iss->issuer, "rp", 300, sid);
}

static void test_hint_verify(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p);
    const oas_key_t *other = gen_key(p, EVP_RSA_gen(2048));
    const char *why, *none;
    oas_logout_hint_t h;

    assert_int_equal(oas_logout_hint_verify(&h, &why, p, iss, good_hint(p, iss, "S1")),
                     APR_SUCCESS);
    assert_string_equal(h.client_id, "rp");
    assert_string_equal(h.sub, "alice");
    assert_string_equal(h.sid, "S1");
    /* expired a day ago, without sid, signed by the other (EC) key of ours, no typ */
    assert_int_equal(oas_logout_hint_verify(&h, &why, p, iss,
                                            id_token(p, APR_ARRAY_IDX(iss->keys, 0, oas_key_t *),
                                                     NULL, iss->issuer, "rp", -86400, NULL)),
                     APR_SUCCESS);
    assert_null(h.sid);
    /* the conformance suite's modified hint: alg none, the signature dropped */
    none = apr_pstrcat(p, oas_b64url_encode(p, (const unsigned char *)"{\"alg\":\"none\"}", 14),
                       ".", strchr(good_hint(p, iss, "S1"), '.') + 1, NULL);
    *strrchr((char *)none, '.') = '\0';
    none = apr_pstrcat(p, none, ".", NULL);
    assert_int_equal(oas_logout_hint_verify(&h, &why, p, iss, none), APR_EINVAL);
    /* ... and one signed by a key not ours, with a kid of ours or none */
    assert_int_equal(oas_logout_hint_verify(&h, &why, p, iss,
                                            id_token(p, other, "JWT", iss->issuer, "rp", 300,
                                                     "S1")),
                     APR_EINVAL);
    assert_string_equal(why, "not signed by this server");
    /* an access token is not an ID token; another issuer's; damaged */
    assert_int_equal(oas_logout_hint_verify(&h, &why, p, iss,
                                            id_token(p, iss->id_token_key, "at+jwt", iss->issuer,
                                                     "rp", 300, "S1")),
                     APR_EINVAL);
    assert_string_equal(why, "not an ID token (typ)");
    assert_int_equal(oas_logout_hint_verify(&h, &why, p, iss,
                                            id_token(p, iss->id_token_key, "JWT",
                                                     "https://evil.test", "rp", 300, "S1")),
                     APR_EINVAL);
    assert_string_equal(why, "iss is not this issuer");
    assert_int_equal(oas_logout_hint_verify(&h, &why, p, iss, "a.b.c"), APR_EINVAL);
    assert_int_equal(oas_logout_hint_verify(&h, &why, p, iss, ""), APR_EINVAL);
}

static oas_ctx_t *ctx(apr_pool_t *p, const oas_issuer_t *iss, int k)
{
    return engine_ctx(p, iss, k, apr_time_sec(apr_time_now()));
}

static apr_table_t *params(apr_pool_t *p, const char *hint, const char *cid, const char *plr,
                           const char *state)
{
    apr_table_t *t = apr_table_make(p, 4);

    if (hint)
        apr_table_set(t, "id_token_hint", hint);
    if (cid)
        apr_table_set(t, "client_id", cid);
    if (plr)
        apr_table_set(t, "post_logout_redirect_uri", plr);
    if (state)
        apr_table_set(t, "state", state);
    apr_table_set(t, "ui_locales", "fr"); /* accepted and ignored */
    apr_table_set(t, "logout_hint", "alice");
    return t;
}

/* The request is refused with a 400 page (never a redirect). */
static void refused(oas_ctx_t *x, const apr_table_t *t, const char *dup)
{
    oas_logout_req_t req;
    oas_err_t e;

    assert_int_equal(oas_logout_validate(&req, x, &e, t, dup), APR_EINVAL);
    assert_int_equal(e.status, 400);
    assert_true(e.page);
    assert_string_equal(e.error, "invalid_request");
    assert_non_null(e.detail);
}

static void test_validate(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p);
    oas_ctx_t *x = ctx(p, iss, ENGINE_SHM);
    const char *hint = good_hint(p, iss, "S1");
    oas_logout_req_t req;
    oas_err_t e;

    assert_int_equal(oas_logout_validate(&req, x, &e,
                                         params(p, hint, "rp", "https://rp.test/bye", "st"), NULL),
                     APR_SUCCESS);
    assert_true(req.hint_valid);
    assert_string_equal(req.client->id, "rp");
    assert_string_equal(req.redirect_uri, "https://rp.test/bye");
    assert_string_equal(req.state, "st");
    /* no parameters at all: nothing to follow, the user confirms */
    assert_int_equal(oas_logout_validate(&req, x, &e, apr_table_make(p, 1), NULL), APR_SUCCESS);
    assert_false(req.hint_valid);
    assert_null(req.client);
    assert_null(req.redirect_uri);
    /* without a hint the redirect is never followed, and client_id alone names no client */
    assert_int_equal(oas_logout_validate(&req, x, &e,
                                         params(p, NULL, "rp", "https://rp.test/bye", "st"), NULL),
                     APR_SUCCESS);
    assert_null(req.client);
    assert_null(req.redirect_uri);
    /* refusals: repeated, bad hint, client_id not the hint's, URIs not exactly registered */
    refused(x, params(p, hint, NULL, NULL, NULL), "state");
    refused(x, params(p, "x.y.z", NULL, NULL, NULL), NULL);
    refused(x, params(p, hint, "other", NULL, NULL), NULL);
    refused(x, params(p, hint, NULL, "https://evil.test/bye", NULL), NULL);
    refused(x, params(p, hint, NULL, "https://rp.test/bye?x=1", NULL), NULL);
    refused(x, params(p, hint, NULL, "https://rp.test/bye/", NULL), NULL);
    refused(x, params(p, hint, NULL, "HTTPS://rp.test/bye", NULL), NULL);
    refused(x, params(p, id_token(p, iss->id_token_key, "JWT", iss->issuer, "other", 300, NULL),
                      NULL, "https://rp.test/bye", NULL),
            NULL);
}

static void test_needs_confirmation(void **state)
{
    apr_pool_t *p = *state;
    oas_session_t s;
    oas_session_rp_t *rp;
    oas_logout_req_t req;

    memset(&s, 0, sizeof(s));
    memset(&req, 0, sizeof(req));
    s.sid = "S1";
    s.rps = apr_array_make(p, 1, sizeof(oas_session_rp_t));
    assert_true(oas_logout_needs_confirmation(&req, &s)); /* no hint */
    req.hint_valid = 1;
    req.hint.client_id = "rp";
    req.hint.sub = "alice";
    req.hint.sid = "S1";
    assert_false(oas_logout_needs_confirmation(&req, &s));
    assert_true(oas_logout_needs_confirmation(&req, NULL)); /* no session */
    req.hint.sid = "S2";
    assert_true(oas_logout_needs_confirmation(&req, &s)); /* another session's */
    /* an ID token without sid: its client and sub among the session's */
    req.hint.sid = NULL;
    assert_true(oas_logout_needs_confirmation(&req, &s));
    rp = apr_array_push(s.rps);
    rp->client_id = "rp";
    rp->sub = "bob";
    assert_true(oas_logout_needs_confirmation(&req, &s));
    rp->sub = "alice";
    assert_false(oas_logout_needs_confirmation(&req, &s));
}

static void test_next(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p);
    oas_logout_req_t req;
    const char *done = "https://as.test/logout?signed_out=1";

    memset(&req, 0, sizeof(req));
    assert_null(oas_logout_next(p, iss, &req, done));
    req.redirect_uri = "https://rp.test/bye";
    assert_string_equal(oas_logout_next(p, iss, &req, done), "https://rp.test/bye");
    req.state = "a b&c";
    assert_string_equal(oas_logout_next(p, iss, &req, done), "https://rp.test/bye?state=a%20b%26c");
    iss->logout_url = "/site/logout";
    assert_string_equal(oas_logout_next(p, iss, &req, done),
                        "/site/logout?return=https%3A%2F%2Frp.test%2Fbye%3Fstate%3Da%2520b%2526c");
    req.redirect_uri = NULL;
    assert_string_equal(oas_logout_next(p, iss, &req, done),
                        "/site/logout?return=https%3A%2F%2Fas.test%2Flogout%3Fsigned_out%3D1");
}

static oas_consent_form_t form(const oas_logout_txn_t *t, const char *decision)
{
    return engine_decision_form(t->txn, t->csrf, decision);
}

/* A confirmation of rp's request (valid hint, its URI, state) in session s (or none). */
static oas_logout_txn_t start(apr_pool_t *p, oas_ctx_t *x, const oas_session_t *s)
{
    oas_logout_req_t req;
    oas_logout_txn_t t;
    oas_err_t e;

    assert_int_equal(oas_logout_validate(&req, x, &e,
                                         params(p, good_hint(p, x->iss, "S9"), NULL,
                                                "https://rp.test/bye", "st"),
                                         NULL),
                     APR_SUCCESS);
    assert_int_equal(oas_logout_txn_start(&t, x, &e, &req, s), APR_SUCCESS);
    assert_string_not_equal(t.txn, t.csrf);
    return t;
}

/* Refused with a page of status and error. */
static void decide_refused(oas_ctx_t *x, const oas_consent_form_t *f, const oas_session_t *s,
                           int status, const char *error)
{
    oas_logout_req_t req;
    oas_err_t e;
    int allow = 7;

    assert_int_equal(oas_logout_decide(&req, &allow, x, &e, f, s), APR_EINVAL);
    assert_int_equal(e.status, status);
    assert_string_equal(e.error, error);
    assert_true(e.page);
    assert_int_equal(allow, 0);
}

static void test_confirmation(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p);
    oas_session_t s, s2;
    int k;

    memset(&s, 0, sizeof(s));
    s.sid = "S1";
    s2 = s;
    s2.sid = "S2";
    for (k = 0; k < ENGINE_STORES; k++) {
        oas_ctx_t *x = ctx(p, iss, k);
        oas_logout_txn_t t = start(p, x, &s), t2;
        oas_consent_form_t f = form(&t, "allow");
        oas_logout_req_t req;
        oas_err_t e;
        int allow = 0;

        /* cross-site, incomplete, wrong token, another session, no session, unknown decision:
         * each refused, the transaction still open */
        f.origin = "https://evil.test";
        decide_refused(x, &f, &s, 403, "access_denied");
        f = form(&t, "allow");
        f.site = "cross-site";
        decide_refused(x, &f, &s, 403, "access_denied");
        f = form(&t, NULL);
        decide_refused(x, &f, &s, 403, "access_denied");
        f = form(&t, "allow");
        f.csrf = "wrong";
        decide_refused(x, &f, &s, 403, "access_denied");
        f = form(&t, "allow");
        decide_refused(x, &f, &s2, 403, "access_denied");
        decide_refused(x, &f, NULL, 403, "access_denied");
        f = form(&t, "maybe");
        decide_refused(x, &f, &s, 400, "invalid_request");
        /* allowed once, with what it was started with */
        f = form(&t, "allow");
        assert_int_equal(oas_logout_decide(&req, &allow, x, &e, &f, &s), APR_SUCCESS);
        assert_true(allow);
        assert_string_equal(req.client->id, "rp");
        assert_string_equal(req.redirect_uri, "https://rp.test/bye");
        assert_string_equal(req.state, "st");
        decide_refused(x, &f, &s, 400, OAS_AUTHZ_GONE);
        /* denied; started without a session, decided without one */
        t2 = start(p, x, NULL);
        f = form(&t2, "deny");
        allow = 1;
        assert_int_equal(oas_logout_decide(&req, &allow, x, &e, &f, NULL), APR_SUCCESS);
        assert_false(allow);
        decide_refused(x, &f, NULL, 400, OAS_AUTHZ_GONE);
        /* an unknown transaction */
        f.txn = "nope";
        decide_refused(x, &f, NULL, 400, OAS_AUTHZ_GONE);
    }
}

/* Anyone may open a confirmation, and each holds a record: OAuthASAddressQuota per address. */
static void test_confirmation_quota(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p);
    oas_ctx_t *x;
    oas_logout_req_t req;
    oas_logout_txn_t t;
    oas_err_t e;

    iss->address_quota = 2;
    x = ctx(p, iss, ENGINE_SHM);
    memset(&req, 0, sizeof(req));
    assert_int_equal(oas_logout_txn_start(&t, x, &e, &req, NULL), APR_SUCCESS);
    assert_int_equal(oas_logout_txn_start(&t, x, &e, &req, NULL), APR_SUCCESS);
    assert_int_equal(oas_logout_txn_start(&t, x, &e, &req, NULL), APR_EINVAL);
    assert_int_equal(e.status, 429);
    assert_true(e.page);
    assert_true(e.retry_after > 0);
    assert_non_null(strstr(e.detail, "OAS06810"));
    assert_non_null(strstr(e.detail, "sign-out confirmations"));
    x->addr = "192.0.2.99"; /* another address: its own count */
    assert_int_equal(oas_logout_txn_start(&t, x, &e, &req, NULL), APR_SUCCESS);
}

/* A consent transaction cannot decide a sign-out, nor the reverse. */
static void test_not_a_consent(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p);
    oas_ctx_t *x = ctx(p, iss, ENGINE_SHM);
    oas_logout_txn_t t = start(p, x, NULL);
    oas_consent_form_t f = form(&t, "allow");
    oas_pending_t pd;
    oas_err_t e;

    x->user = "alice";
    assert_int_equal(oas_consent_decide(&pd, x, &e, &f), APR_EINVAL);
    assert_int_equal(e.status, 403);
    /* a record of another kind in the same namespace */
    assert_int_equal(oas_store_put(x->store[OAS_CTX_SHORT], p, OAS_NS_TXN, "t1",
                                   "{\"u\":\"alice\",\"csrf\":\"c\",\"sid\":\"\"}", 34,
                                   apr_time_now() + apr_time_from_sec(60)),
                     APR_SUCCESS);
    f.txn = "t1";
    f.csrf = "c";
    decide_refused(x, &f, NULL, 403, "access_denied");
}

static void test_frame_src(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));

    assert_string_equal(oas_logout_frame_src(p, a), "");
    assert_string_equal(oas_logout_frame_src(p, NULL), "");
    APR_ARRAY_PUSH(a, const char *) = "https://rp.test/fc?iss=x&sid=y";
    APR_ARRAY_PUSH(a, const char *) = "https://rp.test/other";
    APR_ARRAY_PUSH(a, const char *) = "https://rp2.test:8443/fc";
    APR_ARRAY_PUSH(a, const char *) = "https://a;b.test/fc";
    APR_ARRAY_PUSH(a, const char *) = "javascript:alert(1)";
    APR_ARRAY_PUSH(a, const char *) = "http://127.0.0.1:9/fc";
    assert_string_equal(oas_logout_frame_src(p, a),
                        "https://rp.test https://rp2.test:8443 http://127.0.0.1:9");
}

static void test_url_valid(void **state)
{
    apr_pool_t *p = *state;
    static const char *const good[] = {"/logout", "/site/logout?x=1",
                                       "https://site.test/logout", "http://127.0.0.1:8080/out"};
    static const char *const bad[] = {"",        "logout",        "//evil.test/x",
                                      "/\\evil", "/a b",          "/out#frag",
                                      "ftp://site.test/", "http://site.test/out",
                                      "javascript:alert(1)", "https://site.test/#x"};
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(oas_logout_url_valid(p, good[i]));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (oas_logout_url_valid(p, bad[i]))
            fail_msg("accepted %s", bad[i]);
    }
}

static void test_render(void **state)
{
    apr_pool_t *p = *state;
    oas_issuer_t *iss = make_issuer(p);
    const char *tmpl = oas_logout_default_template(), *err, *html;
    apr_array_header_t *frames = apr_array_make(p, 1, sizeof(const char *));
    oas_logout_view_t v;
    oas_tmpl_t *t;

    assert_int_equal(oas_tmpl_parse(&t, &err, p, tmpl, strlen(tmpl)), APR_SUCCESS);
    memset(&v, 0, sizeof(v));
    v.view = OAS_LOGOUT_CONFIRM;
    v.user = "<alice>";
    v.client = oas_issuer_client(iss, "rp");
    v.action = "/logout";
    v.txn = "T\"1";
    v.csrf = "C1";
    html = oas_logout_render(p, t, iss, &v);
    assert_non_null(strstr(html, "<form method=\"post\" action=\"/logout\">"));
    assert_non_null(strstr(html, "name=\"txn\" value=\"T&quot;1\""));
    assert_non_null(strstr(html, "name=\"csrf\" value=\"C1\""));
    assert_non_null(strstr(html, "name=\"decision\" value=\"allow\""));
    assert_non_null(strstr(html, "name=\"decision\" value=\"deny\""));
    assert_non_null(strstr(html, "&lt;alice&gt;"));
    assert_non_null(strstr(html, "<strong>Notes</strong> asks to sign you out"));
    assert_null(strstr(html, "<iframe"));
    assert_null(strstr(html, "http-equiv"));

    memset(&v, 0, sizeof(v));
    v.view = OAS_LOGOUT_SIGNED_OUT;
    APR_ARRAY_PUSH(frames, const char *) = "https://rp.test/fc?iss=a&sid=b";
    v.frames = frames;
    v.next = "https://rp.test/bye?state=1";
    html = oas_logout_render(p, t, iss, &v);
    assert_non_null(strstr(html, "You have signed out"));
    assert_non_null(strstr(html, "<iframe src=\"https://rp.test/fc?iss=a&amp;sid=b\""));
    assert_non_null(strstr(html, "content=\"2;url=https://rp.test/bye?state=1\""));
    assert_null(strstr(html, "<form"));

    v.view = OAS_LOGOUT_KEPT;
    v.frames = NULL;
    v.next = NULL;
    html = oas_logout_render(p, t, iss, &v);
    assert_non_null(strstr(html, "You are still signed in"));
    assert_null(strstr(html, "You have signed out"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_hint_verify),  UNIT_TEST(test_validate),
        UNIT_TEST(test_needs_confirmation), UNIT_TEST(test_next),
        UNIT_TEST(test_confirmation), UNIT_TEST(test_confirmation_quota),
        UNIT_TEST(test_not_a_consent),
        UNIT_TEST(test_frame_src),    UNIT_TEST(test_url_valid),
        UNIT_TEST(test_render),
    };
    return UNIT_RUN(tests);
}
