/* libFuzzer: the user-code normaliser of the device verification page
 * (oas_device_user_code_norm, RFC 8628 §6.1): what a user types, any bytes. A result is
 * exactly OAS_USER_CODE_CHARS symbols of the alphabet, normalising it again gives itself, and
 * the input's alphabet symbols, upper-cased, are the result (only separators are dropped). */
#include <apr_lib.h>

#include "fuzz.h"
#include "oas_device.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    char *raw = fuzz_str(p, data, size);
    const char *n = oas_device_user_code_norm(p, raw);
    size_t i, k = 0;

    if (n) {
        FUZZ_ASSERT(strlen(n) == OAS_USER_CODE_CHARS);
        for (i = 0; n[i]; i++)
            FUZZ_ASSERT(strchr(OAS_USER_CODE_ALPHABET, n[i]) != NULL);
        FUZZ_ASSERT(!strcmp(oas_device_user_code_norm(p, n), n));
        for (i = 0; raw[i]; i++) {
            if (raw[i] == '-' || raw[i] == ' ' || raw[i] == '\t')
                continue;
            FUZZ_ASSERT(k < OAS_USER_CODE_CHARS && apr_toupper(raw[i]) == n[k]);
            k++;
        }
        FUZZ_ASSERT(k == OAS_USER_CODE_CHARS);
    }
    apr_pool_destroy(p);
    return 0;
}
