/* bench/driver.c: closed-loop load driver for complete OAuth flows over loopback.
 *
 *   PAR flow : POST par  -> 201 {"request_uri"}         (client_secret_basic)
 *              GET  authorize?client_id&request_uri -> 302 Location with code= and state=
 *              POST token (authorization_code, PKCE S256) -> 200 access_token + id_token
 *   code flow: GET  authorize?<all parameters>       -> 302 code + state
 *              POST token                            -> 200 access_token + id_token
 *   mixed    : PAR and code flows alternately.
 *   par_pkjwt: the PAR flow with private_key_jwt (RFC 7523) instead of client_secret_basic at
 *              PAR, token (and refresh): a fresh ES256 client assertion per request (iss = sub =
 *              --client-id, aud = --audience (the issuer identifier), a unique jti, iat, exp =
 *              iat + 60) signed with --client-key (an EC P-256 PEM key), header kid
 *              --client-kid.  Signing costs the driver CPU, reported apart from the server's.
 *   par_dpop : the PAR flow (client_secret_basic) with a fresh DPoP proof (RFC 9449) at PAR,
 *              token (and refresh): ES256, one key per connection made at start-up, header
 *              {"typ":"dpop+jwt","alg":"ES256","jwk":…} precomputed, claims jti (random per
 *              run + connection + counter), htm POST, htu = the endpoint's URL (scheme, host
 *              and port as connected, then the path: what the server derives from its issuer),
 *              iat now.  The token answer must say "token_type":"DPoP".
 *   par_mtls : the PAR flow with mutual TLS client authentication (RFC 8705 tls_client_auth):
 *              TLS connections presenting --client-cert / --client-key (PEM), client_id in the
 *              form and no secret at PAR, token (and refresh).  A connection re-opened resumes
 *              its last TLS session (SSL_SESSION kept per connection), as real clients do.  The
 *              access token (a JWT) must carry cnf.x5t#S256: bound to the certificate.
 *   fapi     : the FAPI 2.0 flow (private_key_jwt and DPoP together, as par_pkjwt and par_dpop):
 *              PAR with a fresh client assertion and a DPoP proof, GET authorize with the
 *              request_uri (302 or 303), the token request with a fresh assertion and proof
 *              (token_type must be DPoP), then GET --userinfo-path with "Authorization: DPoP
 *              <access token>" and a proof for GET with ath (SHA-256 of the token) -> 200.
 *   rs       : a resource request, not a flow: GET --rs-path with "Authorization: Bearer <token>"
 *              (--token, or --token-file: obtained once by bench/run) -> 200; anything else is a
 *              failure (step "resource"), the connection kept.  flows_per_s is requests/s.
 *              --revoke-after S: S s into the measured interval one more connection POSTs the
 *              token to --revoke-path (client_secret_basic, --client-id/--client-secret), and
 *              from the moment its 200 is read, counts what the server still accepts: the very
 *              next request on that connection, then requests in a row on it until the first
 *              refusal, and every connection's requests sent after that moment ("revocation"
 *              in the output).
 *   par_public: the PAR flow of a public client (token_endpoint_auth_method none): client_id in
 *              the form and no credentials at PAR and token (a configured public client, or
 *              one whose --client-id is its Client ID Metadata Document's https URL).
 *   register : a registration request, not a flow: POST --reg-path with an RFC 7591 JSON body
 *              (a public client: client_name, redirect_uris [--redirect-uri], grant_types
 *              authorization_code, response_types code, token_endpoint_auth_method none,
 *              scope --scope) -> 201 with a client_id; anything else is a failure (step
 *              "register"), the connection kept.  flows_per_s is registrations/s.
 *   --refreshes N: after the token, N refresh_token grants with the refresh token it got
 *              (the latest one when the server rotates) -> 200 access_token each.
 *   --rate R : at most R flows/s in all (each connection paced at R/conns), else closed loop.
 *   --progress S: every S seconds one JSON line on stdout with running totals (flows, and
 *              failures by step and HTTP status, 0 = i/o), for soak runs; the summary is last.
 *
 * N connections on N threads (blocking sockets, HTTP/1.1 keep-alive, one flow at a time per
 * connection so a whole flow stays on one connection: node:cluster's per-worker memory store
 * depends on that).  Optional TLS (OpenSSL, no verification: loopback benchmark).  PKCE pairs
 * are precomputed.  Fixed duration after a warm-up.  Output: one JSON object on stdout.
 *
 * Server CPU: utime+stime of --server-pid and all its descendants, from /proc, read at the
 * start and end of the measured interval.  Driver CPU: getrusage(RUSAGE_SELF).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---------------- options ---------------- */
static struct {
    const char *host;
    int port, conns, tls;
    double duration, warmup;
    long flows_limit;          /* stop after this many flows in total (callgrind), 0 = none */
    int flow_par;              /* 1 = PAR flow, 0 = plain code flow, 2 = parfill, 3 = mixed */
    int pkjwt;                 /* client authentication by private_key_jwt (--flow par_pkjwt) */
    int dpop;                  /* a DPoP proof at PAR, token, refresh (--flow par_dpop) */
    int mtls;                  /* tls_client_auth with --client-cert (--flow par_mtls) */
    int fapi;                  /* pkjwt + dpop, then userinfo with a bound token (--flow fapi) */
    int rs;                    /* resource requests with a bearer token (--flow rs) */
    int public_client;         /* no client authentication, client_id in the form (par_public) */
    int reg;                   /* registration requests (--flow register) */
    const char *reg_path;      /* --flow register: the registration endpoint */
    const char *rs_path, *token, *revoke_path;   /* --flow rs: the resource, its token */
    double revoke_after;       /* --flow rs: revoke the token this many s into the measurement */
    const char *client_cert;   /* its certificate (PEM; the key is --client-key) */
    const char *client_key, *client_kid, *audience;   /* its key, kid and the assertion's aud */
    int refreshes;             /* refresh_token grants per flow */
    double rate;               /* flows/s in all, 0 = closed loop */
    double progress;           /* seconds between progress lines, 0 = none */
    const char *par_path, *auth_path, *token_path, *userinfo_path;
    const char *client_id, *client_secret, *redirect_uri, *scope, *resource;
    const char *user, *password;   /* HTTP Basic on GET authorize (ours) */
    const char *cookie;            /* Cookie on GET authorize (oidc-provider's session) */
    int server_pid;
    const char *label;
    int verbose;
} opt = {
    .host = "127.0.0.1", .port = 8080, .conns = 8, .duration = 10, .warmup = 1,
    .flow_par = 1, .par_path = "/oauth/par", .auth_path = "/authorize",
    .token_path = "/oauth/token", .userinfo_path = "/userinfo", .rs_path = "/api/hello.txt",
    .revoke_path = "/oauth/revoke", .reg_path = "/register", .client_id = "bench",
    .client_secret = "bench-secret",
    .redirect_uri = "https://rp.bench.test/cb", .scope = "openid", .resource = NULL,
    .user = "benchuser", .password = "benchpass", .label = "",
};

/* ---------------- latency histogram: log-linear, microseconds ---------------- */
#define SUB 64                       /* sub-buckets per power of two */
#define NPOW 26                      /* up to 2^26 us = 67 s */
#define NBUCKET (SUB * NPOW)
typedef struct { uint32_t b[NBUCKET]; uint64_t n; } hist_t;

static int bucket_of(uint64_t us)
{
    if (us < SUB) return (int)us;
    int p = 63 - __builtin_clzll(us);          /* >= 6 */
    int shift = p - 6;
    int idx = (p - 5) * SUB + (int)((us >> shift) - SUB);
    return idx >= NBUCKET ? NBUCKET - 1 : idx;
}
static double bucket_value(int idx)
{
    if (idx < SUB) return idx;
    int p = idx / SUB + 5, sub = idx % SUB;
    int shift = p - 6;
    return (double)(((uint64_t)(SUB + sub) << shift) + ((1ull << shift) / 2));
}
static void hist_add(hist_t *h, uint64_t us) { h->b[bucket_of(us)]++; h->n++; }
static void hist_merge(hist_t *d, const hist_t *s)
{
    for (int i = 0; i < NBUCKET; i++) d->b[i] += s->b[i];
    d->n += s->n;
}
static double hist_pct(const hist_t *h, double q)
{
    if (!h->n) return 0;
    uint64_t want = (uint64_t)(q * (double)h->n + 0.5), acc = 0;
    if (want < 1) want = 1;
    for (int i = 0; i < NBUCKET; i++) {
        acc += h->b[i];
        if (acc >= want) return bucket_value(i);
    }
    return bucket_value(NBUCKET - 1);
}

/* ---------------- per-thread state ---------------- */
enum { ST_PAR, ST_AUTH, ST_TOKEN, ST_REFRESH, ST_USERINFO, ST_RESOURCE, ST_REGISTER, ST_FLOW,
       NSTEP };
static const char *step_name[NSTEP] = {"par", "authorize", "token", "refresh", "userinfo",
                                       "resource", "register", "flow"};
#define NSTATUS 600                  /* failures by step and HTTP status (0: i/o) */

#define NPKCE 64
typedef struct {
    int id, fd;
    SSL *ssl;
    SSL_SESSION *sess;                   /* the last TLS session, resumed on a re-open */
    uint64_t resumed, handshakes;        /* TLS handshakes, how many of them resumed */
    char verifier[NPKCE][44], challenge[NPKCE][44];
    char *buf; size_t cap, len, off;     /* receive buffer */
    char *body; size_t body_len;        /* last response body (points into buf) */
    char location[2048];
    int status, conn_close;
    uint64_t flows_ok, fail[NSTEP - 1], reconnects;
    uint64_t jti_n;                      /* client assertions made by this connection */
    EVP_PKEY *dpop_key;                  /* par_dpop: this connection's proof key */
    char dpop_hdr[320];                  /* base64url of its proofs' JOSE header (with jwk) */
    uint64_t dpop_n;                     /* proofs made by this connection */
    _Atomic uint64_t all_ok;             /* every flow, warm-up included (progress lines) */
    _Atomic uint32_t fail_status[NSTEP - 1][NSTATUS];
    hist_t h[NSTEP];
    char first_error[256];
    /* --revoke-after: requests sent after the revocation's 200 was read, accepted / refused;
     * the first refusal's answer, in us after that moment (0: none) */
    uint64_t ok_after, refused_after, first_refusal_us;
} worker_t;

static SSL_CTX *ssl_ctx;
static EVP_PKEY *client_pkey;            /* --client-key (par_pkjwt) */
static char assert_hdr[256];             /* base64url of the assertion's fixed JOSE header */
static char jti_prefix[16];              /* random per run: jtis stay unique across runs */
static char htu_origin[128];             /* par_dpop: scheme://host:port of the endpoints */
static struct sockaddr_in addr;
static char client_basic[512], user_basic[512];
static atomic_int phase;                 /* 0 warm-up, 1 measuring, 2 stop */
static _Atomic uint64_t revoked_at;      /* now_us() when the revocation's 200 was read */
static atomic_long flows_total;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

#define B64URL "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
static void b64(const unsigned char *in, size_t n, char *out, int url)
{
    static const char *std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *t = url ? B64URL : std;
    size_t i, o = 0;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = t[v >> 18]; out[o++] = t[(v >> 12) & 63];
        out[o++] = t[(v >> 6) & 63]; out[o++] = t[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = t[v >> 18]; out[o++] = t[(v >> 12) & 63];
        if (i + 1 < n) out[o++] = t[(v >> 6) & 63];
        else if (!url) out[o++] = '=';
        if (!url) out[o++] = '=';
    }
    out[o] = 0;
}

/* percent-encode everything but unreserved characters */
static size_t pct(const char *in, char *out)
{
    static const char *hx = "0123456789ABCDEF";
    size_t o = 0;
    for (; *in; in++) {
        unsigned char c = (unsigned char)*in;
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') out[o++] = (char)c;
        else { out[o++] = '%'; out[o++] = hx[c >> 4]; out[o++] = hx[c & 15]; }
    }
    out[o] = 0;
    return o;
}

/* ---------------- connection I/O ---------------- */
static void conn_close(worker_t *w)
{
    if (w->ssl) {
        /* keep the session for the next connection (TLS 1.3: its ticket came after the
         * handshake, with the first answers); marked as shut down, or SSL_free would make it
         * unresumable (no close_notify sent: the server may have closed already) */
        SSL_set_shutdown(w->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        SSL_SESSION *s = SSL_get1_session(w->ssl);
        if (s && SSL_SESSION_is_resumable(s)) { SSL_SESSION_free(w->sess); w->sess = s; }
        else SSL_SESSION_free(s);
        SSL_free(w->ssl); w->ssl = NULL;
    }
    if (w->fd >= 0) { close(w->fd); w->fd = -1; }
    w->len = w->off = 0;
}

static int conn_open(worker_t *w)
{
    conn_close(w);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0) return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) { close(fd); return -1; }
    w->fd = fd;
    if (opt.tls) {
        w->ssl = SSL_new(ssl_ctx);
        SSL_set_fd(w->ssl, fd);
        SSL_set_tlsext_host_name(w->ssl, "localhost");
        if (w->sess) SSL_set_session(w->ssl, w->sess);
        if (SSL_connect(w->ssl) != 1) { conn_close(w); return -1; }
        w->handshakes++;
        w->resumed += SSL_session_reused(w->ssl) == 1;
    }
    return 0;
}

static int io_write(worker_t *w, const char *p, size_t n)
{
    while (n) {
        ssize_t k = w->ssl ? SSL_write(w->ssl, p, (int)n) : write(w->fd, p, n);
        if (k <= 0) { if (!w->ssl && k < 0 && errno == EINTR) continue; return -1; }
        p += k; n -= (size_t)k;
    }
    return 0;
}

static ssize_t io_read(worker_t *w)
{
    if (w->cap - w->len < 16384) {
        w->cap = w->cap * 2 + 65536;
        w->buf = realloc(w->buf, w->cap);
    }
    for (;;) {
        ssize_t k = w->ssl ? SSL_read(w->ssl, w->buf + w->len, (int)(w->cap - w->len - 1))
                           : read(w->fd, w->buf + w->len, w->cap - w->len - 1);
        if (k < 0 && !w->ssl && errno == EINTR) continue;
        if (k > 0) { w->len += (size_t)k; w->buf[w->len] = 0; }
        return k;
    }
}

static const char *hdr_find(const char *h, const char *end, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = h; p && p < end; ) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol) break;
        if ((size_t)(eol - p) > nl && p[nl] == ':' && !strncasecmp(p, name, nl)) {
            p += nl + 1;
            while (*p == ' ' || *p == '\t') p++;
            return p;
        }
        p = eol + 2;
    }
    return NULL;
}

/* Read one response; leaves status, body, location.  Keeps pipelined leftovers (none). */
static int read_response(worker_t *w)
{
    /* drop the previous response */
    if (w->off) {
        memmove(w->buf, w->buf + w->off, w->len - w->off);
        w->len -= w->off; w->off = 0;
        if (w->buf) w->buf[w->len] = 0;
    }
    char *he;
    while (!w->buf || !(he = memmem(w->buf, w->len, "\r\n\r\n", 4)))
        if (io_read(w) <= 0) return -1;
    size_t hlen = (size_t)(he - w->buf) + 4;
    if (w->len < 12 || strncmp(w->buf, "HTTP/1.", 7)) return -1;
    w->status = atoi(w->buf + 9);
    const char *hend = w->buf + hlen;
    const char *v = hdr_find(w->buf, hend, "Connection");
    w->conn_close = v && !strncasecmp(v, "close", 5);
    w->location[0] = 0;
    if ((v = hdr_find(w->buf, hend, "Location"))) {
        const char *e = strstr(v, "\r\n");
        size_t n = (size_t)(e - v);
        if (n >= sizeof w->location) n = sizeof w->location - 1;
        memcpy(w->location, v, n); w->location[n] = 0;
    }
    const char *cl = hdr_find(w->buf, hend, "Content-Length");
    const char *te = hdr_find(w->buf, hend, "Transfer-Encoding");
    if (te && !strncasecmp(te, "chunked", 7)) {
        /* de-chunk in place after the headers */
        size_t rd = hlen, wr = hlen;
        for (;;) {
            char *crlf;
            while (!(crlf = memmem(w->buf + rd, w->len - rd, "\r\n", 2)))
                if (io_read(w) <= 0) return -1;
            size_t csz = strtoul(w->buf + rd, NULL, 16);
            size_t data = (size_t)(crlf - w->buf) + 2;
            while (w->len < data + csz + 2)
                if (io_read(w) <= 0) return -1;
            if (csz == 0) {      /* no trailers expected */
                w->body = w->buf + hlen; w->body_len = wr - hlen;
                w->off = data + 2;
                return 0;
            }
            memmove(w->buf + wr, w->buf + data, csz);
            wr += csz; rd = data + csz + 2;
        }
    }
    size_t blen = cl ? strtoul(cl, NULL, 10) : 0;
    while (w->len < hlen + blen)
        if (io_read(w) <= 0) return -1;
    w->body = w->buf + hlen; w->body_len = blen;
    w->off = hlen + blen;
    /* NUL-terminate the body for strstr (the byte after is ours to clobber only if no
     * pipelined data follows, which is the case: one request at a time) */
    w->buf[hlen + blen] = 0;
    return 0;
}

static int exchange(worker_t *w, const char *req, size_t n)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (w->fd < 0 && conn_open(w) < 0) return -1;
        if (io_write(w, req, n) == 0 && read_response(w) == 0) {
            if (w->conn_close) conn_close(w);
            return 0;
        }
        /* a kept-alive connection closed by the server between requests: retry once, but only
         * if nothing was received (the request may not have been processed) */
        conn_close(w);
        w->reconnects++;
    }
    return -1;
}

/* copy the query parameter `name` of a URL into out */
static int url_param(const char *url, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    const char *q = strchr(url, '?');
    for (const char *p = q; p; p = strchr(p + 1, '&')) {
        if (!strncmp(p + 1, name, nl) && p[1 + nl] == '=') {
            const char *s = p + 2 + nl, *e = s + strcspn(s, "&#");
            if ((size_t)(e - s) >= cap) return -1;
            memcpy(out, s, (size_t)(e - s)); out[e - s] = 0;
            return 0;
        }
    }
    return -1;
}

/* value of a JSON string member (no escapes expected in the values we need) */
static int json_str(const char *body, const char *name, char *out, size_t cap)
{
    char key[64];
    snprintf(key, sizeof key, "\"%s\"", name);
    const char *p = strstr(body, key);
    if (!p) return -1;
    p += strlen(key);
    while (*p == ' ' || *p == ':') p++;
    if (*p != '"') return -1;
    const char *e = strchr(++p, '"');
    if (!e || (size_t)(e - p) >= cap) return -1;
    memcpy(out, p, (size_t)(e - p)); out[e - p] = 0;
    return 0;
}

static void count_status(worker_t *w, int step, int status)
{
    if (status < 0 || status >= NSTATUS) status = 0;
    atomic_fetch_add_explicit(&w->fail_status[step][status], 1, memory_order_relaxed);
}

static void fail(worker_t *w, int step, const char *what)
{
    if (atomic_load(&phase) == 1) w->fail[step]++;
    count_status(w, step, strcmp(what, "i/o") ? w->status : 0);
    if (!w->first_error[0]) {
        int n = (int)(w->body_len < 120 ? w->body_len : 120);
        snprintf(w->first_error, sizeof w->first_error, "%s: %s (status %d) %.*s",
                 step_name[step], what, w->status, n, w->body ? w->body : "");
        for (char *c = w->first_error; *c; c++) if (*c == '\n' || *c == '"') *c = ' ';
    }
    if (opt.verbose) fprintf(stderr, "conn %d: %s\n", w->id, w->first_error);
}

static const char *hostname;
static char redirect_enc[512], scope_enc[256], resource_enc[512], client_enc[256];

/* ES256 over out[0..k) with key: the signature's DER converted to JOSE's r||s, appended to
 * out as ".<base64url>" (out must have room for 88 more bytes).  0, or -1 when signing fails. */
static int es256_append(EVP_PKEY *key, char *out, size_t k)
{
    unsigned char der[80], raw[64];
    size_t dlen = sizeof der;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestSign(md, der, &dlen, (const unsigned char *)out, k) == 1;
    EVP_MD_CTX_free(md);
    if (!ok) return -1;
    const unsigned char *dp = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &dp, (long)dlen);
    if (!sig) return -1;
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(sig, &r, &s);
    ok = BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(s, raw + 32, 32) == 32;
    ECDSA_SIG_free(sig);
    if (!ok) return -1;
    out[k] = '.';
    b64(raw, sizeof raw, out + k + 1, 1);
    return 0;
}

/* A client assertion (RFC 7523 §3) into out: ES256 over header.payload with --client-key.
 * 0, or -1 when it does not fit or signing fails. */
static int make_assertion(worker_t *w, char *out, size_t cap)
{
    char payload[768], pb64[1100];
    long long now = (long long)time(NULL);
    int n = snprintf(payload, sizeof payload,
                     "{\"iss\":\"%s\",\"sub\":\"%s\",\"aud\":\"%s\",\"jti\":\"%s.%d.%llu\","
                     "\"iat\":%lld,\"exp\":%lld}", opt.client_id, opt.client_id, opt.audience,
                     jti_prefix, w->id, (unsigned long long)++w->jti_n, now, now + 60);
    if (n < 0 || (size_t)n >= sizeof payload) return -1;
    b64((const unsigned char *)payload, (size_t)n, pb64, 1);
    int k = snprintf(out, cap, "%s.%s", assert_hdr, pb64);
    if (k < 0 || (size_t)k + 90 >= cap) return -1;
    return es256_append(client_pkey, out, (size_t)k);
}

/* par_dpop: this connection's proof key (P-256) and the base64url of the proofs' JOSE header,
 * {"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":…,"y":…}}. */
static int dpop_key_init(worker_t *w)
{
    unsigned char pub[65];
    char x[48], y[48], hdr[256];
    w->dpop_key = EVP_EC_gen("P-256");
    if (!w->dpop_key ||
        EVP_PKEY_get_octet_string_param(w->dpop_key, "encoded-pub-key", pub, sizeof pub,
                                        NULL) != 1 || pub[0] != 4)
        return -1;
    b64(pub + 1, 32, x, 1);
    b64(pub + 33, 32, y, 1);
    int n = snprintf(hdr, sizeof hdr, "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":{"
                     "\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}}", x, y);
    if (n < 0 || (size_t)n >= sizeof hdr) return -1;
    b64((const unsigned char *)hdr, (size_t)n, w->dpop_hdr, 1);
    return 0;
}

/* A "DPoP: <proof>\r\n" header line for a request of method htm to path into out ("" without
 * par_dpop); ath: the access token's hash (base64url) for a resource request, or NULL.  Its jti
 * differs from every client assertion's ("d" before the connection's number): oidc-provider
 * keeps both kinds in one replay cache. */
static int dpop_header(worker_t *w, const char *htm, const char *path, const char *ath,
                       char *out, size_t cap)
{
    char payload[448], pb64[600];
    out[0] = 0;
    if (!opt.dpop) return 0;
    int n = snprintf(payload, sizeof payload,
                     "{\"jti\":\"%s.d%d.%llu\",\"htm\":\"%s\",\"htu\":\"%s%s\",\"iat\":%lld%s%s%s}",
                     jti_prefix, w->id, (unsigned long long)++w->dpop_n, htm, htu_origin, path,
                     (long long)time(NULL), ath ? ",\"ath\":\"" : "", ath ? ath : "",
                     ath ? "\"" : "");
    if (n < 0 || (size_t)n >= sizeof payload) return -1;
    b64((const unsigned char *)payload, (size_t)n, pb64, 1);
    int k = snprintf(out, cap, "DPoP: %s.%s", w->dpop_hdr, pb64);
    if (k < 0 || (size_t)k + 92 >= cap) return -1;
    if (es256_append(w->dpop_key, out + 6, (size_t)k - 6) < 0) return -1;
    strcat(out, "\r\n");
    return 0;
}

/* the token answer's token_type is DPoP (par_dpop), or there is nothing to check */
static int dpop_bound(worker_t *w)
{
    char tt[16];
    return !opt.dpop || (json_str(w->body, "token_type", tt, sizeof tt) == 0 &&
                         !strcmp(tt, "DPoP"));
}

/* par_mtls: the access token of the token answer is a JWT whose payload has cnf.x5t#S256 (the
 * certificate's thumbprint; not compared: the server saw the certificate, the driver trusts
 * it to hash it right), or there is nothing to check */
static int mtls_bound(worker_t *w)
{
    char at[4096];
    unsigned char pl[3072];
    if (!opt.mtls) return 1;
    if (json_str(w->body, "access_token", at, sizeof at) < 0) return 0;
    char *d1 = strchr(at, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d2) return 0;
    size_t o = 0;
    unsigned v = 0;
    int bits = 0;
    for (const char *c = d1 + 1; c < d2 && o < sizeof pl - 1; c++) {
        const char *t = strchr(B64URL, *c);
        if (!t || !*c) return 0;
        v = (v << 6) | (unsigned)(t - B64URL);
        if ((bits += 6) >= 8) { bits -= 8; pl[o++] = (unsigned char)(v >> bits); }
    }
    pl[o] = 0;
    const char *cnf = strstr((char *)pl, "\"cnf\"");
    return cnf && strstr(cnf, "\"x5t#S256\"");
}

/* The client's authentication of one POST (par, token, refresh): an Authorization header line
 * (client_secret_basic), or form parameters to append to the body (private_key_jwt; with_id:
 * client_id too, which the PAR body carries anyway; tls_client_auth: client_id alone, the
 * certificate did the rest).  -1 when no assertion could be made. */
static int client_auth(worker_t *w, int with_id, char *hdr, size_t hcap, char *form, size_t fcap)
{
    if (opt.mtls || opt.public_client) {
        hdr[0] = 0;
        snprintf(form, fcap, "%s%s", with_id ? "&client_id=" : "", with_id ? client_enc : "");
        return 0;
    }
    if (!opt.pkjwt) {
        snprintf(hdr, hcap, "Authorization: Basic %s\r\n", client_basic);
        form[0] = 0;
        return 0;
    }
    char a[1536];
    if (make_assertion(w, a, sizeof a) < 0) return -1;
    hdr[0] = 0;
    int n = snprintf(form, fcap, "%s%s&client_assertion_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3A"
                     "client-assertion-type%%3Ajwt-bearer&client_assertion=%s",
                     with_id ? "&client_id=" : "", with_id ? client_enc : "", a);
    return n < 0 || (size_t)n >= fcap ? -1 : 0;
}

/* fapi: GET userinfo with the token answer's access token (DPoP scheme) and a proof with its
 * ath; the answer must be 200.  req and dpop: the caller's buffers.  0, or -1 (failure
 * counted). */
static int userinfo(worker_t *w, char *req, size_t rcap, char *dpop, size_t dcap)
{
    char at[4096], ath[48];
    unsigned char h[32];
    if (json_str(w->body, "access_token", at, sizeof at) < 0) {
        fail(w, ST_TOKEN, "no access_token"); return -1;
    }
    EVP_Digest(at, strlen(at), h, NULL, EVP_sha256(), NULL);
    b64(h, sizeof h, ath, 1);
    if (dpop_header(w, "GET", opt.userinfo_path, ath, dpop, dcap) < 0) {
        fail(w, ST_USERINFO, "DPoP proof not made"); return -1;
    }
    int n = snprintf(req, rcap, "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: DPoP %s\r\n%s\r\n",
                     opt.userinfo_path, hostname, at, dpop);
    if (n < 0 || (size_t)n >= rcap) { fail(w, ST_USERINFO, "request too long"); return -1; }
    if (exchange(w, req, (size_t)n) < 0) { fail(w, ST_USERINFO, "i/o"); return -1; }
    if (w->status != 200) { fail(w, ST_USERINFO, "status"); return -1; }
    if (!strstr(w->body, "\"sub\"")) { fail(w, ST_USERINFO, "no sub"); return -1; }
    return 0;
}

/* A request that is the whole "flow" (rs, register) succeeded after us microseconds: counted
 * as its step and as a flow (in the measured interval), and in the progress total. */
static void request_done(worker_t *w, int step, int measuring, uint64_t us)
{
    if (measuring) {
        hist_add(&w->h[step], us);
        hist_add(&w->h[ST_FLOW], us);
        w->flows_ok++;
    }
    atomic_fetch_add_explicit(&w->all_ok, 1, memory_order_relaxed);
}

/* --flow rs: one GET of the resource with the bearer token; 0 when an answer came (counted:
 * 200 a success, anything else a failure), -1 on i/o.  *pstatus: the answer's status. */
static int rs_request(worker_t *w, int *pstatus)
{
    char req[8192];
    int measuring = atomic_load(&phase) == 1;
    uint64_t t0 = now_us(), m;
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\n"
                     "Authorization: Bearer %s\r\n\r\n", opt.rs_path, hostname, opt.token);
    *pstatus = 0;
    if (n < 0 || (size_t)n >= sizeof req) { fail(w, ST_RESOURCE, "request too long"); return -1; }
    if (exchange(w, req, (size_t)n) < 0) { fail(w, ST_RESOURCE, "i/o"); return -1; }
    uint64_t t1 = now_us();
    *pstatus = w->status;
    if ((m = atomic_load(&revoked_at)) && t0 >= m) {     /* sent after the revocation */
        if (w->status == 200) w->ok_after++;
        else if (!w->refused_after++) w->first_refusal_us = t1 - m;
    }
    if (w->status != 200) { fail(w, ST_RESOURCE, "status"); return 0; }
    request_done(w, ST_RESOURCE, measuring, t1 - t0);
    return 0;
}

/* --flow register: one RFC 7591 registration of a public client; 0 when an answer came
 * (counted: 201 with a client_id a success, anything else a failure), -1 on i/o. */
static int register_request(worker_t *w)
{
    char req[4096], body[1024];
    int measuring = atomic_load(&phase) == 1;
    uint64_t t0 = now_us();
    int bl = snprintf(body, sizeof body,
                      "{\"client_name\":\"bench agent %d\",\"redirect_uris\":[\"%s\"],"
                      "\"grant_types\":[\"authorization_code\"],\"response_types\":[\"code\"],"
                      "\"token_endpoint_auth_method\":\"none\",\"scope\":\"%s\"}",
                      w->id, opt.redirect_uri, opt.scope);
    int n = snprintf(req, sizeof req,
                     "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %d\r\n\r\n%s", opt.reg_path, hostname, bl, body);
    if (bl < 0 || (size_t)bl >= sizeof body || n < 0 || (size_t)n >= sizeof req) {
        fail(w, ST_REGISTER, "request too long"); return -1;
    }
    if (exchange(w, req, (size_t)n) < 0) { fail(w, ST_REGISTER, "i/o"); return -1; }
    uint64_t t1 = now_us();
    if (w->status != 201) { fail(w, ST_REGISTER, "status"); return 0; }
    if (!strstr(w->body, "\"client_id\"")) { fail(w, ST_REGISTER, "no client_id"); return 0; }
    request_done(w, ST_REGISTER, measuring, t1 - t0);
    return 0;
}

/* --revoke-after: what the revoking connection saw */
static struct {
    int revoke_status, next_status;      /* the revocation's answer, the next request's */
    uint64_t at_us;                      /* into the measured interval */
    uint64_t seq_ok;                     /* 200s in a row after it, before the first refusal */
    uint64_t seq_us;                     /* from the revocation's 200 to the first refusal (or
                                          * to the end, when none came) */
    int refused;                         /* a refusal came on this connection */
} rev;

static void *revoker_main(void *arg)
{
    worker_t *w = arg;
    char req[8192], body[6144];
    while (atomic_load(&phase) < 1) usleep(1000);
    uint64_t start = now_us();
    while (atomic_load(&phase) == 1 && now_us() < start + (uint64_t)(opt.revoke_after * 1e6))
        usleep(1000);
    if (atomic_load(&phase) != 1) return NULL;
    int bl = snprintf(body, sizeof body, "token=%s&token_type_hint=access_token", opt.token);
    int n = snprintf(req, sizeof req,
                     "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n"
                     "\r\n%s", opt.revoke_path, hostname, client_basic, bl, body);
    if (bl < 0 || (size_t)bl >= sizeof body || n < 0 || (size_t)n >= sizeof req) return NULL;
    if (exchange(w, req, (size_t)n) < 0) return NULL;
    rev.revoke_status = w->status;
    if (w->status != 200) return NULL;
    uint64_t m = now_us();
    atomic_store(&revoked_at, m);
    rev.at_us = m - start;
    int st;
    if (rs_request(w, &st) < 0) return NULL;
    rev.next_status = st;
    while (st == 200 && atomic_load(&phase) == 1) {
        rev.seq_ok++;
        if (rs_request(w, &st) < 0) return NULL;
    }
    rev.refused = st != 200;
    rev.seq_us = now_us() - m;
    return NULL;
}

static int run_flow(worker_t *w, unsigned k)
{
    char req[8192], body[4096], state[32], nonce[32], rq_uri[512], rq_enc[1024], code[512];
    char auth_hdr[600], auth_form[2048], dpop[800];
    int st;
    if (opt.rs) return rs_request(w, &st);
    if (opt.reg) return register_request(w);
    const char *ver = w->verifier[k % NPKCE], *chal = w->challenge[k % NPKCE];
    int flow_par = opt.flow_par == 3 ? (int)(k & 1) : opt.flow_par;
    int measuring = atomic_load(&phase) == 1;
    uint64_t t0 = now_us(), t1, t2;
    size_t n, bl;
    snprintf(state, sizeof state, "s%dx%u", w->id, k);
    snprintf(nonce, sizeof nonce, "n%dx%u", w->id, k);
    char res_part[600] = "";
    if (opt.resource) snprintf(res_part, sizeof res_part, "&resource=%s", resource_enc);

    if (flow_par) {
        if (client_auth(w, 0, auth_hdr, sizeof auth_hdr, auth_form, sizeof auth_form) < 0) {
            fail(w, ST_PAR, "client assertion not made"); return -1;
        }
        if (dpop_header(w, "POST", opt.par_path, NULL, dpop, sizeof dpop) < 0) {
            fail(w, ST_PAR, "DPoP proof not made"); return -1;
        }
        bl = (size_t)snprintf(body, sizeof body,
            "response_type=code&client_id=%s&redirect_uri=%s&scope=%s&state=%s&nonce=%s"
            "&code_challenge=%s&code_challenge_method=S256%s%s",
            client_enc, redirect_enc, scope_enc, state, nonce, chal, res_part, auth_form);
        n = (size_t)snprintf(req, sizeof req,
            "POST %s HTTP/1.1\r\nHost: %s\r\n%s%s"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n\r\n%s",
            opt.par_path, hostname, auth_hdr, dpop, bl, body);
        if (exchange(w, req, n) < 0) { fail(w, ST_PAR, "i/o"); return -1; }
        if (w->status != 201) { fail(w, ST_PAR, "status"); return -1; }
        if (json_str(w->body, "request_uri", rq_uri, sizeof rq_uri) < 0) {
            fail(w, ST_PAR, "no request_uri"); return -1;
        }
        t1 = now_us();
        if (measuring) hist_add(&w->h[ST_PAR], t1 - t0);
        if (flow_par == 2) {            /* parfill: leave the request_uri live (prefill) */
            if (measuring) { hist_add(&w->h[ST_FLOW], t1 - t0); w->flows_ok++; }
            return 0;
        }
        pct(rq_uri, rq_enc);
        n = (size_t)snprintf(req, sizeof req,
            "GET %s?client_id=%s&request_uri=%s HTTP/1.1\r\nHost: %s\r\n%s%s%s%s%s%s\r\n",
            opt.auth_path, client_enc, rq_enc, hostname,
            opt.user ? "Authorization: Basic " : "", opt.user ? user_basic : "",
            opt.user ? "\r\n" : "",
            opt.cookie ? "Cookie: " : "", opt.cookie ? opt.cookie : "", opt.cookie ? "\r\n" : "");
    } else {
        t1 = t0;
        n = (size_t)snprintf(req, sizeof req,
            "GET %s?response_type=code&client_id=%s&redirect_uri=%s&scope=%s&state=%s&nonce=%s"
            "&code_challenge=%s&code_challenge_method=S256%s HTTP/1.1\r\nHost: %s\r\n"
            "%s%s%s%s%s%s\r\n",
            opt.auth_path, client_enc, redirect_enc, scope_enc, state, nonce, chal, res_part,
            hostname,
            opt.user ? "Authorization: Basic " : "", opt.user ? user_basic : "",
            opt.user ? "\r\n" : "",
            opt.cookie ? "Cookie: " : "", opt.cookie ? opt.cookie : "", opt.cookie ? "\r\n" : "");
    }
    if (exchange(w, req, n) < 0) { fail(w, ST_AUTH, "i/o"); return -1; }
    if (w->status != 302 && w->status != 303) { fail(w, ST_AUTH, "status"); return -1; }
    char got_state[64];
    if (strncmp(w->location, opt.redirect_uri, strlen(opt.redirect_uri)) ||
        url_param(w->location, "code", code, sizeof code) < 0 ||
        url_param(w->location, "state", got_state, sizeof got_state) < 0 ||
        strcmp(got_state, state)) {
        if (!w->first_error[0])
            snprintf(w->first_error, sizeof w->first_error, "authorize: bad Location %.200s",
                     w->location);
        for (char *q = w->first_error; *q; q++) if (*q == '"') *q = ' ';
        if (measuring) w->fail[ST_AUTH]++;
        count_status(w, ST_AUTH, w->status);
        return -1;
    }
    t2 = now_us();
    if (measuring) hist_add(&w->h[ST_AUTH], t2 - t1);

    char code_dec[512];   /* codes are URL-safe; keep as is (percent-encoded stays encoded) */
    snprintf(code_dec, sizeof code_dec, "%s", code);
    if (client_auth(w, 1, auth_hdr, sizeof auth_hdr, auth_form, sizeof auth_form) < 0) {
        fail(w, ST_TOKEN, "client assertion not made"); return -1;
    }
    if (dpop_header(w, "POST", opt.token_path, NULL, dpop, sizeof dpop) < 0) {
        fail(w, ST_TOKEN, "DPoP proof not made"); return -1;
    }
    bl = (size_t)snprintf(body, sizeof body,
        "grant_type=authorization_code&code=%s&redirect_uri=%s&code_verifier=%s%s",
        code_dec, redirect_enc, ver, auth_form);
    n = (size_t)snprintf(req, sizeof req,
        "POST %s HTTP/1.1\r\nHost: %s\r\n%s%s"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n\r\n%s",
        opt.token_path, hostname, auth_hdr, dpop, bl, body);
    if (exchange(w, req, n) < 0) { fail(w, ST_TOKEN, "i/o"); return -1; }
    if (w->status != 200) { fail(w, ST_TOKEN, "status"); return -1; }
    if (!strstr(w->body, "\"access_token\"") || !strstr(w->body, "\"id_token\"")) {
        fail(w, ST_TOKEN, "no access_token/id_token"); return -1;
    }
    if (!dpop_bound(w)) { fail(w, ST_TOKEN, "token_type not DPoP"); return -1; }
    if (!mtls_bound(w)) { fail(w, ST_TOKEN, "access token without cnf.x5t#S256"); return -1; }
    uint64_t t3 = now_us();
    if (opt.verbose && k == (unsigned)w->id * 7919u + 1)   /* one sample answer per connection */
        fprintf(stderr, "conn %d token answer: %.*s\n", w->id, (int)w->body_len, w->body);
    if (measuring) hist_add(&w->h[ST_TOKEN], t3 - t2);

    if (opt.refreshes > 0) {
        char rt[512], rt_enc[1536];
        if (json_str(w->body, "refresh_token", rt, sizeof rt) < 0) {
            fail(w, ST_REFRESH, "no refresh_token in the token answer"); return -1;
        }
        for (int i = 0; i < opt.refreshes; i++) {
            uint64_t r0 = now_us();
            pct(rt, rt_enc);
            if (client_auth(w, 1, auth_hdr, sizeof auth_hdr, auth_form, sizeof auth_form) < 0) {
                fail(w, ST_REFRESH, "client assertion not made"); return -1;
            }
            if (dpop_header(w, "POST", opt.token_path, NULL, dpop, sizeof dpop) < 0) {
                fail(w, ST_REFRESH, "DPoP proof not made"); return -1;
            }
            bl = (size_t)snprintf(body, sizeof body,
                                  "grant_type=refresh_token&refresh_token=%s%s", rt_enc, auth_form);
            n = (size_t)snprintf(req, sizeof req,
                "POST %s HTTP/1.1\r\nHost: %s\r\n%s%s"
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n\r\n%s",
                opt.token_path, hostname, auth_hdr, dpop, bl, body);
            if (exchange(w, req, n) < 0) { fail(w, ST_REFRESH, "i/o"); return -1; }
            if (w->status != 200) { fail(w, ST_REFRESH, "status"); return -1; }
            if (!strstr(w->body, "\"access_token\"")) {
                fail(w, ST_REFRESH, "no access_token"); return -1;
            }
            if (!dpop_bound(w)) { fail(w, ST_REFRESH, "token_type not DPoP"); return -1; }
            if (!mtls_bound(w)) {
                fail(w, ST_REFRESH, "access token without cnf.x5t#S256"); return -1;
            }
            char next[512];      /* a rotating server hands out a successor */
            if (json_str(w->body, "refresh_token", next, sizeof next) == 0)
                memcpy(rt, next, sizeof rt);
            if (measuring) hist_add(&w->h[ST_REFRESH], now_us() - r0);
        }
        t3 = now_us();
    }
    if (opt.fapi) {     /* userinfo with the (last) bound access token */
        if (userinfo(w, req, sizeof req, dpop, sizeof dpop) < 0) return -1;
        uint64_t t4 = now_us();
        if (measuring) hist_add(&w->h[ST_USERINFO], t4 - t3);
        t3 = t4;
    }
    if (measuring) {
        hist_add(&w->h[ST_FLOW], t3 - t0);
        w->flows_ok++;
    }
    atomic_fetch_add_explicit(&w->all_ok, 1, memory_order_relaxed);
    return 0;
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    unsigned k = (unsigned)w->id * 7919u;
    /* --rate: each connection starts a flow every conns/rate seconds, at an offset of its
     * own; a connection that falls behind by more than a second does not catch up in a burst */
    double interval = opt.rate > 0 ? 1e6 * opt.conns / opt.rate : 0;
    double next = (double)now_us() + interval * w->id / opt.conns;
    while (atomic_load(&phase) < 2) {
        if (interval > 0) {
            double now = (double)now_us();
            if (now < next) usleep((useconds_t)(next - now));
            else if (now > next + 1e6) next = now;
            next += interval;
            if (atomic_load(&phase) >= 2) break;
        }
        if (opt.flows_limit && atomic_fetch_add(&flows_total, 1) >= opt.flows_limit) break;
        if (run_flow(w, k++) < 0) {
            conn_close(w);              /* start the next flow on a fresh connection */
            if (w->fd < 0 && atomic_load(&phase) < 2) usleep(1000);
        }
    }
    conn_close(w);
    return NULL;
}

/* ---------------- CPU from /proc ---------------- */
static double proc_cpu(int pid)     /* seconds of utime+stime of one process */
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return 0;
    unsigned long ut = 0, st = 0;
    /* fields after comm: state(3) ppid(4) ... utime(14) stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int proc_ppid(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    int ppid = -1;
    if (p) sscanf(p + 2, "%*c %d", &ppid);
    return ppid;
}

/* CPU of pid and all its descendants (processes only; threads are counted in their process) */
static double tree_cpu(int root, int *nproc)
{
    int pids[4096], ppids[4096], n = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d)) && n < 4096) {
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        pids[n] = atoi(e->d_name);
        ppids[n] = proc_ppid(pids[n]);
        n++;
    }
    if (d) closedir(d);
    char in[4096] = {0};
    for (int i = 0; i < n; i++) if (pids[i] == root) in[i] = 1;
    for (int changed = 1; changed; ) {
        changed = 0;
        for (int i = 0; i < n; i++) {
            if (in[i]) continue;
            for (int j = 0; j < n; j++)
                if (in[j] && pids[j] == ppids[i]) { in[i] = 1; changed = 1; break; }
        }
    }
    double s = 0;
    int c = 0;
    for (int i = 0; i < n; i++) if (in[i]) { s += proc_cpu(pids[i]); c++; }
    if (nproc) *nproc = c;
    return s;
}

static double self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* One progress line: running totals over every connection, warm-up included. */
static void print_progress(worker_t *ws, double t)
{
    uint64_t ok = 0;
    for (int i = 0; i < opt.conns; i++) ok += atomic_load(&ws[i].all_ok);
    printf("{\"progress\":%.3f,\"flows\":%llu,\"errors\":{", t, (unsigned long long)ok);
    for (int s = 0; s < NSTEP - 1; s++) {
        printf("%s\"%s\":{", s ? "," : "", step_name[s]);
        int first = 1;
        for (int st = 0; st < NSTATUS; st++) {
            uint64_t n = 0;
            for (int i = 0; i < opt.conns; i++) n += atomic_load(&ws[i].fail_status[s][st]);
            if (n) { printf("%s\"%d\":%llu", first ? "" : ",", st, (unsigned long long)n); first = 0; }
        }
        printf("}");
    }
    printf("}}\n");
    fflush(stdout);
}

static void usage(void)
{
    fprintf(stderr,
        "usage: driver [options]\n"
        "  --port P --host H --tls --conns N --duration S --warmup S --flows N (total, then stop)\n"
        "  --flow par|code|mixed|parfill (PAR only)|par_pkjwt (PAR flow, private_key_jwt)\n"
        "         |par_dpop (PAR flow, DPoP proofs at PAR and token)\n"
        "         |par_mtls (PAR flow, tls_client_auth: implies --tls)\n"
        "         |fapi (FAPI 2.0: par_pkjwt and par_dpop together, then userinfo with a proof)\n"
        "         |rs (GET --rs-path with a bearer token: requests, not flows)\n"
        "         |par_public (PAR flow, a public client: client_id, no credentials)\n"
        "         |register (POST --reg-path, RFC 7591, a public client: requests, not flows)\n"
        "  --reg-path P (register: the registration endpoint; default /register)\n"
        "  --rs-path P --token T | --token-file F (rs: the resource, the token)\n"
        "  --revoke-after S --revoke-path P (rs: revoke the token S s into the measurement)\n"
        "  --par-path P --auth-path P --token-path P --userinfo-path P\n"
        "  --client-key PEM --client-kid KID --audience AUD (par_pkjwt: ES256 key, kid, aud)\n"
        "  --client-cert PEM --client-key PEM (par_mtls: the TLS client certificate, its key)\n"
        "  --refreshes N (refresh grants per flow) --rate R (flows/s in all) --progress S\n"
        "  --client-id ID --client-secret S --redirect-uri U --scope S --resource R\n"
        "  --user U --password P (Basic on authorize; --user '' for none) --cookie C\n"
        "  --server-pid PID (CPU of PID and its descendants) --label L --verbose\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static struct option lo[] = {
        {"host", 1, 0, 'H'}, {"port", 1, 0, 'p'}, {"tls", 0, 0, 'T'}, {"conns", 1, 0, 'c'},
        {"duration", 1, 0, 'd'}, {"warmup", 1, 0, 'w'}, {"flows", 1, 0, 'n'},
        {"flow", 1, 0, 'f'}, {"par-path", 1, 0, 1}, {"auth-path", 1, 0, 2},
        {"token-path", 1, 0, 3}, {"client-id", 1, 0, 4}, {"client-secret", 1, 0, 5},
        {"redirect-uri", 1, 0, 6}, {"scope", 1, 0, 7}, {"resource", 1, 0, 8},
        {"user", 1, 0, 9}, {"password", 1, 0, 10}, {"cookie", 1, 0, 11},
        {"server-pid", 1, 0, 12}, {"label", 1, 0, 13}, {"verbose", 0, 0, 'v'},
        {"refreshes", 1, 0, 14}, {"rate", 1, 0, 15}, {"progress", 1, 0, 16},
        {"client-key", 1, 0, 17}, {"client-kid", 1, 0, 18}, {"audience", 1, 0, 19},
        {"client-cert", 1, 0, 20}, {"userinfo-path", 1, 0, 21}, {"rs-path", 1, 0, 22},
        {"token", 1, 0, 23}, {"token-file", 1, 0, 24}, {"revoke-after", 1, 0, 25},
        {"revoke-path", 1, 0, 26}, {"reg-path", 1, 0, 27},
        {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'H': opt.host = optarg; break;
        case 'p': opt.port = atoi(optarg); break;
        case 'T': opt.tls = 1; break;
        case 'c': opt.conns = atoi(optarg); break;
        case 'd': opt.duration = atof(optarg); break;
        case 'w': opt.warmup = atof(optarg); break;
        case 'n': opt.flows_limit = atol(optarg); break;
        case 'f': opt.flow_par = !strcmp(optarg, "par") ? 1 : !strcmp(optarg, "parfill") ? 2
                               : !strcmp(optarg, "mixed") ? 3
                               : !strcmp(optarg, "par_pkjwt") || !strcmp(optarg, "par_dpop") ||
                                 !strcmp(optarg, "par_mtls") || !strcmp(optarg, "fapi") ||
                                 !strcmp(optarg, "par_public") ? 1 : 0;
            opt.fapi = !strcmp(optarg, "fapi");
            opt.pkjwt = !strcmp(optarg, "par_pkjwt") || opt.fapi;
            opt.dpop = !strcmp(optarg, "par_dpop") || opt.fapi;
            opt.mtls = !strcmp(optarg, "par_mtls");
            opt.rs = !strcmp(optarg, "rs");
            opt.public_client = !strcmp(optarg, "par_public");
            opt.reg = !strcmp(optarg, "register");
            break;
        case 1: opt.par_path = optarg; break;
        case 2: opt.auth_path = optarg; break;
        case 3: opt.token_path = optarg; break;
        case 4: opt.client_id = optarg; break;
        case 5: opt.client_secret = optarg; break;
        case 6: opt.redirect_uri = optarg; break;
        case 7: opt.scope = optarg; break;
        case 8: opt.resource = *optarg ? optarg : NULL; break;
        case 9: opt.user = *optarg ? optarg : NULL; break;
        case 10: opt.password = optarg; break;
        case 11: opt.cookie = *optarg ? optarg : NULL; break;
        case 12: opt.server_pid = atoi(optarg); break;
        case 13: opt.label = optarg; break;
        case 14: opt.refreshes = atoi(optarg); break;
        case 15: opt.rate = atof(optarg); break;
        case 16: opt.progress = atof(optarg); break;
        case 17: opt.client_key = optarg; break;
        case 18: opt.client_kid = optarg; break;
        case 19: opt.audience = optarg; break;
        case 20: opt.client_cert = optarg; break;
        case 21: opt.userinfo_path = optarg; break;
        case 22: opt.rs_path = optarg; break;
        case 23: opt.token = optarg; break;
        case 24: {
            static char tok[6000];
            FILE *tf = fopen(optarg, "r");
            size_t tn = tf ? fread(tok, 1, sizeof tok - 1, tf) : 0;
            if (tf) fclose(tf);
            while (tn && (tok[tn - 1] == '\n' || tok[tn - 1] == '\r' || tok[tn - 1] == ' ')) tn--;
            tok[tn] = 0;
            if (!tn) { fprintf(stderr, "driver: --token-file %s: no token\n", optarg); return 2; }
            opt.token = tok;
            break;
        }
        case 25: opt.revoke_after = atof(optarg); break;
        case 26: opt.revoke_path = optarg; break;
        case 27: opt.reg_path = optarg; break;
        case 'v': opt.verbose = 1; break;
        default: usage();
        }
    }
    if (opt.conns < 1 || opt.conns > 1024) usage();
    if (opt.rs && (!opt.token || strlen(opt.token) > 5000)) usage();
    if (opt.revoke_after > 0 && (!opt.rs || opt.flows_limit)) usage();
    if (opt.mtls) {
        if (!opt.client_cert || !opt.client_key) usage();
        opt.tls = 1;
    }
    if (opt.pkjwt) {
        if (!opt.client_key || !opt.client_kid || !opt.audience) usage();
        FILE *kf = fopen(opt.client_key, "r");
        client_pkey = kf ? PEM_read_PrivateKey(kf, NULL, NULL, NULL) : NULL;
        if (kf) fclose(kf);
        if (!client_pkey || EVP_PKEY_get_base_id(client_pkey) != EVP_PKEY_EC) {
            fprintf(stderr, "driver: --client-key %s: not an EC private key\n", opt.client_key);
            return 2;
        }
        char hdr[256];
        int hn = snprintf(hdr, sizeof hdr, "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
                          opt.client_kid);
        if (hn < 0 || (size_t)hn >= sizeof hdr / 4 * 3 - 4) usage();
        b64((const unsigned char *)hdr, (size_t)hn, assert_hdr, 1);
    }
    if (opt.pkjwt || opt.dpop) {
        unsigned char rnd[6];
        RAND_bytes(rnd, sizeof rnd);
        b64(rnd, sizeof rnd, jti_prefix, 1);
    }

    char tmp[512], hb[64];
    snprintf(tmp, sizeof tmp, "%s:%s", opt.client_id, opt.client_secret);
    b64((unsigned char *)tmp, strlen(tmp), client_basic, 0);
    if (opt.user) {
        snprintf(tmp, sizeof tmp, "%s:%s", opt.user, opt.password);
        b64((unsigned char *)tmp, strlen(tmp), user_basic, 0);
    }
    pct(opt.redirect_uri, redirect_enc);
    pct(opt.scope, scope_enc);
    pct(opt.client_id, client_enc);
    if (opt.resource) pct(opt.resource, resource_enc);
    snprintf(hb, sizeof hb, "%s:%d", opt.tls ? "localhost" : opt.host, opt.port);
    hostname = hb;
    snprintf(htu_origin, sizeof htu_origin, "%s://%s", opt.tls ? "https" : "http", hb);

    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)opt.port);
    if (inet_pton(AF_INET, opt.host, &addr.sin_addr) != 1) usage();
    if (opt.tls) {
        ssl_ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_NONE, NULL);
        /* TLS 1.3 tickets become resumable sessions only with the client cache on (each
         * connection keeps its own: nothing in OpenSSL's internal store) */
        SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_CLIENT |
                                                SSL_SESS_CACHE_NO_INTERNAL_STORE);
        if (opt.mtls && (SSL_CTX_use_certificate_chain_file(ssl_ctx, opt.client_cert) != 1 ||
                         SSL_CTX_use_PrivateKey_file(ssl_ctx, opt.client_key,
                                                     SSL_FILETYPE_PEM) != 1 ||
                         SSL_CTX_check_private_key(ssl_ctx) != 1)) {
            fprintf(stderr, "driver: --client-cert %s / --client-key %s not usable\n",
                    opt.client_cert, opt.client_key);
            return 2;
        }
    }

    worker_t *ws = calloc((size_t)opt.conns, sizeof *ws);
    pthread_t *th = calloc((size_t)opt.conns, sizeof *th);
    for (int i = 0; i < opt.conns; i++) {
        worker_t *w = &ws[i];
        w->id = i; w->fd = -1;
        for (int j = 0; j < NPKCE; j++) {
            unsigned char rnd[32], dg[32];
            RAND_bytes(rnd, sizeof rnd);
            b64(rnd, sizeof rnd, w->verifier[j], 1);              /* 43 chars */
            EVP_Digest(w->verifier[j], strlen(w->verifier[j]), dg, NULL, EVP_sha256(), NULL);
            b64(dg, sizeof dg, w->challenge[j], 1);
        }
        if (opt.dpop && dpop_key_init(w) < 0) {
            fprintf(stderr, "driver: no P-256 key for DPoP proofs\n");
            return 2;
        }
    }
    /* small stacks: 32 threads must stay cheap */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    if (opt.flows_limit) atomic_store(&phase, 1);   /* every one of the N flows counts */
    for (int i = 0; i < opt.conns; i++) pthread_create(&th[i], &attr, worker_main, &ws[i]);
    worker_t *rw = NULL;     /* --revoke-after: the revoking connection */
    pthread_t rth;
    if (opt.revoke_after > 0) {
        rw = calloc(1, sizeof *rw);
        rw->id = opt.conns; rw->fd = -1;
        pthread_create(&rth, &attr, revoker_main, rw);
    }

    double s_cpu0 = 0, d_cpu0 = 0, s_cpu1, d_cpu1, wall;
    int nproc = 0;
    uint64_t t0;
    if (opt.flows_limit) {            /* fixed number of flows: measure everything */
        t0 = now_us();
        if (opt.server_pid) s_cpu0 = tree_cpu(opt.server_pid, &nproc);
        d_cpu0 = self_cpu();
        for (int i = 0; i < opt.conns; i++) pthread_join(th[i], NULL);
    } else {
        usleep((useconds_t)(opt.warmup * 1e6));
        if (opt.server_pid) s_cpu0 = tree_cpu(opt.server_pid, &nproc);
        d_cpu0 = self_cpu();
        t0 = now_us();
        atomic_store(&phase, 1);
        if (opt.progress > 0) {
            uint64_t start = now_us(), end = start + (uint64_t)(opt.duration * 1e6);
            uint64_t tick = start;
            for (;;) {
                tick += (uint64_t)(opt.progress * 1e6);
                uint64_t now = now_us();
                if (tick > end) tick = end;
                if (tick > now) usleep((useconds_t)(tick - now));
                print_progress(ws, (double)(now_us() - start) / 1e6);
                if (tick >= end) break;
            }
        } else {
            usleep((useconds_t)(opt.duration * 1e6));
        }
        atomic_store(&phase, 2);
    }
    wall = (double)(now_us() - t0) / 1e6;
    s_cpu1 = opt.server_pid ? tree_cpu(opt.server_pid, NULL) : 0;
    d_cpu1 = self_cpu();
    if (!opt.flows_limit)
        for (int i = 0; i < opt.conns; i++) pthread_join(th[i], NULL);
    if (rw) { pthread_join(rth, NULL); conn_close(rw); }

    hist_t *h = calloc(NSTEP, sizeof *h);
    uint64_t ok = 0, fails[NSTEP - 1] = {0}, reconn = 0, hs = 0, resumed = 0;
    const char *err = "";
    for (int i = 0; i < opt.conns; i++) {
        for (int s = 0; s < NSTEP; s++) hist_merge(&h[s], &ws[i].h[s]);
        for (int s = 0; s < NSTEP - 1; s++) fails[s] += ws[i].fail[s];
        ok += ws[i].flows_ok;
        reconn += ws[i].reconnects;
        hs += ws[i].handshakes;
        resumed += ws[i].resumed;
        if (!*err && ws[i].first_error[0]) err = ws[i].first_error;
    }
    double scpu = s_cpu1 - s_cpu0, dcpu = d_cpu1 - d_cpu0;
    printf("{\"label\":\"%s\",\"flow\":\"%s\",\"conns\":%d,\"tls\":%d,\"seconds\":%.3f,"
           "\"flows\":%llu,\"flows_per_s\":%.1f,\"failed\":{\"par\":%llu,\"authorize\":%llu,"
           "\"token\":%llu,\"refresh\":%llu,\"userinfo\":%llu,\"resource\":%llu,"
           "\"register\":%llu},\"reconnects\":%llu,\"tls_handshakes\":%llu,"
           "\"tls_resumed\":%llu,",
           opt.label, opt.rs ? "rs" : opt.reg ? "register" : opt.public_client ? "par_public"
                      : opt.fapi ? "fapi" : opt.pkjwt ? "par_pkjwt" : opt.dpop ? "par_dpop" : opt.mtls ? "par_mtls"
                      : opt.flow_par == 3 ? "mixed"
                      : opt.flow_par == 2 ? "parfill" : opt.flow_par ? "par" : "code",
           opt.conns, opt.tls, wall,
           (unsigned long long)ok, ok / wall, (unsigned long long)fails[0],
           (unsigned long long)fails[1], (unsigned long long)fails[2],
           (unsigned long long)fails[3], (unsigned long long)fails[4],
           (unsigned long long)fails[5], (unsigned long long)fails[6],
           (unsigned long long)reconn, (unsigned long long)hs,
           (unsigned long long)resumed);
    printf("\"latency_ms\":{");
    for (int s = 0; s < NSTEP; s++)
        printf("%s\"%s\":{\"p50\":%.3f,\"p99\":%.3f,\"n\":%llu}", s ? "," : "", step_name[s],
               hist_pct(&h[s], 0.50) / 1000.0, hist_pct(&h[s], 0.99) / 1000.0,
               (unsigned long long)h[s].n);
    if (rw) {   /* sent after the revocation's 200: every connection's, the revoker's own */
        uint64_t ok_after = 0, refused_after = 0, first = 0;
        for (int i = 0; i < opt.conns + 1; i++) {
            worker_t *x = i < opt.conns ? &ws[i] : rw;
            ok_after += x->ok_after;
            refused_after += x->refused_after;
            if (x->refused_after && (!first || x->first_refusal_us < first))
                first = x->first_refusal_us;
        }
        printf("},\"revocation\":{\"at_s\":%.3f,\"revoke_status\":%d,\"next_status\":%d,"
               "\"seq_ok_after\":%llu,\"seq_refused\":%d,\"seq_ms\":%.3f,\"ok_after\":%llu,"
               "\"refused_after\":%llu,\"first_refusal_ms\":%.3f",
               (double)rev.at_us / 1e6, rev.revoke_status, rev.next_status,
               (unsigned long long)rev.seq_ok, rev.refused, (double)rev.seq_us / 1e3,
               (unsigned long long)ok_after, (unsigned long long)refused_after,
               (double)first / 1e3);
    }
    printf("},\"server_cpu_s\":%.3f,\"server_procs\":%d,\"driver_cpu_s\":%.3f,"
           "\"server_cpu_ms_per_flow\":%.4f,\"driver_cpu_ms_per_flow\":%.4f,\"first_error\":\"%s\"}\n",
           scpu, nproc, dcpu, ok ? scpu * 1000 / (double)ok : 0,
           ok ? dcpu * 1000 / (double)ok : 0, err);
    return 0;
}
