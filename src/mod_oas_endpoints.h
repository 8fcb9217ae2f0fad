/* mod_oauth_as: the protocol endpoints (each in its own glue file). */
#ifndef MOD_OAS_ENDPOINTS_H
#define MOD_OAS_ENDPOINTS_H

#include "mod_oas_private.h"
#include "oas_conf.h"
#include "oas_err.h"

int oas_mod_authorize(request_rec *r, const oas_issuer_t *iss);
int oas_mod_token(request_rec *r, const oas_issuer_t *iss);
int oas_mod_par(request_rec *r, const oas_issuer_t *iss);
int oas_mod_userinfo(request_rec *r, const oas_issuer_t *iss);
int oas_mod_revoke(request_rec *r, const oas_issuer_t *iss);
int oas_mod_introspect(request_rec *r, const oas_issuer_t *iss);
int oas_mod_register(request_rec *r, const oas_issuer_t *iss);
int oas_mod_account(request_rec *r, const oas_issuer_t *iss);
int oas_mod_end_session(request_rec *r, const oas_issuer_t *iss);
int oas_mod_device(request_rec *r, const oas_issuer_t *iss);
int oas_mod_device_verify(request_rec *r, const oas_issuer_t *iss);

/* A user's page (what: "authorization", "device verification") reached without a signed-in
 * user: the site did not protect it. Logged (OAS00144), and a 403 page. */
int oas_mod_unprotected(request_rec *r, const char *what);

/* The user's claims, evaluated now from the OAuthASClaim expressions (a value that is not
 * UTF-8 text is left out, as JSON cannot carry it), as a JSON object text, or NULL. */
const char *oas_mod_eval_claims(request_rec *r, const oas_issuer_t *iss);

#endif
