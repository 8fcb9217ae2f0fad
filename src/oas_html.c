/* mod_oauth_as: HTML escaping and a small logic-less template engine (STYLE.md C13, P13, P15).
 * Templates are trusted configuration, values are not: values are always escaped. */
#include <apr_hash.h>
#include <apr_lib.h>
#include <string.h>

#include "oas_html.h"

#define TMPL_MAX_DEPTH 32 /* nested sections; render recurses once per level */

enum { NODE_TEXT, NODE_VAR, NODE_SECTION, NODE_INVERTED };

typedef struct node_t {
    int type;
    const char *s;                /* NODE_TEXT: the text; otherwise the variable name */
    apr_size_t len;               /* length of s */
    int line;                     /* where the tag opened, for error messages */
    apr_array_header_t *children; /* of node_t *, for the two section types */
} node_t;

struct oas_tmpl_t {
    apr_array_header_t *nodes; /* of node_t * */
};

typedef struct var_t {
    const char *value;         /* plain variable, or NULL */
    apr_array_header_t *items; /* list of oas_tmpl_vars_t *, or NULL */
} var_t;

struct oas_tmpl_vars_t {
    apr_pool_t *pool;
    apr_hash_t *vars; /* name -> var_t * */
};

typedef struct scope_t {
    const oas_tmpl_vars_t *v;
    const struct scope_t *up; /* enclosing scope: names not in v resolve there */
} scope_t;

typedef struct piece_t {
    const char *s;
    apr_size_t n;
} piece_t;

/* The entity for one of & < > " ' (the quote too: attributes may be single-quoted, P13), or
 * NULL for any other byte. UTF-8 passes through unchanged. */
static const char *html_entity(char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    default:
        return NULL;
    }
}

const char *oas_html_escape(apr_pool_t *p, const char *s)
{
    apr_size_t i, extra = 0;
    const char *ent;
    char *out, *o;

    if (s == NULL)
        return "";
    for (i = 0; s[i] != '\0'; i++) {
        if ((ent = html_entity(s[i])) != NULL)
            extra += strlen(ent) - 1;
    }
    if (extra == 0)
        return s;
    out = o = apr_palloc(p, i + extra + 1);
    for (i = 0; s[i] != '\0'; i++) {
        if ((ent = html_entity(s[i])) == NULL) {
            *o++ = s[i];
            continue;
        }
        memcpy(o, ent, strlen(ent));
        o += strlen(ent);
    }
    *o = '\0';
    return out;
}

/* ---- parsing ---- */

/* First occurrence of the two-character string cc in [s, end), or NULL. */
static const char *find2(const char *s, const char *end, const char *cc)
{
    while (s < end && (s = memchr(s, cc[0], (apr_size_t)(end - s))) != NULL) {
        if (s + 1 < end && s[1] == cc[1])
            return s;
        s++;
    }
    return NULL;
}

static int count_lines(const char *s, const char *end)
{
    int n = 0;
    while (s < end && (s = memchr(s, '\n', (apr_size_t)(end - s))) != NULL) {
        n++;
        s++;
    }
    return n;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int valid_name(const char *s, apr_size_t n)
{
    apr_size_t i;

    if (n == 0)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!apr_isalnum(c) && c != '_' && c != '.' && c != '-')
            return 0;
    }
    return 1;
}

static node_t *add_node(apr_pool_t *p, apr_array_header_t *to, int type, const char *s,
                        apr_size_t len, int line)
{
    node_t *n = apr_pcalloc(p, sizeof(*n));

    n->type = type;
    n->s = apr_pstrmemdup(p, s, len);
    n->len = len;
    n->line = line;
    if (type == NODE_SECTION || type == NODE_INVERTED)
        n->children = apr_array_make(p, 4, sizeof(node_t *));
    APR_ARRAY_PUSH(to, node_t *) = n;
    return n;
}

apr_status_t oas_tmpl_parse(oas_tmpl_t **pt, const char **perr, apr_pool_t *p, const char *text,
                            apr_size_t len)
{
    oas_tmpl_t *t = apr_pcalloc(p, sizeof(*t));
    apr_array_header_t *open = apr_array_make(p, 8, sizeof(node_t *)); /* section stack */
    apr_array_header_t *cur;
    const char *pos = text, *end = text + len;
    int line = 1;

    *pt = NULL;
    *perr = NULL;
    t->nodes = cur = apr_array_make(p, 16, sizeof(node_t *));
    if (len > 0 && memchr(text, '\0', len) != NULL) {
        *perr = apr_psprintf(p, "line %d: NUL byte in template",
                             1 + count_lines(text, memchr(text, '\0', len)));
        return APR_EINVAL;
    }
    while (pos < end) {
        const char *tag = find2(pos, end, "{{");
        const char *close, *in, *inend;
        int tag_line, type = NODE_VAR;
        node_t *n;

        if (tag == NULL)
            tag = end;
        if (tag > pos)
            add_node(p, cur, NODE_TEXT, pos, (apr_size_t)(tag - pos), line);
        line += count_lines(pos, tag);
        if (tag == end)
            break;
        tag_line = line;
        if ((close = find2(tag + 2, end, "}}")) == NULL) {
            *perr = apr_psprintf(p, "line %d: '{{' without '}}'", tag_line);
            return APR_EINVAL;
        }
        line += count_lines(tag, close);
        pos = close + 2;
        for (in = tag + 2; in < close && is_space(*in); in++)
            ;
        if (in < close && (*in == '#' || *in == '^' || *in == '/')) {
            type = (*in == '#') ? NODE_SECTION : (*in == '^') ? NODE_INVERTED : -1;
            for (in++; in < close && is_space(*in); in++)
                ;
        }
        for (inend = close; inend > in && is_space(inend[-1]); inend--)
            ;
        if (!valid_name(in, (apr_size_t)(inend - in))) {
            /* also catches {{{raw}}} and {{&raw}}: there is no unescaped output (C13) */
            *perr =
                apr_psprintf(p, "line %d: invalid tag name (allowed: [A-Za-z0-9_.-]+)", tag_line);
            return APR_EINVAL;
        }
        if (type == -1) { /* {{/name}} closes the innermost open section */
            node_t *top;
            if (open->nelts == 0) {
                *perr = apr_psprintf(p, "line %d: {{/%.*s}} without an open section", tag_line,
                                     (int)(inend - in), in);
                return APR_EINVAL;
            }
            top = APR_ARRAY_IDX(open, open->nelts - 1, node_t *);
            if (top->len != (apr_size_t)(inend - in) || memcmp(top->s, in, top->len) != 0) {
                *perr = apr_psprintf(p,
                                     "line %d: {{/%.*s}} does not close section '%s' opened "
                                     "at line %d",
                                     tag_line, (int)(inend - in), in, top->s, top->line);
                return APR_EINVAL;
            }
            apr_array_pop(open);
            cur = open->nelts ? APR_ARRAY_IDX(open, open->nelts - 1, node_t *)->children : t->nodes;
            continue;
        }
        n = add_node(p, cur, type, in, (apr_size_t)(inend - in), tag_line);
        if (type != NODE_VAR) {
            if (open->nelts >= TMPL_MAX_DEPTH) {
                *perr = apr_psprintf(p, "line %d: sections nested too deeply", tag_line);
                return APR_EINVAL;
            }
            APR_ARRAY_PUSH(open, node_t *) = n;
            cur = n->children;
        }
    }
    if (open->nelts > 0) {
        node_t *top = APR_ARRAY_IDX(open, open->nelts - 1, node_t *);
        *perr = apr_psprintf(p, "line %d: section '%s' is not closed", top->line, top->s);
        return APR_EINVAL;
    }
    *pt = t;
    return APR_SUCCESS;
}

/* ---- variables ---- */

oas_tmpl_vars_t *oas_tmpl_vars_make(apr_pool_t *p)
{
    oas_tmpl_vars_t *v = apr_pcalloc(p, sizeof(*v));

    v->pool = p;
    v->vars = apr_hash_make(p);
    return v;
}

void oas_tmpl_set(oas_tmpl_vars_t *v, const char *name, const char *value)
{
    var_t *e;

    if (value == NULL) {
        apr_hash_set(v->vars, name, APR_HASH_KEY_STRING, NULL);
        return;
    }
    e = apr_pcalloc(v->pool, sizeof(*e));
    e->value = apr_pstrdup(v->pool, value);
    apr_hash_set(v->vars, apr_pstrdup(v->pool, name), APR_HASH_KEY_STRING, e);
}

oas_tmpl_vars_t *oas_tmpl_list_add(oas_tmpl_vars_t *v, const char *list_name)
{
    var_t *e = apr_hash_get(v->vars, list_name, APR_HASH_KEY_STRING);
    oas_tmpl_vars_t *item;

    if (e == NULL || e->items == NULL) {
        e = apr_pcalloc(v->pool, sizeof(*e));
        e->items = apr_array_make(v->pool, 4, sizeof(oas_tmpl_vars_t *));
        apr_hash_set(v->vars, apr_pstrdup(v->pool, list_name), APR_HASH_KEY_STRING, e);
    }
    item = oas_tmpl_vars_make(v->pool);
    APR_ARRAY_PUSH(e->items, oas_tmpl_vars_t *) = item;
    return item;
}

/* ---- rendering: reads t and v only, collects pieces, joins them once ---- */

static const var_t *lookup(const scope_t *sc, const char *name)
{
    for (; sc != NULL; sc = sc->up) {
        const var_t *e = sc->v ? apr_hash_get(sc->v->vars, name, APR_HASH_KEY_STRING) : NULL;
        if (e != NULL)
            return e; /* the innermost definition shadows the outer ones */
    }
    return NULL;
}

static void push(apr_array_header_t *out, const char *s, apr_size_t n)
{
    piece_t *pc;

    if (n == 0)
        return;
    pc = apr_array_push(out);
    pc->s = s;
    pc->n = n;
}

static void render_nodes(apr_array_header_t *out, apr_pool_t *p, const apr_array_header_t *nodes,
                         const scope_t *sc)
{
    int i, k;

    for (i = 0; i < nodes->nelts; i++) {
        const node_t *n = APR_ARRAY_IDX(nodes, i, const node_t *);
        const var_t *e = (n->type == NODE_TEXT) ? NULL : lookup(sc, n->s);
        int truthy = e && ((e->items && e->items->nelts > 0) || (e->value && *e->value));
        const char *s;

        switch (n->type) {
        case NODE_TEXT:
            push(out, n->s, n->len);
            break;
        case NODE_VAR: /* lists and unknown names render as "" */
            if (e && e->value) {
                s = oas_html_escape(p, e->value);
                push(out, s, strlen(s));
            }
            break;
        case NODE_SECTION:
            if (!truthy)
                break;
            if (e->items == NULL) {
                render_nodes(out, p, n->children, sc);
                break;
            }
            for (k = 0; k < e->items->nelts; k++) {
                scope_t inner;
                inner.v = APR_ARRAY_IDX(e->items, k, const oas_tmpl_vars_t *);
                inner.up = sc;
                render_nodes(out, p, n->children, &inner);
            }
            break;
        case NODE_INVERTED:
            if (!truthy)
                render_nodes(out, p, n->children, sc);
            break;
        default:
            break;
        }
    }
}

const char *oas_tmpl_render(apr_pool_t *p, const oas_tmpl_t *t, const oas_tmpl_vars_t *v)
{
    apr_array_header_t *out = apr_array_make(p, 64, sizeof(piece_t));
    scope_t top;
    apr_size_t total = 0;
    char *buf, *o;
    int i;

    top.v = v;
    top.up = NULL;
    render_nodes(out, p, t->nodes, &top);
    for (i = 0; i < out->nelts; i++)
        total += APR_ARRAY_IDX(out, i, piece_t).n;
    buf = o = apr_palloc(p, total + 1);
    for (i = 0; i < out->nelts; i++) {
        const piece_t *pc = &APR_ARRAY_IDX(out, i, piece_t);
        memcpy(o, pc->s, pc->n);
        o += pc->n;
    }
    *o = '\0';
    return buf;
}
