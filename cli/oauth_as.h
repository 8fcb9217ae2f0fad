/* oauth-as: the operator's command-line tool for mod_oauth_as (docs/oauth-as.1). It links the
 * module's core library (APR, OpenSSL, jansson, libcurl; no httpd) so what it makes and checks
 * is exactly what the module reads and does. Messages go to stderr; results to stdout. */
#ifndef OAUTH_AS_CLI_H
#define OAUTH_AS_CLI_H

#include <apr_pools.h>

/* exit codes (docs/oauth-as.1 "EXIT STATUS") */
#define CLI_OK 0
#define CLI_INVALID 1 /* check-token: the token is not valid */
#define CLI_USAGE 2   /* bad arguments or input, a file or the network failed */

/* One command's arguments after its name: argv[0] is the command. */
typedef struct cli_args_t {
    int argc;
    const char *const *argv;
    int i; /* the next argument to read */
} cli_args_t;

/** Print "oauth-as: CMD: message" to stderr. @return CLI_USAGE */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** When argv[i] is the option name ("--alg VALUE" or "--alg=VALUE"), consume it.
 * @return 1 matched (*pval set), 0 not this option, -1 the value is missing (message printed) */
int cli_opt(cli_args_t *a, const char *name, const char **pval);

/** An unknown option or an extra argument at argv[i]: message, CLI_USAGE. */
int cli_unexpected(const cli_args_t *a);

/* the commands, each with its --help text: each returns its exit code */
extern const char cli_keygen_usage[], cli_jwks_usage[], cli_rotate_usage[], cli_hash_usage[],
    cli_check_usage[];
int cli_keygen(apr_pool_t *p, cli_args_t *a);
int cli_jwks(apr_pool_t *p, cli_args_t *a);
int cli_rotate_key(apr_pool_t *p, cli_args_t *a);
int cli_hash_secret(apr_pool_t *p, cli_args_t *a);
int cli_check_token(apr_pool_t *p, cli_args_t *a);

#endif
