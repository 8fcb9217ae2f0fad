/* mod_oauth_as: store selection and store-failure responses. */
#include "mod_oas_dbd.h"
#include "mod_oas_request.h"
#include "mod_oas_shm.h"
#include "mod_oas_store.h"

oas_store_t *oas_mod_store_short(request_rec *r, const oas_issuer_t *iss)
{
    return iss->store_short == OAS_STORE_DBD ? oas_mod_dbd_store(r) : oas_mod_shm_store();
}

oas_store_t *oas_mod_store_long(request_rec *r, const oas_issuer_t *iss)
{
    return iss->store_long == OAS_STORE_DBD ? oas_mod_dbd_store(r) : oas_mod_shm_store();
}

int oas_mod_store_failure(request_rec *r, apr_status_t rv, const char *what, int json)
{
    int full = APR_STATUS_IS_ENOSPC(rv);

    ap_log_rerror(APLOG_MARK, full ? APLOG_WARNING : APLOG_ERR, rv, r, OAS_LOGNO(00120)
                  "store %s while %s", full ? "full" : "failure", what);
    apr_table_setn(r->err_headers_out, "Retry-After", "5");
    if (json)
        return oas_mod_send_oauth_error(r, HTTP_SERVICE_UNAVAILABLE, "temporarily_unavailable",
                                        "the server is busy, try again later");
    return oas_mod_send_error_page(r, HTTP_SERVICE_UNAVAILABLE, "Temporarily unavailable",
                                   "The server is busy. Please try again in a moment.");
}
