/* mod_oauth_as: back- and front-channel logout of an ended session (oas_logout_notify.h). */
#include "oas_logout_notify.h"
#include "oas_clients.h"
#include "oas_logout_queue.h"
#include "oas_logout_token.h"

apr_status_t oas_logout_notify(apr_array_header_t **front, oas_ctx_t *x, const oas_session_t *s)
{
    oas_logout_queue_t *q = oas_logout_queue_get();
    apr_array_header_t *back;
    const oas_client_t *c;
    oas_logout_rp_t *b;
    int i;

    *front = apr_array_make(x->p, 2, sizeof(const char *));
    if (!s || !s->rps)
        return APR_SUCCESS;
    back = apr_array_make(x->p, s->rps->nelts, sizeof(oas_logout_rp_t));
    for (i = 0; i < s->rps->nelts; i++) {
        const oas_session_rp_t *rp = &APR_ARRAY_IDX(s->rps, i, oas_session_rp_t);

        /* the client as it is now: one deleted or changed since it signed the user in gets
         * what its current registration asks for */
        if (!rp->client_id || !(c = oas_ctx_client(x, rp->client_id)))
            continue;
        if (c->frontchannel_logout_uri)
            APR_ARRAY_PUSH(*front, const char *) =
                oas_frontchannel_url(x->p, x->iss, c->frontchannel_logout_uri, s->sid);
        if (c->backchannel_logout_uri) {
            b = apr_array_push(back);
            b->client_id = c->id;
            b->sub = rp->sub;
            b->uri = c->backchannel_logout_uri;
            b->rv = APR_ENOTIMPL;
        }
    }
    if (q && back->nelts)
        oas_logout_queue_add(q, x->iss, s->sid, (oas_logout_rp_t *)back->elts, back->nelts, x->now);
    for (i = 0; i < back->nelts; i++) {
        b = &APR_ARRAY_IDX(back, i, oas_logout_rp_t);
        if (b->rv != APR_SUCCESS)
            OAS_CTX_LOG(x, OAS_LOG_ERR, b->rv,
                        OAS_LOGNO(07007) "back-channel logout of client %s not queued (%s)",
                        b->client_id,
                        b->rv == APR_ENOSPC     ? "too many deliveries pending in this process"
                        : b->rv == APR_ENOTIMPL ? "no delivery thread in this process"
                                                : "the process is stopping");
        else
            OAS_CTX_LOG(x, OAS_LOG_INFO, 0,
                        OAS_LOGNO(07008) "back-channel logout of client %s queued", b->client_id);
    }
    return APR_SUCCESS;
}
