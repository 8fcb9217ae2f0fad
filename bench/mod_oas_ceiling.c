/* bench/mod_oas_ceiling.c: the httpd ceiling for the benchmark.  Answers the three requests of
 * the flows with fixed responses: no storage, no checks, no client or user authentication.
 *
 *   <Location /oauth/par>   SetHandler oas-ceiling-par   </Location>  201 JSON (state echoed in request_uri)
 *   <Location /authorize>   SetHandler oas-ceiling-auth  </Location>  302 fixed code, state echoed
 *   <Location /oauth/token> SetHandler oas-ceiling-token </Location>  200 fixed JSON
 *   <Location /userinfo> SetHandler oas-ceiling-userinfo </Location>  200 {"sub":…} for an access
 *                            token of ours sent as "Authorization: DPoP <token>" with a DPoP
 *                            proof (needs OASCeilingSignKey and OASCeilingDPoP): the token's
 *                            ES256 signature verified with the signing key and its payload
 *                            decoded, the proof checked as at PAR and token, its `ath`
 *                            compared with the token's SHA-256, its jwk thumbprint with the
 *                            token's cnf.jkt; 401 when any of it fails (the FAPI 2.0 row)
 *
 *   OASCeilingSignKey FILE   (server scope) an EC P-256 PEM key: the token answer then carries
 *                            two ES256 signatures (access token + ID token) made per request
 *                            with EVP_DigestSign over a fixed payload, as JWS compact strings.
 *   OASCeilingClientKey FILE (server scope) the client's EC P-256 public key (PEM): PAR and
 *                            token then verify the ES256 `client_assertion` of the body
 *                            (private_key_jwt, RFC 7523) with EVP_DigestVerify, r||s converted
 *                            to DER as a JWS verifier must, and answer 401 when it fails.  No
 *                            claim, jti or replay checks: the signature work, statelessly.
 *   OASCeilingDPoP cache|import (server scope) PAR and token then verify the request's `DPoP`
 *                            proof (RFC 9449): its header and payload decoded, its `jwk` (EC
 *                            P-256) imported with EVP_PKEY_fromdata, its ES256 signature
 *                            checked, the jwk's RFC 7638 thumbprint computed (SHA-256), 400
 *                            when any of it fails; the token answer says token_type DPoP.
 *                            `cache`: like mod_oauth_as (oas_dpop_key.c), each thread keeps
 *                            its last 8 imported keys under their coordinates, so a
 *                            connection's key is imported once per thread; `import`: every
 *                            proof's key imported.  The access token's payload then carries
 *                            cnf.jkt with that thumbprint (base64url-encoded per answer).  No
 *                            claim, jti or replay checks, no store.
 *   OASCeilingMTLS CAFILE SUBJECT (server scope; the vhost has SSLVerifyClient
 *                            optional_no_ca) PAR and token then do the certificate work of
 *                            tls_client_auth (RFC 8705) as mod_oauth_as does it per request:
 *                            SSL_CLIENT_CERT (and SSL_CLIENT_CERT_CHAIN_0) through mod_ssl's
 *                            ssl_var_lookup, the PEM parsed, re-encoded to DER and its SHA-256
 *                            thumbprint computed, the chain verified against CAFILE (loaded at
 *                            start-up, as OAuthASClientCertCA), the subject compared with
 *                            SUBJECT (an RFC 4514 string, parsed at start-up), 401 when any of
 *                            it fails; the access token's payload then carries cnf.x5t#S256 with
 *                            that thumbprint (base64url-encoded per answer).  No store.
 *
 * Request bodies are read and discarded (the PAR body is scanned for state, which is echoed in
 * the request_uri); state is copied back into the Location so the driver's check holds.  Built with apxs by `make bench` (bench/Makefile).
 */
#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"
#include "http_log.h"
#include "apr_strings.h"
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ecdsa.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/x509v3.h>
#include <string.h>
#include "mod_ssl.h"

module AP_MODULE_DECLARE_DATA oas_ceiling_module;

typedef struct {
    const char *key_file, *client_key_file;
    EVP_PKEY *key, *client_key;
    int dpop;                   /* 0 off, 1 cache the proofs' keys per thread, 2 import each */
    const char *ca_file;        /* OASCeilingMTLS: the client's CA ... */
    X509_STORE *ca;
    X509_NAME *subject;         /* ... and its certificate's subject */
} ceil_conf;

static APR_OPTIONAL_FN_TYPE(ssl_var_lookup) *var_lookup;

static const char PAR_JSON_HEAD[] = "{\"request_uri\":\"urn:ietf:params:oauth:request_uri:ceiling:";
static const char PAR_JSON_TAIL[] = "\",\"expires_in\":60}";

/* the value of form/query parameter `name` (raw, not decoded; "" when absent) */
static const char *param(request_rec *r, const char *s, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = s; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        if (!strncmp(p, name, nl) && p[nl] == '=')
            return apr_pstrndup(r->pool, p + nl + 1, strcspn(p + nl + 1, "&"));
    }
    return "";
}

/* the whole (small) request body as a string */
static const char *read_body(request_rec *r)
{
    char buf[4096];
    size_t len = 0;
    long n;
    if (ap_setup_client_block(r, REQUEST_CHUNKED_ERROR) != OK || !ap_should_client_block(r))
        return NULL;
    while ((n = ap_get_client_block(r, buf + len, sizeof buf - 1 - len)) > 0) {
        len += (size_t)n;
        if (len >= sizeof buf - 1) return NULL;
    }
    if (n < 0) return NULL;
    return apr_pstrndup(r->pool, buf, len);
}
/* JWS header+payload of a plausible access token / ID token (fixed) */
static const char AT_SIGNING_INPUT[] =
    "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImNlaWxpbmcifQ."
    "eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xIiwic3ViIjoiYmVuY2h1c2VyIiwiYXVkIjoidXJuOmJlbmNoOmFwaSIs"
    "ImNsaWVudF9pZCI6ImJlbmNoIiwic2NvcGUiOiJvcGVuaWQiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAw"
    "MzYwMCwianRpIjoiY2VpbGluZ2p0aTAxMjM0NTY3ODkifQ";
static const char ID_SIGNING_INPUT[] =
    "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImNlaWxpbmcifQ."
    "eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xIiwic3ViIjoiYmVuY2h1c2VyIiwiYXVkIjoiYmVuY2giLCJub25jZSI6"
    "Im4xIiwiYXRfaGFzaCI6IkFBQUFBQUFBQUFBQUFBQUFBQUFBQUEiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcw"
    "MDAwMzYwMH0";
static const char FIXED_SIG[] =
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

static void *create_conf(apr_pool_t *p, server_rec *s)
{
    return apr_pcalloc(p, sizeof(ceil_conf));
}

static const char *set_key(cmd_parms *cmd, void *dummy, const char *arg)
{
    ceil_conf *c = ap_get_module_config(cmd->server->module_config, &oas_ceiling_module);
    const char *path = ap_server_root_relative(cmd->pool, arg);
    if (cmd->info) c->client_key_file = path;
    else c->key_file = path;
    return NULL;
}

static const char *set_dpop(cmd_parms *cmd, void *dummy, const char *arg)
{
    ceil_conf *c = ap_get_module_config(cmd->server->module_config, &oas_ceiling_module);
    c->dpop = !strcmp(arg, "cache") ? 1 : !strcmp(arg, "import") ? 2 : 0;
    return c->dpop ? NULL : "OASCeilingDPoP: cache or import";
}

/* an RFC 4514 string ("CN=a,O=b": the last RDN first) as an X509_NAME, or NULL */
static X509_NAME *dn_parse(apr_pool_t *p, const char *dn)
{
    apr_array_header_t *rdns = apr_array_make(p, 4, sizeof(char *));
    char *last, *s = apr_pstrdup(p, dn);
    for (char *t = apr_strtok(s, ",", &last); t; t = apr_strtok(NULL, ",", &last))
        APR_ARRAY_PUSH(rdns, char *) = t;
    X509_NAME *n = X509_NAME_new();
    for (int i = rdns->nelts - 1; n && i >= 0; i--) {
        char *t = APR_ARRAY_IDX(rdns, i, char *), *eq = strchr(t, '=');
        if (!eq) { X509_NAME_free(n); return NULL; }
        *eq = 0;
        if (X509_NAME_add_entry_by_txt(n, t, MBSTRING_UTF8, (unsigned char *)eq + 1, -1, -1,
                                       0) != 1) {
            X509_NAME_free(n);
            return NULL;
        }
    }
    return n;
}

static const char *set_mtls(cmd_parms *cmd, void *dummy, const char *ca, const char *subject)
{
    ceil_conf *c = ap_get_module_config(cmd->server->module_config, &oas_ceiling_module);
    c->ca_file = ap_server_root_relative(cmd->pool, ca);
    if (!(c->subject = dn_parse(cmd->pool, subject)))
        return "OASCeilingMTLS: the subject is no distinguished name";
    apr_pool_cleanup_register(cmd->pool, c->subject, (apr_status_t (*)(void *))X509_NAME_free,
                              apr_pool_cleanup_null);
    return NULL;
}

static apr_status_t key_free(void *k) { EVP_PKEY_free(k); return APR_SUCCESS; }
static apr_status_t store_free(void *st) { X509_STORE_free(st); return APR_SUCCESS; }

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    var_lookup = APR_RETRIEVE_OPTIONAL_FN(ssl_var_lookup);
    for (; s; s = s->next) {
        ceil_conf *c = ap_get_module_config(s->module_config, &oas_ceiling_module);
        if (c->ca_file && !c->ca) {
            if (!var_lookup || !(c->ca = X509_STORE_new()) ||
                X509_STORE_load_file(c->ca, c->ca_file) != 1) {
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "ceiling: no CA from %s (or no "
                             "mod_ssl)", c->ca_file);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            X509_STORE_set_flags(c->ca, X509_V_FLAG_PARTIAL_CHAIN);
            apr_pool_cleanup_register(pconf, c->ca, store_free, apr_pool_cleanup_null);
        }
        for (int pub = 0; pub < 2; pub++) {
            const char *file = pub ? c->client_key_file : c->key_file;
            EVP_PKEY **k = pub ? &c->client_key : &c->key;
            if (!file || *k) continue;
            FILE *f = fopen(file, "r");
            if (!f) {
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "ceiling: cannot open %s", file);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            *k = pub ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : PEM_read_PrivateKey(f, NULL, NULL,
                                                                                  NULL);
            fclose(f);
            if (!*k) return HTTP_INTERNAL_SERVER_ERROR;
            apr_pool_cleanup_register(pconf, *k, key_free, apr_pool_cleanup_null);
        }
    }
    return OK;
}

/* base64url without padding into out (cap bytes); the decoded length, or -1 */
static long b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    size_t o = 0;
    unsigned v = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)in[i], d;
        if (c >= 'A' && c <= 'Z') d = c - 'A';
        else if (c >= 'a' && c <= 'z') d = c - 'a' + 26;
        else if (c >= '0' && c <= '9') d = c - '0' + 52;
        else if (c == '-') d = 62;
        else if (c == '_') d = 63;
        else return -1;
        v = (v << 6) | (unsigned)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap) return -1;
            out[o++] = (unsigned char)(v >> bits);
        }
    }
    return (long)o;
}

/* Verify the ES256 signature (base64url r||s, sig_len chars) of a JWS over its signing input
 * jws[0..input_len), r||s converted to DER as a JWS verifier must.  1 verified, 0 not. */
static int es256_verify(EVP_PKEY *key, const char *jws, size_t input_len, const char *sig_b64,
                        size_t sig_len)
{
    unsigned char raw[64], der[80];
    if (b64url_decode(sig_b64, sig_len, raw, sizeof raw) != 64) return 0;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *br = BN_bin2bn(raw, 32, NULL), *bs = BN_bin2bn(raw + 32, 32, NULL);
    if (!sig || !br || !bs || !ECDSA_SIG_set0(sig, br, bs)) {
        BN_free(br);
        BN_free(bs);
        ECDSA_SIG_free(sig);
        return 0;
    }
    unsigned char *dp = der;
    int dlen = i2d_ECDSA_SIG(sig, &dp);
    ECDSA_SIG_free(sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = dlen > 0 && md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerify(md, der, (size_t)dlen, (const unsigned char *)jws, input_len) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

/* Verify the ES256 client assertion of a form body: the payload decoded (as a JWT verifier
 * must, to read its claims) and the signature checked.  1 verified, 0 not. */
static int assertion_ok(request_rec *r, EVP_PKEY *key, const char *body)
{
    const char *jws = param(r, body, "client_assertion");
    const char *d1 = strchr(jws, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d2) return 0;
    unsigned char payload[2048];
    if (b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), payload, sizeof payload) <= 0) return 0;
    return es256_verify(key, jws, (size_t)(d2 - jws), d2 + 1, strlen(d2 + 1));
}

static void b64url(const unsigned char *in, size_t n, char *out)
{
    static const char *t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t i, o = 0;
    for (i = 0; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = t[v >> 18]; out[o++] = t[(v >> 12) & 63];
        out[o++] = t[(v >> 6) & 63]; out[o++] = t[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0);
        out[o++] = t[v >> 18]; out[o++] = t[(v >> 12) & 63];
        if (i + 1 < n) out[o++] = t[(v >> 6) & 63];
    }
    out[o] = 0;
}

/* ES256 over `input`: DER from EVP_DigestSign converted to JOSE's raw r||s, base64url */
static const char *es256(request_rec *r, EVP_PKEY *key, const char *input)
{
    unsigned char der[80], raw[64];
    size_t dlen = sizeof der;
    char *out = apr_palloc(r->pool, 90);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestSign(md, der, &dlen, (const unsigned char *)input, strlen(input)) == 1;
    EVP_MD_CTX_free(md);
    if (!ok) return NULL;
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
    if (!sig) return NULL;
    const BIGNUM *br, *bs;
    ECDSA_SIG_get0(sig, &br, &bs);
    BN_bn2binpad(br, raw, 32);
    BN_bn2binpad(bs, raw + 32, 32);
    ECDSA_SIG_free(sig);
    b64url(raw, 64, out);
    return out;
}

/* the string value of member `name` in a (decoded, flat enough) JSON text, copied to out */
static int json_member(const char *json, const char *name, char *out, size_t cap)
{
    char key[32];
    snprintf(key, sizeof key, "\"%s\":\"", name);
    const char *p = strstr(json, key), *e;
    if (!p || !(e = strchr(p += strlen(key), '"')) || (size_t)(e - p) >= cap) return 0;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = 0;
    return 1;
}

/* an EC P-256 public key from the base64url coordinates of a JWK (a new reference), or NULL */
static EVP_PKEY *p256_import(const char *x, const char *y)
{
    unsigned char pub[65];
    pub[0] = 4;
    if (b64url_decode(x, strlen(x), pub + 1, 32) != 32 ||
        b64url_decode(y, strlen(y), pub + 33, 32) != 32)
        return NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub),
        OSSL_PARAM_construct_end()};
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *k = NULL;
    if (!pc || EVP_PKEY_fromdata_init(pc) != 1 ||
        EVP_PKEY_fromdata(pc, &k, EVP_PKEY_PUBLIC_KEY, params) != 1)
        k = NULL;
    EVP_PKEY_CTX_free(pc);
    return k;
}

/* `cache`: this thread's last 8 keys by their coordinates (as mod_oauth_as keeps them) */
#define KEY_CACHE 8
static __thread struct { char xy[96]; EVP_PKEY *k; } key_cache[KEY_CACHE];
static __thread unsigned key_next;

static EVP_PKEY *proof_key(int cache, const char *x, const char *y)
{
    char xy[96];
    if (!cache) return p256_import(x, y);
    if (snprintf(xy, sizeof xy, "%s.%s", x, y) >= (int)sizeof xy) return NULL;
    for (int i = 0; i < KEY_CACHE; i++)
        if (key_cache[i].k && !strcmp(key_cache[i].xy, xy)) {
            EVP_PKEY_up_ref(key_cache[i].k);
            return key_cache[i].k;
        }
    EVP_PKEY *k = p256_import(x, y);
    if (!k) return NULL;
    EVP_PKEY_free(key_cache[key_next].k);
    EVP_PKEY_up_ref(k);
    key_cache[key_next].k = k;
    strcpy(key_cache[key_next].xy, xy);
    key_next = (key_next + 1) % KEY_CACHE;
    return k;
}

/* Check the request's DPoP proof: header and payload decoded, typ and alg read, the jwk's key
 * imported (or found), the signature verified, the jwk thumbprint computed (left in the note
 * ceiling-jkt); ath: the access token's hash the proof must carry (userinfo), or NULL.  1 ok,
 * 0 not. */
static int dpop_ok(request_rec *r, int mode, const char *ath)
{
    const char *jws = apr_table_get(r->headers_in, "DPoP");
    const char *d1 = jws ? strchr(jws, '.') : NULL, *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    char hdr[512], payload[512], x[48], y[48], typ[16], alg[8], tp[160], jkt[48], pa[48];
    long hn, pn;
    if (!d2 ||
        (hn = b64url_decode(jws, (size_t)(d1 - jws), (unsigned char *)hdr, sizeof hdr - 1)) <= 0 ||
        (pn = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), (unsigned char *)payload,
                            sizeof payload - 1)) <= 0)
        return 0;
    hdr[hn] = payload[pn] = 0;
    const char *jwk = strstr(hdr, "\"jwk\":{");
    if (!jwk || !json_member(hdr, "typ", typ, sizeof typ) || strcmp(typ, "dpop+jwt") ||
        !json_member(hdr, "alg", alg, sizeof alg) || strcmp(alg, "ES256") ||
        !json_member(jwk, "x", x, sizeof x) || !json_member(jwk, "y", y, sizeof y) ||
        !strstr(payload, "\"jti\":") || !strstr(payload, "\"htu\":") ||
        (ath && (!json_member(payload, "ath", pa, sizeof pa) || strcmp(pa, ath))))
        return 0;
    EVP_PKEY *k = proof_key(mode == 1, x, y);
    if (!k) return 0;
    int ok = es256_verify(k, jws, (size_t)(d2 - jws), d2 + 1, strlen(d2 + 1));
    EVP_PKEY_free(k);
    unsigned char h[32];
    int n = snprintf(tp, sizeof tp, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x,
                     y);
    if (!ok || n < 0 || (size_t)n >= sizeof tp ||
        EVP_Digest(tp, (size_t)n, h, NULL, EVP_sha256(), NULL) != 1)
        return 0;
    b64url(h, sizeof h, jkt);
    apr_table_setn(r->notes, "ceiling-jkt", apr_pstrdup(r->pool, jkt));
    return 1;
}

/* The connection's client certificate checked as tls_client_auth does: parsed, hashed, its
 * chain verified against the CA, its subject compared.  The x5t#S256 (base64url), or NULL. */
static const char *mtls_x5t(request_rec *r, const ceil_conf *c)
{
    const char *pem = var_lookup(r->pool, r->server, r->connection, r, "SSL_CLIENT_CERT");
    const char *more = var_lookup(r->pool, r->server, r->connection, r, "SSL_CLIENT_CERT_CHAIN_0");
    if (!pem || !*pem || (more && *more)) return NULL;     /* the bench's client sends no chain */
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    unsigned char *der = NULL, md[32];
    int len = x ? i2d_X509(x, &der) : -1, ok = len > 0 &&
              EVP_Digest(der, (size_t)len, md, NULL, EVP_sha256(), NULL) == 1;
    OPENSSL_free(der);
    X509_STORE_CTX *ctx = ok ? X509_STORE_CTX_new() : NULL;
    ok = ctx && X509_STORE_CTX_init(ctx, c->ca, x, NULL) == 1 &&
         X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) == 1 &&
         X509_verify_cert(ctx) == 1 && !X509_NAME_cmp(X509_get_subject_name(x), c->subject);
    X509_STORE_CTX_free(ctx);
    X509_free(x);
    if (!ok) return NULL;
    char *out = apr_palloc(r->pool, 44);
    b64url(md, sizeof md, out);
    return out;
}

/* the access token's signing input with cnf.<member> (x5t#S256 or jkt; the header and claims
 * of the fixed one) */
static const char *at_input_cnf(request_rec *r, const char *member, const char *value)
{
    const char *claims = apr_psprintf(r->pool,
        "{\"iss\":\"http://127.0.0.1\",\"sub\":\"benchuser\",\"aud\":\"urn:bench:api\","
        "\"client_id\":\"bench-bound\",\"scope\":\"openid\",\"iat\":1700000000,"
        "\"exp\":1700003600,\"jti\":\"ceilingjti0123456789\",\"cnf\":{\"%s\":\"%s\"}}", member,
        value);
    size_t n = strlen(claims);
    char *b = apr_palloc(r->pool, n / 3 * 4 + 5);
    b64url((const unsigned char *)claims, n, b);
    return apr_pstrcat(r->pool, "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImNlaWxpbmcifQ.",
                       b, NULL);
}

static int send_fixed(request_rec *r, int status, const char *ctype, const char *body)
{
    r->status = status;
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_type(r, ctype);
    ap_set_content_length(r, (apr_off_t)strlen(body));
    ap_rputs(body, r);
    return OK;
}

/* userinfo: a DPoP-bound access token of ours and its proof (see the header) */
static int userinfo(request_rec *r, const ceil_conf *c)
{
    const char *h = apr_table_get(r->headers_in, "Authorization");
    unsigned char payload[2048], md[32];
    char ath[48];
    int rv = ap_discard_request_body(r);
    if (rv != OK) return rv;
    if (!c->key || !c->dpop || !h || strncasecmp(h, "DPoP ", 5)) return HTTP_UNAUTHORIZED;
    const char *at = h + 5, *d1 = strchr(at, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    long pn;
    if (!d2 || !es256_verify(c->key, at, (size_t)(d2 - at), d2 + 1, strlen(d2 + 1)) ||
        (pn = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), payload, sizeof payload - 1)) <= 0)
        return HTTP_UNAUTHORIZED;
    payload[pn] = 0;
    if (EVP_Digest(at, strlen(at), md, NULL, EVP_sha256(), NULL) != 1) return HTTP_UNAUTHORIZED;
    b64url(md, sizeof md, ath);
    if (!dpop_ok(r, c->dpop, ath)) return HTTP_UNAUTHORIZED;
    const char *jkt = apr_table_get(r->notes, "ceiling-jkt"), *cnf;
    char want[64];
    snprintf(want, sizeof want, "\"jkt\":\"%s\"", jkt);
    if (!(cnf = strstr((const char *)payload, "\"cnf\":")) || !strstr(cnf, want))
        return HTTP_UNAUTHORIZED;
    return send_fixed(r, HTTP_OK, "application/json", "{\"sub\":\"benchuser\"}");
}

static int handler(request_rec *r)
{
    int kind;
    if (!r->handler) return DECLINED;
    if (!strcmp(r->handler, "oas-ceiling-par")) kind = 0;
    else if (!strcmp(r->handler, "oas-ceiling-auth")) kind = 1;
    else if (!strcmp(r->handler, "oas-ceiling-token")) kind = 2;
    else if (!strcmp(r->handler, "oas-ceiling-userinfo")) kind = 3;
    else return DECLINED;

    ceil_conf *c = ap_get_module_config(r->server->module_config, &oas_ceiling_module);
    if (kind == 3)
        return userinfo(r, c);
    if (kind == 0) {
        /* no storage: the state travels inside the request_uri, so the driver's checks of the
         * authorize answer hold without keeping anything */
        const char *body = read_body(r);
        if (!body) return HTTP_BAD_REQUEST;
        if (c->client_key && !assertion_ok(r, c->client_key, body))
            return HTTP_UNAUTHORIZED;
        if (c->dpop && !dpop_ok(r, c->dpop, NULL))
            return HTTP_BAD_REQUEST;
        if (c->ca && !mtls_x5t(r, c))
            return HTTP_UNAUTHORIZED;
        return send_fixed(r, HTTP_CREATED, "application/json",
                          apr_pstrcat(r->pool, PAR_JSON_HEAD, param(r, body, "state"),
                                      PAR_JSON_TAIL, NULL));
    }
    if (kind == 2 && c->client_key) {
        const char *body = read_body(r);
        if (!body) return HTTP_BAD_REQUEST;
        if (!assertion_ok(r, c->client_key, body)) return HTTP_UNAUTHORIZED;
    } else {
        int rv = ap_discard_request_body(r);
        if (rv != OK) return rv;
    }
    if (kind == 2 && c->dpop && !dpop_ok(r, c->dpop, NULL)) return HTTP_BAD_REQUEST;
    const char *at_input = AT_SIGNING_INPUT, *x5t;
    if (kind == 2 && c->ca) {
        if (!(x5t = mtls_x5t(r, c))) return HTTP_UNAUTHORIZED;
        at_input = at_input_cnf(r, "x5t#S256", x5t);
    }
    if (kind == 2 && c->dpop)       /* bound to the proof's key, as the answer says */
        at_input = at_input_cnf(r, "jkt", apr_table_get(r->notes, "ceiling-jkt"));
    if (r->header_only) return OK;
    if (kind == 1) {
        const char *state = r->args ? param(r, r->args, "state") : "";
        const char *ru = r->args ? param(r, r->args, "request_uri") : "";
        const char *mark = strstr(ru, "ceiling%3A");
        if (*ru && mark)       /* PAR flow: urn%3A...%3Aceiling%3A<state> */
            state = mark + 10;
        apr_table_setn(r->headers_out, "Location",
                       apr_pstrcat(r->pool, "https://rp.bench.test/cb?code="
                                   "ceilingFixedAuthorizationCode0123456789abcdef&state=",
                                   state, "&iss=http%3A%2F%2F127.0.0.1", NULL));
        apr_table_setn(r->headers_out, "Cache-Control", "no-store");
        r->status = HTTP_MOVED_TEMPORARILY;
        ap_set_content_length(r, 0);
        return OK;
    }
    const char *s1 = FIXED_SIG, *s2 = FIXED_SIG;
    if (c->key) {
        s1 = es256(r, c->key, at_input);
        s2 = es256(r, c->key, ID_SIGNING_INPUT);
        if (!s1 || !s2) return HTTP_INTERNAL_SERVER_ERROR;
    }
    return send_fixed(r, HTTP_OK, "application/json",
        apr_pstrcat(r->pool, "{\"access_token\":\"", at_input, ".", s1,
                    "\",\"token_type\":\"", c->dpop ? "DPoP" : "Bearer",
                    "\",\"expires_in\":3600,\"scope\":\"openid\","
                    "\"id_token\":\"", ID_SIGNING_INPUT, ".", s2, "\"}", NULL));
}

static const command_rec cmds[] = {
    AP_INIT_TAKE1("OASCeilingSignKey", set_key, NULL, RSRC_CONF,
                  "EC P-256 PEM key: sign two ES256 JWS per token answer"),
    AP_INIT_TAKE1("OASCeilingClientKey", set_key, (void *)1, RSRC_CONF,
                  "the client's EC P-256 public key (PEM): verify its ES256 client_assertion "
                  "at PAR and token"),
    AP_INIT_TAKE1("OASCeilingDPoP", set_dpop, NULL, RSRC_CONF,
                  "cache|import: verify the DPoP proof at PAR and token (keys cached per thread, "
                  "or imported for every proof)"),
    AP_INIT_TAKE2("OASCeilingMTLS", set_mtls, NULL, RSRC_CONF,
                  "CAFILE SUBJECT: check the TLS client certificate at PAR and token as "
                  "tls_client_auth does, and bind the access token to it"),
    {NULL}
};

static void register_hooks(apr_pool_t *p)
{
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(oas_ceiling) = {
    STANDARD20_MODULE_STUFF, NULL, NULL, create_conf, NULL, cmds, register_hooks
};
