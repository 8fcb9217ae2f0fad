/* mod_oauth_as: the protocol endpoints (each in its own glue file). */
#ifndef MOD_OAS_ENDPOINTS_H
#define MOD_OAS_ENDPOINTS_H

#include "mod_oas_private.h"
#include "oas_conf.h"

int oas_mod_authorize(request_rec *r, const oas_issuer_t *iss);
int oas_mod_token(request_rec *r, const oas_issuer_t *iss);
int oas_mod_par(request_rec *r, const oas_issuer_t *iss);
int oas_mod_userinfo(request_rec *r, const oas_issuer_t *iss);
int oas_mod_revoke(request_rec *r, const oas_issuer_t *iss);
int oas_mod_introspect(request_rec *r, const oas_issuer_t *iss);
int oas_mod_register(request_rec *r, const oas_issuer_t *iss);
int oas_mod_account(request_rec *r, const oas_issuer_t *iss);
int oas_mod_end_session(request_rec *r, const oas_issuer_t *iss);

#endif
