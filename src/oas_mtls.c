/* mod_oauth_as: mutual TLS client authentication and certificate-bound tokens (oas_mtls.h).
 * The certificate comes from mod_ssl as PEM, never from a header; its chain is verified here
 * against the client's own CA file, since mod_ssl's verdict under optional_no_ca is FAILED
 * for every certificate (next-wave.md §3.2). */
#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "oas_client_keys.h"
#include "oas_dn.h"
#include "oas_json.h"
#include "oas_jwk.h"
#include "oas_log.h"
#include "oas_mtls.h"
#include "oas_util.h"

static apr_status_t x509_cleanup(void *data)
{
    X509_free(data);
    return APR_SUCCESS;
}

static apr_status_t chain_cleanup(void *data)
{
    sk_X509_pop_free(data, X509_free);
    return APR_SUCCESS;
}

static apr_status_t store_cleanup(void *data)
{
    X509_STORE_free(data);
    return APR_SUCCESS;
}

/* One PEM certificate, nothing else of substance. */
static X509 *pem_cert(const char *pem)
{
    apr_size_t len = strlen(pem);
    BIO *b;
    X509 *x;

    if (len > OAS_CERT_MAX_PEM || !(b = BIO_new_mem_buf(pem, (int)len)))
        return NULL;
    x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    ERR_clear_error();
    return x;
}

apr_status_t oas_cert_parse(oas_cert_t **pc, const char **perr, apr_pool_t *p, const char *pem,
                            const apr_array_header_t *chain_pems)
{
    oas_cert_t *c = apr_pcalloc(p, sizeof(*c));
    unsigned char *der = NULL, md[OAS_SHA256_LEN];
    int i, len;

    if (!(c->leaf = pem_cert(pem))) {
        *perr = "the client certificate is not one PEM certificate";
        return APR_EINVAL;
    }
    apr_pool_cleanup_register(p, c->leaf, x509_cleanup, apr_pool_cleanup_null);
    if ((len = i2d_X509(c->leaf, &der)) <= 0) {
        ERR_clear_error();
        *perr = "the client certificate cannot be encoded";
        return APR_EINVAL;
    }
    c->der = apr_pmemdup(p, der, (apr_size_t)len);
    c->der_len = (apr_size_t)len;
    OPENSSL_free(der);
    oas_sha256(md, c->der, c->der_len);
    c->x5t = oas_b64url_encode(p, md, sizeof(md));
    if (!(c->chain = sk_X509_new_null()))
        return APR_ENOMEM;
    apr_pool_cleanup_register(p, c->chain, chain_cleanup, apr_pool_cleanup_null);
    if (chain_pems && chain_pems->nelts > OAS_CERT_MAX_CHAIN) {
        *perr = "the client sent more than 10 chain certificates";
        return APR_EINVAL;
    }
    for (i = 0; chain_pems && i < chain_pems->nelts; i++) {
        X509 *x = pem_cert(APR_ARRAY_IDX(chain_pems, i, const char *));
        if (!x || !sk_X509_push(c->chain, x)) {
            X509_free(x);
            *perr = apr_psprintf(p, "chain certificate %d is not one PEM certificate", i);
            return APR_EINVAL;
        }
    }
    *pc = c;
    return APR_SUCCESS;
}

int oas_san_kind(const char *word)
{
    static const char *const kinds[] = {"dns", "uri", "ip", "email"};
    int i;

    for (i = 0; i < 4; i++)
        if (!strcasecmp(word, kinds[i]))
            return i + 1;
    return 0;
}

const char *oas_san_value_check(int kind, const char *value)
{
    ASN1_OCTET_STRING *ip;

    if (!*value)
        return "empty value";
    if (kind != OAS_SAN_IP)
        return NULL;
    if (!(ip = a2i_IPADDRESS(value))) {
        ERR_clear_error();
        return "not an IPv4 or IPv6 address";
    }
    ASN1_OCTET_STRING_free(ip);
    return NULL;
}

/* rfc822Name (RFC 5280 §4.2.1.6): the local part exact, the domain without regard to case. */
static int email_eq(const char *a, apr_size_t al, const char *b)
{
    const char *at = memchr(a, '@', al), *bt = strrchr(b, '@');
    apr_size_t lp;

    if (!at || !bt || (lp = (apr_size_t)(at - a)) != (apr_size_t)(bt - b) || memcmp(a, b, lp))
        return 0;
    return al - lp == strlen(bt) && !strncasecmp(at, bt, al - lp);
}

static int san_eq(const GENERAL_NAME *g, int kind, const char *value, const ASN1_OCTET_STRING *ip)
{
    const ASN1_STRING *s;
    const char *d;
    apr_size_t n, vl = strlen(value);

    switch (kind) {
    case OAS_SAN_IP:
        return g->type == GEN_IPADD && !ASN1_OCTET_STRING_cmp(g->d.iPAddress, ip);
    case OAS_SAN_DNS:
        s = g->type == GEN_DNS ? g->d.dNSName : NULL;
        break;
    case OAS_SAN_URI:
        s = g->type == GEN_URI ? g->d.uniformResourceIdentifier : NULL;
        break;
    default:
        s = g->type == GEN_EMAIL ? g->d.rfc822Name : NULL;
        break;
    }
    if (!s)
        return 0;
    d = (const char *)ASN1_STRING_get0_data(s);
    n = (apr_size_t)ASN1_STRING_length(s);
    if (memchr(d, '\0', n)) /* an embedded NUL never matches */
        return 0;
    if (kind == OAS_SAN_EMAIL)
        return email_eq(d, n, value);
    if (n != vl)
        return 0;
    return kind == OAS_SAN_DNS ? !strncasecmp(d, value, n) : !memcmp(d, value, n);
}

int oas_cert_san_match(const oas_cert_t *c, int kind, const char *value)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(c->leaf, NID_subject_alt_name, NULL, NULL);
    ASN1_OCTET_STRING *ip = kind == OAS_SAN_IP ? a2i_IPADDRESS(value) : NULL;
    int i, found = 0;

    for (i = 0; gens && (kind != OAS_SAN_IP || ip) && !found && i < sk_GENERAL_NAME_num(gens); i++)
        found = san_eq(sk_GENERAL_NAME_value(gens, i), kind, value, ip);
    GENERAL_NAMES_free(gens);
    ASN1_OCTET_STRING_free(ip);
    ERR_clear_error();
    return found;
}

apr_status_t oas_cert_ca_load(X509_STORE **ps, const char **perr, apr_pool_t *p, const char *path)
{
    X509_STORE *st;
    BIO *b = BIO_new_file(path, "r");
    X509 *x;
    int n = 0;

    if (!b) {
        ERR_clear_error();
        *perr = apr_psprintf(p, "cannot read %s", path);
        return APR_EINVAL;
    }
    if (!(st = X509_STORE_new())) {
        BIO_free(b);
        return APR_ENOMEM;
    }
    apr_pool_cleanup_register(p, st, store_cleanup, apr_pool_cleanup_null);
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
        n += X509_STORE_add_cert(st, x) == 1;
        X509_free(x);
    }
    BIO_free(b);
    ERR_clear_error();
    if (!n) {
        *perr = apr_psprintf(p, "no PEM certificate in %s", path);
        return APR_EINVAL;
    }
    /* every certificate of the file is an anchor: the file is the client's pin */
    X509_STORE_set_flags(st, X509_V_FLAG_PARTIAL_CHAIN);
    *ps = st;
    return APR_SUCCESS;
}

int oas_cert_verify(const char **pwhy, const oas_cert_t *c, X509_STORE *ca, apr_int64_t now)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok = 0;

    *pwhy = "out of memory";
    if (ctx && X509_STORE_CTX_init(ctx, ca, c->leaf, c->chain) == 1) {
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
        X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)now);
        ok = X509_verify_cert(ctx) == 1;
        *pwhy = ok ? NULL : X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
    }
    X509_STORE_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

int oas_cert_in_jwks(const oas_cert_t *c, const apr_array_header_t *keys, apr_pool_t *p)
{
    int i;

    for (i = 0; keys && i < keys->nelts; i++) {
        const oas_jwk_t *k = APR_ARRAY_IDX(keys, i, const oas_jwk_t *);
        unsigned char *der;
        apr_size_t n;
        if (k->x5c0 && oas_b64_decode(&der, &n, p, k->x5c0, strlen(k->x5c0)) == APR_SUCCESS &&
            n == c->der_len && !CRYPTO_memcmp(der, c->der, n))
            return 1;
    }
    return 0;
}

#define REFUSE(tag_fmt, ...)                                                                       \
    oas_err(e, x->p, 401, "invalid_client", "client authentication failed", OAS_LOG_INFO, tag_fmt, \
            __VA_ARGS__)

/* tls_client_auth (§2.1): the chain to the client's pinned CA, then its subject or SAN. */
static apr_status_t pki(oas_err_t *e, oas_ctx_t *x, const oas_client_t *c)
{
    const oas_cert_t *cert = x->cert;
    const char *why;

    if (!c->cert_ca || !oas_cert_verify(&why, cert, c->cert_ca, x->now))
        return REFUSE(OAS_LOGNO(06503) "client %s: certificate x5t#S256 %s does not chain to "
                                       "its CA: %s",
                      c->id, cert->x5t, c->cert_ca ? why : "none configured");
    if (c->cert_dn) {
        const X509_NAME *subject = X509_get_subject_name(cert->leaf);
        if (!subject || !oas_dn_equal(subject, c->cert_dn))
            return REFUSE(OAS_LOGNO(06504) "client %s: certificate subject \"%s\" is not \"%s\"",
                          c->id, subject ? oas_dn_text(x->p, subject) : "?", c->cert_subject);
        return APR_SUCCESS;
    }
    if (c->cert_san && oas_cert_san_match(cert, c->cert_san_kind, c->cert_san))
        return APR_SUCCESS;
    return REFUSE(OAS_LOGNO(06505) "client %s: certificate x5t#S256 %s has no SAN \"%s\"", c->id,
                  cert->x5t, c->cert_san ? c->cert_san : "(none configured)");
}

apr_status_t oas_mtls_authenticate(oas_err_t *e, oas_ctx_t *x, const oas_client_t *c)
{
    apr_array_header_t *keys;

    if (!x->cert)
        return REFUSE(OAS_LOGNO(06501) "client %s: no client certificate on the connection "
                                       "(no TLS, or the server asks for none)",
                      c->id);
    if ((c->auth_methods & OAS_AUTH_TLS) && (c->cert_dn || c->cert_san)) {
        if (!(c->auth_methods & OAS_AUTH_SELF_TLS))
            return pki(e, x, c);
        if (pki(e, x, c) == APR_SUCCESS)
            return APR_SUCCESS;
    }
    if (!(c->auth_methods & OAS_AUTH_SELF_TLS))
        return REFUSE(OAS_LOGNO(06506) "client %s: tls_client_auth without a subject or SAN",
                      c->id);
    if (oas_client_keys(&keys, e, x, c, NULL) != APR_SUCCESS)
        return APR_EINVAL;
    if (!oas_cert_in_jwks(x->cert, keys, x->p))
        return REFUSE(OAS_LOGNO(06502) "client %s: certificate x5t#S256 %s is no x5c of its "
                                       "JWKS",
                      c->id, x->cert->x5t);
    return APR_SUCCESS;
}

const char *oas_mtls_token_x5t(const json_t *at)
{
    const char *t = oas_json_str(json_object_get(at, "cnf"), "x5t#S256");

    return t && *t ? t : NULL;
}

apr_status_t oas_mtls_at_resource(oas_err_t *e, oas_ctx_t *x, const json_t *at)
{
    const char *t = oas_mtls_token_x5t(at);

    if (!t || (x->cert && oas_secure_streq(t, x->cert->x5t)))
        return APR_SUCCESS;
    return oas_err(e, x->p, 401, "invalid_token",
                   "the access token is bound to another client certificate", OAS_LOG_INFO,
                   OAS_LOGNO(06507) "access token jti %s of client %s refused: bound to "
                                    "certificate %s, %s%s",
                   oas_json_str(at, "jti"), oas_json_str(at, "client_id"), t,
                   x->cert ? "presented with " : "presented without a certificate",
                   x->cert ? x->cert->x5t : "");
}
