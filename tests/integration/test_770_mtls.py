"""Mutual TLS (issue 17, RFC 8705) on the issuer's own host (SSLVerifyClient optional_no_ca):
tls_client_auth by subject DN and by SAN against a CA pinned per client, self-signed
certificates against the JWKS x5c, what happens without a certificate or without TLS,
certificate-bound access tokens at userinfo and in introspection, metadata, the brute-force
brake, curl with --cert, HTTP/2, resumed sessions, the OAuthASMTLSAlias layout and the
configtest faults and start-up warnings. Every certificate is made at test time (mtls_pki.py)."""

import json
import subprocess

import pytest

from client import (DPoPKey, assert_json_error, get_code, introspect, jwt_claims, post, redeem,
                    register, session)
from harness import Httpd, free_port
from mtls_pki import VERIFY, Pki, alias_vhost, clients
from oauth_conf import signing_key, standard_conf


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(str(tmp_path_factory.mktemp("pki")))


@pytest.fixture
def mtls(httpd_factory, pki):
    for cid in ("mtls1", "mtls2", "mtls3", "mtls4", "self1"):
        register(cid, None, redirect_uris=["https://mtls.test/cb"] if cid == "mtls1" else [])
    register("pubm", None, redirect_uris=["https://pubm.test/cb"])
    return httpd_factory(lambda h: VERIFY + standard_conf(h, extra=clients(pki)))


def tls(h, cert=None):
    """A session presenting cert (a Pki certificate, None: none)."""
    s = session(h)
    if cert:
        s.cert = cert["files"]
    return s


def cc(h, client_id, cert, **kw):
    return post(h, "/oauth/token", {"grant_type": "client_credentials", "scope": "api.read",
                                    "client_id": client_id}, sess=tls(h, cert), **kw)


def assert_bound(r, cert):
    assert r.status_code == 200, (r.status_code, r.text)
    t = r.json()
    assert t["token_type"] == "Bearer", t
    assert jwt_claims(t["access_token"])["cnf"] == {"x5t#S256": cert["x5t"]}, t
    return t


def assert_invalid_client(h, r, tag):
    assert_json_error(r, 401, "invalid_client")
    assert tag in h.error_log(), tag


# ---- client authentication ------------------------------------------------------------------

def test_tls_client_auth_by_subject(mtls, pki):
    """The right certificate authenticates and binds the token; none, the same subject from
    another CA, and another client's certificate of the same CA do not."""
    h = mtls
    assert_bound(cc(h, "mtls1", pki.leaf), pki.leaf)
    assert_invalid_client(h, cc(h, "mtls1", None), "OAS06501")
    assert_invalid_client(h, cc(h, "mtls1", pki.spoof), "OAS06503")
    assert_invalid_client(h, cc(h, "mtls1", pki.san), "OAS06504")
    # a certificate never authenticates a client of a secret method
    r = post(h, "/oauth/token", {"grant_type": "client_credentials", "client_id": "svc1"},
             sess=tls(h, pki.leaf))
    assert_json_error(r, 401, "invalid_client")


def test_tls_client_auth_by_san(mtls, pki):
    h = mtls
    assert_bound(cc(h, "mtls2", pki.san), pki.san)
    assert_invalid_client(h, cc(h, "mtls2", pki.leaf), "OAS06505")


def test_chain_sent_by_the_client(mtls, pki):
    """A client under an intermediate CA sends it in the handshake (SSL_CLIENT_CERT_CHAIN_0):
    the chain reaches the pinned root; without the intermediate it does not. Its URI SAN is
    read from the certificate (mod_ssl exports none)."""
    h = mtls
    assert_bound(cc(h, "mtls3", pki.deep_chain), pki.deep)
    assert_invalid_client(h, cc(h, "mtls3", pki.deep), "OAS06503")
    # with the intermediate in its CA file, the client need not send it
    assert_bound(cc(h, "mtls4", pki.deep), pki.deep)


def test_par_revoke_introspect(mtls, pki):
    """Client authentication by certificate at PAR, revocation and introspection too."""
    h = mtls
    data = {"response_type": "code", "client_id": "mtls1", "redirect_uri": "https://mtls.test/cb",
            "scope": "openid", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256"}
    r = post(h, "/oauth/par", data, sess=tls(h, pki.leaf))
    assert r.status_code == 201 and r.json()["request_uri"], r.text
    assert_invalid_client(h, post(h, "/oauth/par", data, sess=tls(h, pki.spoof)), "OAS06503")
    at = assert_bound(cc(h, "mtls1", pki.leaf), pki.leaf)["access_token"]
    r = post(h, "/oauth/introspect", {"token": at, "client_id": "mtls1"}, sess=tls(h, pki.leaf))
    assert r.status_code == 200 and r.json()["cnf"] == {"x5t#S256": pki.leaf["x5t"]}, r.text
    r = post(h, "/oauth/revoke", {"token": at, "client_id": "mtls1"}, sess=tls(h, None))
    assert_json_error(r, 401, "invalid_client")
    r = post(h, "/oauth/revoke", {"token": at, "client_id": "mtls1"}, sess=tls(h, pki.leaf))
    assert r.status_code == 200, r.text
    assert introspect(h, at).json() == {"active": False}


def test_secret_client_bound(mtls, pki):
    """A secret client with OAuthASCertBoundTokens On: its tokens are bound to the certificate
    it presents; without one the token endpoint refuses it."""
    h = mtls
    register("svcb", "svcb-secret-41d7e9")
    data = {"grant_type": "client_credentials", "scope": "api.read"}
    assert_bound(post(h, "/oauth/token", data, "svcb", sess=tls(h, pki.self2)), pki.self2)
    assert_invalid_client(h, post(h, "/oauth/token", data, "svcb", sess=tls(h, None)),
                          "OAS06508")


def test_public_client_bound(mtls, pki):
    """A public client with OAuthASCertBoundTokens On: its tokens and its refresh family are
    bound to the certificate it presents (any: it is not authenticated by it); without one
    the token endpoint refuses it, with another the refresh token is refused."""
    h = mtls
    g = get_code(h, "pubm", scope="openid offline_access")
    r = redeem(h, g, sess=tls(h, None))
    assert_json_error(r, 401, "invalid_client")
    assert "OAS06508" in h.error_log()
    t = assert_bound(redeem(h, g, sess=tls(h, pki.self2)), pki.self2)
    data = {"grant_type": "refresh_token", "refresh_token": t["refresh_token"],
            "client_id": "pubm"}
    r = post(h, "/oauth/token", data, sess=tls(h, pki.self1))
    assert_json_error(r, 400, "invalid_grant")
    assert "OAS06509" in h.error_log()
    assert_bound(post(h, "/oauth/token", data, sess=tls(h, pki.self2)), pki.self2)


def test_http2(httpd_factory, pki):
    """With the certificate asked for in the handshake (server level), HTTP/2 works: the
    certificate of an h2 stream is its connection's."""
    register("mtls1", None, redirect_uris=["https://mtls.test/cb"])
    h = httpd_factory(lambda h: "Protocols h2 http/1.1\n" + VERIFY + standard_conf(
        h, extra=clients(pki)), extra_modules=("http2",))
    out = subprocess.run(
        ["curl", "-sS", "--http2", "-w", "\n%{http_version}", "--cacert", h.ca, "--cert",
         pki.leaf["files"][0], "--key", pki.leaf["files"][1], "-d",
         "grant_type=client_credentials", "-d", "client_id=mtls1", "-d", "scope=api.read",
         h.issuer + "/oauth/token"], capture_output=True, text=True, timeout=30, check=True)
    body, version = out.stdout.rsplit("\n", 1)
    assert version == "2", out.stdout
    assert jwt_claims(json.loads(body)["access_token"])["cnf"] == {"x5t#S256": pki.leaf["x5t"]}


def test_self_signed(mtls, pki):
    """A self-signed certificate of the client's JWKS (x5c) authenticates; another one with
    the same subject and no CA at all does not."""
    h = mtls
    assert_bound(cc(h, "self1", pki.self1), pki.self1)
    assert_invalid_client(h, cc(h, "self1", pki.self2), "OAS06502")
    assert_invalid_client(h, cc(h, "self1", None), "OAS06501")


def test_no_tls_is_401(httpd_factory, pki):
    """Without TLS there is no certificate, whatever the headers claim (it is never read from
    a header): behind a TLS-terminating proxy (a plain vhost whose ServerName says https),
    401 invalid_client; on the plain port the endpoint is refused as before (403)."""
    register("mtls1", None, redirect_uris=["https://mtls.test/cb"])
    port = free_port()
    proxied = (f"Listen 127.0.0.1:{port}\n<VirtualHost 127.0.0.1:{port}>\n"
               "    ServerName https://localhost\n    SSLEngine off\n</VirtualHost>\n")
    h = httpd_factory(lambda h: VERIFY + standard_conf(h, extra=clients(pki) + proxied))
    pem = open(pki.leaf["files"][0]).read().replace("\n", " ")
    forged = {"SSL-Client-Cert": pem, "X-SSL-Client-Cert": pem, "X-Client-Cert": pem}
    data = {"grant_type": "client_credentials", "client_id": "mtls1", "scope": "api.read"}
    r = session().post(f"http://127.0.0.1:{port}/oauth/token", data=data, headers=forged,
                       timeout=10)
    assert_json_error(r, 401, "invalid_client")
    assert "OAS06501" in h.error_log()
    r = session().post(h.base_url + "/oauth/token", data=data, headers=forged, timeout=10)
    assert_json_error(r, 403, "invalid_request")


@pytest.mark.expect_log("OAS00136")
def test_failures_are_braked(httpd_factory, pki):
    """Failed certificates count as wrong secrets do: at the limit even the right one is
    refused (429) for that client and address."""
    register("mtls1", None, redirect_uris=["https://mtls.test/cb"])
    h = httpd_factory(lambda h: VERIFY + standard_conf(
        h, extra=clients(pki), OAuthASClientAuthFailureLimit="3 60"))
    for _ in range(3):
        assert_json_error(cc(h, "mtls1", pki.spoof), 401, "invalid_client")
    r = cc(h, "mtls1", pki.leaf)
    assert r.status_code == 429, (r.status_code, r.text)
    assert_bound(cc(h, "mtls2", pki.san), pki.san)  # another client is not affected


def test_curl_client_credentials(mtls, pki):
    h = mtls
    out = subprocess.run(
        ["curl", "-sS", "--cacert", h.ca, "--cert", pki.leaf["files"][0], "--key",
         pki.leaf["files"][1], "-d", "grant_type=client_credentials", "-d", "client_id=mtls1",
         "-d", "scope=api.read", h.issuer + "/oauth/token"],
        capture_output=True, text=True, timeout=30, check=True)
    t = json.loads(out.stdout)
    assert jwt_claims(t["access_token"])["cnf"] == {"x5t#S256": pki.leaf["x5t"]}, t


# ---- certificate-bound tokens ----------------------------------------------------------------

def test_bound_token_at_userinfo_and_introspection(mtls, pki):
    """A code-flow token of mtls1 is bound to its certificate: userinfo takes it on a
    connection with that certificate only (another, none: 401 invalid_token); introspection
    says what it is bound to."""
    h = mtls
    g = get_code(h, "mtls1", scope="openid")
    t = assert_bound(redeem(h, g, sess=tls(h, pki.leaf)), pki.leaf)
    at = t["access_token"]

    def ui(cert):
        return tls(h, cert).get(h.issuer + "/userinfo",
                                headers={"Authorization": f"Bearer {at}"}, timeout=10)
    r = ui(pki.leaf)
    assert r.status_code == 200 and r.json()["sub"] == "alice", r.text
    for cert in (pki.spoof, pki.self1, None):
        r = ui(cert)
        assert r.status_code == 401 and r.json()["error"] == "invalid_token", r.text
        assert r.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert "OAS06507" in h.error_log()
    j = introspect(h, at).json()
    assert j["active"] and j["cnf"] == {"x5t#S256": pki.leaf["x5t"]}, j
    assert j["token_type"] == "Bearer"


def test_metadata(mtls):
    md = session(mtls).get(mtls.issuer + "/.well-known/openid-configuration", timeout=10).json()
    methods = md["token_endpoint_auth_methods_supported"]
    assert "tls_client_auth" in methods and "self_signed_tls_client_auth" in methods, methods
    assert md["tls_client_certificate_bound_access_tokens"] is True
    assert "tls_client_auth" in md["revocation_endpoint_auth_methods_supported"]


def test_unbound_client_keeps_bearer_tokens(mtls, pki):
    """A secret client presenting a certificate gets no binding (OAuthASCertBoundTokens is
    Off for it by default)."""
    h = mtls
    r = post(h, "/oauth/token", {"grant_type": "client_credentials", "scope": "api.read"},
             "svc1", sess=tls(h, pki.leaf))
    assert r.status_code == 200, r.text
    assert "cnf" not in jwt_claims(r.json()["access_token"])


# ---- configtest ------------------------------------------------------------------------------

def configtest(tmp_path, pki, client_lines):
    h = Httpd(str(tmp_path / "srv"), "")
    h.body = (f'OAuthASIssuer "https://as.test"\nOAuthASSigningKey "{signing_key(h, "es256")}"\n'
              f"<OAuthASClient m>\n    OAuthASGrantType client_credentials\n"
              f"{client_lines.format(ca=pki.ca1['files'][0], jwks=pki.jwks(pki.self1))}\n"
              f"</OAuthASClient>\n")
    return h.configtest()


@pytest.mark.parametrize("lines,fragments", [
    ("OAuthASAuthMethod tls_client_auth\nOAuthASClientCertCA {ca}",
     ["<OAuthASClient m>", "OAuthASClientCertSubject or OAuthASClientCertSAN"]),
    ('OAuthASAuthMethod tls_client_auth\nOAuthASClientCertSubject "CN=x"',
     ["<OAuthASClient m>", "needs OAuthASClientCertCA"]),
    ('OAuthASAuthMethod tls_client_auth\nOAuthASClientCertSubject "CN=x"\n'
     "OAuthASClientCertSAN dns x.example\nOAuthASClientCertCA {ca}", ["exactly one"]),
    ("OAuthASAuthMethod self_signed_tls_client_auth",
     ["self_signed_tls_client_auth needs OAuthASClientJWKS"]),
    ('OAuthASAuthMethod tls_client_auth\nOAuthASClientCertSubject "CN=a;O=b"\n'
     "OAuthASClientCertCA {ca}", ["OAuthASClientCertSubject 'CN=a;O=b'", "must be escaped"]),
    ('OAuthASAuthMethod tls_client_auth\nOAuthASClientCertSubject "XX=a"\n'
     "OAuthASClientCertCA {ca}", ["unknown attribute type"]),
    ("OAuthASAuthMethod tls_client_auth\nOAuthASClientCertSAN upn x\nOAuthASClientCertCA {ca}",
     ["OAuthASClientCertSAN: unknown kind 'upn'"]),
    ("OAuthASAuthMethod tls_client_auth\nOAuthASClientCertSAN ip 300.1.1.1\n"
     "OAuthASClientCertCA {ca}", ["OAuthASClientCertSAN ip '300.1.1.1'"]),
    ('OAuthASAuthMethod tls_client_auth\nOAuthASClientCertSubject "CN=x"\n'
     "OAuthASClientCertCA {jwks}", ["OAuthASClientCertCA: no PEM certificate"]),
    ('OAuthASClientSecret "s3cret-s3cret"\nOAuthASClientCertSubject "CN=x"',
     ["need OAuthASAuthMethod tls_client_auth"]),
])
def test_configtest_faults(tmp_path, pki, lines, fragments):
    rc, out = configtest(tmp_path, pki, lines)
    assert rc != 0 and "Syntax OK" not in out, out
    for f in fragments:
        assert f in out, (f, out)


def test_configtest_valid(tmp_path, pki):
    rc, out = configtest(tmp_path, pki, 'OAuthASAuthMethod tls_client_auth self_signed_tls_client_auth\n'
                         'OAuthASClientCertSubject "cn=x+uid=7, o=Example\\, Inc."\n'
                         "OAuthASClientCertCA {ca}\nOAuthASClientJWKS {jwks}\n"
                         "OAuthASCertBoundTokens Off")
    assert rc == 0, out



def curl_twice(h, cert, client_id):
    """Two client_credentials requests of client_id with cert in one curl run, each on a
    connection of its own (Connection: close): the second resumes the first's TLS session.
    Returns (the two status codes, whether curl said it resumed)."""
    one = ["--cacert", h.ca, "-H", "Connection: close", "--cert", cert["files"][0], "--key",
           cert["files"][1], "-d", "grant_type=client_credentials", "-d", "scope=api.read",
           "-d", "client_id=" + client_id, "-o", "/dev/null", "-w", "%{http_code}\\n",
           h.issuer + "/oauth/token"]
    out = subprocess.run(["curl", "-sS", "-v"] + one + ["--next"] + one, capture_output=True,
                         text=True, timeout=30, check=True)
    return out.stdout.split(), "SSL re-using session ID" in out.stderr


def test_resumed_session(mtls, pki):
    """A resumed TLS session (as real clients resume) still has the client's certificate, so
    authentication and binding work on it; the chain the client sent is not part of a
    resumed session, so a client under an intermediate CA needs that intermediate in its
    OAuthASClientCertCA file (the anchor and its intermediates, as the README says)."""
    h = mtls
    assert curl_twice(h, pki.leaf, "mtls1") == (["200", "200"], True)
    assert curl_twice(h, pki.deep_chain, "mtls4") == (["200", "200"], True)
    # the intermediate only in the handshake: the resumed connection lacks it
    assert curl_twice(h, pki.deep_chain, "mtls3") == (["200", "401"], True)
    assert "OAS06503" in h.error_log()


# ---- OAuthASMTLSAlias: a host of its own asks for certificates -----------------------------

@pytest.fixture
def alias(httpd_factory, pki):
    """The issuer's host does not ask for client certificates; the alias host (a TLS virtual
    host on its own port, with SSLVerifyClient optional_no_ca) serves the same issuer."""
    for cid in ("mtls1", "self1"):
        register(cid, None, redirect_uris=["https://mtls.test/cb"] if cid == "mtls1" else [])
    port = free_port()

    def body(h):
        vhost = alias_vhost(h, port)
        return f"OAuthASMTLSAlias {h.alias}\n" + standard_conf(h, extra=clients(pki) + vhost)
    return httpd_factory(body)


def test_alias_metadata_and_authentication(alias, pki):
    """Metadata publishes the aliases; mTLS clients authenticate there, not on the issuer's
    host (which asks for no certificate)."""
    h = alias
    md = session(h).get(h.issuer + "/.well-known/openid-configuration", timeout=10).json()
    assert md["mtls_endpoint_aliases"] == {
        "token_endpoint": h.alias + "/oauth/token",
        "pushed_authorization_request_endpoint": h.alias + "/oauth/par",
        "userinfo_endpoint": h.alias + "/userinfo",
        "revocation_endpoint": h.alias + "/oauth/revoke",
        "introspection_endpoint": h.alias + "/oauth/introspect"}, md
    assert md["token_endpoint"] == h.issuer + "/oauth/token"
    assert md["issuer"] == h.issuer
    at = assert_bound(cc(h, "mtls1", pki.leaf, base=h.alias), pki.leaf)["access_token"]
    assert_invalid_client(h, cc(h, "mtls1", pki.leaf), "OAS06501")
    # the same issuer on both hosts: its token works at the issuer's introspection
    assert introspect(h, at).json()["cnf"] == {"x5t#S256": pki.leaf["x5t"]}


def test_alias_userinfo_and_dpop(alias, pki):
    """At the alias host a DPoP proof's htu is the alias URL (the issuer's host URL is
    refused there); a token bound to a key and a certificate carries both; userinfo on the
    alias host with the certificate takes it, the issuer's host (no certificate) does not."""
    h = alias
    k = DPoPKey()
    r = cc(h, "self1", pki.self1, base=h.alias,
           headers={"DPoP": k.proof("POST", h.issuer + "/oauth/token")})
    assert_json_error(r, 400, "invalid_dpop_proof")
    r = cc(h, "self1", pki.self1, base=h.alias,
           headers={"DPoP": k.proof("POST", h.alias + "/oauth/token")})
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP", r.text
    assert jwt_claims(r.json()["access_token"])["cnf"] == {"jkt": k.jkt,
                                                          "x5t#S256": pki.self1["x5t"]}

    g = get_code(h, "mtls1", scope="openid")
    at = assert_bound(redeem(h, g, sess=tls(h, pki.leaf), base=h.alias), pki.leaf)["access_token"]
    r = tls(h, pki.leaf).get(h.alias + "/userinfo", headers={"Authorization": f"Bearer {at}"},
                             timeout=10)
    assert r.status_code == 200 and r.json()["sub"] == "alice", r.text
    r = tls(h, pki.leaf).get(h.issuer + "/userinfo", headers={"Authorization": f"Bearer {at}"},
                             timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "invalid_token", r.text


@pytest.mark.parametrize("value", ["http://mtls.test", "https://mtls.test/oauth", "mtls.test",
                                   "https://mtls.test/?x=1", "https://u@mtls.test"])
def test_alias_configtest(tmp_path, value):
    h = Httpd(str(tmp_path / "srv"), "")
    h.body = (f'OAuthASIssuer "https://as.test"\nOAuthASSigningKey "{signing_key(h, "es256")}"\n'
              f"OAuthASMTLSAlias {value}\n")
    rc, out = h.configtest()
    assert rc != 0 and f"OAuthASMTLSAlias '{value}': not an https URL" in out, out


# The alias host's TLS set-up, checked at start-up (`apache2 -t` too): a warning, not a
# failure (another httpd, another node, may serve the alias host).
def alias_configtest(tmp_path, vhost_lines, top=""):
    """apache2 -t of an issuer whose alias host is the virtual host made of vhost_lines (no
    virtual host: None); returns its output, which must say Syntax OK."""
    h = Httpd(str(tmp_path / "srv"), "")
    port = free_port()
    vhost = alias_vhost(h, port)
    if vhost_lines is not None:
        vhost = (f"Listen 127.0.0.1:{port}\n<VirtualHost 127.0.0.1:{port}>\n"
                 f"    ServerName localhost:{port}\n{vhost_lines}</VirtualHost>\n")
    else:
        vhost = ""
    h.body = (f"{top}OAuthASMTLSAlias {h.alias}\n"
              f'OAuthASIssuer "https://as.test"\nOAuthASSigningKey "{signing_key(h, "es256")}"\n'
              f"{vhost}")
    rc, out = h.configtest()
    assert rc == 0 and "Syntax OK" in out, out
    return h, out


@pytest.mark.parametrize("lines,fragment", [
    (None, "no virtual host of this server has ServerName localhost and port"),
    ("SSLEngine on\n", "asks for no client certificate"),
    ("SSLEngine on\nSSLVerifyClient none\n", "asks for no client certificate"),
    ("SSLEngine on\n<Location /oauth/token>\n" + VERIFY + "</Location>\n",
     "asks for no client certificate"),
    ("SSLEngine off\n" + VERIFY, "has no 'SSLEngine on'"),
], ids=["no-vhost", "no-verify", "verify-none", "per-location", "no-tls"])
def test_alias_host_warnings(tmp_path, lines, fragment):
    h, out = alias_configtest(tmp_path, lines)
    tag = "OAS00450" if lines is None else "OAS00451"
    assert tag in out and f"OAuthASMTLSAlias {h.alias}" in out and fragment in out, out
    if lines is not None:
        assert "'SSLVerifyClient optional_no_ca' at its virtual-host level" in out, out


@pytest.mark.expect_log("OAS00451")
def test_alias_host_warning_in_error_log(httpd_factory):
    """At start-up the warning goes to the error log (apache2 -t: to the console), and the
    server runs."""
    port = free_port()

    def body(h):
        alias_vhost(h, port)
        return (f"OAuthASMTLSAlias {h.alias}\nListen 127.0.0.1:{port}\n"
                f"<VirtualHost 127.0.0.1:{port}>\n    ServerName localhost:{port}\n"
                "</VirtualHost>\n" + standard_conf(h))
    h = httpd_factory(body)
    assert f"OAuthASMTLSAlias {h.alias}: its host" in h.error_log()
    md = session(h).get(h.issuer + "/.well-known/openid-configuration", timeout=10).json()
    assert md["mtls_endpoint_aliases"]["token_endpoint"] == h.alias + "/oauth/token", md


@pytest.mark.parametrize("lines,top", [
    ("SSLEngine on\n" + VERIFY, ""),
    ("<IfModule ssl_module>\n" + VERIFY + "</IfModule>\n", ""),  # SSLEngine on: inherited
    ("", VERIFY),  # both from the main server
    ("SSLVerifyClient none\nSSLVerifyClient require\n", ""),  # the last one counts
], ids=["vhost", "ifmodule", "inherited", "last-wins"])
def test_alias_host_right(tmp_path, lines, top):
    h, out = alias_configtest(tmp_path, lines, top)
    assert "OAS0045" not in out, out
