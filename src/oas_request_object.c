/* mod_oauth_as: signed request objects (oas_request_object.h). The signature is checked
 * before any claim is read, so an unverified object can tell us nothing. */
#include <apr_strings.h>

#include "oas_authz.h"
#include "oas_client_keys.h"
#include "oas_jose.h"
#include "oas_jwt.h"
#include "oas_request_object.h"

/* 400 invalid_request_object; why starts with its OAS_LOGNO tag and names the check, never a
 * value of the object. */
static apr_status_t refuse(oas_err_t *err, oas_ctx_t *x, const oas_client_t *c, const char *desc,
                           const char *why)
{
    return oas_err(err, x->p, 400, "invalid_request_object", desc, OAS_LOG_INFO,
                   "%s (request object of client %s)", why, c->id);
}

/* The claims that are the JWT's, not the request's. */
static int jwt_claim(const char *name)
{
    static const char *const own[] = {"iss", "aud", "exp", "nbf", "iat", "jti", "sub", NULL};
    int i;

    for (i = 0; own[i]; i++) {
        if (!strcmp(name, own[i]))
            return 1;
    }
    return 0;
}

/* Valid JSON text without its insignificant whitespace (all of it is outside strings). */
static const char *json_compact(apr_pool_t *p, const char *json)
{
    char *out = apr_palloc(p, strlen(json) + 1), *o = out;
    int in_str = 0;

    for (; *json; json++) {
        if (in_str) {
            *o++ = *json;
            if (*json == '\\' && json[1])
                *o++ = *++json;
            else if (*json == '"')
                in_str = 0;
        }
        else if (*json == '"') {
            in_str = 1;
            *o++ = *json;
        }
        else if (*json != ' ' && *json != '\t' && *json != '\n' && *json != '\r')
            *o++ = *json;
    }
    *o = '\0';
    return out;
}

/* The claims as parameters (oas_request_object.h). */
/* The object's claims as the request's parameters, or NULL when two claim names differ in
 * letter case only: parameters are looked up without regard to case (apr_table), so
 * "CLIENT_ID" would replace the client_id that was checked. */
static apr_table_t *claims_to_params(apr_pool_t *p, const oas_jobj_t *o)
{
    apr_table_t *t = apr_table_make(p, o->n);
    const char *v;
    int i;

    for (i = 0; i < o->n; i++) {
        const oas_jmember_t *m = &o->m[i];
        if (jwt_claim(m->key))
            continue;
        switch (m->type) {
        case OAS_JSON_STRING:
        case OAS_JSON_NUMBER:
            v = m->str;
            break;
        case OAS_JSON_OBJECT:
        case OAS_JSON_ARRAY:
            v = json_compact(p, m->str);
            break;
        case OAS_JSON_INT:
            v = apr_psprintf(p, "%" APR_INT64_T_FMT, m->num);
            break;
        case OAS_JSON_TRUE:
            v = "true";
            break;
        case OAS_JSON_FALSE:
            v = "false";
            break;
        default: /* null: absent */
            v = NULL;
        }
        if (apr_table_get(t, m->key))
            return NULL;
        if (v && *v)
            apr_table_setn(t, m->key, v);
    }
    return t;
}

/* The time rules of a request object: exp and nbf both present and at most an hour apart,
 * nbf at most an hour old (FAPI 2.0 Message Signing §5.3.1), then the common clock rules. */
static apr_status_t check_times(oas_err_t *err, oas_ctx_t *x, const oas_client_t *c,
                                const oas_jwt_t *cl)
{
    const char *why;

    if (!cl->has_exp)
        return refuse(err, x, c, "the request object has no exp",
                      OAS_LOGNO(06304) "exp is missing");
    if (!cl->has_nbf)
        return refuse(err, x, c, "the request object has no nbf",
                      OAS_LOGNO(06305) "nbf is missing");
    if (x->now - cl->nbf > OAS_REQOBJ_MAX_AGE)
        return refuse(err, x, c, "the request object is too old",
                      OAS_LOGNO(06307) "nbf is more than 60 minutes in the past");
    if (cl->exp - cl->nbf > OAS_REQOBJ_MAX_LIFETIME)
        return refuse(err, x, c, "the request object is valid for more than 60 minutes",
                      OAS_LOGNO(06306) "exp is more than 60 minutes after nbf");
    if (oas_jwt_check_times(cl, x->now, 1, 0, &why) != APR_SUCCESS)
        return oas_err(err, x->p, 400, "invalid_request_object",
                       "the request object has expired or is not valid yet", OAS_LOG_INFO,
                       OAS_LOGNO(06308) "%s (request object of client %s)", why, c->id);
    return APR_SUCCESS;
}

/* Who signed: the claims that name the client and the server. */
static apr_status_t check_parties(oas_err_t *err, oas_ctx_t *x, const oas_client_t *c,
                                  const oas_jwt_t *cl)
{
    const char *cid = oas_jobj_str(&cl->claims, "client_id");

    if (!cl->iss || strcmp(cl->iss, c->id))
        return refuse(err, x, c, "the request object's iss is not the client",
                      OAS_LOGNO(06309) "iss is missing or not the client");
    if (!cid || strcmp(cid, c->id))
        return refuse(err, x, c, "the request object's client_id is not the client",
                      OAS_LOGNO(06310) "client_id is missing or not the client");
    if (!oas_jwt_aud_is(cl, x->iss->issuer, 1))
        return refuse(err, x, c, "the request object's aud is not this server",
                      OAS_LOGNO(06311) "aud is missing or does not hold the issuer");
    return APR_SUCCESS;
}

apr_status_t oas_request_object_params(apr_table_t **pparams, oas_err_t *err, oas_ctx_t *x,
                                       const oas_client_t *c, const char *jws)
{
    apr_array_header_t *keys;
    apr_table_t *params;
    const oas_jwk_t *used;
    oas_jws_t *j;
    oas_jwt_t *cl;
    const char *why;
    oas_err_t kerr;
    apr_status_t rv;

    *pparams = NULL;
    if (strlen(jws) > OAS_REQOBJ_MAX_LEN)
        return refuse(err, x, c, "the request object is too large",
                      OAS_LOGNO(06313) "longer than 16 KiB");
    if (oas_jws_parse(&j, &why, x->p, jws, OAS_REQOBJ_MAX_LEN) != APR_SUCCESS)
        return oas_err(err, x->p, 400, "invalid_request_object",
                       "the request object is not a well-formed signed JWT", OAS_LOG_INFO,
                       OAS_LOGNO(06314) "malformed: %s (request object of client %s)", why, c->id);
    if (!oas_jwt_typ_is(j->typ, "oauth-authz-req+jwt")) /* RFC 9101 §4 */
        return refuse(err, x, c, "the request object has a wrong typ",
                      OAS_LOGNO(06315) "typ is not oauth-authz-req+jwt or JWT");
    if (!(oas_client_signing_algs(x->iss, c) & OAS_ALGBIT(j->alg)) || j->alg == OAS_ALG_HS256)
        return oas_err(err, x->p, 400, "invalid_request_object",
                       "the request object's signing algorithm is not allowed", OAS_LOG_INFO,
                       OAS_LOGNO(06316) "alg %s is not in OAuthASClientSigningAlgs (request "
                                        "object of client %s)",
                       j->alg_name, c->id);
    if (oas_client_keys(&keys, &kerr, x, c, j->kid) != APR_SUCCESS)
        return oas_err(err, x->p, 400, "invalid_request_object",
                       "the request object cannot be verified", OAS_LOG_INFO,
                       OAS_LOGNO(06317) "no keys to verify it: %s (request object of client %s)",
                       kerr.detail ? kerr.detail : "-", c->id);
    rv = oas_jws_verify_keys(&used, j, keys, oas_client_signing_algs(x->iss, c));
    if (rv != APR_SUCCESS)
        return oas_err(err, x->p, 400, "invalid_request_object",
                       "the request object's signature does not verify with the client's keys",
                       OAS_LOG_INFO,
                       OAS_LOGNO(06318) "%s (request object of client %s, alg %s, kid %s)",
                       rv == APR_NOTFOUND   ? "no key of the client fits its kid and alg"
                       : rv == APR_EGENERAL ? "bad signature"
                                            : "malformed signature",
                       c->id, j->alg_name, j->kid ? j->kid : "-");
    if (oas_jwt_parse(&cl, &why, x->p, j->payload, j->payload_len) != APR_SUCCESS)
        return oas_err(err, x->p, 400, "invalid_request_object",
                       "the request object's claims are malformed", OAS_LOG_INFO,
                       OAS_LOGNO(06319) "claims: %s (request object of client %s)", why, c->id);
    if (check_parties(err, x, c, cl) != APR_SUCCESS || check_times(err, x, c, cl) != APR_SUCCESS)
        return APR_EINVAL;
    if (!(params = claims_to_params(x->p, &cl->claims)))
        return refuse(err, x, c, "the request object holds a parameter twice",
                      OAS_LOGNO(06321) "two claim names differ in letter case only");
    /* RFC 9101 §6.3, RFC 9126 §3: an object never points to another request */
    if (apr_table_get(params, "request") || apr_table_get(params, "request_uri"))
        return refuse(err, x, c, "the request object may not hold request or request_uri",
                      OAS_LOGNO(06312) "a request or request_uri claim is inside");
    *pparams = params;
    OAS_CTX_LOG(x, OAS_LOG_INFO, 0,
                OAS_LOGNO(06320) "request object of client %s verified (alg %s, kid %s)", c->id,
                j->alg_name, used && used->kid ? used->kid : "-");
    return APR_SUCCESS;
}

apr_status_t oas_request_object_use(apr_table_t **pparams, oas_err_t *err, oas_ctx_t *x,
                                    const oas_client_t *c, apr_table_t *params, int origin)
{
    int mode = oas_client_request_object(x->iss, c);
    const char *jws = apr_table_get(params, "request");
    const char *outer = apr_table_get(params, "client_id");

    *pparams = params;
    if (mode == OAS_REQOBJ_OFF)
        return APR_SUCCESS;
    if (!jws) {
        if (mode != OAS_REQOBJ_REQUIRED)
            return APR_SUCCESS;
        OAS_ERR_SET(err, 400, "invalid_request",
                    "this client must send its authorization request as a signed request "
                    "object");
    }
    else if (oas_request_object_params(pparams, err, x, c, jws) == APR_SUCCESS) {
        if (!outer || !strcmp(outer, c->id))
            return APR_SUCCESS;
        *pparams = params;
        OAS_ERR_SET(err, 400, "invalid_request",
                    "the client_id parameter differs from the request object's");
    }
    err->page = origin != OAS_AUTHZ_PAR;
    return APR_EINVAL;
}
