/* Unit tests: mutual TLS (RFC 8705) in the core: RFC 4514 names parsed and compared as
 * distinguished names (a table of equal and unequal pairs: case of types, order of RDNs,
 * spacing, escapes, multi-valued RDNs, #hex values), SAN matching of each kind, the x5t#S256
 * thumbprint, chain verification against a pinned CA file only, self-signed certificates
 * against a JWKS's x5c, and client authentication and token binding with their log tags.
 * Certificates are made here with OpenSSL. */
#include "unit.h"

#include <apr_file_io.h>
#include <apr_strings.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "oas_dn.h"
#include "oas_jwk.h"
#include "oas_mtls.h"
#include "oas_util.h"

#define NOW 1760000000

/* ---- certificates made for the tests ---- */

typedef struct {
    X509 *x;
    EVP_PKEY *k;
} pair_t;

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v;
    X509_EXTENSION *ext;

    X509V3_set_ctx(&v, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v, nid, value);
    assert_non_null(ext);
    assert_int_equal(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

/* A certificate for subject (OpenSSL's "/C=DE/O=x" form) with san (NULL: none), signed by
 * issuer (NULL: self-signed), valid from NOW - 3600 for days. */
static pair_t make_cert(const char *subject, const char *san, const pair_t *issuer, int ca,
                        int days)
{
    pair_t r;
    X509_NAME *n;
    static long serial = 1;

    r.k = EVP_EC_gen("P-256");
    r.x = X509_new();
    assert_non_null(r.k);
    X509_set_version(r.x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(r.x), serial++);
    X509_time_adj_ex(X509_getm_notBefore(r.x), 0, -3600, (time_t[]){NOW});
    X509_time_adj_ex(X509_getm_notAfter(r.x), days, 0, (time_t[]){NOW});
    n = X509_NAME_new();
    {
        char *s = strdup(subject), *save = NULL, *tok;
        for (tok = strtok_r(s, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
            char *eq = strchr(tok, '=');
            *eq = '\0';
            assert_int_equal(X509_NAME_add_entry_by_txt(n, tok, MBSTRING_UTF8,
                                                        (unsigned char *)eq + 1, -1, -1, 0),
                             1);
        }
        free(s);
    }
    X509_set_subject_name(r.x, n);
    X509_set_issuer_name(r.x, issuer ? X509_get_subject_name(issuer->x) : n);
    X509_NAME_free(n);
    X509_set_pubkey(r.x, r.k);
    add_ext(r.x, issuer ? issuer->x : r.x, NID_basic_constraints,
            ca ? "critical,CA:TRUE" : "CA:FALSE");
    if (!ca)
        add_ext(r.x, NULL, NID_ext_key_usage, "clientAuth");
    if (san)
        add_ext(r.x, NULL, NID_subject_alt_name, san);
    assert_true(X509_sign(r.x, issuer ? issuer->k : r.k, EVP_sha256()) > 0);
    return r;
}

static void free_pair(pair_t *c)
{
    X509_free(c->x);
    EVP_PKEY_free(c->k);
}

static const char *pem_of(apr_pool_t *p, X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *d;
    long n;
    const char *out;

    PEM_write_bio_X509(b, x);
    n = BIO_get_mem_data(b, &d);
    out = apr_pstrmemdup(p, d, (apr_size_t)n);
    BIO_free(b);
    return out;
}

static oas_cert_t *cert_of(apr_pool_t *p, const pair_t *c, const pair_t *inter)
{
    apr_array_header_t *chain = apr_array_make(p, 1, sizeof(const char *));
    oas_cert_t *out;
    const char *err = NULL;

    if (inter)
        APR_ARRAY_PUSH(chain, const char *) = pem_of(p, inter->x);
    assert_int_equal(oas_cert_parse(&out, &err, p, pem_of(p, c->x), chain), APR_SUCCESS);
    return out;
}

/* A CA file holding the PEM of each certificate given. */
static X509_STORE *ca_store(apr_pool_t *p, const pair_t *a, const pair_t *b)
{
    char *path = apr_pstrdup(p, "/tmp/oas-test-ca-XXXXXX");
    apr_file_t *f;
    const char *txt = apr_pstrcat(p, pem_of(p, a->x), b ? pem_of(p, b->x) : "", NULL);
    X509_STORE *st = NULL;
    const char *err;

    assert_int_equal(
        apr_file_mktemp(&f, path, APR_FOPEN_CREATE | APR_FOPEN_WRITE | APR_FOPEN_EXCL, p),
        APR_SUCCESS);
    apr_file_puts(txt, f);
    apr_file_close(f);
    assert_int_equal(oas_cert_ca_load(&st, &err, p, path), APR_SUCCESS);
    apr_file_remove(path, p);
    return st;
}

/* ---- distinguished names ---- */

static X509_NAME *dn(apr_pool_t *p, const char *s)
{
    X509_NAME *n = NULL;
    const char *err = NULL;

    if (oas_dn_parse(&n, &err, p, s) != APR_SUCCESS)
        fail_msg("%s: %s", s, err);
    return n;
}

static void test_dn_table(void **state)
{
    apr_pool_t *p = *state;
    static const struct {
        const char *a, *b;
        int equal;
    } rows[] = {
        {"CN=client1,O=Example,C=DE", "CN=client1,O=Example,C=DE", 1},
        /* attribute types: case, long names, OIDs */
        {"CN=client1,O=Example,C=DE", "cn=client1,o=Example,c=DE", 1},
        {"CN=client1,O=Example,C=DE", "commonName=client1,organizationName=Example,C=DE", 1},
        {"CN=client1,O=Example,C=DE", "2.5.4.3=client1,2.5.4.10=Example,2.5.4.6=DE", 1},
        {"CN=client1,O=Example,C=DE", "OID.2.5.4.3=client1,O=Example,C=DE", 1},
        {"CN=client1,O=Example", "2.5.4.4=client1,O=Example", 0}, /* surname, not CN */
        /* values: case and insignificant spaces */
        {"CN=client1,O=Example", "CN=CLIENT1,O=example", 1},
        {"CN=client 1,O=Example", "CN=client   1,O=Example", 1},
        {"CN=client1,O=Example", "CN = client1 , O = Example ", 1},
        {"CN=client1,O=Example", "CN=client 1,O=Example", 0},
        /* order of RDNs matters; never a prefix or suffix */
        {"CN=client1,O=Example", "O=Example,CN=client1", 0},
        {"CN=client1,O=Example", "CN=client1", 0},
        {"CN=client1,O=Example", "CN=client1,O=Example,C=DE", 0},
        {"CN=client1,O=Example", "CN=client,O=Example", 0},
        {"CN=client1,O=Example", "CN=client12,O=Example", 0},
        /* escapes */
        {"CN=a\\,b,O=Example", "CN=a\\2Cb,O=Example", 1},
        {"CN=a\\,b,O=Example", "CN=a,CN=b,O=Example", 0},
        {"CN=a\\+b", "CN=a\\2bb", 1},
        {"CN=a\\+b", "CN=a+CN=b", 0},
        {"CN=\\#1", "CN=\\231", 1},
        {"CN=J\\C3\\BCrgen", "CN=J\xc3\xbcrgen", 1},
        {"CN=a\\\\b", "CN=a\\5Cb", 1},
        {"CN=\\ x\\ ", "CN=x", 1}, /* spaces at the ends are insignificant (RFC 4518 §2.6.1) */
        {"CN=a\\=b", "CN=a=b", 1},
        /* multi-valued RDNs: the AVAs of one RDN in any order, never split */
        {"CN=a+UID=7,O=Example", "UID=7+CN=a,O=Example", 1},
        {"CN=a+UID=7,O=Example", "CN=a,UID=7,O=Example", 0},
        {"CN=a+UID=7,O=Example", "CN=a,O=Example", 0},
        /* #hex: the BER of a UTF8String "client1" and of a PrintableString "client1" */
        {"CN=#0c07636c69656e7431", "CN=client1", 1},
        {"CN=#1307636c69656e7431", "CN=Client1", 1},
        {"CN=#1307636c69656e7431", "CN=client2", 0},
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (oas_dn_equal(dn(p, rows[i].a), dn(p, rows[i].b)) != rows[i].equal)
            fail_msg("row %zu: \"%s\" vs \"%s\" should be %s", i, rows[i].a, rows[i].b,
                     rows[i].equal ? "equal" : "unequal");
    }
}

static void test_dn_refused(void **state)
{
    apr_pool_t *p = *state;
    static const char *const bad[] = {"",          "CN",        "=x",       "CN=a;O=b",
                                      "CN=a<b",    "CN=a\"b",   "CN=a\\q",  "XX=a",
                                      "CN=a,,O=b", "CN=#zz",    "CN=#0407", "C=DEU",
                                      "1..2=a",    "CN=a\\00b", "CN=a\\ff", "CN=a,O=b,"};
    X509_NAME *n;
    const char *err;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = NULL;
        if (oas_dn_parse(&n, &err, p, bad[i]) != APR_EINVAL)
            fail_msg("\"%s\" was accepted", bad[i]);
        assert_non_null(err);
    }
    /* the string's last RDN is the name's first entry */
    n = dn(p, "CN=leaf,O=Org,C=DE");
    assert_int_equal(OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(n, 0))),
                     NID_countryName);
    assert_string_equal(oas_dn_text(p, n), "CN=leaf,O=Org,C=DE");
}

/* A certificate's subject against configured names (what tls_client_auth compares). */
static void test_dn_certificate(void **state)
{
    apr_pool_t *p = *state;
    pair_t c = make_cert("/C=DE/O=Example, Inc./CN=client 1", NULL, NULL, 0, 30);
    const X509_NAME *subj = X509_get_subject_name(c.x);

    assert_true(oas_dn_equal(subj, dn(p, "CN=client 1,O=Example\\, Inc.,C=DE")));
    assert_true(oas_dn_equal(subj, dn(p, "cn=Client 1, o=example\\2c inc., c=de")));
    assert_false(oas_dn_equal(subj, dn(p, "CN=client 1,O=Example\\, Inc.")));
    assert_false(oas_dn_equal(subj, dn(p, "C=DE,O=Example\\, Inc.,CN=client 1")));
    free_pair(&c);
}

/* ---- certificates ---- */

static void test_san(void **state)
{
    apr_pool_t *p = *state;
    pair_t c = make_cert("/CN=x",
                         "DNS:Client.Example.com,URI:https://client.example.com/app,"
                         "IP:192.0.2.7,IP:2001:db8::1,email:Alice@Example.COM",
                         NULL, 0, 30);
    oas_cert_t *cert = cert_of(p, &c, NULL);

    assert_int_equal(oas_san_kind("dns"), OAS_SAN_DNS);
    assert_int_equal(oas_san_kind("IP"), OAS_SAN_IP);
    assert_int_equal(oas_san_kind("upn"), 0);
    assert_null(oas_san_value_check(OAS_SAN_IP, "2001:db8::1"));
    assert_non_null(oas_san_value_check(OAS_SAN_IP, "192.0.2.300"));
    assert_non_null(oas_san_value_check(OAS_SAN_DNS, ""));

    assert_true(oas_cert_san_match(cert, OAS_SAN_DNS, "client.example.com"));
    assert_false(oas_cert_san_match(cert, OAS_SAN_DNS, "example.com"));
    assert_false(oas_cert_san_match(cert, OAS_SAN_DNS, "client.example.com."));
    assert_false(oas_cert_san_match(cert, OAS_SAN_URI, "client.example.com")); /* kind matters */
    assert_true(oas_cert_san_match(cert, OAS_SAN_URI, "https://client.example.com/app"));
    assert_false(oas_cert_san_match(cert, OAS_SAN_URI, "https://client.example.com/App"));
    assert_false(oas_cert_san_match(cert, OAS_SAN_URI, "https://client.example.com/"));
    assert_true(oas_cert_san_match(cert, OAS_SAN_IP, "192.0.2.7"));
    assert_true(oas_cert_san_match(cert, OAS_SAN_IP, "2001:0db8:0::0001"));
    assert_false(oas_cert_san_match(cert, OAS_SAN_IP, "192.0.2.8"));
    assert_false(oas_cert_san_match(cert, OAS_SAN_IP, "not-an-ip"));
    assert_true(oas_cert_san_match(cert, OAS_SAN_EMAIL, "Alice@example.com"));
    assert_false(oas_cert_san_match(cert, OAS_SAN_EMAIL, "alice@example.com"));
    assert_false(oas_cert_san_match(cert, OAS_SAN_EMAIL, "Alice@example.co"));
    assert_false(oas_cert_san_match(cert, OAS_SAN_DNS, "Alice@example.com"));
    free_pair(&c);

    /* no SAN extension at all */
    c = make_cert("/CN=client.example.com", NULL, NULL, 0, 30);
    assert_false(oas_cert_san_match(cert_of(p, &c, NULL), OAS_SAN_DNS, "client.example.com"));
    free_pair(&c);
}

static void test_parse_and_thumbprint(void **state)
{
    apr_pool_t *p = *state;
    pair_t c = make_cert("/CN=x", NULL, NULL, 0, 30);
    oas_cert_t *cert = cert_of(p, &c, NULL);
    unsigned char *der = NULL, md[OAS_SHA256_LEN];
    int n = i2d_X509(c.x, &der);
    const char *err = NULL;
    apr_array_header_t *many = apr_array_make(p, 11, sizeof(const char *));
    int i;

    oas_sha256(md, der, (apr_size_t)n);
    assert_string_equal(cert->x5t, oas_b64url_encode(p, md, sizeof(md)));
    assert_int_equal(strlen(cert->x5t), 43);
    assert_int_equal(cert->der_len, n);
    OPENSSL_free(der);

    assert_int_equal(oas_cert_parse(&cert, &err, p, "not a certificate", NULL), APR_EINVAL);
    assert_non_null(err);
    for (i = 0; i < 11; i++)
        APR_ARRAY_PUSH(many, const char *) = pem_of(p, c.x);
    assert_int_equal(oas_cert_parse(&cert, &err, p, pem_of(p, c.x), many), APR_EINVAL);
    free_pair(&c);
}

/* The chain must reach the client's pinned CA file; the same subject from another CA, an
 * expired certificate or a missing intermediate do not. */
static void test_chain(void **state)
{
    apr_pool_t *p = *state;
    pair_t root = make_cert("/O=Root CA", NULL, NULL, 1, 365);
    pair_t other = make_cert("/O=Root CA", NULL, NULL, 1, 365); /* same name, other key */
    pair_t inter = make_cert("/O=Intermediate", NULL, &root, 1, 365);
    pair_t leaf = make_cert("/CN=client1", NULL, &root, 0, 30);
    pair_t leaf2 = make_cert("/CN=client1", NULL, &inter, 0, 30);
    pair_t spoof = make_cert("/CN=client1", NULL, &other, 0, 30);
    pair_t old = make_cert("/CN=client1", NULL, &root, 0, -1);
    X509_STORE *pin = ca_store(p, &root, NULL), *pin_inter = ca_store(p, &inter, NULL);
    const char *why;

    assert_true(oas_cert_verify(&why, cert_of(p, &leaf, NULL), pin, NOW));
    assert_true(oas_cert_verify(&why, cert_of(p, &leaf2, &inter), pin, NOW));
    assert_false(oas_cert_verify(&why, cert_of(p, &leaf2, NULL), pin, NOW));
    assert_non_null(why);
    assert_false(oas_cert_verify(&why, cert_of(p, &spoof, NULL), pin, NOW));
    assert_false(oas_cert_verify(&why, cert_of(p, &old, NULL), pin, NOW));
    assert_false(oas_cert_verify(&why, cert_of(p, &leaf, NULL), pin, NOW + 31 * 86400));
    /* an intermediate in the file is an anchor of its own: a pin */
    assert_true(oas_cert_verify(&why, cert_of(p, &leaf2, NULL), pin_inter, NOW));
    assert_false(oas_cert_verify(&why, cert_of(p, &leaf, NULL), pin_inter, NOW));
    /* a CA certificate is no client certificate of itself */
    assert_false(oas_cert_verify(&why, cert_of(p, &root, NULL), pin_inter, NOW));

    {
        X509_STORE *st;
        const char *err = NULL;
        assert_int_equal(oas_cert_ca_load(&st, &err, p, "/nonexistent/ca.pem"), APR_EINVAL);
        assert_non_null(strstr(err, "/nonexistent/ca.pem"));
    }
    free_pair(&root), free_pair(&other), free_pair(&inter);
    free_pair(&leaf), free_pair(&leaf2), free_pair(&spoof), free_pair(&old);
}

/* ---- client authentication and bound tokens ---- */

static oas_client_t *client(apr_pool_t *p, int methods)
{
    oas_client_t *c = oas_client_make(p, "c1");

    c->auth_methods = methods;
    return c;
}

static void ctx(oas_ctx_t *x, apr_pool_t *p, oas_issuer_t *iss, const oas_cert_t *cert)
{
    oas_ctx_init(x, p, iss, NOW);
    x->cert = cert;
}

#define assert_refused(rv, e, tag)                                                                 \
    do {                                                                                           \
        assert_int_equal((rv), APR_EINVAL);                                                        \
        assert_int_equal((e).status, 401);                                                         \
        assert_string_equal((e).error, "invalid_client");                                          \
        assert_non_null(strstr((e).detail, tag));                                                  \
    } while (0)

static void test_tls_client_auth(void **state)
{
    apr_pool_t *p = *state;
    pair_t root = make_cert("/O=Root CA", NULL, NULL, 1, 365);
    pair_t other = make_cert("/O=Root CA", NULL, NULL, 1, 365);
    pair_t leaf = make_cert("/C=DE/CN=client1", "DNS:c1.example", &root, 0, 30);
    pair_t spoof = make_cert("/C=DE/CN=client1", "DNS:c1.example", &other, 0, 30);
    pair_t wrong = make_cert("/C=DE/CN=client2", "DNS:c2.example", &root, 0, 30);
    oas_issuer_t *iss = oas_issuer_make(p);
    oas_client_t *c = client(p, OAS_AUTH_TLS);
    oas_ctx_t x;
    oas_err_t e;

    c->cert_ca = ca_store(p, &root, NULL);
    c->cert_subject = "CN=client1,C=DE";
    c->cert_dn = dn(p, c->cert_subject);
    ctx(&x, p, iss, cert_of(p, &leaf, NULL));
    assert_int_equal(oas_mtls_authenticate(&e, &x, c), APR_SUCCESS);
    ctx(&x, p, iss, NULL);
    assert_refused(oas_mtls_authenticate(&e, &x, c), e, "OAS06501");
    ctx(&x, p, iss, cert_of(p, &spoof, NULL));
    assert_refused(oas_mtls_authenticate(&e, &x, c), e, "OAS06503");
    ctx(&x, p, iss, cert_of(p, &wrong, NULL));
    assert_refused(oas_mtls_authenticate(&e, &x, c), e, "OAS06504");

    c->cert_dn = NULL;
    c->cert_subject = NULL;
    c->cert_san_kind = OAS_SAN_DNS;
    c->cert_san = "c1.example";
    ctx(&x, p, iss, cert_of(p, &leaf, NULL));
    assert_int_equal(oas_mtls_authenticate(&e, &x, c), APR_SUCCESS);
    ctx(&x, p, iss, cert_of(p, &wrong, NULL));
    assert_refused(oas_mtls_authenticate(&e, &x, c), e, "OAS06505");
    ctx(&x, p, iss, cert_of(p, &spoof, NULL));
    assert_refused(oas_mtls_authenticate(&e, &x, c), e, "OAS06503");
    free_pair(&root), free_pair(&other), free_pair(&leaf), free_pair(&spoof), free_pair(&wrong);
}

static void test_self_signed(void **state)
{
    apr_pool_t *p = *state;
    pair_t mine = make_cert("/CN=self", NULL, NULL, 0, 30);
    pair_t same_name = make_cert("/CN=self", NULL, NULL, 0, 30);
    oas_issuer_t *iss = oas_issuer_make(p);
    oas_client_t *c = client(p, OAS_AUTH_SELF_TLS);
    oas_jwk_t *k = apr_pcalloc(p, sizeof(*k)), *nokey = apr_pcalloc(p, sizeof(*nokey));
    oas_ctx_t x;
    oas_err_t e;
    unsigned char *der = NULL;
    int n = i2d_X509(mine.x, &der);
    char *b64 = apr_palloc(p, (apr_size_t)n * 2);

    EVP_EncodeBlock((unsigned char *)b64, der, n);
    OPENSSL_free(der);
    k->x5c0 = b64;
    c->jwks = apr_array_make(p, 2, sizeof(oas_jwk_t *));
    APR_ARRAY_PUSH(c->jwks, oas_jwk_t *) = nokey; /* a key without x5c is skipped */
    APR_ARRAY_PUSH(c->jwks, oas_jwk_t *) = k;
    ctx(&x, p, iss, cert_of(p, &mine, NULL));
    assert_int_equal(oas_mtls_authenticate(&e, &x, c), APR_SUCCESS);
    ctx(&x, p, iss, cert_of(p, &same_name, NULL));
    assert_refused(oas_mtls_authenticate(&e, &x, c), e, "OAS06502");
    ctx(&x, p, iss, NULL);
    assert_refused(oas_mtls_authenticate(&e, &x, c), e, "OAS06501");
    free_pair(&mine), free_pair(&same_name);
}

static void test_bound_token_at_resource(void **state)
{
    apr_pool_t *p = *state;
    pair_t a = make_cert("/CN=a", NULL, NULL, 0, 30), b = make_cert("/CN=a", NULL, NULL, 0, 30);
    oas_cert_t *ca = cert_of(p, &a, NULL), *cb = cert_of(p, &b, NULL);
    json_t *bound = json_pack("{s:s, s:s, s:{s:s}}", "jti", "J1", "client_id", "c1", "cnf",
                              "x5t#S256", ca->x5t);
    json_t *plain = json_pack("{s:s, s:s}", "jti", "J2", "client_id", "c1");
    oas_issuer_t *iss = oas_issuer_make(p);
    oas_ctx_t x;
    oas_err_t e;

    assert_string_equal(oas_mtls_token_x5t(bound), ca->x5t);
    assert_null(oas_mtls_token_x5t(plain));
    ctx(&x, p, iss, ca);
    assert_int_equal(oas_mtls_at_resource(&e, &x, bound), APR_SUCCESS);
    assert_int_equal(oas_mtls_at_resource(&e, &x, plain), APR_SUCCESS);
    ctx(&x, p, iss, cb);
    assert_int_equal(oas_mtls_at_resource(&e, &x, bound), APR_EINVAL);
    assert_int_equal(e.status, 401);
    assert_string_equal(e.error, "invalid_token");
    assert_non_null(strstr(e.detail, "OAS06507"));
    ctx(&x, p, iss, NULL);
    assert_int_equal(oas_mtls_at_resource(&e, &x, bound), APR_EINVAL);
    assert_int_equal(oas_mtls_at_resource(&e, &x, plain), APR_SUCCESS);
    json_decref(bound);
    json_decref(plain);
    free_pair(&a), free_pair(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_dn_table),
        UNIT_TEST(test_dn_refused),
        UNIT_TEST(test_dn_certificate),
        UNIT_TEST(test_san),
        UNIT_TEST(test_parse_and_thumbprint),
        UNIT_TEST(test_chain),
        UNIT_TEST(test_tls_client_auth),
        UNIT_TEST(test_self_signed),
        UNIT_TEST(test_bound_token_at_resource),
    };
    return UNIT_RUN(tests);
}
