/* mod_oauth_as: pushed authorization requests (RFC 9126): the record a push keeps in the
 * short-lived store under its request_uri, and reading it back at /authorize. The
 * request_uri is used up where the authorization ends (oas_code_issue.h), not here. */
#ifndef OAS_PAR_RECORD_H
#define OAS_PAR_RECORD_H

#include "oas_code_issue.h"

/* The opaque part of a request_uri is a token of OAS_TOKEN_BYTES: at most this long. */
#define OAS_REQUEST_URI_MAX_OPAQUE 64

/**
 * RFC 9126 §2: validates form as an authorization request pushed by the authenticated
 * client c and keeps what /authorize will read, counted against c's quota (D07).
 * A request object (JAR) in form is verified and its parameters replace the form's
 * (oas_request_object_use); form is changed: client_secret removed, client_id set to c.
 * @param ptoken the request_uri's opaque part (after OAS_REQUEST_URI_PREFIX), in x->p
 * @return APR_SUCCESS, or APR_EINVAL with *e set, token-endpoint style (RFC 9126 §2.3:
 *         never a redirect): 400 invalid_request, invalid_request_object and the
 *         validation errors, 413 when the record would be too large for the store, 429 over
 *         the quota, 503 store, 500.
 */
apr_status_t oas_par_push(const char **ptoken, oas_ctx_t *x, oas_err_t *e, const oas_client_t *c,
                          apr_table_t *form);

/**
 * RFC 9126 §4: the parameters pushed for request_uri ru (the full URN as sent). cid is the
 * front request's client_id: it must name the client that pushed (P04). The entry is only
 * read: it stays usable until the authorization ends.
 * @param pparams the pushed parameters (client_id among them), in x->p
 * @param pru the request_uri's opaque part
 * @return APR_SUCCESS, or APR_EINVAL with *e set, always a page (e->page): 400
 *         invalid_request (no client_id), 400 OAS_AUTHZ_GONE (unknown, expired or used),
 *         400 invalid_request_uri (pushed by another client), 503 store.
 */
apr_status_t oas_par_load(apr_table_t **pparams, const char **pru, oas_ctx_t *x, oas_err_t *e,
                          const char *ru, const char *cid);

#endif
