/* mod_oauth_as: `OAuthASStore dbd` glue — mod_dbd's optional functions, statement
 * registration, table creation at child start, and the per-request store (STYLE.md C16). */
#ifndef MOD_OAS_DBD_H
#define MOD_OAS_DBD_H

#include "mod_oas_private.h"
#include "oas_store.h"

/** check_config, both passes: for every issuer with a dbd store, fetch mod_dbd's optional
 * functions (a missing mod_dbd or DBDriver fails `apache2 -t`) and register our statements
 * with ap_dbd_prepare (config time only, P16). @return number of faults logged */
int oas_mod_dbd_check_config(apr_pool_t *pconf, server_rec *s);

/** post_config, real pass only (parent): create the tables if missing, before any child. */
apr_status_t oas_mod_dbd_post_config(apr_pool_t *ptemp);

/** child_init, before mod_dbd's: create the tables if missing (mod_dbd prepares our
 * statements on every new connection, and a prepare fails on a missing table). */
void oas_mod_dbd_child_init(apr_pool_t *pchild, server_rec *s);

/** The database store for this request, on a connection of mod_dbd's pool (released with
 * r->pool, P9). NULL when no connection can be had: logged here, the caller answers 503. */
oas_store_t *oas_mod_dbd_store(request_rec *r);

/** server-status (mod_status's hook, flags AP_STATUS_*): the database stores' counters,
 * summed over every process of this httpd: OAuthASDbdStatements (statements run, each one
 * round trip), evictions of best-effort rows and the 429s counted by oas_store_note(). */
void oas_mod_dbd_status(request_rec *r, int flags);

#endif
