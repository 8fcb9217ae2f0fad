/* oauth-as: command dispatch, shared argument helpers and hash-secret. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "oas_secret.h"
#include "oauth_as.h"

#define SECRET_READ_MAX 4096 /* what hash-secret reads from stdin at most */
#define DEFAULT_COST 10      /* ~50 ms a check; a success is cached per process by the module */

static const char usage[] =
    "usage: oauth-as COMMAND [OPTIONS]\n"
    "\n"
    "  keygen [--alg ES256|RS256|PS256|EdDSA] [--kid KID] --out FILE\n"
    "        make a signing key (PEM, mode 0600) and print its public JWK\n"
    "  hash-secret [--cost N]\n"
    "        read a client secret from stdin, print its hash for OAuthASClientSecret\n"
    "  jwks [--alg RS256|PS256] PEM...\n"
    "        print the JWK Set of the public keys of PEM private keys\n"
    "  check-token --issuer URL [--audience AUD] [--typ TYP] [--cacert FILE]\n"
    "              [--metadata URL] TOKEN|-\n"
    "        verify a JWT access token against the issuer's published keys\n"
    "  rotate-key --current PEM [--current-alg ALG] [--next PEM] [--next-alg ALG]\n"
    "        show the steps and configuration lines of a signing key rotation\n"
    "\n"
    "`oauth-as COMMAND --help` describes each; man oauth-as(1). Exit status: 0 success\n"
    "(check-token: valid), 1 check-token: invalid, 2 usage, input, file or network error.\n";

const char cli_hash_usage[] =
    "usage: oauth-as hash-secret [--cost N]\n"
    "Reads one client secret from stdin (never from the command line, where other users and\n"
    "the shell history could see it; from a terminal it is read without echo), and prints its\n"
    "bcrypt hash ($2y$), which OAuthASClientSecret accepts in place of the secret:\n"
    "    OAuthASClientSecret \"$2y$10$...\"\n"
    "One trailing newline is removed. A secret of more than 72 bytes is refused (bcrypt would\n"
    "check only its first 72). --cost: bcrypt's work factor, 4 to 17 (default 10).\n";

int cli_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "oauth-as: %s%s", cmd ? cmd : "", cmd ? ": " : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_USAGE;
}

int cli_opt(cli_args_t *a, const char *name, const char **pval)
{
    const char *arg = a->argv[a->i];
    apr_size_t n = strlen(name);

    if (strncmp(arg, name, n))
        return 0;
    if (arg[n] == '=') {
        *pval = arg + n + 1;
        a->i++;
        return 1;
    }
    if (arg[n])
        return 0;
    if (a->i + 1 >= a->argc) {
        cli_fail(a->argv[0], "%s needs a value", name);
        return -1;
    }
    *pval = a->argv[a->i + 1];
    a->i += 2;
    return 1;
}

static int is_help(const char *arg)
{
    return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

int cli_unexpected(const cli_args_t *a)
{
    const char *arg = a->argv[a->i];

    if (arg[0] == '-' && arg[1])
        return cli_fail(a->argv[0], "unknown option %s (see --help)", arg);
    return cli_fail(a->argv[0], "unexpected argument %s (see --help)", arg);
}

/* The secret from stdin: from a terminal without echo, else the first SECRET_READ_MAX bytes
 * (more is refused, not cut). */
static int read_secret(char **psecret, apr_pool_t *p)
{
    char *buf = apr_palloc(p, SECRET_READ_MAX + 2);
    apr_size_t len = 0, n;
    apr_size_t bufsize = SECRET_READ_MAX + 1;

    if (isatty(STDIN_FILENO)) {
        if (apr_password_get("client secret: ", buf, &bufsize) != APR_SUCCESS)
            return cli_fail("hash-secret", "cannot read the secret from the terminal");
        *psecret = buf;
        return CLI_OK;
    }
    while (len <= SECRET_READ_MAX && (n = fread(buf + len, 1, SECRET_READ_MAX + 1 - len, stdin)))
        len += n;
    if (ferror(stdin))
        return cli_fail("hash-secret", "cannot read stdin");
    if (len > SECRET_READ_MAX)
        return cli_fail("hash-secret", "the input is longer than %d bytes", SECRET_READ_MAX);
    buf[len] = '\0';
    if (strlen(buf) != len)
        return cli_fail("hash-secret", "the secret holds a NUL byte");
    if (len && buf[len - 1] == '\n')
        buf[--len] = '\0';
    if (len && buf[len - 1] == '\r')
        buf[--len] = '\0';
    *psecret = buf;
    return CLI_OK;
}

int cli_hash_secret(apr_pool_t *p, cli_args_t *a)
{
    const char *v, *hash;
    char *secret = NULL, *end;
    long cost = DEFAULT_COST;
    apr_size_t k;
    int rc;

    while (a->i < a->argc) {
        if ((rc = cli_opt(a, "--cost", &v)) < 0)
            return CLI_USAGE;
        if (!rc)
            return cli_unexpected(a);
        cost = strtol(v, &end, 10);
        if (!*v || *end || cost < OAS_SECRET_BCRYPT_MIN_COST || cost > OAS_SECRET_BCRYPT_MAX_COST)
            return cli_fail("hash-secret", "--cost: a number from %d to %d",
                            OAS_SECRET_BCRYPT_MIN_COST, OAS_SECRET_BCRYPT_MAX_COST);
    }
    if ((rc = read_secret(&secret, p)) != CLI_OK)
        return rc;
    if (!*secret)
        return cli_fail("hash-secret", "the secret is empty");
    if (strlen(secret) > OAS_SECRET_BCRYPT_MAX)
        return cli_fail("hash-secret",
                        "the secret is longer than %d bytes: bcrypt would check only its first "
                        "%d; use a shorter one",
                        OAS_SECRET_BCRYPT_MAX, OAS_SECRET_BCRYPT_MAX);
    for (k = 0; secret[k]; k++)
        if (apr_iscntrl((unsigned char)secret[k]))
            return cli_fail("hash-secret", "the secret holds a control character (a line "
                                           "break?); no client could send it");
    if (oas_secret_hash(&hash, p, secret, (int)cost) != APR_SUCCESS)
        return cli_fail("hash-secret", "the random source or bcrypt failed");
    memset(secret, 0, strlen(secret));
    printf("%s\n", hash);
    return CLI_OK;
}

static const struct {
    const char *name;
    int (*run)(apr_pool_t *p, cli_args_t *a);
    const char *usage;
} commands[] = {
    {"keygen", cli_keygen, cli_keygen_usage},
    {"hash-secret", cli_hash_secret, cli_hash_usage},
    {"jwks", cli_jwks, cli_jwks_usage},
    {"check-token", cli_check_token, cli_check_usage},
    {"rotate-key", cli_rotate_key, cli_rotate_usage},
    {NULL, NULL, NULL},
};

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    cli_args_t a;
    int i, j, rc = CLI_USAGE;

    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    if (is_help(argv[1]) || !strcmp(argv[1], "help")) {
        fputs(usage, stdout);
        return CLI_OK;
    }
    for (i = 0; commands[i].name && strcmp(argv[1], commands[i].name); i++)
        ;
    if (!commands[i].name)
        return cli_fail(NULL, "unknown command %s (oauth-as --help lists them)", argv[1]);
    for (j = 2; j < argc; j++) { /* --help anywhere: the command's text, nothing done */
        if (is_help(argv[j])) {
            fputs(commands[i].usage, stdout);
            return CLI_OK;
        }
    }
    if (apr_app_initialize(&argc, &argv, NULL) != APR_SUCCESS || apr_pool_create(&p, NULL))
        return cli_fail(NULL, "cannot start APR");
    a.argc = argc - 1;
    a.argv = argv + 1;
    a.i = 1;
    rc = commands[i].run(p, &a);
    apr_pool_destroy(p);
    apr_terminate();
    fflush(stdout);
    return ferror(stdout) ? cli_fail(NULL, "cannot write the output") : rc;
}
