/* mod_oauth_as: OAuthASProfile (INTERFACE.md "FAPI 2.0"): what a profile makes the rule for a
 * server or a client, written once as a table. The existing checks consult it: the getters
 * of oas_conf.h (PAR, DPoP, signing algorithms), the authorization request (PKCE, redirect_uri
 * at PAR) and the configuration check (oas_profile_check: a configuration that contradicts
 * the profile fails `apache2 -t` naming the directive). */
#ifndef OAS_PROFILE_H
#define OAS_PROFILE_H

#include "oas_conf.h"

#define OAS_PROFILE_NONE 0
#define OAS_PROFILE_FAPI2 1 /* FAPI 2.0 Security Profile (Final) */
#define OAS_PROFILE_FAPI2_MS 2 /* that, and FAPI 2.0 Message Signing (Final) §5.3, §5.4 */

typedef struct oas_profile_t {
    const char *name;        /* as written in OAuthASProfile */
    int auth_methods;        /* the OAS_AUTH_* a client may use */
    unsigned algs;           /* OAS_ALGBIT set of every JWT signed, by clients or by us */
    int code_ttl_max;        /* OAuthASCodeLifetime at most this (0: any) */
    int request_uri_ttl_max; /* OAuthASRequestURILifetime at most this (0: any) */
    int require_par;         /* plain authorization requests refused */
    int require_pkce;        /* PKCE (S256, the only method we take) on every request */
    int par_redirect_uri;    /* redirect_uri required in the pushed request */
    int sender_constrained;  /* access tokens bound: a DPoP proof, or a certificate */
    int rotation_grace;      /* refresh-token rotation only with OAuthASRefreshTokenGrace */
    int strict_aud;          /* assertions name the issuer alone as aud */
    int see_other;           /* 303 for redirects that carry a code (FAPI-SP 5.3.2.2-10) */
    int signed_requests;     /* every authorization request a request object (JAR) */
    int signed_responses;    /* every authorization response a JWT (JARM) */
} oas_profile_t;

/** OAS_PROFILE_* of a name written in OAuthASProfile, or OAS_UNSET. */
int oas_profile_from_name(const char *name);

/** The rules of the server (its OAuthASProfile, default none). */
const oas_profile_t *oas_iss_profile(const oas_issuer_t *iss);

/** The rules of a client: its own OAuthASProfile, else the server's. */
const oas_profile_t *oas_client_profile(const oas_issuer_t *iss, const oas_client_t *c);

/** Every way the issuer's configuration contradicts its own or a client's profile, pushed
 * onto faults (const char *, in p), each naming the directive. */
void oas_profile_check(apr_array_header_t *faults, apr_pool_t *p, const oas_issuer_t *iss);

#endif
