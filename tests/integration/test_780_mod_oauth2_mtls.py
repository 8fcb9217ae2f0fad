"""Issue 17: Debian's mod_oauth2 (liboauth2) as a resource server accepts our
certificate-bound access tokens (cnf.x5t#S256, RFC 8705 §3) on a connection that presents the
certificate, and refuses them on one with another certificate or none.

One httpd: the main server (TLS) is the AS of standard_conf and asks for client certificates
(the mTLS clients of mtls_pki.py); a second TLS <VirtualHost> on its own port, which asks for
them too, is the resource server: /api/mtls/ is protected by mod_oauth2 with
`OAuth2TokenVerify jwks_uri <our JWKS> ...&type=mtls` (liboauth2 compares the SHA-256 of
SSL_CLIENT_CERT with the token's cnf). jwks_uri.ssl_verify=false: liboauth2 1.4.5 has no
CA-bundle option (loopback only, as in test_510)."""

import json

import pytest

from client import post, register, session
from mtls_pki import VERIFY, Pki, clients
from oauth_conf import standard_conf
from third_party import mod_oauth2_vhost

API_PAGE = '{"sub": "<!--#echo var="OAUTH2_CLAIM_sub" -->"}\n'
# mod_oauth2 logs every refused token at [error] level: another certificate, and none
# (liboauth2 1.4.5 then reports a failed BIO allocation, reading an empty SSL_CLIENT_CERT)
LOG_MISMATCH = "does not match cnf"
LOG_NO_CERT = "oauth2_mtls_client_cert_fingerprint"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(str(tmp_path_factory.mktemp("pki")))


def rs_body(h, pki):
    locations = f"""
    <Location /api/mtls/>
        AuthType oauth2
        OAuth2TokenVerify jwks_uri {h.issuer}/.well-known/jwks.json \\
            jwks_uri.ssl_verify=false&verify.exp=required&verify.iss=skip&expiry=1&type=mtls
        Require valid-user
    </Location>"""
    return (VERIFY + standard_conf(h, extra=clients(pki)) +
            mod_oauth2_vhost(h, API_PAGE, ["mtls"], locations,
                             tls=VERIFY.replace("\n", "\n    ") + "SSLOptions +ExportCertData"))


@pytest.fixture
def rs(httpd_factory, pki):
    register("mtls1", None, redirect_uris=["https://mtls.test/cb"])
    h = httpd_factory(lambda h: rs_body(h, pki))
    h.allow_log(LOG_MISMATCH, LOG_NO_CERT)
    return h


def api(h, at, cert):
    s = session(h)
    if cert:
        s.cert = cert["files"]
    return s.get(f"{h.rs_url}/api/mtls/", headers={"Authorization": f"Bearer {at}"}, timeout=10)


def test_bound_token_at_mod_oauth2(rs, pki):
    s = session(rs)
    s.cert = pki.leaf["files"]
    r = post(rs, "/oauth/token", {"grant_type": "client_credentials", "scope": "api.read",
                                  "client_id": "mtls1"}, sess=s)
    assert r.status_code == 200, r.text
    at = r.json()["access_token"]
    r = api(rs, at, pki.leaf)
    assert r.status_code == 200 and json.loads(r.text)["sub"] == "mtls1", (r.status_code, r.text)
    for cert in (pki.self1, pki.spoof, None):
        r = api(rs, at, cert)
        assert r.status_code == 401, (cert and cert["x5t"], r.status_code, r.text[:200])
    log = rs.error_log()
    assert LOG_MISMATCH in log and LOG_NO_CERT in log
