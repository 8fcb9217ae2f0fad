/* mod_oauth_as: Client ID Metadata Documents (see oas_cimd.h). */
#include <string.h>

#include <apr_escape.h>
#include <apr_strings.h>
#include <apr_uri.h>

#include "oas_cimd.h"
#include "oas_clients.h"
#include "oas_json.h"
#include "oas_jwk.h"
#include "oas_log.h"
#include "oas_profile.h"
#include "oas_reg_policy.h"
#include "oas_uri.h"

/* ---- the client_id URL ---- */

/* RFC 3986 characters but '#' (a fragment is refused on its own) and '%' (checked apart) */
static int uri_char(unsigned char ch)
{
    /* letters and digits first: a URL is mostly those, and this runs at every lookup */
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '/' || ch == '.' || ch == '-' || (ch && strchr("_~:?[]@!$&'()*+,;=", ch));
}

static int hex(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* 1 when the n bytes at s are "." or "..", written plainly or with %2e */
static int dot_segment(const char *s, size_t n)
{
    int dots = 0;

    while (n) {
        if (*s == '.') {
            s++;
            n--;
        }
        else if (n >= 3 && s[0] == '%' && s[1] == '2' && (s[2] == 'e' || s[2] == 'E')) {
            s += 3;
            n -= 3;
        }
        else
            return 0;
        dots++;
    }
    return dots == 1 || dots == 2;
}

/* the n bytes at a are host[:port]: a DNS name (letters, digits, '-', dots between labels),
 * an IPv4 address or a bracketed IPv6 one; a port of 1 to 5 digits */
static int host_ok(const char *a, size_t n)
{
    size_t h, i;

    if (*a == '[') {
        h = 1 + strspn(a + 1, "0123456789abcdefABCDEF:.");
        if (h >= n || a[h] != ']' || h < 3)
            return 0;
        h++;
    }
    else {
        for (h = 0; h < n && a[h] != ':'; h++) {
            char ch = a[h];
            if (ch == '.' ? (h == 0 || a[h - 1] == '.')
                          : !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                              (ch >= '0' && ch <= '9') || ch == '-'))
                return 0;
        }
        if (!h || a[h - 1] == '.')
            return 0;
    }
    if (h == n)
        return 1;
    if (a[h] != ':' || n - h < 2 || n - h > 6)
        return 0;
    for (i = h + 1; i < n; i++) {
        if (a[i] < '0' || a[i] > '9')
            return 0;
    }
    return 1;
}

const char *oas_cimd_client_id_problem(const char *url)
{
    const char *s, *auth, *path, *end;
    size_t n;

    if (!url || !*url)
        return "empty";
    if (strlen(url) > OAS_CIMD_MAX_URL)
        return "longer than " APR_STRINGIFY(OAS_CIMD_MAX_URL) " bytes";
    for (s = url; *s; s++) {
        if (*s == '#')
            return "has a fragment";
        if (*s == '\\')
            return "has a backslash";
        if (*s == '%') {
            if (!hex(s[1]) || !hex(s[2]))
                return "has an invalid %-escape";
        }
        else if (!uri_char((unsigned char)*s))
            return "has a character outside URIs (control, space, quote ...)";
    }
    if (strncmp(url, "https://", 8))
        return "not an https URL";
    auth = url + 8;
    n = strcspn(auth, "/?");
    if (!n)
        return "has no host";
    if (memchr(auth, '@', n))
        return "has user information";
    if (!host_ok(auth, n))
        return "has a host that is not a DNS name or IP address, or a bad port";
    path = auth + n;
    end = path + strcspn(path, "?");
    if (*path != '/' || end - path < 2)
        return "has no path";
    for (s = path + 1; s <= end; s += n + 1) {
        n = strcspn(s, "/?");
        if (s + n > end)
            n = (size_t)(end - s);
        if (dot_segment(s, n))
            return "has a . or .. path segment";
    }
    return NULL;
}

int oas_cimd_client_id_valid(const char *url)
{
    return oas_cimd_client_id_problem(url) == NULL;
}

/* ---- the document ---- */

/* an https URL of at most OAS_CIMD_MAX_URI bytes (client_uri, logo_uri, jwks_uri ...) */
static int https_url(apr_pool_t *p, const char *s)
{
    apr_uri_t u;

    return s && strlen(s) <= OAS_CIMD_MAX_URI && !strncmp(s, "https://", 8) &&
           apr_uri_parse(p, s, &u) == APR_SUCCESS && u.hostname && *u.hostname && !u.user &&
           !u.password;
}

/* The URIs of member key (redirect_uris, post_logout_redirect_uris) into *out: 1 to
 * OAS_CIMD_MAX_REDIRECTS, each https or http on a loopback address. NULL, or why not. */
static const char *uri_list(apr_array_header_t **out, apr_pool_t *p, const json_t *v,
                            const char *key)
{
    size_t i;
    const char *why;

    if (!json_is_array(v) || json_array_size(v) < 1)
        return apr_psprintf(p, "%s is not a non-empty array", key);
    if (json_array_size(v) > OAS_CIMD_MAX_REDIRECTS)
        return apr_psprintf(p, "more than %d %s", OAS_CIMD_MAX_REDIRECTS, key);
    *out = apr_array_make(p, (int)json_array_size(v), sizeof(const char *));
    for (i = 0; i < json_array_size(v); i++) {
        const char *u = json_string_value(json_array_get(v, i));
        apr_uri_t pu;
        if (!u || strlen(u) > OAS_CIMD_MAX_URI)
            return apr_psprintf(p, "%s[%d] is not a string of at most %d bytes", key, (int)i,
                                OAS_CIMD_MAX_URI);
        if (!oas_uri_valid_redirect(&why, p, u))
            return apr_psprintf(p, "%s[%d] %s", key, (int)i, why);
        /* https, or a native app's loopback listener (RFC 8252 §7.3); never localhost, whose
         * resolution the app does not control, nor a private-use scheme anyone may claim */
        if (apr_uri_parse(p, u, &pu) != APR_SUCCESS || !pu.scheme || !pu.hostname ||
            (strcmp(pu.scheme, "https") &&
             (strcmp(pu.scheme, "http") ||
              (strcmp(pu.hostname, "127.0.0.1") && strcmp(pu.hostname, "::1")))))
            return apr_psprintf(p, "%s[%d] is neither https nor http on 127.0.0.1 or [::1]", key,
                                (int)i);
        APR_ARRAY_PUSH(*out, const char *) = u;
    }
    return NULL;
}

/* redirect_uris (required) and post_logout_redirect_uris (RP-Initiated Logout 1.0 §3.1) */
static const char *redirect_uris(oas_client_t *c, apr_pool_t *p, const json_t *doc)
{
    const json_t *plr = json_object_get(doc, "post_logout_redirect_uris");
    const char *why = uri_list(&c->redirect_uris, p, json_object_get(doc, "redirect_uris"),
                               "redirect_uris");

    if (!why && plr)
        why = uri_list(&c->post_logout_redirect_uris, p, plr, "post_logout_redirect_uris");
    return why;
}

/* RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E */
static const char *scopes(oas_client_t *c, apr_pool_t *p, const json_t *v)
{
    char *copy, *tok, *last;
    const char *t;

    c->scopes = apr_array_make(p, 4, sizeof(const char *));
    if (!v)
        return NULL;
    if (!json_is_string(v))
        return "scope is not a string";
    copy = apr_pstrdup(p, json_string_value(v));
    for (tok = apr_strtok(copy, " ", &last); tok; tok = apr_strtok(NULL, " ", &last)) {
        for (t = tok; *t; t++) {
            if (*t < 0x21 || *t == 0x22 || *t == 0x5c || *t > 0x7e)
                return "scope has a character outside scope tokens";
        }
        if (oas_list_has(c->scopes, tok))
            continue;
        if (c->scopes->nelts >= OAS_CIMD_MAX_SCOPES)
            return "scope has more than " APR_STRINGIFY(OAS_CIMD_MAX_SCOPES) " tokens";
        APR_ARRAY_PUSH(c->scopes, const char *) = tok;
    }
    return NULL;
}

static const char *grants(oas_client_t *c, const json_t *gt, const json_t *rt)
{
    size_t i;

    c->grant_types = OAS_GRANT_CODE;
    if (gt) {
        if (!json_is_array(gt) || json_array_size(gt) > 4)
            return "grant_types is not an array of at most 4 strings";
        c->grant_types = 0;
        for (i = 0; i < json_array_size(gt); i++) {
            const char *g = json_string_value(json_array_get(gt, i));
            if (g && !strcmp(g, "authorization_code"))
                c->grant_types |= OAS_GRANT_CODE;
            else if (g && !strcmp(g, "refresh_token"))
                c->grant_types |= OAS_GRANT_REFRESH;
            else
                return "grant_types has a grant other than authorization_code and refresh_token";
        }
        if (!(c->grant_types & OAS_GRANT_CODE))
            return "grant_types lacks authorization_code";
    }
    if (rt &&
        (!json_is_array(rt) || json_array_size(rt) != 1 || !json_is_string(json_array_get(rt, 0)) ||
         strcmp(json_string_value(json_array_get(rt, 0)), "code")))
        return "response_types is not [\"code\"]";
    return NULL;
}

static const char *auth_method(oas_client_t *c, apr_pool_t *p, const json_t *doc)
{
    const json_t *m = json_object_get(doc, "token_endpoint_auth_method");
    const json_t *jwks = json_object_get(doc, "jwks");
    const json_t *uri = json_object_get(doc, "jwks_uri");
    const char *name = json_string_value(m), *why = NULL, *text;

    if (json_object_get(doc, "client_secret") || json_object_get(doc, "client_secret_expires_at"))
        return "it has a client_secret or client_secret_expires_at";
    if (m && !name)
        return "token_endpoint_auth_method is not a string";
    if (!m || !strcmp(name, "none"))
        c->auth_methods = OAS_AUTH_NONE;
    else if (!strcmp(name, "private_key_jwt"))
        c->auth_methods = OAS_AUTH_PKJWT;
    else
        return "token_endpoint_auth_method is neither none nor private_key_jwt";
    if (jwks && uri)
        return "it has both jwks and jwks_uri";
    if (uri) {
        if (!https_url(p, json_string_value(uri)))
            return "jwks_uri is not an https URL";
        c->jwks_uri = json_string_value(uri);
    }
    else if (jwks) {
        if (!json_is_object(jwks) || !(text = oas_json_dumps(p, jwks, 0)) ||
            oas_jwks_parse(&c->jwks, &why, p, text, strlen(text)) != APR_SUCCESS)
            return apr_pstrcat(p, "jwks is refused: ", why ? why : "not a JWK Set", NULL);
    }
    else if (c->auth_methods == OAS_AUTH_PKJWT)
        return "private_key_jwt without jwks or jwks_uri";
    return NULL;
}

/* a server-level OAuthASProfile narrows the methods (fapi2: no public clients) */
static const char *profile_allows(const oas_issuer_t *iss, const oas_client_t *c)
{
    return (oas_iss_profile(iss)->auth_methods & c->auth_methods)
               ? NULL
               : "its token_endpoint_auth_method is not allowed by the server's OAuthASProfile";
}

static const char *name_and_uris(oas_client_t *c, apr_pool_t *p, const json_t *doc)
{
    static const char *const uris[] = {"client_uri", "logo_uri", "policy_uri", "tos_uri", NULL};
    const json_t *n = json_object_get(doc, "client_name");
    const char *s;
    int i;

    if (n) {
        if (!(s = json_string_value(n)) || !*s || strlen(s) > OAS_CIMD_MAX_NAME)
            return "client_name is not a string of 1 to " APR_STRINGIFY(OAS_CIMD_MAX_NAME) " bytes";
        for (i = 0; s[i]; i++) {
            if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                return "client_name has a control character";
        }
        c->name = s;
    }
    for (i = 0; uris[i]; i++) {
        const json_t *u = json_object_get(doc, uris[i]);
        if (u && !https_url(p, json_string_value(u)))
            return apr_pstrcat(p, uris[i], " is not an https URL", NULL);
    }
    return NULL;
}

apr_status_t oas_cimd_parse(oas_client_t **pc, const char **pwhy, apr_pool_t *p,
                            const oas_issuer_t *iss, const char *url, const char *body,
                            apr_size_t len)
{
    oas_client_t *c;
    json_t *doc;
    const char *id, *why;

    /* OAuthASRegistrationAudience, when the model has it, gives c->audiences; none today */
    *pc = NULL;
    *pwhy = NULL;
    if (len > OAS_CIMD_MAX_DOC)
        why = apr_psprintf(p, "larger than %d bytes", OAS_CIMD_MAX_DOC);
    else if (oas_json_parse(&doc, p, body, len) != APR_SUCCESS)
        why = "not one JSON object";
    else if (!(id = oas_json_str(doc, "client_id")) || strcmp(id, url))
        why = "its client_id is not the URL it was fetched from";
    else {
        c = oas_client_make(p, apr_pstrdup(p, url));
        c->defined_at = "metadata document";
        if (!(why = auth_method(c, p, doc)) && !(why = profile_allows(iss, c)) &&
            !(why = name_and_uris(c, p, doc)) &&
            !(why = redirect_uris(c, p, doc)) &&
            !(why = grants(c, json_object_get(doc, "grant_types"),
                           json_object_get(doc, "response_types"))) &&
            !(why = scopes(c, p, json_object_get(doc, "scope")))) {
            c->require_pkce = 1;
            c->consent = 1;
            oas_client_resolve(c);
            *pc = c;
            return APR_SUCCESS;
        }
    }
    *pwhy = why;
    return APR_EINVAL;
}

/* ---- the client a request gets ---- */

/* oas_cimd_parse, and what a registered client may (OAuthASRegistrationDefaults,
 * oas_reg_policy_apply): the scopes open to dynamic clients among those the document names
 * (the default ones when it names none), the OAuthASRegistrationAudience resources, the
 * lifetimes' caps */
static apr_status_t open_client(oas_client_t **pc, const char **pwhy, apr_pool_t *p,
                                const oas_issuer_t *iss, const char *url, const char *body,
                                apr_size_t len)
{
    oas_client_t *c;

    if (oas_cimd_parse(&c, pwhy, p, iss, url, body, len) != APR_SUCCESS)
        return APR_EINVAL;
    oas_reg_policy_apply(c, p, iss);
    *pc = c;
    return APR_SUCCESS;
}

/* the client of a document this request read or fetched: parsed once per process and
 * document (oas_clients.h) */
static apr_status_t doc_client(const oas_client_t **pc, const char **pwhy, oas_ctx_t *x,
                               const char *url, const char *body, apr_size_t len)
{
    return oas_client_parsed(pc, pwhy, x, 'd', open_client, url, body, len);
}

/* ---- the shared copy ---- */

#define REC_DOC 'd'                                /* "<expires> <the document as fetched>" */
#define REC_FAIL 'f'                               /* "<expires> <why it failed>" */
#define REC_BUSY 'l'                               /* "<expires> ": a fetch under way */
#define BUSY_TTL (OAS_FETCH_TIMEOUT_MS / 1000 + 2) /* outlives any fetch */

/* Records are keyed by the issuer too: each issuer fetches under its own OAuthASOutboundAllow,
 * so a document one may reach is never served to another that may not. */
static const char *cache_key(oas_ctx_t *x, int kind, const char *url)
{
    const char head[3] = {(char)kind, '\n', '\0'};

    return apr_pstrcat(x->p, head, x->iss->issuer ? x->iss->issuer : "", "\n", url, NULL);
}

/* The rest of a record of kind that has not expired by the request's clock (and does not
 * claim to live longer than max_ttl from now): APR_NOTFOUND otherwise, also when the store
 * fails (a lost record costs a fetch, never the request). */
static apr_status_t cache_read(const char **prest, apr_size_t *prlen, apr_int64_t *pexp,
                               oas_store_t *st, oas_ctx_t *x, int kind, const char *url,
                               apr_int64_t max_ttl)
{
    char *v, *sp;
    apr_size_t n;
    apr_int64_t exp;

    if (!st || oas_store_get(st, x->p, OAS_NS_CIMD, cache_key(x, kind, url), &v, &n) != APR_SUCCESS)
        return APR_NOTFOUND;
    exp = apr_strtoi64(v, &sp, 10);
    if (sp == v || *sp != ' ' || exp <= x->now || exp - x->now > max_ttl)
        return APR_NOTFOUND;
    *prest = sp + 1;
    *prlen = n - (apr_size_t)(sp + 1 - v);
    *pexp = exp;
    return APR_SUCCESS;
}

static apr_status_t cache_write(oas_store_t *st, oas_ctx_t *x, int kind, const char *url,
                                const char *rest, apr_size_t rlen, apr_int64_t ttl)
{
    const char *key;
    const char *head = apr_psprintf(x->p, "%" APR_INT64_T_FMT " ", x->now + ttl);
    apr_size_t hl = strlen(head);
    char *v = apr_palloc(x->p, hl + rlen);

    if (!st)
        return APR_ENOTIMPL;
    memcpy(v, head, hl);
    memcpy(v + hl, rest, rlen);
    key = cache_key(x, kind, url);
    return kind == REC_BUSY ? oas_store_put_new(st, x->p, OAS_NS_CIMD, key, v, hl + rlen,
                                                apr_time_from_sec(x->now + ttl))
                            : oas_store_put(st, x->p, OAS_NS_CIMD, key, v, hl + rlen,
                                            apr_time_from_sec(x->now + ttl));
}

/* 1 when this request may fetch the document: no other request, in any process or node, is
 * fetching it (one fetch at a time per document, so that a burst of requests naming a new
 * URL does not make us hit its host once per request). A marker the store keeps but the
 * clock says has lapsed is taken and claimed anew; a store that cannot say: 1. */
static int claim_fetch(oas_store_t *st, oas_ctx_t *x, const char *url)
{
    const char *rest;
    apr_size_t rlen;
    apr_int64_t exp;
    apr_status_t rv;

    if (!st || (rv = cache_write(st, x, REC_BUSY, url, "", 0, BUSY_TTL)) == APR_SUCCESS ||
        rv != APR_EEXIST)
        return 1;
    if (cache_read(&rest, &rlen, &exp, st, x, REC_BUSY, url, BUSY_TTL) == APR_SUCCESS)
        return 0;
    return oas_store_take(st, x->p, OAS_NS_CIMD, cache_key(x, REC_BUSY, url), NULL, NULL) ==
               APR_SUCCESS &&
           cache_write(st, x, REC_BUSY, url, "", 0, BUSY_TTL) == APR_SUCCESS;
}

/* Another request fetches the document: its outcome, waited for at most the fetch timeout
 * (that fetch began before we came). APR_EAGAIN when its marker went without an outcome (its
 * process died): the caller fetches. */
static apr_status_t await_fetch(const oas_client_t **pc, const char **pwhy, oas_store_t *st,
                                oas_ctx_t *x, const char *url)
{
    apr_time_t until = apr_time_now() + apr_time_from_msec(OAS_FETCH_TIMEOUT_MS);
    const char *rest;
    apr_size_t rlen;
    apr_int64_t exp;

    while (apr_time_now() < until) {
        apr_sleep(apr_time_from_msec(20));
        if (cache_read(&rest, &rlen, &exp, st, x, REC_DOC, url, OAS_CIMD_TTL_MAX) == APR_SUCCESS)
            return doc_client(pc, pwhy, x, url, rest, rlen);
        if (cache_read(&rest, &rlen, &exp, st, x, REC_FAIL, url, OAS_CIMD_FAIL_MEMORY) ==
            APR_SUCCESS) {
            *pwhy = apr_pstrcat(x->p, "another request's fetch failed: ", rest, NULL);
            return APR_EGENERAL;
        }
        if (cache_read(&rest, &rlen, &exp, st, x, REC_BUSY, url, BUSY_TTL) != APR_SUCCESS)
            return APR_EAGAIN;
    }
    *pwhy = "another request's fetch of it gave no document in time";
    return APR_TIMEUP;
}

/* What a document's Cache-Control max-age (-1: none) gives it, within the bounds. */
static apr_int64_t doc_ttl(apr_int64_t max_age)
{
    if (max_age < 0)
        return OAS_CIMD_TTL_DEFAULT;
    return max_age < OAS_CIMD_TTL_MIN ? OAS_CIMD_TTL_MIN
                                      : (max_age > OAS_CIMD_TTL_MAX ? OAS_CIMD_TTL_MAX : max_age);
}

/* Fetches and checks the document; on failure *pwhy says why and the failure is remembered */
static apr_status_t fetch_doc(const oas_client_t **pc, const char **pwhy, oas_store_t *st,
                              oas_ctx_t *x, const char *url, oas_fetch_fn *fetch)
{
    oas_fetch_opts_t o;
    apr_int64_t max_age = -1, ttl;
    char *body = NULL;
    apr_size_t len = 0;
    const char *why = NULL;
    apr_status_t rv;

    memset(&o, 0, sizeof(o));
    o.ca_file = x->iss->ca_file;
    o.allow = x->iss->outbound_allow;
    o.max_body = OAS_CIMD_MAX_DOC;
    o.max_age = &max_age;
    if ((rv = (fetch ? fetch : oas_fetch_json)(&body, &len, &why, x->p, url, &o)) != APR_SUCCESS)
        why = why ? why : "the fetch failed";
    else if ((rv = doc_client(pc, &why, x, url, body, len)) != APR_SUCCESS)
        why = apr_pstrcat(x->p, "the document is refused: ", why, NULL);
    if (rv != APR_SUCCESS) {
        *pwhy = why;
        cache_write(st, x, REC_FAIL, url, why, strlen(why), OAS_CIMD_FAIL_MEMORY);
        return rv;
    }
    ttl = doc_ttl(max_age);
    if (st && cache_write(st, x, REC_DOC, url, body, len, ttl) != APR_SUCCESS) {
        OAS_CTX_LOG(x, OAS_LOG_WARNING, 0,
                    OAS_LOGNO(06851) "client %s: its metadata document cannot be shared with "
                                     "other processes (store full or failing): they fetch their "
                                     "own",
                    url);
    }
    OAS_CTX_LOG(x, OAS_LOG_INFO, 0,
                OAS_LOGNO(06852) "client %s: metadata document fetched, used for %" APR_INT64_T_FMT
                                 " s",
                url, ttl);
    return APR_SUCCESS;
}

apr_status_t oas_cimd_fetch(const oas_client_t **pc, oas_err_t *err, oas_ctx_t *x, const char *url,
                            oas_fetch_fn *fetch)
{
    oas_store_t *st;
    const char *rest, *why = NULL;
    apr_size_t rlen;
    apr_int64_t exp;
    apr_status_t rv;

    *pc = NULL;
    if (!oas_iss_cimd(x->iss) || (why = oas_cimd_client_id_problem(url)) != NULL) {
        oas_err(err, x->p, 401, "invalid_client", "client authentication failed", OAS_LOG_INFO,
                OAS_LOGNO(06853) "client id %s: not a metadata document client (%s)",
                apr_pescape_echo(x->p, apr_pstrndup(x->p, url ? url : "", 256), 1),
                why ? why : "OAuthASClientMetadataDocuments is Off");
        return APR_NOTFOUND;
    }
    st = oas_ctx_store(x, OAS_CTX_SHORT);
    if (cache_read(&rest, &rlen, &exp, st, x, REC_DOC, url, OAS_CIMD_TTL_MAX) == APR_SUCCESS) {
        if (doc_client(pc, &why, x, url, rest, rlen) == APR_SUCCESS)
            return APR_SUCCESS;
        OAS_CTX_LOG(x, OAS_LOG_WARNING, 0,
                    OAS_LOGNO(06854) "client %s: the shared copy of its metadata document is "
                                     "refused (%s): fetching it",
                    url, why);
    }
    else if (cache_read(&rest, &rlen, &exp, st, x, REC_FAIL, url, OAS_CIMD_FAIL_MEMORY) ==
             APR_SUCCESS) {
        return oas_err(err, x->p, 401, "invalid_client", "client authentication failed",
                       OAS_LOG_INFO,
                       OAS_LOGNO(06855) "client %s: its metadata document failed (%s); no new "
                                        "attempt for %" APR_INT64_T_FMT " s",
                       url, rest, exp - x->now);
    }
    if (!claim_fetch(st, x, url)) {
        if ((rv = await_fetch(pc, &why, st, x, url)) == APR_SUCCESS)
            return APR_SUCCESS;
        if (rv != APR_EAGAIN || !claim_fetch(st, x, url)) {
            return oas_err(err, x->p, 401, "invalid_client", "client authentication failed",
                           OAS_LOG_INFO, OAS_LOGNO(06857) "client %s: no metadata document: %s",
                           url, why);
        }
    }
    rv = fetch_doc(pc, &why, st, x, url, fetch);
    if (st)
        oas_store_del(st, x->p, OAS_NS_CIMD, cache_key(x, REC_BUSY, url));
    if (rv != APR_SUCCESS) {
        return oas_err(err, x->p, 401, "invalid_client", "client authentication failed",
                       OAS_LOG_WARNING, OAS_LOGNO(06856) "client %s: no metadata document: %s", url,
                       why);
    }
    return APR_SUCCESS;
}
