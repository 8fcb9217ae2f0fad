/* oauth-as check-token: verify a JWT access token as a resource server would, against the
 * keys the issuer publishes: its metadata (RFC 8414, or OpenID Connect Discovery), its
 * jwks_uri, then the JWS (oas_jose.h), typ, iss, exp, nbf and aud (oas_jwt.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_time.h>
#include <apr_uri.h>
#include <jansson.h>

#include "oas_fetch.h"
#include "oas_jose.h"
#include "oas_json.h"
#include "oas_jwk.h"
#include "oas_jwt.h"
#include "oauth_as.h"

#define CMD "check-token"
#define FETCH_TIMEOUT_MS 10000 /* an operator waits longer than a request would */

const char cli_check_usage[] =
    "usage: oauth-as check-token --issuer URL [--audience AUD] [--typ TYP] [--cacert FILE]\n"
    "                            [--metadata URL] TOKEN|-\n"
    "Fetches the issuer's metadata (URL/.well-known/oauth-authorization-server, else\n"
    "/.well-known/openid-configuration; or --metadata URL) and its jwks_uri over https (TLS\n"
    "verified against the system CAs or --cacert FILE), then verifies the token (- reads it\n"
    "from stdin): its signature with a published key, typ (at+jwt unless --typ), iss (the\n"
    "issuer), exp and nbf (the module's clock leeway), and aud when --audience is given. Prints "
    "the\n"
    "header, the claims and a verdict. Exit status: 0 valid, 1 invalid, 2 usage or network.\n";

typedef struct check_t {
    apr_pool_t *p;
    const char *issuer, *audience, *typ, *cacert, *metadata_url, *token;
    apr_array_header_t *allow; /* the hosts the operator named, internal addresses or not */
} check_t;

/* GET url as JSON: an operator's tool may reach the hosts it was told to (a local issuer);
 * the module's guard against internal addresses is for URLs that come from outside. */
static apr_status_t fetch(char **pbody, const char **perr, check_t *c, const char *url)
{
    oas_fetch_opts_t o = {0};
    apr_uri_t u;
    apr_size_t len;

    if (apr_uri_parse(c->p, url, &u) != APR_SUCCESS || !u.hostname) {
        *perr = apr_psprintf(c->p, "not a URL: %s", url);
        return APR_EINVAL;
    }
    APR_ARRAY_PUSH(c->allow, const char *) = u.hostname;
    o.ca_file = c->cacert;
    o.allow = c->allow;
    o.timeout_ms = FETCH_TIMEOUT_MS;
    o.connect_timeout_ms = FETCH_TIMEOUT_MS;
    return oas_fetch_json(pbody, &len, perr, c->p, url, &o);
}

/* RFC 8414 §3.1: the well-known path goes between the host and the issuer's path; OpenID
 * Connect Discovery §4 appends it to the issuer. */
static const char *rfc8414_url(check_t *c)
{
    apr_uri_t u;

    if (apr_uri_parse(c->p, c->issuer, &u) != APR_SUCCESS || !u.path || !*u.path ||
        !strcmp(u.path, "/"))
        return apr_pstrcat(c->p, c->issuer, "/.well-known/oauth-authorization-server", NULL);
    return apr_pstrcat(c->p, "https://", u.hostinfo, "/.well-known/oauth-authorization-server",
                       u.path, NULL);
}

/* The issuer's keys, or CLI_USAGE (message printed). */
static int issuer_keys(apr_array_header_t **pkeys, check_t *c)
{
    const char *urls[3], *errs[3], *iss, *jwks_uri, *err;
    char *body = NULL;
    json_t *md;
    int i, n = 0;

    if (c->metadata_url)
        urls[n++] = c->metadata_url;
    else {
        urls[n++] = rfc8414_url(c);
        urls[n++] = apr_pstrcat(c->p, c->issuer, "/.well-known/openid-configuration", NULL);
    }
    for (i = 0; i < n; i++) {
        if (fetch(&body, &errs[i], c, urls[i]) == APR_SUCCESS)
            break;
    }
    if (i == n) { /* only when none answered: an issuer may publish either */
        for (i = 0; i < n; i++)
            fprintf(stderr, "oauth-as: %s: %s: %s\n", CMD, urls[i], errs[i]);
        return cli_fail(CMD, "no metadata of %s", c->issuer);
    }
    if (oas_json_parse(&md, c->p, body, strlen(body)) != APR_SUCCESS || !json_is_object(md))
        return cli_fail(CMD, "%s: not a JSON object", urls[i]);
    /* RFC 8414 §3.3: the metadata is the issuer's only when it names the issuer asked for */
    if (!(iss = oas_json_str(md, "issuer")) || strcmp(iss, c->issuer))
        return cli_fail(CMD, "%s names the issuer %s, not %s", urls[i], iss ? iss : "(none)",
                        c->issuer);
    if (!(jwks_uri = oas_json_str(md, "jwks_uri")))
        return cli_fail(CMD, "%s has no jwks_uri", urls[i]);
    if (fetch(&body, &err, c, jwks_uri) != APR_SUCCESS)
        return cli_fail(CMD, "%s: %s", jwks_uri, err);
    if (oas_jwks_parse(pkeys, &err, c->p, body, strlen(body)) != APR_SUCCESS)
        return cli_fail(CMD, "%s: %s", jwks_uri, err);
    return CLI_OK;
}

static void print_part(const char *label, const char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;

    printf("%s: %s\n", label, s ? s : json);
    free(s);
    json_decref(j);
}

static int invalid(const char *reason)
{
    printf("verdict: INVALID: %s\n", reason);
    return CLI_INVALID;
}

/* typ must name kind exactly (a media type: case-insensitive, "application/" optional):
 * unlike oas_jwt_typ_is, an absent typ or plain "JWT" does not pass for an at+jwt. */
static int typ_is(const char *typ, const char *kind)
{
    if (!typ)
        return 0;
    if (!strncasecmp(typ, "application/", 12))
        typ += 12;
    return !strcasecmp(typ, kind);
}

static int verify(check_t *c, apr_array_header_t *keys)
{
    const char *err, *reason;
    const oas_jwk_t *used = NULL;
    apr_int64_t now = apr_time_sec(apr_time_now());
    oas_jws_t *j;
    oas_jwt_t *t;
    apr_status_t rv;

    if (oas_jws_parse(&j, &err, c->p, c->token, 0) != APR_SUCCESS)
        return invalid(apr_psprintf(c->p, "not a signed JWT (%s)", err));
    print_part("header", j->header_json);
    print_part("claims", j->payload);
    rv = oas_jws_verify_keys(&used, j, keys, OAS_ALGBITS_ASYM);
    if (rv == APR_NOTFOUND)
        return invalid(j->kid ? apr_psprintf(c->p, "no published key has the kid %s for %s", j->kid,
                                             j->alg_name)
                              : "no published key may verify its alg");
    if (rv != APR_SUCCESS)
        return invalid("the signature does not verify");
    if (!typ_is(j->typ, c->typ))
        return invalid(apr_psprintf(c->p, "typ is %s, not %s", j->typ ? j->typ : "absent", c->typ));
    if (oas_jwt_parse(&t, &err, c->p, j->payload, j->payload_len) != APR_SUCCESS)
        return invalid(apr_psprintf(c->p, "claims: %s", err));
    if (!t->iss || strcmp(t->iss, c->issuer))
        return invalid(
            apr_psprintf(c->p, "iss is %s, not %s", t->iss ? t->iss : "absent", c->issuer));
    if (oas_jwt_check_times(t, now, 1, 0, &err) != APR_SUCCESS)
        return invalid(apr_psprintf(c->p, "%s (now %" APR_INT64_T_FMT ")", err, now));
    if (c->audience && !oas_jwt_aud_is(t, c->audience, 1))
        return invalid(apr_psprintf(c->p, "aud does not name %s", c->audience));
    reason = apr_psprintf(
        c->p, "VALID: signed %s by kid %s, typ %s, iss, %s%s, expires in %" APR_INT64_T_FMT " s",
        j->alg_name, used && used->kid ? used->kid : "(none)", j->typ,
        c->audience ? "aud " : "no aud asked", c->audience ? c->audience : "", t->exp - now);
    printf("verdict: %s\n", reason);
    return CLI_OK;
}

/* The token from stdin: one line, surrounding whitespace removed. */
static int read_token(check_t *c)
{
    char *buf = apr_palloc(c->p, OAS_JWS_MAX_LEN + 2), *s, *e;
    apr_size_t len = 0, n;

    while (len <= OAS_JWS_MAX_LEN && (n = fread(buf + len, 1, OAS_JWS_MAX_LEN + 1 - len, stdin)))
        len += n;
    if (ferror(stdin))
        return cli_fail(CMD, "cannot read stdin");
    if (len > OAS_JWS_MAX_LEN)
        return cli_fail(CMD, "the token is longer than %d bytes", OAS_JWS_MAX_LEN);
    buf[len] = '\0';
    for (s = buf; *s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'; s++)
        ;
    for (e = s + strlen(s);
         e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n');)
        *--e = '\0';
    c->token = s;
    return CLI_OK;
}

/* --issuer: what OAuthASIssuer accepts is https, no query, fragment or trailing slash; the
 * fetch needs https. */
static int check_issuer(check_t *c)
{
    apr_uri_t u;
    apr_size_t n = strlen(c->issuer);

    if (apr_uri_parse(c->p, c->issuer, &u) != APR_SUCCESS || !u.scheme ||
        strcmp(u.scheme, "https") || !u.hostname || u.query || u.fragment ||
        (n && c->issuer[n - 1] == '/'))
        return cli_fail(CMD, "--issuer: an https URL without query, fragment or trailing "
                             "slash (as OAuthASIssuer)");
    return CLI_OK;
}

int cli_check_token(apr_pool_t *p, cli_args_t *a)
{
    check_t c = {p, NULL, NULL, "at+jwt", NULL, NULL, NULL, NULL};
    apr_array_header_t *keys;
    int rc;

    while (a->i < a->argc) {
        if ((rc = cli_opt(a, "--issuer", &c.issuer)) == 0 &&
            (rc = cli_opt(a, "--audience", &c.audience)) == 0 &&
            (rc = cli_opt(a, "--typ", &c.typ)) == 0 &&
            (rc = cli_opt(a, "--cacert", &c.cacert)) == 0)
            rc = cli_opt(a, "--metadata", &c.metadata_url);
        if (rc < 0)
            return CLI_USAGE;
        if (rc)
            continue;
        if ((a->argv[a->i][0] == '-' && a->argv[a->i][1]) || c.token)
            return cli_unexpected(a);
        c.token = a->argv[a->i++];
    }
    if (!c.issuer)
        return cli_fail(CMD, "--issuer URL is required (see --help)");
    if (!c.token)
        return cli_fail(CMD, "no token (give it, or - to read it from stdin)");
    if ((rc = check_issuer(&c)) != CLI_OK)
        return rc;
    if (c.cacert && access(c.cacert, R_OK))
        return cli_fail(CMD, "--cacert: cannot read %s", c.cacert);
    if (!strcmp(c.token, "-") && (rc = read_token(&c)) != CLI_OK)
        return rc;
    if (oas_fetch_global_init() != APR_SUCCESS)
        return cli_fail(CMD, "libcurl cannot start");
    c.allow = apr_array_make(p, 2, sizeof(const char *));
    if ((rc = issuer_keys(&keys, &c)) != CLI_OK)
        return rc;
    return verify(&c, keys);
}
