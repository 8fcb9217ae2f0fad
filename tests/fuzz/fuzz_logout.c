/* libFuzzer: RP-Initiated Logout (oas_logout.c) on a fresh shm store. Input "H<claims>": the
 * claims signed with our ID-token key (typ JWT) read back as an id_token_hint, which verifies
 * exactly when they carry our iss, a string aud and sub. Any other input is an end-session
 * request's form (query or body): oas_logout_validate answers success or a 400 page, never
 * anything else; a redirect is followed only with a valid hint and a URI of the hint's
 * client; a confirmation started for it is decided by the same input's txn, csrf and
 * decision fields without crashing (success only for its own transaction and token). */
#include "fuzz.h"
#include "oas_form.h"
#include "oas_jose.h"
#include "oas_logout.h"

#define STORE_ENTRIES 128

static oas_issuer_t *iss;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    oas_client_t *c;

    fuzz_init();
    iss = oas_issuer_make(fuzz_root);
    iss->issuer = iss->issuer_origin = "https://as.test";
    iss->keys = apr_array_make(fuzz_root, 1, sizeof(oas_key_t *));
    APR_ARRAY_PUSH(iss->keys, oas_key_t *) = fuzz_key(EVP_EC_gen("P-256"), -1);
    iss->id_token_key = APR_ARRAY_IDX(iss->keys, 0, oas_key_t *);
    iss->clients = apr_hash_make(fuzz_root);
    c = oas_client_make(fuzz_root, "rp");
    c->post_logout_redirect_uris = apr_array_make(fuzz_root, 1, sizeof(const char *));
    APR_ARRAY_PUSH(c->post_logout_redirect_uris, const char *) = "https://rp.test/bye";
    oas_client_resolve(c);
    apr_hash_set(iss->clients, c->id, APR_HASH_KEY_STRING, c);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char region[1 << 17];
    apr_pool_t *p = fuzz_pool();
    oas_logout_req_t req, got;
    oas_logout_hint_t hint;
    oas_logout_txn_t t;
    oas_consent_form_t f;
    oas_session_t s;
    apr_table_t *params;
    const char *dup, *jwt, *why;
    oas_err_t e;
    oas_ctx_t x;
    int allow;

    if (size >= 1 && data[0] == 'H') {
        if (oas_jws_sign(&jwt, p, iss->id_token_key, "JWT", fuzz_str(p, data + 1, size - 1)) ==
            APR_SUCCESS) {
            int ok = oas_logout_hint_verify(&hint, &why, p, iss, jwt) == APR_SUCCESS;
            if (ok)
                FUZZ_ASSERT(hint.client_id && hint.sub);
            /* the registered URI is followed exactly when the hint is rp's */
            params = apr_table_make(p, 2);
            apr_table_set(params, "id_token_hint", jwt);
            apr_table_set(params, "post_logout_redirect_uri", "https://rp.test/bye");
            fuzz_store_ctx(&x, p, iss, apr_time_sec(apr_time_now()), region, sizeof(region),
                           STORE_ENTRIES);
            if (oas_logout_validate(&req, &x, &e, params, NULL) == APR_SUCCESS)
                FUZZ_ASSERT(ok && req.redirect_uri && !strcmp(hint.client_id, "rp"));
            else
                FUZZ_ASSERT(!ok || strcmp(hint.client_id, "rp"));
        }
        apr_pool_destroy(p);
        return 0;
    }
    if (oas_form_parse_first(&params, &dup, p, (const char *)data, size, 64) != APR_SUCCESS) {
        apr_pool_destroy(p);
        return 0;
    }
    fuzz_store_ctx(&x, p, iss, apr_time_sec(apr_time_now()), region, sizeof(region),
                   STORE_ENTRIES);
    if (oas_logout_validate(&req, &x, &e, params, dup) != APR_SUCCESS) {
        FUZZ_ASSERT(e.status == 400 && e.page && !strcmp(e.error, "invalid_request"));
        apr_pool_destroy(p);
        return 0;
    }
    if (req.redirect_uri)
        FUZZ_ASSERT(req.hint_valid && req.client && !strcmp(req.client->id, "rp") &&
                    !strcmp(req.redirect_uri, "https://rp.test/bye"));
    FUZZ_ASSERT(oas_logout_next(p, iss, &req, "https://as.test/logout?signed_out=1") ||
                !req.redirect_uri);
    memset(&s, 0, sizeof(s));
    s.sid = "S1";
    if (oas_logout_txn_start(&t, &x, &e, &req, &s) == APR_SUCCESS) {
        memset(&f, 0, sizeof(f));
        f.txn = apr_table_get(params, "txn");
        f.csrf = apr_table_get(params, "csrf");
        f.decision = apr_table_get(params, "decision");
        f.origin = apr_table_get(params, "origin");
        f.our_origin = "https://as.test";
        if (oas_logout_decide(&got, &allow, &x, &e, &f, &s) == APR_SUCCESS)
            FUZZ_ASSERT(!strcmp(f.txn, t.txn) && !strcmp(f.csrf, t.csrf));
        else
            FUZZ_ASSERT(e.status >= 400 && (e.page || e.status >= 500));
    }
    apr_pool_destroy(p);
    return 0;
}
