/* mod_oauth_as: dynamic client registration (RFC 7591) and its management (RFC 7592) at
 * OAuthASEndpoint register, under OAuthASRegistration Off|Open|Token. A registered client is
 * a record in the long-lived store (OAS_NS_CLIENT, oas_clients.h) that oas_ctx_client reads
 * at every endpoint; its secret and its registration access token are stored hashed and
 * shown once. Rules: INTERFACE.md "Precise rules", Registration. */
#ifndef OAS_REGISTRATION_H
#define OAS_REGISTRATION_H

#include "oas_ctx.h"

/* Limits on what a dynamic client may register (larger: invalid_client_metadata) */
#define OAS_REG_MAX_BODY      (16 * 1024) /* the request body, bytes */
#define OAS_REG_MAX_REDIRECTS 10          /* redirect_uris */
#define OAS_REG_MAX_URI       1024        /* each redirect URI and the jwks_uri, bytes */
#define OAS_REG_MAX_NAME      128         /* client_name, bytes */

/* RFC 7592 operations at registration_client_uri */
#define OAS_REG_READ   0 /* GET */
#define OAS_REG_UPDATE 1 /* PUT */
#define OAS_REG_DELETE 2 /* DELETE */

/** 1 when a registration request may be made: Open, or Token and bearer (the request's
 * `Authorization: Bearer` value, or NULL) equals one OAuthASRegistrationToken (compared in
 * constant time); 0 otherwise (also when registration is Off). */
int oas_reg_allowed(const oas_issuer_t *iss, const char *bearer);

/** Register a client from its RFC 7591 metadata (body, a JSON object of len bytes).
 * @param pjson receives the §3.2.1 response (201): the metadata as accepted, client_id,
 *        client_id_issued_at, client_secret (confidential methods) and
 *        client_secret_expires_at (when the client expires: OAuthASRegistrationDefaults
 *        client-lifetime), registration_access_token, registration_client_uri
 * @return APR_SUCCESS; else *e (400 invalid_redirect_uri or invalid_client_metadata, 403 when
 *         the issuer has max-clients registered clients, 503 when the store refuses) */
apr_status_t oas_reg_create(const char **pjson, oas_err_t *e, oas_ctx_t *x, const char *body,
                            apr_size_t len);

/** RFC 7592 on the client id (the last segment of registration_client_uri) with bearer, the
 * registration access token it got: READ (200, the metadata), UPDATE (200: body replaces the
 * metadata, with the same rules as oas_reg_create), DELETE (*pjson NULL: 204).
 * @return APR_SUCCESS; else *e: 401 invalid_token for a wrong or missing token and for an
 *         unknown client alike (which of the two is never told), 400 as oas_reg_create, 503 */
apr_status_t oas_reg_manage(const char **pjson, oas_err_t *e, oas_ctx_t *x, int op,
                            const char *id, const char *bearer, const char *body,
                            apr_size_t len);

/** The registration endpoint's URL (the issuer's origin and its path), or NULL when none is
 * mounted. */
const char *oas_reg_url(apr_pool_t *p, const oas_issuer_t *iss);

#endif
