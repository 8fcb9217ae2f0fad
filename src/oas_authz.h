/* mod_oauth_as: validation of an authorization request (RFC 6749 §4.1.1, RFC 7636,
 * RFC 8707, OIDC Core §3.1.2), shared by /authorize and /oauth/par. No I/O. */
#ifndef OAS_AUTHZ_H
#define OAS_AUTHZ_H

#include "oas_conf.h"
#include "oas_ctx.h"
#include "oas_err.h"

typedef struct oas_authz_req_t {
    const oas_client_t *client;
    const char *redirect_uri;     /* the one the response goes to */
    int redirect_uri_sent;        /* sent in the request: must be repeated at the token endpoint */
    const char *scope;            /* requested scopes, normalised: single spaces, no repeats */
    int openid;                   /* "openid" is among the scopes */
    const char *state;            /* NULL when absent */
    const char *nonce;
    const char *resource;         /* audience (resource or audience parameter), or NULL */
    const char *code_challenge;   /* S256 challenge, or NULL */
    const char *dpop_jkt;         /* RFC 9449 §10: the DPoP key the code is bound to, or NULL */
    int prompt_none, prompt_consent, prompt_login;
    apr_int64_t max_age;          /* -1 when absent */
    int jarm;                     /* response_mode=jwt or query.jwt: the response is a JWT */
} oas_authz_req_t;

/* Where the request comes from. */
#define OAS_AUTHZ_FRONT 0 /* /authorize with its own parameters */
#define OAS_AUTHZ_PAR   1 /* pushed (RFC 9126): validated at push time and again when used */

/* What one authorization request may leave in the store (issue 14, README "Limits"): state
 * may carry a return URL, a nonce is a random value; every other parameter is checked
 * against the configuration, but may still be written out long (repeated scopes). A longer
 * value is invalid_request. */
#define OAS_AUTHZ_MAX_STATE 2048
#define OAS_AUTHZ_MAX_NONCE 512
#define OAS_AUTHZ_MAX_VALUE 2048

/**
 * Validates params (names unique; values decoded). dup names a parameter the request
 * repeated (NULL when none): RFC 6749 §3.1 makes that invalid_request, reported after the
 * client and redirect URI are known so the error can be redirected.
 * On failure *err is set; err->page tells that the client or redirect URI cannot be
 * trusted (RFC 6749 §4.1.2.1: show a page, never redirect); otherwise *preq is still filled
 * far enough (client, redirect_uri, state) to redirect the error.
 * @return APR_SUCCESS or APR_EINVAL.
 */
apr_status_t oas_authz_validate(oas_authz_req_t **preq, oas_err_t *err, apr_pool_t *p,
                                const oas_issuer_t *iss, apr_table_t *params, const char *dup,
                                int origin);
/** oas_authz_validate for a request: registered clients too (oas_ctx_client). */
apr_status_t oas_authz_validate_ctx(oas_authz_req_t **preq, oas_err_t *err, oas_ctx_t *x,
                                    apr_table_t *params, const char *dup, int origin);

/** The parameters oas_authz_validate reads, NULL-terminated: all that a pushed request needs
 * to keep (RFC 6749 §3.1: any other parameter is ignored). */
extern const char *const oas_authz_param_names[];

/** Scope syntax (RFC 6749 §3.3: %x21 / %x23-5B / %x5D-7E): one token, or a space-separated
 * scope string. */
int oas_scope_valid(const char *s, int one_token);

/** The one resource of a request (RFC 8707 resource or the audience parameter), which the
 * client must be allowed to ask for. NULL when neither is given.
 * @return APR_SUCCESS, or APR_EINVAL with *err set (invalid_target, invalid_scope). */
apr_status_t oas_resource_check(const char **pres, oas_err_t *err, const oas_issuer_t *iss,
                                const oas_client_t *client, apr_table_t *params);

/** The scope string as a list (split on spaces). */
apr_array_header_t *oas_scope_split(apr_pool_t *p, const char *scope);

/** True when every scope of want is in have (both space-separated). */
int oas_scope_subset(apr_pool_t *p, const char *want, const char *have);

#endif
