/* mod_oauth_as: remembered consents and consent transactions (oas_consent_txn.h). A
 * transaction is one record in the short-lived store: {"u": user, "csrf": token, "g":
 * grant, "st": state, "par": request_uri, "jm": 1 when the response is a JWT}. */
#include <stdlib.h>

#include <apr_strings.h>

#include "oas_account.h"
#include "oas_clients.h"
#include "oas_authz.h"
#include "oas_consent_txn.h"
#include "oas_jsonr.h"
#include "oas_jsonw.h"
#include "oas_throttle.h"
#include "oas_util.h"

const char *oas_consent_key(apr_pool_t *p, const char *user, const char *client_id,
                            const char *scope, const char *resource)
{
    apr_array_header_t *s = oas_scope_split(p, scope);

    qsort(s->elts, s->nelts, sizeof(const char *), oas_cmp_strp);
    return apr_pstrcat(p, user, "\n", client_id, "\n", apr_array_pstrcat(p, s, ' '), "\n",
                       resource ? resource : "", NULL);
}

int oas_consent_remembered(oas_ctx_t *x, const char *key)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_LONG);
    char *v;
    apr_size_t n;

    return st && oas_store_get(st, x->p, OAS_NS_CONSENT, key, &v, &n) == APR_SUCCESS;
}

int oas_consent_needed(oas_ctx_t *x, const oas_authz_req_t *req)
{
    return req->client->consent &&
           (req->prompt_consent ||
            !oas_consent_remembered(
                x, oas_consent_key(x->p, x->user, req->client->id, req->scope, req->resource)));
}

void oas_consent_remember(oas_ctx_t *x, const oas_client_t *c, const char *key,
                          const char *scope)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_LONG);
    apr_time_t exp = apr_time_now() + apr_time_from_sec(oas_client_rt_ttl(x->iss, c));
    apr_status_t rv;

    if (oas_account_on(x->iss) &&
        (rv = oas_account_note(x, x->user, c->id, scope, OAS_ACCOUNT_CONSENT, key,
                               apr_time_sec(exp))) != APR_SUCCESS) {
        OAS_CTX_LOG(x, OAS_LOG_WARNING, rv,
                    OAS_LOGNO(07056) "the consent of %s for client %s is not remembered: the "
                                     "account record cannot list it",
                    x->user, c->id);
        return;
    }
    if (!st || oas_store_put(st, x->p, OAS_NS_CONSENT, key, "1", 1, exp) != APR_SUCCESS)
        OAS_CTX_LOG(x, OAS_LOG_WARNING, 0,
                    OAS_LOGNO(00143) "could not remember the consent of %s for client %s", x->user,
                    c->id);
}

apr_status_t oas_consent_txn_start(oas_consent_txn_t *t, oas_ctx_t *x, oas_err_t *e,
                                   const oas_pending_t *pd)
{
    const char *grant, *rec = NULL;
    oas_jsonw_t o;
    apr_status_t rv;

    t->txn = t->csrf = NULL;
    if (!oas_ctx_store(x, OAS_CTX_SHORT))
        return oas_store_refused(x, e, APR_ENOTIMPL, "starting a consent");
    if ((rv = oas_random_token(&t->csrf, x->p, OAS_TOKEN_BYTES)) == APR_SUCCESS &&
        (rv = oas_grant_to_json(&grant, x->p, pd->grant)) == APR_SUCCESS) {
        oas_jsonw_init(&o, x->p, 1024);
        oas_jsonw_str(&o, "u", x->user);
        oas_jsonw_str(&o, "csrf", t->csrf);
        oas_jsonw_raw(&o, "g", grant);
        oas_jsonw_str_keep_empty(&o, "st", pd->state);
        oas_jsonw_str(&o, "par", pd->request_uri);
        if (pd->jarm)
            oas_jsonw_int(&o, "jm", 1);
        rec = oas_jsonw_end(&o);
    }
    if (!rec) {
        OAS_ERR_SET(e, 500, "server_error", "the consent could not be started");
        e->rv = rv;
        return rv != APR_SUCCESS ? rv : APR_EGENERAL;
    }
    if ((rv = oas_authz_record_fits(e, rec)) != APR_SUCCESS)
        return rv;
    return oas_authz_keep(&t->txn, x, e, OAS_NS_TXN, rec, oas_iss_consent_ttl(x->iss),
                          "starting a consent");
}

int oas_consent_same_site(const char *origin, const char *site, const char *our_origin)
{
    /* Our pages send Referrer-Policy: no-referrer, under which browsers serialize the Origin
     * of the page's own form POST as "null" (Fetch: "serializing a request origin"); Chromium
     * adds Sec-Fetch-Site: same-origin, which no page can forge.  So "null" passes only with
     * that; any other Origin must be our own. */
    if (site && !strcmp(site, "cross-site"))
        return 0;
    if (!origin)
        return 1;
    if (!strcmp(origin, "null") && site && !strcmp(site, "same-origin"))
        return 1;
    return !strcmp(origin, our_origin);
}

/* A refusal shown as a page (the consent form is ours, there is no client to redirect to). */
static apr_status_t page(oas_err_t *e, int status, const char *error, const char *desc)
{
    OAS_ERR_SET(e, status, error, desc);
    e->page = 1;
    return APR_EINVAL;
}

apr_status_t oas_decision_read(char **pval, apr_size_t *plen, oas_ctx_t *x, oas_err_t *e,
                               const oas_consent_form_t *f, const char *what)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_SHORT);
    apr_status_t rv;

    if (!oas_consent_same_site(f->origin, f->site, f->our_origin)) {
        oas_err(e, x->p, 403, "access_denied",
                apr_psprintf(x->p, "The %s form was submitted from another site.", what),
                OAS_LOG_INFO,
                OAS_LOGNO(03003) "%s form of user %s refused: posted from another site "
                                 "(Origin %s, Sec-Fetch-Site %s)",
                what, x->user ? x->user : "-", f->origin ? f->origin : "-",
                f->site ? f->site : "-");
        e->page = 1;
        return APR_EINVAL;
    }
    if (!f->txn || !f->csrf || !f->decision)
        return page(e, 403, "access_denied",
                    apr_psprintf(x->p, "The %s form is incomplete (missing CSRF token or "
                                       "decision).", what));
    rv = st ? oas_store_get(st, x->p, OAS_NS_TXN, f->txn, pval, plen) : APR_ENOTIMPL;
    if (rv == APR_NOTFOUND)
        return page(e, 400, OAS_AUTHZ_GONE,
                    apr_psprintf(x->p, "This %s request has expired or was already answered. "
                                       "Please start again from the application.", what));
    if (rv != APR_SUCCESS)
        return oas_store_refused(x, e, rv, apr_pstrcat(x->p, "reading a ", what, NULL));
    return APR_SUCCESS;
}

apr_status_t oas_decision_take(oas_ctx_t *x, oas_err_t *e, const oas_consent_form_t *f,
                               const char *what)
{
    apr_status_t rv;

    if (strcmp(f->decision, "allow") && strcmp(f->decision, "deny"))
        return page(e, 400, "invalid_request", "Unknown decision.");
    rv = oas_store_take(oas_ctx_store(x, OAS_CTX_SHORT), x->p, OAS_NS_TXN, f->txn, NULL, NULL);
    if (rv == APR_NOTFOUND)
        return page(e, 400, OAS_AUTHZ_GONE,
                    apr_psprintf(x->p, "This %s request was already answered.", what));
    if (rv != APR_SUCCESS)
        return oas_store_refused(x, e, rv, apr_pstrcat(x->p, "taking a ", what, NULL));
    return APR_SUCCESS;
}

apr_status_t oas_consent_decide(oas_pending_t *pd, oas_ctx_t *x, oas_err_t *e,
                                const oas_consent_form_t *f)
{
    const oas_client_t *c;
    const char *gj, *u, *csrf;
    char *val;
    apr_size_t len;
    oas_jobj_t o;
    apr_status_t rv;

    memset(pd, 0, sizeof(*pd));
    if ((rv = oas_decision_read(&val, &len, x, e, f, "consent")) != APR_SUCCESS)
        return rv;
    if (oas_jsonr_parse(&o, x->p, val, len) != APR_SUCCESS || !(u = oas_jobj_str(&o, "u")) ||
        !x->user || strcmp(u, x->user) ||
        !oas_secure_streq(f->csrf, (csrf = oas_jobj_str(&o, "csrf")) ? csrf : "")) {
        oas_err(e, x->p, 403, "access_denied",
                "The consent form does not belong to this user or session.", OAS_LOG_INFO,
                OAS_LOGNO(03004) "consent form refused: the transaction is not user %s's or "
                                 "the CSRF token is wrong",
                x->user ? x->user : "-");
        e->page = 1;
        return APR_EINVAL;
    }
    gj = oas_jobj_object(&o, "g");
    if (!gj || (rv = oas_grant_from_json(&pd->grant, x->p, gj, strlen(gj))) != APR_SUCCESS) {
        OAS_ERR_SET(e, 500, "server_error", "the consent record is unreadable");
        e->rv = rv;
        return APR_EGENERAL;
    }
    pd->state = oas_jobj_str(&o, "st");
    pd->request_uri = oas_jobj_str(&o, "par");
    pd->jarm = oas_jobj_int(&o, "jm", 0) == 1;
    if ((rv = oas_decision_take(x, e, f, "consent")) != APR_SUCCESS)
        return rv;
    if (!strcmp(f->decision, "deny")) {
        OAS_ERR_SET(e, 400, "access_denied", "the user denied the request");
        return APR_EINVAL;
    }
    if (!(c = oas_ctx_client(x, pd->grant->client_id)))
        return page(e, 400, "invalid_request", "Unknown client.");
    oas_consent_remember(
        x, c, oas_consent_key(x->p, x->user, c->id, pd->grant->scope, pd->grant->resource),
        pd->grant->scope);
    return APR_SUCCESS;
}
