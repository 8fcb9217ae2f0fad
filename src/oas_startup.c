/* mod_oauth_as: an issuer's start-up preparation (post_config, on every pass so that a fault
 * shows at the first). */
#include "oas_startup.h"
#include "oas_clients.h"
#include "oas_account.h"
#include "oas_consent.h"
#include "oas_dpop_nonce.h"
#include "oas_keys.h"
#include "oas_logout.h"
#include "oas_metadata.h"

/* INTERFACE.md: ID tokens are signed with the first RSA key (RS256 is OpenID Connect's
 * default algorithm, the one every relying party supports), else with the first key. */
static const oas_key_t *id_token_key(const apr_array_header_t *keys)
{
    int i;

    for (i = 0; i < keys->nelts; i++) {
        const oas_key_t *k = APR_ARRAY_IDX(keys, i, oas_key_t *);
        if (k->alg == OAS_ALG_RS256 || k->alg == OAS_ALG_PS256)
            return k;
    }
    return APR_ARRAY_IDX(keys, 0, oas_key_t *);
}

static int has_public_clients(apr_pool_t *p, const oas_issuer_t *iss)
{
    apr_hash_index_t *hi;

    if (oas_iss_cimd(iss)) /* a metadata document may name the method none (oas_cimd.h) */
        return 1;
    for (hi = iss->clients ? apr_hash_first(p, iss->clients) : NULL; hi; hi = apr_hash_next(hi)) {
        if (oas_client_is_public(apr_hash_this_val(hi)))
            return 1;
    }
    return 0;
}

/* How long the record of a user's claims must last: as long as the longest-lived access token
 * any client may hold (oas_client_at_ttl), so that no issuance shortens it under another's. */
static int at_ttl_max(apr_pool_t *p, const oas_issuer_t *iss)
{
    apr_hash_index_t *hi;
    int max = oas_iss_at_ttl(iss), t;

    for (hi = iss->resources ? apr_hash_first(p, iss->resources) : NULL; hi; hi = apr_hash_next(hi))
        if ((t = oas_client_at_ttl(iss, NULL, apr_hash_this_val(hi))) > max)
            max = t;
    for (hi = iss->clients ? apr_hash_first(p, iss->clients) : NULL; hi; hi = apr_hash_next(hi))
        if ((t = oas_client_at_ttl(iss, apr_hash_this_val(hi), NULL)) > max)
            max = t;
    return max;
}

/* OAuthASDPoPNonce is On for the server or one of its clients. */
static int dpop_nonces(apr_pool_t *p, const oas_issuer_t *iss)
{
    apr_hash_index_t *hi;

    if (oas_iss_dpop_nonce(iss))
        return 1;
    for (hi = iss->clients ? apr_hash_first(p, iss->clients) : NULL; hi; hi = apr_hash_next(hi))
        if (oas_client_dpop_nonce(iss, apr_hash_this_val(hi)))
            return 1;
    return 0;
}

/* A page's built-in template, unless the site gave its own (*pt set). */
static apr_status_t builtin_page(const oas_tmpl_t **pt, const char **perr, apr_pool_t *p,
                                 const char *text)
{
    oas_tmpl_t *t;

    if (*pt)
        return APR_SUCCESS;
    if (oas_tmpl_parse(&t, perr, p, text, strlen(text)) != APR_SUCCESS)
        return APR_EINVAL;
    *pt = t;
    return APR_SUCCESS;
}

apr_status_t oas_startup_prepare(const char **perr, oas_issuer_t *iss, apr_pool_t *p)
{
    oas_dpop_nonce_key_t *nk;

    *perr = NULL;
    iss->id_token_key = id_token_key(iss->keys);
    /* dynamic clients may be public (oas_registration.h) */
    iss->has_public_clients = has_public_clients(p, iss) || oas_iss_registration(iss) != OAS_REG_OFF;
    iss->at_ttl_max = at_ttl_max(p, iss);
    if (builtin_page(&iss->consent_tmpl, perr, p, oas_consent_default_template()) ||
        builtin_page(&iss->account_tmpl, perr, p, oas_account_default_template()) ||
        builtin_page(&iss->logout_tmpl, perr, p, oas_logout_default_template()))
        return APR_EINVAL;
    /* every node with the same first signing key derives the same key: no shared state */
    if (dpop_nonces(p, iss)) {
        if (oas_dpop_nonce_key(&nk, p, APR_ARRAY_IDX(iss->keys, 0, const oas_key_t *),
                               iss->issuer) != APR_SUCCESS) {
            *perr = "OAuthASDPoPNonce: no nonce key can be derived from the first signing key";
            return APR_ENOTIMPL;
        }
        iss->dpop_nonce_key = nk;
    }
    /* the metadata lists the ID token's algorithm and the "none" method of public clients:
     * built after both are known */
    iss->jwks_json = oas_keys_jwks_json(p, iss->keys);
    iss->metadata_json = oas_metadata_json(p, iss);
    return (iss->jwks_json && iss->metadata_json) ? APR_SUCCESS : APR_EGENERAL;
}
