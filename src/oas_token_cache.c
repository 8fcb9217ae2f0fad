/* mod_oauth_as: the per-process cache of verified access tokens (oas_token_cache.h). */
#include <apr_thread_mutex.h>
#include <stdlib.h>
#include <string.h>

#include "oas_json.h"
#include "oas_token_cache.h"

#define STRIPES 32 /* locks: threads of one process rarely wait on each other */

typedef struct {
    const void *issuer;
    char *tok;      /* malloc'd copy; NULL: empty */
    apr_size_t len;
    apr_int64_t exp;
    json_t *claims; /* our reference */
    int unlinked;   /* no per-token record (oas_liveness.h) */
} slot_t;

struct oas_token_cache_t {
    apr_thread_mutex_t *locks[STRIPES];
    slot_t slots[OAS_TOKEN_CACHE_SLOTS];
    apr_uint64_t hits, misses; /* atomic */
};

static void clear(slot_t *s)
{
    free(s->tok);
    json_decref(s->claims);
    memset(s, 0, sizeof(*s));
}

static apr_status_t release_all(void *data)
{
    oas_token_cache_t *tc = data;
    int i;

    for (i = 0; i < OAS_TOKEN_CACHE_SLOTS; i++)
        clear(&tc->slots[i]);
    return APR_SUCCESS;
}

oas_token_cache_t *oas_token_cache_create(apr_pool_t *p)
{
    oas_token_cache_t *tc = apr_pcalloc(p, sizeof(*tc));
    int i;

    for (i = 0; i < STRIPES; i++) {
        if (apr_thread_mutex_create(&tc->locks[i], APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS)
            return NULL;
    }
    apr_pool_cleanup_register(p, tc, release_all, apr_pool_cleanup_null);
    return tc;
}

/* FNV-1a over the token's last 64 bytes (a signature's: what differs between tokens); only
 * spreads tokens over the slots, the comparison decides */
static unsigned slot_of(const char *tok, apr_size_t len)
{
    const unsigned char *s = (const unsigned char *)tok + (len > 64 ? len - 64 : 0);
    apr_uint32_t h = 2166136261u;

    for (; *s; s++)
        h = (h ^ *s) * 16777619u;
    return h % OAS_TOKEN_CACHE_SLOTS;
}

/* s holds tok of issuer (under its lock) */
static int holds(const slot_t *s, const void *issuer, const char *tok, apr_size_t len)
{
    return s->tok && s->issuer == issuer && s->len == len && !memcmp(s->tok, tok, len);
}

json_t *oas_token_cache_get(oas_token_cache_t *tc, const void *issuer, const char *tok,
                            apr_int64_t now, apr_int64_t leeway, apr_pool_t *p, int *punlinked)
{
    apr_size_t len = strlen(tok);
    unsigned i = slot_of(tok, len);
    apr_thread_mutex_t *lock = tc->locks[i % STRIPES];
    slot_t *s = &tc->slots[i];
    json_t *c = NULL;

    apr_thread_mutex_lock(lock);
    if (holds(s, issuer, tok, len) && s->exp + leeway >= now) {
        c = json_incref(s->claims);
        *punlinked = s->unlinked;
    }
    apr_thread_mutex_unlock(lock);
    __atomic_fetch_add(c ? &tc->hits : &tc->misses, 1, __ATOMIC_RELAXED);
    return c ? oas_json_adopt(p, c) : NULL;
}

void oas_token_cache_put(oas_token_cache_t *tc, const void *issuer, const char *tok,
                         const json_t *claims, apr_int64_t exp)
{
    apr_size_t len = strlen(tok);
    unsigned i = slot_of(tok, len);
    apr_thread_mutex_t *lock = tc->locks[i % STRIPES];
    slot_t *s = &tc->slots[i], old;
    json_t *copy;
    char *t;

    if (len > OAS_TOKEN_CACHE_MAX_LEN)
        return;
    copy = json_deep_copy(claims);
    t = malloc(len + 1);
    if (!copy || !t) {
        json_decref(copy);
        free(t);
        return;
    }
    memcpy(t, tok, len + 1);
    apr_thread_mutex_lock(lock);
    old = *s;
    s->issuer = issuer;
    s->tok = t;
    s->len = len;
    s->exp = exp;
    s->claims = copy;
    s->unlinked = 0;
    apr_thread_mutex_unlock(lock);
    clear(&old); /* a request holding the old claims keeps its own reference */
}

void oas_token_cache_unlinked(oas_token_cache_t *tc, const void *issuer, const char *tok)
{
    apr_size_t len = strlen(tok);
    unsigned i = slot_of(tok, len);
    apr_thread_mutex_t *lock = tc->locks[i % STRIPES];
    slot_t *s = &tc->slots[i];

    apr_thread_mutex_lock(lock);
    if (holds(s, issuer, tok, len))
        s->unlinked = 1;
    apr_thread_mutex_unlock(lock);
}

void oas_token_cache_counts(oas_token_cache_t *tc, apr_uint64_t *hits, apr_uint64_t *misses)
{
    *hits = __atomic_load_n(&tc->hits, __ATOMIC_RELAXED);
    *misses = __atomic_load_n(&tc->misses, __ATOMIC_RELAXED);
}
