/* Unit tests: HTML escaping and templates (STYLE.md C13, P13; SECURITY.md B08). */
#include <apr_thread_proc.h>
#include <apr_time.h>

#include "unit.h"
#include "oas_html.h"

static void test_escape(void **state)
{
    apr_pool_t *p = *state;
    static const struct { const char *in; const char *out; } rows[] = {
        { "", "" },
        { "plain text", "plain text" },
        { "&", "&amp;" },
        { "<", "&lt;" },
        { ">", "&gt;" },
        { "\"", "&quot;" },
        { "'", "&#39;" },
        { "<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" },
        { "\" onmouseover=\"x", "&quot; onmouseover=&quot;x" },
        { "&amp;", "&amp;amp;" },
        { "caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93" },
    };
    size_t i;
    const char *same = "nothing to do";

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        assert_string_equal(oas_html_escape(p, rows[i].in), rows[i].out);
    assert_ptr_equal(oas_html_escape(p, same), same); /* no copy when nothing changes */
    assert_string_equal(oas_html_escape(p, NULL), "");
}

/* Variables for the render rows: user, empty, a list "scopes" whose items shadow "name". */
static oas_tmpl_vars_t *sample_vars(apr_pool_t *p)
{
    oas_tmpl_vars_t *v = oas_tmpl_vars_make(p), *it, *sub;

    oas_tmpl_set(v, "name", "outer");
    oas_tmpl_set(v, "client", "<script>alert(1)</script>");
    oas_tmpl_set(v, "empty", "");
    oas_tmpl_set(v, "q", "'\"&");
    it = oas_tmpl_list_add(v, "scopes");
    oas_tmpl_set(it, "name", "openid");
    it = oas_tmpl_list_add(v, "scopes");
    oas_tmpl_set(it, "name", "<email>");
    oas_tmpl_set(it, "extra", "x");
    sub = oas_tmpl_list_add(it, "claims");
    oas_tmpl_set(sub, "c", "email_verified");
    it = oas_tmpl_list_add(v, "none");  /* becomes an empty list below */
    (void)it;
    oas_tmpl_set(v, "none", NULL);
    (void)oas_tmpl_list_add(v, "gone");
    oas_tmpl_set(v, "gone", "plain now");
    return v;
}

static void test_render_rows(void **state)
{
    apr_pool_t *p = *state;
    oas_tmpl_vars_t *v = sample_vars(p);
    static const struct { const char *tmpl; const char *out; } rows[] = {
        { "", "" },
        { "no tags", "no tags" },
        { "{{name}}", "outer" },
        { "{{ name }}|{{\tname\n}}", "outer|outer" },
        { "<p>{{client}}</p>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>" },
        { "<a title='{{q}}'>", "<a title='&#39;&quot;&amp;'>" },
        { "[{{unknown}}]", "[]" },
        { "[{{scopes}}]", "[]" },                          /* a list is no text */
        { "{{#scopes}}<li>{{name}}</li>{{/scopes}}", "<li>openid</li><li>&lt;email&gt;</li>" },
        { "{{#scopes}}{{client}};{{/scopes}}",             /* outer names visible in items */
          "&lt;script&gt;alert(1)&lt;/script&gt;;&lt;script&gt;alert(1)&lt;/script&gt;;" },
        { "{{#scopes}}{{name}}:{{extra}};{{/scopes}}{{extra}}", "openid:;&lt;email&gt;:x;" },
        { "{{#scopes}}{{#claims}}{{name}}/{{c}}{{/claims}}{{^claims}}-{{/claims}};{{/scopes}}",
          "-;&lt;email&gt;/email_verified;" },            /* nested, two levels of scope */
        { "{{#name}}yes {{name}}{{/name}}", "yes outer" }, /* plain variable: once */
        { "{{#empty}}yes{{/empty}}", "" },
        { "{{#unknown}}yes{{/unknown}}", "" },
        { "{{^empty}}none{{/empty}}", "none" },
        { "{{^unknown}}none{{/unknown}}", "none" },
        { "{{^none}}none{{/none}}", "none" },
        { "{{^name}}none{{/name}}", "" },
        { "{{^scopes}}none{{/scopes}}", "" },
        { "{{gone}}", "plain now" },
        { "{{# scopes }}{{^ extra }}!{{/ extra }}{{/ scopes }}", "!" },
        { "a}}b{c", "a}}b{c" },
        { "{{a.b-c_1}}", "" },
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        oas_tmpl_t *t = NULL;
        const char *err = NULL, *got;

        if (oas_tmpl_parse(&t, &err, p, rows[i].tmpl, strlen(rows[i].tmpl)) != APR_SUCCESS)
            fail_msg("row %zu: parse: %s", i, err);
        got = oas_tmpl_render(p, t, v);
        if (strcmp(got, rows[i].out) != 0)
            fail_msg("row %zu (%s): got '%s'", i, rows[i].tmpl, got);
        assert_non_null(oas_tmpl_render(p, t, NULL));
    }
}

static void test_parse_errors(void **state)
{
    apr_pool_t *p = *state;
    static const struct { const char *tmpl; const char *err; } rows[] = {
        { "a\nb {{x", "line 2: '{{' without '}}'" },
        { "{{#a}}\n\n{{/b}}", "line 3: {{/b}} does not close section 'a' opened at line 1" },
        { "x\n{{#a}}\n", "line 2: section 'a' is not closed" },
        { "{{#a}}{{#b}}{{/a}}{{/b}}",
          "line 1: {{/a}} does not close section 'b' opened at line 1" },
        { "\n\n\n{{/a}}", "line 4: {{/a}} without an open section" },
        { "{{}}", "line 1: invalid tag name (allowed: [A-Za-z0-9_.-]+)" },
        { "{{ }}", "line 1: invalid tag name (allowed: [A-Za-z0-9_.-]+)" },
        { "{{#}}{{/}}", "line 1: invalid tag name (allowed: [A-Za-z0-9_.-]+)" },
        { "\n{{{raw}}}", "line 2: invalid tag name (allowed: [A-Za-z0-9_.-]+)" },
        { "\n\n{{&raw}}", "line 3: invalid tag name (allowed: [A-Za-z0-9_.-]+)" },
        { "{{a b}}", "line 1: invalid tag name (allowed: [A-Za-z0-9_.-]+)" },
        { "{{!comment}}", "line 1: invalid tag name (allowed: [A-Za-z0-9_.-]+)" },
        { "{{\xc3\xa9}}", "line 1: invalid tag name (allowed: [A-Za-z0-9_.-]+)" },
        { "{{\n\nx y}}", "line 1: invalid tag name (allowed: [A-Za-z0-9_.-]+)" },
        { "{{\n\nx}}\n{{/x}}", "line 4: {{/x}} without an open section" }, /* lines in tags */
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        oas_tmpl_t *t = (oas_tmpl_t *)p; /* poison */
        const char *err = NULL;
        apr_status_t rv = oas_tmpl_parse(&t, &err, p, rows[i].tmpl, strlen(rows[i].tmpl));
        if (rv != APR_EINVAL || t != NULL || err == NULL || strcmp(err, rows[i].err) != 0)
            fail_msg("row %zu (%s): rv %d, err '%s'", i, rows[i].tmpl, rv, err ? err : "");
    }
}

static void test_parse_limits(void **state)
{
    apr_pool_t *p = *state;
    oas_tmpl_t *t;
    const char *err;
    const char *deep = "", *ok = "";
    int i;

    assert_int_equal(oas_tmpl_parse(&t, &err, p, "a\n\0b", 4), APR_EINVAL);
    assert_string_equal(err, "line 2: NUL byte in template");
    for (i = 0; i < 33; i++)
        deep = apr_pstrcat(p, "{{#a}}", deep, "{{/a}}", NULL);
    assert_int_equal(oas_tmpl_parse(&t, &err, p, deep, strlen(deep)), APR_EINVAL);
    assert_string_equal(err, "line 1: sections nested too deeply");
    for (i = 0; i < 32; i++)
        ok = apr_pstrcat(p, "{{#a}}", ok, "{{/a}}", NULL);
    assert_int_equal(oas_tmpl_parse(&t, &err, p, ok, strlen(ok)), APR_SUCCESS);
    /* the length is honoured: the text need not be NUL-terminated */
    assert_int_equal(oas_tmpl_parse(&t, &err, p, "{{x}}{{", 5), APR_SUCCESS);
}

/* The parsed template is shared and read-only: rendering twice with different variables gives
 * independent results. */
static void test_reuse(void **state)
{
    apr_pool_t *p = *state;
    oas_tmpl_t *t;
    const char *err;
    oas_tmpl_vars_t *a = oas_tmpl_vars_make(p), *b = oas_tmpl_vars_make(p);
    const char *tx = "{{#l}}{{x}}{{/l}}{{^l}}empty{{/l}}";

    assert_int_equal(oas_tmpl_parse(&t, &err, p, tx, strlen(tx)), APR_SUCCESS);
    oas_tmpl_set(oas_tmpl_list_add(a, "l"), "x", "1");
    oas_tmpl_set(oas_tmpl_list_add(a, "l"), "x", "2");
    assert_string_equal(oas_tmpl_render(p, t, a), "12");
    assert_string_equal(oas_tmpl_render(p, t, b), "empty");
    assert_string_equal(oas_tmpl_render(p, t, a), "12");
}

/* Many threads render one parsed template at once (worker MPM): each must see its own output. */
typedef struct job_t {
    const oas_tmpl_t *t;
    int id;
    int ok;
} job_t;

static void *APR_THREAD_FUNC render_job(apr_thread_t *th, void *data)
{
    job_t *job = data;
    apr_pool_t *tp;
    int i;

    apr_pool_create_unmanaged(&tp);
    job->ok = 1;
    for (i = 0; i < 200; i++) {
        oas_tmpl_vars_t *v = oas_tmpl_vars_make(tp);
        const char *want = apr_psprintf(tp, "<%d><%d>", job->id, i);
        oas_tmpl_set(oas_tmpl_list_add(v, "l"), "x", apr_itoa(tp, job->id));
        oas_tmpl_set(oas_tmpl_list_add(v, "l"), "x", apr_itoa(tp, i));
        if (strcmp(oas_tmpl_render(tp, job->t, v), want) != 0)
            job->ok = 0;
        apr_pool_clear(tp);
    }
    apr_pool_destroy(tp);
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

static void test_threads(void **state)
{
    apr_pool_t *p = *state;
    oas_tmpl_t *t;
    const char *err, *tx = "{{#l}}<{{x}}>{{/l}}";
    apr_thread_t *th[4];
    job_t jobs[4];
    apr_status_t trv;
    int i;

    assert_int_equal(oas_tmpl_parse(&t, &err, p, tx, strlen(tx)), APR_SUCCESS);
    for (i = 0; i < 4; i++) {
        jobs[i].t = t;
        jobs[i].id = 1000 + i;
        assert_int_equal(apr_thread_create(&th[i], NULL, render_job, &jobs[i], p), APR_SUCCESS);
    }
    for (i = 0; i < 4; i++) {
        apr_thread_join(&trv, th[i]);
        assert_true(jobs[i].ok);
    }
}

static apr_interval_time_t time_render(apr_pool_t *p, apr_size_t target)
{
    static const char unit[] = "<p title=\"{{t}}\">{{#l}}<li>{{n}}</li>{{/l}}{{^e}}-{{/e}}</p>\n";
    apr_pool_t *sub;
    apr_size_t n = target / (sizeof(unit) - 1), i, len;
    char *text;
    oas_tmpl_t *t;
    oas_tmpl_vars_t *v;
    const char *err, *out;
    apr_time_t start;

    apr_pool_create(&sub, p);
    text = apr_palloc(sub, n * (sizeof(unit) - 1) + 1);
    for (i = 0; i < n; i++)
        memcpy(text + i * (sizeof(unit) - 1), unit, sizeof(unit) - 1);
    len = n * (sizeof(unit) - 1);
    v = oas_tmpl_vars_make(sub);
    oas_tmpl_set(v, "t", "a<b");
    oas_tmpl_set(oas_tmpl_list_add(v, "l"), "n", "x");
    oas_tmpl_set(oas_tmpl_list_add(v, "l"), "n", "y");
    assert_int_equal(oas_tmpl_parse(&t, &err, sub, text, len), APR_SUCCESS);
    start = apr_time_now();
    out = oas_tmpl_render(sub, t, v);
    start = apr_time_now() - start;
    assert_int_equal(strlen(out), n * strlen("<p title=\"a&lt;b\"><li>x</li><li>y</li>-</p>\n"));
    apr_pool_destroy(sub);
    return start;
}

static void test_render_linear(void **state)
{
    apr_pool_t *p = *state;
    apr_interval_time_t small = time_render(p, 100 * 1024);
    apr_interval_time_t big = time_render(p, 1024 * 1024);

    if (big > 30 * small + apr_time_from_msec(50))
        fail_msg("100 KB: %" APR_TIME_T_FMT " us, 1 MB: %" APR_TIME_T_FMT " us", small, big);
    assert_true(big < apr_time_from_sec(2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_escape),
        UNIT_TEST(test_render_rows),
        UNIT_TEST(test_parse_errors),
        UNIT_TEST(test_parse_limits),
        UNIT_TEST(test_reuse),
        UNIT_TEST(test_threads),
        UNIT_TEST(test_render_linear),
    };
    return UNIT_RUN(tests);
}
