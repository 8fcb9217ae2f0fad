/* libFuzzer, differential: oas_jsonr_parse against jansson (json_loadb with
 * JSON_REJECT_DUPLICATES, as oas_json_parse). Whatever oas_jsonr accepts, jansson accepts with
 * the same members and values (strings byte-equal after decoding, integers equal, nested
 * containers equal to their raw text, which oas_jsonr reads again when it is an object);
 * whatever jansson refuses, oas_jsonr refuses. oas_jsonr may refuse more only by design
 * (oas_jsonr.h): a fraction or exponent anywhere, nesting at OAS_JSONR_MAX_DEPTH, an object
 * of more than OAS_JSONR_MAX_MEMBERS members, a NUL byte (jansson drops one that follows a
 * number or a literal). (Integers outside int64 jansson refuses too.) And the writer: what
 * oas_jsonr accepted, written back with oas_jsonw (and as a jansson value with
 * oas_jsonw_json), jansson reads as the same object. */
#include <jansson.h>

#include "fuzz.h"
#include "oas_jsonr.h"
#include "oas_jsonw.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_init();
    return 0;
}

/* What only oas_jsonr refuses below v (at depth d): a real, the deepest container, the
 * largest object. */
typedef struct {
    int has_real, depth;
    size_t members;
} shape_t;

static void scan(const json_t *v, int d, shape_t *s)
{
    size_t i;
    const char *k;
    json_t *e;

    if (json_is_real(v))
        s->has_real = 1;
    if ((json_is_array(v) || json_is_object(v)) && d > s->depth)
        s->depth = d;
    if (json_is_array(v)) {
        json_array_foreach(v, i, e)
        {
            scan(e, d + 1, s);
        }
    }
    else if (json_is_object(v)) {
        if (json_object_size(v) > s->members)
            s->members = json_object_size(v);
        json_object_foreach((json_t *)v, k, e)
        {
            scan(e, d + 1, s);
        }
    }
}

static json_t *load(const char *s, size_t len, size_t flags)
{
    return json_loadb(s, len, JSON_REJECT_DUPLICATES | flags, NULL);
}

/* o (accepted by oas_jsonr) and j (jansson's reading of the same text) agree member by member */
static void same(apr_pool_t *p, const oas_jobj_t *o, const json_t *j)
{
    int i;

    FUZZ_ASSERT(json_is_object(j));
    FUZZ_ASSERT(json_object_size(j) == (size_t)o->n);
    for (i = 0; i < o->n; i++) { /* n distinct keys, each one of j's n keys: the same set */
        const oas_jmember_t *m = &o->m[i];
        const json_t *v = json_object_get(j, m->key);
        oas_jobj_t sub;
        json_t *raw;

        FUZZ_ASSERT(v);
        FUZZ_ASSERT(oas_jobj_get(o, m->key) == m);
        switch (m->type) {
        case OAS_JSON_STRING:
            FUZZ_ASSERT(json_is_string(v));
            FUZZ_ASSERT(json_string_length(v) == strlen(m->str));
            FUZZ_ASSERT(!memcmp(json_string_value(v), m->str, strlen(m->str)));
            FUZZ_ASSERT(oas_jobj_str(o, m->key) == m->str);
            break;
        case OAS_JSON_INT:
            FUZZ_ASSERT(json_is_integer(v));
            FUZZ_ASSERT(json_integer_value(v) == m->num);
            FUZZ_ASSERT(oas_jobj_int(o, m->key, 0) == m->num);
            break;
        case OAS_JSON_TRUE:
            FUZZ_ASSERT(json_is_true(v));
            break;
        case OAS_JSON_FALSE:
            FUZZ_ASSERT(json_is_false(v));
            break;
        case OAS_JSON_NULL:
            FUZZ_ASSERT(json_is_null(v));
            break;
        case OAS_JSON_OBJECT:
        case OAS_JSON_ARRAY:
            FUZZ_ASSERT(m->type == OAS_JSON_OBJECT ? json_is_object(v) : json_is_array(v));
            raw = load(m->str, strlen(m->str), JSON_DECODE_ANY);
            FUZZ_ASSERT(raw && json_equal(raw, v));
            json_decref(raw);
            if (m->type == OAS_JSON_OBJECT) {
                FUZZ_ASSERT(oas_jobj_object(o, m->key) == m->str);
                FUZZ_ASSERT(oas_jsonr_parse(&sub, p, m->str, strlen(m->str)) == APR_SUCCESS);
                same(p, &sub, v);
            }
            break;
        default:
            FUZZ_ASSERT(!"unknown member type");
        }
    }
}

/* The writer's half: o written back member by member with oas_jsonw reads back, by jansson,
 * as the same object */
static void rewrite(apr_pool_t *p, const oas_jobj_t *o, const json_t *j)
{
    oas_jsonw_t w;
    const char *out;
    json_t *back;
    int i;

    oas_jsonw_init(&w, p, 64);
    for (i = 0; i < o->n; i++) {
        const oas_jmember_t *m = &o->m[i];
        switch (m->type) {
        case OAS_JSON_STRING:
            oas_jsonw_str_keep_empty(&w, m->key, m->str);
            break;
        case OAS_JSON_INT:
            oas_jsonw_int(&w, m->key, m->num);
            break;
        case OAS_JSON_TRUE:
        case OAS_JSON_FALSE:
            oas_jsonw_bool(&w, m->key, m->type == OAS_JSON_TRUE);
            break;
        case OAS_JSON_NULL:
            oas_jsonw_raw(&w, m->key, "null");
            break;
        default:
            oas_jsonw_raw(&w, m->key, m->str);
            break;
        }
    }
    out = oas_jsonw_end(&w);
    FUZZ_ASSERT(out);
    back = load(out, strlen(out), 0);
    FUZZ_ASSERT(back && json_equal(back, j));
    json_decref(back);
    /* and a jansson value written by oas_jsonw_json reads back the same too */
    oas_jsonw_init(&w, p, 64);
    oas_jsonw_json(&w, "v", j);
    out = oas_jsonw_end(&w);
    FUZZ_ASSERT(out);
    back = load(out, strlen(out), 0);
    FUZZ_ASSERT(back && json_equal(json_object_get(back, "v"), j));
    json_decref(back);
}

/* OAS_JSONR_NUMBERS (JWT claims): every JSON number is read, so it accepts what the default
 * mode accepts and what jansson accepts but for depth, size and NUL; a number that is not an
 * int64 keeps its text, which is a whole JSON number. */
static void numbers(apr_pool_t *p, const char *buf, size_t size, apr_status_t rv,
                    const oas_jobj_t *o, const json_t *j)
{
    shape_t s = {0, 0, 0};
    oas_jobj_t n;
    int i;

    if (oas_jsonr_parse_ex(&n, p, buf, size, OAS_JSONR_NUMBERS) != APR_SUCCESS) {
        FUZZ_ASSERT(rv != APR_SUCCESS);
        if (j && json_is_object(j)) {
            scan(j, 0, &s);
            FUZZ_ASSERT(s.depth >= OAS_JSONR_MAX_DEPTH || s.members > OAS_JSONR_MAX_MEMBERS ||
                        memchr(buf, 0, size));
        }
        return;
    }
    FUZZ_ASSERT(rv != APR_SUCCESS || n.n == o->n);
    for (i = 0; i < n.n; i++) {
        if (n.m[i].type == OAS_JSON_NUMBER) {
            char *end;

            strtod(n.m[i].str, &end);
            FUZZ_ASSERT(*n.m[i].str && !*end);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    char *buf = malloc(size ? size : 1); /* exactly size bytes: ASan sees any read past them */
    oas_jobj_t o;
    apr_status_t rv;
    json_t *j;

    memcpy(buf, data, size);
    rv = oas_jsonr_parse(&o, p, buf, size);
    FUZZ_ASSERT(rv == APR_SUCCESS || rv == APR_EINVAL);
    j = load(buf, size, 0);
    if (rv == APR_SUCCESS) {
        FUZZ_ASSERT(j);
        same(p, &o, j);
        rewrite(p, &o, j);
    }
    else if (j && json_is_object(j)) {
        /* refused by oas_jsonr alone: only by design */
        shape_t s = {0, 0, 0};
        scan(j, 0, &s);
        FUZZ_ASSERT(s.has_real || s.depth >= OAS_JSONR_MAX_DEPTH ||
                    s.members > OAS_JSONR_MAX_MEMBERS || memchr(buf, 0, size));
    }
    numbers(p, buf, size, rv, &o, j);
    json_decref(j);
    free(buf);
    apr_pool_destroy(p);
    return 0;
}
