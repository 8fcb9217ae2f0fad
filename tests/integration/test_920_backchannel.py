"""Back-Channel Logout 1.0 and Front-Channel Logout 1.0 (issue 21): the client directives
OAuthASBackchannelLogoutURI / OAuthASFrontchannelLogoutURI and their registration metadata;
logout tokens posted by each child's background thread to a real https receiver here (its
certificate from a test CA named by OAuthASCACertificateFile, loopback allowed by
OAuthASOutboundAllow), verified independently with the server's JWKS; a delivery retried
after a 503; a hanging receiver never stalls anything; children exit at once on stop and
graceful restart with deliveries pending."""

import json
import os
import shutil
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from client import assert_json_error, jwt_header_payload, session, verify_jws
from harness import Httpd
from oauth_conf import standard_conf
from test_010_config import assert_fails, client, valid
from test_710_jwks_uri import _tls_material

EVENT = "http://schemas.openid.net/event/backchannel-logout"
REG = "/oauth/register"
REG_ENDPOINT = f"<Location {REG}>\n    OAuthASEndpoint register\n</Location>\n"


class LogoutReceiver:
    """An RP's back-channel logout endpoint: https on 127.0.0.1 (a leaf of the "jwks" test CA).
    script: path -> list of (status, seconds to wait before answering), one per POST, the last
    repeated (default 200 at once). posts: (path, headers, form) in arrival order."""

    def __init__(self):
        _, cert, key = _tls_material("jwks")
        self.script = {}
        self.posts = []
        self.cond = threading.Condition()
        srv = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n).decode()
                with srv.cond:
                    steps = srv.script.get(self.path, [(200, 0)])
                    count = sum(1 for p in srv.posts if p[0] == self.path)
                    status, delay = steps[min(count, len(steps) - 1)]
                    srv.posts.append((self.path, dict(self.headers),
                                      urllib.parse.parse_qs(body, keep_blank_values=True),
                                      time.monotonic()))
                    srv.cond.notify_all()
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path):
        return f"https://localhost:{self.port}{path}"

    def wait_posts(self, path, n, timeout=10):
        """The first n POSTs to path, waiting for them."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = [p for p in self.posts if p[0] == path]
                if len(got) >= n:
                    return got[:n]
                left = deadline - time.monotonic()
                assert left > 0, f"{len(got)} POSTs to {path} within {timeout} s, not {n}"
                self.cond.wait(left)

    def count(self, path):
        with self.cond:
            return sum(1 for p in self.posts if p[0] == path)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def receiver():
    r = LogoutReceiver()
    yield r
    r.close()


def outbound(h):
    """OAuthASCACertificateFile (the receiver's CA, readable by the children) and
    OAuthASOutboundAllow for the loopback receiver."""
    path = h.path("conf", "rp-ca.pem")
    shutil.copyfile(_tls_material("jwks")[0], path)
    return {"OAuthASCACertificateFile": f'"{path}"', "OAuthASOutboundAllow": "localhost"}


def verify_logout_token(h, tok, client_id, sub=None, sid=None):
    """Back-Channel Logout 1.0 §2.4 and §2.6, as an RP checks it: the signature with the
    server's JWKS, typ, iss, aud, iat, exp (2 minutes), jti, exactly one event, no nonce;
    the claims, returned."""
    jwks = h.get("/.well-known/jwks.json").json()
    header, claims = jwt_header_payload(tok)
    verify_jws(tok, jwks)
    assert header["typ"] == "logout+jwt"
    assert header["alg"] != "none"
    assert claims["iss"] == h.issuer
    assert claims["aud"] == client_id
    now = time.time()
    assert now - 60 <= claims["iat"] <= now + 5
    assert claims["exp"] == claims["iat"] + 120
    assert len(claims["jti"]) >= 16
    assert claims["events"] == {EVENT: {}}
    assert "nonce" not in claims
    if sub is not None:
        assert claims["sub"] == sub
    if sid is not None:
        assert claims["sid"] == sid
    return claims


# ---- configuration -------------------------------------------------------------------------

BAD_URIS = [("http://rp.test/logout", "is not an https URL"),
            ("https://rp.test/logout#f", "has a fragment"),
            ("/logout", "is not an https URL"),
            ("https://user@rp.test/logout", "has user information"),
            ("https://rp.test/log%zzout", "broken percent-encoding")]


@pytest.mark.parametrize("directive", ["OAuthASBackchannelLogoutURI",
                                       "OAuthASFrontchannelLogoutURI"])
@pytest.mark.parametrize("uri,fault", BAD_URIS)
def test_configtest_bad_logout_uri(tmp_path, directive, uri, fault):
    body = valid(client=client("app", 'OAuthASClientSecret "s"',
                               "OAuthASRedirectURI https://a.test/cb", f"{directive} {uri}"))
    out = assert_fails(tmp_path, body, directive, fault)
    assert uri in out


@pytest.mark.parametrize("directive", ["OAuthASBackchannelLogoutURI",
                                       "OAuthASFrontchannelLogoutURI"])
def test_configtest_logout_uri_place_and_twice(tmp_path, directive):
    assert_fails(tmp_path, valid(server_lines=f"{directive} https://rp.test/l"), directive)
    body = valid(client=client("app", 'OAuthASClientSecret "s"',
                               "OAuthASRedirectURI https://a.test/cb",
                               f"{directive} https://rp.test/l", f"{directive} https://rp.test/m"))
    assert_fails(tmp_path, body, directive, "given twice")


# ---- registration metadata -------------------------------------------------------------------

@pytest.fixture(scope="module")
def reg(workdir_base):
    def body(h):
        return standard_conf(h, extra=REG_ENDPOINT, OAuthASRegistration="Open",
                             OAuthASRegistrationAudience="urn:test:api")
    h = Httpd(os.path.join(workdir_base, "920-reg"), body)
    h.allow_log("OAS06803")
    h.start()
    yield h
    h.stop()
    assert h.check_error_log() == []


def reg_post(h, md):
    with session(h) as s:
        return s.post(h.issuer + REG, data=json.dumps(md),
                      headers={"Content-Type": "application/json"}, timeout=10)


def test_registration_logout_metadata(reg):
    md = {"redirect_uris": ["https://rp.test/cb"],
          "backchannel_logout_uri": "https://rp.test/cb?logout=backchannel",
          "backchannel_logout_session_required": True,
          "frontchannel_logout_uri": "https://rp.test/cb?logout=get",
          "frontchannel_logout_session_required": False}
    r = reg_post(reg, md)
    assert r.status_code == 201, r.text
    c = r.json()
    for k, v in md.items():
        assert c[k] == v, k


@pytest.mark.parametrize("md", [
    {"backchannel_logout_uri": "http://rp.test/bc"},
    {"backchannel_logout_uri": "https://rp.test/bc#x"},
    {"backchannel_logout_uri": ["https://rp.test/bc"]},
    {"frontchannel_logout_uri": "javascript:alert(1)"},
    {"frontchannel_logout_uri": "https://rp.test/" + "a" * 2100},
    {"backchannel_logout_session_required": "yes"},
    {"frontchannel_logout_session_required": 1},
])
def test_registration_logout_metadata_refused(reg, md):
    r = reg_post(reg, dict(md, redirect_uris=["https://rp.test/cb"]))
    assert_json_error(r, 400, "invalid_client_metadata")
    assert "logout" in r.json()["error_description"]


# ---- metadata --------------------------------------------------------------------------------

LOGOUT_FLAGS = ("backchannel_logout_supported", "backchannel_logout_session_supported",
                "frontchannel_logout_supported", "frontchannel_logout_session_supported")
END_SESSION = "<Location /oauth/logout>\n    OAuthASEndpoint end-session\n</Location>\n"


def test_metadata_logout_support(reg, httpd_factory):
    """Only with the end-session endpoint (where sessions end), then all four, true."""
    md = reg.get("/.well-known/openid-configuration").json()
    assert not any(k in md for k in LOGOUT_FLAGS)
    h = httpd_factory(lambda h: standard_conf(h, extra=END_SESSION))
    md = h.get("/.well-known/openid-configuration").json()
    assert md["end_session_endpoint"] == h.issuer + "/oauth/logout"
    assert all(md[k] is True for k in LOGOUT_FLAGS), md
