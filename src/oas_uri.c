/* mod_oauth_as: redirect URI validation (RFC 3986, RFC 6749 §3.1.2, RFC 8252, RFC 9700 §2.6)
 * and query building for authorization responses (RFC 6749 §4.1.2). */
#include <apr_lib.h>
#include <string.h>

#include "oas_uri.h"

static int is_unreserved(unsigned char c)
{
    return apr_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 3986 §2: unreserved, gen-delims, sub-delims and '%'. Everything else (controls, space,
 * '"', '<', '>', '\\', '^', '`', '{', '|', '}', non-ASCII) is no URI character: refusing them
 * keeps confusables such as "https://evil.test\@rp1.test/cb" out of the configuration. */
static int is_uri_char(unsigned char c)
{
    return c < 0x80 && (is_unreserved(c) || strchr(":/?#[]@!$&'()*+,;=%", c) != NULL);
}

static int is_hex(unsigned char c)
{
    return apr_isxdigit(c);
}

/* Loopback hosts of RFC 8252 §7.3 (and "localhost", which §8.3 discourages but we accept). */
static int is_loopback(const char *host, apr_size_t n)
{
    return (n == 9 && strncmp(host, "127.0.0.1", n) == 0) ||
           (n == 5 && strncmp(host, "[::1]", n) == 0) ||
           (n == 9 && strncasecmp(host, "localhost", n) == 0);
}

int oas_uri_valid_redirect(const char **perr, apr_pool_t *p, const char *uri)
{
    const char *err = NULL;
    const char *s, *auth, *host, *hend, *aend;
    apr_size_t i, slen;

    if (uri == NULL || *uri == '\0') {
        err = "is empty";
        goto leave;
    }
    for (i = 0; uri[i] != '\0'; i++) {
        unsigned char c = (unsigned char)uri[i];
        if (c <= 0x20 || c == 0x7f) {
            err = "contains whitespace or control characters";
            goto leave;
        }
        if (!is_uri_char(c)) {
            err = "contains characters not allowed in a URI";
            goto leave;
        }
        if (c == '%' && !(is_hex((unsigned char)uri[i + 1]) && is_hex((unsigned char)uri[i + 2]))) {
            err = "has a broken percent-encoding";
            goto leave;
        }
    }
    /* RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
    if (!apr_isalpha((unsigned char)uri[0])) {
        err = "not an absolute URI";
        goto leave;
    }
    for (s = uri + 1; apr_isalnum((unsigned char)*s) || *s == '+' || *s == '-' || *s == '.'; s++)
        ;
    if (*s != ':') {
        err = "not an absolute URI";
        goto leave;
    }
    slen = (apr_size_t)(s - uri);
    if (strchr(s, '#') != NULL) { /* RFC 6749 §3.1.2: MUST NOT include a fragment */
        err = "has a fragment";
        goto leave;
    }
#define SCHEME_IS(name) (slen == sizeof(name) - 1 && strncasecmp(uri, name, slen) == 0)
    /* these run script or read local files in the browser (RFC 6749 §10.6, STYLE.md P13) */
    if (SCHEME_IS("javascript") || SCHEME_IS("data") || SCHEME_IS("vbscript") ||
        SCHEME_IS("file")) {
        err = "scheme not allowed";
        goto leave;
    }
    /* other schemes: private-use schemes of native apps (RFC 8252 §7.1), com.example.app:/cb */
    if (!SCHEME_IS("http") && !SCHEME_IS("https"))
        goto leave;

    /* RFC 3986 §3.2: authority = [ userinfo "@" ] host [ ":" port ] after "//" */
    if (strncmp(s + 1, "//", 2) != 0) {
        err = "has no host";
        goto leave;
    }
    auth = s + 3;
    aend = auth + strcspn(auth, "/?");
    if (memchr(auth, '@', (apr_size_t)(aend - auth)) != NULL) {
        err = "has user information"; /* "https://rp1.test@evil.test/" misleads readers */
        goto leave;
    }
    host = auth;
    if (*host == '[') {
        hend = memchr(host, ']', (apr_size_t)(aend - host));
        if (hend == NULL) {
            err = "has a malformed host";
            goto leave;
        }
        hend++;
    }
    else {
        hend = memchr(host, ':', (apr_size_t)(aend - host));
        if (hend == NULL)
            hend = aend;
    }
    if (hend == host) {
        err = "has no host";
        goto leave;
    }
    if (hend < aend) { /* port = *DIGIT */
        const char *q;
        if (*hend != ':') {
            err = "has a malformed host";
            goto leave;
        }
        for (q = hend + 1; q < aend; q++) {
            if (!apr_isdigit((unsigned char)*q)) {
                err = "has a malformed port";
                goto leave;
            }
        }
    }
    /* IP-literal: hex, ':' and '.' inside the brackets; reg-name: unreserved only, so no
     * sub-delims and no %-escapes that a browser might decode into something else */
    for (i = 0; host + i < hend; i++) {
        unsigned char c = (unsigned char)host[i];
        int ok = (*host == '[') ? (apr_isxdigit(c) || c == ':' || c == '.' || c == '[' || c == ']')
                                : is_unreserved(c);
        if (!ok) {
            err = "has a malformed host";
            goto leave;
        }
    }
    /* RFC 9700 §2.6: no cleartext redirects except to the loopback interface (RFC 8252 §7.3) */
    if (SCHEME_IS("http") && !is_loopback(host, (apr_size_t)(hend - host))) {
        err = "http is allowed only for loopback redirect URIs";
        goto leave;
    }
#undef SCHEME_IS
leave:
    if (perr)
        *perr = err;
    return err == NULL;
}

const char *oas_uri_encode(apr_pool_t *p, const char *s)
{
    static const char hx[] = "0123456789ABCDEF";
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i, n = 0;
    char *out, *o;

    if (s == NULL)
        return "";
    for (i = 0; u[i] != '\0'; i++)
        n += is_unreserved(u[i]) ? 1 : 3;
    if (n == i)
        return s;
    out = o = apr_palloc(p, n + 1);
    for (i = 0; u[i] != '\0'; i++) {
        if (is_unreserved(u[i])) {
            *o++ = (char)u[i];
        }
        else {
            *o++ = '%';
            *o++ = hx[u[i] >> 4];
            *o++ = hx[u[i] & 15];
        }
    }
    *o = '\0';
    return out;
}

const char *oas_uri_add_query(apr_pool_t *p, const char *uri, const apr_array_header_t *pairs)
{
    apr_array_header_t *parts;
    const char *frag = strchr(uri, '#');
    apr_size_t blen = frag ? (apr_size_t)(frag - uri) : strlen(uri);
    const char *base = apr_pstrmemdup(p, uri, blen);
    const char *q = memchr(base, '?', blen);
    int i, n = pairs ? pairs->nelts : 0;

    parts = apr_array_make(p, 2 * n + 3, sizeof(const char *));
    APR_ARRAY_PUSH(parts, const char *) = base;
    for (i = 0; i + 1 < n; i += 2) {
        const char *name = APR_ARRAY_IDX(pairs, i, const char *);
        const char *value = APR_ARRAY_IDX(pairs, i + 1, const char *);
        const char *sep;

        if (name == NULL || value == NULL)
            continue;
        if (parts->nelts > 1)
            sep = "&";
        else if (q == NULL)
            sep = "?";
        else if (base[blen - 1] == '?' || base[blen - 1] == '&')
            sep = "";
        else
            sep = "&"; /* RFC 6749 §3.1.2: the existing query MUST be retained */
        APR_ARRAY_PUSH(parts, const char *) =
            apr_pstrcat(p, sep, oas_uri_encode(p, name), "=", oas_uri_encode(p, value), NULL);
    }
    if (frag)
        APR_ARRAY_PUSH(parts, const char *) = frag;
    return apr_array_pstrcat(p, parts, 0);
}

/* the rest of a loopback http URI after its port (the path and query) with *phost the host
 * it names (an index), or NULL when uri is not http on 127.0.0.1 or [::1] or its port is not
 * 1 to 5 digits */
static const char *after_loopback_port(const char *uri, size_t *phost)
{
    static const char *const hosts[] = {"http://127.0.0.1", "http://[::1]"};
    const char *s = NULL;
    size_t n;

    for (*phost = 0; *phost < sizeof(hosts) / sizeof(hosts[0]) && !s; (*phost)++) {
        n = strlen(hosts[*phost]);
        if (!strncmp(uri, hosts[*phost], n))
            s = uri + n;
    }
    if (!s)
        return NULL;
    if (*s != ':')
        return *s == '/' || *s == '?' || !*s ? s : NULL;
    for (n = 1; apr_isdigit((unsigned char)s[n]); n++)
        ;
    return n > 1 && n <= 6 && (s[n] == '/' || s[n] == '?' || !s[n]) ? s + n : NULL;
}

int oas_uri_redirect_matches(const char *registered, const char *requested)
{
    const char *a, *b;
    size_t ha, hb;

    if (!strcmp(registered, requested))
        return 1;
    return (a = after_loopback_port(registered, &ha)) && (b = after_loopback_port(requested, &hb)) &&
           ha == hb && !strcmp(a, b);
}

int oas_uri_redirect_registered(const apr_array_header_t *list, const char *requested)
{
    int i;

    for (i = 0; list && i < list->nelts; i++) {
        if (oas_uri_redirect_matches(APR_ARRAY_IDX(list, i, const char *), requested))
            return 1;
    }
    return 0;
}
