"""OAuthASProfile fapi2 (issue 18; INTERFACE.md "FAPI 2.0", next-wave.md §1.1): a configuration
that contradicts FAPI 2.0 Security Profile (Final) fails `apache2 -t` naming the directive; a
fapi2 client on an ordinary server keeps its own rules; discovery of a fapi2 server advertises
exactly what the profile allows; JARM (response_mode=jwt, query.jwt) on a fapi2 server and
signed introspection. The conformance suite's modules, one test each in both variants, are in
test_810 (security profile) and test_815 (message signing)."""

import json
import os
import time

import pytest

from client import (Client, DPoPKey, Pkce, assert_json_error, callback, consent_form,
                    location_query, par_params, post, register, session)
from oauth_conf import standard_conf
from test_705_client_assertion import assertion, form, jwks_of

REDIRECT = "https://fapi.test/cb"
FAPI_CLIENT = """
<OAuthASClient fapi>
    OAuthASClientJWKS "{jwks}"
    OAuthASAuthMethod private_key_jwt
    OAuthASRedirectURI {redirect}
    OAuthASScope openid profile offline_access
    OAuthASGrantType authorization_code refresh_token client_credentials
{more}
</OAuthASClient>
"""

register("fapi", redirect_uris=[REDIRECT])


def fapi_client(h, more=""):
    path = h.path("conf", "fapi.jwks.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(jwks_of(("ES256", "RS256")), f)  # RS256 too: the profile must refuse it
    return FAPI_CLIENT.format(jwks=path, redirect=REDIRECT, more=more)


def server_conf(h, more="", **overrides):
    """A fapi2 server whose only client is the fapi2 client (with `more` in its block)."""
    overrides.setdefault("OAuthASProfile", "fapi2")
    overrides.setdefault("OAuthASClientAuthFailureLimit", "0")
    return standard_conf(h, clients=False, extra=fapi_client(h, more), **overrides)


@pytest.fixture
def fh(httpd_factory):
    return httpd_factory(server_conf)


def A(h, alg="ES256"):
    return form(assertion(h, "fapi", alg))


def push(h, p, dpop=None, **params):
    headers = {"DPoP": dpop.proof("POST", h.issuer + "/oauth/par")} if dpop else None
    return post(h, "/oauth/par", {**par_params("fapi", p, **params), **A(h)}, headers=headers)


def token(h, data, dpop=None, alg="ES256"):
    headers = {"DPoP": dpop.proof("POST", h.issuer + "/oauth/token")} if dpop else None
    return post(h, "/oauth/token", {**data, **A(h, alg)}, headers=headers)


def code(h, p, dpop=None, **params):
    """A code of the fapi client through PAR; the authorization response checked (303, iss)."""
    r = push(h, p, dpop, **params)
    assert r.status_code == 201, (r.status_code, r.text)
    c = Client(h)
    resp = c.authorize_uri_and_approve("fapi", r.json()["request_uri"])
    assert resp.status_code == 303, (resp.status_code, resp.headers)  # 5.3.2.2-10
    return callback(h, resp, base=REDIRECT)["code"]  # iss checked (RFC 9207, 5.3.2.2-7)


def code_grant(c, p):
    return {"grant_type": "authorization_code", "code": c, "redirect_uri": REDIRECT,
            "code_verifier": p.verifier}


# ---- configuration -----------------------------------------------------------------------------

COMPLIANT = "OAuthASProfile fapi2"


@pytest.mark.parametrize("more,overrides,message", [
    ("OAuthASProfile fapi1", {}, "OAuthASProfile: 'fapi1' is not none, fapi2 or fapi2-message-signing"),
    (COMPLIANT + "\nOAuthASRequirePAR Off", {}, "OAuthASRequirePAR in <OAuthASClient fapi>"),
    (COMPLIANT + "\nOAuthASRequirePKCE Off", {}, "OAuthASRequirePKCE in <OAuthASClient fapi>"),
    (COMPLIANT + "\nOAuthASDPoP Off", {},
     "OAuthASDPoP in <OAuthASClient fapi>"),
    (COMPLIANT + "\nOAuthASDPoP Allowed", {}, "OAuthASDPoP in <OAuthASClient fapi>"),
    (COMPLIANT, {"OAuthASDPoP": "Off"}, "OAuthASDPoP in <OAuthASClient fapi>"),
    (COMPLIANT + "\nOAuthASAssertionAudience Legacy", {},
     "OAuthASAssertionAudience in <OAuthASClient fapi>"),
    (COMPLIANT + "\nOAuthASRefreshTokenRotation On", {"OAuthASRefreshTokenGrace": "0"},
     "OAuthASRefreshTokenRotation in <OAuthASClient fapi>"),
    (COMPLIANT, {"OAuthASCodeLifetime": "61"}, "OAuthASCodeLifetime 61: over 60 s"),
    (COMPLIANT, {"OAuthASRequestURILifetime": "600"}, "OAuthASRequestURILifetime 600"),
], ids=["bad name", "PAR Off", "PKCE Off", "DPoP Off", "DPoP Allowed", "server DPoP Off",
        "Legacy aud", "rotation without grace", "code lifetime", "request_uri lifetime"])
def test_configtest_client(httpd_factory, more, overrides, message):
    h = httpd_factory(lambda h: standard_conf(h, extra=fapi_client(h, more), **overrides),
                      start=False)
    rc, out = h.configtest()
    assert rc != 0 and message in out, out
    assert more == "OAuthASProfile fapi1" or "which OAuthASProfile fapi2 forbids" in out, out


def secret_client(method):
    return (f'<OAuthASClient sec>\n    OAuthASClientSecret "sec-secret-4d1f0a"\n'
            f"    OAuthASAuthMethod {method}\n    OAuthASRedirectURI https://sec.test/cb\n"
            "    OAuthASProfile fapi2\n</OAuthASClient>\n")


PUBLIC = ("<OAuthASClient pub>\n    OAuthASRedirectURI https://pub.test/cb\n"
          "    OAuthASProfile fapi2\n</OAuthASClient>\n")


@pytest.mark.parametrize("extra,keys,overrides,message", [
    (secret_client("client_secret_basic"), ("es256",), {},
     "OAuthASAuthMethod in <OAuthASClient sec>"),
    (secret_client("client_secret_post"), ("es256",), {},
     "OAuthASAuthMethod in <OAuthASClient sec>"),
    (PUBLIC, ("es256",), {}, "none: a public client"),
    ("", ("rsa",), {"OAuthASProfile": "fapi2"}, "signs RS256"),
    ("", ("es256",), {"OAuthASProfile": "fapi2", "OAuthASClientSigningAlgs": "ES256 RS256"},
     "OAuthASClientSigningAlgs: an algorithm other than PS256, ES256 or EdDSA"),
    ("", ("es256",), {"OAuthASProfile": "fapi2", "OAuthASRequirePAR": "Off"},
     "OAuthASRequirePAR Off, which OAuthASProfile fapi2 forbids"),
], ids=["client_secret_basic", "client_secret_post", "public", "RS256 signing key",
        "server RS256", "server PAR Off"])
def test_configtest_server(httpd_factory, extra, keys, overrides, message):
    h = httpd_factory(lambda h: standard_conf(h, keys=keys, clients=False,
                                              extra=fapi_client(h) + extra, **overrides),
                      start=False)
    rc, out = h.configtest()
    assert rc != 0 and message in out, out


def test_configtest_compliant(httpd_factory):
    """A fapi2 server, and a fapi2 client on an ordinary server, pass; so does an mTLS-bound
    client without DPoP (its tokens are sender-constrained by the certificate)."""
    h = httpd_factory(server_conf, start=False)
    rc, out = h.configtest()
    assert rc == 0, out
    h = httpd_factory(lambda h: standard_conf(h, extra=fapi_client(h, COMPLIANT)), start=False)
    rc, out = h.configtest()
    assert rc == 0, out
    bound = COMPLIANT + "\nOAuthASCertBoundTokens On\nOAuthASDPoP Off"
    h = httpd_factory(lambda h: standard_conf(h, extra=fapi_client(h, bound)), start=False)
    rc, out = h.configtest()
    assert rc == 0, out


# ---- requests ----------------------------------------------------------------------------------

def test_dpop_proof_with_RS256_fails(fh):
    h, k, p = fh, DPoPKey("rsa"), Pkce()
    c = code(h, p)
    r = post(h, "/oauth/token", {**code_grant(c, p), **A(h)},
             headers={"DPoP": k.proof("POST", h.issuer + "/oauth/token", alg="RS256")})
    assert_json_error(r, 400, "invalid_dpop_proof")


def test_client_profile_on_an_ordinary_server(httpd_factory):
    """A fapi2 client on an ordinary server: its own rules only; discovery is not narrowed."""
    h = httpd_factory(lambda h: standard_conf(
        h, extra=fapi_client(h, COMPLIANT), OAuthASClientAuthFailureLimit="0"))
    p = Pkce()
    assert_json_error(push(h, p, redirect_uri=None, scope="profile"), 400, "invalid_request")
    c = code(h, p)
    assert_json_error(token(h, code_grant(c, p)), 400, "invalid_dpop_proof")
    md = session(h).get(h.issuer + "/.well-known/oauth-authorization-server").json()
    assert "client_secret_basic" in md["token_endpoint_auth_methods_supported"]
    assert md["require_pushed_authorization_requests"] is False


def test_discovery_only_what_the_profile_allows(fh):
    """Exactly the profile's lists (test_810 checks what the suite accepts)."""
    md = session(fh).get(fh.issuer + "/.well-known/openid-configuration").json()
    assert md["token_endpoint_auth_methods_supported"] == ["private_key_jwt"], md
    for alg_list in ("token_endpoint_auth_signing_alg_values_supported",
                     "dpop_signing_alg_values_supported",
                     "request_object_signing_alg_values_supported"):
        assert set(md[alg_list]) == {"PS256", "ES256", "EdDSA"}, (alg_list, md[alg_list])
    assert md["id_token_signing_alg_values_supported"] == ["ES256"]
    assert md["code_challenge_methods_supported"] == ["S256"]
    assert md["authorization_response_iss_parameter_supported"] is True
    assert md["require_pushed_authorization_requests"] is True
    assert md["pushed_authorization_request_endpoint"] == fh.issuer + "/oauth/par"


# ---- JARM: the response_mode=jwt variant of the modules (FAPI 2.0 Message Signing §5.4) -------

def jarm_claims(h, r, base=REDIRECT):
    """The claims of a JARM redirect: only `response` in the query (the issuer only inside
    it), signed with the server's key, for the fapi client, short-lived."""
    got, q = location_query(r)
    assert got == base and set(q) == {"response"}, r.headers["Location"]
    _, claims = Client(h).verify_jwt(q["response"])
    assert claims["iss"] == h.issuer and claims["aud"] == "fapi", claims
    assert 0 < claims["exp"] - time.time() <= 125, claims
    return claims


@pytest.mark.parametrize("mode", ["jwt", "query.jwt"])
def test_happy_flow_jarm(fh, mode):
    """The code and state inside a signed response (a 303 still); the code redeems."""
    h, k, p = fh, DPoPKey(), Pkce()
    r = push(h, p, k, response_mode=mode, state="st-jarm")
    assert r.status_code == 201, r.text
    resp = Client(h).authorize_uri_and_approve("fapi", r.json()["request_uri"])
    assert resp.status_code == 303, (resp.status_code, resp.headers)
    claims = jarm_claims(h, resp)
    assert claims["state"] == "st-jarm" and "error" not in claims, claims
    r = token(h, code_grant(claims["code"], p), k)
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP", r.text


def test_user_rejects_authentication_jarm(fh):
    """The user denies: access_denied inside the signed response, no code."""
    h, p = fh, Pkce()
    r = push(h, p, response_mode="jwt", state="st-deny")
    assert r.status_code == 201, r.text
    c = Client(h)
    page = c.authorize_uri("fapi", r.json()["request_uri"])
    claims = jarm_claims(h, c.decide(consent_form(page), "deny"))
    assert claims["error"] == "access_denied" and claims["state"] == "st-deny", claims
    assert "code" not in claims, claims


def test_ensure_unsigned_authorization_request_without_using_par_fails_jarm(fh):
    """An error found at /authorize goes back as a JWT too (JARM §4.4)."""
    h, p = fh, Pkce()
    params = {**par_params("fapi", p, response_mode="jwt", state="st-x"), "client_id": "fapi"}
    claims = jarm_claims(h, Client(h).authorize(params))
    assert claims["error"] == "invalid_request" and claims["state"] == "st-x", claims


def test_response_mode_unsupported(fh):
    """fragment.jwt and form_post.jwt are not offered: refused at the push."""
    for mode in ("fragment.jwt", "form_post.jwt"):
        assert_json_error(push(fh, Pkce(), response_mode=mode), 400, "invalid_request")


def test_discovery_end_point_verification_jarm(fh):
    md = session(fh).get(fh.issuer + "/.well-known/openid-configuration").json()
    assert md["response_modes_supported"] == ["query", "jwt", "query.jwt"], md
    assert md["authorization_signing_alg_values_supported"] == ["ES256"], md


# ---- signed introspection (RFC 9701, FAPI 2.0 Message Signing §5.5) ----------------------------

JWT_MEDIA = "application/token-introspection+jwt"


def introspect_jwt(h, tok, accept=JWT_MEDIA):
    """Introspection as the fapi client (a client assertion), asking for a JWT."""
    return post(h, "/oauth/introspect", {"token": tok, **A(h)}, headers={"Accept": accept})


def test_signed_introspection(fh):
    """The answer inside a JWT the server signs: iss, aud (who asked), iat, token_introspection;
    an inactive token too; plain JSON for an Accept that does not ask for it."""
    h, k = fh, DPoPKey()
    at = token(h, {"grant_type": "client_credentials"}, k).json()["access_token"]
    r = introspect_jwt(h, at, "application/json;q=0.5, " + JWT_MEDIA)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == JWT_MEDIA and r.headers["Cache-Control"] == "no-store"
    _, claims = Client(h).verify_jwt(r.text, typ="token-introspection+jwt")
    assert claims["iss"] == h.issuer and claims["aud"] == "fapi", claims
    assert abs(claims["iat"] - time.time()) < 60 and "sub" not in claims, claims
    ti = claims["token_introspection"]
    assert ti["active"] is True and ti["client_id"] == "fapi", ti
    assert ti["cnf"] == {"jkt": k.jkt} and ti["token_type"] == "DPoP", ti
    _, claims = Client(h).verify_jwt(introspect_jwt(h, "garbage").text)
    assert claims["token_introspection"] == {"active": False}, claims
    for accept in ("application/json", JWT_MEDIA + ";q=0"):
        r = introspect_jwt(h, at, accept)
        assert r.headers["Content-Type"].startswith("application/json"), r.headers
        assert r.json()["active"] is True
    md = session(h).get(h.issuer + "/.well-known/oauth-authorization-server").json()
    assert md["introspection_signing_alg_values_supported"] == ["ES256"], md
