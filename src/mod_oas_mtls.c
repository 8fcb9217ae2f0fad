/* mod_oauth_as: mutual TLS (RFC 8705) in httpd: the client blocks' certificate directives,
 * and the client certificate of a connection, read from mod_ssl through its optional
 * functions (never from a request header, which anyone can send). The checks are the core's
 * (oas_mtls.h). */
#include "mod_oas_mtls.h"

#include <http_log.h>
#include <mod_ssl.h>
#include <util_cfgtree.h>

#include "mod_oas_directives.h"
#include "oas_directives.h"
#include "oas_dn.h"
#include "oas_mtls.h"

static APR_OPTIONAL_FN_TYPE(ssl_var_lookup) * var_lookup;
static APR_OPTIONAL_FN_TYPE(ssl_is_https) * is_https;

void oas_mod_mtls_retrieve(void)
{
    var_lookup = APR_RETRIEVE_OPTIONAL_FN(ssl_var_lookup);
    is_https = APR_RETRIEVE_OPTIONAL_FN(ssl_is_https);
}

static const char *ssl_var(request_rec *r, const char *name)
{
    const char *v = var_lookup(r->pool, r->server, r->connection, r, (char *)name);

    return v && *v ? v : NULL;
}

/* s is the alias host: by its configured name and port, never by the Host header. */
static int serves_alias(const server_rec *s, const oas_issuer_t *iss)
{
    const server_addr_rec *a;
    int match;

    if (!iss->mtls_alias || !s->server_hostname ||
        strcasecmp(s->server_hostname, iss->mtls_alias_host))
        return 0;
    match = s->port == iss->mtls_alias_port;
    for (a = s->is_virtual ? s->addrs : NULL; a && !match; a = a->next)
        match = a->host_port == iss->mtls_alias_port;
    return match;
}

void oas_mod_client_cert(request_rec *r, oas_ctx_t *x)
{
    apr_array_header_t *chain;
    const char *pem, *v, *err = NULL;
    oas_cert_t *cert;
    int i;

    x->on_mtls_alias = serves_alias(r->server, x->iss);
    /* mod_ssl absent, or not on for this connection: no certificate, whatever the headers */
    if (!var_lookup || !is_https || !is_https(r->connection))
        return;
    if (!(pem = ssl_var(r, "SSL_CLIENT_CERT")))
        return;
    chain = apr_array_make(r->pool, 2, sizeof(const char *));
    for (i = 0; i <= OAS_CERT_MAX_CHAIN; i++) {
        if (!(v = ssl_var(r, apr_psprintf(r->pool, "SSL_CLIENT_CERT_CHAIN_%d", i))))
            break;
        APR_ARRAY_PUSH(chain, const char *) = v;
    }
    if (oas_cert_parse(&cert, &err, r->pool, pem, chain) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      OAS_LOGNO(00400) "client certificate ignored: %s", err ? err : "no memory");
        return;
    }
    x->cert = cert;
}

const char *oas_cmd_cert_subject(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_CLIENT);

    if (err)
        return err;
    if (dc->client->cert_dn)
        return OAS_DIR_CERT_SUBJECT ": given twice";
    if (oas_dn_parse(&dc->client->cert_dn, &err, cmd->pool, arg) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, OAS_DIR_CERT_SUBJECT " '%s': not an RFC 4514 name: %s", arg,
                            err);
    dc->client->cert_subject = arg;
    return NULL;
}

const char *oas_cmd_cert_san(cmd_parms *cmd, void *mconfig, const char *kind, const char *value)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_CLIENT);
    int k = oas_san_kind(kind);

    if (err)
        return err;
    if (dc->client->cert_san)
        return OAS_DIR_CERT_SAN ": given twice (a client registers one value)";
    if (!k)
        return apr_psprintf(cmd->pool,
                            OAS_DIR_CERT_SAN ": unknown kind '%s' (dns, uri, ip or "
                                             "email)",
                            kind);
    if ((err = oas_san_value_check(k, value)))
        return apr_psprintf(cmd->pool, OAS_DIR_CERT_SAN " %s '%s': %s", kind, value, err);
    dc->client->cert_san_kind = k;
    dc->client->cert_san = value;
    return NULL;
}

/* OAuthASClientCertCA: read now, so a fault fails `apache2 -t`. */
const char *oas_cmd_cert_ca(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_dir_conf_t *dc = mconfig;
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_CLIENT);
    const char *path;

    if (err)
        return err;
    if (dc->client->cert_ca)
        return OAS_DIR_CERT_CA ": given twice";
    if (!(path = ap_server_root_relative(cmd->pool, arg)))
        return apr_psprintf(cmd->pool, OAS_DIR_CERT_CA ": invalid path '%s'", arg);
    if (oas_cert_ca_load(&dc->client->cert_ca, &err, cmd->pool, path) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, OAS_DIR_CERT_CA ": %s", err ? err : "no memory");
    dc->client->cert_ca_file = path;
    return NULL;
}

/* OAuthASMTLSAlias: an https origin (no path, query, fragment or user), kept normalised
 * (lower-case host, no default port) as the base of the aliased endpoint URLs. */
const char *oas_cmd_mtls_alias(cmd_parms *cmd, void *mconfig, const char *arg)
{
    oas_issuer_t *sc = oas_cmd_issuer(cmd);
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER);
    apr_uri_t u;

    if (err)
        return err;
    if (apr_uri_parse(cmd->pool, arg, &u) != APR_SUCCESS || !u.scheme ||
        strcasecmp(u.scheme, "https") || !u.hostname || !*u.hostname || u.user || u.password ||
        u.query || u.fragment || (u.path && strcmp(u.path, "/")) || strchr(arg, '?') ||
        strchr(arg, '#'))
        return apr_psprintf(cmd->pool,
                            OAS_DIR_MTLS_ALIAS " '%s': not an https URL of a host "
                                               "(https://mtls.example.com[:port], no path)",
                            arg);
    ap_str_tolower(u.hostname);
    sc->mtls_alias_host = u.hostname;
    sc->mtls_alias_port = u.port_str ? u.port : 443;
    sc->mtls_alias =
        apr_pstrcat(cmd->pool, "https://", u.hostname, sc->mtls_alias_port != 443 ? ":" : "",
                    sc->mtls_alias_port != 443 ? u.port_str : "", NULL);
    return NULL;
}

/* ---- start-up: the OAuthASMTLSAlias host asks for client certificates ---- */

/* Where a section's contents were read into the tree as they are (the conditional sections
 * that were true) rather than kept for later (per-directory sections). */
static int inlined_section(const char *name)
{
    static const char *const names[] = {"<IfModule",    "<IfDefine",  "<IfVersion", "<IfFile",
                                        "<IfDirective", "<IfSection", NULL};
    int i;

    for (i = 0; names[i]; i++)
        if (!strcasecmp(name, names[i]))
            return 1;
    return 0;
}

/* The server-level SSLEngine and SSLVerifyClient among the directives from d on (the last of
 * each wins, as in mod_ssl); per-directory sections do not count (see README, Mutual TLS). */
static void scan_tls(const ap_directive_t *d, int *engine, int *verify)
{
    for (; d; d = d->next) {
        if (!strcasecmp(d->directive, "SSLEngine"))
            *engine = d->args && !strcasecmp(d->args, "on");
        else if (!strcasecmp(d->directive, "SSLVerifyClient"))
            *verify = d->args && strcasecmp(d->args, "none");
        else if (d->first_child && inlined_section(d->directive))
            scan_tls(d->first_child, engine, verify);
    }
}

/* The <VirtualHost> section that defined s, in the configuration tree from d on. */
static const ap_directive_t *vhost_section(const ap_directive_t *d, const server_rec *s)
{
    const ap_directive_t *found;

    for (; d; d = d->next) {
        if (!strcasecmp(d->directive, "<VirtualHost") &&
            (unsigned)d->line_num == s->defn_line_number && d->filename && s->defn_name &&
            !strcmp(d->filename, s->defn_name))
            return d;
        if (d->first_child && inlined_section(d->directive) &&
            (found = vhost_section(d->first_child, s)))
            return found;
    }
    return NULL;
}

/* One alias: a warning when no server of this httpd is its host, or that host does not ask
 * for client certificates in its TLS handshake. Not a failure: another httpd (another node)
 * may serve the alias host. */
static void check_alias(server_rec *first, const oas_issuer_t *iss, int to_log)
{
    /* to the error log at start-up; to the console (no log is open yet) for apache2 -t */
    server_rec *ls = to_log ? first : NULL;
    int level = to_log ? APLOG_WARNING : APLOG_STARTUP | APLOG_WARNING;
    const ap_directive_t *vh = NULL;
    server_rec *s;
    int engine = 0, verify = 0;

    for (s = first; s && !serves_alias(s, iss); s = s->next)
        ;
    if (!s) {
        ap_log_error(APLOG_MARK, level, 0, ls,
                     OAS_LOGNO(00450) "warning: " OAS_DIR_MTLS_ALIAS
                                      " %s: no virtual host of this server has ServerName %s "
                                      "and port %d: mTLS clients that use the aliases will not "
                                      "reach it here",
                     iss->mtls_alias, iss->mtls_alias_host, iss->mtls_alias_port);
        return;
    }
    scan_tls(ap_conftree, &engine, &verify); /* the main server's, inherited */
    if (s->is_virtual && (vh = vhost_section(ap_conftree, s)))
        scan_tls(vh->first_child, &engine, &verify);
    if (engine && verify)
        return;
    ap_log_error(APLOG_MARK, level, 0, ls,
                 OAS_LOGNO(00451) "warning: " OAS_DIR_MTLS_ALIAS
                                  " %s: its host (%s:%u) %s: put 'SSLVerifyClient "
                                  "optional_no_ca' at its virtual-host level, not in a "
                                  "<Location>",
                 iss->mtls_alias, s->defn_name ? s->defn_name : "main server", s->defn_line_number,
                 !engine ? "has no 'SSLEngine on'" : "asks for no client certificate");
}

void oas_mod_mtls_check_aliases(server_rec *s, apr_pool_t *ptemp, int to_log)
{
    apr_hash_t *done = apr_hash_make(ptemp);
    server_rec *v;

    for (v = s; v; v = v->next) {
        const oas_issuer_t *iss = oas_mod_issuer(v);

        if (!iss->issuer || !iss->mtls_alias ||
            apr_hash_get(done, iss->mtls_alias, APR_HASH_KEY_STRING))
            continue; /* a virtual host inherits the main server's alias: checked once */
        apr_hash_set(done, iss->mtls_alias, APR_HASH_KEY_STRING, "");
        check_alias(s, iss, to_log);
    }
}
