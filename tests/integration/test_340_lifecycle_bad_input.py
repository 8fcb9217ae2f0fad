"""Bad input at userinfo, revoke and introspect (issue 6; SECURITY.md group B): every answer is a
4xx, never a 5xx or a crash, and the server is healthy afterwards (the error_log check of the
fixture fails the test on any [error] line or dead child)."""

import base64
import socket
import ssl

import pytest

from client import assert_healthy, code_tokens, session, userinfo
from oauth_conf import CONF1_SECRET, SVC1_SECRET

FORM = "application/x-www-form-urlencoded"
BASIC = "Basic " + base64.b64encode(f"conf1:{CONF1_SECRET}".encode()).decode()
SVC1 = "Basic " + base64.b64encode(f"svc1:{SVC1_SECRET}".encode()).decode()
CLIENT_EPS = ["/oauth/revoke", "/oauth/introspect"]
ALL_EPS = ["/userinfo"] + CLIENT_EPS


def send(h, method, path, body=b"", headers=None, s=None):
    s = s or session(h)
    return s.request(method, h.issuer + path, data=body, headers=headers or {}, timeout=10,
                     allow_redirects=False)


def is_4xx(r, what):
    assert 400 <= r.status_code < 500, (what, r.status_code, r.text[:300])


@pytest.fixture
def srv(oas):
    yield oas
    assert_healthy(oas)


@pytest.mark.catalogue("B05")
@pytest.mark.parametrize("path", CLIENT_EPS)
def test_bad_form_bodies(srv, path):
    h = srv
    s = session(h)
    bodies = {
        "bad percent": b"token=%zz",
        "truncated percent": b"token=abc%4",
        "NUL": b"token=a%00b",
        "raw NUL": b"token=a\x00b",
        "control": b"token=a%01b",
        "raw newline": b"token=a\nb",
        "repeated token": b"token=a&token=b",
        "repeated hint": b"token=a&token_type_hint=x&token_type_hint=y",
        "repeated client_id": b"client_id=conf1&client_id=conf1&token=a",
        "empty key": b"=a&token=b",
        "only ampersands": b"&&&&",
        "invalid utf-8 raw": b"token=\xff\xfe",
    }
    for name, body in bodies.items():
        r = send(h, "POST", path, body, {"Content-Type": FORM, "Authorization": BASIC}, s=s)
        is_4xx(r, name)
        if name.startswith(("bad", "trunc", "NUL", "raw NUL", "control", "repeated")):
            assert r.status_code == 400 and r.json()["error"] == "invalid_request", (name, r.text)
    # percent-encoded invalid UTF-8 is a well-formed (unknown) token
    r = send(h, "POST", path, b"token=%ff%fe", {"Content-Type": FORM, "Authorization": BASIC}, s=s)
    assert r.status_code in (200, 400), r.text


@pytest.mark.catalogue("B01")
@pytest.mark.parametrize("path", ALL_EPS)
def test_huge_bodies(srv, path):
    h = srv
    s = session(h)
    name = b"access_token=" if path == "/userinfo" else b"token="
    headers = {"Content-Type": FORM}
    if path != "/userinfo":
        headers["Authorization"] = BASIC
    # over OAuthASMaxBody (16 KiB)
    r = send(h, "POST", path, name + b"t" * 17 * 1024, headers, s=s)
    assert r.status_code == 413, (r.status_code, r.text[:200])
    # over LimitRequestBody 65536 on /oauth/* (and for /userinfo over the module's limit)
    r = send(h, "POST", path, name + b"u" * 70000, headers, s=s)
    assert r.status_code == 413, (r.status_code, r.text[:200])


def test_huge_body_chunked(srv):
    h = srv

    def gen():
        yield b"token="
        for _ in range(40):
            yield b"v" * 1024

    for path in CLIENT_EPS:
        r = session(h).post(h.issuer + path, data=gen(), timeout=10,
                            headers={"Content-Type": FORM, "Authorization": BASIC})
        assert r.status_code == 413, (path, r.status_code)


@pytest.mark.catalogue("B07")
@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
def test_wrong_methods(srv, method):
    h = srv
    for path in ALL_EPS:
        r = send(h, method, path, b"token=a", {"Content-Type": FORM, "Authorization": BASIC})
        assert r.status_code == 405, (path, method, r.status_code)
        allow = {m.strip() for m in r.headers["Allow"].split(",")}
        assert "POST" in allow and method not in allow, allow
        assert ("GET" in allow) == (path == "/userinfo"), allow


@pytest.mark.parametrize("path", CLIENT_EPS)
def test_get_is_not_allowed(srv, path):
    h = srv
    r = send(h, "GET", path + "?token=a", headers={"Authorization": BASIC})
    assert r.status_code == 405 and "POST" in r.headers["Allow"]


@pytest.mark.parametrize("path", CLIENT_EPS)
def test_wrong_content_types(srv, path):
    h = srv
    s = session(h)
    for ct, body in [("application/json", b'{"token":"a"}'), ("text/plain", b"token=a"),
                     ("multipart/form-data; boundary=x",
                      b'--x\r\nContent-Disposition: form-data; name="token"\r\n\r\na\r\n--x--\r\n'),
                     ("application/x-www-form-urlencodedX", b"token=a"),
                     (None, b"token=a")]:
        headers = {"Authorization": BASIC}
        if ct:
            headers["Content-Type"] = ct
        r = send(h, "POST", path, body, headers, s=s)
        assert r.status_code == 400 and r.json()["error"] == "invalid_request", (ct, r.text)
    # a charset parameter is fine
    r = send(h, "POST", path, b"token=a",
             {"Content-Type": FORM + "; charset=UTF-8", "Authorization": BASIC}, s=s)
    assert r.status_code == 200


@pytest.mark.catalogue("C04")
@pytest.mark.parametrize("path", CLIENT_EPS)
def test_query_strings_refused(srv, path):
    h = srv
    r = send(h, "POST", path + "?token=a", b"token=a", {"Content-Type": FORM,
                                                        "Authorization": BASIC})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = send(h, "POST", path + f"?client_secret={CONF1_SECRET}", b"token=a&client_id=conf1",
             {"Content-Type": FORM})
    is_4xx(r, "secret in query")


MALFORMED_BASIC = [
    "Basic", "Basic ", "Basic !!!!", "Basic " + base64.b64encode(b"nocolon").decode(),
    "Basic " + base64.b64encode(b":").decode(), "Basic " + base64.b64encode(b"conf1:").decode(),
    "Basic " + base64.b64encode(b"%zz:x").decode(),
    "Basic " + base64.b64encode(b"conf1\x00:x").decode(),
    "Basic " + "A" * 6000, "Bearer abc", "Digest username=conf1", "basic",
    "Basic " + base64.b64encode(("conf1:" + CONF1_SECRET).encode()).decode() + "garbage",
]


@pytest.mark.catalogue("C05")
@pytest.mark.parametrize("path", CLIENT_EPS)
def test_malformed_authorization_at_client_endpoints(srv, path):
    h = srv
    s = session(h)
    for a in MALFORMED_BASIC:
        r = send(h, "POST", path, b"token=a", {"Content-Type": FORM, "Authorization": a}, s=s)
        is_4xx(r, a[:40])
        assert r.json()["error"] in ("invalid_client", "invalid_request"), (a[:40], r.text)
    # Basic and a client_secret in the body at once
    r = send(h, "POST", path, f"token=a&client_secret={CONF1_SECRET}".encode(),
             {"Content-Type": FORM, "Authorization": BASIC}, s=s)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


def test_malformed_authorization_at_userinfo(srv):
    h = srv
    s = session(h)
    at = code_tokens(h, "conf1", "openid")["access_token"]
    for a in ["Bearer", "Bearer ", "Basic " + base64.b64encode(b"a:b").decode(), "Bearerx " + at,
              "Bearer " + at + " extra", "Bearer  " + at, "Bearer " + "A" * 7000,
              "Bearer \x01abc", "Bearer " + at[:-1] + "\u00e9".encode().decode("latin-1"),
              "MAC id=x", "Bearer a.b.c"]:
        r = send(h, "GET", "/userinfo", headers={"Authorization": a}, s=s)
        is_4xx(r, a[:40])
        if "\x01" in a:   # httpd itself refuses control characters in a header: plain 400
            assert r.status_code == 400
            continue
        assert r.headers["WWW-Authenticate"].startswith("Bearer"), (a[:40], r.status_code)
    # userinfo form body with bad encodings and repeats
    for body in [b"access_token=%zz", b"access_token=a&access_token=b", b"access_token=a%00",
                 b"access_token=" + at.encode() + b"&access_token=" + at.encode()]:
        r = send(h, "POST", "/userinfo", body, {"Content-Type": FORM}, s=s)
        assert r.status_code == 400, (body[:30], r.status_code)
    # a non-form POST body is not a token carrier
    r = send(h, "POST", "/userinfo", b'{"access_token":"%s"}' % at.encode(),
             {"Content-Type": "application/json"}, s=s)
    assert r.status_code == 401
    # the good token still works afterwards
    assert userinfo(h, at).status_code == 200


def test_raw_protocol_abuse(srv):
    """Hand-written requests: a Content-Length that lies, a body cut short."""
    h = srv
    ctx = ssl.create_default_context(cafile=h.ca)

    def raw(req, timeout=5):
        with socket.create_connection(("127.0.0.1", h.tls_port), timeout) as sock:
            with ctx.wrap_socket(sock, server_hostname="localhost") as tls:
                tls.sendall(req)
                data = b""
                try:
                    while True:
                        chunk = tls.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                except (socket.timeout, ssl.SSLError, ConnectionResetError):
                    pass
                return data

    for path in CLIENT_EPS:
        # a Content-Length that is not a number
        req = (f"POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {SVC1}\r\n"
               f"Content-Type: {FORM}\r\nContent-Length: abc\r\nConnection: close\r\n\r\n"
               "token=a").encode()
        resp = raw(req)
        status = int(resp.split(b" ", 2)[1]) if resp.startswith(b"HTTP/") else 400
        assert 400 <= status < 500, resp[:200]
        # Content-Length beyond LimitRequestBody: refused before reading
        req = (f"POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {SVC1}\r\n"
               f"Content-Type: {FORM}\r\nContent-Length: 999999999\r\nConnection: close\r\n\r\n"
               "token=a").encode()
        resp = raw(req)
        assert resp.startswith(b"HTTP/1.1 413"), resp[:200]
