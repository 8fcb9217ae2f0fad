/* mod_oauth_as: the consent page (rendered from a template parsed at start-up). */
#ifndef OAS_CONSENT_H
#define OAS_CONSENT_H

#include "oas_conf.h"
#include "oas_html.h"

/** The built-in template text (conf/consent.html, compiled in). */
const char *oas_consent_default_template(void);

typedef struct oas_consent_view_t {
    const oas_client_t *client;
    const char *user;
    const char *scope;    /* space-separated */
    const char *resource; /* or NULL */
    const char *redirect_uri; /* where the answer goes (its host is shown), or NULL */
    const char *action;   /* form action URL path */
    const char *txn;
    const char *csrf;
} oas_consent_view_t;

/** Sets a page's client variables: client_id, client_name (its OAuthASClientName, else its
 * id) and client_initial (the name's first letter, for the badge). */
void oas_consent_set_client(oas_tmpl_vars_t *vars, apr_pool_t *p, const oas_client_t *c);

/** Renders the page; every value is HTML-escaped by the template engine. */
const char *oas_consent_render(apr_pool_t *p, const oas_tmpl_t *t, const oas_issuer_t *iss,
                               const oas_consent_view_t *v);

/** Adds the list "scopes" to vars: for each scope of the space-separated list, "scope" and
 * "description" (oas_scope_description); "has_scopes" when there is one. */
void oas_consent_scopes(oas_tmpl_vars_t *vars, apr_pool_t *p, const oas_issuer_t *iss,
                        const char *scope);

/** A readable description of a scope: OAuthASScopeDescription, a built-in text for the
 * OpenID Connect scopes, else the scope itself. */
const char *oas_scope_description(const oas_issuer_t *iss, const char *scope);

#endif
