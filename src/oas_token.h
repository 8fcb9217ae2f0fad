/* mod_oauth_as: grants (what an authorization code carries) and the tokens minted from
 * them: RFC 9068 JWT access tokens and OpenID Connect ID tokens. */
#ifndef OAS_TOKEN_H
#define OAS_TOKEN_H

#include <jansson.h>

#include "oas_conf.h"

/* The state bound to an authorization code (RFC 6749 §4.1.2, RFC 7636 §4.4). */
typedef struct oas_grant_t {
    const char *iss;
    const char *client_id;
    const char *sub;
    const char *scope;          /* granted scopes, space-separated */
    const char *resource;       /* audience, or NULL: the issuer */
    const char *nonce;
    const char *redirect_uri;
    int redirect_uri_sent;
    const char *code_challenge; /* S256, or NULL */
    const char *dpop_jkt;       /* RFC 9449: the DPoP key (RFC 7638 thumbprint) a code is bound
                                 * to (§10), or a public client's refresh family (§5) */
    const char *cert_x5t;       /* RFC 8705 §4: the certificate a public client's refresh
                                 * family is bound to (x5t#S256) */
    apr_int64_t auth_time;      /* seconds since the epoch */
    const char *sid;            /* the AS session it was issued in (oas_session.h), or NULL */
    const char *claims_json;    /* the user's claims evaluated at authorization time */
    const char *family;         /* refresh tokens: the family all rotations belong to */
    apr_int64_t family_exp;     /* when the family ends (seconds): rotation never extends it */
    int family_by_id;           /* not stored: the family's record is a previous build's, keyed
                                 * by the family id, so no handle finds it (oas_issue.c) */
    /* a token exchange's (RFC 8693, oas_token_exchange.h), never stored: */
    const char *act_json;       /* the act claim (§4.1), a JSON object text, or NULL */
    const char *gid;            /* the subject token's grant handle: the new token dies with it */
    apr_int64_t exp_max;        /* the new token expires no later (seconds), or 0 */
    const char *issued_token_type; /* answered as issued_token_type (§2.2.1), or NULL */
} oas_grant_t;

/** The public handle of refresh family id: base64url of the first 16 bytes of SHA-256 over a
 * fixed label and the id
 * (NULL when OpenSSL fails). Access tokens of the family carry it (claim "gid") and the family's
 * record is kept under it, so that liveness finds the grant from the token without a record per
 * token; it reveals nothing of the id, which is part of every refresh token of the family. */
const char *oas_grant_handle(apr_pool_t *p, const char *family);

apr_status_t oas_grant_to_json(const char **pjson, apr_pool_t *p, const oas_grant_t *g);
apr_status_t oas_grant_from_json(oas_grant_t **pg, apr_pool_t *p, const char *json,
                                 apr_size_t len);

/* What an access token is bound to (its cnf claim), each NULL when it is not. */
typedef struct oas_cnf_t {
    const char *jkt; /* RFC 9449 §6.1: a DPoP key (RFC 7638 thumbprint) */
    const char *x5t; /* RFC 8705 §3.1: a client certificate (x5t#S256) */
} oas_cnf_t;

typedef struct oas_tokens_t {
    const char *access_token;
    const char *id_token; /* NULL unless openid was granted */
    const char *jti;      /* of the access token */
    apr_int64_t expires_in;
    apr_int64_t exp;      /* access token expiry, seconds since the epoch */
    const char *jkt;      /* the DPoP key the access token is bound to, or NULL: Bearer */
    const char *issued_token_type; /* RFC 8693 §2.2.1, or NULL */
} oas_tokens_t;

/** Mints the access token (and the ID token when openid is in the scope) of a grant.
 * jti is given by the caller so it can be recorded before the tokens exist; cnf (or NULL)
 * what the access token is bound to: claims cnf.jkt (RFC 9449 §6.1), cnf.x5t#S256 (RFC 8705
 * §3.1). */
apr_status_t oas_token_mint(oas_tokens_t *out, apr_pool_t *p, const oas_issuer_t *iss,
                            const oas_client_t *client, const oas_grant_t *g, const char *jti,
                            const oas_cnf_t *cnf, apr_int64_t now);

/** Verifies an access token of this issuer (RFC 9068 §4): signature by one of its keys,
 * typ at+jwt, iss, exp. *pclaims gets its claims. APR_EINVAL when it is not valid. */
apr_status_t oas_token_verify_access(json_t **pclaims, apr_pool_t *p, const oas_issuer_t *iss,
                                     const char *jwt, apr_int64_t now);

/** The claims of the user that the scopes release (OIDC Core §5.4), as a JSON object text
 * including sub, for userinfo. */
const char *oas_token_userinfo_json(apr_pool_t *p, const char *sub, const char *scope,
                                    const char *claims_json);

/** The token endpoint's success body (RFC 6749 §5.1): token_type DPoP for a bound access
 * token (RFC 9449 §5), else Bearer. refresh_token may be NULL. */
const char *oas_token_response_json(apr_pool_t *p, const oas_tokens_t *t, const char *scope,
                                    const char *refresh_token);

#endif
