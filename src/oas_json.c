/* mod_oauth_as: jansson glue. json_t values are reference counted by jansson and released
 * by pool cleanups here, so no caller has to pair every path with json_decref. */
#include <stdlib.h>

#include "oas_json.h"

static apr_status_t json_cleanup(void *data)
{
    json_decref(data);
    return APR_SUCCESS;
}

json_t *oas_json_adopt(apr_pool_t *p, json_t *j)
{
    if (j)
        apr_pool_cleanup_register(p, j, json_cleanup, apr_pool_cleanup_null);
    return j;
}

const char *oas_json_dumps(apr_pool_t *p, const json_t *j, size_t flags)
{
    char *tmp;
    const char *s;

    if (!j)
        return NULL;
    /* Output goes into headers, tokens and one-line responses: drop any indentation.
     * json_dumps() mallocs: copy into the pool and free at once (the one free() we allow). */
    tmp = json_dumps(j, (flags & ~(size_t)JSON_MAX_INDENT) | JSON_COMPACT);
    s = tmp ? apr_pstrdup(p, tmp) : NULL;
    free(tmp);
    return s;
}

apr_status_t oas_json_parse(json_t **pj, apr_pool_t *p, const char *s, apr_size_t len)
{
    json_error_t err;
    json_t *j;

    *pj = NULL;
    if (!s)
        return APR_EINVAL;
    /* Duplicate names are ambiguous (RFC 7515 §5.2 requires rejecting them in JOSE headers);
     * json_loadb also refuses trailing data and \u0000 by default. */
    j = oas_json_adopt(p, json_loadb(s, len, JSON_REJECT_DUPLICATES, &err));
    if (!j || !json_is_object(j))
        return APR_EINVAL;
    *pj = j;
    return APR_SUCCESS;
}

const char *oas_json_str(const json_t *obj, const char *key)
{
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

    return json_is_string(v) ? json_string_value(v) : NULL;
}

apr_int64_t oas_json_int(const json_t *obj, const char *key, apr_int64_t dflt)
{
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

    return json_is_integer(v) ? (apr_int64_t)json_integer_value(v) : dflt;
}
