/* libFuzzer: the store's record (de)serialisation, oas_grant_from_json: any input either is
 * refused or gives a grant that serialises and parses back to the same JSON. */
#include "fuzz.h"
#include "oas_token.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    oas_grant_t *g, *g2;
    const char *json, *json2;
    char *buf = malloc(size ? size : 1);

    memcpy(buf, data, size);
    if (oas_grant_from_json(&g, p, buf, size) == APR_SUCCESS) {
        FUZZ_ASSERT(g);
        if (oas_grant_to_json(&json, p, g) == APR_SUCCESS) {
            FUZZ_ASSERT(oas_grant_from_json(&g2, p, json, strlen(json)) == APR_SUCCESS);
            FUZZ_ASSERT(oas_grant_to_json(&json2, p, g2) == APR_SUCCESS);
            FUZZ_ASSERT(!strcmp(json, json2));
        }
    }
    free(buf);
    apr_pool_destroy(p);
    return 0;
}
