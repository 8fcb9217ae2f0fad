/* mod_oauth_as: public JSON Web Keys (RFC 7517/7518, RFC 8037) of clients: a JWK Set read
 * from a file or a jwks_uri, or one JWK from a JOSE header (DPoP). Only public keys of the
 * types we verify are accepted. */
#ifndef OAS_JWK_H
#define OAS_JWK_H

#include <openssl/evp.h>

#include "oas.h"

typedef struct oas_jwk_t {
    EVP_PKEY *pkey;      /* public key; freed with the pool it was parsed into */
    const char *kid;     /* NULL when the JWK has none */
    const char *kty;     /* "RSA", "EC", "OKP" */
    unsigned algs;       /* OAS_ALGBIT() of every alg this key may verify: its "alg" member
                          * alone when present, else each alg of its type and curve */
    const char *x5c0;    /* base64 (not url) DER of x5c[0] when present, else NULL */
} oas_jwk_t;

#endif
