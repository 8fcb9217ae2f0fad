/* bench/mod_bench_authn.c: an authn provider that costs (almost) nothing, for the benchmark.
 *
 *   AuthBasicProvider bench
 *   BenchAuthnUser NAME PASSWORD     (directory scope; one user)
 *
 * The benchmark measures the Authorization Server, not the site's login: mod_authn_file opens
 * and reads the htpasswd file on every request, which the ceiling (which authenticates
 * nobody) does not pay. The issue allows "an authn provider that costs nothing"; this is it.
 * Not for production: one plain-text password in the configuration.
 * Built with apxs by bench/Makefile.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_request.h"
#include "mod_auth.h"
#include "ap_provider.h"
#include <openssl/crypto.h>
#include <string.h>

module AP_MODULE_DECLARE_DATA bench_authn_module;

typedef struct {
    const char *user;
    const char *password;
} bench_authn_conf;

static void *create_dir_conf(apr_pool_t *p, char *dir)
{
    (void)dir;
    return apr_pcalloc(p, sizeof(bench_authn_conf));
}

static const char *set_user(cmd_parms *cmd, void *cfg, const char *user, const char *password)
{
    bench_authn_conf *c = cfg;
    (void)cmd;
    c->user = user;
    c->password = password;
    return NULL;
}

static authn_status check_password(request_rec *r, const char *user, const char *password)
{
    const bench_authn_conf *c = ap_get_module_config(r->per_dir_config, &bench_authn_module);
    size_t n;

    if (!c->user || strcmp(user, c->user) != 0)
        return AUTH_USER_NOT_FOUND;
    n = strlen(c->password);
    if (strlen(password) != n || CRYPTO_memcmp(password, c->password, n) != 0)
        return AUTH_DENIED;
    return AUTH_GRANTED;
}

static const authn_provider bench_provider = {&check_password, NULL};

static void register_hooks(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHN_PROVIDER_GROUP, "bench", AUTHN_PROVIDER_VERSION,
                              &bench_provider, AP_AUTH_INTERNAL_PER_CONF);
}

static const command_rec cmds[] = {
    AP_INIT_TAKE2("BenchAuthnUser", set_user, NULL, OR_AUTHCFG,
                  "BenchAuthnUser NAME PASSWORD: the one user this provider knows"),
    {NULL}
};

AP_DECLARE_MODULE(bench_authn) = {
    STANDARD20_MODULE_STUFF, create_dir_conf, NULL, NULL, NULL, cmds, register_hooks
};
