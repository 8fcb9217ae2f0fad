/* mod_oauth_as: client authentication methods client_secret_basic, client_secret_post,
 * none (public clients) and the JWT assertions (oas_client_assertion.c), with a per-process
 * cache of verified hashed secrets. */
#include <apr_md5.h>
#include <apr_thread_mutex.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "oas_clients.h"
#include "oas_client_assertion.h"
#include "oas_client_auth.h"
#include "oas_log.h"
#include "oas_metrics.h"
#include "oas_mtls.h"
#include "oas_util.h"

#define CACHE_SLOTS 256

/* A small direct-mapped cache of SHA-256(client id, hash, presented secret) that were
 * verified. Only successes are cached, so a wrong secret always pays the full hash cost. */
typedef struct {
    apr_thread_mutex_t *lock;
    unsigned char slot[CACHE_SLOTS][OAS_SHA256_LEN];
} secret_cache_t;

static secret_cache_t *cache;

apr_status_t oas_client_auth_init(apr_pool_t *p)
{
    secret_cache_t *c = apr_pcalloc(p, sizeof(*c));
    apr_status_t rv = apr_thread_mutex_create(&c->lock, APR_THREAD_MUTEX_DEFAULT, p);

    if (rv == APR_SUCCESS)
        cache = c;
    return rv;
}

static void cache_key(unsigned char out[OAS_SHA256_LEN], const oas_client_t *c,
                      const char *presented)
{
    oas_bytes_t parts[3] = {{c->id, strlen(c->id) + 1},
                            {c->secret, strlen(c->secret) + 1},
                            {presented, strlen(presented)}};

    oas_sha256_parts(out, parts, 3);
}

static int hashed_secret_ok(const oas_client_t *c, const char *presented)
{
    unsigned char key[OAS_SHA256_LEN];
    unsigned int idx;
    int hit = 0;

    cache_key(key, c, presented);
    idx = key[0] % CACHE_SLOTS;
    if (cache && apr_thread_mutex_lock(cache->lock) == APR_SUCCESS) {
        hit = CRYPTO_memcmp(cache->slot[idx], key, OAS_SHA256_LEN) == 0;
        apr_thread_mutex_unlock(cache->lock);
    }
    if (hit)
        return 1;
    if (apr_password_validate(presented, c->secret) != APR_SUCCESS)
        return 0;
    if (cache && apr_thread_mutex_lock(cache->lock) == APR_SUCCESS) {
        memcpy(cache->slot[idx], key, OAS_SHA256_LEN);
        apr_thread_mutex_unlock(cache->lock);
    }
    return 1;
}

int oas_client_secret_ok(const oas_client_t *c, const char *presented)
{
    if (!c->secret || !presented)
        return 0;
    if (c->secret_hashed)
        return hashed_secret_ok(c, presented);
    return oas_secure_streq(c->secret, presented);
}

#define DENY(st, code, desc)                                                                      \
    do {                                                                                        \
        OAS_ERR_SET(err, st, code, desc);                                                       \
        return APR_EINVAL;                                                                      \
    } while (0)

/* The client named id, when it may use the method (bit, name) and secret is right (for the
 * secret methods); else *err says, for the log, which of the three failed. */
static apr_status_t check_client(const oas_client_t **pc, oas_err_t *err, oas_ctx_t *x,
                                 const char *id, int bit, const char *method, const char *secret)
{
    const oas_client_t *c = oas_ctx_client(x, id);
    apr_pool_t *p = x->p;

    if (!c)
        return oas_err(err, p, 401, "invalid_client", "client authentication failed",
                       OAS_LOG_INFO, OAS_LOGNO(03005) "%s: unknown client id %s", method, id);
    /* RFC 8705 §2: a client_id alone, from a client of an mTLS method, is that method */
    if (bit == OAS_AUTH_NONE && (c->auth_methods & OAS_AUTH_MTLS)) {
        if (oas_mtls_authenticate(err, x, c) != APR_SUCCESS)
            return APR_EINVAL;
        *pc = c;
        return APR_SUCCESS;
    }
    if (!(c->auth_methods & bit))
        return oas_err(err, p, 401, "invalid_client", "client authentication failed",
                       OAS_LOG_INFO, OAS_LOGNO(03006) "client %s may not use %s", id, method);
    if (bit != OAS_AUTH_NONE && !oas_client_secret_ok(c, secret))
        return oas_err(err, p, 401, "invalid_client", "client authentication failed",
                       OAS_LOG_INFO, OAS_LOGNO(03007) "client %s: wrong secret (%s)", id,
                       method);
    *pc = c;
    return APR_SUCCESS;
}

/* RFC 7521 §4.2 with RFC 7523 §2.2: the assertion's type must be ours, and it stands
 * alone: a request that also carries a secret uses two methods. */
static apr_status_t by_assertion(const oas_client_t **pc, oas_err_t *err, oas_ctx_t *x,
                                 int basic, apr_table_t *form)
{
    const char *type = apr_table_get(form, "client_assertion_type");
    const char *assertion = apr_table_get(form, "client_assertion");

    if (basic > 0 || apr_table_get(form, "client_secret"))
        DENY(400, "invalid_request", "more than one client authentication method");
    if (!type || !assertion)
        DENY(400, "invalid_request", "client_assertion and client_assertion_type go together");
    if (strcmp(type, OAS_ASSERTION_TYPE))
        DENY(400, "invalid_request", "unsupported client_assertion_type");
    return oas_client_assertion_verify(pc, err, x, assertion, apr_table_get(form, "client_id"));
}

static apr_status_t authenticate(const oas_client_t **pc, oas_err_t *err, oas_ctx_t *x, int basic,
                                 const char *basic_id, const char *basic_secret,
                                 apr_table_t *form)
{
    const char *form_id = apr_table_get(form, "client_id");
    const char *form_secret = apr_table_get(form, "client_secret");

    *pc = NULL;
    if (basic < 0)
        DENY(401, "invalid_client", "malformed Basic authorization header");
    if (apr_table_get(form, "client_assertion") || apr_table_get(form, "client_assertion_type"))
        return by_assertion(pc, err, x, basic, form);
    if (basic > 0) {
        /* RFC 6749 §2.3: one method per request */
        if (form_secret)
            DENY(400, "invalid_request", "more than one client authentication method");
        if (form_id && strcmp(form_id, basic_id))
            DENY(400, "invalid_request", "client_id does not match the authenticated client");
        return check_client(pc, err, x, basic_id, OAS_AUTH_BASIC, "client_secret_basic",
                            basic_secret);
    }
    if (!form_id)
        DENY(401, "invalid_client", "client authentication required");
    if (form_secret)
        return check_client(pc, err, x, form_id, OAS_AUTH_POST, "client_secret_post",
                            form_secret);
    return check_client(pc, err, x, form_id, OAS_AUTH_NONE, "none (public client)", NULL);
}

/* The method a failed authentication tried (metrics). */
static oas_metrics_auth_e tried_method(const oas_ctx_t *x, int basic, apr_table_t *form)
{
    if (apr_table_get(form, "client_assertion") || apr_table_get(form, "client_assertion_type"))
        return OAS_MA_JWT;
    if (basic)
        return OAS_MA_BASIC;
    if (apr_table_get(form, "client_secret"))
        return OAS_MA_POST;
    return x->cert ? OAS_MA_TLS : OAS_MA_NONE;
}

apr_status_t oas_client_authenticate(const oas_client_t **pc, oas_err_t *err, oas_ctx_t *x,
                                     int basic, const char *basic_id, const char *basic_secret,
                                     apr_table_t *form)
{
    apr_status_t rv = authenticate(pc, err, x, basic, basic_id, basic_secret, form);

    if (rv != APR_SUCCESS && err->status == 401)
        oas_metrics_auth_failure(tried_method(x, basic, form));
    return rv;
}
