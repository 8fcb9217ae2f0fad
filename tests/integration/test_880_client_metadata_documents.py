"""Client ID Metadata Documents end to end (issue 20; INTERFACE.md "Open ecosystems"): with
OAuthASClientMetadataDocuments On, a client_id that is an https URL is the client its document
describes, fetched by the module (libcurl, no redirects, the SSRF guard, OAuthASOutboundAllow
for this loopback test server) and cached; the client gets only what dynamic clients may
(OpenID scopes, OAuthASRegistrationAudience resources). The document rules themselves are
unit-tested (tests/unit/test_cimd.c)."""

import pytest

from client import (Client, assert_error_page, authorize, authz_params, get_code, redeem,
                    register)
from test_710_jwks_uri import JwksServer, make_conf

REDIRECT = "http://127.0.0.1/callback"


@pytest.fixture
def docs():
    s = JwksServer()
    yield s
    s.close()


def document(url, **over):
    d = {"client_id": url, "client_name": "An agent", "redirect_uris": [REDIRECT],
         "token_endpoint_auth_method": "none", "grant_types": ["authorization_code"],
         "scope": "openid profile admin"}
    d.update(over)
    return {k: v for k, v in d.items() if v is not None}


def conf(allow="127.0.0.1 localhost", on="On"):
    base = make_conf({}, allow=allow)

    def body(h):
        return base(h) + f"OAuthASClientMetadataDocuments {on}\n"
    return body


def test_flow_with_a_metadata_document(httpd_factory, docs):
    url = docs.url("/agent.json")
    docs.serve("/agent.json", document(url), headers={"Cache-Control": "max-age=600"})
    register(url, redirect_uris=[REDIRECT])
    h = httpd_factory(conf())
    md = Client(h).s.get(h.issuer + "/.well-known/oauth-authorization-server", timeout=10).json()
    assert md["client_id_metadata_document_supported"] is True
    # any port of the loopback redirect; the scope it may not have is refused
    uri = "http://127.0.0.1:53001/callback"
    r = authorize(h, authz_params(url, redirect_uri=uri, scope="openid admin", challenge="x" * 43))
    assert r.status_code in (302, 303) and "invalid_scope" in r.headers["Location"], r.headers
    # the consent page names the host the answer goes to, and warns: a loopback-only client
    r = authorize(h, authz_params(url, redirect_uri=uri, scope="openid", challenge="x" * 43))
    assert r.status_code == 200, r.status_code
    assert "sent back to: <strong>127.0.0.1:53001</strong>" in r.text
    assert "runs on a device" in r.text and "An agent" in r.text
    g = get_code(h, url, scope="openid profile", redirect_uri=uri)
    r = redeem(h, g)
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "Bearer"
    # fetched once, whatever the number of requests and children
    assert docs.fetched("/agent.json") == 1


@pytest.mark.allow_log("OAS0685")
def test_ssrf_guard_loopback_refused(httpd_factory, docs):
    """Without OAuthASOutboundAllow, a document on a loopback address is never fetched."""
    url = docs.url("/agent.json")
    docs.serve("/agent.json", document(url))
    h = httpd_factory(conf(allow=None))
    r = authorize(h, authz_params(url, redirect_uri=REDIRECT, scope="openid", challenge="x" * 43))
    assert_error_page(r, 400)
    assert docs.fetched("/agent.json") == 0


@pytest.mark.allow_log("OAS0685")
@pytest.mark.parametrize("case", ["redirect", "wrong client_id", "secret", "not json", "off"])
def test_refused_documents(httpd_factory, docs, case):
    url = docs.url("/agent.json")
    if case == "redirect":
        docs.serve("/agent.json", b"", status=302, headers={"Location": docs.url("/other.json")})
        docs.serve("/other.json", document(url))
    elif case == "wrong client_id":
        docs.serve("/agent.json", document(docs.url("/someone-else.json")))
    elif case == "secret":
        docs.serve("/agent.json", document(url, client_secret="s3cr3t"))
    elif case == "not json":
        docs.serve("/agent.json", b"<html>", ctype="text/html")
    else:
        docs.serve("/agent.json", document(url))
    h = httpd_factory(conf(on="Off" if case == "off" else "On"))
    r = authorize(h, authz_params(url, redirect_uri=REDIRECT, scope="openid", challenge="x" * 43))
    assert_error_page(r, 400)
    if case == "redirect":
        assert docs.fetched("/other.json") == 0
    if case == "off":
        assert docs.fetched("/agent.json") == 0


@pytest.mark.allow_log("OAS0685")
@pytest.mark.parametrize("host", [
    "10.1.2.3",                 # RFC 1918
    "100.64.0.1",               # CGNAT
    "169.254.169.254",          # link-local (cloud metadata)
    "[fe80::1]",                # IPv6 link-local
    "[fc00::1]",                # IPv6 unique local
    "[::1]:{port}",             # IPv6 loopback
    "[::ffff:127.0.0.1]:{port}",  # IPv4-mapped loopback: the test server is there
    "127.0.0.1:{port}",         # loopback, as an address
])
def test_ssrf_guard(httpd_factory, docs, host):
    """A metadata-document URL that leads outside the public internet is refused before any
    connection (no connect timeout to wait for), whatever form the address takes, unless
    OAuthASOutboundAllow names it (not here)."""
    import time as _time
    url = f"https://{host.format(port=docs.port)}/agent.json"
    docs.serve("/agent.json", document(url))
    h = httpd_factory(conf(allow=None))
    t0 = _time.monotonic()
    r = authorize(h, authz_params(url, redirect_uri=REDIRECT, scope="openid", challenge="x" * 43))
    assert_error_page(r, 400)
    assert _time.monotonic() - t0 < 1.5
    assert docs.fetched("/agent.json") == 0
    assert "outside the public internet" in h.error_log(), h.log_tail(20)
