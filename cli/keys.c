/* oauth-as keygen, jwks and rotate-key: keys go through oas_key_generate and oas_key_load,
 * what OAuthASSigningKey reads, so a key the tool accepts is one the module accepts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_file_io.h>
#include <apr_strings.h>
#include <jansson.h>

#include "oas_jwk.h"
#include "oas_keys.h"
#include "oauth_as.h"

#define JWKS_MAX_FILES 64      /* OAS_JWKS_MAX_KEYS: what a client's JWK Set may hold */
#define JWKS_CACHE_SECONDS 300 /* the module's jwks endpoint: Cache-Control max-age */

const char cli_keygen_usage[] =
    "usage: oauth-as keygen [--alg ES256|RS256|PS256|EdDSA] [--kid KID] --out FILE\n"
    "Makes a signing key (ES256: P-256, the default; RS256 and PS256: RSA 3072 bits; EdDSA:\n"
    "Ed25519), writes it to FILE as PKCS#8 PEM, mode 0600 (an existing FILE is never\n"
    "overwritten), and prints its public JWK on stdout. The kid is KID, or by default the key's\n"
    "RFC 7638 thumbprint (what the module publishes when OAuthASSigningKey names no KID).\n";

const char cli_jwks_usage[] =
    "usage: oauth-as jwks [--alg RS256|PS256] PEM...\n"
    "Prints the JWK Set {\"keys\":[...]} of the public halves of the PEM private keys (RSA of\n"
    "2048 bits or more, EC P-256, Ed25519): an OAuthASClientJWKS file, or what a client\n"
    "publishes at its jwks_uri. Each kid is the RFC 7638 thumbprint. RSA keys are marked RS256\n"
    "unless --alg PS256 says the client signs with PSS.\n";

const char cli_rotate_usage[] =
    "usage: oauth-as rotate-key --current PEM [--current-alg ALG] [--next PEM]\n"
    "                           [--next-alg ALG]\n"
    "Shows what rotating the issuer's signing key takes: add the next key, publish it, switch\n"
    "to it, retire the current one, with the OAuthASSigningKey lines of each step. Without\n"
    "--next, the first step makes one with keygen. --current-alg/--next-alg: PS256 for an RSA\n"
    "key the configuration marks PS256 (default: the key type's, RS256 for RSA).\n";

/* An alg name of keygen, jwks or rotate-key: -1 (message printed) when not one of ours. */
static int parse_alg(const char *cmd, const char *opt, const char *v, int rsa_only)
{
    int alg = oas_alg_from_name(v);

    if (alg < 0 || alg == OAS_ALG_HS256 ||
        (rsa_only && alg != OAS_ALG_RS256 && alg != OAS_ALG_PS256)) {
        cli_fail(cmd, "%s: %s is not one of %s", opt, v,
                 rsa_only ? "RS256, PS256" : "ES256, RS256, PS256, EdDSA");
        return -1;
    }
    return alg;
}

/* The OAuthASSigningKey line of a key file: KID when not the default, and PS256 (after an
 * empty KID when there is none) for an RSA key that signs with PSS. */
static const char *key_line(apr_pool_t *p, const char *path, const char *kid, int alg)
{
    return apr_psprintf(p, "    OAuthASSigningKey %s%s%s%s%s", path,
                        kid || alg == OAS_ALG_PS256 ? " \"" : "", kid ? kid : "",
                        kid || alg == OAS_ALG_PS256 ? "\"" : "",
                        alg == OAS_ALG_PS256 ? " PS256" : "");
}

static void print_json(const char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;

    printf("%s\n", s ? s : json);
    free(s);
    json_decref(j);
}

int cli_keygen(apr_pool_t *p, cli_args_t *a)
{
    const char *v, *kid = NULL, *out = NULL, *err;
    int alg = OAS_ALG_ES256, rc;
    oas_key_t *k;

    while (a->i < a->argc) {
        if ((rc = cli_opt(a, "--alg", &v)) > 0) {
            if ((alg = parse_alg("keygen", "--alg", v, 0)) < 0)
                return CLI_USAGE;
        }
        else if (!rc && (rc = cli_opt(a, "--kid", &kid)) > 0) {
            if (!*kid)
                return cli_fail("keygen", "--kid: empty (leave it out for the thumbprint)");
        }
        else if (!rc && (rc = cli_opt(a, "--out", &out)) > 0) {
            if (!*out)
                return cli_fail("keygen", "--out: empty file name");
        }
        if (rc < 0)
            return CLI_USAGE;
        if (!rc)
            return cli_unexpected(a);
    }
    if (!out)
        return cli_fail("keygen", "--out FILE is required (see --help)");
    if (oas_key_generate(&err, p, out, alg) != APR_SUCCESS)
        return cli_fail("keygen", "%s", err);
    /* read back as the module will: the JWK printed is the one it publishes */
    if (oas_key_load(&k, &err, p, out, kid, alg) != APR_SUCCESS) {
        apr_file_remove(out, p);
        return cli_fail("keygen", "%s", err);
    }
    print_json(k->jwk_json);
    fprintf(stderr, "oauth-as: wrote %s (mode 0600). Configure it with:\n%s\n", out,
            key_line(p, out, kid, alg));
    return CLI_OK;
}

int cli_jwks(apr_pool_t *p, cli_args_t *a)
{
    apr_array_header_t *keys = apr_array_make(p, 4, sizeof(oas_key_t *)), *parsed;
    const char *files[JWKS_MAX_FILES], *v, *err, *json;
    int nfiles = 0, alg = -1, rc, i;
    oas_key_t *k;

    while (a->i < a->argc) {
        if ((rc = cli_opt(a, "--alg", &v)) < 0)
            return CLI_USAGE;
        if (rc) {
            if ((alg = parse_alg("jwks", "--alg", v, 1)) < 0)
                return CLI_USAGE;
            continue;
        }
        if (a->argv[a->i][0] == '-' && a->argv[a->i][1])
            return cli_unexpected(a);
        if (nfiles == JWKS_MAX_FILES)
            return cli_fail("jwks", "more than %d keys", JWKS_MAX_FILES);
        files[nfiles++] = a->argv[a->i++];
    }
    if (!nfiles)
        return cli_fail("jwks", "no PEM file named (see --help)");
    for (i = 0; i < nfiles; i++) {
        /* --alg concerns RSA keys only: for the others their type decides */
        if (oas_key_load(&k, &err, p, files[i], NULL, alg) != APR_SUCCESS &&
            (alg < 0 || oas_key_load(&k, &err, p, files[i], NULL, -1) != APR_SUCCESS))
            return cli_fail("jwks", "%s", err);
        APR_ARRAY_PUSH(keys, oas_key_t *) = k;
    }
    json = oas_keys_jwks_json(p, keys);
    /* the set must be one OAuthASClientJWKS reads: e.g. the same key twice has one kid twice */
    if (oas_jwks_parse(&parsed, &err, p, json, strlen(json)) != APR_SUCCESS)
        return cli_fail("jwks", "the set would be refused: %s", err);
    print_json(json);
    return CLI_OK;
}

/* ---- rotate-key ---- */

static int is_rsa(const oas_key_t *k)
{
    return k->alg == OAS_ALG_RS256 || k->alg == OAS_ALG_PS256;
}

static int load_opt_key(oas_key_t **pk, apr_pool_t *p, const char *opt, const char *path,
                        const char *alg_name)
{
    const char *err;
    int alg = -1;

    if (alg_name && (alg = parse_alg("rotate-key", opt, alg_name, 1)) < 0)
        return CLI_USAGE;
    if (oas_key_load(pk, &err, p, path, NULL, alg) != APR_SUCCESS)
        return cli_fail("rotate-key", "%s: %s", opt, err);
    return CLI_OK;
}

static void print_rotation(apr_pool_t *p, const char *cur_path, const oas_key_t *cur,
                           const char *next_path, const oas_key_t *next)
{
    const char *restart = "    apachectl configtest && apachectl graceful";

    printf("Rotating the signing key\n  current: %s  %s  kid %s\n", cur_path, cur->alg_name,
           cur->kid);
    if (next)
        printf("  next:    %s  %s  kid %s\n", next_path, next->alg_name, next->kid);
    printf("\nThe module publishes every OAuthASSigningKey in its JWKS, in order, and signs\n"
           "access tokens with the first one; ID tokens, JARM responses and JWT introspection\n"
           "responses with the first RSA key if there is one, else the first key. So a key is\n"
           "published before it signs, and stays published until the tokens it signed have\n"
           "expired. If your OAuthASSigningKey lines name a KID, keep it on the current key's\n"
           "line; the lines below use the default kid (the thumbprint).\n\n");
    printf("Step 1: add. Make the next key (mode 0600, readable by the user httpd starts as):\n");
    if (next)
        printf("    (done: %s)\n\n", next_path);
    else
        printf("    oauth-as keygen --alg %s --out %s\n\n", cur->alg_name, next_path);
    printf("Step 2: publish. List it after the current key; the current key still signs:\n"
           "%s\n%s\n%s\n"
           "  Then wait until everyone who verifies our tokens has the new JWKS: at least %d s\n"
           "  (our jwks endpoint's Cache-Control max-age) plus their own cache lifetime.\n",
           key_line(p, cur_path, NULL, cur->alg),
           key_line(p, next_path, NULL, (next ? next : cur)->alg), restart, JWKS_CACHE_SECONDS);
    if (next && is_rsa(next) && !is_rsa(cur))
        printf("  WARNING: the next key is RSA and the current one is not: from this step on\n"
               "  the module signs ID tokens (and JARM and JWT introspection responses) with\n"
               "  it, before relying parties may have its JWKS. The module cannot publish an\n"
               "  RSA key without signing ID tokens with it when no other RSA key is listed\n"
               "  first; choose a next key of the current key's type to avoid this.\n");
    printf("\nStep 3: switch. List the next key first; it signs from now on, and the current\n"
           "key still verifies the tokens it signed:\n%s\n%s\n%s\n"
           "  DPoP nonces (OAuthASDPoPNonce) are derived from the first key: clients holding\n"
           "  one get use_dpop_nonce once and retry with the new nonce.\n",
           key_line(p, next_path, NULL, (next ? next : cur)->alg),
           key_line(p, cur_path, NULL, cur->alg), restart);
    if (next && is_rsa(cur) && !is_rsa(next))
        printf("  WARNING: the current key is RSA and the next one is not: ID tokens stay signed\n"
               "  with the current key until step 4, then with the next one, and the metadata's\n"
               "  id_token_signing_alg_values_supported changes from %s to %s; clients\n"
               "  registered for %s ID tokens break then.\n",
               cur->alg_name, next->alg_name, cur->alg_name);
    printf("\nStep 4: retire. Once the longest-lived token the current key signed has expired\n"
           "(the largest OAuthASAccessTokenLifetime and OAuthASIDTokenLifetime of the server,\n"
           "its client and resource blocks; 3600 s by default) after step 3, remove its line:\n"
           "%s\n%s\n"
           "  then delete %s (keep no copy: a retired key that leaks can still sign tokens\n"
           "  for anyone who cached the old JWKS).\n",
           key_line(p, next_path, NULL, (next ? next : cur)->alg), restart, cur_path);
}

int cli_rotate_key(apr_pool_t *p, cli_args_t *a)
{
    const char *cur_path = NULL, *next_path = NULL, *cur_alg = NULL, *next_alg = NULL, *dot;
    oas_key_t *cur, *next = NULL;
    int rc;

    while (a->i < a->argc) {
        if ((rc = cli_opt(a, "--current", &cur_path)) == 0 &&
            (rc = cli_opt(a, "--next", &next_path)) == 0 &&
            (rc = cli_opt(a, "--current-alg", &cur_alg)) == 0)
            rc = cli_opt(a, "--next-alg", &next_alg);
        if (rc < 0)
            return CLI_USAGE;
        if (!rc)
            return cli_unexpected(a);
    }
    if (!cur_path || !*cur_path)
        return cli_fail("rotate-key", "--current PEM is required (see --help)");
    if ((rc = load_opt_key(&cur, p, "--current", cur_path, cur_alg)) != CLI_OK)
        return rc;
    if (next_path) {
        if ((rc = load_opt_key(&next, p, "--next", next_path, next_alg)) != CLI_OK)
            return rc;
        if (!strcmp(next->kid, cur->kid))
            return cli_fail("rotate-key", "--next is the same key as --current");
    }
    else { /* a name for the key step 1 makes, beside the current one */
        dot = strrchr(cur_path, '.');
        next_path =
            (dot && !strchr(dot, '/'))
                ? apr_pstrcat(p, apr_pstrndup(p, cur_path, dot - cur_path), "-next", dot, NULL)
                : apr_pstrcat(p, cur_path, "-next", NULL);
    }
    print_rotation(p, cur_path, cur, next_path, next);
    return CLI_OK;
}
