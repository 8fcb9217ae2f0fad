/* mod_oauth_as: authorization request validation, in the order RFC 6749 §4.1.2.1 implies:
 * first what decides whether we may redirect at all (client, redirect URI), then the
 * errors that are sent back to the client. */
#include "oas_authz.h"
#include "oas_jarm.h"
#include "oas_uri.h"
#include "oas_pkce.h"
#include "oas_profile.h"
#include "oas_util.h"

#define FAIL(code, desc)                                                                          \
    do {                                                                                        \
        OAS_ERR_SET(err, 400, code, desc);                                                      \
        return APR_EINVAL;                                                                      \
    } while (0)

#define PAGE(desc)                                                                                \
    do {                                                                                        \
        OAS_ERR_SET(err, 400, "invalid_request", desc);                                         \
        err->page = 1;                                                                          \
        return APR_EINVAL;                                                                      \
    } while (0)

apr_array_header_t *oas_scope_split(apr_pool_t *p, const char *scope)
{
    apr_array_header_t *a = apr_array_make(p, 8, sizeof(const char *));
    char *copy = apr_pstrdup(p, scope ? scope : "");
    char *last, *tok;

    for (tok = apr_strtok(copy, " ", &last); tok; tok = apr_strtok(NULL, " ", &last)) {
        if (!oas_list_has(a, tok))
            APR_ARRAY_PUSH(a, const char *) = tok;
    }
    return a;
}

int oas_scope_subset(apr_pool_t *p, const char *want, const char *have)
{
    apr_array_header_t *w = oas_scope_split(p, want), *h = oas_scope_split(p, have);
    int i;

    for (i = 0; i < w->nelts; i++) {
        if (!oas_list_has(h, APR_ARRAY_IDX(w, i, const char *)))
            return 0;
    }
    return 1;
}

int oas_scope_valid(const char *s, int one_token)
{
    if (one_token && !*s)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == ' ' && !one_token)
            continue;
        if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
            return 0;
    }
    return 1;
}

static apr_status_t check_prompt(oas_authz_req_t *req, oas_err_t *err, apr_pool_t *p,
                                 const char *prompt)
{
    apr_array_header_t *v = oas_scope_split(p, prompt);
    int i;

    for (i = 0; i < v->nelts; i++) {
        const char *x = APR_ARRAY_IDX(v, i, const char *);
        if (!strcmp(x, "none"))
            req->prompt_none = 1;
        else if (!strcmp(x, "consent"))
            req->prompt_consent = 1;
        else if (!strcmp(x, "login"))
            req->prompt_login = 1;
        else if (strcmp(x, "select_account"))
            FAIL("invalid_request", "unsupported prompt value");
    }
    if (req->prompt_none && v->nelts > 1)
        FAIL("invalid_request", "prompt=none cannot be combined with other values");
    return APR_SUCCESS;
}

apr_status_t oas_resource_check(const char **pres, oas_err_t *err, const oas_issuer_t *iss,
                                const oas_client_t *client, apr_table_t *params)
{
    const char *aud = apr_table_get(params, "audience");
    const char *res = apr_table_get(params, "resource");

    *pres = NULL;
    if (aud && res && strcmp(aud, res))
        FAIL("invalid_target", "audience and resource name different resources");
    if (!res)
        res = aud;
    if (res && (!oas_issuer_resource(iss, res) || !oas_list_has(client->audiences, res)))
        FAIL("invalid_scope", "the client may not ask for this audience");
    *pres = res;
    return APR_SUCCESS;
}

static apr_status_t check_pkce(oas_authz_req_t *req, oas_err_t *err, const oas_issuer_t *iss,
                               apr_table_t *params)
{
    const char *cc = apr_table_get(params, "code_challenge");
    const char *method = apr_table_get(params, "code_challenge_method");

    if (!cc) {
        if (method)
            FAIL("invalid_request", "code_challenge_method without code_challenge");
        if (req->client->require_pkce || oas_client_profile(iss, req->client)->require_pkce)
            FAIL("invalid_request", "code challenge required (PKCE S256)");
        return APR_SUCCESS;
    }
    if (!method || strcmp(method, "S256")) /* absent means plain (RFC 7636 §4.3) */
        FAIL("invalid_request", "transform algorithm not supported: use S256");
    if (!oas_pkce_valid_syntax(cc))
        FAIL("invalid_request", "malformed code_challenge");
    req->code_challenge = cc;
    return APR_SUCCESS;
}

/* Keep in step with oas_authz_validate and what it calls: PAR stores only these. */
const char *const oas_authz_param_names[] = {
    "response_type", "client_id",  "redirect_uri",  "scope",         "state",
    "nonce",         "audience",   "resource",      "code_challenge", "code_challenge_method",
    "prompt",        "max_age",    "response_mode", "request",        "request_uri",
    "dpop_jkt",      NULL};

apr_status_t oas_authz_validate(oas_authz_req_t **preq, oas_err_t *err, apr_pool_t *p,
                                const oas_issuer_t *iss, apr_table_t *params, const char *dup,
                                int origin)
{
    oas_authz_req_t *req = apr_pcalloc(p, sizeof(*req));
    const char *client_id = apr_table_get(params, "client_id");
    const char *ru = apr_table_get(params, "redirect_uri");
    const char *rt = apr_table_get(params, "response_type");
    const char *scope = apr_table_get(params, "scope");
    const char *v;
    apr_array_header_t *scopes;
    int i, jarm_required = 0;

    *preq = req;
    req->max_age = -1;
    OAS_ERR_SET(err, 0, NULL, NULL);

    /* 1. may we redirect at all? */
    if (dup && (!strcmp(dup, "client_id") || !strcmp(dup, "redirect_uri") ||
                !strcmp(dup, "request_uri")))
        PAGE("a parameter is repeated: client_id, redirect_uri or request_uri");
    if (!client_id)
        PAGE("the client_id parameter is missing");
    if (!(req->client = oas_issuer_client(iss, client_id)))
        PAGE("unknown client");
    if (ru) {
        if (!oas_uri_redirect_registered(req->client->redirect_uris, ru))
            PAGE("the redirect_uri is not registered for this client");
        req->redirect_uri = ru;
        req->redirect_uri_sent = 1;
    }
    else {
        /* OIDC Core §3.1.2.1 requires it; plain OAuth may omit it with one registered URI */
        /* a client without redirect URIs (client_credentials only) has a NULL list */
        if (!req->client->redirect_uris || req->client->redirect_uris->nelts != 1)
            PAGE("the redirect_uri parameter is missing");
        if (origin == OAS_AUTHZ_PAR && oas_client_profile(iss, req->client)->par_redirect_uri)
            PAGE("the redirect_uri parameter is required in a pushed request");
        if (scope && oas_list_has(oas_scope_split(p, scope), "openid"))
            PAGE("the redirect_uri parameter is required for OpenID Connect requests");
        req->redirect_uri = APR_ARRAY_IDX(req->client->redirect_uris, 0, const char *);
    }

    /* 2. errors redirected to the client (state is echoed only when it was not repeated) */
    if (!dup || strcmp(dup, "state"))
        req->state = apr_table_get(params, "state");
    /* JARM §4.4: from here on errors too go back as a JWT when one was asked for */
    if ((!dup || strcmp(dup, "response_mode")) &&
        oas_jarm_mode(apr_table_get(params, "response_mode")) == OAS_JARM_QUERY &&
        iss->id_token_key)
        req->jarm = 1;
    /* a client that must get signed responses gets its errors signed, whatever it asked */
    if (oas_client_profile(iss, req->client)->signed_responses && iss->id_token_key)
        jarm_required = req->jarm = 1;
    if (dup) {
        if (!strcmp(dup, "resource"))
            FAIL("invalid_target", "the resource parameter is repeated");
        FAIL("invalid_request", "a parameter is repeated");
    }
    if (req->state && strlen(req->state) > OAS_AUTHZ_MAX_STATE) {
        req->state = NULL; /* not echoed: it would not fit a sane redirect either */
        FAIL("invalid_request", "state is too long (at most 2048 bytes)");
    }
    if ((v = apr_table_get(params, "nonce")) && strlen(v) > OAS_AUTHZ_MAX_NONCE)
        FAIL("invalid_request", "nonce is too long (at most 512 bytes)");
    for (i = 0; oas_authz_param_names[i]; i++) {
        if ((v = apr_table_get(params, oas_authz_param_names[i])) &&
            strlen(v) > OAS_AUTHZ_MAX_VALUE && strcmp(oas_authz_param_names[i], "redirect_uri"))
            FAIL("invalid_request", "a parameter is too long (at most 2048 bytes)");
    }
    if (apr_table_get(params, "request"))
        FAIL("request_not_supported", "request objects are not supported");
    if (origin == OAS_AUTHZ_PAR && apr_table_get(params, "request_uri"))
        FAIL("invalid_request", "request_uri is not allowed in a pushed request");
    if (!(req->client->grant_types & OAS_GRANT_CODE))
        FAIL("unauthorized_client", "this client may not use the authorization code flow");
    if (!rt)
        FAIL("invalid_request", "the response_type parameter is missing");
    if (strcmp(rt, "code"))
        FAIL("unsupported_response_type", "only response_type=code is supported");
    if (origin != OAS_AUTHZ_PAR && oas_client_require_par(iss, req->client))
        FAIL("invalid_request", "this client must use pushed authorization requests");
    v = apr_table_get(params, "response_mode");
    if (oas_jarm_mode(v) == OAS_JARM_UNKNOWN || (oas_jarm_mode(v) == OAS_JARM_QUERY && !req->jarm))
        FAIL("invalid_request", "unsupported response_mode (query, jwt and query.jwt are)");
    if (jarm_required && oas_jarm_mode(v) != OAS_JARM_QUERY)
        FAIL("invalid_request", "this client must ask for response_mode=jwt (signed responses)");

    if (scope && !oas_scope_valid(scope, 0))
        FAIL("invalid_scope", "malformed scope");
    scopes = oas_scope_split(p, scope);
    for (i = 0; i < scopes->nelts; i++) {
        if (!oas_list_has(req->client->scopes, APR_ARRAY_IDX(scopes, i, const char *)))
            FAIL("invalid_scope", "the client may not ask for a requested scope");
    }
    req->scope = apr_array_pstrcat(p, scopes, ' ');
    req->openid = oas_list_has(scopes, "openid");
    if (oas_resource_check(&req->resource, err, iss, req->client, params) != APR_SUCCESS)
        return APR_EINVAL;
    if (check_pkce(req, err, iss, params) != APR_SUCCESS)
        return APR_EINVAL;
    if ((v = apr_table_get(params, "prompt")) && check_prompt(req, err, p, v) != APR_SUCCESS)
        return APR_EINVAL;
    if ((v = apr_table_get(params, "max_age"))) {
        char *end;
        apr_int64_t n = apr_strtoi64(v, &end, 10);
        if (*end || end == v || n < 0)
            FAIL("invalid_request", "max_age must be a non-negative integer");
        req->max_age = n;
    }
    /* RFC 9449 §10: the thumbprint of the key the code is bound to (a SHA-256 RFC 7638
     * thumbprint is 43 base64url characters); ignored where DPoP is off, as proofs are */
    if ((v = apr_table_get(params, "dpop_jkt")) &&
        oas_client_dpop(iss, req->client) != OAS_DPOP_OFF) {
        unsigned char *d;
        apr_size_t n;
        if (strlen(v) != 43 || oas_b64url_decode(&d, &n, p, v, 43) != APR_SUCCESS ||
            n != OAS_SHA256_LEN)
            FAIL("invalid_request", "malformed dpop_jkt");
        req->dpop_jkt = v;
    }
    req->nonce = apr_table_get(params, "nonce");
    return APR_SUCCESS;
}
