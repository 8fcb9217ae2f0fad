/* mod_oauth_as: a DPoP proof's key (oas_dpop_key.h). A client signs its proofs with one key
 * for as long as its tokens live (RFC 9449 §1), so the jwk a thread meets is mostly one it has
 * met: importing it again (EVP_PKEY_fromdata, and for P-256 the group's set-up) costs a
 * quarter of an ES256 proof's check. Each thread keeps the last keys it imported under their
 * exact JWK text: what oas_jwk_parse makes of a text depends on the text alone, so a hit
 * gives what a new import would. Nothing is shared between threads; a request's pool holds
 * its own reference to a cached key, so an eviction never frees a key in use. */
#include <pthread.h>
#include <stdlib.h>

#include "oas_dpop_key.h"
#include "oas_jsonr.h"
#include "oas_keys.h"

#define JKT_LEN 43 /* base64url of a SHA-256 */

typedef struct {
    char *text; /* the JWK as received (malloc), NULL: a free slot */
    apr_size_t len;
    EVP_PKEY *pkey;  /* one reference, the cache's */
    const char *kty; /* static */
    unsigned algs;
    char jkt[JKT_LEN + 1];
} key_entry_t;

typedef struct {
    key_entry_t e[OAS_DPOP_KEY_CACHE];
    unsigned next; /* the slot the next import takes (oldest first) */
} key_cache_t;

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static int cache_usable;

static void cache_free(void *data)
{
    key_cache_t *c = data;
    int i;

    for (i = 0; i < OAS_DPOP_KEY_CACHE; i++) {
        free(c->e[i].text);
        EVP_PKEY_free(c->e[i].pkey);
    }
    free(c);
}

static void cache_init(void)
{
    cache_usable = pthread_key_create(&cache_key, cache_free) == 0;
}

/* This thread's cache, made on first use; NULL when none can be had (then every key is
 * imported: slower, never wrong). */
static key_cache_t *cache_get(void)
{
    key_cache_t *c;

    pthread_once(&cache_once, cache_init);
    if (!cache_usable)
        return NULL;
    if (!(c = pthread_getspecific(cache_key)) && (c = calloc(1, sizeof(*c))) != NULL &&
        pthread_setspecific(cache_key, c) != 0) {
        free(c);
        c = NULL;
    }
    return c;
}

static apr_status_t pkey_release(void *pk)
{
    EVP_PKEY_free(pk);
    return APR_SUCCESS;
}

static const char *static_kty(const char *kty)
{
    return !strcmp(kty, "RSA") ? "RSA" : !strcmp(kty, "EC") ? "EC" : "OKP";
}

static oas_jwk_t *cache_find(const char **pjkt, apr_pool_t *p, key_cache_t *c, const char *jwk,
                             apr_size_t len)
{
    int i;

    for (i = 0; i < OAS_DPOP_KEY_CACHE; i++) {
        const key_entry_t *e = &c->e[i];
        oas_jwk_t *k;

        if (!e->text || e->len != len || memcmp(e->text, jwk, len))
            continue;
        if (EVP_PKEY_up_ref(e->pkey) != 1)
            return NULL;
        k = apr_pcalloc(p, sizeof(*k));
        k->pkey = e->pkey;
        apr_pool_cleanup_register(p, k->pkey, pkey_release, apr_pool_cleanup_null);
        k->kty = e->kty;
        k->algs = e->algs;
        *pjkt = apr_pstrdup(p, e->jkt);
        return k;
    }
    return NULL;
}

static void cache_put(key_cache_t *c, const char *jwk, apr_size_t len, const oas_jwk_t *k,
                      const char *jkt)
{
    key_entry_t *e = &c->e[c->next];
    char *text;

    if (strlen(jkt) != JKT_LEN || !(text = malloc(len)))
        return;
    if (EVP_PKEY_up_ref(k->pkey) != 1) {
        free(text);
        return;
    }
    free(e->text);
    EVP_PKEY_free(e->pkey);
    memcpy(text, jwk, len);
    e->text = text;
    e->len = len;
    e->pkey = k->pkey;
    e->kty = static_kty(k->kty);
    e->algs = k->algs;
    memcpy(e->jkt, jkt, JKT_LEN + 1);
    c->next = (c->next + 1) % OAS_DPOP_KEY_CACHE;
}

apr_status_t oas_dpop_key(oas_jwk_t **pk, const char **pjkt, const char **why, apr_pool_t *p,
                          const char *jwk, apr_size_t len)
{
    key_cache_t *c = len <= OAS_DPOP_KEY_CACHE_MAX_LEN ? cache_get() : NULL;
    oas_jobj_t m;

    if (c && (*pk = cache_find(pjkt, p, c, jwk, len)) != NULL)
        return APR_SUCCESS;
    if (oas_jwk_parse(pk, why, p, jwk, len) != APR_SUCCESS)
        return APR_EINVAL;
    /* The thumbprint from the members as the client wrote them (oas_jwk_parse checked them:
     * EC and OKP coordinates of their exact length, so in their one base64url form), as the
     * client computes its own jkt, and because reading EC coordinates back from an EVP_PKEY
     * costs more than the hash. */
    if (oas_jsonr_parse_ex(&m, p, jwk, len, OAS_JSONR_NUMBERS) != APR_SUCCESS) {
        *why = "jwk not a flat enough JSON object"; /* jansson took it, our reader did not */
        return APR_EINVAL;
    }
    *pjkt = oas_jwk_members_thumbprint(p, (*pk)->kty, oas_jobj_str(&m, "crv"),
                                       oas_jobj_str(&m, "x"), oas_jobj_str(&m, "y"),
                                       oas_jobj_str(&m, "e"), oas_jobj_str(&m, "n"));
    if (c)
        cache_put(c, jwk, len, *pk, *pjkt);
    return APR_SUCCESS;
}
