/* mod_oauth_as: form body / query parser (RFC 6749 Appendix B, §3.1, §3.2; SECURITY.md B04-B06).
 * One pass over the input; repeats are found with a hash, so 10,000 pairs cost linear time. */
#include <apr_hash.h>
#include <apr_lib.h>
#include <string.h>

#include "oas_form.h"
#include "oas_util.h"

#define SAFE_NAME_MAX 64 /* longer names are reported as "parameter" */

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode in[0..n) into a fresh NUL-terminated string; '+' is a space (App. B).
 * Returns APR_EINVAL on "%zz", a trailing "%" or "%4". */
static apr_status_t form_decode(char **pout, apr_size_t *plen, apr_pool_t *p, const char *in,
                                apr_size_t n)
{
    char *out = apr_palloc(p, n + 1);
    apr_size_t i, o = 0;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '+') {
            out[o++] = ' ';
        }
        else if (c == '%') {
            int hi, lo;
            if (i + 2 >= n)
                return APR_EINVAL;
            hi = hexval((unsigned char)in[i + 1]);
            lo = hexval((unsigned char)in[i + 2]);
            if (hi < 0 || lo < 0)
                return APR_EINVAL;
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        }
        else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    *pout = out;
    *plen = o;
    return APR_SUCCESS;
}

/* A name may be echoed in an error_description (RFC 6749 §5.2 charset, SECURITY.md B08) only
 * when it is short and plain; anything else is reported generically. */
static const char *safe_name(const char *name, apr_size_t n)
{
    apr_size_t i;

    if (n == 0 || n > SAFE_NAME_MAX)
        return "parameter";
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!apr_isalnum(c) && c != '_' && c != '.' && c != '-')
            return "parameter";
    }
    return name;
}

/* Step over the '&' at segend, never past end (pointer arithmetic beyond it is undefined). */
static const char *next_segment(const char *segend, const char *end)
{
    return segend < end ? segend + 1 : end;
}

/* The parser. With pdup, a repeated name is not an error: the first value is kept and
 * *pdup names the first repeated parameter (the authorization endpoint needs client_id and
 * redirect_uri to decide where the invalid_request error may go). */
static apr_status_t parse(apr_table_t **ptab, const char **pbad, const char **pdup,
                          apr_pool_t *p, const char *data, apr_size_t len, int max_pairs)
{
    apr_table_t *tab = apr_table_make(p, 16);
    apr_hash_t *seen = apr_hash_make(p);
    const char *end = data + len;
    const char *seg = data;
    int npairs = 0;

    *ptab = NULL;
    *pbad = NULL;
    while (seg < end) {
        const char *amp = memchr(seg, '&', (apr_size_t)(end - seg));
        const char *segend = amp ? amp : end;
        const char *eq;
        char *name, *value, *key;
        apr_size_t nlen, vlen, i;

        if (segend == seg) { /* "a=1&&b=2": empty segments carry nothing */
            seg = next_segment(segend, end);
            continue;
        }
        if (++npairs > max_pairs) {
            *pbad = "too_many_parameters";
            return APR_EINVAL;
        }
        eq = memchr(seg, '=', (apr_size_t)(segend - seg));
        if (form_decode(&name, &nlen, p, seg, (apr_size_t)((eq ? eq : segend) - seg)) !=
                APR_SUCCESS ||
            nlen == 0 || !oas_is_clean_utf8(name, nlen)) {
            *pbad = "parameter";
            return APR_EINVAL;
        }
        /* RFC 6749 §3.1: parameters MUST NOT be included more than once, even with an empty
         * value. apr_table_get() ignores case, so "client_id" and "CLIENT_ID" are one name:
         * accepting both would let the lookup pick one silently (STYLE.md P5). */
        key = apr_pstrmemdup(p, name, nlen);
        for (i = 0; i < nlen; i++)
            key[i] = (char)apr_tolower((unsigned char)key[i]);
        if (apr_hash_get(seen, key, (apr_ssize_t)nlen) != NULL) {
            if (!pdup) {
                *pbad = safe_name(name, nlen);
                return APR_EINVAL;
            }
            if (!*pdup)
                *pdup = safe_name(key, nlen);
            seg = next_segment(segend, end);
            continue;
        }
        apr_hash_set(seen, key, (apr_ssize_t)nlen, key);

        if (eq == NULL) {
            vlen = 0;
            value = "";
        }
        else if (form_decode(&value, &vlen, p, eq + 1, (apr_size_t)(segend - eq - 1)) !=
                     APR_SUCCESS ||
                 vlen > OAS_MAX_VALUE_LEN || !oas_is_clean_utf8(value, vlen)) {
            /* App. B: values are UTF-8 then form-encoded; NUL, CR, LF, TAB are never valid in
             * an OAuth parameter (SECURITY.md B04, B05) */
            *pbad = safe_name(name, nlen);
            return APR_EINVAL;
        }
        /* §3.1: "Parameters sent without a value MUST be treated as if they were omitted" */
        if (vlen > 0)
            apr_table_addn(tab, name, value); /* no repeats, so add (O(1)) equals set (O(n)) */
        seg = next_segment(segend, end);
    }
    *ptab = tab;
    return APR_SUCCESS;
}

apr_status_t oas_form_parse(apr_table_t **ptab, const char **pbad, apr_pool_t *p, const char *data,
                            apr_size_t len, int max_pairs)
{
    return parse(ptab, pbad, NULL, p, data, len, max_pairs);
}

apr_status_t oas_form_parse_first(apr_table_t **ptab, const char **pdup, apr_pool_t *p,
                                  const char *data, apr_size_t len, int max_pairs)
{
    const char *bad;

    *pdup = NULL;
    return parse(ptab, &bad, pdup, p, data, len, max_pairs);
}
