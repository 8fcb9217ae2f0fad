/* mod_oauth_as: base64url, SHA-256, random tokens, constant-time compare.
 * OpenSSL's EVP and RAND_bytes do the cryptography; nothing here is allocated outside a pool. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>

#include "oas_util.h"

static const char b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* printable ASCII other than '"' and '\\': copied into and out of JSON strings as it is */
const unsigned char oas_json_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

const char *oas_b64url_encode(apr_pool_t *p, const unsigned char *data, apr_size_t len)
{
    char *out = apr_palloc(p, (len + 2) / 3 * 4 + 1);
    char *o = out;
    apr_size_t i;

    for (i = 0; i + 2 < len; i += 3) {
        *o++ = b64url_chars[data[i] >> 2];
        *o++ = b64url_chars[((data[i] & 3) << 4) | (data[i + 1] >> 4)];
        *o++ = b64url_chars[((data[i + 1] & 15) << 2) | (data[i + 2] >> 6)];
        *o++ = b64url_chars[data[i + 2] & 63];
    }
    if (len - i == 1) {
        *o++ = b64url_chars[data[i] >> 2];
        *o++ = b64url_chars[(data[i] & 3) << 4];
    }
    else if (len - i == 2) {
        *o++ = b64url_chars[data[i] >> 2];
        *o++ = b64url_chars[((data[i] & 3) << 4) | (data[i + 1] >> 4)];
        *o++ = b64url_chars[(data[i + 1] & 15) << 2];
    }
    *o = '\0';
    return out;
}

static int b64_value(int c, int url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

/* Shared decoder: inlen must already exclude padding. Rejects non-canonical trailing bits. */
static apr_status_t b64_decode(unsigned char **pout, apr_size_t *plen, apr_pool_t *p,
                               const char *in, apr_size_t inlen, int url)
{
    unsigned char *out;
    apr_size_t i, o = 0;
    unsigned int acc = 0;
    int bits = 0;

    if (inlen % 4 == 1)
        return APR_EINVAL;
    out = apr_palloc(p, inlen / 4 * 3 + 3);
    for (i = 0; i < inlen; i++) {
        int v = b64_value((unsigned char)in[i], url);
        if (v < 0)
            return APR_EINVAL;
        acc = (acc << 6) | (unsigned int)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0)
        return APR_EINVAL; /* leftover bits must be zero (canonical encoding) */
    out[o] = '\0';
    *pout = out;
    *plen = o;
    return APR_SUCCESS;
}

apr_status_t oas_b64url_decode(unsigned char **pout, apr_size_t *plen, apr_pool_t *p,
                               const char *in, apr_size_t inlen)
{
    return b64_decode(pout, plen, p, in, inlen, 1);
}

apr_status_t oas_b64_decode(unsigned char **pout, apr_size_t *plen, apr_pool_t *p,
                            const char *in, apr_size_t inlen)
{
    apr_size_t pad = 0;

    if (inlen % 4 != 0)
        return APR_EINVAL;
    while (pad < 2 && inlen > pad && in[inlen - 1 - pad] == '=')
        pad++;
    return b64_decode(pout, plen, p, in, inlen - pad, 0);
}

/* OpenSSL 3 looks EVP_sha256() up in the provider tables on every EVP_DigestInit, and a new
 * EVP_MD_CTX allocates a provider context each time: together more than the hashing of a
 * short key. One fetch per process, and one context per thread, reused (freed when the
 * thread exits). */
static EVP_MD *sha256_md;
static pthread_key_t sha256_ctx_key;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void ctx_free(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}

static void sha256_init_once(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (pthread_key_create(&sha256_ctx_key, ctx_free) != 0)
        sha256_ctx_key = (pthread_key_t)-1;
}

const EVP_MD *oas_md_sha256(void)
{
    pthread_once(&sha256_once, sha256_init_once);
    return sha256_md ? sha256_md : EVP_sha256();
}

int oas_sha256_parts(unsigned char out[OAS_SHA256_LEN], const oas_bytes_t *parts, int n)
{
    const EVP_MD *md = oas_md_sha256();
    EVP_MD_CTX *ctx = NULL, *own = NULL;
    unsigned int len = 0;
    int i, ok;

    if (sha256_ctx_key != (pthread_key_t)-1 && !(ctx = pthread_getspecific(sha256_ctx_key)) &&
        (ctx = EVP_MD_CTX_new()) && pthread_setspecific(sha256_ctx_key, ctx) != 0) {
        own = ctx; /* cannot keep it: used once, freed below */
    }
    if (!ctx)
        ctx = own = EVP_MD_CTX_new();
    ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) == 1;
    for (i = 0; ok && i < n; i++)
        ok = EVP_DigestUpdate(ctx, parts[i].data, parts[i].len) == 1;
    ok = ok && EVP_DigestFinal_ex(ctx, out, &len) == 1;
    if (!ok) /* allocation failure only; the caller fails, the zeros are never used */
        memset(out, 0, OAS_SHA256_LEN);
    EVP_MD_CTX_free(own);
    return ok;
}

void oas_sha256(unsigned char out[OAS_SHA256_LEN], const void *data, apr_size_t len)
{
    oas_bytes_t part = {data, len};
    oas_sha256_parts(out, &part, 1);
}

/* Random bytes for tokens, drawn from RAND_bytes a few hundred at a time: every RAND_bytes
 * call pays for a CTR-DRBG generate and re-key (measured: ~4 % of a PAR flow's server CPU
 * for three 16-32 byte calls). The reserve is per thread, handed-out bytes are wiped from
 * it, and a fork empties the forking thread's reserve in the child (the only thread a child
 * has), so two processes never hand out the same bytes - the guarantee OpenSSL's own fork
 * detection gives its DRBGs. */
#define RAND_RESERVE 512
static __thread unsigned char rand_reserve[RAND_RESERVE];
static __thread apr_size_t rand_left; /* unused bytes at the end of rand_reserve */
static pthread_once_t rand_once = PTHREAD_ONCE_INIT;

static void rand_forget_in_child(void)
{
    OPENSSL_cleanse(rand_reserve, sizeof(rand_reserve));
    rand_left = 0;
}

static void rand_init_once(void)
{
    pthread_atfork(NULL, NULL, rand_forget_in_child);
}

int oas_rand_bytes(unsigned char *out, apr_size_t n)
{
    unsigned char *from;

    if (n > RAND_RESERVE)
        return RAND_bytes(out, (int)n) == 1;
    pthread_once(&rand_once, rand_init_once);
    if (rand_left < n) {
        if (RAND_bytes(rand_reserve, RAND_RESERVE) != 1)
            return 0;
        rand_left = RAND_RESERVE;
    }
    from = rand_reserve + RAND_RESERVE - rand_left;
    memcpy(out, from, n);
    OPENSSL_cleanse(from, n);
    rand_left -= n;
    return 1;
}

apr_status_t oas_random_token(const char **ptok, apr_pool_t *p, apr_size_t nbytes)
{
    unsigned char buf[64];

    if (nbytes > sizeof(buf) || !oas_rand_bytes(buf, nbytes))
        return APR_EGENERAL;
    *ptok = oas_b64url_encode(p, buf, nbytes);
    OPENSSL_cleanse(buf, sizeof(buf));
    return APR_SUCCESS;
}

int oas_secure_streq(const char *a, const char *b)
{
    unsigned char da[OAS_SHA256_LEN], db[OAS_SHA256_LEN];

    if (!a || !b)
        return 0;
    oas_sha256(da, a, strlen(a));
    oas_sha256(db, b, strlen(b));
    return CRYPTO_memcmp(da, db, OAS_SHA256_LEN) == 0;
}

const char *oas_hex(apr_pool_t *p, const unsigned char *data, apr_size_t len)
{
    static const char hx[] = "0123456789abcdef";
    char *out = apr_palloc(p, len * 2 + 1);
    apr_size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = hx[data[i] >> 4];
        out[2 * i + 1] = hx[data[i] & 15];
    }
    out[2 * len] = '\0';
    return out;
}

apr_size_t oas_utf8_seq_len(const unsigned char *s, apr_size_t n)
{
    unsigned int c = s[0], cp;
    apr_size_t len, k;

    if ((c & 0xe0) == 0xc0) {
        len = 2;
        cp = c & 0x1f;
    }
    else if ((c & 0xf0) == 0xe0) {
        len = 3;
        cp = c & 0x0f;
    }
    else if ((c & 0xf8) == 0xf0) {
        len = 4;
        cp = c & 0x07;
    }
    else {
        return 0;
    }
    if (n < len)
        return 0;
    for (k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3f);
    }
    /* overlong forms, surrogates and values beyond U+10FFFF are invalid */
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    return len;
}

int oas_is_clean_utf8(const char *s, apr_size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i = 0, n;

    while (i < len) {
        if (u[i] < 0x80) {
            if (u[i] < 0x20 || u[i] == 0x7f)
                return 0;
            i++;
            continue;
        }
        if (!(n = oas_utf8_seq_len(u + i, len - i)))
            return 0;
        i += n;
    }
    return 1;
}
