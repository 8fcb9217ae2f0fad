/* mod_oauth_as: CORS (oas_cors.h). */
#include <apr_lib.h>
#include <string.h>

#include "oas_cors.h"

int oas_cors_origin_valid(const char *s)
{
    const char *h;
    size_t digits = 0;

    if (!strcmp(s, "*"))
        return 1;
    if (!strncmp(s, "https://", 8))
        h = s + 8;
    else if (!strncmp(s, "http://", 7))
        h = s + 7;
    else
        return 0;
    if (*h == '[') { /* an IPv6 literal */
        for (h++; apr_isxdigit(*h) || *h == ':' || *h == '.'; h++)
            ;
        if (*h++ != ']')
            return 0;
    }
    else {
        if (!apr_isalnum(*h))
            return 0;
        for (; apr_islower(*h) || apr_isdigit(*h) || *h == '-' || *h == '.'; h++)
            ;
    }
    if (*h == ':')
        for (h++; apr_isdigit(*h) && digits < 6; h++)
            digits++;
    return !*h && (h[-1] != ':') && digits < 6;
}

const char *oas_cors_methods(oas_endpoint_e ep)
{
    switch (ep) {
    case OAS_EP_METADATA:
    case OAS_EP_JWKS:
    case OAS_EP_RESOURCE_METADATA:
        return "GET";
    case OAS_EP_USERINFO:
        return "GET, POST";
    case OAS_EP_TOKEN:
    case OAS_EP_REVOKE:
    case OAS_EP_INTROSPECT:
        return "POST";
    case OAS_EP_REGISTER: /* RFC 7591 at the endpoint, RFC 7592 at its client URIs */
        return "GET, POST, PUT, DELETE";
    default:
        return NULL;
    }
}

const char *oas_cors_allow(const oas_issuer_t *iss, const char *origin)
{
    int i;

    if (!origin || !iss->cors_origins)
        return NULL;
    for (i = 0; i < iss->cors_origins->nelts; i++) {
        const char *o = APR_ARRAY_IDX(iss->cors_origins, i, const char *);
        if (!strcmp(o, "*"))
            return "*";
        if (!strcmp(o, origin))
            return origin;
    }
    return NULL;
}
