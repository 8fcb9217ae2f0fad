/* mod_oauth_as: endpoint dispatch and the static documents (metadata, JWKS). The
 * authorization and token endpoints live in their own files. */
#include <http_protocol.h>
#include <http_log.h>
#include <string.h>
#include <strings.h>

#include "mod_oas_config.h"
#include "mod_oas_endpoints.h"
#include "mod_oas_handlers.h"
#include "mod_oas_metrics.h"
#include "mod_oas_request.h"
#include "mod_oas_resource.h"

/* Metadata and JWKS are prepared at start-up; clients may cache them for a while. */
static int serve_document(request_rec *r, const char *json)
{
    int rv = oas_mod_check_method(r, 1, 0);

    if (rv != OK)
        return rv;
    apr_table_setn(r->headers_out, "Cache-Control", "public, max-age=300");
    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, strlen(json));
    if (!r->header_only)
        ap_rputs(json, r);
    return OK;
}

/* The endpoints other than /authorize are virtual: no file stands behind them, so httpd's
 * walk of the file system (a stat per path component, <Directory> and .htaccess merging)
 * is skipped for them, as mod_proxy does for the URLs it serves; their <Location>
 * configuration applies as usual. /authorize and the account page keep the walk: a site may
 * protect them with <Directory> authentication. httpd resets the per-directory configuration before
 * map_to_storage, so translate_name (which still sees the <Location> merge) marks the
 * request. */
static const char virtual_endpoint;

int oas_mod_translate_name(request_rec *r)
{
    const oas_dir_conf_t *dc = ap_get_module_config(r->per_dir_config, &oauth_as_module);

    if (dc && dc->endpoint != OAS_EP_NONE && dc->endpoint != OAS_EP_AUTHORIZE &&
        dc->endpoint != OAS_EP_ACCOUNT)
        ap_set_module_config(r->request_config, &oauth_as_module, (void *)&virtual_endpoint);
    return DECLINED;
}

int oas_mod_map_to_storage(request_rec *r)
{
    return ap_get_module_config(r->request_config, &oauth_as_module) == &virtual_endpoint
               ? OK
               : DECLINED;
}

int oas_mod_handler(request_rec *r)
{
    int status;
    const oas_dir_conf_t *dc = ap_get_module_config(r->per_dir_config, &oauth_as_module);
    const oas_issuer_t *iss = oas_mod_issuer(r->server);

    if (!dc || dc->endpoint == OAS_EP_NONE)
        return DECLINED;
    if (dc->endpoint == OAS_EP_RESOURCE_METADATA) /* public, and of the resource's issuer */
        return oas_mod_resource_metadata(r, dc);
    if (dc->endpoint == OAS_EP_METRICS) /* the server's, protected by its <Location> */
        return oas_mod_metrics(r);
    if (!iss->issuer) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, OAS_LOGNO(00100)
                      "OAuthASEndpoint %s used in a server without OAuthASIssuer",
                      oas_endpoint_name(dc->endpoint));
        return HTTP_NOT_FOUND;
    }
    /* RFC 6749 §3.1, §3.2, RFC 9126 §2: the endpoints that carry credentials, codes, tokens or
     * user interaction are served only over TLS when the issuer is https (http issuers exist
     * only on loopback). A server without TLS that inherits the Location (a port-80 vhost)
     * must not process them. ap_http_scheme is "https" under mod_ssl, and behind a
     * TLS-terminating proxy when ServerName says https://. Metadata and JWKS are public. */
    if (dc->endpoint != OAS_EP_METADATA && dc->endpoint != OAS_EP_JWKS &&
        !strncasecmp(iss->issuer, "https:", 6) && strcasecmp(ap_http_scheme(r), "https")) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OAS_LOGNO(00101)
                      "%s endpoint requested without TLS: refused (403)",
                      oas_endpoint_name(dc->endpoint));
        if (dc->endpoint == OAS_EP_AUTHORIZE || dc->endpoint == OAS_EP_ACCOUNT ||
            dc->endpoint == OAS_EP_END_SESSION)
            return oas_mod_send_error_page(r, HTTP_FORBIDDEN, "HTTPS required",
                                           "This page is served over HTTPS only.");
        return oas_mod_send_oauth_error(r, HTTP_FORBIDDEN, "invalid_request",
                                        "TLS is required (RFC 6749 section 3.2)");
    }
    if ((status = oas_mod_cors(r, iss, dc->endpoint)) != DECLINED)
        return status; /* a preflight, answered */
    switch (dc->endpoint) {
    case OAS_EP_METADATA:
        return serve_document(r, iss->metadata_json);
    case OAS_EP_JWKS:
        return serve_document(r, iss->jwks_json);
    case OAS_EP_AUTHORIZE:
        return oas_mod_authorize(r, iss);
    case OAS_EP_TOKEN:
        return oas_mod_token(r, iss);
    case OAS_EP_PAR:
        return oas_mod_par(r, iss);
    case OAS_EP_USERINFO:
        return oas_mod_userinfo(r, iss);
    case OAS_EP_REVOKE:
        return oas_mod_revoke(r, iss);
    case OAS_EP_INTROSPECT:
        return oas_mod_introspect(r, iss);
    case OAS_EP_REGISTER:
        return oas_mod_register(r, iss);
    case OAS_EP_ACCOUNT:
        return oas_mod_account(r, iss);
    case OAS_EP_END_SESSION:
        return oas_mod_end_session(r, iss);
    default:
        return HTTP_NOT_FOUND;
    }
}
