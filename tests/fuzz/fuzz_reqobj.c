/* libFuzzer: signed request objects (oas_request_object_params, oas_request_object_use) for
 * a client whose one key (ES256) is made once per process. Input "S<claims>": the claims are
 * signed with that key (typ oauth-authz-req+jwt), so the claim checks and the conversion of
 * claims to parameters are reached; what is accepted must name the client and hold no
 * request or request_uri. Any other input is the request object as it is. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <apr_hash.h>

#include "fuzz.h"
#include "oas_authz.h"
#include "oas_jose.h"
#include "oas_keys.h"
#include "oas_request_object.h"

static oas_issuer_t *iss;
static oas_key_t *key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char path[] = "/tmp/oas-fuzz-XXXXXX";
    int fd;
    BIO *bio;
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    oas_client_t *c;
    oas_jwk_t *jwk;
    const char *err;

    fuzz_init();
    fd = mkstemp(path);
    bio = BIO_new_fd(fd, BIO_CLOSE);
    if (fd < 0 || !pk || PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) != 1)
        abort();
    BIO_free(bio);
    EVP_PKEY_free(pk);
    if (oas_key_load(&key, &err, fuzz_root, path, "k1", -1) != APR_SUCCESS)
        abort();
    unlink(path);

    iss = oas_issuer_make(fuzz_root);
    iss->issuer = "https://as.test";
    iss->clients = apr_hash_make(fuzz_root);
    c = oas_client_make(fuzz_root, "rp");
    c->secret = "secret";
    jwk = apr_pcalloc(fuzz_root, sizeof(*jwk));
    jwk->pkey = key->pkey; /* a private key verifies as its public part */
    jwk->kid = "k1";
    jwk->kty = "EC";
    jwk->algs = OAS_ALGBIT(OAS_ALG_ES256);
    c->jwks = apr_array_make(fuzz_root, 1, sizeof(oas_jwk_t *));
    APR_ARRAY_PUSH(c->jwks, oas_jwk_t *) = jwk;
    oas_client_resolve(c);
    apr_hash_set(iss->clients, c->id, APR_HASH_KEY_STRING, c);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const oas_client_t *c = oas_issuer_client(iss, "rp");
    apr_table_t *params, *outer;
    const char *jws;
    oas_ctx_t x;
    oas_err_t e;

    /* the clock of a fixed instant, so that seeds with exp and nbf keep their meaning */
    oas_ctx_init(&x, p, iss, 1700000000);
    if (size >= 1 && data[0] == 'S') {
        if (oas_jws_sign(&jws, p, key, "oauth-authz-req+jwt", fuzz_str(p, data + 1, size - 1)) !=
            APR_SUCCESS) {
            apr_pool_destroy(p);
            return 0;
        }
    }
    else
        jws = fuzz_str(p, data, size);

    if (oas_request_object_params(&params, &e, &x, c, jws) == APR_SUCCESS) {
        FUZZ_ASSERT(params && !strcmp(apr_table_get(params, "client_id"), "rp"));
        FUZZ_ASSERT(!apr_table_get(params, "request") && !apr_table_get(params, "request_uri"));
    }
    else {
        FUZZ_ASSERT(!params && e.status == 400 && !strcmp(e.error, "invalid_request_object"));
        FUZZ_ASSERT(e.detail && !strncmp(e.detail, "OAS063", 6));
    }
    /* the same through the endpoint's view: the object's parameters replace the outer ones */
    outer = apr_table_make(p, 2);
    apr_table_setn(outer, "client_id", "rp");
    apr_table_setn(outer, "request", jws);
    if (oas_request_object_use(&params, &e, &x, c, outer, OAS_AUTHZ_FRONT) == APR_SUCCESS)
        FUZZ_ASSERT(params != outer && !apr_table_get(params, "request"));
    else
        FUZZ_ASSERT(e.page);
    apr_pool_destroy(p);
    return 0;
}
