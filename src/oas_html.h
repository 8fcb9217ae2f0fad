/* mod_oauth_as: HTML output (STYLE.md C13). Every dynamic value reaches a page through
 * oas_html_escape(), directly or through a template: there is no unescaped form. */
#ifndef OAS_HTML_H
#define OAS_HTML_H

#include "oas.h"

/** s with & < > " ' written as &amp; &lt; &gt; &quot; &#39; (the single quote too, unlike
 * ap_escape_html: STYLE.md P13). Returns s itself when nothing needs escaping, "" for NULL. */
const char *oas_html_escape(apr_pool_t *p, const char *s);

/* A Mustache subset, parsed once at start-up and rendered per request:
 *   {{name}}              the variable, always HTML-escaped; unknown names render as ""
 *   {{#name}}...{{/name}} for a list: the body once per item, where names resolve in the item
 *                         first, then outside; for a plain variable: the body once if non-empty
 *   {{^name}}...{{/name}} the body once if name is absent, empty, or an empty list
 * Names match [A-Za-z0-9_.-]+ and may be surrounded by whitespace inside the braces. */
typedef struct oas_tmpl_t oas_tmpl_t;
typedef struct oas_tmpl_vars_t oas_tmpl_vars_t;

/** Parse len bytes of text into *pt, allocated in p. On a syntax error returns APR_EINVAL with
 * *perr = "line N: ..." (unclosed or mismatched section, "{{" without "}}", bad name, NUL).
 * The result is read-only: many threads may render it at once. */
apr_status_t oas_tmpl_parse(oas_tmpl_t **pt, const char **perr, apr_pool_t *p, const char *text,
                            apr_size_t len);

/** An empty set of variables in p. */
oas_tmpl_vars_t *oas_tmpl_vars_make(apr_pool_t *p);

/** Set name to a copy of value (NULL removes it); replaces a list of the same name. */
void oas_tmpl_set(oas_tmpl_vars_t *v, const char *name, const char *value);

/** Append an item to the list list_name (created if needed, replacing a plain variable of the
 * same name) and return the item's own variables to fill. */
oas_tmpl_vars_t *oas_tmpl_list_add(oas_tmpl_vars_t *v, const char *list_name);

/** Render t with v (NULL: no variables) into a new string in p, in time linear in the output. */
const char *oas_tmpl_render(apr_pool_t *p, const oas_tmpl_t *t, const oas_tmpl_vars_t *v);

#endif
