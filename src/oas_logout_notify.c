/* mod_oauth_as: back- and front-channel logout of an ended session (oas_logout_notify.h). */
#include "oas_clients.h"
#include "oas_logout_notify.h"
#include "oas_logout_queue.h"
#include "oas_logout_token.h"

apr_status_t oas_logout_notify(apr_array_header_t **front, oas_ctx_t *x, const oas_session_t *s)
{
    oas_logout_queue_t *q = oas_logout_queue_get();
    const oas_client_t *c;
    apr_status_t rv;
    int i;

    *front = apr_array_make(x->p, 2, sizeof(const char *));
    for (i = 0; s && s->rps && i < s->rps->nelts; i++) {
        const oas_session_rp_t *rp = &APR_ARRAY_IDX(s->rps, i, oas_session_rp_t);

        /* the client as it is now: one deleted or changed since it signed the user in gets
         * what its current registration asks for */
        if (!rp->client_id || !(c = oas_ctx_client(x, rp->client_id)))
            continue;
        if (c->frontchannel_logout_uri)
            APR_ARRAY_PUSH(*front, const char *) =
                oas_frontchannel_url(x->p, x->iss, c->frontchannel_logout_uri, s->sid);
        if (!c->backchannel_logout_uri)
            continue;
        rv = q ? oas_logout_queue_add(q, x->iss, c->id, rp->sub, s->sid,
                                      c->backchannel_logout_uri, x->now)
               : APR_ENOTIMPL;
        if (rv != APR_SUCCESS)
            OAS_CTX_LOG(x, OAS_LOG_ERR, rv,
                        OAS_LOGNO(07007) "back-channel logout of client %s not queued (%s)",
                        c->id,
                        rv == APR_ENOSPC ? "too many deliveries pending in this process"
                                         : "no delivery thread in this process");
        else
            OAS_CTX_LOG(x, OAS_LOG_INFO, 0,
                        OAS_LOGNO(07008) "back-channel logout of client %s queued", c->id);
    }
    return APR_SUCCESS;
}
