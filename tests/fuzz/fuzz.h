/* Common parts of the libFuzzer harnesses (tests/fuzz/README.md): APR set up once in
 * LLVMFuzzerInitialize, one sub-pool per input, destroyed before the next. */
#ifndef OAS_FUZZ_H
#define OAS_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <openssl/pem.h>
#include <unistd.h>

#include "oas_ctx.h"
#include "oas_keys.h"
#include "oas_store_shm.h"

static apr_pool_t *fuzz_root;

/* Stops the run with a message: libFuzzer records the input as a crash. */
#define FUZZ_ASSERT(cond)                                                                         \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond);          \
            abort();                                                                              \
        }                                                                                         \
    } while (0)

static void fuzz_init(void)
{
    apr_initialize();
    /* the fixtures go at exit, before LeakSanitizer's final check (it cannot see into APR's
     * mmap'ed pool memory, so anything left in a pool would look leaked) */
    atexit(apr_terminate);
    apr_pool_create(&fuzz_root, NULL);
}

static apr_pool_t *fuzz_pool(void)
{
    apr_pool_t *p;
    apr_pool_create(&p, fuzz_root);
    return p;
}

/* The input as a NUL-terminated string (cut at the first NUL byte). */
static char *fuzz_str(apr_pool_t *p, const uint8_t *data, size_t size)
{
    char *s = apr_pstrmemdup(p, (const char *)data, size);
    return s;
}

/* A signing key for fixtures: pk written as PEM to a temporary file and loaded with
 * oas_key_load (alg: OAuthASSigningKey's ALG, -1 for the default); pk is freed. */
static oas_key_t *fuzz_key(EVP_PKEY *pk, int alg)
{
    char path[] = "/tmp/oas-fuzz-XXXXXX";
    int fd = mkstemp(path);
    BIO *bio = BIO_new_fd(fd, BIO_CLOSE);
    oas_key_t *k = NULL;
    const char *err;

    if (fd < 0 || !pk || PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) != 1)
        abort();
    BIO_free(bio);
    EVP_PKEY_free(pk);
    if (oas_key_load(&k, &err, fuzz_root, path, NULL, alg) != APR_SUCCESS)
        abort();
    unlink(path);
    return k;
}

/* A context for iss at now whose short- and long-lived stores are one fresh shm store of
 * entries slots formatted in region (of size bytes). */
static void fuzz_store_ctx(oas_ctx_t *x, apr_pool_t *p, const oas_issuer_t *iss, apr_int64_t now,
                           char *region, apr_size_t size, apr_uint32_t entries)
{
    apr_size_t sz = oas_shm_store_size_needed(entries);
    oas_store_t *st = NULL;

    FUZZ_ASSERT(sz <= size);
    FUZZ_ASSERT(oas_shm_store_format(region, sz, entries) == APR_SUCCESS);
    FUZZ_ASSERT(oas_shm_store_attach(&st, p, region, sz, NULL) == APR_SUCCESS);
    oas_ctx_init(x, p, iss, now);
    x->store[OAS_CTX_SHORT] = x->store[OAS_CTX_LONG] = st;
    x->opened[OAS_CTX_SHORT] = x->opened[OAS_CTX_LONG] = 1;
}

#endif
