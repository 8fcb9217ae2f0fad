/* mod_oauth_as: signed introspection responses (oas_introspect_jwt.h). */
#include <apr_strings.h>

#include "oas_introspect_jwt.h"
#include "oas_jose.h"
#include "oas_jsonw.h"

/* A media range of Accept (RFC 9110 §12.5.1) with its parameters, cut up in place: 1 when it
 * is ours with a q other than 0. */
static int range_is_ours(char *range)
{
    char *last, *param = apr_strtok(range, ";", &last);

    if (!param)
        return 0;
    apr_collapse_spaces(param, param);
    if (strcasecmp(param, OAS_INTROSPECT_JWT_MEDIA))
        return 0;
    while ((param = apr_strtok(NULL, ";", &last))) {
        apr_collapse_spaces(param, param);
        if (!strncasecmp(param, "q=", 2) && strspn(param + 2, "0.") == strlen(param + 2))
            return 0;
    }
    return 1;
}

int oas_introspect_jwt_wanted(apr_pool_t *p, const char *accept)
{
    char *last, *range;

    if (!accept)
        return 0;
    for (range = apr_strtok(apr_pstrdup(p, accept), ",", &last); range;
         range = apr_strtok(NULL, ",", &last)) {
        if (range_is_ours(range))
            return 1;
    }
    return 0;
}

apr_status_t oas_introspect_jwt(const char **pjwt, apr_pool_t *p, const oas_issuer_t *iss,
                                const char *client_id, const char *answer, apr_int64_t now)
{
    const char *json;
    oas_jsonw_t w;

    *pjwt = NULL;
    if (!iss->id_token_key)
        return APR_ENOTIMPL;
    oas_jsonw_init(&w, p, 256 + strlen(answer));
    oas_jsonw_str_keep_empty(&w, "iss", iss->issuer);
    oas_jsonw_str_keep_empty(&w, "aud", client_id);
    oas_jsonw_int(&w, "iat", now);
    oas_jsonw_raw(&w, "token_introspection", answer);
    if (!(json = oas_jsonw_end(&w)))
        return APR_EINVAL;
    return oas_jws_sign(pjwt, p, iss->id_token_key, "token-introspection+jwt", json);
}
