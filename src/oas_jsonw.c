/* mod_oauth_as: the JSON writer. Token claims, the token response and store records are
 * flat objects of strings and integers; building them with jansson (allocate a tree, then
 * walk it) cost a quarter of a flow's instructions. This appends members straight into one
 * pool buffer, escaping strings per RFC 8259 §7; the start-up documents (metadata, JWKS)
 * use the same code for their arrays, so there is one escaping and one UTF-8 check. */
#include <stdio.h>
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

/* n bytes of str, escaped (jansson strings may hold a NUL: it becomes \u0000) */
static void put_string(oas_jsonw_t *w, const char *str, apr_size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    apr_size_t i = 0, run;

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

static int in_array(const oas_jsonw_t *w)
{
    return (w->arrays >> w->depth) & 1;
}

/* The separator, then the key in an object; a value follows. Nothing written yet at this
 * depth is told by the opening bracket just before. */
static void member(oas_jsonw_t *w, const char *key)
{
    char last = w->buf[w->len - 1];

    if (last != '{' && last != '[')
        put(w, ",", 1);
    w->n++;
    if ((key == NULL) != in_array(w)) {
        w->bad = 1; /* a member without a name, or an element with one */
        return;
    }
    if (key) {
        put_string(w, key, strlen(key));
        put(w, ":", 1);
    }
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
    w->depth = 0;
    w->arrays = 0;
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
    put_string(w, val, strlen(val));
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

static void open_container(oas_jsonw_t *w, const char *key, int array)
{
    member(w, key);
    if (++w->depth >= OAS_JSONW_MAX_DEPTH) {
        w->bad = 1;
        w->depth = OAS_JSONW_MAX_DEPTH - 1; /* keeps the shifts defined; the text is lost */
    }
    w->arrays = (w->arrays & ~((apr_uint32_t)1 << w->depth)) | ((apr_uint32_t)array << w->depth);
    put(w, array ? "[" : "{", 1);
}

void oas_jsonw_object(oas_jsonw_t *w, const char *key)
{
    open_container(w, key, 0);
}

void oas_jsonw_array(oas_jsonw_t *w, const char *key)
{
    open_container(w, key, 1);
}

void oas_jsonw_close(oas_jsonw_t *w)
{
    if (!w->depth) {
        w->bad = 1; /* the outermost object is closed by oas_jsonw_end */
        return;
    }
    put(w, in_array(w) ? "]" : "}", 1);
    w->depth--;
}

void oas_jsonw_strs(oas_jsonw_t *w, const char *key, const char *const *v, int n)
{
    int i;

    oas_jsonw_array(w, key);
    for (i = 0; i < n; i++)
        oas_jsonw_str_keep_empty(w, NULL, v[i]);
    oas_jsonw_close(w);
}

/* A real as jansson's json_dumps writes it ("%.17g", a ".0" when it would read back as an
 * integer, no '+' or leading zeros in the exponent), so a claim keeps its text. */
static void put_real(oas_jsonw_t *w, double d)
{
    char num[40], *e, *digits;
    int n = snprintf(num, sizeof(num) - 2, "%.17g", d);

    if (n <= 0 || (apr_size_t)n >= sizeof(num) - 2) {
        w->bad = 1;
        return;
    }
    if (strspn(num, "0123456789-") == (apr_size_t)n) {
        memcpy(num + n, ".0", 3);
        n += 2;
    }
    if ((e = strchr(num, 'e'))) {
        e++;
        if (*e == '-')
            e++;
        for (digits = e; *digits == '+' || *digits == '0'; digits++)
            ;
        memmove(e, digits, strlen(digits) + 1);
        n = (int)strlen(num);
    }
    put(w, num, (apr_size_t)n);
}

void oas_jsonw_json(oas_jsonw_t *w, const char *key, const json_t *v)
{
    const char *k;
    json_t *e;
    size_t i;

    if (!v || w->bad) /* nothing to write, or the text is lost already */
        return;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        oas_jsonw_object(w, key);
        json_object_foreach((json_t *)v, k, e)
        {
            oas_jsonw_json(w, k, e);
        }
        oas_jsonw_close(w);
        break;
    case JSON_ARRAY:
        oas_jsonw_array(w, key);
        json_array_foreach(v, i, e)
        {
            oas_jsonw_json(w, NULL, e);
        }
        oas_jsonw_close(w);
        break;
    case JSON_STRING:
        member(w, key);
        put_string(w, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        oas_jsonw_int(w, key, (apr_int64_t)json_integer_value(v));
        break;
    case JSON_REAL:
        member(w, key);
        put_real(w, json_real_value(v));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        oas_jsonw_bool(w, key, json_is_true(v));
        break;
    default:
        member(w, key);
        put(w, "null", 4);
        break;
    }
}

const char *oas_jsonw_end(oas_jsonw_t *w)
{
    if (w->depth)
        w->bad = 1; /* an object or array left open */
    put(w, "}", 1);
    w->buf[w->len] = '\0';
    return w->bad ? NULL : w->buf;
}
