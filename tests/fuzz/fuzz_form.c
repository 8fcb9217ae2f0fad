/* libFuzzer: the form parser (oas_form_parse, oas_form_parse_first; SECURITY.md B04-B06).
 * The first byte picks max_pairs; the rest is the body, not NUL-terminated. */
#include "fuzz.h"
#include "oas_form.h"
#include "oas_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_init();
    return 0;
}

static void check_table(apr_table_t *t, int max_pairs)
{
    const apr_array_header_t *arr = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    int i, j;

    FUZZ_ASSERT(arr->nelts <= max_pairs);
    for (i = 0; i < arr->nelts; i++) {
        /* decoded names and values are clean UTF-8, values non-empty */
        FUZZ_ASSERT(e[i].key && oas_is_clean_utf8(e[i].key, strlen(e[i].key)));
        FUZZ_ASSERT(e[i].val && oas_is_clean_utf8(e[i].val, strlen(e[i].val)));
        for (j = 0; j < i; j++)
            FUZZ_ASSERT(strcasecmp(e[i].key, e[j].key));
    }
}

static void check_bad(const char *bad)
{
    const char *c;
    FUZZ_ASSERT(bad && *bad);
    for (c = bad; *c; c++)
        FUZZ_ASSERT(apr_isalnum(*c) || *c == '_' || *c == '.' || *c == '-');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apr_table_t *t, *t2;
    const char *bad, *dup;
    int max_pairs;
    apr_status_t rv, rv2;

    if (size < 1)
        return 0;
    max_pairs = 1 + data[0] % 64;
    data++, size--;
    p = fuzz_pool();
    /* a copy of exactly size bytes, so ASan sees any read past the end */
    {
        char *buf = malloc(size ? size : 1);
        memcpy(buf, data, size);
        rv = oas_form_parse(&t, &bad, p, buf, size, max_pairs);
        if (rv == APR_SUCCESS) {
            FUZZ_ASSERT(t && !bad);
            check_table(t, max_pairs);
        }
        else {
            FUZZ_ASSERT(rv == APR_EINVAL && !t);
            check_bad(bad);
        }
        rv2 = oas_form_parse_first(&t2, &dup, p, buf, size, max_pairs);
        if (rv2 == APR_SUCCESS) {
            FUZZ_ASSERT(t2);
            check_table(t2, max_pairs);
            if (dup)
                check_bad(dup);
            /* without repeats both parsers agree */
            if (!dup)
                FUZZ_ASSERT(rv == APR_SUCCESS);
        }
        else {
            FUZZ_ASSERT(rv2 == APR_EINVAL);
            FUZZ_ASSERT(rv != APR_SUCCESS);
        }
        free(buf);
    }
    apr_pool_destroy(p);
    return 0;
}
