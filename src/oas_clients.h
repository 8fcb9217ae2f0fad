/* mod_oauth_as: the one way every endpoint finds a client by its id: a configured client
 * (OAuthASClient, a hash lookup), else, when OAuthASRegistration is on, a client registered
 * at the registration endpoint (RFC 7591; oas_registration.h), read from the long-lived store,
 * else, when OAuthASClientMetadataDocuments is on and the id is an https URL, the client its
 * metadata document describes (oas_cimd.h). Such clients then behave as configured ones.
 * Their record or document is read at every request (a change or a deletion counts at once);
 * what it parses into is kept per process, by issuer, id and the bytes it came from
 * (oas_parse_cache.h), so JSON and keys are parsed once per process and version. */
#ifndef OAS_CLIENTS_H
#define OAS_CLIENTS_H

#include "oas_ctx.h"
#include "oas_parse_cache.h"

/* Every registered client's id starts so, and no configured client may take such an id
 * (configtest refuses it): a dynamic client can never be taken for a configured one. */
#define OAS_REG_ID_PREFIX "dyn-"
#define OAS_REG_ID_PREFIX_LEN 4

#define OAS_REG_ID_LEN (OAS_REG_ID_PREFIX_LEN + 22) /* and 22 base64url characters */

/** 1 when id has the form of a registered client's id (what else is never looked up). */
int oas_reg_id_valid(const char *id);

/* OAuthASRegistration */
#define OAS_REG_OFF   0
#define OAS_REG_OPEN  1
#define OAS_REG_TOKEN 2

/** The client named id: configured, else registered (registration on), else NULL (also for
 * NULL, a store that cannot be had or a record that does not parse: logged). The last
 * registered client found is kept in x, so that the several lookups of one request read the
 * store once. */
const oas_client_t *oas_ctx_client(oas_ctx_t *x, const char *id);

#define OAS_CLIENT_CACHE_SLOTS 256 /* parsed dynamic clients kept per process */

/** Once per process (child_init): the process's cache of parsed dynamic clients, in p. Without
 * it every request parses the record or document it reads. */
apr_status_t oas_clients_child_init(apr_pool_t *p);

/** The process's cache (NULL before oas_clients_child_init), for tests' figures. */
oas_parse_cache_t *oas_clients_cache(void);

/** Parses a dynamic client's bytes (a record, a document) for iss into p: see
 * oas_parse_cache_fn. */
typedef apr_status_t oas_client_parse_fn(oas_client_t **pc, const char **pwhy, apr_pool_t *p,
                                         const oas_issuer_t *iss, const char *id,
                                         const char *bytes, apr_size_t len);

/** The client that parse makes of the bytes just read for id (kind: one letter per parse
 * function), from the process's cache when these very bytes were parsed for x->iss and id
 * before. The client is shared: read only; valid while x->p lives. */
apr_status_t oas_client_parsed(const oas_client_t **pc, const char **pwhy, oas_ctx_t *x, char kind,
                               oas_client_parse_fn *parse, const char *id, const char *bytes,
                               apr_size_t len);

/** Parse a registered client's record (oas_registration.c writes it: {"md": the metadata as
 * accepted, RFC 7591 names; "sh": the secret's hash; "rh": the registration access token's
 * digest; "iat"; "exp": when it expires, absent for a record that never does}) into a resolved
 * client in p, with the issuer's registration policy (OAuthASRegistrationDefaults, audiences,
 * consent and PKCE on; oas_reg_policy.h).
 * @return APR_SUCCESS, APR_EINVAL (a record we did not write) */
apr_status_t oas_client_from_record(oas_client_t **pc, apr_pool_t *p, const oas_issuer_t *iss,
                                    const char *id, const char *rec, apr_size_t len);

/** OAS_AUTH_* bit of an RFC 7591 token_endpoint_auth_method a dynamic client may use, else 0 */
int oas_reg_auth_method(const char *name);
/** OAS_GRANT_* bit of an RFC 7591 grant type a dynamic client may use, else 0 */
int oas_reg_grant_type(const char *name);

#endif
