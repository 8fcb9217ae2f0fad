/* mod_oauth_as: small crypto and encoding helpers (base64url, SHA-256, random tokens,
 * constant-time comparison). Everything allocates from the pool it is given. */
#ifndef OAS_UTIL_H
#define OAS_UTIL_H

#include <openssl/evp.h>

#include "oas.h"

#define OAS_SHA256_LEN 32

/** base64url without padding (RFC 7515 §2) of len bytes, NUL-terminated, in p. */
const char *oas_b64url_encode(apr_pool_t *p, const unsigned char *data, apr_size_t len);

/** Decode base64url (no padding, no whitespace). Returns APR_EINVAL on any other byte.
 * *pout is NUL-terminated (not counted in *plen). */
apr_status_t oas_b64url_decode(unsigned char **pout, apr_size_t *plen, apr_pool_t *p,
                               const char *in, apr_size_t inlen);

/** Decode standard base64 with padding (RFC 4648 §4), as in HTTP Basic. Strict. */
apr_status_t oas_b64_decode(unsigned char **pout, apr_size_t *plen, apr_pool_t *p,
                            const char *in, apr_size_t inlen);

/** SHA-256 of data into out. */
void oas_sha256(unsigned char out[OAS_SHA256_LEN], const void *data, apr_size_t len);

typedef struct {
    const void *data;
    apr_size_t len;
} oas_bytes_t;

/** SHA-256 of the concatenation of n parts, with a context kept per thread.
 * @return 1, or 0 when OpenSSL could not allocate (out is then zeroed) */
int oas_sha256_parts(unsigned char out[OAS_SHA256_LEN], const oas_bytes_t *parts, int n);

/** SHA-256, fetched from the default provider once per process (EVP_sha256() is looked up
 * again on every use in OpenSSL 3). Never freed: it lives as long as the process. */
const EVP_MD *oas_md_sha256(void);

/** n random bytes from RAND_bytes, through a small per-thread reserve that a fork empties.
 * @return 1, or 0 when the RNG fails */
int oas_rand_bytes(unsigned char *out, apr_size_t n);

/** 1 for the bytes a JSON string holds unescaped and a reader passes as they are (printable
 * ASCII other than '"' and '\\'), 0 for the rest (oas_jsonr.c, oas_jsonw.c). */
extern const unsigned char oas_json_plain[256];

/** A fresh secret: nbytes from oas_rand_bytes, base64url-encoded. APR_EGENERAL if the RNG
 * fails. */
apr_status_t oas_random_token(const char **ptok, apr_pool_t *p, apr_size_t nbytes);

/** Constant-time comparison of two strings of possibly different length
 * (compares SHA-256 digests, so the time does not depend on where they differ). */
int oas_secure_streq(const char *a, const char *b);

/** Lower-case hex of len bytes. */
const char *oas_hex(apr_pool_t *p, const unsigned char *data, apr_size_t len);

/** True when s is non-empty valid UTF-8 with no control characters below 0x20 (or 0x7f). */
int oas_is_clean_utf8(const char *s, apr_size_t len);

/** Length of the valid multi-byte UTF-8 sequence at s (of at most n bytes), or 0 when it is
 * not one (overlong, surrogate, beyond U+10FFFF, truncated, or s[0] < 0x80). */
apr_size_t oas_utf8_seq_len(const unsigned char *s, apr_size_t n);

/** A spinning waiter's pause: lets the other hyper-thread run and saves power. */
static inline void oas_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
