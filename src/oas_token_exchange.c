/* mod_oauth_as: token exchange (oas_token_exchange.h). */
#include <apr_strings.h>

#include "oas_authz.h"
#include "oas_directives.h"
#include "oas_issue.h"
#include "oas_jose.h"
#include "oas_json.h"
#include "oas_liveness.h"
#include "oas_mtls.h"
#include "oas_resource_server.h"
#include "oas_token_exchange.h"
#include "oas_util.h"

int oas_exchange_allowed(const oas_client_t *c, const char *subject_client, const char *audience)
{
    int i, named = 0;

    for (i = 0; c->exchange && i < c->exchange->nelts; i++) {
        const oas_exchange_rule_t *r = APR_ARRAY_IDX(c->exchange, i, const oas_exchange_rule_t *);
        if (strcmp(r->subject, "*") && (!subject_client || strcmp(r->subject, subject_client)))
            continue;
        named = 1;
        if (audience && oas_list_has(r->audiences, audience))
            return OAS_XCHG_OK;
    }
    return named ? OAS_XCHG_AUDIENCE : OAS_XCHG_SUBJECT;
}

/* scopes only a user's own client gets: an exchanged token is an access token alone */
static int never_exchanged(const char *s)
{
    return !strcmp(s, "openid") || !strcmp(s, "offline_access");
}

apr_status_t oas_exchange_scope(const char **pscope, const char **pbad, apr_pool_t *p,
                                const char *have, const char *want, const oas_resource_t *res)
{
    apr_array_header_t *h = oas_scope_split(p, have);
    apr_array_header_t *w = want ? oas_scope_split(p, want) : h;
    apr_array_header_t *out = apr_array_make(p, w->nelts, sizeof(const char *));
    const apr_array_header_t *allowed = res ? res->scopes : NULL;
    int i;

    *pbad = NULL;
    for (i = 0; i < w->nelts; i++) {
        const char *s = APR_ARRAY_IDX(w, i, const char *);
        int ok =
            oas_list_has(h, s) && !never_exchanged(s) && (!allowed || oas_list_has(allowed, s));
        if (!ok && want) {
            *pbad = s;
            return APR_EINVAL;
        }
        if (ok && !oas_list_has(out, s))
            APR_ARRAY_PUSH(out, const char *) = s;
    }
    *pscope = apr_array_pstrcat(p, out, ' ');
    return APR_SUCCESS;
}

const char *oas_exchange_act(apr_pool_t *p, const char *actor_sub, const json_t *prior)
{
    json_t *act = oas_json_adopt(p, json_object());
    const json_t *a;
    int depth = 1;

    if (!act || !actor_sub || (prior && !json_is_object(prior)))
        return NULL;
    for (a = prior; a; a = json_object_get(a, "act")) {
        if (!json_is_object(a) || ++depth > OAS_EXCHANGE_MAX_ACT)
            return NULL;
    }
    if (json_object_set_new(act, "sub", json_string(actor_sub)) ||
        (prior && json_object_set_new(act, "act", json_deep_copy(prior))))
        return NULL;
    return oas_json_dumps(p, act, 0);
}

int oas_exchange_may_act(const json_t *subject, const char *actor)
{
    const json_t *may = json_object_get(subject, "may_act");
    const char *sub;

    if (!may)
        return 1;
    sub = oas_json_str(may, "sub");
    return sub && actor && !strcmp(sub, actor);
}

/* ---- the tokens presented ---- */

typedef struct xtoken_t {
    json_t *claims;
    const char *client; /* the client it was issued to */
    const char *kind;   /* "an access token" or "an ID token", for the log */
} xtoken_t;

/* An ID token of this issuer (OIDC Core §2): our signature, not an access token's typ, iss,
 * exp, sub, aud a client (a string: we issue no other). Our ID tokens carry no jti: there is
 * no revocation to ask; they live minutes (OAuthASIDTokenLifetime). */
static const char *id_token(json_t **pc, apr_pool_t *p, const oas_issuer_t *iss, const char *jwt,
                            apr_int64_t now)
{
    const char *payload, *header, *typ, *i;
    json_t *h, *c;

    if (oas_jws_verify(&payload, &header, p, jwt, iss->keys) != APR_SUCCESS ||
        oas_json_parse(&h, p, header, strlen(header)) != APR_SUCCESS ||
        oas_json_parse(&c, p, payload, strlen(payload)) != APR_SUCCESS)
        return "not signed by this issuer";
    if ((typ = oas_json_str(h, "typ")) && strcasecmp(typ, "JWT"))
        return "not an ID token (typ)";
    if (!(i = oas_json_str(c, "iss")) || strcmp(i, iss->issuer))
        return "not of this issuer";
    if (oas_json_int(c, "exp", 0) <= now)
        return "expired";
    if (!oas_json_str(c, "sub") || !oas_json_str(c, "aud"))
        return "no sub or aud";
    *pc = c;
    return NULL;
}

/* The token tok of type (a token type URI) when it is acceptable: a live token of this
 * issuer; NULL with *t set, else why not (for the log). */
static const char *read_token(xtoken_t *t, oas_ctx_t *x, const char *tok, const char *type)
{
    const char *why = NULL, *aud, *name;

    memset(t, 0, sizeof(*t));
    if (strncmp(type, OAS_TOKEN_TYPE_PREFIX, sizeof(OAS_TOKEN_TYPE_PREFIX) - 1))
        return "an unknown token type";
    name = type + sizeof(OAS_TOKEN_TYPE_PREFIX) - 1;
    if (strlen(tok) > OAS_RS_MAX_TOKEN)
        return "longer than any token we issue";
    /* jwt: either of ours, told apart by typ (RFC 9068 §4) */
    if (!strcmp(name, "access_token") ||
        (!strcmp(name, "jwt") && oas_live_access(&t->claims, NULL, &why, x, tok) == APR_SUCCESS)) {
        if (!t->claims && oas_live_access(&t->claims, NULL, &why, x, tok) != APR_SUCCESS)
            return why;
        aud = oas_json_str(t->claims, "aud");
        if (!aud || (strcmp(aud, x->iss->issuer) && !oas_issuer_resource(x->iss, aud)))
            return "not for an audience of this issuer";
        if (oas_json_int(t->claims, "nbf", 0) > x->now)
            return "not valid yet (nbf)";
        t->client = oas_json_str(t->claims, "client_id");
        t->kind = "an access token";
    }
    else if (!strcmp(name, "id_token") || !strcmp(name, "jwt")) {
        const char *not_id = id_token(&t->claims, x->p, x->iss, tok, x->now);
        if (not_id) /* a jwt that is neither: an access token's reason tells more */
            return why && !strcmp(not_id, "not an ID token (typ)") ? why : not_id;
        t->client = oas_json_str(t->claims, "aud");
        t->kind = "an ID token";
    }
    else
        return "a token type not exchanged here (access_token, id_token or jwt)";
    if (!t->client)
        return "issued to no client";
    return NULL;
}

/* A bound token is exchanged only by its holder: the caller proves the same DPoP key (RFC
 * 9449 §6.1) or presents the same certificate (RFC 8705 §3.1). NULL, or why not. */
static const char *holder(oas_ctx_t *x, const json_t *c)
{
    const char *jkt = oas_json_str(json_object_get(c, "cnf"), "jkt");
    const char *x5t = oas_mtls_token_x5t(c);

    if (jkt && (!x->dpop_jkt || !oas_secure_streq(jkt, x->dpop_jkt)))
        return "DPoP-bound and the request's proof is not of its key";
    if (x5t && (!x->cert || !oas_secure_streq(x5t, x->cert->x5t)))
        return "certificate-bound and the connection's certificate is not its own";
    return NULL;
}

static apr_status_t refuse(oas_err_t *e, oas_ctx_t *x, const oas_client_t *c, const char *error,
                           const char *desc, const char *why)
{
    return oas_err(e, x->p, 400, error, desc, OAS_LOG_INFO,
                   OAS_LOGNO(07152) "token exchange by client %s refused: %s", c->id, why);
}

/* RFC 8693 §2.1: the parameters that must come, and come in pairs */
static apr_status_t check_params(oas_err_t *e, oas_ctx_t *x, const oas_client_t *c,
                                 apr_table_t *form)
{
    const char *rtt = apr_table_get(form, "requested_token_type");
    const char *aud = apr_table_get(form, "audience"), *res = apr_table_get(form, "resource");

    if (!apr_table_get(form, "subject_token") || !apr_table_get(form, "subject_token_type"))
        return refuse(e, x, c, "invalid_request",
                      "subject_token and subject_token_type are required",
                      "no subject_token or subject_token_type");
    if (!apr_table_get(form, "actor_token") != !apr_table_get(form, "actor_token_type"))
        return refuse(e, x, c, "invalid_request", "actor_token and actor_token_type go together",
                      "actor_token without actor_token_type, or the reverse");
    if (rtt && strcmp(rtt, OAS_TOKEN_TYPE_ACCESS))
        return refuse(e, x, c, "invalid_request", "only access tokens are issued",
                      "requested_token_type is not access_token");
    /* one audience per token: a form repeats no parameter, and both must agree */
    if (aud && res && strcmp(aud, res))
        return refuse(e, x, c, "invalid_target", "audience and resource name different targets",
                      "audience and resource differ");
    if (!aud && !res)
        return refuse(e, x, c, "invalid_request", "resource or audience is required",
                      "no resource or audience");
    return APR_SUCCESS;
}

/* The actor token (§2.1): a live token of ours issued to the caller itself, so that no client
 * names another as its actor; *pact the act claim of the new token. */
static apr_status_t actor(const char **pact, oas_err_t *e, oas_ctx_t *x, const oas_client_t *c,
                          apr_table_t *form, const xtoken_t *subject)
{
    const char *tok = apr_table_get(form, "actor_token"), *why, *who;
    const json_t *prior = json_object_get(subject->claims, "act");
    xtoken_t a;

    *pact = NULL;
    if (!tok) { /* impersonation: the subject's chain stays */
        if (!oas_exchange_may_act(subject->claims, c->id))
            return refuse(e, x, c, "invalid_request",
                          "the subject token's may_act does not name the client",
                          "may_act names another actor than the client");
        *pact = prior ? oas_json_dumps(x->p, prior, 0) : NULL;
        return APR_SUCCESS;
    }
    if ((why = read_token(&a, x, tok, apr_table_get(form, "actor_token_type"))) ||
        (why = holder(x, a.claims)))
        return refuse(e, x, c, "invalid_request", "the actor token is not acceptable",
                      apr_pstrcat(x->p, "actor token: ", why, NULL));
    if (strcmp(a.client, c->id))
        return refuse(e, x, c, "invalid_request", "the actor token is not acceptable",
                      apr_pstrcat(x->p, "actor token of another client, ", a.client, NULL));
    who = oas_json_str(a.claims, "sub");
    if (!oas_exchange_may_act(subject->claims, who))
        return refuse(e, x, c, "invalid_request",
                      "the subject token's may_act does not name the actor",
                      apr_pstrcat(x->p, "may_act does not name actor ", who, NULL));
    if (!(*pact = oas_exchange_act(x->p, who, prior)))
        return refuse(e, x, c, "invalid_request", "the delegation chain is too long",
                      "act nested too deep");
    return APR_SUCCESS;
}

apr_status_t oas_exchange_grant(const char **pbody, oas_err_t *e, oas_ctx_t *x,
                                const oas_client_t *c, apr_table_t *form)
{
    const char *target, *want = apr_table_get(form, "scope"), *why, *bad, *jti;
    const oas_resource_t *res;
    xtoken_t s;
    oas_grant_t g;
    apr_status_t rv;

    if ((rv = check_params(e, x, c, form)) != APR_SUCCESS)
        return rv;
    target = apr_table_get(form, "resource");
    if (!target)
        target = apr_table_get(form, "audience");
    /* §2.2.2: a subject token that is invalid or unacceptable by policy: invalid_request */
    if ((why = read_token(&s, x, apr_table_get(form, "subject_token"),
                          apr_table_get(form, "subject_token_type"))) ||
        (why = holder(x, s.claims)))
        return refuse(e, x, c, "invalid_request", "the subject token is not acceptable",
                      apr_pstrcat(x->p, "subject token: ", why, NULL));
    switch (oas_exchange_allowed(c, s.client, target)) {
    case OAS_XCHG_SUBJECT:
        return refuse(
            e, x, c, "invalid_request", "the subject token is not acceptable",
            apr_pstrcat(x->p, "no " OAS_DIR_TOKEN_EXCHANGE " line names client ", s.client, NULL));
    case OAS_XCHG_AUDIENCE:
        return refuse(
            e, x, c, "invalid_target", "the client may not exchange for this target",
            apr_pstrcat(x->p, "audience not allowed for tokens of client ", s.client, NULL));
    }
    if (!(res = oas_issuer_resource(x->iss, target))) /* configtest makes this a fault */
        return refuse(e, x, c, "invalid_target", "unknown target", "undeclared audience");
    memset(&g, 0, sizeof(g));
    if (oas_exchange_scope(&g.scope, &bad, x->p, oas_json_str(s.claims, "scope"), want, res))
        return refuse(e, x, c, "invalid_scope",
                      "the scope is wider than the subject token's or than the target allows",
                      apr_pstrcat(x->p, "scope ", bad, NULL));
    if ((rv = actor(&g.act_json, e, x, c, form, &s)) != APR_SUCCESS)
        return rv;
    g.iss = x->iss->issuer;
    g.client_id = c->id;
    g.sub = oas_json_str(s.claims, "sub");
    g.resource = target;
    g.auth_time = oas_json_int(s.claims, "auth_time", 0);
    g.gid = oas_json_str(s.claims, "gid");
    g.exp_max = oas_json_int(s.claims, "exp", 0);
    g.issued_token_type = OAS_TOKEN_TYPE_ACCESS;
    if ((rv = oas_issue_jti(&jti, e, x->p)) != APR_SUCCESS)
        return rv;
    OAS_CTX_LOG(x, OAS_LOG_INFO, 0,
                OAS_LOGNO(07151) "token exchange: client %s exchanges %s of client %s (jti %s) "
                                 "for audience %s%s",
                c->id, s.kind, s.client,
                oas_json_str(s.claims, "jti") ? oas_json_str(s.claims, "jti") : "-", target,
                g.act_json ? " with act" : "");
    return oas_issue_tokens(pbody, e, x, c, &g, jti, NULL);
}
