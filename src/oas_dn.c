/* mod_oauth_as: RFC 4514 distinguished names parsed into X509_NAME and compared as RFC 5280
 * §7.1 says (oas_dn.h). OpenSSL reads names only in its own "/C=DE/O=x" form, so the RFC 4514
 * grammar is ours; the comparison is OpenSSL's canonical encoding, the one it uses to match
 * issuers and subjects when it builds chains. */
#include <apr_lib.h>
#include <apr_strings.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "oas_dn.h"
#include "oas_util.h"

typedef struct {
    ASN1_OBJECT *type;
    int vtype;                /* MBSTRING_UTF8 for a string value, else the BER's tag */
    const unsigned char *val; /* in the pool */
    apr_size_t len;
    int joined; /* 1: part of the previous AVA's RDN ("+") */
} ava_t;

static apr_status_t name_cleanup(void *data)
{
    X509_NAME_free(data);
    return APR_SUCCESS;
}

static apr_status_t obj_cleanup(void *data)
{
    ASN1_OBJECT_free(data);
    return APR_SUCCESS;
}

/* The nid whose short or long name is s, exactly, else without regard to case (RFC 4512
 * §2.5: descriptors are case-insensitive; OpenSSL's tables are not). NID_undef: none. */
static int nid_of_descr(const char *s)
{
    int nid, last, pass;

    if ((nid = OBJ_sn2nid(s)) != NID_undef || (nid = OBJ_ln2nid(s)) != NID_undef)
        return nid;
    last = OBJ_new_nid(0);
    ERR_set_mark(); /* holes in the nid range leave errors on the queue */
    for (pass = 0; pass < 2; pass++) {
        for (nid = 1; nid < last; nid++) {
            const char *n = pass ? OBJ_nid2ln(nid) : OBJ_nid2sn(nid);
            if (n && !strcasecmp(n, s)) {
                ERR_pop_to_mark();
                return nid;
            }
        }
    }
    ERR_pop_to_mark();
    return NID_undef;
}

/* The attribute type (RFC 4514 §3 attributeType: descr or numericoid) in t. */
static ASN1_OBJECT *attr_type(apr_pool_t *p, const char *t)
{
    ASN1_OBJECT *o = NULL;
    const char *c;
    int nid;

    if (!strncasecmp(t, "OID.", 4))
        t += 4;
    if (apr_isdigit(*t)) {
        for (c = t; *c; c++)
            if (!apr_isdigit(*c) && (*c != '.' || !apr_isdigit(c[1])))
                return NULL;
        o = OBJ_txt2obj(t, 1);
    }
    else if (apr_isalpha(*t)) {
        for (c = t; *c; c++)
            if (!apr_isalnum(*c) && *c != '-')
                return NULL;
        if ((nid = nid_of_descr(t)) != NID_undef)
            o = OBJ_nid2obj(nid) ? OBJ_dup(OBJ_nid2obj(nid)) : NULL;
    }
    if (o)
        apr_pool_cleanup_register(p, o, obj_cleanup, apr_pool_cleanup_null);
    return o;
}

static int hexval(int c)
{
    return apr_isdigit(c) ? c - '0' : apr_tolower(c) - 'a' + 10;
}

#define SPECIAL(c) (strchr("\"+,;<>\\", (c)) != NULL)

/* #hexstring: the BER of a value (RFC 4514 §2.4), which must be a single string. */
static const char *hex_value(ava_t *a, apr_pool_t *p, const char **ps)
{
    const char *s = *ps + 1;
    unsigned char *der = apr_palloc(p, strlen(s) / 2 + 1);
    const unsigned char *q;
    apr_size_t n = 0;
    ASN1_TYPE *t;

    while (apr_isxdigit(s[0]) && apr_isxdigit(s[1])) {
        der[n++] = (unsigned char)(hexval(s[0]) * 16 + hexval(s[1]));
        s += 2;
    }
    *ps = s;
    q = der;
    if (!n || !(t = d2i_ASN1_TYPE(NULL, &q, (long)n)) || q != der + n) {
        ERR_clear_error();
        return "a #hexstring value is not one BER-encoded value";
    }
    if (t->type != V_ASN1_UTF8STRING && t->type != V_ASN1_PRINTABLESTRING &&
        t->type != V_ASN1_IA5STRING && t->type != V_ASN1_T61STRING && t->type != V_ASN1_BMPSTRING &&
        t->type != V_ASN1_UNIVERSALSTRING && t->type != V_ASN1_VISIBLESTRING &&
        t->type != V_ASN1_NUMERICSTRING) {
        ASN1_TYPE_free(t);
        return "a #hexstring value is not a string type";
    }
    a->vtype = t->type;
    a->len = (apr_size_t)ASN1_STRING_length(t->value.asn1_string);
    a->val = apr_pmemdup(p, ASN1_STRING_get0_data(t->value.asn1_string), a->len + 1);
    ASN1_TYPE_free(t);
    return NULL;
}

/* An RFC 4514 §3 string value with its escapes; unescaped spaces at either end dropped. */
static const char *string_value(ava_t *a, apr_pool_t *p, const char **ps)
{
    const char *s = *ps;
    unsigned char *v = apr_palloc(p, strlen(s) + 1);
    apr_size_t n = 0, keep = 0; /* keep: the length up to the last significant byte */

    for (; *s && *s != ',' && *s != '+'; s++) {
        if (*s == '\\') {
            if (apr_isxdigit(s[1]) && apr_isxdigit(s[2])) {
                v[n++] = (unsigned char)(hexval(s[1]) * 16 + hexval(s[2]));
                s += 2;
            }
            else if (s[1] && (SPECIAL(s[1]) || s[1] == ' ' || s[1] == '#' || s[1] == '='))
                v[n++] = (unsigned char)*++s;
            else
                return "a backslash must escape a special character or a hex pair";
            keep = n;
        }
        else if (SPECIAL(*s))
            return apr_psprintf(p, "the character '%c' must be escaped", *s);
        else {
            v[n++] = (unsigned char)*s;
            if (*s != ' ')
                keep = n;
        }
    }
    *ps = s;
    v[keep] = '\0';
    if (keep && !oas_is_clean_utf8((const char *)v, keep))
        return "a value is not UTF-8 text";
    a->vtype = MBSTRING_UTF8;
    a->val = v;
    a->len = keep;
    return NULL;
}

/* One AVA at *ps: type '=' value. */
static const char *parse_ava(ava_t *a, apr_pool_t *p, const char **ps)
{
    const char *s = *ps, *eq;
    char *t;
    apr_size_t tl;

    while (*s == ' ')
        s++;
    if (!(eq = strchr(s, '=')))
        return apr_psprintf(p, "no '=' in \"%s\"", s);
    for (tl = (apr_size_t)(eq - s); tl && s[tl - 1] == ' '; tl--)
        ;
    t = apr_pstrmemdup(p, s, tl);
    if (!(a->type = attr_type(p, t)))
        return apr_psprintf(p, "unknown attribute type \"%s\"", t);
    for (s = eq + 1; *s == ' '; s++)
        ;
    *ps = s;
    return *s == '#' ? hex_value(a, p, ps) : string_value(a, p, ps);
}

apr_status_t oas_dn_parse(X509_NAME **pn, const char **perr, apr_pool_t *p, const char *s)
{
    ava_t avas[OAS_DN_MAX_AVAS];
    const char *why = NULL;
    X509_NAME *name;
    int n = 0, i, first;

    if (!*s || strlen(s) > OAS_DN_MAX_LEN) {
        *perr = *s ? "longer than 4096 bytes" : "empty";
        return APR_EINVAL;
    }
    for (;;) {
        if (n == OAS_DN_MAX_AVAS) {
            *perr = "more than 64 attributes";
            return APR_EINVAL;
        }
        avas[n].joined = n > 0 && s[-1] == '+';
        if ((why = parse_ava(&avas[n], p, &s))) {
            *perr = why;
            return APR_EINVAL;
        }
        n++;
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        if (*s != ',' && *s != '+') {
            *perr = apr_psprintf(p, "unexpected \"%s\"", s);
            return APR_EINVAL;
        }
        s++;
    }
    if (!(name = X509_NAME_new())) {
        *perr = "out of memory";
        return APR_ENOMEM;
    }
    apr_pool_cleanup_register(p, name, name_cleanup, apr_pool_cleanup_null);
    /* the string's last RDN is the name's first: walk the RDNs backwards, each RDN's AVAs in
     * their order (set -1 adds to the RDN of the entry before) */
    for (i = n - 1; i >= 0; i = first - 1) {
        int k;
        for (first = i; avas[first].joined; first--)
            ;
        for (k = first; k <= i; k++) {
            if (!X509_NAME_add_entry_by_OBJ(name, avas[k].type, avas[k].vtype, avas[k].val,
                                            (int)avas[k].len, -1, k == first ? 0 : -1)) {
                char txt[80];
                OBJ_obj2txt(txt, sizeof(txt), avas[k].type, 0);
                ERR_clear_error();
                *perr = apr_psprintf(p, "the value of %s is not allowed for that attribute", txt);
                return APR_EINVAL;
            }
        }
    }
    if (i2d_X509_NAME(name, NULL) <= 0) { /* computes the canonical encoding once */
        ERR_clear_error();
        *perr = "cannot encode the name";
        return APR_EINVAL;
    }
    *pn = name;
    return APR_SUCCESS;
}

int oas_dn_equal(const X509_NAME *a, const X509_NAME *b)
{
    int r = X509_NAME_cmp(a, b);

    ERR_clear_error(); /* -2: an encoding failed; never equal */
    return r == 0;
}

const char *oas_dn_text(apr_pool_t *p, const X509_NAME *n)
{
    BIO *b = BIO_new(BIO_s_mem());
    const char *out = "?";
    char *data;
    long len;

    if (b && X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
        (len = BIO_get_mem_data(b, &data)) >= 0)
        out = apr_pstrmemdup(p, data, (apr_size_t)len);
    BIO_free(b);
    return out;
}
