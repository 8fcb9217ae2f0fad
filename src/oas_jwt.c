/* mod_oauth_as: claims of a verified JWT and the clock rules every JWT a client signs obeys. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oas_json.h"
#include "oas_jwt.h"

/* 9999-12-31T23:59:59Z: a NumericDate beyond it is an attack on arithmetic, not a date */
#define NUMERIC_DATE_MAX 253402300799LL
#define AUD_MAX 16 /* audiences in an array */

/* A NumericDate (RFC 7519 §2): a JSON number of seconds, fractions allowed and dropped. */
static int numeric_date(apr_int64_t *out, const oas_jmember_t *m)
{
    char *end;
    double d;

    if (m->type == OAS_JSON_INT) {
        *out = m->num;
        return m->num >= 0 && m->num <= NUMERIC_DATE_MAX;
    }
    if (m->type != OAS_JSON_NUMBER)
        return 0;
    /* the reader checked the JSON number grammar, which strtod accepts in full (C locale:
     * httpd never sets LC_NUMERIC) */
    d = strtod(m->str, &end);
    if (*end || !(d >= 0 && d <= (double)NUMERIC_DATE_MAX)) /* NaN fails too */
        return 0;
    *out = (apr_int64_t)d;
    return 1;
}

/* The strings of an "aud" array (its JSON text, already validated by the reader); an array
 * is rare (request objects may use one), so jansson reads it. */
static int aud_array(apr_array_header_t **pa, apr_pool_t *p, const char *raw)
{
    apr_array_header_t *a;
    json_t *arr;
    size_t i;

    arr = oas_json_adopt(p, json_loads(raw, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL));
    if (!json_is_array(arr) || !json_array_size(arr) || json_array_size(arr) > AUD_MAX)
        return 0;
    a = apr_array_make(p, (int)json_array_size(arr), sizeof(const char *));
    for (i = 0; i < json_array_size(arr); i++) {
        const json_t *v = json_array_get(arr, i);

        if (!json_is_string(v))
            return 0;
        APR_ARRAY_PUSH(a, const char *) = apr_pstrdup(p, json_string_value(v));
    }
    *pa = a;
    return 1;
}

/* A registered string claim: absent, or a string. */
static int claim_str(const char **pv, const oas_jobj_t *o, const char *name)
{
    const oas_jmember_t *m = oas_jobj_get(o, name);

    *pv = m && m->type == OAS_JSON_STRING ? m->str : NULL;
    return !m || m->type == OAS_JSON_STRING;
}

/* A NumericDate claim: absent (*has = 0), or valid. */
static int claim_date(apr_int64_t *pv, int *has, const oas_jobj_t *o, const char *name)
{
    const oas_jmember_t *m = oas_jobj_get(o, name);

    *pv = 0;
    *has = m != NULL;
    return !m || numeric_date(pv, m);
}

apr_status_t oas_jwt_parse(oas_jwt_t **pc, const char **perr, apr_pool_t *p, const char *payload,
                           apr_size_t len)
{
    const oas_jmember_t *aud;
    oas_jwt_t *c;

    *pc = NULL;
    *perr = NULL;
    c = apr_pcalloc(p, sizeof(*c));
    if (oas_jsonr_parse_ex(&c->claims, p, payload, len, OAS_JSONR_NUMBERS) != APR_SUCCESS) {
        *perr = "claims are not a JSON object";
        return APR_EINVAL;
    }
    if (!claim_str(&c->iss, &c->claims, "iss") || !claim_str(&c->sub, &c->claims, "sub") ||
        !claim_str(&c->jti, &c->claims, "jti")) {
        *perr = "iss, sub or jti not a string";
        return APR_EINVAL;
    }
    if (!claim_date(&c->exp, &c->has_exp, &c->claims, "exp") ||
        !claim_date(&c->nbf, &c->has_nbf, &c->claims, "nbf") ||
        !claim_date(&c->iat, &c->has_iat, &c->claims, "iat")) {
        *perr = "exp, nbf or iat not a NumericDate";
        return APR_EINVAL;
    }
    if (NULL != (aud = oas_jobj_get(&c->claims, "aud"))) {
        if (aud->type == OAS_JSON_STRING)
            c->aud = aud->str;
        else if (aud->type == OAS_JSON_ARRAY && aud_array(&c->aud_array, p, aud->str))
            c->aud_is_array = 1;
        else {
            *perr = "aud neither a string nor an array of 1 to 16 strings";
            return APR_EINVAL;
        }
    }
    *pc = c;
    return APR_SUCCESS;
}

apr_status_t oas_jwt_check_times(const oas_jwt_t *c, apr_int64_t now, int need_exp,
                                 apr_int64_t max_lifetime, const char **perr)
{
    *perr = NULL;
    if ((need_exp || max_lifetime > 0) && !c->has_exp)
        *perr = "exp missing";
    else if (c->has_exp && c->exp + OAS_JWT_EXP_LEEWAY < now)
        *perr = "expired";
    /* iat and nbf each on their own, with or without exp */
    else if (c->has_iat && c->iat > now + OAS_JWT_FUTURE_SKEW)
        *perr = "iat in the future";
    else if (c->has_nbf && c->nbf > now + OAS_JWT_FUTURE_SKEW)
        *perr = "not yet valid (nbf)";
    else if (max_lifetime > 0 && c->exp - (c->has_iat ? c->iat : now) > max_lifetime)
        *perr = "lifetime too long";
    return *perr ? APR_EINVAL : APR_SUCCESS;
}

int oas_jwt_aud_is(const oas_jwt_t *c, const char *expected, int allow_array)
{
    int i;

    if (!expected)
        return 0;
    if (c->aud)
        return !strcmp(c->aud, expected);
    for (i = 0; allow_array && c->aud_is_array && i < c->aud_array->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(c->aud_array, i, const char *), expected))
            return 1;
    }
    return 0;
}

int oas_jwt_typ_is(const char *typ, const char *kind)
{
    if (!typ)
        return 1;
    if (!strncasecmp(typ, "application/", 12))
        typ += 12;
    return !strcasecmp(typ, "JWT") || !strcasecmp(typ, kind);
}
