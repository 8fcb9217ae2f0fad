/* mod_oauth_as: HTTP Basic client credentials (RFC 7617, RFC 6749 §2.3.1). */
#include <strings.h>

#include "oas_basic.h"
#include "oas_form.h"
#include "oas_util.h"

/* Decodes one form-urlencoded credential part (RFC 6749 §2.3.1). */
static const char *decode_part(apr_pool_t *p, const char *s, apr_size_t n)
{
    apr_table_t *t;
    const char *bad;
    char *pair = apr_pstrcat(p, "v=", apr_pstrmemdup(p, s, n), NULL);

    if (oas_form_parse(&t, &bad, p, pair, strlen(pair), 1) != APR_SUCCESS)
        return NULL;
    return apr_table_get(t, "v");
}

int oas_basic_parse(const char **pid, const char **psecret, apr_pool_t *p, const char *h)
{
    unsigned char *dec;
    apr_size_t n;
    const char *colon, *id, *secret;

    *pid = *psecret = NULL;
    if (!h)
        return 0;
    if (strncasecmp(h, "Basic ", 6))
        return -1;
    h += 6;
    /* a repeated header is joined with ", " by httpd; a single space separates the scheme */
    if (!*h || strlen(h) > OAS_BASIC_MAX_LEN
        || oas_b64_decode(&dec, &n, p, h, strlen(h)) != APR_SUCCESS)
        return -1;
    if (memchr(dec, '\0', n) || !(colon = memchr(dec, ':', n)))
        return -1;
    id = decode_part(p, (const char *)dec, (apr_size_t)(colon - (const char *)dec));
    secret = decode_part(p, colon + 1, n - (apr_size_t)(colon + 1 - (const char *)dec));
    if (!id || !secret)
        return -1;
    *pid = id;
    *psecret = secret;
    return 1;
}
