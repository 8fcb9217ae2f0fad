/* mod_oauth_as: logout tokens and front-channel URLs (oas_logout_token.h). */
#include <string.h>

#include "oas_jose.h"
#include "oas_jsonw.h"
#include "oas_logout_token.h"
#include "oas_uri.h"
#include "oas_util.h"

#define JTI_BYTES 16

int oas_logout_uri_valid(const char **perr, apr_pool_t *p, const char *uri)
{
    if (uri && strlen(uri) > OAS_LOGOUT_MAX_URI) {
        *perr = "is longer than 2048 bytes";
        return 0;
    }
    /* only https (a token or a session id travels there); then the redirect URI rules:
     * URI characters only, a host, no user information, no fragment */
    if (!uri || strncasecmp(uri, "https://", 8)) {
        *perr = "is not an https URL";
        return 0;
    }
    return oas_uri_valid_redirect(perr, p, uri);
}

apr_status_t oas_logout_token(const char **ptok, apr_pool_t *p, const oas_issuer_t *iss,
                              const char *client_id, const char *sub, const char *sid,
                              apr_int64_t now)
{
    const char *jti, *claims;
    oas_jsonw_t w;

    *ptok = NULL;
    if ((!sub || !*sub) && (!sid || !*sid))
        return APR_EINVAL;
    if (oas_random_token(&jti, p, JTI_BYTES) != APR_SUCCESS)
        return APR_EGENERAL;
    oas_jsonw_init(&w, p, 512);
    oas_jsonw_str(&w, "iss", iss->issuer);
    oas_jsonw_str(&w, "sub", sub);
    oas_jsonw_str(&w, "aud", client_id);
    oas_jsonw_int(&w, "iat", now);
    oas_jsonw_int(&w, "exp", now + OAS_LOGOUT_TOKEN_TTL);
    oas_jsonw_str(&w, "jti", jti);
    oas_jsonw_object(&w, "events");
    oas_jsonw_object(&w, OAS_LOGOUT_EVENT);
    oas_jsonw_close(&w);
    oas_jsonw_close(&w);
    oas_jsonw_str(&w, "sid", sid);
    if (!(claims = oas_jsonw_end(&w)))
        return APR_EINVAL;
    /* Back-Channel Logout §2.4: explicit typing keeps it from passing for an ID token */
    return oas_jws_sign(ptok, p, iss->id_token_key, "logout+jwt", claims);
}

const char *oas_frontchannel_url(apr_pool_t *p, const oas_issuer_t *iss, const char *uri,
                                 const char *sid)
{
    apr_array_header_t *pairs = apr_array_make(p, 4, sizeof(const char *));

    APR_ARRAY_PUSH(pairs, const char *) = "iss";
    APR_ARRAY_PUSH(pairs, const char *) = iss->issuer;
    APR_ARRAY_PUSH(pairs, const char *) = "sid";
    APR_ARRAY_PUSH(pairs, const char *) = sid;
    return oas_uri_add_query(p, uri, pairs);
}
