/* mod_oauth_as: PKCE S256 check (RFC 7636 §4.1, §4.2, §4.6). */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#include "oas_pkce.h"
#include "oas_util.h"

/* base64url of a SHA-256 digest without padding: ceil(32 * 4 / 3) characters */
#define S256_CHALLENGE_LEN 43

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

int oas_pkce_valid_syntax(const char *s)
{
    apr_size_t n;

    if (s == NULL)
        return 0;
    /* stop at 129 characters: a 10 KB verifier (SECURITY.md B06) costs no more than a valid one */
    for (n = 0; s[n] != '\0'; n++) {
        if (n >= 128 || !is_unreserved((unsigned char)s[n]))
            return 0;
    }
    return n >= 43;
}

int oas_pkce_verify_s256(const char *verifier, const char *challenge)
{
    unsigned char digest[OAS_SHA256_LEN];
    /* EVP_EncodeBlock writes standard base64 with padding: 44 characters and a NUL for 32
     * bytes. The size depends only on the digest length, never on outside input. */
    unsigned char enc[4 * ((OAS_SHA256_LEN + 2) / 3) + 1];
    int i, n;

    /* RFC 7636 §4.1: a short verifier such as "abc" must fail even though its S256 value is a
     * well-formed challenge (SECURITY.md K06). */
    if (!oas_pkce_valid_syntax(verifier) || challenge == NULL)
        return 0;
    if (strlen(challenge) != S256_CHALLENGE_LEN)
        return 0; /* the length of the stored challenge is no secret */
    oas_sha256(digest, verifier, strlen(verifier));
    n = EVP_EncodeBlock(enc, digest, OAS_SHA256_LEN);
    if (n < S256_CHALLENGE_LEN)
        return 0;
    /* RFC 7636 Appendix A: base64url is base64 with '-' '_' and no '=' padding */
    for (i = 0; i < S256_CHALLENGE_LEN; i++) {
        if (enc[i] == '+')
            enc[i] = '-';
        else if (enc[i] == '/')
            enc[i] = '_';
    }
    return CRYPTO_memcmp(enc, challenge, S256_CHALLENGE_LEN) == 0;
}
