/* mod_oauth_as: what an issuer derives from its configuration once, at start-up: the key that signs
 * ID tokens, the consent template when none is configured, whether it has public clients, the
 * longest access-token lifetime, the key of its DPoP nonces, and the metadata and JWKS
 * documents it serves. After this the issuer is read-only and shared by every thread (no
 * document is built at request time). */
#ifndef OAS_STARTUP_H
#define OAS_STARTUP_H

#include "oas_conf.h"

/** Prepares one issuer that OAuthASIssuer switched on and oas_conf_check_issuer() passed
 * (so it has at least one key). Results live in p (the configuration pool).
 * @param perr on APR_EINVAL: the template parser's message; on APR_ENOTIMPL: why
 * @return APR_SUCCESS; APR_EINVAL when the built-in consent template does not parse;
 *         APR_ENOTIMPL when DPoP nonces are on and no nonce key can be derived;
 *         APR_EGENERAL when the metadata or the JWKS document cannot be built */
apr_status_t oas_startup_prepare(const char **perr, oas_issuer_t *iss, apr_pool_t *p);

#endif
