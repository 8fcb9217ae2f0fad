/* mod_oauth_as: the server and directory configurations (create and merge), and the two
 * whole-configuration steps of the lifecycle: the checks (check_config, so `apache2 -t`
 * fails too) and the start-up preparation (post_config). Both are the core's
 * (src/oas_conf_check.c, src/oas_startup.c); this file runs them for every server and logs.
 * The directives are in src/mod_oas_directives.c and src/mod_oas_blocks.c. */
#include "mod_oas_config.h"
#include "mod_oas_session.h"
#include "oas_conf_check.h"
#include "oas_directives.h"
#include "oas_startup.h"

#define MERGE_I(f) m->f = (add->f != OAS_UNSET) ? add->f : base->f
#define MERGE_P(f) m->f = (add->f != NULL) ? add->f : base->f

/* ---- create / merge ---- */

void *oas_mod_config_create_server(apr_pool_t *p, server_rec *s)
{
    return oas_issuer_make(p);
}

void *oas_mod_config_merge_server(apr_pool_t *p, void *basev, void *addv)
{
    const oas_issuer_t *base = basev, *add = addv;
    oas_issuer_t *m = apr_pcalloc(p, sizeof(*m));
    int i;

    MERGE_P(issuer);
    MERGE_P(issuer_origin);
    MERGE_P(mtls_alias);
    MERGE_P(mtls_alias_host);
    m->mtls_alias_port = add->mtls_alias ? add->mtls_alias_port : base->mtls_alias_port;
    MERGE_P(keys);
    MERGE_I(store_short);
    MERGE_I(store_long);
    MERGE_I(store_size);
    MERGE_I(code_ttl);
    MERGE_I(request_uri_ttl);
    MERGE_I(at_ttl);
    MERGE_I(rt_ttl);
    MERGE_I(idt_ttl);
    MERGE_I(require_par);
    MERGE_I(request_object);
    MERGE_I(max_body);
    MERGE_I(authfail_limit);
    MERGE_I(authfail_window);
    MERGE_I(rt_grace);
    MERGE_I(client_quota);
    MERGE_I(user_quota);
    MERGE_I(address_quota);
    MERGE_I(consent_ttl);
    MERGE_I(session_ttl);
    MERGE_P(login_url);
    MERGE_I(client_signing_algs);
    MERGE_I(dpop);
    MERGE_I(dpop_nonce);
    MERGE_I(profile);
    MERGE_I(registration);
    MERGE_P(registration_tokens);
    MERGE_P(registration_audiences);
    MERGE_P(reg_scopes);
    MERGE_I(reg_at_ttl);
    MERGE_I(reg_rt_ttl);
    MERGE_I(reg_client_ttl);
    MERGE_I(reg_max_clients);
    MERGE_P(consent_template_path);
    MERGE_P(consent_tmpl);
    MERGE_P(account_tmpl);
    MERGE_P(logout_template_path);
    MERGE_P(logout_tmpl);
    MERGE_P(logout_url);
    MERGE_P(claims);
    /* A vhost with its own OAuthASIssuer is another issuer: clients and resources belong to
     * the server that declares them (INTERFACE.md), so it does not take the main server's.
     * A vhost without one (e.g. the same issuer on another port) inherits everything. */
    if (add->issuer) {
        m->clients = add->clients;
        m->resources = add->resources;
    }
    else {
        MERGE_P(clients);
        MERGE_P(resources);
    }
    MERGE_P(scope_descriptions);
    MERGE_P(ca_file);
    MERGE_P(outbound_allow);
    MERGE_P(cors_origins);
    MERGE_I(cimd);
    for (i = 0; i < OAS_EP_COUNT; i++)
        MERGE_P(endpoints[i]);
    return m;
}

void *oas_mod_config_create_dir(apr_pool_t *p, char *path)
{
    return apr_pcalloc(p, sizeof(oas_dir_conf_t));
}

void *oas_mod_config_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    const oas_dir_conf_t *base = basev, *add = addv;
    oas_dir_conf_t *m = apr_pcalloc(p, sizeof(*m));

    m->endpoint = add->endpoint != OAS_EP_NONE ? add->endpoint : base->endpoint;
    m->rs_issuer = add->rs_issuer ? add->rs_issuer : base->rs_issuer;
    m->rs_audience = add->rs_audience ? add->rs_audience : base->rs_audience;
    return m;
}

/* ---- whole-configuration checks (check_config: runs for `apache2 -t` too) ---- */

int oas_mod_config_check(server_rec *s, apr_pool_t *ptemp)
{
    int bad = 0;

    for (; s; s = s->next) {
        apr_array_header_t *faults = oas_conf_check_issuer(ptemp, oas_mod_issuer(s));
        int i;

        for (i = 0; faults && i < faults->nelts; i++) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                         OAS_LOGNO(00010) "%s (%s:%d)", APR_ARRAY_IDX(faults, i, const char *),
                         s->defn_name ? s->defn_name : "main server", s->defn_line_number);
            bad = 1;
        }
        /* the sign-in again is told by the site's mod_session session (mod_oas_session.c) */
        if (oas_mod_issuer(s)->issuer && oas_mod_issuer(s)->login_url &&
            !oas_mod_session_available()) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL, OAS_LOGNO(00633)
                         OAS_DIR_LOGIN_URL " needs mod_session (with mod_auth_form): without it "
                         "a new sign-in cannot be told from the old one (%s:%d)",
                         s->defn_name ? s->defn_name : "main server", s->defn_line_number);
            bad = 1;
        }
    }
    return bad;
}

/* ---- start-up preparation (post_config) ---- */

apr_status_t oas_mod_config_prepare(server_rec *s, apr_pool_t *pconf)
{
    for (; s; s = s->next) {
        oas_issuer_t *c = oas_mod_issuer(s);
        const char *err;
        apr_status_t rv;

        if (!c->issuer || c->metadata_json)
            continue; /* off, or shared with the main server and done already */
        rv = oas_startup_prepare(&err, c, pconf);
        if (rv == APR_EINVAL) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                         OAS_LOGNO(00012) "the built-in consent template does not parse: %s", err);
            return APR_EGENERAL;
        }
        if (rv == APR_ENOTIMPL) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, OAS_LOGNO(00370) "%s: %s", c->issuer, err);
            return APR_EGENERAL;
        }
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                         OAS_LOGNO(00011) "cannot build the metadata or JWKS document for %s",
                         c->issuer);
            return APR_EGENERAL;
        }
    }
    return APR_SUCCESS;
}
