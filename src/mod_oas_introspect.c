/* mod_oauth_as: the introspection endpoint (RFC 7662); the core (oas_liveness.h) answers, signed
 * (RFC 9701, oas_introspect_jwt.h) when the resource server asks for a JWT. */
#include <http_protocol.h>

#include "mod_oas_confidential.h"
#include "mod_oas_endpoints.h"
#include "mod_oas_request.h"
#include "mod_oas_store.h"
#include "oas_introspect_jwt.h"
#include "oas_liveness.h"

int oas_mod_introspect(request_rec *r, const oas_issuer_t *iss)
{
    const oas_client_t *c;
    oas_ctx_t *x;
    const char *tok;
    int status = oas_mod_confidential_request(&x, &c, &tok, r, iss, 0);
    const char *answer, *jwt;
    apr_status_t rv;

    if (status != OK || !c)
        return status;
    answer = oas_introspect(x, c, tok);
    if (!oas_introspect_jwt_wanted(r->pool, apr_table_get(r->headers_in, "Accept")))
        return oas_mod_send_json(r, HTTP_OK, answer);
    if ((rv = oas_introspect_jwt(&jwt, r->pool, iss, c->id, answer, x->now)) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, OAS_LOGNO(00501)
                      "the signed introspection response to client %s could not be made", c->id);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return oas_mod_send_nostore(r, HTTP_OK, OAS_INTROSPECT_JWT_MEDIA, jwt);
}
