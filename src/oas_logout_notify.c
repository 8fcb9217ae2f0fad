/* mod_oauth_as: back- and front-channel logout of an ended session (oas_logout_notify.h).
 * Stub: nothing is delivered yet, no front-channel URL is returned. */
#include "oas_logout_notify.h"

apr_status_t oas_logout_notify(apr_array_header_t **front, oas_ctx_t *x, const oas_session_t *s)
{
    (void)s;
    *front = apr_array_make(x->p, 0, sizeof(const char *));
    return APR_SUCCESS;
}
