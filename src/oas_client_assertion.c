/* mod_oauth_as: client assertions (oas_client_assertion.h). Every failure is the same 401
 * invalid_client to the client, so a guesser learns nothing about which check failed; the log
 * detail names the check with its own tag and carries client ids, kids and jtis only, never
 * the assertion. Cheap checks come first and the signature before the jti is recorded, so
 * that an unsigned assertion neither costs a signature check for nothing nor burns a jti of
 * the real client. */
#include <apr_strings.h>

#include "oas_clients.h"
#include "oas_client_assertion.h"
#include "oas_client_keys.h"
#include "oas_jose.h"
#include "oas_jwt.h"
#include "oas_log.h"
#include "oas_metrics.h"

#define FAIL(...)                                                                                  \
    oas_err(err, x->p, 401, "invalid_client", "client authentication failed", OAS_LOG_INFO,        \
            __VA_ARGS__)

/* An assertion split and its claims read, kept on the pool it was parsed in: the brake names
 * the client (oas_client_assertion_sub) before the request is authenticated, and the
 * verification then uses the same parse instead of a second one. */
typedef struct {
    const char *assertion; /* the string parsed */
    apr_status_t rv;       /* APR_SUCCESS, or the stage that failed: */
    int tag;               /* 6202 (not a JWS) or 6203 (claims) */
    const char *perr;
    oas_jws_t *j;
    oas_jwt_t *t;
} parsed_t;

#define PARSED_KEY "oas_client_assertion"

static const parsed_t *parse(apr_pool_t *p, const char *assertion)
{
    parsed_t *a = NULL;

    if (apr_pool_userdata_get((void **)&a, PARSED_KEY, p) == APR_SUCCESS && a &&
        (a->assertion == assertion || !strcmp(a->assertion, assertion)))
        return a;
    a = apr_pcalloc(p, sizeof(*a));
    a->assertion = assertion;
    if ((a->rv = oas_jws_parse(&a->j, &a->perr, p, assertion, OAS_ASSERTION_MAX_LEN)) !=
        APR_SUCCESS)
        a->tag = 6202;
    else if ((a->rv = oas_jwt_parse(&a->t, &a->perr, p, a->j->payload, a->j->payload_len)) !=
             APR_SUCCESS)
        a->tag = 6203;
    apr_pool_userdata_setn(a, PARSED_KEY, NULL, p);
    return a;
}

const char *oas_client_assertion_sub(apr_pool_t *p, const char *assertion)
{
    const parsed_t *a;

    if (!assertion || strlen(assertion) > OAS_ASSERTION_MAX_LEN)
        return NULL;
    a = parse(p, assertion);
    return a->rv == APR_SUCCESS ? a->t->sub : NULL;
}

/* aud: the issuer identifier as a JSON string, compared exactly (RFC 10070; FAPI 2.0
 * 5.3.2.1-8). Legacy clients may also name the token endpoint URL, still as a string: an
 * array could carry another server's name beside ours (the audience-injection attack). */
static int aud_ok(const oas_ctx_t *x, const oas_client_t *c, const oas_jwt_t *t)
{
    const oas_issuer_t *iss = x->iss;

    if (oas_jwt_aud_is(t, iss->issuer, 0))
        return 1;
    return c->assertion_aud == OAS_ASSERTION_AUD_LEGACY && iss->endpoints[OAS_EP_TOKEN] &&
           oas_jwt_aud_is(
               t, apr_pstrcat(x->p, iss->issuer_origin, iss->endpoints[OAS_EP_TOKEN], NULL), 0);
}

/* The signature, with the key of the client's method: HS256 over the plaintext secret for
 * client_secret_jwt, the client's public keys and OAuthASClientSigningAlgs for
 * private_key_jwt. Never one for the other: a MAC keyed with public data would be forgeable. */
static apr_status_t check_signature(oas_err_t *err, oas_ctx_t *x, const oas_client_t *c,
                                    const oas_jws_t *j)
{
    apr_array_header_t *keys;
    const oas_jwk_t *used;
    apr_status_t rv;

    if (j->alg == OAS_ALG_HS256) {
        if (!(c->auth_methods & OAS_AUTH_SJWT))
            return FAIL(OAS_LOGNO(06210) "client %s: HS256 assertion, but the client may not "
                                         "use client_secret_jwt",
                        c->id);
        if (!c->secret || c->secret_hashed || strlen(c->secret) < OAS_SJWT_MIN_SECRET)
            return FAIL(OAS_LOGNO(06211) "client %s: no plaintext secret of %d bytes for "
                                         "client_secret_jwt",
                        c->id, OAS_SJWT_MIN_SECRET);
        if (oas_jws_verify_hmac(j, (const unsigned char *)c->secret, strlen(c->secret)) !=
            APR_SUCCESS)
            return FAIL(OAS_LOGNO(06212) "client %s: assertion HMAC does not verify", c->id);
        return APR_SUCCESS;
    }
    if (!(c->auth_methods & OAS_AUTH_PKJWT))
        return FAIL(OAS_LOGNO(06213) "client %s: %s assertion, but the client may not use "
                                     "private_key_jwt",
                    c->id, j->alg_name);
    if (!(oas_client_signing_algs(x->iss, c) & OAS_ALGBIT(j->alg)))
        return FAIL(OAS_LOGNO(06214) "client %s: assertion alg %s is not in "
                                     "OAuthASClientSigningAlgs",
                    c->id, j->alg_name);
    if ((rv = oas_client_keys(&keys, err, x, c, j->kid)) != APR_SUCCESS)
        return rv;
    rv = oas_jws_verify_keys(&used, j, keys, oas_client_signing_algs(x->iss, c));
    if (rv == APR_NOTFOUND)
        return FAIL(OAS_LOGNO(06215) "client %s: no key %s%s for an %s assertion", c->id,
                    j->kid ? "with kid " : "(no kid)", j->kid ? j->kid : "", j->alg_name);
    if (rv != APR_SUCCESS)
        return FAIL(OAS_LOGNO(06216) "client %s: assertion signature (%s, kid %s) does not "
                                     "verify",
                    c->id, j->alg_name, j->kid ? j->kid : "none");
    return APR_SUCCESS;
}

/* The jti once per client, until exp plus the skew: a single-use marker (OAS_CTX_REPLAY: the
 * node's tally, or the database shared by the nodes), atomic across children and nodes. A jti
 * that cannot be recorded refuses the request (503), as accepting it could let its replay in
 * later. */
static apr_status_t record_jti(oas_err_t *err, oas_ctx_t *x, const oas_client_t *c,
                               const oas_jwt_t *t)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_REPLAY);
    const char *key = apr_pstrcat(x->p, c->id, "\n", t->jti, NULL);
    apr_time_t until = apr_time_from_sec((apr_int64_t)t->exp + OAS_JWT_EXP_LEEWAY + 1);
    apr_status_t rv;

    if (!st)
        return oas_store_refused(x, err, APR_ENOTIMPL, "recording a client assertion");
    rv = oas_store_put_new(st, x->p, OAS_NS_ASSERTION, key, "", 0, until);
    if (rv == APR_EEXIST) {
        oas_metrics_replay(OAS_MR_ASSERTION);
        return FAIL(OAS_LOGNO(06217) "client %s: assertion jti %s was used before (replay)", c->id,
                    t->jti);
    }
    if (rv != APR_SUCCESS)
        return oas_store_refused(x, err, rv, "recording a client assertion");
    return APR_SUCCESS;
}

apr_status_t oas_client_assertion_verify(const oas_client_t **pc, oas_err_t *err, oas_ctx_t *x,
                                         const char *assertion, const char *client_id)
{
    const oas_client_t *c;
    const parsed_t *a;
    const oas_jws_t *j;
    const oas_jwt_t *t;
    const char *perr;
    apr_status_t rv;

    *pc = NULL;
    if (strlen(assertion) > OAS_ASSERTION_MAX_LEN)
        return FAIL(OAS_LOGNO(06201) "client assertion over %d bytes", OAS_ASSERTION_MAX_LEN);
    a = parse(x->p, assertion);
    if (a->tag == 6202)
        return FAIL(OAS_LOGNO(06202) "client assertion is not a usable JWS: %s", a->perr);
    if (a->tag == 6203)
        return FAIL(OAS_LOGNO(06203) "client assertion claims: %s", a->perr);
    j = a->j;
    t = a->t;
    /* RFC 7523 §3: sub is required; it also keeps a request object (which has none) from
     * passing for an assertion */
    if (!t->sub)
        return FAIL(OAS_LOGNO(06204) "client assertion without sub");
    if (!(c = oas_ctx_client(x, t->sub)))
        return FAIL(OAS_LOGNO(06205) "client assertion for an unknown client %.100s", t->sub);
    if (client_id && strcmp(client_id, c->id))
        return FAIL(OAS_LOGNO(06206) "client assertion of client %s with client_id %.100s", c->id,
                    client_id);
    if (!(c->auth_methods & (OAS_AUTH_PKJWT | OAS_AUTH_SJWT)))
        return FAIL(OAS_LOGNO(06207) "client %s may not use JWT client authentication", c->id);
    if (!t->iss || strcmp(t->iss, c->id))
        return FAIL(OAS_LOGNO(06208) "client %s: assertion iss %s", c->id,
                    t->iss ? "differs from sub" : "missing");
    if (!oas_jwt_typ_is(j->typ, "client-authentication+jwt")) /* RFC 10070 */
        return FAIL(OAS_LOGNO(06209) "client %s: assertion typ is not JWT or "
                                     "client-authentication+jwt",
                    c->id);
    if (!aud_ok(x, c, t))
        return FAIL(
            OAS_LOGNO(06218) "client %s: assertion aud is not the issuer as a string%s", c->id,
            c->assertion_aud == OAS_ASSERTION_AUD_LEGACY ? " or the token endpoint URL" : "");
    if (!t->has_exp)
        return FAIL(OAS_LOGNO(06219) "client %s: assertion without exp", c->id);
    if (oas_jwt_check_times(t, x->now, 1, OAS_ASSERTION_MAX_LIFETIME, &perr) != APR_SUCCESS)
        return FAIL(OAS_LOGNO(06220) "client %s: assertion %s", c->id, perr);
    if (!t->jti || !*t->jti)
        return FAIL(OAS_LOGNO(06221) "client %s: assertion without jti", c->id);
    if (strlen(t->jti) > OAS_ASSERTION_MAX_JTI)
        return FAIL(OAS_LOGNO(06222) "client %s: assertion jti over %d bytes", c->id,
                    OAS_ASSERTION_MAX_JTI);
    if ((rv = check_signature(err, x, c, j)) != APR_SUCCESS)
        return rv;
    if ((rv = record_jti(err, x, c, t)) != APR_SUCCESS)
        return rv;
    *pc = c;
    return APR_SUCCESS;
}
