/* mod_oauth_as: hashed client secrets (oas_secret.h). */
#include <apr_md5.h>
#include <apr_strings.h>
#include <string.h>

#include "oas_secret.h"
#include "oas_util.h"

#define SALT_LEN 16 /* what apr_bcrypt_encode needs */

int oas_secret_is_hash(const char *s)
{
    static const char *const prefixes[] = {"$apr1$", "$2y$", "$2a$", "$2b$", "{SHA}",
                                           "$1$",    "$5$",  "$6$",  NULL};
    int i;

    for (i = 0; s && prefixes[i]; i++) {
        if (!strncmp(s, prefixes[i], strlen(prefixes[i])))
            return 1;
    }
    return 0;
}

apr_status_t oas_secret_hash(const char **phash, apr_pool_t *p, const char *secret, int cost)
{
    unsigned char salt[SALT_LEN];
    char out[64];
    apr_size_t len = secret ? strlen(secret) : 0;

    *phash = NULL;
    if (!len || len > OAS_SECRET_BCRYPT_MAX || cost < OAS_SECRET_BCRYPT_MIN_COST ||
        cost > OAS_SECRET_BCRYPT_MAX_COST)
        return APR_EINVAL;
    if (!oas_rand_bytes(salt, sizeof(salt)) ||
        apr_bcrypt_encode(secret, (unsigned)cost, salt, sizeof(salt), out, sizeof(out)) !=
            APR_SUCCESS)
        return APR_EGENERAL;
    *phash = apr_pstrdup(p, out);
    return APR_SUCCESS;
}
