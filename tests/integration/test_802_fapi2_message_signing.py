"""OAuthASProfile fapi2-message-signing (issue 18; next-wave.md §1.2): FAPI 2.0 Security Profile
plus Message Signing's signed requests and responses made the rule. A client of that profile
pushes only request objects (plain parameters: invalid_request) and gets every authorization
response as a JWT (response_mode other than jwt or query.jwt: invalid_request); a
configuration that lets it do otherwise fails `apache2 -t` naming the directive; a server of
that profile advertises only signed requests and responses."""

import os
import time

import pytest

from client import (Client, DPoPKey, Pkce, assert_json_error, b64url, consent_form, jwt_claims,
                    location_query, post, session)
from mtls_pki import Pki
from oauth_conf import standard_conf
from test_705_client_assertion import jws
from test_800_fapi2 import A, REDIRECT, code_grant, fapi_client, jarm_claims, server_conf, token

MS = "OAuthASProfile fapi2-message-signing"


@pytest.fixture
def msh(httpd_factory):
    return httpd_factory(lambda h: server_conf(h, OAuthASProfile="fapi2-message-signing"))


def request_object(h, p, alg="ES256", **over):
    """A request object of the fapi client signed with its key of alg; a keyword None drops a
    claim."""
    now = int(time.time())
    c = {"iss": "fapi", "client_id": "fapi", "aud": h.issuer, "nbf": now, "exp": now + 300,
         "jti": b64url(os.urandom(9)), "response_type": "code",
         "redirect_uri": REDIRECT, "scope": "openid", "state": "st-ms",
         "response_mode": "jwt", "code_challenge": p.challenge,
         "code_challenge_method": "S256"}
    c.update(over)
    c = {k: v for k, v in c.items() if v is not None}
    return jws({"alg": alg, "kid": f"k-{alg}", "typ": "oauth-authz-req+jwt"}, c, alg)


def push_signed(h, dpop, data):
    return post(h, "/oauth/par", {**data, **A(h)},
                headers={"DPoP": dpop.proof("POST", h.issuer + "/oauth/par")})


@pytest.mark.parametrize("more,overrides,message", [
    (MS + "\nOAuthASRequestObject Allowed", {},
     "OAuthASRequestObject in <OAuthASClient fapi>"),
    (MS + "\nOAuthASRequestObject Off", {}, "OAuthASRequestObject in <OAuthASClient fapi>"),
    ("", {"OAuthASProfile": "fapi2-message-signing", "OAuthASRequestObject": "Allowed"},
     "OAuthASRequestObject Allowed, which OAuthASProfile fapi2-message-signing forbids"),
], ids=["client Allowed", "client Off", "server Allowed"])
def test_configtest(httpd_factory, more, overrides, message):
    h = httpd_factory(lambda h: server_conf(h, more, **overrides), start=False)
    rc, out = h.configtest()
    assert rc != 0 and message in out, out


def test_configtest_client_without_keys(httpd_factory, tmp_path):
    """A certificate-authenticated client has no JWKS: its request objects cannot be checked."""
    ca = Pki(str(tmp_path / "pki")).ca1["files"][0]
    block = f"""
<OAuthASClient mtls>
    OAuthASAuthMethod tls_client_auth
    OAuthASClientCertSubject "CN=mtls"
    OAuthASClientCertCA "{ca}"
    OAuthASCertBoundTokens On
    OAuthASRedirectURI {REDIRECT}
    {MS}
</OAuthASClient>
"""
    h = httpd_factory(lambda h: standard_conf(h, extra=block), start=False)
    rc, out = h.configtest()
    assert rc != 0 and "OAuthASClientJWKS in <OAuthASClient mtls>" in out, out
    assert "fapi2-message-signing forbids" in out, out


def test_configtest_compliant(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(h, extra=fapi_client(h, MS)), start=False)
    rc, out = h.configtest()
    assert rc == 0, out


def test_discovery(msh):
    """Signed requests required, responses only as JWTs, and the rest of fapi2."""
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        md = session(msh).get(msh.issuer + path).json()
        assert md["require_signed_request_object"] is True, md
        assert md["response_modes_supported"] == ["jwt", "query.jwt"], md
        assert md["authorization_signing_alg_values_supported"], md
        assert md["require_pushed_authorization_requests"] is True, md
        assert "RS256" not in md["request_object_signing_alg_values_supported"], md


def test_ensure_unsigned_request_at_par_endpoint_fails(msh):
    """Plain parameters from a client that must sign: invalid_request (INTERFACE.md)."""
    h, k, p = msh, DPoPKey(), Pkce()
    data = {"client_id": "fapi", "response_type": "code", "redirect_uri": REDIRECT,
            "scope": "openid", "response_mode": "jwt", "code_challenge": p.challenge,
            "code_challenge_method": "S256"}
    assert_json_error(push_signed(h, k, data), 400, "invalid_request")


def test_signed_request_with_plain_response_mode_fails(msh):
    """A signed request that asks for a plain response: invalid_request at the push."""
    h, k, p = msh, DPoPKey(), Pkce()
    for mode in (None, "query"):
        r = push_signed(h, k, {"client_id": "fapi",
                               "request": request_object(h, p, response_mode=mode)})
        assert_json_error(r, 400, "invalid_request")
        assert "response_mode=jwt" in r.json()["error_description"], r.text


def test_signed_request_object_with_RS256_fails(msh):
    h, k, p = msh, DPoPKey(), Pkce()
    r = push_signed(h, k, {"client_id": "fapi", "request": request_object(h, p, alg="RS256")})
    assert_json_error(r, 400, "invalid_request_object")


@pytest.mark.parametrize("mode", ["jwt", "query.jwt"])
def test_plain_fapi(msh, mode):
    """The whole flow signed both ways: a request object pushed with an assertion and a DPoP
    proof, the code inside a JARM response (the outer parameters ignored), DPoP tokens."""
    h, k, p = msh, DPoPKey(), Pkce()
    r = push_signed(h, k, {"client_id": "fapi", "state": "outer",
                           "request": request_object(h, p, response_mode=mode)})
    assert r.status_code == 201, r.text
    resp = Client(h).authorize_uri_and_approve("fapi", r.json()["request_uri"])
    assert resp.status_code == 303, (resp.status_code, resp.headers)
    claims = jarm_claims(h, resp)
    assert claims["state"] == "st-ms" and "error" not in claims, claims
    r = token(h, code_grant(claims["code"], p), k)
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["token_type"] == "DPoP" and jwt_claims(t["access_token"])["cnf"] == {"jkt": k.jkt}


def test_user_rejects_authentication(msh):
    """The denial too comes back signed."""
    h, k, p = msh, DPoPKey(), Pkce()
    r = push_signed(h, k, {"client_id": "fapi", "request": request_object(h, p)})
    assert r.status_code == 201, r.text
    c = Client(h)
    resp = c.decide(consent_form(c.authorize_uri("fapi", r.json()["request_uri"])), "deny")
    claims = jarm_claims(h, resp)
    assert claims["error"] == "access_denied" and "code" not in claims, claims
    got, q = location_query(resp)
    assert "error" not in q and "iss" not in q, q
