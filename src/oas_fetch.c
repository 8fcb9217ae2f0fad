/* mod_oauth_as: bounded outbound https calls (see oas_fetch.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_uri.h>
#include <curl/curl.h>

#include "oas_fetch.h"

/* ---- the address policy ---- */

static int v4_is_internal(apr_uint32_t a) /* host byte order */
{
    static const struct {
        apr_uint32_t net, mask;
    } ranges[] = {
        {0x00000000, 0xff000000}, /* 0/8 "this network" */
        {0x0a000000, 0xff000000}, /* 10/8 RFC 1918 */
        {0x64400000, 0xffc00000}, /* 100.64/10 CGNAT (RFC 6598) */
        {0x7f000000, 0xff000000}, /* 127/8 loopback */
        {0xa9fe0000, 0xffff0000}, /* 169.254/16 link-local */
        {0xac100000, 0xfff00000}, /* 172.16/12 RFC 1918 */
        {0xc0000000, 0xffffff00}, /* 192.0.0/24 IETF protocol assignments */
        {0xc0000200, 0xffffff00}, /* 192.0.2/24 documentation */
        {0xc0a80000, 0xffff0000}, /* 192.168/16 RFC 1918 */
        {0xc6120000, 0xfffe0000}, /* 198.18/15 benchmarking */
        {0xc6336400, 0xffffff00}, /* 198.51.100/24 documentation */
        {0xcb007100, 0xffffff00}, /* 203.0.113/24 documentation */
        {0xe0000000, 0xf0000000}, /* 224/4 multicast */
        {0xf0000000, 0xf0000000}, /* 240/4 reserved, broadcast */
    };
    size_t i;

    for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        if ((a & ranges[i].mask) == ranges[i].net)
            return 1;
    }
    return 0;
}

static apr_uint32_t v4_at(const unsigned char *b)
{
    return ((apr_uint32_t)b[0] << 24) | ((apr_uint32_t)b[1] << 16) | ((apr_uint32_t)b[2] << 8) |
           b[3];
}

static int v6_is_internal(const unsigned char *b)
{
    static const unsigned char zero12[12] = {0};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};

    /* ::/96: ::, ::1 and the deprecated IPv4-compatible form, never a public peer */
    if (!memcmp(b, zero12, 12))
        return 1;
    /* an IPv4 address in IPv6 clothes is judged as that IPv4 address: ::ffff:a.b.c.d,
     * 64:ff9b::a.b.c.d (NAT64), 2002:a.b.c.d::/48 (6to4) */
    if (!memcmp(b, mapped, 12) || !memcmp(b, nat64, 12))
        return v4_is_internal(v4_at(b + 12));
    if (b[0] == 0x20 && b[1] == 0x02)
        return v4_is_internal(v4_at(b + 2));
    if ((b[0] & 0xfe) == 0xfc)
        return 1; /* fc00::/7 unique local */
    if (b[0] == 0xfe && (b[1] & 0x80) == 0x80)
        return 1; /* fe80::/10 link-local, fec0::/10 site-local */
    if (b[0] == 0xff)
        return 1; /* ff00::/8 multicast */
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
        return 1; /* 2001:db8::/32 documentation */
    return 0;
}

int oas_addr_is_internal(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return v4_is_internal(v4_at((const unsigned char *)&in->sin_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        return v6_is_internal(in6->sin6_addr.s6_addr);
    }
    return 1;
}

int oas_fetch_host_allowed(const apr_array_header_t *allow, const char *host)
{
    size_t hl = strlen(host);
    int i;

    for (i = 0; allow && i < allow->nelts; i++) {
        const char *a = APR_ARRAY_IDX(allow, i, const char *);
        size_t al = strlen(a);
        if (al >= 2 && a[0] == '[' && a[al - 1] == ']') {
            a++;
            al -= 2;
        }
        if (al == hl && !strncasecmp(a, host, hl))
            return 1;
    }
    return 0;
}

/* ---- the transfer ---- */

typedef struct {
    apr_pool_t *p;
    char *buf;
    apr_size_t len, cap, max;
    int too_large;
    int host_allowed;
    const char *refused; /* the last address refused by the policy */
    apr_int64_t max_age; /* the shortest lifetime of the Cache-Control headers, or -1 */
} fetch_state_t;

/* libcurl opens every socket through here, with the address it will connect to: the one
 * place where the outbound policy sees what is really dialled (after every DNS answer). */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
    fetch_state_t *st = clientp;
    char ip[64] = "?";

    if (purpose != CURLSOCKTYPE_IPCXN)
        return CURL_SOCKET_BAD;
    if (!st->host_allowed && oas_addr_is_internal(&address->addr)) {
        if (address->family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&address->addr)->sin_addr, ip, sizeof(ip));
        else if (address->family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&address->addr)->sin6_addr, ip,
                      sizeof(ip));
        st->refused = apr_pstrdup(st->p, ip);
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    fetch_state_t *st = userdata;
    apr_size_t n = size * nmemb;

    if (n > st->max - st->len) {
        st->too_large = 1;
        return 0; /* aborts the transfer */
    }
    if (st->len + n + 1 > st->cap) {
        apr_size_t cap = st->cap ? st->cap : 4096;
        char *nb;
        while (cap < st->len + n + 1)
            cap *= 2;
        if (cap > st->max + 1)
            cap = st->max + 1;
        nb = apr_palloc(st->p, cap);
        if (st->len)
            memcpy(nb, st->buf, st->len);
        st->buf = nb;
        st->cap = cap;
    }
    memcpy(st->buf + st->len, data, n);
    st->len += n;
    return n;
}

apr_int64_t oas_fetch_max_age(const char *v)
{
    apr_int64_t age = -1;
    const char *t = v;
    char *end;
    size_t n;

    while (t && *t) {
        t += strspn(t, " \t,");
        n = strcspn(t, " \t,=");
        if ((n == 8 && !strncasecmp(t, "no-store", 8)) ||
            (n == 8 && !strncasecmp(t, "no-cache", 8)))
            return 0;
        if (n == 7 && !strncasecmp(t, "max-age", 7) && t[7] == '=') {
            const char *d = t + 8 + (t[8] == '"');
            if (*d >= '0' && *d <= '9') {
                apr_int64_t a = apr_strtoi64(d, &end, 10);
                age = (a < 0 || a > 31536000) ? 31536000 : a; /* overflow: the cap */
            }
        }
        t += strcspn(t, ","); /* the next directive (a quoted comma is harmless here) */
    }
    return age;
}

/* libcurl hands every header line here: Cache-Control is kept (the shortest lifetime wins) */
static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    fetch_state_t *st = userdata;
    apr_size_t n = size * nmemb;
    apr_int64_t a;

    if (n > 14 && n < 1024 && !strncasecmp(data, "cache-control:", 14)) {
        char *v = apr_pstrmemdup(st->p, data + 14, n - 14);
        v[strcspn(v, "\r\n")] = '\0';
        a = oas_fetch_max_age(v);
        if (a >= 0 && (st->max_age < 0 || a < st->max_age))
            st->max_age = a;
    }
    return n;
}

/* application/json, or application/<anything>+json (jwk-set+json), parameters ignored */
static int is_json_type(const char *ct)
{
    size_t n;

    if (!ct)
        return 0;
    n = strcspn(ct, "; \t");
    if (n == 16 && !strncasecmp(ct, "application/json", 16))
        return 1;
    return n > 17 && !strncasecmp(ct, "application/", 12) && !strncasecmp(ct + n - 5, "+json", 5);
}

apr_status_t oas_fetch_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? APR_SUCCESS : APR_EGENERAL;
}

/* The transfer's progress, checked often by libcurl: a set cancel flag (a child exiting)
 * aborts it at once instead of waiting for its timeout. */
static int on_progress(void *clientp, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    const apr_uint32_t *cancel = clientp;

    return cancel && apr_atomic_read32((volatile apr_uint32_t *)cancel) ? 1 : 0;
}

/* One bounded https transfer under the outbound policy: its handle, its answer (st) and
 * what it was (a GET when form is NULL, else a POST of form). */
typedef struct {
    fetch_state_t st;
    CURL *h;
    char errbuf[CURL_ERROR_SIZE];
    const char *host;
    const char *form;
} xfer_t;

/* Sets up t for url (hdrs owned by the caller); else *perr and the status to return. */
static apr_status_t xfer_open(xfer_t *t, const char **perr, apr_pool_t *p, const char *url,
                              const oas_fetch_opts_t *o, struct curl_slist *hdrs, const char *form)
{
    apr_uri_t u;
    CURL *h;

    memset(t, 0, sizeof(*t));
    t->st.p = p;
    t->form = form;
    if (apr_uri_parse(p, url, &u) != APR_SUCCESS || !u.scheme || strcasecmp(u.scheme, "https") ||
        !u.hostname || !*u.hostname) {
        *perr = "not an https URL";
        return APR_EINVAL;
    }
    t->host = u.hostname;
    t->st.max = o->max_body ? o->max_body : OAS_FETCH_MAX_BODY;
    t->st.host_allowed = oas_fetch_host_allowed(o->allow, u.hostname);
    t->st.max_age = -1;
    if (!(t->h = h = curl_easy_init())) {
        *perr = "libcurl cannot make a handle";
        return APR_EGENERAL;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threaded MPMs: no SIGALRM for DNS timeouts */
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROXY, ""); /* no proxy from the environment */
    curl_easy_setopt(
        h, CURLOPT_CONNECTTIMEOUT_MS,
        (long)(o->connect_timeout_ms ? o->connect_timeout_ms : OAS_FETCH_CONNECT_TIMEOUT_MS));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                     (long)(o->timeout_ms ? o->timeout_ms : OAS_FETCH_TIMEOUT_MS));
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->st.max);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "mod_oauth_as/" OAS_VERSION);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &t->st);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t->st);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t->st);
    if (o->cancel) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)o->cancel);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    if (form) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
    }
    return APR_SUCCESS;
}

/* The end of t (cc: libcurl's verdict), its handle released. A GET succeeds only with 200
 * and a JSON type; a POST with any answer (*pstatus). Else *perr says why. */
static apr_status_t xfer_close(xfer_t *t, CURLcode cc, long *pstatus, const char **perr)
{
    apr_pool_t *p = t->st.p;
    char *ct = NULL;
    apr_status_t rv = APR_EGENERAL;

    *pstatus = 0;
    if (cc == CURLE_OK) {
        curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, pstatus);
        curl_easy_getinfo(t->h, CURLINFO_CONTENT_TYPE, &ct);
        rv = APR_SUCCESS;
    }
    else if (t->st.refused) {
        *perr = apr_psprintf(p,
                             "%s resolves to %s, outside the public internet (not named in "
                             "OAuthASOutboundAllow)",
                             t->host, t->st.refused);
        rv = APR_EACCES;
    }
    else if (t->st.too_large || cc == CURLE_FILESIZE_EXCEEDED)
        *perr = apr_psprintf(p, "%s: the document is larger than %" APR_SIZE_T_FMT " bytes",
                             t->host, t->st.max);
    else if (cc == CURLE_ABORTED_BY_CALLBACK)
        *perr = apr_psprintf(p, "%s: cancelled", t->host);
    else
        *perr = apr_psprintf(p, "%s: %s", t->host, *t->errbuf ? t->errbuf : curl_easy_strerror(cc));
    /* a GET is for a JSON document: 200 and a JSON type, or nothing */
    if (rv == APR_SUCCESS && !t->form && *pstatus != 200) {
        *perr = apr_psprintf(p, "%s answered HTTP status %ld", t->host, *pstatus);
        rv = APR_EGENERAL;
    }
    else if (rv == APR_SUCCESS && !t->form && !is_json_type(ct)) {
        *perr = apr_psprintf(p, "%s answered a content type that is not JSON (%.64s)", t->host,
                             ct ? ct : "none");
        rv = APR_EGENERAL;
    }
    curl_easy_cleanup(t->h);
    t->h = NULL;
    return rv;
}

apr_status_t oas_fetch_json(char **pbody, apr_size_t *plen, const char **perr, apr_pool_t *p,
                            const char *url, const oas_fetch_opts_t *o)
{
    struct curl_slist *hdrs = NULL;
    xfer_t t;
    long status;
    apr_status_t rv;

    *pbody = NULL;
    *plen = 0;
    hdrs = curl_slist_append(hdrs, "Accept: application/jwk-set+json, application/json");
    rv = xfer_open(&t, perr, p, url, o, hdrs, NULL);
    if (rv == APR_SUCCESS)
        rv = xfer_close(&t, curl_easy_perform(t.h), &status, perr);
    curl_slist_free_all(hdrs);
    if (rv != APR_SUCCESS)
        return rv;
    *pbody = t.st.len ? t.st.buf : apr_pstrdup(p, "");
    (*pbody)[t.st.len] = '\0';
    *plen = t.st.len;
    if (o->max_age)
        *o->max_age = t.st.max_age;
    return APR_SUCCESS;
}

static struct curl_slist *form_headers(void)
{
    struct curl_slist *hdrs = NULL;

    hdrs = curl_slist_append(hdrs, "Content-Type: application/x-www-form-urlencoded");
    return curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
}

/* A post under way in a stream, in its own pool. */
typedef struct {
    xfer_t t;
    oas_fetch_post_t *post;
    apr_pool_t *p;
} flight_t;

/* Starts the posts s has for now (up to max under way); 0 when it had none. */
static int take_posts(CURLM *m, const oas_fetch_stream_t *s, struct curl_slist *hdrs, apr_pool_t *p,
                      flight_t **flights, int *running)
{
    int took = 0, i;
    long status;

    while (*running < OAS_FETCH_STREAM_MAX) {
        apr_pool_t *fp;
        oas_fetch_post_t *post;
        flight_t *f;

        apr_pool_create(&fp, p);
        if (!(post = s->next(s->baton, fp))) {
            apr_pool_destroy(fp);
            break;
        }
        took = 1;
        f = apr_pcalloc(fp, sizeof(*f));
        f->post = post;
        f->p = fp;
        post->status = 0;
        post->err = NULL;
        post->rv = xfer_open(&f->t, &post->err, fp, post->url, post->o, hdrs, post->form);
        if (post->rv == APR_SUCCESS && curl_multi_add_handle(m, f->t.h) != CURLM_OK)
            post->rv = xfer_close(&f->t, CURLE_FAILED_INIT, &status, &post->err);
        if (post->rv != APR_SUCCESS) {
            s->ended(s->baton, post);
            apr_pool_destroy(fp);
            continue;
        }
        for (i = 0; flights[i]; i++)
            ;
        flights[i] = f;
        (*running)++;
    }
    return took;
}

void oas_fetch_post_stream(const oas_fetch_stream_t *s, apr_pool_t *p)
{
    flight_t *flights[OAS_FETCH_STREAM_MAX + 1] = {NULL};
    struct curl_slist *hdrs = form_headers();
    CURLM *m = curl_multi_init();
    CURLMsg *msg;
    long status;
    int running = 0, active, left, i;

    if (!m) {
        curl_slist_free_all(hdrs);
        return;
    }
    /* every post at once, in this thread: one that hangs holds up none of the others (each
     * ends by its own answer, its timeout or its cancel flag); new posts join at once */
    for (;;) {
        take_posts(m, s, hdrs, p, flights, &running);
        if (!running)
            break;
        if (curl_multi_perform(m, &active) != CURLM_OK)
            break;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            for (i = 0; flights[i] && flights[i]->t.h != msg->easy_handle; i++)
                ;
            if (!flights[i])
                continue;
            curl_multi_remove_handle(m, flights[i]->t.h);
            flights[i]->post->rv =
                xfer_close(&flights[i]->t, msg->data.result, &status, &flights[i]->post->err);
            flights[i]->post->status = (int)status;
            s->ended(s->baton, flights[i]->post);
            apr_pool_destroy(flights[i]->p);
            running--;
            for (; flights[i]; i++) /* closes the gap */
                flights[i] = flights[i + 1];
        }
        if (running)
            curl_multi_poll(m, NULL, 0, OAS_FETCH_STREAM_POLL_MS, NULL);
    }
    for (i = 0; flights[i]; i++) { /* the multi handle failed under them */
        curl_multi_remove_handle(m, flights[i]->t.h);
        flights[i]->post->rv =
            xfer_close(&flights[i]->t, CURLE_FAILED_INIT, &status, &flights[i]->post->err);
        s->ended(s->baton, flights[i]->post);
        apr_pool_destroy(flights[i]->p);
    }
    curl_multi_cleanup(m);
    curl_slist_free_all(hdrs);
}
