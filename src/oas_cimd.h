/* mod_oauth_as: Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document,
 * MCP 2025-11-25; INTERFACE.md "Open ecosystems", next-wave.md §5.2). With
 * OAuthASClientMetadataDocuments On, a client_id that is an https URL names a JSON document
 * the client publishes there: we fetch it (oas_fetch.h: no redirects, size and time limits,
 * the outbound address policy), check it, and make a client of it. Such a client is public
 * (method none) or authenticates with private_key_jwt; it never has a secret, uses PKCE, is
 * asked for consent, and may ask for the resources of OAuthASRegistrationAudience only.
 * The document is shared by every child and node in the short-lived store (OAS_NS_CIMD), for
 * what its Cache-Control says within OAS_CIMD_TTL_MIN .. OAS_CIMD_TTL_MAX; a failed fetch or
 * a refused document is remembered for OAS_CIMD_FAIL_MEMORY, so that a bad URL does not make
 * us fetch at every request. */
#ifndef OAS_CIMD_H
#define OAS_CIMD_H

#include "oas_conf.h"
#include "oas_ctx.h"
#include "oas_err.h"
#include "oas_fetch.h"

#define OAS_CIMD_MAX_URL 2048        /* bytes of a client_id URL */
#define OAS_CIMD_MAX_DOC (12 * 1024) /* bytes of a document: it fits the store with its header */
#define OAS_CIMD_MAX_REDIRECTS 16    /* redirect_uris of a document */
#define OAS_CIMD_MAX_URI 2048        /* bytes of any URI member (redirect URI, logo_uri ...) */
#define OAS_CIMD_MAX_NAME 256        /* bytes of client_name */
#define OAS_CIMD_MAX_SCOPES 32       /* scope tokens of a document's scope */
#define OAS_CIMD_TTL_MIN 30          /* seconds a fetched document is used, at least ... */
#define OAS_CIMD_TTL_MAX 86400       /* ... at most, whatever its Cache-Control says ... */
#define OAS_CIMD_TTL_DEFAULT 300     /* ... and without a Cache-Control max-age */
#define OAS_CIMD_FAIL_MEMORY 60      /* seconds a failed fetch or refused document is not retried */

/** Why url cannot be a metadata document's client_id, or NULL when it can: an https URL of at
 * most OAS_CIMD_MAX_URL bytes made only of URI characters (RFC 3986; no controls, spaces or
 * backslash, valid %-escapes), with a host (a DNS name, an IPv4 or a bracketed IPv6 address;
 * a numeric port), no userinfo, no fragment, a path other than "/",
 * and no "." or ".." segment (nor their %2e forms). A query is allowed. */
const char *oas_cimd_client_id_problem(const char *url);

/** 1 when url may be a metadata document's client_id (oas_cimd_client_id_problem is NULL):
 * the lookup tries a document only for such ids. */
int oas_cimd_client_id_valid(const char *url);

/** Make a client of the document body (len bytes) fetched from url, for issuer iss:
 *   - a JSON object (strict: no duplicate members) of at most OAS_CIMD_MAX_DOC bytes whose
 *     client_id equals url byte for byte;
 *   - no client_secret, no client_secret_expires_at;
 *   - token_endpoint_auth_method none (also when absent) or private_key_jwt; the latter with
 *     jwks (a JWK Set, oas_jwks_parse) or an https jwks_uri, not both; and a method the
 *     server's OAuthASProfile allows (fapi2: private_key_jwt only);
 *   - redirect_uris: 1 to OAS_CIMD_MAX_REDIRECTS strings of at most OAS_CIMD_MAX_URI bytes,
 *     each a valid redirect URI (oas_uri_valid_redirect) that is https, or http on the
 *     loopback IP literals 127.0.0.1 and [::1] (any port matches, oas_uri_redirect_matches);
 *   - grant_types (default authorization_code) among authorization_code and refresh_token,
 *     with authorization_code; response_types, when present, exactly ["code"];
 *   - client_name (the consent page's name; default the URL) a string of at most
 *     OAS_CIMD_MAX_NAME bytes without control characters; client_uri, logo_uri, policy_uri,
 *     tos_uri, when present, https URLs of at most OAS_CIMD_MAX_URI bytes (not kept);
 *   - scope: at most OAS_CIMD_MAX_SCOPES RFC 6749 scope tokens, what the client may ask for;
 *     other members are ignored.
 * The client (in p) has its defaults resolved (oas_client_resolve): PKCE and consent on,
 * refresh-token rotation for public ones, the audiences of OAuthASRegistrationAudience (none
 * today: the issuer only), defined_at "metadata document".
 * @param pwhy on refusal: why, for the log (static or in p; never the document's values but
 *        the names of members)
 * @return APR_SUCCESS, APR_EINVAL refused */
apr_status_t oas_cimd_parse(oas_client_t **pc, const char **pwhy, apr_pool_t *p,
                            const oas_issuer_t *iss, const char *url, const char *body,
                            apr_size_t len);

/** The client whose client_id is url (oas_cimd_parse, then given what a registered client
 * may: oas_reg_policy_apply), from the short-lived store's copy of
 * its document or, when there is none (or it is older than its lifetime), fetched with fetch
 * (NULL: oas_fetch_json) under x->iss's OAuthASCACertificateFile and OAuthASOutboundAllow,
 * with a body of at most OAS_CIMD_MAX_DOC bytes. A fetch that fails or gives a refused
 * document is remembered (OAS_CIMD_FAIL_MEMORY): meanwhile the same URL fails at once. One
 * fetch at a time per document: a request that finds another's under way (any process or
 * node) waits for its outcome, at most the fetch timeout.
 * The client is parsed once per process and document (oas_client_parsed).
 * @return APR_SUCCESS (*pc shared, read only, valid while x->p lives);
 *         APR_NOTFOUND: OAuthASClientMetadataDocuments is Off or url cannot be a client_id:
 *         not a metadata-document client (the caller's "unknown client"), err set;
 *         APR_EINVAL: no usable document, err set: 401 invalid_client, the detail says why */
apr_status_t oas_cimd_fetch(const oas_client_t **pc, oas_err_t *err, oas_ctx_t *x, const char *url,
                            oas_fetch_fn *fetch);

#endif
