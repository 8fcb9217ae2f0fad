/* mod_oauth_as: dynamic client registration and management (oas_registration.h). */
#include <apr_md5.h>
#include <apr_strings.h>
#include <jansson.h>
#include <string.h>

#include "oas_authz.h"
#include "oas_clients.h"
#include "oas_json.h"
#include "oas_profile.h"
#include "oas_jwk.h"
#include "oas_reg_policy.h"
#include "oas_logout_token.h"
#include "oas_registration.h"
#include "oas_secret.h"
#include "oas_throttle.h"
#include "oas_uri.h"
#include "oas_util.h"

#define ID_BYTES     16 /* 22 base64url characters after the prefix */
#define SECRET_BYTES 32
#define RAT_BYTES    32
#define BCRYPT_COST  5 /* a 256-bit random secret needs no stretching; the hash keeps the
                        * store from holding it in the clear (oas_client_auth caches checks) */


#define BAD(code, ...)                                                                           \
    oas_err(e, p, 400, code, apr_psprintf(p, __VA_ARGS__), OAS_LOG_INFO,                        \
            OAS_LOGNO(06803) "registration refused: %s", apr_psprintf(p, __VA_ARGS__))

int oas_reg_allowed(const oas_issuer_t *iss, const char *bearer)
{
    int i, ok = 0;

    if (oas_iss_registration(iss) == OAS_REG_OPEN)
        return 1;
    if (oas_iss_registration(iss) != OAS_REG_TOKEN || !bearer || !iss->registration_tokens)
        return 0;
    /* every token is compared, so the time tells nothing of which one was close */
    for (i = 0; i < iss->registration_tokens->nelts; i++)
        ok |= oas_secure_streq(APR_ARRAY_IDX(iss->registration_tokens, i, const char *), bearer);
    return ok;
}

const char *oas_reg_url(apr_pool_t *p, const oas_issuer_t *iss)
{
    return iss->endpoints[OAS_EP_REGISTER]
               ? apr_pstrcat(p, iss->issuer_origin, iss->endpoints[OAS_EP_REGISTER], NULL)
               : NULL;
}

/* INTERFACE.md: https without a fragment, or http on 127.0.0.1 or [::1] (any port). */
static int redirect_ok(apr_pool_t *p, const char *u)
{
    const char *err, *rest = NULL;

    if (strlen(u) > OAS_REG_MAX_URI || !oas_uri_valid_redirect(&err, p, u))
        return 0;
    if (!strncasecmp(u, "https://", 8))
        return 1;
    if (!strncasecmp(u, "http://127.0.0.1", 16))
        rest = u + 16;
    else if (!strncasecmp(u, "http://[::1]", 12))
        rest = u + 12;
    return rest && (!*rest || *rest == ':' || *rest == '/' || *rest == '?');
}

/* The strings of array member key of in (absent: dflt, one string), each at most max bytes;
 * NULL when it is not an array of 1..limit strings. */
static json_t *strings(const json_t *in, const char *key, const char *dflt, int limit,
                       apr_size_t max)
{
    const json_t *a = json_object_get(in, key), *v;
    json_t *out = json_array();
    size_t i;

    if (!a) {
        json_array_append_new(out, json_string(dflt));
        return out;
    }
    if (!json_is_array(a) || !json_array_size(a) || json_array_size(a) > (size_t)limit)
        goto bad;
    json_array_foreach(a, i, v) {
        if (!json_is_string(v) || json_string_length(v) > max)
            goto bad;
        json_array_append(out, (json_t *)v);
    }
    return out;
bad:
    json_decref(out);
    return NULL;
}

static int has_str(const json_t *a, const char *s)
{
    const json_t *v;
    size_t i;

    json_array_foreach(a, i, v) {
        if (!strcmp(json_string_value(v), s))
            return 1;
    }
    return 0;
}

/* Back-Channel Logout 1.0 §2.2, Front-Channel Logout 1.0 §2: each URI https (as the client
 * directives: oas_logout_uri_valid), each *_session_required a boolean (sid is always sent). */
static apr_status_t logout_metadata(json_t *md, oas_err_t *e, oas_ctx_t *x, const json_t *in)
{
    static const char *const names[] = {"backchannel_logout", "frontchannel_logout"};
    apr_pool_t *p = x->p;
    const json_t *v;
    const char *err, *key;
    int i;

    for (i = 0; i < 2; i++) {
        key = apr_pstrcat(p, names[i], "_uri", NULL);
        if ((v = json_object_get(in, key))) {
            if (!json_is_string(v) || !oas_logout_uri_valid(&err, p, json_string_value(v)))
                return BAD("invalid_client_metadata", "%s must be an https URL without a "
                           "fragment", key);
            json_object_set(md, key, (json_t *)v);
        }
        key = apr_pstrcat(p, names[i], "_session_required", NULL);
        if ((v = json_object_get(in, key))) {
            if (!json_is_boolean(v))
                return BAD("invalid_client_metadata", "%s must be true or false", key);
            json_object_set(md, key, (json_t *)v);
        }
    }
    return APR_SUCCESS;
}

/* The redirect URIs of member key of in, copied to md: 1, 0 when absent, -1 when it is not an
 * array of 1 to OAS_REG_MAX_REDIRECTS strings, -2 when one may not be a redirect URI. */
static int uri_list(json_t *md, apr_pool_t *p, const json_t *in, const char *key)
{
    json_t *a, *v;
    size_t i;

    if (!json_object_get(in, key))
        return 0;
    if (!(a = strings(in, key, NULL, OAS_REG_MAX_REDIRECTS, OAS_REG_MAX_URI)))
        return -1;
    json_object_set_new(md, key, a);
    json_array_foreach(a, i, v) {
        if (!redirect_ok(p, json_string_value(v)))
            return -2;
    }
    return 1;
}

/* The metadata of body as we accept it (*pmd, owned by p), or *e. */
static apr_status_t validate(json_t **pmd, oas_err_t *e, oas_ctx_t *x, const char *body,
                             apr_size_t len)
{
    apr_pool_t *p = x->p;
    json_t *in, *md = oas_json_adopt(p, json_object()), *a, *v;
    const char *method, *s, *err;
    apr_array_header_t *keys, *asked;
    int bits = 0, m;
    size_t i;

    if (oas_json_parse(&in, p, body, len) != APR_SUCCESS)
        return BAD("invalid_client_metadata", "the body is not a JSON object");
    /* grant and response types (RFC 7591 §2.1) */
    if (!(a = strings(in, "grant_types", "authorization_code", 3, 64)))
        return BAD("invalid_client_metadata", "grant_types must be an array of strings");
    json_object_set_new(md, "grant_types", a);
    json_array_foreach(a, i, v) {
        if (!(m = oas_reg_grant_type(json_string_value(v))))
            return BAD("invalid_client_metadata", "grant type %s is not supported",
                       json_string_value(v));
        bits |= m;
    }
    if (!(a = strings(in, "response_types", "code", 1, 16)) || !has_str(a, "code")) {
        json_decref(a);
        return BAD("invalid_client_metadata", "response_types may only be code");
    }
    json_object_set_new(md, "response_types", a);
    /* authentication (RFC 7591 §2; INTERFACE.md: no client_secret_jwt, no mTLS) */
    method = json_is_string(json_object_get(in, "token_endpoint_auth_method"))
                 ? json_string_value(json_object_get(in, "token_endpoint_auth_method"))
                 : json_object_get(in, "token_endpoint_auth_method") ? "" : "client_secret_basic";
    if (!(m = oas_reg_auth_method(method)))
        return BAD("invalid_client_metadata", "token_endpoint_auth_method must be none, "
                   "client_secret_basic, client_secret_post or private_key_jwt");
    if (!(m & oas_iss_profile(x->iss)->auth_methods)) /* OAuthASProfile fapi2: no secrets */
        return BAD("invalid_client_metadata", "token_endpoint_auth_method %s is not allowed "
                   "by this server's profile", method);
    json_object_set_new(md, "token_endpoint_auth_method", json_string(method));
    if ((bits & OAS_GRANT_CC) && m == OAS_AUTH_NONE)
        return BAD("invalid_client_metadata", "client_credentials needs a confidential client");
    if ((v = json_object_get(in, "jwks")) && json_object_get(in, "jwks_uri"))
        return BAD("invalid_client_metadata", "jwks and jwks_uri are exclusive");
    if (v) {
        apr_array_header_t *ks;
        s = json_is_object(v) ? oas_json_dumps(p, v, 0) : NULL;
        if (!s || oas_jwks_parse(&ks, &err, p, s, strlen(s)) != APR_SUCCESS)
            return BAD("invalid_client_metadata", "jwks is not a usable JWK Set");
        json_object_set(md, "jwks", v);
    }
    else if ((v = json_object_get(in, "jwks_uri"))) {
        s = json_string_value(v);
        if (!s || strncmp(s, "https://", 8) || strlen(s) > OAS_REG_MAX_URI ||
            !oas_uri_valid_redirect(&err, p, s))
            return BAD("invalid_client_metadata", "jwks_uri must be an https URL");
        json_object_set(md, "jwks_uri", v);
    }
    else if (m == OAS_AUTH_PKJWT)
        return BAD("invalid_client_metadata", "private_key_jwt needs jwks or jwks_uri");
    /* redirect URIs: required for the code grant */
    if ((m = uri_list(md, p, in, "redirect_uris")) == -1)
        return BAD("invalid_redirect_uri", "redirect_uris must be an array of 1 to %d URIs",
                   OAS_REG_MAX_REDIRECTS);
    if (m == -2)
        return BAD("invalid_redirect_uri", "a redirect URI must be https without a fragment, "
                   "or http on 127.0.0.1 or [::1]");
    if (!m && (bits & OAS_GRANT_CODE))
        return BAD("invalid_redirect_uri", "redirect_uris is required");
    /* RP-Initiated Logout 1.0 §3.1: where the client may return after a sign-out */
    if ((m = uri_list(md, p, in, "post_logout_redirect_uris")) < 0)
        return BAD("invalid_client_metadata", "post_logout_redirect_uris must be an array of 1 "
                   "to %d URIs, each https without a fragment, or http on 127.0.0.1 or [::1]",
                   OAS_REG_MAX_REDIRECTS);
    /* scope: the default ones when none is asked for; of those asked for, only what dynamic
     * clients may get (RFC 7591 §3.2.1: the server may replace a requested value; the
     * response tells the client what it got) */
    if ((v = json_object_get(in, "scope"))) {
        s = json_string_value(v);
        if (!s || !oas_scope_valid(s, 0) || strlen(s) > 1024)
            return BAD("invalid_client_metadata", "scope must be a space-separated string");
        asked = oas_scope_split(p, s);
        keys = apr_array_make(p, asked->nelts + 1, sizeof(const char *));
        for (m = 0; m < asked->nelts; m++) {
            if (oas_reg_scope_open(x->iss, APR_ARRAY_IDX(asked, m, const char *)))
                APR_ARRAY_PUSH(keys, const char *) = APR_ARRAY_IDX(asked, m, const char *);
        }
        if (!keys->nelts)
            return BAD("invalid_client_metadata", "no scope of '%s' is available to dynamic "
                       "clients", s);
    }
    else
        keys = oas_reg_default_scopes(p, x->iss);
    json_object_set_new(md, "scope", json_string(apr_array_pstrcat(p, keys, ' ')));
    if ((v = json_object_get(in, "client_name"))) {
        s = json_string_value(v);
        if (!s || !*s || strlen(s) > OAS_REG_MAX_NAME || !oas_is_clean_utf8(s, strlen(s)))
            return BAD("invalid_client_metadata", "client_name must be text of at most %d bytes",
                       OAS_REG_MAX_NAME);
        json_object_set(md, "client_name", v);
    }
    if (logout_metadata(md, e, x, in) != APR_SUCCESS)
        return APR_EINVAL;
    *pmd = md;
    return APR_SUCCESS;
}

static const char *digest_hex(apr_pool_t *p, const char *s)
{
    unsigned char d[OAS_SHA256_LEN];

    oas_sha256(d, s, strlen(s));
    return oas_hex(p, d, sizeof(d));
}

/* A fresh secret and its bcrypt hash, or *e. */
static apr_status_t new_secret(const char **psecret, const char **phash, oas_err_t *e,
                               apr_pool_t *p)
{
    if (oas_random_token(psecret, p, SECRET_BYTES) != APR_SUCCESS ||
        oas_secret_hash(phash, p, *psecret, BCRYPT_COST) != APR_SUCCESS)
        return oas_err(e, p, 500, "server_error", "the client secret cannot be made",
                       OAS_LOG_ERR, OAS_LOGNO(06804) "registration: RNG or bcrypt failed");
    return APR_SUCCESS;
}

/* The record of a client (oas_clients.h) and the response to its registration or read; exp:
 * when the client expires (seconds), 0 never. */
static apr_status_t render(const char **prec, const char **pjson, oas_ctx_t *x, const char *id,
                           json_t *md, const char *secret, const char *hash, const char *rat,
                           apr_int64_t iat, apr_int64_t exp)
{
    apr_pool_t *p = x->p;
    json_t *rec = oas_json_adopt(p, json_object()), *out = oas_json_adopt(p, json_copy(md));

    json_object_set(rec, "md", md);
    if (hash)
        json_object_set_new(rec, "sh", json_string(hash));
    json_object_set_new(rec, "rh", json_string(digest_hex(p, rat)));
    json_object_set_new(rec, "iat", json_integer(iat));
    if (exp)
        json_object_set_new(rec, "exp", json_integer(exp));
    json_object_set_new(out, "client_id", json_string(id));
    json_object_set_new(out, "client_id_issued_at", json_integer(iat));
    if (secret)
        json_object_set_new(out, "client_secret", json_string(secret));
    if (hash) /* RFC 7591 §3.2.1: its secret expires with the client (0: never) */
        json_object_set_new(out, "client_secret_expires_at", json_integer(exp));
    json_object_set_new(out, "registration_access_token", json_string(rat));
    json_object_set_new(out, "registration_client_uri",
                        json_string(apr_pstrcat(p, oas_reg_url(p, x->iss), "/", id, NULL)));
    *prec = oas_json_dumps(p, rec, 0);
    *pjson = oas_json_dumps(p, out, 0);
    return *prec && *pjson ? APR_SUCCESS : APR_ENOMEM;
}

static int is_confidential(const json_t *md)
{
    const char *m = json_string_value(json_object_get(md, "token_endpoint_auth_method"));

    return m && (!strcmp(m, "client_secret_basic") || !strcmp(m, "client_secret_post"));
}

/* When a client registered now expires (client-lifetime), 0 never; the store's expiry of
 * the record of a client that expires at exp. */
static apr_int64_t client_exp(oas_ctx_t *x)
{
    return oas_iss_reg_client_ttl(x->iss) > 0 ? x->now + oas_iss_reg_client_ttl(x->iss) : 0;
}

static apr_time_t record_expiry(oas_ctx_t *x, apr_int64_t exp)
{
    return apr_time_from_sec(exp ? exp : x->now + OAS_REG_FOREVER);
}

/* Stores a new client (its id drawn here) and renders the answer, or *e. */
static apr_status_t created(const char **pjson, oas_err_t *e, oas_ctx_t *x, oas_store_t *st,
                            json_t *md, const char *secret, const char *hash, const char *rat)
{
    apr_pool_t *p = x->p;
    apr_int64_t exp = client_exp(x);
    apr_status_t rv = APR_EEXIST;
    const char *tok, *id = NULL, *rec;
    int tries;

    /* put_new: two registrations never share an id, and a configured id is never taken */
    for (tries = 0; tries < 3 && APR_STATUS_IS_EEXIST(rv); tries++) {
        if (oas_random_token(&tok, p, ID_BYTES) != APR_SUCCESS)
            break;
        id = apr_pstrcat(p, OAS_REG_ID_PREFIX, tok, NULL);
        if (oas_issuer_client(x->iss, id))
            continue;
        if (render(&rec, pjson, x, id, md, secret, hash, rat, x->now, exp) != APR_SUCCESS)
            return oas_store_refused(x, e, APR_ENOMEM, "registration");
        if (strlen(rec) > OAS_STORE_MAX_VALUE)
            return BAD("invalid_client_metadata", "the client metadata is too large");
        rv = oas_store_put_new(st, p, OAS_NS_CLIENT, id, rec, strlen(rec),
                               record_expiry(x, exp));
    }
    if (rv != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "registration");
    OAS_CTX_LOG(x, OAS_LOG_INFO, 0, OAS_LOGNO(06806) "client %s registered (%s)", id,
                json_string_value(json_object_get(md, "token_endpoint_auth_method")));
    return APR_SUCCESS;
}

apr_status_t oas_reg_create(const char **pjson, oas_err_t *e, oas_ctx_t *x, const char *body,
                            apr_size_t len)
{
    apr_pool_t *p = x->p;
    const char *secret = NULL, *hash = NULL, *rat;
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_LONG);
    apr_status_t rv;
    json_t *md;

    OAS_ERR_SET(e, 0, NULL, NULL);
    if (validate(&md, e, x, body, len) != APR_SUCCESS ||
        oas_quota_registration(x, e) != APR_SUCCESS)
        return APR_EINVAL;
    if (is_confidential(md) && new_secret(&secret, &hash, e, p) != APR_SUCCESS)
        return APR_EGENERAL;
    if (oas_random_token(&rat, p, RAT_BYTES) != APR_SUCCESS)
        return oas_err(e, p, 500, "server_error", "the registration cannot be made",
                       OAS_LOG_ERR, OAS_LOGNO(06805) "registration: the RNG failed");
    if (!st)
        return oas_store_refused(x, e, APR_ENOTIMPL, "registration");
    if (oas_reg_count_take(x, e) != APR_SUCCESS) /* max-clients */
        return APR_EINVAL;
    rv = created(pjson, e, x, st, md, secret, hash, rat);
    if (rv != APR_SUCCESS)
        oas_reg_count_give_back(x, x->now);
    return rv;
}

#define INVALID_TOKEN(why)                                                                       \
    oas_err(e, p, 401, "invalid_token", "the registration access token is not valid",         \
            OAS_LOG_INFO, OAS_LOGNO(06807) "client management refused: %s", (why))

apr_status_t oas_reg_manage(const char **pjson, oas_err_t *e, oas_ctx_t *x, int op,
                            const char *id, const char *bearer, const char *body,
                            apr_size_t len)
{
    apr_pool_t *p = x->p;
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_LONG);
    const char *hash, *secret = NULL, *rec, *s;
    json_t *old, *md;
    apr_int64_t exp;
    apr_status_t rv;
    apr_size_t n;
    char *v;

    OAS_ERR_SET(e, 0, NULL, NULL);
    *pjson = NULL;
    if (!bearer || !oas_reg_id_valid(id))
        return INVALID_TOKEN("no token, or not a registered client's id");
    if (!st)
        return oas_store_refused(x, e, APR_ENOTIMPL, "client management");
    rv = oas_store_get(st, p, OAS_NS_CLIENT, id, &v, &n);
    if (APR_STATUS_IS_NOTFOUND(rv))
        return INVALID_TOKEN(apr_pstrcat(p, "no client ", id, NULL));
    if (rv != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "client management");
    if (oas_json_parse(&old, p, v, n) != APR_SUCCESS || !(s = oas_json_str(old, "rh")) ||
        !json_is_object(json_object_get(old, "md")))
        return INVALID_TOKEN(apr_pstrcat(p, "the record of ", id, " does not parse", NULL));
    if (!oas_secure_streq(s, digest_hex(p, bearer)))
        return INVALID_TOKEN(apr_pstrcat(p, "a wrong token for ", id, NULL));
    hash = oas_json_str(old, "sh");
    if (op == OAS_REG_DELETE) {
        /* the record this request read, taken atomically: a 204 means this request removed
         * it (one taken by a concurrent DELETE or PUT is theirs: 401, try again) */
        rv = oas_store_take(st, p, OAS_NS_CLIENT, id, NULL, NULL);
        if (APR_STATUS_IS_NOTFOUND(rv))
            return INVALID_TOKEN(apr_pstrcat(p, "client ", id, " deleted or updated meanwhile",
                                             NULL));
        if (rv != APR_SUCCESS)
            return oas_store_refused(x, e, rv, "client deletion");
        oas_reg_count_give_back(x, oas_json_int(old, "iat", x->now));
        OAS_CTX_LOG(x, OAS_LOG_INFO, 0, OAS_LOGNO(06808) "client %s deleted", id);
        return APR_SUCCESS;
    }
    md = json_object_get(old, "md");
    if (op == OAS_REG_UPDATE) {
        json_t *in;
        /* RFC 7592 §2.2: client_id must be the client's; a client_secret, its own */
        if (oas_json_parse(&in, p, body, len) != APR_SUCCESS)
            return BAD("invalid_client_metadata", "the body is not a JSON object");
        if (!(s = oas_json_str(in, "client_id")) || strcmp(s, id))
            return BAD("invalid_request", "client_id must be the client's");
        if ((s = oas_json_str(in, "client_secret")) &&
            (!hash || apr_password_validate(s, hash) != APR_SUCCESS))
            return BAD("invalid_request", "client_secret is not the client's");
        if (validate(&md, e, x, body, len) != APR_SUCCESS)
            return APR_EINVAL;
        if (!is_confidential(md))
            hash = NULL;
        else if (!hash && new_secret(&secret, &hash, e, p) != APR_SUCCESS)
            return APR_EGENERAL;
    }
    /* an update keeps the client's expiry: its lifetime runs from its registration */
    exp = oas_json_int(old, "exp", 0);
    if (render(&rec, pjson, x, id, md, secret, hash, bearer, oas_json_int(old, "iat", x->now),
               exp) != APR_SUCCESS)
        return oas_store_refused(x, e, APR_ENOMEM, "client management");
    if (op == OAS_REG_UPDATE) {
        if (strlen(rec) > OAS_STORE_MAX_VALUE)
            return BAD("invalid_client_metadata", "the client metadata is too large");
        /* take, then put_new: a DELETE that won the race stays done (a put would bring the
         * deleted client back); for the moment between the two the client is unknown */
        rv = oas_store_take(st, p, OAS_NS_CLIENT, id, NULL, NULL);
        if (APR_STATUS_IS_NOTFOUND(rv))
            return INVALID_TOKEN(apr_pstrcat(p, "client ", id, " deleted meanwhile", NULL));
        if (rv == APR_SUCCESS &&
            (rv = oas_store_put_new(st, p, OAS_NS_CLIENT, id, rec, strlen(rec),
                                    record_expiry(x, exp))) != APR_SUCCESS)
            oas_store_put_new(st, p, OAS_NS_CLIENT, id, v, n,
                              record_expiry(x, exp)); /* as it was */
        if (rv != APR_SUCCESS)
            return oas_store_refused(x, e, rv, "client update");
        OAS_CTX_LOG(x, OAS_LOG_INFO, 0, OAS_LOGNO(06809) "client %s updated", id);
    }
    return APR_SUCCESS;
}
