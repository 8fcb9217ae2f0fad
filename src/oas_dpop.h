/* mod_oauth_as: DPoP proof validation (RFC 9449 §4.3). The glue hands over what the request
 * carried (the DPoP header, the method), the URL the proof must name and what the endpoint
 * requires (an access token's ath, a nonce); every check is here, with one error for each
 * failure. Binding (cnf.jkt, dpop_jkt, refresh) is the caller's: it compares oas_dpop_t.jkt. */
#ifndef OAS_DPOP_H
#define OAS_DPOP_H

#include "oas_ctx.h"
#include "oas_dpop_nonce.h"

/* The proof window (contract): a proof whose iat is more than this many seconds in the past
 * is refused ... */
#define OAS_DPOP_IAT_PAST 300
/* ... or more than this many in the future (10 s must pass, conformance suite) */
#define OAS_DPOP_IAT_FUTURE 60
/* Limits on what a client hands us: the header (an RSA-8192 proof is ~4 KB) and the jti */
#define OAS_DPOP_MAX_LEN 8192
#define OAS_DPOP_JTI_MAX 256

/* What the request carried and what the endpoint requires. */
typedef struct oas_dpop_req_t {
    /* apr_table_get(r->headers_in, "DPoP"): NULL when absent; httpd joins repeated headers
     * with ", " */
    const char *header;
    int header_count;   /* how many DPoP header fields the request had (0, 1, more) */
    const char *method; /* r->method: htm must be exactly this */
    /* the endpoint's public URL, built by the caller from the issuer (or the OAuthASMTLSAlias
     * host), never from Host: compared with the proof's htu after oas_dpop_htu_normalize of
     * both */
    const char *htu;
    /* the token presented with the proof (userinfo, a resource): ath required and checked;
     * NULL at the AS (an ath is then ignored) */
    const char *access_token;
    /* allowed "alg"s, an OAS_ALGBIT set: OAuthASClientSigningAlgs less HS256 (HS256, and
     * anything not asymmetric, is refused whatever the set holds) */
    unsigned algs;
    /* OAuthASDPoPNonce On: a proof without a fresh nonce of nonce_key gets use_dpop_nonce */
    int nonce_required;
    const oas_dpop_nonce_key_t *nonce_key; /* required when nonce_required */
} oas_dpop_req_t;

/* The result of a check: a passed proof's values, and a nonce to offer. */
typedef struct oas_dpop_t {
    /* RFC 7638 SHA-256 thumbprint (base64url) of the proof's jwk: the binding (cnf.jkt,
     * dpop_jkt) */
    const char *jkt;
    const char *jti;   /* the proof's jti (spent: single-use from now on) */
    apr_int64_t iat;   /* the proof's iat, seconds */
    const char *nonce; /* the proof's nonce, NULL when it had none */
    /* a fresh nonce for a DPoP-Nonce header when req->nonce_required (to offer on success,
     * and the one use_dpop_nonce must carry), else NULL */
    const char *fresh_nonce;
} oas_dpop_t;

/** Check the DPoP proof of a request, every check of RFC 9449 §4.3:
 * - exactly one DPoP header (header_count 1, no comma: a comma means two joined by httpd),
 *   at most OAS_DPOP_MAX_LEN bytes, one compact JWS (oas_jws_parse: no crit, no b64);
 * - header typ "dpop+jwt"; alg asymmetric and in req->algs (never none, never HS256);
 * - header jwk: one public JWK (oas_jwk_parse: a private member d, p, q, dp, dq, qi, oth or k,
 *   or kty oct, is refused) that verifies the signature (a header kid is ignored);
 * - claims: jti a non-empty string of at most OAS_DPOP_JTI_MAX bytes; htm = req->method;
 *   htu = req->htu after oas_dpop_htu_normalize (query and fragment ignored); iat no more
 *   than OAS_DPOP_IAT_PAST s before now nor OAS_DPOP_IAT_FUTURE s after; nbf and exp
 *   accepted and, when present, checked (nbf <= now + OAS_DPOP_IAT_FUTURE, exp >= now -
 *   OAS_JWT_EXP_LEEWAY); ath = base64url(SHA-256(req->access_token)) when a token is given;
 *   nonce a fresh nonce of req->nonce_key when req->nonce_required; other header and payload
 *   members are accepted;
 * - the jti, once every other check passed, is spent: put_new under OAS_NS_DPOP (with the
 *   key's jkt) in the short-lived store until the proof's window is over, so that a proof is
 *   accepted once across every child and node.
 * The log detail names the failed check (tagged 06401-06449), and the jkt on a replay; never
 * the proof.
 * @param pd always set (in x->p): on success the proof's values; on failure every member is
 *        NULL but fresh_nonce (set when req->nonce_required)
 * @param err set on failure: 400 invalid_dpop_proof (a caller at userinfo or a resource
 *        server answers 401 + WWW-Authenticate), 400 use_dpop_nonce (send pd->fresh_nonce in
 *        DPoP-Nonce), 503 + Retry-After when the store refused the jti
 * @return APR_SUCCESS; APR_NOTFOUND no DPoP header at all (err: invalid_dpop_proof, for a
 *         caller that requires a proof; one that does not ignores it); APR_EINVAL the proof
 *         is refused (invalid_dpop_proof, a replayed jti included); APR_EAGAIN use_dpop_nonce;
 *         another status: the store failed (err: 503) */
apr_status_t oas_dpop_check(oas_dpop_t **pd, oas_err_t *err, oas_ctx_t *x,
                            const oas_dpop_req_t *req);

/** RFC 3986 §6.2.2 and §6.2.3 normalisation of an http(s) URL for the htu comparison: scheme
 * and host lower case, the default port (80 for http, 443 for https) dropped, an empty path
 * made "/", query and fragment removed; in the path, percent-encodings of unreserved
 * characters decoded and the others' hex digits upper case (§6.2.2.2); the path is otherwise
 * kept as it is (case-sensitive, dot segments not removed).
 * @return the normalised URL in p, or NULL when url is not an absolute http or https URL with
 *         a host (or has userinfo, a bad port, a bad percent-encoding, a space or a control
 *         character) */
const char *oas_dpop_htu_normalize(apr_pool_t *p, const char *url);

#endif
