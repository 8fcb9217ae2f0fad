"""Open ecosystems (issue 20; INTERFACE.md "Open ecosystems" and its "Precise rules"): what a
desktop agent needs from the AS: a loopback redirect URI matches on any port (RFC 8252 §7.3,
the one exception to the exact match); what a browser-based client needs: CORS on the
endpoints it calls, for the origins OAuthASCORSOrigin names, never on /authorize."""

import pytest

from client import (assert_error_page, assert_json_error, authorize, authz_params, get_code,
                    redeem, register, session)
from oauth_conf import standard_conf

LOOPBACK = """
<OAuthASClient agent>
    OAuthASAuthMethod none
    OAuthASRedirectURI http://127.0.0.1/callback
    OAuthASRedirectURI http://[::1]:8080/callback
    OAuthASRedirectURI http://localhost:8080/callback
    OAuthASRedirectURI https://agent.test:8443/callback
    OAuthASScope openid
    OAuthASGrantType authorization_code
</OAuthASClient>
"""

register("agent", redirect_uris=["http://127.0.0.1/callback"])


@pytest.fixture
def ag(httpd_factory):
    return httpd_factory(lambda h: standard_conf(h, extra=LOOPBACK))


@pytest.mark.parametrize("uri,other", [
    ("http://127.0.0.1:51234/callback", "http://127.0.0.1:51235/callback"),
    ("http://127.0.0.1/callback", "http://127.0.0.1:80/callback"),
    ("http://[::1]:40001/callback", "http://[::1]:8080/callback"),
    ("http://[::1]/callback", "http://[::1]:40001/callback"),
])
def test_loopback_any_port(ag, uri, other):
    """The code goes to the port the agent asked for and redeems with that URI; the token
    request must name that URI, port included (RFC 6749 §4.1.3), not another registered
    form."""
    g = get_code(ag, "agent", scope="openid", redirect_uri=uri)
    assert g["query"] and g["redirect_uri"] == uri
    assert_json_error(redeem(ag, g, redirect_uri=other), 400, "invalid_grant")
    r = redeem(ag, g)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("uri", [
    "http://localhost:9999/callback",        # localhost: exact only (RFC 8252 §8.3)
    "https://agent.test:9443/callback",      # not loopback: exact only
    "http://127.0.0.1:51234/callback/x",     # another path
    "http://127.0.0.1:51234/callback?x=1",   # another query
    "http://127.0.0.2:51234/callback",       # another host
    "http://127.0.0.1.evil.test/callback",
    "http://127.0.0.1:51234@evil.test/callback",
])
@pytest.mark.catalogue("A03")
def test_other_redirects_stay_exact(ag, uri):
    r = authorize(ag, authz_params("agent", redirect_uri=uri, scope="openid"))
    assert_error_page(r, 400)


# ---- CORS (INTERFACE.md "Precise rules": Registration, CORS) --------------------------------

APP = "https://app.example"


@pytest.fixture
def cors(httpd_factory):
    return httpd_factory(lambda h: standard_conf(
        h, OAuthASCORSOrigin=f"{APP} http://127.0.0.1:6274"))


CORS_ENDPOINTS = [("/oauth/token", "POST"), ("/oauth/revoke", "POST"),
                  ("/oauth/introspect", "POST"), ("/userinfo", "GET, POST"),
                  ("/.well-known/openid-configuration", "GET"),
                  ("/.well-known/oauth-authorization-server", "GET"),
                  ("/.well-known/jwks.json", "GET")]


@pytest.mark.parametrize("path,methods", CORS_ENDPOINTS)
def test_preflight(cors, path, methods):
    r = session(cors).options(cors.issuer + path, timeout=10, headers={
        "Origin": APP, "Access-Control-Request-Method": methods.split(", ")[-1],
        "Access-Control-Request-Headers": "authorization, dpop, content-type"})
    assert r.status_code == 204, (r.status_code, r.text)
    assert r.headers["Access-Control-Allow-Origin"] == APP
    assert r.headers["Access-Control-Allow-Methods"] == methods
    assert r.headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type, DPoP"
    assert "Origin" in r.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in r.headers
    assert r.text == ""


def test_answers_carry_cors_errors_included(cors):
    """An allowed origin sees every answer (errors too) and the headers a DPoP client needs;
    another origin gets no CORS header; /authorize and PAR never."""
    s = session(cors)
    h = {"Origin": APP}
    r = s.post(cors.issuer + "/oauth/token", data={"grant_type": "nope"}, headers=h, timeout=10)
    assert r.status_code in (400, 401), r.status_code
    assert r.headers["Access-Control-Allow-Origin"] == APP
    assert r.headers["Access-Control-Expose-Headers"] == "WWW-Authenticate, DPoP-Nonce"
    r = s.get(cors.issuer + "/userinfo", headers=h, timeout=10)
    assert r.status_code == 401 and r.headers["Access-Control-Allow-Origin"] == APP
    r = s.get(cors.issuer + "/.well-known/openid-configuration", headers=h, timeout=10)
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == APP
    evil = {"Origin": "https://evil.example"}
    for path in ("/.well-known/openid-configuration", "/userinfo", "/.well-known/jwks.json"):
        r = s.get(cors.issuer + path, headers=evil, timeout=10)
        assert "Access-Control-Allow-Origin" not in r.headers, (path, r.headers)
        assert "Origin" in r.headers.get("Vary", ""), (path, r.headers)
    r = s.options(cors.issuer + "/oauth/token", timeout=10,
                  headers={**evil, "Access-Control-Request-Method": "POST"})
    assert r.status_code == 405 and "Access-Control-Allow-Origin" not in r.headers
    for path in ("/authorize", "/oauth/par"):
        r = s.options(cors.issuer + path, timeout=10,
                      headers={**h, "Access-Control-Request-Method": "POST"})
        assert r.status_code >= 400 and "Access-Control-Allow-Origin" not in r.headers, path
        r = s.post(cors.issuer + path, data={}, headers=h, timeout=10)
        assert "Access-Control-Allow-Origin" not in r.headers, path


def test_no_cors_by_default(ag):
    r = session(ag).get(ag.issuer + "/.well-known/openid-configuration",
                        headers={"Origin": APP}, timeout=10)
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers


def test_star(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(h, OAuthASCORSOrigin="*"))
    r = session(h).post(h.issuer + "/oauth/token", data={}, headers={"Origin": APP}, timeout=10)
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in r.headers


@pytest.mark.parametrize("value", ["https://app.example/", "https://App.example", "app.example",
                                   "https://*.example"])
def test_configtest_bad_origin(httpd_factory, value):
    h = httpd_factory(lambda h: standard_conf(h, OAuthASCORSOrigin=value), start=False)
    rc, out = h.configtest()
    assert rc != 0 and f"OAuthASCORSOrigin: '{value}' is not * or an origin" in out, out


# ---- discovery of an issuer with a path (RFC 8414 §3.1, OIDC Discovery §4) -----------------

def test_discovery_path_insertion(httpd_factory):
    """An issuer with a path publishes its document where MCP clients look for it: the
    well-known name inserted before the path (RFC 8414), appended after it (OIDC), both."""
    def conf(h):
        iss = h.issuer + "/t1"
        body = standard_conf(h).replace(f'OAuthASIssuer "{h.issuer}"', f'OAuthASIssuer "{iss}"')
        return body + "".join(
            f"<Location {p}>\n    OAuthASEndpoint metadata\n</Location>\n" for p in (
                "/.well-known/oauth-authorization-server/t1",
                "/.well-known/openid-configuration/t1",
                "/t1/.well-known/openid-configuration"))
    h = httpd_factory(conf)
    for p in ("/.well-known/oauth-authorization-server/t1", "/.well-known/openid-configuration/t1",
              "/t1/.well-known/openid-configuration"):
        r = session(h).get(h.issuer + p, timeout=10)
        assert r.status_code == 200, (p, r.status_code)
        md = r.json()
        assert md["issuer"] == h.issuer + "/t1", md
        assert md["code_challenge_methods_supported"] == ["S256"]
