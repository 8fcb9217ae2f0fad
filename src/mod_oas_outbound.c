/* mod_oauth_as: outbound https calls, the glue: the two server-wide directives
 * (OAuthASCACertificateFile, OAuthASOutboundAllow), libcurl's global start, the fetch
 * function the core's jwks_uri cache calls (src/oas_fetch.c, src/oas_jwks_cache.c) and each
 * child's back-channel logout thread (src/oas_logout_queue.c). */
#include "mod_oas_private.h"

#include <apr_lib.h>
#include <apr_strings.h>

#include "mod_oas_config.h"
#include "mod_oas_directives.h"
#include "mod_oas_outbound.h"
#include "oas_clients.h"
#include "oas_fetch.h"
#include "oas_jwks_cache.h"
#include "oas_logout_queue.h"

const char *oas_cmd_ca_file(cmd_parms *cmd, void *mconfig, const char *arg)
{
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER);
    const char *path;
    apr_finfo_t fi;

    if (err)
        return err;
    path = ap_server_root_relative(cmd->pool, arg);
    if (!path || apr_stat(&fi, path, APR_FINFO_TYPE, cmd->temp_pool) != APR_SUCCESS ||
        fi.filetype != APR_REG) {
        return apr_psprintf(cmd->pool, OAS_DIR_CA_FILE ": cannot read the file '%s'", arg);
    }
    oas_cmd_issuer(cmd)->ca_file = path;
    return NULL;
}

const char *oas_cmd_outbound_allow(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_issuer_t *sc = oas_cmd_issuer(cmd);
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER);
    const char *c, *inner, *colon;
    apr_size_t n;

    if (err)
        return err;
    /* a host name or an address as it stands in a URL (no scheme, port, path or user): an
     * IPv6 address bracketed or bare, never host:port */
    n = strlen(arg);
    inner = arg;
    if (n > 2 && arg[0] == '[' && arg[n - 1] == ']') {
        inner = apr_pstrndup(cmd->temp_pool, arg + 1, n - 2);
        if (!strchr(inner, ':'))
            inner = "";
    }
    for (c = inner; *c; c++) {
        if (!apr_isalnum(*c) && !strchr(".-_:", *c))
            break;
    }
    colon = strchr(inner, ':');
    if (!*inner || *c || (colon && !strchr(colon + 1, ':')))
        return apr_psprintf(cmd->pool,
                            OAS_DIR_OUTBOUND_ALLOW ": '%s' is not a host name or address", arg);
    if (!sc->outbound_allow)
        sc->outbound_allow = apr_array_make(cmd->pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(sc->outbound_allow, const char *) = arg;
    return NULL;
}

/* OAuthASClientMetadataDocuments On|Off (server-only): an https client_id is a URL we fetch */
const char *oas_cmd_cimd(cmd_parms *cmd, void *mconfig, const char *arg)
{
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER);

    return err ? err : oas_cmd_parse_flag(cmd, arg, &oas_cmd_issuer(cmd)->cimd);
}

apr_status_t oas_mod_outbound_post_config(apr_pool_t *pconf, server_rec *s)
{
    static int started;

    /* libcurl's global state is set up once per process, before the children exist: it is
     * not thread-safe and survives restarts (like OpenSSL's) */
    if (!started) {
        if (oas_fetch_global_init() != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                         OAS_LOGNO(00320) "libcurl cannot start: no outbound https calls");
            return APR_EGENERAL;
        }
        started = 1;
    }
    oas_jwks_cache_set_fetch(oas_fetch_json, OAS_FETCH_TIMEOUT_MS);
    return APR_SUCCESS;
}

/* 1 when some issuer may have a client with a back-channel logout URI: a configured one, or
 * any once registration is on */
static int backchannel_logout_used(server_rec *s)
{
    apr_hash_index_t *hi;

    for (; s; s = s->next) {
        const oas_issuer_t *iss = oas_mod_issuer(s);
        if (!iss->issuer)
            continue;
        if (oas_iss_registration(iss) != OAS_REG_OFF)
            return 1;
        for (hi = iss->clients ? apr_hash_first(NULL, iss->clients) : NULL; hi;
             hi = apr_hash_next(hi)) {
            const oas_client_t *c = apr_hash_this_val(hi);
            if (c->backchannel_logout_uri)
                return 1;
        }
    }
    return 0;
}

void oas_mod_outbound_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    /* the back-channel logout thread of this child: it stops (at once) when pchild goes */
    if (backchannel_logout_used(s) && (rv = oas_logout_queue_start(pchild)) != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     OAS_LOGNO(00670) "cannot start the back-channel logout thread: logout "
                                      "tokens are not delivered by this process");
    rv = oas_jwks_cache_child_init(pchild);

    if (rv != APR_SUCCESS) {
        ap_log_error(
            APLOG_MARK, APLOG_ERR, rv, s,
            OAS_LOGNO(00321) "cannot set up the per-process cache of fetched client keys (each "
                             "request parses them)");
    }
}
