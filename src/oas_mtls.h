/* mod_oauth_as: mutual TLS (RFC 8705): the client certificate of a connection (handed over by
 * the glue as PEM from mod_ssl), client authentication by tls_client_auth (§2.1: a chain to
 * the client's pinned CA, then its subject DN or one SAN) and self_signed_tls_client_auth
 * (§2.2: one of the x5c certificates of its JWKS), and certificate-bound access tokens (§3:
 * cnf.x5t#S256). */
#ifndef OAS_MTLS_H
#define OAS_MTLS_H

#include <jansson.h>
#include <openssl/x509.h>

#include "oas_ctx.h"

/* OAuthASClientCertSAN kinds (RFC 8705 §2.1.2 tls_client_auth_san_*) */
#define OAS_SAN_DNS 1
#define OAS_SAN_URI 2
#define OAS_SAN_IP 3
#define OAS_SAN_EMAIL 4

#define OAS_CERT_MAX_PEM 16384 /* bytes of one PEM certificate */
#define OAS_CERT_MAX_CHAIN 10  /* certificates the client may send after its own */

typedef struct oas_cert_t {
    X509 *leaf;               /* freed with the pool it was parsed into */
    STACK_OF(X509) *chain;    /* the certificates the client sent after its own */
    const unsigned char *der; /* the leaf's DER */
    apr_size_t der_len;
    const char *x5t; /* base64url SHA-256 of der (RFC 8705 §3.1 x5t#S256) */
} oas_cert_t;

/** The client certificate pem (SSL_CLIENT_CERT) and the chain the client sent (chain_pems:
 * const char *, SSL_CLIENT_CERT_CHAIN_n; may be NULL), parsed into p.
 * @return APR_SUCCESS, APR_EINVAL (*perr says why: not one PEM certificate, too long, too
 *         many) */
apr_status_t oas_cert_parse(oas_cert_t **pc, const char **perr, apr_pool_t *p, const char *pem,
                            const apr_array_header_t *chain_pems);

/** OAS_SAN_* of a word (dns, uri, ip, email), 0 for another. */
int oas_san_kind(const char *word);

/** Checks an OAuthASClientCertSAN value of kind: an IP address must parse (v4 or v6).
 * @return NULL when fine, else why (static) */
const char *oas_san_value_check(int kind, const char *value);

/** 1 when the certificate has a subjectAltName of kind equal to value: dNSName without
 * regard to ASCII case (no wildcards), uniformResourceIdentifier byte for byte, iPAddress in
 * binary (v4 or v6), rfc822Name with the local part exact and the domain without regard to
 * case (RFC 5280 §4.2.1.6). */
int oas_cert_san_match(const oas_cert_t *c, int kind, const char *value);

/** Reads OAuthASClientCertCA FILE: PEM, one or more certificates, each an anchor (a pin: a
 * chain needs to reach any one of them, and only them). Freed with p.
 * @return APR_SUCCESS, APR_EINVAL (*perr names the problem; no certificate in the file) */
apr_status_t oas_cert_ca_load(X509_STORE **ps, const char **perr, apr_pool_t *p, const char *path);

/** Verifies c (with the chain the client sent as untrusted intermediates) against ca alone,
 * at time now (seconds), for TLS client authentication (the clientAuth purpose).
 * @return 1 valid, else 0 with *pwhy OpenSSL's reason (static) */
int oas_cert_verify(const char **pwhy, const oas_cert_t *c, X509_STORE *ca, apr_int64_t now);

/** 1 when the certificate is the x5c[0] of one of keys (oas_jwk_t *), compared as DER. */
int oas_cert_in_jwks(const oas_cert_t *c, const apr_array_header_t *keys, apr_pool_t *p);

/** RFC 8705 §2: the request's certificate (x->cert) authenticates client c by the method
 * bits of c in OAS_AUTH_MTLS.
 * @return APR_SUCCESS, or APR_EINVAL with *e 401 invalid_client (no certificate, a chain not
 *         to the client's CA, a subject or SAN not the client's, not one of its x5c; the log
 *         detail says which) */
apr_status_t oas_mtls_authenticate(oas_err_t *e, oas_ctx_t *x, const oas_client_t *c);

/** The certificate thumbprint access token claims at are bound to (cnf.x5t#S256), or NULL. */
const char *oas_mtls_token_x5t(const json_t *at);

/** RFC 8705 §3: a bound access token (claims at) is usable only on a connection whose
 * certificate (x->cert) has its thumbprint.
 * @return APR_SUCCESS, or APR_EINVAL with *e 401 invalid_token */
apr_status_t oas_mtls_at_resource(oas_err_t *e, oas_ctx_t *x, const json_t *at);

#endif
