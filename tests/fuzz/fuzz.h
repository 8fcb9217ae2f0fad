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

#endif
