/* mod_oauth_as: grant records and token minting (RFC 9068, OIDC Core §2 and §5.4). */
#include "oas_authz.h"
#include "oas_jose.h"
#include "oas_json.h"
#include "oas_jsonr.h"
#include "oas_jsonw.h"
#include "oas_keys.h"
#include "oas_token.h"
#include "oas_util.h"

/* ---- grant record ---- */


apr_status_t oas_grant_to_json(const char **pjson, apr_pool_t *p, const oas_grant_t *g)
{
    oas_jsonw_t w;

    oas_jsonw_init(&w, p, 512);
    oas_jsonw_str(&w, "iss", g->iss);
    oas_jsonw_str(&w, "cid", g->client_id);
    oas_jsonw_str(&w, "sub", g->sub);
    oas_jsonw_str(&w, "scope", g->scope);
    oas_jsonw_str(&w, "res", g->resource);
    oas_jsonw_str(&w, "nonce", g->nonce);
    oas_jsonw_str(&w, "ru", g->redirect_uri);
    if (g->redirect_uri_sent)
        oas_jsonw_bool(&w, "rus", 1);
    oas_jsonw_str(&w, "cc", g->code_challenge);
    oas_jsonw_str(&w, "jkt", g->dpop_jkt);
    oas_jsonw_str(&w, "x5t", g->cert_x5t);
    oas_jsonw_int(&w, "at", g->auth_time);
    oas_jsonw_str(&w, "sid", g->sid);
    oas_jsonw_str(&w, "fam", g->family);
    if (g->family_exp)
        oas_jsonw_int(&w, "fexp", g->family_exp);
    if (g->claims_json) {
        oas_jobj_t c;
        /* claims come from our own output; still, only an object goes in */
        if (oas_jsonr_parse(&c, p, g->claims_json, strlen(g->claims_json)) != APR_SUCCESS)
            return APR_EINVAL;
        oas_jsonw_raw(&w, "cl", g->claims_json);
    }
    *pjson = oas_jsonw_end(&w);
    return *pjson ? APR_SUCCESS : APR_EINVAL;
}

apr_status_t oas_grant_from_json(oas_grant_t **pg, apr_pool_t *p, const char *json,
                                 apr_size_t len)
{
    oas_jobj_t o;
    const oas_jmember_t *rus;
    oas_grant_t *g;

    if (oas_jsonr_parse(&o, p, json, len) != APR_SUCCESS)
        return APR_EINVAL;
    g = apr_pcalloc(p, sizeof(*g));
    g->iss = oas_jobj_str(&o, "iss");
    g->client_id = oas_jobj_str(&o, "cid");
    g->sub = oas_jobj_str(&o, "sub");
    g->scope = oas_jobj_str(&o, "scope");
    g->resource = oas_jobj_str(&o, "res");
    g->nonce = oas_jobj_str(&o, "nonce");
    g->redirect_uri = oas_jobj_str(&o, "ru");
    g->redirect_uri_sent = (rus = oas_jobj_get(&o, "rus")) && rus->type == OAS_JSON_TRUE;
    g->code_challenge = oas_jobj_str(&o, "cc");
    g->dpop_jkt = oas_jobj_str(&o, "jkt");
    g->cert_x5t = oas_jobj_str(&o, "x5t");
    g->auth_time = oas_jobj_int(&o, "at", 0);
    g->sid = oas_jobj_str(&o, "sid");
    g->family = oas_jobj_str(&o, "fam");
    g->family_exp = oas_jobj_int(&o, "fexp", 0);
    g->claims_json = oas_jobj_object(&o, "cl");
    /* empty is missing: oas_grant_to_json leaves empty strings out */
    if (!g->iss || !*g->iss || !g->client_id || !*g->client_id || !g->sub || !*g->sub)
        return APR_EINVAL;
    if (!g->scope) /* no scopes granted: oas_grant_to_json leaves the empty string out */
        g->scope = "";
    *pg = g;
    return APR_SUCCESS;
}

#define GRANT_HANDLE_LABEL "mod_oauth_as grant handle\n"
#define GRANT_HANDLE_BYTES 16

const char *oas_grant_handle(apr_pool_t *p, const char *family)
{
    unsigned char d[OAS_SHA256_LEN];
    oas_bytes_t parts[2] = {{GRANT_HANDLE_LABEL, sizeof(GRANT_HANDLE_LABEL) - 1},
                            {family, strlen(family)}};

    return oas_sha256_parts(d, parts, 2) ? oas_b64url_encode(p, d, GRANT_HANDLE_BYTES) : NULL;
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

/* Adds the user's claims that the granted scopes release. claims_json is part of our own
 * grant record (written at /authorize, checked by oas_grant_to_json), so oas_jsonr reads it
 * like the rest of the record; a nested value is copied as its text. */
static void add_user_claims(oas_jsonw_t *w, apr_pool_t *p, const oas_grant_t *g,
                            apr_array_header_t *scopes)
{
    oas_jobj_t cl;
    int i;

    if (!g->claims_json ||
        oas_jsonr_parse(&cl, p, g->claims_json, strlen(g->claims_json)) != APR_SUCCESS)
        return;
    for (i = 0; i < cl.n; i++) {
        const oas_jmember_t *m = &cl.m[i];
        const char *need = scope_of_claim(m->key);
        if (need && !oas_list_has(scopes, need))
            continue;
        switch (m->type) {
        case OAS_JSON_STRING:
            if (strstr(m->key, "_verified"))
                oas_jsonw_bool(w, m->key, !strcmp(m->str, "true"));
            else
                oas_jsonw_str(w, m->key, m->str);
            break;
        case OAS_JSON_INT:
            oas_jsonw_int(w, m->key, m->num);
            break;
        case OAS_JSON_TRUE:
        case OAS_JSON_FALSE:
            oas_jsonw_bool(w, m->key, m->type == OAS_JSON_TRUE);
            break;
        case OAS_JSON_NULL:
            oas_jsonw_raw(w, m->key, "null");
            break;
        default:
            oas_jsonw_raw(w, m->key, m->str);
            break;
        }
    }
}

apr_status_t oas_token_mint(oas_tokens_t *out, apr_pool_t *p, const oas_issuer_t *iss,
                            const oas_client_t *client, const oas_grant_t *g, const char *jti,
                            const oas_cnf_t *cnf, apr_int64_t now)
{
    const char *jkt = cnf ? cnf->jkt : NULL, *x5t = cnf ? cnf->x5t : NULL;
    const oas_resource_t *res = g->resource ? oas_issuer_resource(iss, g->resource) : NULL;
    const oas_key_t *at_key = APR_ARRAY_IDX(iss->keys, 0, const oas_key_t *);
    apr_int64_t ttl = oas_client_at_ttl(iss, client, res);
    apr_array_header_t *scopes = oas_scope_split(p, g->scope);
    oas_jsonw_t at;
    apr_status_t rv;

    memset(out, 0, sizeof(*out));
    out->jti = jti;
    out->jkt = jkt;
    if (g->exp_max && now + ttl > g->exp_max) /* an exchanged token outlives no subject */
        ttl = g->exp_max > now ? g->exp_max - now : 0;
    out->expires_in = ttl;
    out->exp = now + ttl;
    out->issued_token_type = g->issued_token_type;

    /* RFC 9068 §2.2 */
    oas_jsonw_init(&at, p, 512);
    oas_jsonw_str(&at, "iss", iss->issuer);
    oas_jsonw_str(&at, "sub", g->sub);
    oas_jsonw_str(&at, "aud", g->resource ? g->resource : iss->issuer);
    oas_jsonw_str(&at, "client_id", g->client_id);
    oas_jsonw_str(&at, "scope", g->scope);
    oas_jsonw_int(&at, "iat", now);
    oas_jsonw_int(&at, "exp", out->exp);
    if (g->auth_time)
        oas_jsonw_int(&at, "auth_time", g->auth_time);
    oas_jsonw_str(&at, "jti", jti);
    /* RFC 9449 §6.1: the key a DPoP proof must be signed with to use it; RFC 8705 §3.1: the
     * certificate of the connections it may be used on */
    if (jkt || x5t) {
        oas_jsonw_object(&at, "cnf");
        oas_jsonw_str(&at, "jkt", jkt);
        oas_jsonw_str(&at, "x5t#S256", x5t);
        oas_jsonw_close(&at);
    }
    /* the grant it lives and dies with (RFC 9700 §4.14.2), found by its handle */
    if (g->family && !g->family_by_id) {
        const char *gid = oas_grant_handle(p, g->family);
        if (!gid)
            return APR_ENOMEM;
        oas_jsonw_str(&at, "gid", gid);
    }
    else
        oas_jsonw_str(&at, "gid", g->gid);
    if (g->act_json) /* RFC 8693 §4.1: who acts for sub; our own text (oas_token_exchange.c) */
        oas_jsonw_raw(&at, "act", g->act_json);
    rv = oas_jws_sign(&out->access_token, p, at_key, "at+jwt", oas_jsonw_end(&at));
    if (rv != APR_SUCCESS)
        return rv;

    if (oas_list_has(scopes, "openid")) {
        const oas_key_t *idk = iss->id_token_key;
        oas_jsonw_t id;

        oas_jsonw_init(&id, p, 1024);
        oas_jsonw_str(&id, "iss", iss->issuer);
        oas_jsonw_str(&id, "sub", g->sub);
        oas_jsonw_str(&id, "aud", g->client_id);
        oas_jsonw_int(&id, "exp", now + oas_iss_idt_ttl(iss));
        oas_jsonw_int(&id, "iat", now);
        if (g->auth_time)
            oas_jsonw_int(&id, "auth_time", g->auth_time);
        oas_jsonw_str(&id, "nonce", g->nonce);
        oas_jsonw_str(&id, "azp", g->client_id);
        oas_jsonw_str(&id, "sid", g->sid); /* OIDC Front-/Back-Channel Logout 1.0 */
        oas_jsonw_str(&id, "at_hash", oas_jose_at_hash(p, idk, out->access_token));
        add_user_claims(&id, p, g, scopes);
        rv = oas_jws_sign(&out->id_token, p, idk, "JWT", oas_jsonw_end(&id));
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
    oas_jsonw_t w;
    oas_grant_t g;

    memset(&g, 0, sizeof(g));
    g.claims_json = claims_json;
    oas_jsonw_init(&w, p, 256);
    oas_jsonw_str(&w, "sub", sub);
    add_user_claims(&w, p, &g, oas_scope_split(p, scope));
    return oas_jsonw_end(&w);
}

const char *oas_token_response_json(apr_pool_t *p, const oas_tokens_t *t, const char *scope,
                                    const char *refresh_token)
{
    oas_jsonw_t w;

    oas_jsonw_init(&w, p, 2048);
    oas_jsonw_str(&w, "access_token", t->access_token);
    oas_jsonw_str(&w, "token_type", t->jkt ? "DPoP" : "Bearer");
    oas_jsonw_int(&w, "expires_in", t->expires_in);
    oas_jsonw_str(&w, "scope", scope);
    oas_jsonw_str(&w, "refresh_token", refresh_token);
    oas_jsonw_str(&w, "id_token", t->id_token);
    oas_jsonw_str(&w, "issued_token_type", t->issued_token_type);
    return oas_jsonw_end(&w);
}
