/* mod_oauth_as: a JSON object writer for the hot path. Token claims, the token response and
 * store records are flat objects of strings and integers; building them with jansson
 * (allocate a tree, then walk it) cost a quarter of a flow's instructions. This appends
 * members straight into one pool buffer, escaping strings per RFC 8259 §7. */
#include <string.h>

#include "oas_jsonw.h"
#include "oas_util.h"

static void reserve(oas_jsonw_t *w, apr_size_t more)
{
    char *nb;

    if (w->len + more + 1 <= w->cap)
        return;
    while (w->len + more + 1 > w->cap)
        w->cap *= 2;
    nb = apr_palloc(w->p, w->cap);
    memcpy(nb, w->buf, w->len);
    w->buf = nb;
}

static void put(oas_jsonw_t *w, const char *s, apr_size_t n)
{
    reserve(w, n);
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void put_string(oas_jsonw_t *w, const char *str)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    apr_size_t n = strlen(str), i = 0, run;

    put(w, "\"", 1);
    while (i < n) {
        /* copy the longest run that needs no escaping in one go */
        for (run = i; run < n && oas_json_plain[s[run]]; run++)
            ;
        put(w, (const char *)s + i, run - i);
        if ((i = run) >= n)
            break;
        if (s[i] == '"' || s[i] == '\\') {
            char e[2] = {'\\', (char)s[i]};
            put(w, e, 2);
            i++;
        }
        else if (s[i] < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex[s[i] >> 4], hex[s[i] & 15]};
            put(w, e, 6);
            i++;
        }
        else {
            apr_size_t k = oas_utf8_seq_len(s + i, n - i);
            if (!k) {
                w->bad = 1;
                return;
            }
            put(w, (const char *)s + i, k);
            i += k;
        }
    }
    put(w, "\"", 1);
}

static void member(oas_jsonw_t *w, const char *key)
{
    if (w->n++)
        put(w, ",", 1);
    put_string(w, key);
    put(w, ":", 1);
}

void oas_jsonw_init(oas_jsonw_t *w, apr_pool_t *p, apr_size_t hint)
{
    w->p = p;
    w->cap = hint < 64 ? 64 : hint;
    w->buf = apr_palloc(p, w->cap);
    w->buf[0] = '{';
    w->len = 1;
    w->n = 0;
    w->bad = 0;
}

void oas_jsonw_str(oas_jsonw_t *w, const char *key, const char *val)
{
    if (val && *val)
        oas_jsonw_str_keep_empty(w, key, val);
}

void oas_jsonw_str_keep_empty(oas_jsonw_t *w, const char *key, const char *val)
{
    if (!val)
        return;
    member(w, key);
    put_string(w, val);
}

void oas_jsonw_int(oas_jsonw_t *w, const char *key, apr_int64_t val)
{
    char num[24];
    int n = apr_snprintf(num, sizeof(num), "%" APR_INT64_T_FMT, val);

    member(w, key);
    put(w, num, (apr_size_t)n);
}

void oas_jsonw_bool(oas_jsonw_t *w, const char *key, int val)
{
    member(w, key);
    put(w, val ? "true" : "false", val ? 4 : 5);
}

void oas_jsonw_raw(oas_jsonw_t *w, const char *key, const char *json)
{
    if (!json)
        return;
    member(w, key);
    put(w, json, strlen(json));
}

const char *oas_jsonw_end(oas_jsonw_t *w)
{
    put(w, "}", 1);
    w->buf[w->len] = '\0';
    return w->bad ? NULL : w->buf;
}
