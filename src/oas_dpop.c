/* mod_oauth_as: DPoP proof validation (oas_dpop.h). The checks run cheapest first, and the
 * signature before anything is written: a forged proof costs one verification and never a
 * store write, and a replayed one is refused by the atomic put_new alone. */
#include <apr_lib.h>
#include <openssl/crypto.h>

#include "oas_dpop.h"
#include "oas_dpop_key.h"
#include "oas_jose.h"
#include "oas_jwk.h"
#include "oas_jwt.h"
#include "oas_keys.h"
#include "oas_metrics.h"
#include "oas_util.h"

#define DPOP_TYP "dpop+jwt"

/* Every refusal of a proof: 400 invalid_dpop_proof, logged at info with the failed check
 * (a client's mistake, not the server's). tag is OAS_LOGNO(n) of the call site. */
#define REFUSE(tag, desc, ...)                                                                     \
    oas_err(err, x->p, 400, "invalid_dpop_proof", (desc), OAS_LOG_INFO,                            \
            tag "DPoP proof refused: " __VA_ARGS__)

static int is_default_port(const char *scheme, apr_int64_t port)
{
    return (port == 80 && scheme[4] == '\0') || (port == 443 && scheme[4] == 's');
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* RFC 3986 §2.3 unreserved: a percent-encoded one is the character itself (§6.2.2.2) */
static int unreserved(int c)
{
    return apr_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

const char *oas_dpop_htu_normalize(apr_pool_t *p, const char *url)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *s, *auth, *host_end, *end;
    char *out, *o;
    apr_size_t len;
    apr_int64_t port = -1;
    const char *scheme;

    if (!url)
        return NULL;
    /* scheme, case-insensitively (§6.2.2.1) */
    if (!strncasecmp(url, "https://", 8)) {
        scheme = "https";
        auth = url + 8;
    }
    else if (!strncasecmp(url, "http://", 7)) {
        scheme = "http";
        auth = url + 7;
    }
    else
        return NULL;
    /* the authority ends at the path, the query or the fragment */
    end = auth + strcspn(auth, "/?#");
    if (memchr(auth, '@', (apr_size_t)(end - auth)))
        return NULL; /* userinfo: never in an endpoint URL */
    if (*auth == '[') {
        host_end = memchr(auth, ']', (apr_size_t)(end - auth));
        if (!host_end)
            return NULL;
        host_end++;
    }
    else
        host_end = auth + strcspn(auth, ":/?#");
    if (host_end == auth || host_end > end)
        return NULL;
    if (host_end < end) {
        /* ":" port: digits only; an empty port is no port (§6.2.3) */
        if (*host_end != ':')
            return NULL;
        for (s = host_end + 1, port = s < end ? 0 : -1; s < end; s++) {
            if (!apr_isdigit(*s) || (port = port * 10 + (*s - '0')) > 65535)
                return NULL;
        }
    }
    len = strlen(end);
    out = o = apr_palloc(p, strlen(scheme) + 3 + (apr_size_t)(host_end - auth) + 7 + len + 2);
    o += sprintf(o, "%s://", scheme);
    for (s = auth; s < host_end; s++) {
        if ((unsigned char)*s <= 0x20 || *s == 0x7f)
            return NULL;
        *o++ = (char)apr_tolower(*s);
    }
    if (port >= 0 && !is_default_port(scheme, port))
        o += sprintf(o, ":%d", (int)port);
    /* the path, up to the query or fragment (both ignored); empty: "/" (§6.2.3) */
    if (*end != '/')
        *o++ = '/';
    for (s = end; *s && *s != '?' && *s != '#'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c <= 0x20 || c == 0x7f)
            return NULL;
        if (c == '%') {
            int hi = hexval((unsigned char)s[1]), lo = hi < 0 ? -1 : hexval((unsigned char)s[2]);

            if (lo < 0)
                return NULL;
            if (unreserved(hi * 16 + lo))
                *o++ = (char)(hi * 16 + lo);
            else {
                *o++ = '%';
                *o++ = hex[hi];
                *o++ = hex[lo];
            }
            s += 2;
            continue;
        }
        *o++ = (char)c;
    }
    *o = '\0';
    return out;
}

/* The proof's "jwk" header: one public key, which must verify the signature, and its RFC 7638
 * thumbprint (oas_dpop_key). */
static apr_status_t proof_key(oas_jwk_t **pk, const char **pjkt, const char **why, apr_pool_t *p,
                              const oas_jws_t *j)
{
    oas_jobj_t h;
    const char *jwk;

    /* oas_jws_parse read this header already; it hands out the text, not the members */
    if (oas_jsonr_parse_ex(&h, p, j->header_json, j->header_len, OAS_JSONR_NUMBERS) !=
        APR_SUCCESS) {
        *why = "header not a JSON object";
        return APR_EINVAL;
    }
    if (!(jwk = oas_jobj_object(&h, "jwk"))) {
        *why = "no jwk header, or not an object";
        return APR_EINVAL;
    }
    return oas_dpop_key(pk, pjkt, why, p, jwk, strlen(jwk));
}

/* The claims of RFC 9449 §4.2 and the window; the caller checked the signature. */
static apr_status_t proof_claims(oas_dpop_t *d, oas_err_t *err, oas_ctx_t *x,
                                 const oas_dpop_req_t *req, const oas_jwt_t *c)
{
    const char *htm = oas_jobj_str(&c->claims, "htm");
    const char *htu = oas_jobj_str(&c->claims, "htu");
    const char *want, *got;

    if (!c->jti || !*c->jti || strlen(c->jti) > OAS_DPOP_JTI_MAX)
        return REFUSE(OAS_LOGNO(06405), "DPoP proof without a valid jti",
                      "jti missing, empty or over %d bytes", OAS_DPOP_JTI_MAX);
    if (!htm || !req->method || strcmp(htm, req->method))
        return REFUSE(OAS_LOGNO(06406), "DPoP proof htm does not match the request method",
                      "htm %s the request's method (%s)", htm ? "is not" : "missing: not",
                      req->method ? req->method : "-");
    want = oas_dpop_htu_normalize(x->p, req->htu);
    got = oas_dpop_htu_normalize(x->p, htu);
    if (!want || !got || strcmp(want, got))
        return REFUSE(OAS_LOGNO(06407), "DPoP proof htu does not match the endpoint URL",
                      "htu %s (expected %s)",
                      !htu   ? "missing"
                      : !got ? "not an http(s) URL"
                             : "differs",
                      want ? want : "-");
    if (!c->has_iat)
        return REFUSE(OAS_LOGNO(06408), "DPoP proof without iat", "iat missing");
    if (c->iat < x->now - OAS_DPOP_IAT_PAST || c->iat > x->now + OAS_DPOP_IAT_FUTURE)
        return REFUSE(OAS_LOGNO(06409), "DPoP proof iat outside the acceptance window",
                      "iat %" APR_INT64_T_FMT " s from now (allowed -%d..+%d)", c->iat - x->now,
                      OAS_DPOP_IAT_PAST, OAS_DPOP_IAT_FUTURE);
    /* nbf and exp are not DPoP claims but accepted (conformance: check-dpop-proof-nbf-exp);
     * when present they still mean what they say */
    if ((c->has_nbf && c->nbf > x->now + OAS_DPOP_IAT_FUTURE) ||
        (c->has_exp && c->exp < x->now - OAS_JWT_EXP_LEEWAY))
        return REFUSE(OAS_LOGNO(06410), "DPoP proof expired or not yet valid", "%s",
                      c->has_exp && c->exp < x->now - OAS_JWT_EXP_LEEWAY ? "exp passed"
                                                                         : "nbf ahead");
    if (req->access_token) {
        const char *ath = oas_jobj_str(&c->claims, "ath");
        unsigned char h[OAS_SHA256_LEN];
        const char *expect;

        oas_sha256(h, req->access_token, strlen(req->access_token));
        expect = oas_b64url_encode(x->p, h, sizeof(h));
        if (!ath || strlen(ath) != strlen(expect) ||
            CRYPTO_memcmp(ath, expect, strlen(expect)) != 0)
            return REFUSE(OAS_LOGNO(06411), "DPoP proof ath does not match the access token",
                          "ath %s", ath ? "differs from the token's hash" : "missing");
    }
    d->nonce = oas_jobj_str(&c->claims, "nonce");
    if (req->nonce_required && !(d->nonce && req->nonce_key &&
                                 oas_dpop_nonce_ok(x->p, req->nonce_key, d->nonce, x->now))) {
        oas_err(err, x->p, 400, "use_dpop_nonce", "Use the DPoP-Nonce of this response",
                OAS_LOG_INFO, OAS_LOGNO(06412) "DPoP proof %s: use_dpop_nonce",
                d->nonce ? "with a nonce not ours or stale" : "without a nonce");
        return APR_EAGAIN;
    }
    return APR_SUCCESS;
}

/* Spend the jti: one single-use marker (OAS_CTX_REPLAY: the node's tally, or the database the
 * nodes share), atomic across children and nodes. The key is the
 * jkt and the jti, so no client can spend another key's jti; the record lives as long as the
 * proof could still be accepted. */
static apr_status_t spend_jti(oas_err_t *err, oas_ctx_t *x, const oas_dpop_t *d)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_REPLAY);
    const char *key;
    apr_status_t rv;

    if (!st)
        return oas_store_refused(x, err, APR_ENOTIMPL, "spending a DPoP proof's jti");
    key = apr_pstrcat(x->p, d->jkt, "\n", d->jti, NULL);
    rv = oas_store_put_new(st, x->p, OAS_NS_DPOP, key, "", 0,
                           apr_time_from_sec(d->iat + OAS_DPOP_IAT_PAST + 1));
    if (rv == APR_EEXIST) {
        oas_metrics_replay(OAS_MR_DPOP);
        return REFUSE(OAS_LOGNO(06413), "DPoP proof already used", "jti replayed (jkt %s)", d->jkt);
    }
    if (rv != APR_SUCCESS)
        return oas_store_refused(x, err, rv, "spending a DPoP proof's jti");
    return APR_SUCCESS;
}

static apr_status_t check(oas_dpop_t *d, oas_err_t *err, oas_ctx_t *x, const oas_dpop_req_t *req)
{
    apr_array_header_t *keys;
    oas_jws_t *j, nokid;
    oas_jwk_t *k;
    oas_jwt_t *c;
    const char *why, *jkt = NULL;
    apr_status_t rv;

    /* httpd joins repeated fields with ", ": a comma (or any space) means more than one */
    if (req->header_count > 1 || strpbrk(req->header, ", \t"))
        return REFUSE(OAS_LOGNO(06401), "More than one DPoP header", "%d DPoP headers",
                      req->header_count > 1 ? req->header_count : 2);
    if (oas_jws_parse(&j, &why, x->p, req->header, OAS_DPOP_MAX_LEN) != APR_SUCCESS)
        return REFUSE(OAS_LOGNO(06402), "DPoP proof is not a well-formed JWS", "%s", why);
    if (!j->typ || strcmp(j->typ, DPOP_TYP))
        return REFUSE(OAS_LOGNO(06403), "DPoP proof typ must be dpop+jwt", "typ %s",
                      j->typ ? "not dpop+jwt" : "missing");
    if (!(OAS_ALGBIT(j->alg) & req->algs & OAS_ALGBITS_ASYM))
        return REFUSE(OAS_LOGNO(06404), "DPoP proof alg not allowed", "alg %s not allowed",
                      j->alg_name);
    if (proof_key(&k, &jkt, &why, x->p, j) != APR_SUCCESS)
        return REFUSE(OAS_LOGNO(06414), "DPoP proof jwk refused", "jwk: %s", why);
    /* the jwk is the key: a "kid" in the header names nothing here */
    nokid = *j;
    nokid.kid = NULL;
    keys = apr_array_make(x->p, 1, sizeof(oas_jwk_t *));
    APR_ARRAY_PUSH(keys, oas_jwk_t *) = k;
    if ((rv = oas_jws_verify_keys(NULL, &nokid, keys, req->algs & OAS_ALGBITS_ASYM)) != APR_SUCCESS)
        return REFUSE(OAS_LOGNO(06415), "DPoP proof signature does not verify",
                      "%s with the proof's jwk (%s)",
                      rv == APR_NOTFOUND ? "alg not usable" : "signature invalid", j->alg_name);
    if (oas_jwt_parse(&c, &why, x->p, j->payload, j->payload_len) != APR_SUCCESS)
        return REFUSE(OAS_LOGNO(06416), "DPoP proof claims refused", "claims: %s", why);
    if ((rv = proof_claims(d, err, x, req, c)) != APR_SUCCESS)
        return rv;
    d->jkt = jkt;
    d->jti = c->jti;
    d->iat = c->iat;
    return spend_jti(err, x, d);
}

apr_status_t oas_dpop_check(oas_dpop_t **pd, oas_err_t *err, oas_ctx_t *x,
                            const oas_dpop_req_t *req)
{
    oas_dpop_t *d = apr_pcalloc(x->p, sizeof(*d));
    apr_status_t rv;

    *pd = d;
    if (req->nonce_required && req->nonce_key)
        d->fresh_nonce = oas_dpop_nonce_new(x->p, req->nonce_key, x->now);
    if (!req->header) {
        OAS_ERR_SET(err, 400, "invalid_dpop_proof", "DPoP proof required");
        return APR_NOTFOUND;
    }
    if ((rv = check(d, err, x, req)) != APR_SUCCESS) {
        /* nothing of a refused proof is handed out (but the nonce to retry with) */
        d->jkt = d->jti = d->nonce = NULL;
        d->iat = 0;
    }
    return rv;
}
