/* mod_oauth_as: grant records and token minting (RFC 9068, OIDC Core §2 and §5.4). */
#include <jansson.h>

#include "oas_authz.h"
#include "oas_jose.h"
#include "oas_json.h"
#include "oas_keys.h"
#include "oas_token.h"

/* ---- grant record ---- */

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v && *v)
        json_object_set_new(o, k, json_string(v));
}

apr_status_t oas_grant_to_json(const char **pjson, apr_pool_t *p, const oas_grant_t *g)
{
    json_t *o = oas_json_adopt(p, json_object());

    set_str(o, "iss", g->iss);
    set_str(o, "cid", g->client_id);
    set_str(o, "sub", g->sub);
    set_str(o, "scope", g->scope);
    set_str(o, "res", g->resource);
    set_str(o, "nonce", g->nonce);
    set_str(o, "ru", g->redirect_uri);
    if (g->redirect_uri_sent)
        json_object_set_new(o, "rus", json_true());
    set_str(o, "cc", g->code_challenge);
    json_object_set_new(o, "at", json_integer(g->auth_time));
    set_str(o, "fam", g->family);
    if (g->family_exp)
        json_object_set_new(o, "fexp", json_integer(g->family_exp));
    if (g->claims_json) {
        json_t *c = json_loads(g->claims_json, 0, NULL);
        if (!c)
            return APR_EINVAL;
        json_object_set_new(o, "cl", c);
    }
    *pjson = oas_json_dumps(p, o, 0);
    return *pjson ? APR_SUCCESS : APR_ENOMEM;
}

apr_status_t oas_grant_from_json(oas_grant_t **pg, apr_pool_t *p, const char *json,
                                 apr_size_t len)
{
    json_t *o, *cl;
    oas_grant_t *g;

    if (oas_json_parse(&o, p, json, len) != APR_SUCCESS)
        return APR_EINVAL;
    g = apr_pcalloc(p, sizeof(*g));
    g->iss = oas_json_str(o, "iss");
    g->client_id = oas_json_str(o, "cid");
    g->sub = oas_json_str(o, "sub");
    g->scope = oas_json_str(o, "scope");
    g->resource = oas_json_str(o, "res");
    g->nonce = oas_json_str(o, "nonce");
    g->redirect_uri = oas_json_str(o, "ru");
    g->redirect_uri_sent = json_is_true(json_object_get(o, "rus"));
    g->code_challenge = oas_json_str(o, "cc");
    g->auth_time = oas_json_int(o, "at", 0);
    g->family = oas_json_str(o, "fam");
    g->family_exp = oas_json_int(o, "fexp", 0);
    if ((cl = json_object_get(o, "cl")) && json_is_object(cl))
        g->claims_json = oas_json_dumps(p, cl, 0);
    /* empty is missing: oas_grant_to_json leaves empty strings out */
    if (!g->iss || !*g->iss || !g->client_id || !*g->client_id || !g->sub || !*g->sub)
        return APR_EINVAL;
    if (!g->scope) /* no scopes granted: oas_grant_to_json leaves the empty string out */
        g->scope = "";
    *pg = g;
    return APR_SUCCESS;
}

/* ---- claims per scope (OIDC Core §5.4) ---- */

static const char *scope_of_claim(const char *claim)
{
    static const char *const profile[] = {
        "name",    "family_name", "given_name", "middle_name", "nickname",
        "preferred_username", "profile", "picture", "website", "gender",
        "birthdate", "zoneinfo", "locale", "updated_at", NULL};
    int i;

    for (i = 0; profile[i]; i++) {
        if (!strcmp(claim, profile[i]))
            return "profile";
    }
    if (!strcmp(claim, "email") || !strcmp(claim, "email_verified"))
        return "email";
    if (!strcmp(claim, "address"))
        return "address";
    if (!strcmp(claim, "phone_number") || !strcmp(claim, "phone_number_verified"))
        return "phone";
    return NULL; /* a claim of the site's own: released with openid */
}

/* Adds the user's claims that the granted scopes release. */
static void add_user_claims(json_t *o, apr_pool_t *p, const oas_grant_t *g,
                            apr_array_header_t *scopes)
{
    json_t *cl;
    const char *k;
    json_t *v;

    if (!g->claims_json || oas_json_parse(&cl, p, g->claims_json, strlen(g->claims_json)))
        return;
    json_object_foreach(cl, k, v)
    {
        const char *need = scope_of_claim(k);
        if (need && !oas_list_has(scopes, need))
            continue;
        if (json_is_string(v) && strstr(k, "_verified"))
            json_object_set_new(o, k, json_boolean(!strcmp(json_string_value(v), "true")));
        else
            json_object_set(o, k, v);
    }
}

apr_status_t oas_token_mint(oas_tokens_t *out, apr_pool_t *p, const oas_issuer_t *iss,
                            const oas_client_t *client, const oas_grant_t *g, const char *jti,
                            apr_int64_t now)
{
    const oas_resource_t *res = g->resource ? oas_issuer_resource(iss, g->resource) : NULL;
    const oas_key_t *at_key = APR_ARRAY_IDX(iss->keys, 0, const oas_key_t *);
    apr_int64_t ttl = oas_client_at_ttl(iss, client, res);
    apr_array_header_t *scopes = oas_scope_split(p, g->scope);
    json_t *at = oas_json_adopt(p, json_object());
    apr_status_t rv;

    memset(out, 0, sizeof(*out));
    out->jti = jti;
    out->expires_in = ttl;
    out->exp = now + ttl;

    /* RFC 9068 §2.2 */
    set_str(at, "iss", iss->issuer);
    set_str(at, "sub", g->sub);
    set_str(at, "aud", g->resource ? g->resource : iss->issuer);
    set_str(at, "client_id", g->client_id);
    set_str(at, "scope", g->scope);
    json_object_set_new(at, "iat", json_integer(now));
    json_object_set_new(at, "exp", json_integer(out->exp));
    if (g->auth_time)
        json_object_set_new(at, "auth_time", json_integer(g->auth_time));
    set_str(at, "jti", jti);
    rv = oas_jws_sign(&out->access_token, p, at_key, "at+jwt", oas_json_dumps(p, at, 0));
    if (rv != APR_SUCCESS)
        return rv;

    if (oas_list_has(scopes, "openid")) {
        const oas_key_t *idk = iss->id_token_key;
        json_t *id = oas_json_adopt(p, json_object());

        set_str(id, "iss", iss->issuer);
        set_str(id, "sub", g->sub);
        set_str(id, "aud", g->client_id);
        json_object_set_new(id, "exp", json_integer(now + iss->idt_ttl));
        json_object_set_new(id, "iat", json_integer(now));
        if (g->auth_time)
            json_object_set_new(id, "auth_time", json_integer(g->auth_time));
        set_str(id, "nonce", g->nonce);
        set_str(id, "azp", g->client_id);
        set_str(id, "at_hash", oas_jose_at_hash(p, idk, out->access_token));
        add_user_claims(id, p, g, scopes);
        rv = oas_jws_sign(&out->id_token, p, idk, "JWT", oas_json_dumps(p, id, 0));
    }
    return rv;
}

apr_status_t oas_token_verify_access(json_t **pclaims, apr_pool_t *p, const oas_issuer_t *iss,
                                     const char *jwt, apr_int64_t now)
{
    const char *payload, *header, *iss_claim;
    json_t *h, *c;

    if (!jwt || oas_jws_verify(&payload, &header, p, jwt, iss->keys) != APR_SUCCESS ||
        oas_json_parse(&h, p, header, strlen(header)) != APR_SUCCESS ||
        oas_json_parse(&c, p, payload, strlen(payload)) != APR_SUCCESS)
        return APR_EINVAL;
    /* RFC 9068 §4: typ at+jwt keeps an ID token from passing as an access token */
    if (!oas_json_str(h, "typ") || strcasecmp(oas_json_str(h, "typ"), "at+jwt"))
        return APR_EINVAL;
    iss_claim = oas_json_str(c, "iss");
    if (!iss_claim || strcmp(iss_claim, iss->issuer) || oas_json_int(c, "exp", 0) <= now ||
        !oas_json_str(c, "jti") || !oas_json_str(c, "sub"))
        return APR_EINVAL;
    *pclaims = c;
    return APR_SUCCESS;
}

const char *oas_token_userinfo_json(apr_pool_t *p, const char *sub, const char *scope,
                                    const char *claims_json)
{
    json_t *o = oas_json_adopt(p, json_object());
    oas_grant_t g;

    memset(&g, 0, sizeof(g));
    g.claims_json = claims_json;
    set_str(o, "sub", sub);
    add_user_claims(o, p, &g, oas_scope_split(p, scope));
    return oas_json_dumps(p, o, 0);
}

const char *oas_token_response_json(apr_pool_t *p, const oas_tokens_t *t, const char *scope,
                                    const char *refresh_token)
{
    json_t *o = oas_json_adopt(p, json_object());

    set_str(o, "access_token", t->access_token);
    set_str(o, "token_type", "Bearer");
    json_object_set_new(o, "expires_in", json_integer(t->expires_in));
    set_str(o, "scope", scope);
    set_str(o, "refresh_token", refresh_token);
    set_str(o, "id_token", t->id_token);
    return oas_json_dumps(p, o, 0);
}
