/* libFuzzer: the consent-page template language (oas_tmpl_parse + oas_tmpl_render) with a
 * fixed set of variables, one of them a list, values holding HTML specials. */
#include "fuzz.h"
#include "oas_html.h"

static oas_tmpl_vars_t *vars;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    oas_tmpl_vars_t *it;

    fuzz_init();
    vars = oas_tmpl_vars_make(fuzz_root);
    oas_tmpl_set(vars, "client", "<script>alert(1)</script>");
    oas_tmpl_set(vars, "user", "alice");
    oas_tmpl_set(vars, "txn", "\"'&<>");
    oas_tmpl_set(vars, "empty", "");
    it = oas_tmpl_list_add(vars, "scopes");
    oas_tmpl_set(it, "name", "openid");
    oas_tmpl_set(it, "description", "<b>x</b>");
    it = oas_tmpl_list_add(vars, "scopes");
    oas_tmpl_set(it, "name", "profile");
    it = oas_tmpl_list_add(vars, "scopes");
    oas_tmpl_set(it, "client", "inner");
    return 0;
}

static int count_sections(const char *buf, size_t size)
{
    size_t i;
    int n = 0;

    for (i = 0; i + 1 < size; i++) {
        if (buf[i] == '{' && buf[i + 1] == '{') {
            size_t j = i + 2;
            while (j < size && (buf[j] == ' ' || buf[j] == '\t' || buf[j] == '\r' ||
                                buf[j] == '\n'))
                j++;
            if (j < size && buf[j] == '#')
                n++;
        }
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    oas_tmpl_t *t = NULL;
    const char *err = NULL, *out;
    char *buf = malloc(size ? size : 1);

    memcpy(buf, data, size);
    if (oas_tmpl_parse(&t, &err, p, buf, size) == APR_SUCCESS) {
        FUZZ_ASSERT(t);
        /* Nested list sections multiply the output (3 items: 3^depth copies), as Mustache
         * does; the template is the operator's configuration, not outside bytes, so keep
         * the output bounded: with more than 5 sections render without variables only. */
        if (count_sections(buf, size) <= 5) {
            out = oas_tmpl_render(p, t, vars);
            FUZZ_ASSERT(out);
        }
        out = oas_tmpl_render(p, t, NULL);
        FUZZ_ASSERT(out);
    }
    else {
        FUZZ_ASSERT(err && !strncmp(err, "line ", 5));
    }
    free(buf);
    apr_pool_destroy(p);
    return 0;
}
