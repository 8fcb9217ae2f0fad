/* mod_oauth_as: one-pass reader for flat JSON objects (see oas_jsonr.h). */
#include <string.h>

#include "oas_jsonr.h"
#include "oas_util.h"

#define MAX_DEPTH OAS_JSONR_MAX_DEPTH
#define MAX_MEMBERS OAS_JSONR_MAX_MEMBERS

typedef struct {
    const unsigned char *s, *end;
    apr_pool_t *p;
    unsigned flags;
} rd_t;

static void ws(rd_t *r)
{
    while (r->s < r->end && (*r->s == ' ' || *r->s == '\t' || *r->s == '\n' || *r->s == '\r'))
        r->s++;
}

static int hex4(const unsigned char *s, unsigned *out)
{
    unsigned v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        unsigned char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return 0;
    }
    *out = v;
    return 1;
}

static char *put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    }
    else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* A string at r->s (which is at the opening quote). out may be NULL to only skip it.
 * Decoded text is never longer than the encoded one: the buffer is sized by a first scan
 * to the closing quote. */
static int string(rd_t *r, const char **out)
{
    const unsigned char *q;
    char *buf = NULL, *o = NULL;

    r->s++;
    /* the common case, plain ASCII up to the closing quote: one scan and one copy */
    for (q = r->s; q < r->end && oas_json_plain[*q]; q++)
        ;
    if (q < r->end && *q == '"') {
        if (out)
            *out = apr_pstrmemdup(r->p, (const char *)r->s, (apr_size_t)(q - r->s));
        r->s = q + 1;
        return 1;
    }
    if (out) {
        for (q = r->s; q < r->end && *q != '"'; q++) {
            if (*q == '\\')
                q++;
        }
        if (q >= r->end)
            return 0;
        o = buf = apr_palloc(r->p, (apr_size_t)(q - r->s) + 1);
    }
    while (r->s < r->end) {
        unsigned char c = *r->s;
        if (c == '"') {
            r->s++;
            if (out) {
                *o = '\0';
                *out = buf;
            }
            return 1;
        }
        if (c < 0x20)
            return 0;
        if (c == '\\') {
            unsigned cp, lo;
            if (r->end - r->s < 2)
                return 0;
            c = r->s[1];
            r->s += 2;
            switch (c) {
            case '"': case '\\': case '/': cp = c; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u':
                if (r->end - r->s < 4 || !hex4(r->s, &cp))
                    return 0;
                r->s += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF) { /* a high surrogate needs its low half */
                    if (r->end - r->s < 6 || r->s[0] != '\\' || r->s[1] != 'u' ||
                        !hex4(r->s + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                        return 0;
                    r->s += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0) {
                    return 0; /* a lone low surrogate; \u0000 would cut C strings short */
                }
                break;
            default:
                return 0;
            }
            if (o)
                o = put_utf8(o, cp);
            continue;
        }
        if (c < 0x80) {
            if (o)
                *o++ = (char)c;
            r->s++;
        }
        else {
            apr_size_t k = oas_utf8_seq_len(r->s, (apr_size_t)(r->end - r->s));
            if (!k)
                return 0;
            if (o) {
                memcpy(o, r->s, k);
                o += k;
            }
            r->s += k;
        }
    }
    return 0;
}

static int integer(rd_t *r, apr_int64_t *out)
{
    int neg = 0, digits = 0;
    apr_uint64_t v = 0;

    if (*r->s == '-') {
        neg = 1;
        r->s++;
    }
    if (r->s < r->end && *r->s == '0' && r->s + 1 < r->end && r->s[1] >= '0' && r->s[1] <= '9')
        return 0; /* no leading zeros */
    while (r->s < r->end && *r->s >= '0' && *r->s <= '9') {
        if (++digits > 19) /* beyond int64 (19 digits cannot overflow the unsigned sum) */
            return 0;
        v = v * 10 + (apr_uint64_t)(*r->s++ - '0');
    }
    if (!digits || (r->s < r->end && (*r->s == '.' || *r->s == 'e' || *r->s == 'E')))
        return 0;
    /* the int64 range, as jansson's: it refuses what is outside */
    if (v > (apr_uint64_t)APR_INT64_MAX + (apr_uint64_t)neg)
        return 0;
    *out = neg && v ? -(apr_int64_t)(v - 1) - 1 : (apr_int64_t)v; /* no overflow at -2^63 */
    return 1;
}

static int digits(rd_t *r)
{
    const unsigned char *start = r->s;

    while (r->s < r->end && *r->s >= '0' && *r->s <= '9')
        r->s++;
    return r->s > start;
}

/* Any JSON number (RFC 8259 §6): an int64 as OAS_JSON_INT, the rest as its text. */
static int number(rd_t *r, oas_jmember_t *m)
{
    const unsigned char *start = r->s;

    if (integer(r, &m->num)) {
        m->type = OAS_JSON_INT;
        return 1;
    }
    r->s = start;
    if (r->s < r->end && *r->s == '-')
        r->s++;
    if (r->s < r->end && *r->s == '0')
        r->s++;
    else if (r->s >= r->end || *r->s < '1' || *r->s > '9' || !digits(r))
        return 0;
    if (r->s < r->end && *r->s == '.' && (r->s++, !digits(r)))
        return 0;
    if (r->s < r->end && (*r->s == 'e' || *r->s == 'E')) {
        r->s++;
        if (r->s < r->end && (*r->s == '+' || *r->s == '-'))
            r->s++;
        if (!digits(r))
            return 0;
    }
    m->type = OAS_JSON_NUMBER;
    m->str = apr_pstrmemdup(r->p, (const char *)start, (apr_size_t)(r->s - start));
    return 1;
}

static int literal(rd_t *r, const char *word)
{
    apr_size_t n = strlen(word);

    if ((apr_size_t)(r->end - r->s) < n || memcmp(r->s, word, n))
        return 0;
    r->s += n;
    return 1;
}

static int value(rd_t *r, int depth, oas_jmember_t *m);

/* Keeps the names of a nested object: duplicates are refused at every depth, as jansson
 * does with JSON_REJECT_DUPLICATES, and so is an object of more than MAX_MEMBERS. */
static int new_name(rd_t *r, const char ***names, int *n, int *cap, const char *name)
{
    int i;

    for (i = 0; i < *n; i++) {
        if (!strcmp((*names)[i], name))
            return 0;
    }
    if (*n == *cap) {
        const char **nn;
        if (*cap >= MAX_MEMBERS)
            return 0;
        nn = apr_palloc(r->p, sizeof(*nn) * (apr_size_t)*cap * 2);
        memcpy(nn, *names, sizeof(*nn) * (apr_size_t)*cap);
        *names = nn;
        *cap *= 2;
    }
    (*names)[(*n)++] = name;
    return 1;
}

/* Skips (validates) an object or array; the member, if any, gets its raw text. */
static int container(rd_t *r, int depth, oas_jmember_t *m)
{
    const unsigned char *start = r->s;
    unsigned char close = *r->s == '{' ? '}' : ']';
    const char *first_names[16], **names = first_names, *name;
    int first = 1, n = 0, cap = 16;

    if (depth >= MAX_DEPTH)
        return 0;
    r->s++;
    for (;;) {
        ws(r);
        if (r->s >= r->end)
            return 0;
        if (*r->s == close && first) {
            r->s++;
            break;
        }
        if (close == '}') {
            if (*r->s != '"' || !string(r, &name) || !new_name(r, &names, &n, &cap, name))
                return 0;
            ws(r);
            if (r->s >= r->end || *r->s++ != ':')
                return 0;
            ws(r);
        }
        if (!value(r, depth + 1, NULL))
            return 0;
        ws(r);
        if (r->s >= r->end)
            return 0;
        if (*r->s == ',') {
            r->s++;
            first = 0;
            continue;
        }
        if (*r->s++ != close)
            return 0;
        break;
    }
    if (m) {
        m->type = close == '}' ? OAS_JSON_OBJECT : OAS_JSON_ARRAY;
        m->str = apr_pstrmemdup(r->p, (const char *)start, (apr_size_t)(r->s - start));
    }
    return 1;
}

static int value(rd_t *r, int depth, oas_jmember_t *m)
{
    oas_jmember_t dummy;

    if (!m)
        m = &dummy;
    if (r->s >= r->end)
        return 0;
    switch (*r->s) {
    case '"':
        m->type = OAS_JSON_STRING;
        return string(r, m == &dummy ? NULL : &m->str);
    case '{':
    case '[':
        return container(r, depth, m == &dummy ? NULL : m);
    case 't':
        m->type = OAS_JSON_TRUE;
        return literal(r, "true");
    case 'f':
        m->type = OAS_JSON_FALSE;
        return literal(r, "false");
    case 'n':
        m->type = OAS_JSON_NULL;
        return literal(r, "null");
    default:
        if (r->flags & OAS_JSONR_NUMBERS)
            return number(r, m);
        m->type = OAS_JSON_INT;
        return integer(r, &m->num);
    }
}

apr_status_t oas_jsonr_parse(oas_jobj_t *o, apr_pool_t *p, const char *s, apr_size_t len)
{
    return oas_jsonr_parse_ex(o, p, s, len, 0);
}

apr_status_t oas_jsonr_parse_ex(oas_jobj_t *o, apr_pool_t *p, const char *s, apr_size_t len,
                                unsigned flags)
{
    rd_t r;
    int cap = 16, i;

    o->m = NULL;
    o->n = 0;
    if (!s)
        return APR_EINVAL;
    r.s = (const unsigned char *)s;
    r.end = r.s + len;
    r.p = p;
    r.flags = flags;
    ws(&r);
    if (r.s >= r.end || *r.s++ != '{')
        return APR_EINVAL;
    o->m = apr_palloc(p, sizeof(*o->m) * (apr_size_t)cap);
    ws(&r);
    if (r.s < r.end && *r.s == '}') {
        r.s++;
    }
    else {
        for (;;) {
            oas_jmember_t *m;
            if (o->n == cap) {
                oas_jmember_t *nm;
                if (cap >= MAX_MEMBERS)
                    return APR_EINVAL;
                nm = apr_palloc(p, sizeof(*nm) * (apr_size_t)cap * 2);
                memcpy(nm, o->m, sizeof(*nm) * (apr_size_t)cap);
                o->m = nm;
                cap *= 2;
            }
            m = &o->m[o->n];
            memset(m, 0, sizeof(*m));
            ws(&r);
            if (r.s >= r.end || *r.s != '"' || !string(&r, &m->key))
                return APR_EINVAL;
            for (i = 0; i < o->n; i++) { /* duplicate names are ambiguous: refused */
                if (!strcmp(o->m[i].key, m->key))
                    return APR_EINVAL;
            }
            ws(&r);
            if (r.s >= r.end || *r.s++ != ':')
                return APR_EINVAL;
            ws(&r);
            if (!value(&r, 1, m))
                return APR_EINVAL;
            o->n++;
            ws(&r);
            if (r.s >= r.end)
                return APR_EINVAL;
            if (*r.s == ',') {
                r.s++;
                continue;
            }
            if (*r.s++ != '}')
                return APR_EINVAL;
            break;
        }
    }
    ws(&r);
    return r.s == r.end ? APR_SUCCESS : APR_EINVAL;
}

const oas_jmember_t *oas_jobj_get(const oas_jobj_t *o, const char *key)
{
    int i;

    for (i = 0; i < o->n; i++) {
        if (!strcmp(o->m[i].key, key))
            return &o->m[i];
    }
    return NULL;
}

const char *oas_jobj_str(const oas_jobj_t *o, const char *key)
{
    const oas_jmember_t *m = oas_jobj_get(o, key);

    return m && m->type == OAS_JSON_STRING ? m->str : NULL;
}

apr_int64_t oas_jobj_int(const oas_jobj_t *o, const char *key, apr_int64_t dflt)
{
    const oas_jmember_t *m = oas_jobj_get(o, key);

    return m && m->type == OAS_JSON_INT ? m->num : dflt;
}

const char *oas_jobj_object(const oas_jobj_t *o, const char *key)
{
    const oas_jmember_t *m = oas_jobj_get(o, key);

    return m && m->type == OAS_JSON_OBJECT ? m->str : NULL;
}
