/* mod_oauth_as: the core's log lines go through httpd's log (src/mod_oas_log.c). */
#ifndef MOD_OAS_LOG_H
#define MOD_OAS_LOG_H

/* Installs the bridge; called from register_hooks, before any configuration is read. */
void oas_mod_log_init(void);

#endif
