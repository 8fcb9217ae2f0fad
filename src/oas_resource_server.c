/* mod_oauth_as: the resource server inside httpd (oas_resource_server.h). */
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_uri.h>

#include "oas_authz.h"
#include "oas_dpop_endpoint.h"
#include "oas_json.h"
#include "oas_jsonw.h"
#include "oas_jwt.h"
#include "oas_keys.h"
#include "oas_liveness.h"
#include "oas_mtls.h"
#include "oas_resource_server.h"
#include "oas_token.h"

const char *oas_rs_credential(int *pscheme, const char *h)
{
    static const struct {
        const char *name;
        int scheme;
    } schemes[] = {{"Bearer", OAS_RS_BEARER}, {"DPoP", OAS_RS_DPOP}};
    size_t i, n;

    *pscheme = OAS_RS_NONE;
    for (i = 0; h && i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        n = strlen(schemes[i].name);
        if (strncasecmp(h, schemes[i].name, n) || (h[n] && h[n] != ' '))
            continue;
        *pscheme = schemes[i].scheme;
        /* RFC 6750 §2.1: one token after one space; a repeated header ("a, b") is not */
        if (h[n] != ' ' || !h[n + 1] || strchr(h + n + 1, ' '))
            return "";
        return h + n + 1;
    }
    return NULL;
}

/* A 401 invalid_token, logged with why (never the token). */
static apr_status_t invalid(oas_err_t *e, oas_ctx_t *x, const json_t *at, const char *why)
{
    return oas_err(e, x->p, 401, "invalid_token", "the access token is invalid", OAS_LOG_INFO,
                   OAS_LOGNO(06701) "resource: access token%s%s of client %s refused: %s",
                   at ? " jti " : "", at ? oas_json_str(at, "jti") : "",
                   at ? oas_json_str(at, "client_id") : "?", why);
}

/* RFC 9068 §4: aud is the audience, or an array holding it */
static int for_audience(const json_t *at, const char *audience)
{
    const json_t *aud = json_object_get(at, "aud"), *v;
    size_t i;

    if (json_is_string(aud))
        return !strcmp(json_string_value(aud), audience);
    json_array_foreach(aud, i, v)
    {
        if (json_is_string(v) && !strcmp(json_string_value(v), audience))
            return 1;
    }
    return 0;
}

/* The claims of tok when it is an access token of x's issuer whose signature holds and which
 * has not expired: from the cache when this process verified it before for this issuer, else
 * verified now and remembered; NULL when it is none. */
static json_t *verified(oas_ctx_t *x, oas_token_cache_t *tc, const char *tok, int *punlinked)
{
    json_t *at = NULL;

    *punlinked = 0;
    if (tc &&
        (at = oas_token_cache_get(tc, x->iss, tok, x->now, OAS_JWT_EXP_LEEWAY, x->p, punlinked)))
        return at;
    if (oas_token_verify_access(&at, x->p, x->iss, tok, x->now) != APR_SUCCESS)
        return NULL;
    if (tc)
        oas_token_cache_put(tc, x->iss, tok, at, oas_json_int(at, "exp", 0));
    return at;
}

apr_status_t oas_rs_check(json_t **pclaims, int *pscheme, const char **pnonce, oas_err_t *e,
                          oas_ctx_t *x, const char *authorization, const oas_dpop_req_t *dpop,
                          const char *audience, oas_token_cache_t *tc)
{
    const char *tok = oas_rs_credential(pscheme, authorization), *why = NULL;
    int unlinked, was;
    json_t *at;
    apr_status_t rv;

    *pnonce = NULL;
    *pclaims = NULL;
    OAS_ERR_SET(e, 0, NULL, NULL);
    if (!tok) { /* RFC 6750 §3.1: no error code when the request had no credential */
        OAS_ERR_SET(e, 401, NULL, NULL);
        return APR_EINVAL;
    }
    if (!*tok)
        return oas_err(e, x->p, 400, "invalid_request", "malformed Authorization header",
                       OAS_LOG_INFO, OAS_LOGNO(06702) "resource: malformed %s credential",
                       *pscheme == OAS_RS_DPOP ? "DPoP" : "Bearer");
    if (strlen(tok) > OAS_RS_MAX_TOKEN)
        return invalid(e, x, NULL, "longer than any token we issue");
    if (!(at = verified(x, tc, tok, &unlinked)))
        return invalid(e, x, NULL, "not a valid access token of this issuer (signature, "
                                   "typ, expiry)");
    /* revocation: asked of the store every time, cached or not */
    was = unlinked;
    if (oas_live_claims(NULL, &why, x, at, &unlinked) != APR_SUCCESS)
        return invalid(e, x, at, why);
    if (tc && unlinked && !was)
        oas_token_cache_unlinked(tc, x->iss, tok);
    if (!for_audience(at, audience))
        return invalid(e, x, at, apr_pstrcat(x->p, "not for audience ", audience, NULL));
    /* we issue no nbf; a token that has one is not used before it (RFC 7519 §4.1.5) */
    if (oas_json_int(at, "nbf", 0) > x->now + OAS_JWT_FUTURE_SKEW)
        return invalid(e, x, at, "not valid yet (nbf)");
    rv = oas_dpop_at_resource(pnonce, e, x, at, tok, *pscheme == OAS_RS_DPOP ? dpop : NULL,
                              OAS_EP_NONE);
    if (rv == APR_SUCCESS)
        rv = oas_mtls_at_resource(e, x, at); /* RFC 8705 §3 */
    if (rv == APR_SUCCESS)
        *pclaims = at;
    return rv;
}

const char *oas_rs_missing_scopes(apr_pool_t *p, const json_t *claims, const char *need)
{
    apr_array_header_t *have = oas_scope_split(p, oas_json_str(claims, "scope"));
    apr_array_header_t *want = oas_scope_split(p, need);
    apr_array_header_t *missing = apr_array_make(p, want->nelts, sizeof(const char *));
    int i;

    for (i = 0; i < want->nelts; i++) {
        const char *s = APR_ARRAY_IDX(want, i, const char *);
        if (!oas_list_has(have, s))
            APR_ARRAY_PUSH(missing, const char *) = s;
    }
    return missing->nelts ? apr_array_pstrcat(p, missing, ' ') : NULL;
}

/* the text of a scalar claim value (string, number, boolean), else NULL */
static const char *scalar_text(apr_pool_t *p, const json_t *v)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v))
        return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)json_integer_value(v));
    if (json_is_boolean(v))
        return json_is_true(v) ? "true" : "false";
    if (json_is_real(v))
        return oas_json_dumps(p, v, JSON_ENCODE_ANY);
    return NULL;
}

int oas_rs_claim_is(apr_pool_t *p, const json_t *claims, const char *name, const char *value)
{
    const json_t *v = json_object_get(claims, name), *el;
    const char *t;
    size_t i;

    if ((t = scalar_text(p, v)))
        return !strcmp(t, value);
    json_array_foreach(v, i, el)
    {
        if ((t = scalar_text(p, el)) && !strcmp(t, value))
            return 1;
    }
    return 0;
}

int oas_rs_has_user(const json_t *claims)
{
    return json_object_get(claims, "auth_time") != NULL;
}

/* INTERFACE.md: strings as they are, numbers and booleans as text, arrays of strings joined
 * by spaces, anything else as compact JSON */
static const char *env_value(apr_pool_t *p, const json_t *v)
{
    const char *t = scalar_text(p, v);
    apr_array_header_t *parts;
    const json_t *el;
    size_t i;

    if (t)
        return t;
    if (json_is_array(v)) {
        parts = apr_array_make(p, (int)json_array_size(v), sizeof(const char *));
        json_array_foreach(v, i, el)
        {
            if (!json_is_string(el))
                break;
            APR_ARRAY_PUSH(parts, const char *) = json_string_value(el);
        }
        if (i == json_array_size(v))
            return apr_array_pstrcat(p, parts, ' ');
    }
    t = oas_json_dumps(p, v, JSON_ENCODE_ANY);
    return t ? t : "";
}

static int env_name_ok(const char *name)
{
    if (!*name)
        return 0;
    for (; *name; name++) {
        if (!apr_isalnum(*name) && *name != '_')
            return 0;
    }
    return 1;
}

void oas_rs_env(apr_pool_t *p, const json_t *claims,
                void (*set)(void *baton, const char *name, const char *value), void *baton)
{
    const char *name;
    const json_t *v;

    set(baton, "OAUTH_AS_CLIENT_ID", oas_json_str(claims, "client_id"));
    set(baton, "OAUTH_AS_SCOPE", oas_json_str(claims, "scope") ? oas_json_str(claims, "scope")
                                                                : "");
    set(baton, "OAUTH_AS_SUBJECT_TYPE", oas_rs_has_user(claims) ? "user" : "client");
    json_object_foreach((json_t *)claims, name, v)
    {
        if (env_name_ok(name))
            set(baton, apr_pstrcat(p, "OAUTH_AS_CLAIM_", name, NULL), env_value(p, v));
    }
}

const char *oas_rs_metadata_url(apr_pool_t *p, const char *audience)
{
    apr_uri_t u;

    if (apr_uri_parse(p, audience, &u) != APR_SUCCESS || !u.scheme || strcasecmp(u.scheme, "https") ||
        !u.hostinfo || !*u.hostinfo || u.query || u.fragment || u.user || u.password)
        return NULL;
    /* RFC 9728 §3.1: the well-known path goes between the host and the resource's path; a
     * terminating slash is dropped */
    if (!u.path || !strcmp(u.path, "/"))
        return apr_pstrcat(p, "https://", u.hostinfo, "/.well-known/oauth-protected-resource",
                           NULL);
    return apr_pstrcat(p, "https://", u.hostinfo, "/.well-known/oauth-protected-resource",
                       u.path, NULL);
}

static const char *challenge(apr_pool_t *p, const char *scheme, const char *error,
                             const char *desc, const char *scope, const char *extra,
                             const char *metadata_url)
{
    apr_array_header_t *params = apr_array_make(p, 5, sizeof(const char *));
    const char *out;
    int i;

    if (metadata_url)
        APR_ARRAY_PUSH(params, const char *) =
            apr_psprintf(p, "resource_metadata=\"%s\"", metadata_url);
    if (error) {
        APR_ARRAY_PUSH(params, const char *) = apr_psprintf(p, "error=\"%s\"", error);
        if (desc)
            APR_ARRAY_PUSH(params, const char *) =
                apr_psprintf(p, "error_description=\"%s\"", desc);
        if (scope)
            APR_ARRAY_PUSH(params, const char *) = apr_psprintf(p, "scope=\"%s\"", scope);
    }
    if (extra)
        APR_ARRAY_PUSH(params, const char *) = extra;
    out = scheme;
    for (i = 0; i < params->nelts; i++)
        out = apr_pstrcat(p, out, i ? ", " : " ", APR_ARRAY_IDX(params, i, const char *), NULL);
    return out;
}

apr_array_header_t *oas_rs_challenges(apr_pool_t *p, const oas_issuer_t *iss, int scheme,
                                      const char *error, const char *desc, const char *scope,
                                      const char *metadata_url)
{
    apr_array_header_t *out = apr_array_make(p, 2, sizeof(const char *));
    unsigned algs = oas_dpop_algs(iss);
    int on_dpop = scheme == OAS_RS_DPOP ||
                  (error && (!strcmp(error, "invalid_dpop_proof") ||
                             !strcmp(error, "use_dpop_nonce")));

    APR_ARRAY_PUSH(out, const char *) =
        on_dpop ? challenge(p, "Bearer", NULL, NULL, NULL, NULL, metadata_url)
                : challenge(p, "Bearer", error, desc, scope, NULL, metadata_url);
    if (algs && oas_iss_dpop(iss) != OAS_DPOP_OFF) {
        const char *a = apr_pstrcat(
            p, "algs=\"", apr_array_pstrcat(p, oas_alg_names(p, algs), ' '), "\"", NULL);
        APR_ARRAY_PUSH(out, const char *) =
            on_dpop ? challenge(p, "DPoP", error, desc, scope, a, metadata_url)
                    : challenge(p, "DPoP", NULL, NULL, NULL, a, metadata_url);
    }
    return out;
}

const char *oas_rs_metadata_json(apr_pool_t *p, const oas_issuer_t *iss, const char *audience)
{
    const oas_resource_t *res = oas_issuer_resource(iss, audience);
    apr_array_header_t *algs = oas_alg_names(p, oas_dpop_algs(iss));
    static const char *const header[] = {"header"};
    oas_jsonw_t w;

    oas_jsonw_init(&w, p, 512);
    oas_jsonw_str(&w, "resource", audience);
    oas_jsonw_strs(&w, "authorization_servers", &iss->issuer, 1);
    if (res && res->scopes)
        oas_jsonw_strs(&w, "scopes_supported", (const char *const *)res->scopes->elts,
                       res->scopes->nelts);
    oas_jsonw_strs(&w, "bearer_methods_supported", header, 1);
    if (oas_iss_dpop(iss) != OAS_DPOP_OFF && algs->nelts)
        oas_jsonw_strs(&w, "dpop_signing_alg_values_supported", (const char *const *)algs->elts,
                       algs->nelts);
    return oas_jsonw_end(&w);
}
