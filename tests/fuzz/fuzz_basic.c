/* libFuzzer: the Authorization header: HTTP Basic client credentials (oas_basic_parse:
 * scheme, strict base64, the split on ':' and form-decoding of each part) and the Bearer/DPoP
 * credential of the resource server (oas_rs_credential). The input is tried as the whole
 * header value and as the bytes after "Basic " (base64-encoded first, so the decoded part
 * gets fuzzed too), "Bearer " and "DPoP ". */
#include <openssl/evp.h>

#include "fuzz.h"
#include "oas_basic.h"
#include "oas_resource_server.h"
#include "oas_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_init();
    return 0;
}

static void check(apr_pool_t *p, const char *h)
{
    const char *id = "x", *secret = "x";
    int rc = oas_basic_parse(&id, &secret, p, h);

    if (rc == 1) {
        FUZZ_ASSERT(id && secret && *id && *secret);
        FUZZ_ASSERT(oas_is_clean_utf8(id, strlen(id)) && oas_is_clean_utf8(secret, strlen(secret)));
    }
    else {
        FUZZ_ASSERT(rc == -1 && !id && !secret);
    }
}

/* a credential is one token (no space) after the scheme, or "" when malformed, or NULL */
static void check_token(apr_pool_t *p, const char *h)
{
    int scheme = -1;
    const char *t = oas_rs_credential(&scheme, h);

    FUZZ_ASSERT(scheme == OAS_RS_NONE || scheme == OAS_RS_BEARER || scheme == OAS_RS_DPOP);
    FUZZ_ASSERT(!t == (scheme == OAS_RS_NONE));
    if (t && *t)
        FUZZ_ASSERT(!strchr(t, ' ') && t > h && t[-1] == ' ' && t + strlen(t) == h + strlen(h));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    char *raw = fuzz_str(p, data, size);
    unsigned char *b64;

    check(p, raw);
    check(p, apr_pstrcat(p, "Basic ", raw, NULL));
    check_token(p, raw);
    check_token(p, apr_pstrcat(p, (size & 1) ? "Bearer " : "dpop ", raw, NULL));
    if (size <= 3000) {
        b64 = apr_palloc(p, 4 * (size / 3 + 1) + 1);
        EVP_EncodeBlock(b64, data, (int)size);
        check(p, apr_pstrcat(p, "Basic ", (char *)b64, NULL));
    }
    apr_pool_destroy(p);
    return 0;
}
