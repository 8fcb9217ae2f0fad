/* mod_oauth_as: an OAuth 2.0 / OpenID Connect Authorization Server inside Apache httpd.
 * This file is glue only: the module record, hook registration and the lifecycle.
 * Configuration is in src/mod_oas_config.c (create, merge, checks, start-up) with the
 * directives in src/mod_oas_directives.c and src/mod_oas_blocks.c, endpoints in
 * src/mod_oas_*.c, protocol logic in src/oas_*.c. */
#define OAS_MODULE_FILE
#include "mod_oas_private.h"

#include <ap_mpm.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_status.h>

#include "mod_oas_config.h"
#include "mod_oas_dbd.h"
#include "mod_oas_handlers.h"
#include "mod_oas_log.h"
#include "mod_oas_metrics.h"
#include "mod_oas_mtls.h"
#include "mod_oas_outbound.h"
#include "mod_oas_resource.h"
#include "mod_oas_shm.h"
#include "mod_oas_status.h"
#include "mod_oas_tally.h"
#include "oas_client_auth.h"
#include "oas_clients.h"

static int oas_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    apr_status_t rv = oas_mod_shm_pre_config(pconf);

    if (rv != APR_SUCCESS) {
        ap_log_perror(APLOG_MARK, APLOG_CRIT, rv, plog, OAS_LOGNO(00001)
                      "cannot register mutex type %s", OAS_MUTEX_TYPE);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* Runs for `apache2 -t` as well as at start-up: whole-configuration faults fail here. */
static int oas_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                            server_rec *s)
{
    int bad = oas_mod_config_check(s, ptemp);

    bad |= oas_mod_resource_check(s, ptemp);
    bad |= oas_mod_dbd_check_config(pconf, s);
    if (ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_CONFIG_TEST)
        oas_mod_mtls_check_aliases(s, ptemp, 0); /* at start-up: post_config, to the log */
    return bad ? HTTP_INTERNAL_SERVER_ERROR : OK;
}

static int oas_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    server_rec *vs;
    int setting = 0;
    apr_status_t rv;

    /* 1. documents and templates, on every pass so a fault shows at the first */
    if (oas_mod_config_prepare(s, pconf) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    oas_mod_resource_post_config(pconf, s);
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG)
        return OK; /* dry run: create nothing */

    /* 2. one shared-memory store for all issuers of this httpd, sized by the largest */
    for (vs = s; vs; vs = vs->next) {
        const oas_issuer_t *iss = oas_mod_issuer(vs);
        if (iss->issuer &&
            (!setting || oas_mod_shm_bytes(oas_iss_store_size(iss)) > oas_mod_shm_bytes(setting)))
            setting = oas_iss_store_size(iss);
    }
    if (setting && ((rv = oas_mod_shm_post_config(s, pconf, setting)) != APR_SUCCESS ||
                    (rv = oas_mod_tally_post_config(
                         s, pconf, oas_mod_tally_bytes(oas_mod_shm_bytes(setting)))) !=
                        APR_SUCCESS)) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, OAS_LOGNO(00002)
                     "cannot create the shared-memory store");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* 3. the metrics counters: one small segment, whether or not an issuer is configured */
    if ((rv = oas_mod_metrics_post_config(s)) != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, OAS_LOGNO(00753)
                     "metrics unavailable: the counters' segment could not be made");
    oas_mod_mtls_check_aliases(s, ptemp, 1); /* 4. warnings only */
    oas_mod_dbd_post_config(ptemp); /* 5. database tables; failures logged, not fatal */
    if (oas_mod_outbound_post_config(pconf, s) != APR_SUCCESS) /* 6. libcurl */
        return HTTP_INTERNAL_SERVER_ERROR;
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, OAS_LOGNO(00003) "mod_oauth_as %s ready",
                 OAS_VERSION);
    return OK;
}

static void oas_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv = oas_mod_shm_child_init(pchild, s);

    if (rv == APR_SUCCESS)
        rv = oas_mod_tally_child_init(pchild, s);

    oas_client_auth_init(pchild);
    oas_mod_outbound_child_init(pchild, s);
    if (oas_clients_child_init(pchild) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, OAS_LOGNO(06901)
                     "no cache of parsed dynamic clients in this child (no mutex): every "
                     "request parses the registered client's record or metadata document");
    }

    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, OAS_LOGNO(00004)
                     "cannot attach the shared-memory store in this child");
    }
}

static void oas_register_hooks(apr_pool_t *p)
{
    /* the tables must exist before mod_dbd prepares our statements on its first connection */
    static const char *const before_dbd[] = {"mod_dbd.c", NULL};

    oas_mod_log_init(); /* the core logs through httpd from here on */

    ap_hook_optional_fn_retrieve(oas_mod_mtls_retrieve, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_config(oas_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(oas_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(oas_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(oas_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(oas_mod_dbd_child_init, NULL, before_dbd, APR_HOOK_MIDDLE);
    ap_hook_translate_name(oas_mod_translate_name, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_map_to_storage(oas_mod_map_to_storage, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_handler(oas_mod_handler, NULL, NULL, APR_HOOK_MIDDLE);
    oas_mod_resource_register(p);
    oas_mod_metrics_register(p);
    /* server-status shows the store's occupancy when mod_status is loaded */
    APR_OPTIONAL_HOOK(ap, status_hook, oas_mod_status_hook, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(oauth_as) = {
    STANDARD20_MODULE_STUFF,
    oas_mod_config_create_dir,
    oas_mod_config_merge_dir,
    oas_mod_config_create_server,
    oas_mod_config_merge_server,
    oas_mod_cmds,
    oas_register_hooks,
    AP_MODULE_FLAG_NONE,
};
