/* mod_oauth_as: PKCE (RFC 7636). Only S256 exists here: "plain" exposes the verifier and is
 * refused by policy (RFC 9700 §2.1.1, SECURITY.md K05). */
#ifndef OAS_PKCE_H
#define OAS_PKCE_H

#include "oas.h"

/** 1 when s is 43..128 characters of ALPHA / DIGIT / "-" / "." / "_" / "~"
 * (RFC 7636 §4.1 code_verifier and §4.2 code_challenge ABNF); 0 otherwise or for NULL. */
int oas_pkce_valid_syntax(const char *s);

/** 1 only when verifier has valid syntax and BASE64URL(SHA256(verifier)) equals challenge
 * (RFC 7636 §4.6), compared in constant time; 0 otherwise or when either is NULL. */
int oas_pkce_verify_s256(const char *verifier, const char *challenge);

#endif
