/* mod_oauth_as: the profiles' rules, and the configuration check against them. */
#include <apr_strings.h>

#include "oas_client_assertion.h"
#include "oas_directives.h"
#include "oas_jwk.h"
#include "oas_keys.h"
#include "oas_profile.h"

/* FAPI 2.0 Security Profile (Final) §5.3.2, §5.4.1 (next-wave.md §1.1). The row for none
 * allows everything, so a check reads the same whatever the profile. */
#define FAPI2_SP                                                                                   \
    .auth_methods = OAS_AUTH_PKJWT | OAS_AUTH_MTLS, /* 5.3.2.1-6 */                                \
        .algs = OAS_ALGBIT(OAS_ALG_PS256) | OAS_ALGBIT(OAS_ALG_ES256) |                            \
                OAS_ALGBIT(OAS_ALG_EDDSA), /* 5.4.1 */                                             \
        .code_ttl_max = 60,                /* 5.3.2.1-11 */                                        \
        .request_uri_ttl_max = 599,        /* 5.3.2.2-12: under 600 s */                           \
        .require_par = 1,                  /* 5.3.2.2-3 */                                         \
        .require_pkce = 1,                 /* 5.3.2.2-5 */                                         \
        .par_redirect_uri = 1,             /* 5.3.2.2-6 */                                         \
        .sender_constrained = 1,           /* 5.3.2.1-4 */                                         \
        .rotation_grace = 1,               /* 5.3.2.1-9 NOTE 1 */                                  \
        .strict_aud = 1,                   /* 5.3.2.1-8 */                                         \
        .see_other = 1                     /* 5.3.2.2-10 */

static const oas_profile_t profiles[] = {
    [OAS_PROFILE_NONE] = {"none", ~0, ~0u, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    [OAS_PROFILE_FAPI2] = {.name = "fapi2", FAPI2_SP},
    /* FAPI 2.0 Message Signing (Final) §5.3 and FAPI issue #576: JAR at the PAR endpoint and
     * JARM are required, not only supported */
    [OAS_PROFILE_FAPI2_MS] = {.name = "fapi2-message-signing", FAPI2_SP, .signed_requests = 1,
                              .signed_responses = 1},
};
#define N_PROFILES ((int)(sizeof(profiles) / sizeof(profiles[0])))

int oas_profile_from_name(const char *name)
{
    int i;

    for (i = 0; i < N_PROFILES; i++) {
        if (!strcasecmp(name, profiles[i].name))
            return i;
    }
    return OAS_UNSET;
}

const oas_profile_t *oas_iss_profile(const oas_issuer_t *iss)
{
    return &profiles[iss->profile != OAS_UNSET ? iss->profile : OAS_PROFILE_NONE];
}

const oas_profile_t *oas_client_profile(const oas_issuer_t *iss, const oas_client_t *c)
{
    return c->profile != OAS_UNSET ? &profiles[c->profile] : oas_iss_profile(iss);
}

/* ---- the configuration check: one function per rule over a client, one table ---- */

/* "DIRECTIVE in <OAuthASClient id> (file:line): what, which OAuthASProfile fapi2 forbids" */
#define FAULT(dir, fmt, ...)                                                                       \
    apr_psprintf(                                                                                  \
        p, dir " in <" OAS_DIR_CLIENT " %s> (%s): " fmt ", which " OAS_DIR_PROFILE " %s forbids",  \
        c->id, c->defined_at ? c->defined_at : "?", __VA_ARGS__, pr->name)

typedef const char *(*rule_fn)(apr_pool_t *p, const oas_issuer_t *iss, const oas_client_t *c,
                               const oas_profile_t *pr);

static const char *rule_methods(apr_pool_t *p, const oas_issuer_t *iss, const oas_client_t *c,
                                const oas_profile_t *pr)
{
    int bad = oas_client_auth_methods(c) & ~pr->auth_methods;

    (void)iss;
    if (!bad)
        return NULL;
    return FAULT(OAS_DIR_AUTH_METHOD,
                 "%s (only private_key_jwt, tls_client_auth, self_signed_tls_client_auth)",
                 (bad & OAS_AUTH_NONE) ? "none: a public client" : "a client secret method");
}

/* the switches of the block that the profile turns On, written Off */
static const char *rule_switches(apr_pool_t *p, const oas_issuer_t *iss, const oas_client_t *c,
                                 const oas_profile_t *pr)
{
    (void)iss;
    if (pr->require_par && c->require_par == 0)
        return FAULT(OAS_DIR_REQUIRE_PAR, "%s", "Off: authorization requests without PAR");
    if (pr->require_pkce && c->require_pkce == 0)
        return FAULT(OAS_DIR_REQUIRE_PKCE, "%s", "Off: authorization requests without PKCE");
    return NULL;
}

/* INTERFACE.md: fapi2 on a client means OAuthASDPoP Required unless its tokens are
 * certificate-bound; a value that says otherwise (its own, or Off inherited) contradicts it */
static const char *rule_sender(apr_pool_t *p, const oas_issuer_t *iss, const oas_client_t *c,
                               const oas_profile_t *pr)
{
    int dpop = c->dpop != OAS_UNSET ? c->dpop : iss->dpop;

    if (!pr->sender_constrained || oas_client_cert_bound(c))
        return NULL;
    if (dpop == OAS_DPOP_OFF || c->dpop == OAS_DPOP_ALLOWED)
        return FAULT(OAS_DIR_DPOP, "%s without " OAS_DIR_CERT_BOUND " On: bearer access tokens",
                     dpop == OAS_DPOP_OFF ? "Off" : "Allowed");
    return NULL;
}

static const char *rule_rotation(apr_pool_t *p, const oas_issuer_t *iss, const oas_client_t *c,
                                 const oas_profile_t *pr)
{
    if (!pr->rotation_grace || c->rt_rotation != 1 || oas_iss_rt_grace(iss) > 0)
        return NULL;
    return FAULT(OAS_DIR_RT_ROTATION, "%s",
                 "On with " OAS_DIR_RT_GRACE " 0: rotation without a retry");
}

static const char *rule_aud(apr_pool_t *p, const oas_issuer_t *iss, const oas_client_t *c,
                            const oas_profile_t *pr)
{
    (void)iss;
    return pr->strict_aud && c->assertion_aud == OAS_ASSERTION_AUD_LEGACY
               ? FAULT(OAS_DIR_ASSERTION_AUD, "%s", "Legacy: assertions naming the token endpoint")
               : NULL;
}

/* the keys a client signs with must allow an algorithm the profile and the server accept */
static const char *rule_keys(apr_pool_t *p, const oas_issuer_t *iss, const oas_client_t *c,
                             const oas_profile_t *pr)
{
    unsigned key_algs = 0;
    int i;

    for (i = 0; c->jwks && i < c->jwks->nelts; i++)
        key_algs |= APR_ARRAY_IDX(c->jwks, i, const oas_jwk_t *)->algs;
    if (!c->jwks || (key_algs & oas_client_signing_algs(iss, c)) || pr->algs == ~0u)
        return NULL;
    return FAULT(OAS_DIR_CLIENT_JWKS, "%s", "no key for PS256, ES256 or EdDSA");
}

/* request objects required: the client has keys to verify them with, and says nothing else */
static const char *rule_signed(apr_pool_t *p, const oas_issuer_t *iss, const oas_client_t *c,
                               const oas_profile_t *pr)
{
    (void)iss;
    if (!pr->signed_requests)
        return NULL;
    if (!c->jwks && !c->jwks_uri)
        return FAULT(OAS_DIR_CLIENT_JWKS, "%s", "missing: request objects cannot be verified");
    if (c->request_object == OAS_REQOBJ_OFF || c->request_object == OAS_REQOBJ_ALLOWED)
        return FAULT(OAS_DIR_REQUEST_OBJECT, "%s: unsigned authorization requests",
                     c->request_object == OAS_REQOBJ_OFF ? "Off" : "Allowed");
    return NULL;
}

static const rule_fn client_rules[] = {rule_methods, rule_switches, rule_sender, rule_rotation,
                                       rule_aud,     rule_keys,     rule_signed};

/* what a server-level setting must be when any of its clients or itself has a profile */
static void check_server(apr_array_header_t *faults, apr_pool_t *p, const oas_issuer_t *iss,
                         const oas_profile_t *pr)
{
    const oas_profile_t *own = oas_iss_profile(iss);
    const oas_key_t *k;
    int i;

    if (pr->code_ttl_max && oas_iss_code_ttl(iss) > pr->code_ttl_max)
        APR_ARRAY_PUSH(faults, const char *) = apr_psprintf(
            p, OAS_DIR_CODE_LIFETIME " %d: over %d s, which " OAS_DIR_PROFILE " %s forbids",
            oas_iss_code_ttl(iss), pr->code_ttl_max, pr->name);
    if (pr->request_uri_ttl_max && oas_iss_request_uri_ttl(iss) > pr->request_uri_ttl_max)
        APR_ARRAY_PUSH(faults, const char *) = apr_psprintf(
            p, OAS_DIR_REQUEST_URI_LIFE " %d: 600 s or more, which " OAS_DIR_PROFILE " %s forbids",
            oas_iss_request_uri_ttl(iss), pr->name);
    /* the keys that sign access tokens (the first) and ID tokens (the first RSA one) */
    for (i = 0; iss->keys && i < iss->keys->nelts; i++) {
        k = APR_ARRAY_IDX(iss->keys, i, const oas_key_t *);
        if (!(pr->algs & OAS_ALGBIT(k->alg)))
            APR_ARRAY_PUSH(faults, const char *) = apr_psprintf(
                p,
                OAS_DIR_SIGNING_KEY " %s signs %s, which " OAS_DIR_PROFILE " %s forbids "
                                    "(PS256, ES256 or EdDSA)",
                k->kid, k->alg_name, pr->name);
    }
    if (own != pr) /* the rest is about the server's own profile */
        return;
    if (iss->client_signing_algs != OAS_UNSET && (iss->client_signing_algs & ~pr->algs))
        APR_ARRAY_PUSH(faults, const char *) = apr_psprintf(
            p,
            OAS_DIR_CLIENT_SIGNING_ALGS ": an algorithm other than PS256, ES256 or EdDSA, "
                                        "which " OAS_DIR_PROFILE " %s forbids",
            pr->name);
    if (pr->require_par && iss->require_par == 0)
        APR_ARRAY_PUSH(faults, const char *) = apr_psprintf(
            p, OAS_DIR_REQUIRE_PAR " Off, which " OAS_DIR_PROFILE " %s forbids", pr->name);
    if (pr->signed_requests && iss->request_object != OAS_UNSET &&
        iss->request_object != OAS_REQOBJ_REQUIRED)
        APR_ARRAY_PUSH(faults, const char *) = apr_psprintf(
            p, OAS_DIR_REQUEST_OBJECT " %s, which " OAS_DIR_PROFILE " %s forbids",
            iss->request_object == OAS_REQOBJ_OFF ? "Off" : "Allowed", pr->name);
}

void oas_profile_check(apr_array_header_t *faults, apr_pool_t *p, const oas_issuer_t *iss)
{
    const oas_profile_t *strict = oas_iss_profile(iss);
    apr_hash_index_t *hi;
    const char *f;
    unsigned i;

    for (hi = iss->clients ? apr_hash_first(p, iss->clients) : NULL; hi; hi = apr_hash_next(hi)) {
        const oas_client_t *c = apr_hash_this_val(hi);
        const oas_profile_t *pr = oas_client_profile(iss, c);

        if (pr->algs != ~0u)
            strict = pr;
        for (i = 0; i < sizeof(client_rules) / sizeof(client_rules[0]); i++) {
            if ((f = client_rules[i](p, iss, c, pr)))
                APR_ARRAY_PUSH(faults, const char *) = f;
        }
    }
    if (strict->algs != ~0u)
        check_server(faults, p, iss, strict);
}
