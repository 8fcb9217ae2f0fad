/* mod_oauth_as: what a dynamic client may get, OAuthASRegistrationDefaults (issue 20). A
 * registered (RFC 7591) or metadata-document client may ask for the scopes of scope= (by
 * default the OpenID Connect scopes and those of the OAuthASRegistrationAudience resources);
 * its tokens live at most access-token-lifetime= and refresh-token-lifetime= (by default
 * what a configured client's would); a registered client lives client-lifetime= seconds from
 * its registration, and at most max-clients= of them are registered with an issuer at once.
 * The directive's text is parsed here (the glue only hands it over) so that the rules and
 * their messages have one home and unit tests. */
#ifndef OAS_REG_POLICY_H
#define OAS_REG_POLICY_H

#include "oas_ctx.h"

/* the keys of OAuthASRegistrationDefaults */
#define OAS_REGDEF_SCOPE       "scope"
#define OAS_REGDEF_AT_LIFETIME "access-token-lifetime"
#define OAS_REGDEF_RT_LIFETIME "refresh-token-lifetime"
#define OAS_REGDEF_CLIENT_LIFE "client-lifetime"
#define OAS_REGDEF_MAX_CLIENTS "max-clients"

/* a registered client with client-lifetime=0 lives until it is deleted: its record's expiry
 * is this far away */
#define OAS_REG_FOREVER (10 * 365 * 24 * 3600)

/** Parse the arguments of OAuthASRegistrationDefaults (KEY=VALUE words as httpd splits
 * them: `scope="openid profile"` or `"scope=openid profile"`; keys case-insensitive, each at
 * most once) into iss.
 * @return NULL, or the message (naming the directive and the key) of the first fault */
const char *oas_reg_defaults_parse(oas_issuer_t *iss, apr_pool_t *p, const char *args);

/** Configtest: every scope= scope is known to the issuer (an OpenID scope, or one a configured
 * client or a resource names) and the lifetimes are at most the server's. Appends messages
 * (const char *) to faults. */
void oas_reg_defaults_check(apr_array_header_t *faults, apr_pool_t *p, const oas_issuer_t *iss);

/** 1 when a dynamic or metadata-document client may ask for scope s. */
int oas_reg_scope_open(const oas_issuer_t *iss, const char *s);

/** The scopes of a registration that names none: openid when it is open, else all of
 * scope= (in p). */
apr_array_header_t *oas_reg_default_scopes(apr_pool_t *p, const oas_issuer_t *iss);

/** Applies the policy to a dynamic or metadata-document client c made in p: drops the scopes
 * it may no longer ask for (a narrower scope= reaches clients registered before; none left:
 * the default ones) and caps its token lifetimes. */
void oas_reg_policy_apply(oas_client_t *c, apr_pool_t *p, const oas_issuer_t *iss);

/** Seconds a client registered now (x->now) lives (OAS_REG_FOREVER for client-lifetime=0). */
apr_int64_t oas_reg_client_ttl(const oas_issuer_t *iss);

/** Counts one more registered client of the issuer (max-clients=; 0: not counted).
 * @return APR_SUCCESS; else *e: 403 access_denied when the issuer has max-clients already,
 *         503 when the store refuses */
apr_status_t oas_reg_count_take(oas_ctx_t *x, oas_err_t *e);

/** Gives back the count of a client registered at iat (seconds) that is deleted, or whose
 * registration failed after oas_reg_count_take. */
void oas_reg_count_give_back(oas_ctx_t *x, apr_int64_t iat);

#endif
