"""Back-Channel Logout 1.0 and Front-Channel Logout 1.0 (issue 21): the client directives
OAuthASBackchannelLogoutURI / OAuthASFrontchannelLogoutURI and their registration metadata;
logout tokens posted by each child's background thread to a real https receiver here (its
certificate from a test CA named by OAuthASCACertificateFile, loopback allowed by
OAuthASOutboundAllow), verified independently with the server's JWKS; a delivery retried
after a 503; a hanging receiver never stalls anything; children exit at once on stop and
graceful restart with deliveries pending."""

import html
import json
import os
import re
import shutil
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from client import (assert_json_error, get_code, jwt_header_payload, redeem, register, session,
                    verify_jws)
from harness import Httpd, module_scoped
from oauth_conf import standard_conf
from test_010_config import assert_fails, client, valid
from test_710_jwks_uri import _tls_material

EVENT = "http://schemas.openid.net/event/backchannel-logout"
REG = "/oauth/register"
REG_ENDPOINT = f"<Location {REG}>\n    OAuthASEndpoint register\n</Location>\n"


class LogoutReceiver:
    """An RP's back-channel logout endpoint: https on 127.0.0.1 (a leaf of the "jwks" test CA).
    script: path -> list of (status, seconds to wait before answering), one per POST, the last
    repeated (default 200 at once). posts: (path, headers, form, arrival time) in order."""

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

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a sender that gave up (its timeout, a child exiting) closed the socket

        self.httpd = Server(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path):
        return f"https://localhost:{self.port}{path}"

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
def reg(request, workdir_base):
    def body(h):
        return standard_conf(h, extra=REG_ENDPOINT, OAuthASRegistration="Open",
                             OAuthASRegistrationAudience="urn:test:api")
    h = Httpd(os.path.join(workdir_base, "920-reg"), body)
    h.allow_log("OAS06803")
    yield from module_scoped(request, h)


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


# ---- delivery through the end-session endpoint -------------------------------------------------

RP_SECRET = "bc-rp-secret-0c1d5e"
# client -> (back-channel path on the receiver, its script, front-channel URI or None)
RPS = {"bc1": ("/bc1", [(200, 0)], "https://bc1.test/fc?x=1"),
       "bc2": ("/bc2", [(204, 0)], None),
       "bc503": ("/bc503", [(503, 0), (200, 0)], None),
       "bchang": ("/hang", [(200, 8)], None)}
RP_BLOCK = """
<OAuthASClient {cid}>
    OAuthASClientSecret "{secret}"
    OAuthASRedirectURI https://{cid}.test/cb
    OAuthASPostLogoutRedirectURI https://{cid}.test/bye
    OAuthASScope openid
    OAuthASConsent Off
    OAuthASBackchannelLogoutURI {back}
{front}</OAuthASClient>
"""
# a back-channel delivery's failures and the drops at the end are expected here
DELIVERY_LOG = ("OAS07003", "OAS07005")


def rp_conf(receiver, rps, extra=""):
    def body(h):
        text = END_SESSION + extra
        for cid, (path, _, front) in rps.items():
            text += RP_BLOCK.format(
                cid=cid, secret=RP_SECRET, back=receiver.url(path),
                front=f"    OAuthASFrontchannelLogoutURI {front}\n" if front else "")
        return standard_conf(h, extra=text, **outbound(h))
    return body


def known_rps(rps):
    for cid in rps:
        register(cid, RP_SECRET, redirect_uris=[f"https://{cid}.test/cb"])


@pytest.fixture(scope="module")
def bc(request, workdir_base, receiver):
    for cid, (path, script, _) in RPS.items():
        receiver.script[path] = script
    known_rps(RPS)
    h = Httpd(os.path.join(workdir_base, "920-bc"), rp_conf(receiver, RPS))
    h.allow_log(*DELIVERY_LOG)
    yield from module_scoped(request, h)


def sign_in(h, sess, cid, consent=False):
    """A browser (sess) signs in to client cid (consent: the page comes, and is allowed): its
    ID token's claims and the token."""
    g = get_code(h, cid, sess=sess, scope="openid", expect_consent=consent)
    r = redeem(h, g)
    assert r.status_code == 200, r.text
    idt = r.json()["id_token"]
    claims = jwt_header_payload(idt)[1]
    assert claims.get("sid"), claims
    return claims, idt


def end_session(h, sess, **params):
    return sess.get(h.issuer + "/oauth/logout", params=params, allow_redirects=False,
                    timeout=10)


def tokens_for(receiver, path, sid, n=1, timeout=10):
    """The first n logout tokens posted to path for session sid (each form checked: one
    logout_token, form-encoded), with the times they arrived."""
    deadline = time.monotonic() + timeout
    while True:
        got = []
        with receiver.cond:
            for p, headers, form, t in receiver.posts:
                if p != path:
                    continue
                assert headers["Content-Type"] == "application/x-www-form-urlencoded"
                assert list(form) == ["logout_token"] and len(form["logout_token"]) == 1
                tok = form["logout_token"][0]
                if jwt_header_payload(tok)[1].get("sid") == sid:
                    got.append((tok, t))
            if len(got) >= n:
                return got[:n]
            left = deadline - time.monotonic()
            assert left > 0, f"{len(got)} logout tokens for {path}, not {n}"
            receiver.cond.wait(min(left, 0.5))


def test_logout_tokens_delivered_and_verified(bc, receiver):
    """Both RPs of the session get a token: our signature, sub and sid as their ID tokens."""
    with session(bc) as s:
        c1, idt1 = sign_in(bc, s, "bc1")
        c2, _ = sign_in(bc, s, "bc2")
        assert c1["sid"] == c2["sid"]
        r = end_session(bc, s, id_token_hint=idt1, post_logout_redirect_uri="https://bc1.test/bye",
                        state="st-1")
    # bc1 has a front-channel URI: the signed-out page with its iframe, then on to bc1
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert "https://bc1.test/bye" in html.unescape(r.text)
    for cid, claims in (("bc1", c1), ("bc2", c2)):
        (tok, _), = tokens_for(receiver, RPS[cid][0], c1["sid"])
        got = verify_logout_token(bc, tok, cid, sub=claims["sub"], sid=claims["sid"])
        assert "nonce" in claims and "nonce" not in got  # the ID token had one, this never
        bc.wait_log(rf"OAS07002: back-channel logout of client {cid} delivered")
        assert tok not in bc.error_log()


def test_front_channel_urls_on_signed_out_page(bc, receiver):
    with session(bc) as s:
        c1, idt = sign_in(bc, s, "bc1")
        r = end_session(bc, s, id_token_hint=idt)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    srcs = [html.unescape(m) for m in re.findall(r'<iframe[^>]*\ssrc="([^"]*)"', r.text)]
    want = "https://bc1.test/fc?x=1&" + urllib.parse.urlencode(
        {"iss": bc.issuer, "sid": c1["sid"]}, quote_via=urllib.parse.quote)
    assert srcs == [want], (srcs, want)
    tokens_for(receiver, "/bc1", c1["sid"])


def test_hanging_rp_stalls_neither_the_logout_nor_other_rps(bc, receiver):
    """One RP of the session takes 8 s to answer: the logout answers at once, the other RP
    gets its token at once (deliveries run in parallel), other requests are served."""
    with session(bc) as s:
        c, idt = sign_in(bc, s, "bchang")
        sign_in(bc, s, "bc2")
        t0 = time.monotonic()
        r = end_session(bc, s, id_token_hint=idt,
                        post_logout_redirect_uri="https://bchang.test/bye")
        answered = time.monotonic()
    assert r.status_code == 302, r.text[:300]
    assert answered - t0 < 1.5
    (tok, arrived), = tokens_for(receiver, "/hang", c["sid"])
    verify_logout_token(bc, tok, "bchang", sid=c["sid"])
    (tok2, arrived2), = tokens_for(receiver, "/bc2", c["sid"])
    verify_logout_token(bc, tok2, "bc2", sid=c["sid"])
    assert arrived2 - t0 < 2.0
    bc.wait_log(r"OAS07002: back-channel logout of client bc2 delivered", 2)
    # the delivery thread is still waiting for the hanging RP; the server answers meanwhile
    t1 = time.monotonic()
    assert bc.get("/.well-known/openid-configuration").status_code == 200
    assert time.monotonic() - t1 < 1.0
    bc.wait_log(r"OAS07003: back-channel logout of client bchang: attempt 1 of 4 failed "
                r"\(localhost: Operation timed out", 10)


def test_retried_once_after_503(bc, receiver):
    with session(bc) as s:
        c, idt = sign_in(bc, s, "bc503")
        assert end_session(bc, s, id_token_hint=idt,
                           post_logout_redirect_uri="https://bc503.test/bye").status_code == 302
    (t1, at1), (t2, at2) = tokens_for(receiver, "/bc503", c["sid"], n=2, timeout=20)
    assert 4.0 <= at2 - at1 <= 8.0, at2 - at1  # the first retry is due 5 s after the logout
    j1 = verify_logout_token(bc, t1, "bc503", sid=c["sid"])["jti"]
    j2 = verify_logout_token(bc, t2, "bc503", sid=c["sid"])["jti"]
    assert j1 != j2  # each attempt signs a new token
    bc.wait_log(r"OAS07003: back-channel logout of client bc503: attempt 1 of 4 failed "
                r"\(HTTP status 503\)")
    bc.wait_log(r"OAS07002: back-channel logout of client bc503 delivered \(HTTP 200, "
                r"attempt 2\)")


# ---- children exit at once with deliveries pending ---------------------------------------------

@pytest.mark.parametrize("mpm", ["event", "prefork"])
def test_stop_with_retries_pending(httpd_factory, receiver, mpm):
    rps = {"bcdown": ("/down", [(503, 0)], None)}
    receiver.script["/down"] = rps["bcdown"][1]
    known_rps(rps)
    h = httpd_factory(rp_conf(receiver, rps), mpm=mpm)
    h.allow_log(*DELIVERY_LOG)
    with session(h, keep_alive=False) as s:
        c, idt = sign_in(h, s, "bcdown")
        assert end_session(h, s, id_token_hint=idt,
                           post_logout_redirect_uri="https://bcdown.test/bye").status_code == 302
    h.wait_log(r"OAS07003: back-channel logout of client bcdown: attempt 1 of 4 failed")
    t0 = time.monotonic()
    h.stop()
    assert time.monotonic() - t0 < 3.0
    assert "OAS07005: back-channel logout of client bcdown dropped" in h.error_log()
    assert "AH00052" not in h.error_log()  # no child died on a signal


@pytest.mark.parametrize("mpm", ["event", "prefork"])
def test_graceful_restart_with_a_delivery_under_way(httpd_factory, receiver, mpm):
    """The RP hangs for 30 s: the old child cancels the transfer and exits at once."""
    path = f"/slow-{mpm}"
    rps = {"bcslow": (path, [(200, 30)], None)}
    receiver.script[path] = rps["bcslow"][1]
    known_rps(rps)
    h = httpd_factory(rp_conf(receiver, rps), mpm=mpm)
    h.allow_log(*DELIVERY_LOG)
    with session(h, keep_alive=False) as s:
        c, idt = sign_in(h, s, "bcslow")
        assert end_session(h, s, id_token_hint=idt,
                           post_logout_redirect_uri="https://bcslow.test/bye").status_code == 302
    tokens_for(receiver, path, c["sid"])  # arrived: the child now waits for the answer
    old = set(h.children())
    h.graceful()
    deadline = time.monotonic() + 3.0
    while old & set(h.children()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not old & set(h.children()), "an old child still runs 3 s after the restart"
    h.wait_log(r"OAS07005: back-channel logout of client bcslow dropped")


@pytest.mark.parametrize("allowed", [True, False], ids=["allowed", "ssrf-refused"])
def test_registered_client_gets_its_token(httpd_factory, receiver, allowed):
    """A client registered with backchannel_logout_uri (RFC 7591) is told like a configured
    one; one whose URI points inside (loopback here) without OAuthASOutboundAllow is refused
    before any connection (SSRF), and says so in the log."""
    def body(h):
        out = outbound(h)
        if not allowed:
            del out["OAuthASOutboundAllow"]
        return standard_conf(h, extra=REG_ENDPOINT + END_SESSION, OAuthASRegistration="Open",
                             OAuthASRegistrationAudience="urn:test:api", **out)
    h = httpd_factory(body)
    h.allow_log(*DELIVERY_LOG)
    path = "/dyn" if allowed else "/dyn-refused"
    r = reg_post(h, {"redirect_uris": ["https://dyn.test/cb"], "token_endpoint_auth_method": "none",
                     "backchannel_logout_uri": receiver.url(path),
                     "backchannel_logout_session_required": True})
    assert r.status_code == 201, r.text
    cid = r.json()["client_id"]
    register(cid, None, redirect_uris=["https://dyn.test/cb"])
    with session(h) as s:
        c, idt = sign_in(h, s, cid, consent=True)  # consent is always on for these
        r = end_session(h, s, id_token_hint=idt)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    if allowed:
        (tok, _), = tokens_for(receiver, path, c["sid"])
        verify_logout_token(h, tok, cid, sub=c["sub"], sid=c["sid"])
        return
    h.wait_log(rf"OAS07003: back-channel logout of client {cid}: attempt 1 of 4 failed "
               r"\(localhost resolves to (127\.0\.0\.1|::1), outside the public internet")
    assert receiver.count(path) == 0
