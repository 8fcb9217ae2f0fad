/* mod_oauth_as: JARM responses (oas_jarm.h). */
#include "oas_jarm.h"
#include "oas_jose.h"
#include "oas_jsonw.h"

int oas_jarm_mode(const char *response_mode)
{
    if (!response_mode || !strcmp(response_mode, "query"))
        return OAS_JARM_NO;
    if (!strcmp(response_mode, "jwt") || !strcmp(response_mode, "query.jwt"))
        return OAS_JARM_QUERY;
    return OAS_JARM_UNKNOWN;
}

apr_status_t oas_jarm_response(const char **pjwt, apr_pool_t *p, const oas_issuer_t *iss,
                               const char *client_id, const apr_array_header_t *pairs,
                               apr_int64_t now)
{
    const char *json;
    oas_jsonw_t w;
    int i;

    *pjwt = NULL;
    if (!iss->id_token_key)
        return APR_ENOTIMPL;
    oas_jsonw_init(&w, p, 512);
    oas_jsonw_str_keep_empty(&w, "iss", iss->issuer);
    oas_jsonw_str_keep_empty(&w, "aud", client_id);
    oas_jsonw_int(&w, "exp", now + OAS_JARM_TTL);
    for (i = 0; i + 1 < pairs->nelts; i += 2)
        oas_jsonw_str_keep_empty(&w, APR_ARRAY_IDX(pairs, i, const char *),
                                 APR_ARRAY_IDX(pairs, i + 1, const char *));
    if (!(json = oas_jsonw_end(&w)))
        return APR_EINVAL;
    return oas_jws_sign(pjwt, p, iss->id_token_key, NULL, json);
}
