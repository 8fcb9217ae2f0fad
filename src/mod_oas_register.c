/* mod_oauth_as: dynamic client registration (RFC 7591) and management (RFC 7592) at
 * OAuthASEndpoint register: its directives, and the glue of the endpoint (the core,
 * oas_registration.h, decides). <Location /register> also serves /register/<client_id>, the
 * registration_client_uri. */
#include <apr_strings.h>
#include <http_protocol.h>

#include "mod_oas_directives.h"
#include "mod_oas_endpoints.h"
#include "mod_oas_request.h"
#include "mod_oas_store.h"
#include "oas_clients.h"
#include "oas_jsonw.h"
#include "oas_reg_policy.h"
#include "oas_registration.h"
#include "oas_resource_server.h"

const char *oas_cmd_registration(cmd_parms *cmd, void *mconfig, const char *arg)
{
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER);
    oas_issuer_t *sc = oas_cmd_issuer(cmd);

    if (err)
        return err;
    if (!strcasecmp(arg, "Off"))
        sc->registration = OAS_REG_OFF;
    else if (!strcasecmp(arg, "Open"))
        sc->registration = OAS_REG_OPEN;
    else if (!strcasecmp(arg, "Token"))
        sc->registration = OAS_REG_TOKEN;
    else
        return apr_psprintf(cmd->pool, OAS_DIR_REGISTRATION ": '%s' is not Off, Open or Token",
                            arg);
    return NULL;
}

/* OAuthASRegistrationToken VALUE...: initial access tokens (RFC 7591 §3); short ones could be
 * guessed. OAuthASRegistrationAudience RESOURCE...: the resources dynamic clients may ask
 * for. */
const char *oas_cmd_registration_list(cmd_parms *cmd, void *mconfig, const char *arg)
{
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER);
    oas_issuer_t *sc = oas_cmd_issuer(cmd);
    int tokens = cmd->info != NULL;
    apr_array_header_t **list = tokens ? &sc->registration_tokens : &sc->registration_audiences;

    if (err)
        return err;
    if (tokens && (strlen(arg) < 16 || ap_strchr_c(arg, ' ')))
        return OAS_DIR_REGISTRATION_TOKEN ": a token needs at least 16 characters";
    if (!tokens && !ap_strchr_c(arg, ':'))
        return apr_psprintf(cmd->pool, OAS_DIR_REGISTRATION_AUDIENCE ": '%s' is not an "
                            "absolute URI", arg);
    if (!*list)
        *list = apr_array_make(cmd->pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(*list, const char *) = arg;
    return NULL;
}

/* OAuthASRegistrationDefaults KEY=VALUE...: what dynamic clients may get (the core parses
 * it, oas_reg_policy.h). */
const char *oas_cmd_registration_defaults(cmd_parms *cmd, void *mconfig, const char *args)
{
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER);

    return err ? err : oas_reg_defaults_parse(oas_cmd_issuer(cmd), cmd->pool, args);
}

/* An RFC 6750 §3 answer: 401 invalid_token with its challenge. */
static int send_invalid_token(request_rec *r, const oas_err_t *e)
{
    oas_jsonw_t w;
    const char *body;

    oas_mod_log_err(r, e);
    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   apr_psprintf(r->pool, "Bearer error=\"%s\"", e->error));
    oas_jsonw_init(&w, r->pool, 128);
    oas_jsonw_str(&w, "error", e->error);
    oas_jsonw_str(&w, "error_description", e->description);
    body = oas_jsonw_end(&w);
    return oas_mod_send_json(r, e->status, body ? body : "{}");
}

static int send_result(request_rec *r, const oas_err_t *e, int status, const char *json)
{
    if (e->error)
        return e->status == HTTP_UNAUTHORIZED ? send_invalid_token(r, e) : oas_mod_send_err(r, e);
    if (!json) { /* RFC 7592 §2.3: 204 */
        r->status = HTTP_NO_CONTENT;
        apr_table_setn(r->headers_out, "Cache-Control", "no-store");
        return OK;
    }
    return oas_mod_send_json(r, status, json);
}

static int read_json(char **pbody, apr_size_t *plen, request_rec *r, int *status)
{
    const char *perr;

    *status = oas_mod_read_json(pbody, plen, &perr, r, OAS_REG_MAX_BODY);
    if (*status == OK && !*pbody)
        *status = oas_mod_send_oauth_error(r, HTTP_BAD_REQUEST, "invalid_client_metadata", perr);
    return *status == OK && *pbody;
}

int oas_mod_register(request_rec *r, const oas_issuer_t *iss)
{
    const char *base = iss->endpoints[OAS_EP_REGISTER], *rest, *bearer, *json = NULL;
    apr_size_t n = base ? strlen(base) : 0, len = 0;
    oas_ctx_t *x;
    oas_err_t e;
    char *body = NULL;
    int status, op, scheme;

    if (oas_iss_registration(iss) == OAS_REG_OFF || !base || strncmp(r->uri, base, n))
        return HTTP_NOT_FOUND;
    rest = r->uri + n;
    bearer = oas_rs_credential(&scheme, apr_table_get(r->headers_in, "Authorization"));
    if (scheme != OAS_RS_BEARER)
        bearer = NULL;
    if (!*rest) { /* RFC 7591 §3: a registration */
        if ((status = oas_mod_check_method(r, 0, 1)) != OK)
            return status;
        if (!oas_reg_allowed(iss, bearer)) {
            oas_err(&e, r->pool, HTTP_UNAUTHORIZED, "invalid_token",
                    "registration needs an initial access token", OAS_LOG_INFO,
                    OAS_LOGNO(00600) "registration refused: %s initial access token",
                    bearer ? "a wrong" : "no");
            return send_invalid_token(r, &e);
        }
        if (!read_json(&body, &len, r, &status))
            return status;
        x = oas_mod_ctx(r, iss);
        oas_reg_create(&json, &e, x, body, len);
        return send_result(r, &e, HTTP_CREATED, json);
    }
    /* RFC 7592: /<client_id> */
    if (*rest != '/' || !rest[1] || ap_strchr_c(rest + 1, '/'))
        return HTTP_NOT_FOUND;
    switch (r->method_number) {
    case M_GET:
        op = OAS_REG_READ;
        break;
    case M_PUT:
        op = OAS_REG_UPDATE;
        if (!read_json(&body, &len, r, &status))
            return status;
        break;
    case M_DELETE:
        op = OAS_REG_DELETE;
        break;
    default:
        r->allowed = (AP_METHOD_BIT << M_GET) | (AP_METHOD_BIT << M_PUT) |
                     (AP_METHOD_BIT << M_DELETE);
        r->allowed_methods->method_mask = r->allowed;
        return HTTP_METHOD_NOT_ALLOWED;
    }
    x = oas_mod_ctx(r, iss);
    oas_reg_manage(&json, &e, x, op, rest + 1, bearer && *bearer ? bearer : NULL, body, len);
    return send_result(r, &e, HTTP_OK, json);
}
