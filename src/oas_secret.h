/* mod_oauth_as: client secrets kept as htpasswd-style hashes (OAuthASClientSecret, registered
 * clients' records): which values are hashes, and making one (bcrypt, what
 * apr_password_validate checks). */
#ifndef OAS_SECRET_H
#define OAS_SECRET_H

#include "oas.h"

/* bcrypt reads at most this many bytes of a secret: a longer one would be checked by its
 * first 72 bytes only, so we refuse to hash it */
#define OAS_SECRET_BCRYPT_MAX 72
#define OAS_SECRET_BCRYPT_MIN_COST 4
#define OAS_SECRET_BCRYPT_MAX_COST 17

/** 1 when s is a hash apr_password_validate checks ($2y$, $2a$, $2b$ bcrypt, $apr1$, $1$, $5$,
 * $6$, {SHA}), 0 for a plaintext secret. */
int oas_secret_is_hash(const char *s);

/** The bcrypt hash ($2y$) of secret with a random salt, at cost (a work factor of 2^cost).
 * @param phash receives the hash in p
 * @return APR_SUCCESS; APR_EINVAL an empty secret, one over OAS_SECRET_BCRYPT_MAX bytes or
 *         a cost outside OAS_SECRET_BCRYPT_MIN_COST..MAX_COST; APR_EGENERAL the RNG or bcrypt
 *         failed */
apr_status_t oas_secret_hash(const char **phash, apr_pool_t *p, const char *secret, int cost);

#endif
