/* mod_oauth_as: distinguished names (OAuthASClientCertSubject, RFC 8705 §2.1.2): an RFC 4514
 * string parsed into an OpenSSL X509_NAME, and compared with a certificate's subject as
 * RFC 5280 §7.1 says rather than as text. */
#ifndef OAS_DN_H
#define OAS_DN_H

#include <openssl/x509.h>

#include "oas.h"

#define OAS_DN_MAX_LEN 4096 /* bytes of an RFC 4514 string */
#define OAS_DN_MAX_AVAS 64  /* attribute-value pairs in one name */

/** Parse an RFC 4514 string ("CN=client 1,O=Example\, Inc.,C=DE") into an X509_NAME whose
 * first entry is the string's last RDN (RFC 4514 §2.1 writes the most specific RDN first).
 * Attribute types: a descriptor of OpenSSL's object table, matched without regard to case
 * (CN, cn, commonName, emailAddress, organizationIdentifier...), or a dotted OID ("OID."
 * prefix allowed). Values: RFC 4514 §3 strings with \-escapes of special characters and of
 * hex pairs (UTF-8), or #hex (the BER of a string type); "+" joins the AVAs of a
 * multi-valued RDN. Unescaped spaces around separators and at the ends of a value are
 * insignificant. The result's comparison encoding is computed here, so comparing it later
 * writes nothing (it is shared by threads).
 * @param pn receives the name, freed with p
 * @param perr receives the reason on failure (in p; quotes the offending part)
 * @return APR_SUCCESS, APR_EINVAL */
apr_status_t oas_dn_parse(X509_NAME **pn, const char **perr, apr_pool_t *p, const char *s);

/** RFC 5280 §7.1 with OpenSSL's canonical encoding (X509_NAME_cmp): the same RDNs in the same
 * order; within an RDN the same set of AVAs in any order; attribute types by OID; string
 * values converted to UTF-8 and compared with ASCII case folded, leading and trailing spaces
 * dropped and inner runs of spaces taken as one; other values byte for byte. Never a prefix
 * or substring match. 1 when equal. */
int oas_dn_equal(const X509_NAME *a, const X509_NAME *b);

/** The RFC 2253 text of a name (for log lines), in p. */
const char *oas_dn_text(apr_pool_t *p, const X509_NAME *n);

#endif
