/* mod_oauth_as: client authentication (RFC 6749 §2.3): which method a request used and
 * whether the presented secret is right. */
#ifndef OAS_CLIENT_AUTH_H
#define OAS_CLIENT_AUTH_H

#include "oas_conf.h"
#include "oas_ctx.h"
#include "oas_err.h"

/** Sets up the per-process cache of verified hashed secrets (call once per process). */
apr_status_t oas_client_auth_init(apr_pool_t *p);

/** 1 when presented matches the client's secret. Plaintext secrets are compared in
 * constant time; hashes go through apr_password_validate once, then the result is cached
 * in this process so a bcrypt hash is not recomputed on every request. */
int oas_client_secret_ok(const oas_client_t *c, const char *presented);

/**
 * Authenticates the client of a token-endpoint-style request by exactly one method
 * (RFC 6749 §2.3): Basic, client_secret in the form, a client assertion (RFC 7523,
 * oas_client_assertion.h), or none (a public client's client_id).
 * basic: -1 malformed Authorization header, 0 none, 1 parsed into basic_id/basic_secret.
 * form: the request's parameters (client_id, client_secret, client_assertion_type,
 * client_assertion). A client_id alone names a public client, or one of an mTLS method
 * (RFC 8705 §2), which the certificate of the connection (x->cert) authenticates.
 * On failure *err is set (401 invalid_client; 400 invalid_request for a request that mixes
 * methods or names an unknown assertion type; 503 when an assertion's jti cannot be
 * recorded) and an error status returned.
 */
apr_status_t oas_client_authenticate(const oas_client_t **pc, oas_err_t *err, oas_ctx_t *x,
                                     int basic, const char *basic_id, const char *basic_secret,
                                     apr_table_t *form);

#endif
