"""Pushed Authorization Requests: a bad-input sweep (issue 4; SECURITY.md B group, U1-U3).
A few hundred malformed PAR requests → a clear 4xx each, never a 5xx or a crash; JSON error
bodies parse and their error_description stays in the RFC 6749 §5.2 character set; the
server then still serves a normal PAR flow."""

import base64
import http.client
import json
import socket
import ssl
import urllib.parse

import pytest

from client import DESC_RE, Client, Pkce, assert_error_page, assert_json_error
from oauth_conf import CONF1_SECRET

FORM = "application/x-www-form-urlencoded"


def basic(value):
    return "Basic " + base64.b64encode(value if isinstance(value, bytes)
                                       else value.encode()).decode()


GOOD_AUTH = basic(f"conf1:{CONF1_SECRET}")


def base_pairs(pkce):
    return [("response_type", "code"), ("redirect_uri", "https%3A%2F%2Frp1.test%2Fcb"),
            ("scope", "openid+profile"), ("state", "S1"), ("code_challenge", pkce.challenge),
            ("code_challenge_method", "S256"), ("nonce", "N1")]


def encode(pairs):
    return "&".join(f"{k}={v}" for k, v in pairs)


def check_4xx(r, what):
    """U1/U3 on one answer: 4xx; JSON bodies strict and with a clean error_description."""
    assert 400 <= r.status_code < 500, (what, r.status_code, r.text[:300])
    ctype = r.headers.get("Content-Type", "")
    if ctype.startswith("application/json"):
        body = json.loads(r.text)
        assert isinstance(body, dict) and isinstance(body.get("error"), str), (what, body)
        assert DESC_RE.match(body.get("error_description", "")), (what, body)
        assert "no-store" in r.headers.get("Cache-Control", ""), what
        return body
    return None


def malformed_bodies(pkce):
    """(label, body bytes) that the form parser must refuse → 400 invalid_request."""
    pairs = base_pairs(pkce)
    values = {
        "pct": ["%", "%4", "%zz", "%G0", "abc%", "%%", "%u0041", "%-1", "a%2", "%0"],
        "nul": ["%00", "a%00b", "S1%00"],
        "ctl": ["%0d", "%0a", "%0d%0a", "%09", "a%0D%0AX-Injected:%201", "%1b", "%7f"],
        "utf8": ["%ff", "%c3%28", "%e2%82", "%ed%a0%80", "%c0%af", "%f8%88%80%80%80", "%fe",
                 "%80", "%f4%90%80%80"],
    }
    out = []
    for kind, vals in values.items():
        for v in vals:
            for i, (k, _) in enumerate(pairs):
                p = list(pairs)
                p[i] = (k, v)
                out.append((f"{kind} {k}={v}", encode(p).encode()))
    # raw (unencoded) control and non-UTF-8 bytes in a value and in a name
    for raw in (b"\x00", b"\r\n", b"\n", b"\t", b"\xff", b"\xc3\x28", b"\x1b"):
        out.append((f"raw value {raw!r}", encode(pairs).encode() + b"&state2=a" + raw + b"b"))
        out.append((f"raw name {raw!r}", encode(pairs).encode() + b"&st" + raw + b"x=1"))
        out.append((f"raw state {raw!r}", encode(pairs[:3]).encode() + b"&state=S" + raw))
    # bad names: encoded garbage, empty name
    for name in ("%", "%zz", "%00", "%ff", "%0a", "=", ""):
        out.append((f"name {name!r}", (encode(pairs) + f"&{name}=1").encode()))
    # repeated parameters (also case variants, empty values and equal values)
    for k, v in pairs:
        for extra in (f"{k}={v}", f"{k}=other", f"{k}=", f"{k.upper()}={v}"):
            out.append((f"repeat {extra}", (encode(pairs) + "&" + extra).encode()))
    # too many parameters
    out.append(("65 pairs", (encode(pairs) + "".join(f"&x{i}=1" for i in range(60))).encode()))
    return out


@pytest.mark.catalogue("P07", "C05", "B01", "B04", "B07")
def test_par_bad_input_sweep(oas):
    c = Client(oas)
    pkce = Pkce()
    url = oas.issuer + "/oauth/par"
    pid = oas.pid
    n = 0

    # 1. bodies the form parser refuses: 400 invalid_request (before client authentication)
    for label, body in malformed_bodies(pkce):
        for auth in (GOOD_AUTH, None):
            headers = {"Content-Type": FORM}
            if auth:
                headers["Authorization"] = auth
            r = c.s.post(url, data=body, headers=headers)
            n += 1
            check_4xx(r, label)
            assert_json_error(r, 400, "invalid_request")

    good = encode(base_pairs(pkce))

    # 2. wrong methods: 405 with Allow: POST
    for method in ("GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "PROPFIND", "FOO"):
        r = c.s.request(method, url, headers={"Authorization": GOOD_AUTH})
        n += 1
        check_4xx(r, method)
        assert r.status_code == 405, (method, r.status_code)
        allow = [m.strip() for m in r.headers.get("Allow", "").split(",")]
        assert "POST" in allow and "GET" not in allow, (method, r.headers.get("Allow"))
    r = c.s.get(url + "?" + good, headers={"Authorization": GOOD_AUTH})
    n += 1
    assert r.status_code == 405
    # the same sender serves /authorize: its 405 names GET and POST
    r = c.s.put(oas.issuer + "/authorize?client_id=conf1", auth=("alice", "alice-password"))
    n += 1
    assert r.status_code == 405
    allow = [m.strip() for m in r.headers.get("Allow", "").split(",")]
    assert "GET" in allow and "POST" in allow, r.headers.get("Allow")

    # 3. wrong content types: 400 invalid_request
    for ctype in ("application/json", "text/plain", "multipart/form-data; boundary=x",
                  "application/x-www-form-urlencoded-x", "application/x-www-form",
                  "application/x-www-form-urlencoded; charset=iso-8859-1",
                  "application/x-www-form-urlencoded; charset=utf-16", "", "*/*",
                  "text/html; a=application/x-www-form-urlencoded"):
        r = c.s.post(url, data=good, headers={"Content-Type": ctype,
                                              "Authorization": GOOD_AUTH})
        n += 1
        check_4xx(r, ctype)
        assert_json_error(r, 400, "invalid_request")
    r = c.s.post(url, data=json.dumps(dict(urllib.parse.parse_qsl(good))),
                 headers={"Content-Type": "application/json", "Authorization": GOOD_AUTH})
    n += 1
    assert_json_error(r, 400, "invalid_request")
    # the accepted spellings of the form type still work
    for ctype in (FORM + "; charset=UTF-8", "Application/X-WWW-Form-Urlencoded",
                  FORM + ";charset=utf-8"):
        r = c.s.post(url, data=good, headers={"Content-Type": ctype,
                                              "Authorization": GOOD_AUTH})
        n += 1
        assert r.status_code == 201, (ctype, r.text)

    # 4. parameters in the query string: 400 invalid_request, body or not
    for q in ("client_id=conf1", "x=1", "request_uri=urn:x", good, "%zz", "a=%00"):
        r = c.s.post(url + "?" + q, data=good, headers={"Content-Type": FORM,
                                                        "Authorization": GOOD_AUTH})
        n += 1
        check_4xx(r, q)
        assert_json_error(r, 400, "invalid_request")

    # 5. malformed Basic headers: 401 invalid_client with WWW-Authenticate
    for h in ("Basic", "Basic ", "Basic !!!", "Basic ====", basic("conf1"), basic(":"),
              basic("conf1:"), basic(":" + CONF1_SECRET), basic(b"conf1\x00:x"),
              basic(b"\xff\xfe:\xff"), basic("conf%zz:x"), basic("conf1:%zz"),
              "Basic " + "QUFB" * 2000, "Bearer abc", "Digest username=conf1", "Basicabc",
              basic(f"conf1:{CONF1_SECRET}") + "!", basic(f"conf1:{CONF1_SECRET}x"),
              basic(f"conf1 :{CONF1_SECRET}"), basic(f"CONF1:{CONF1_SECRET}"),
              GOOD_AUTH + ", " + GOOD_AUTH):
        r = c.s.post(url, data=good, headers={"Content-Type": FORM, "Authorization": h})
        n += 1
        check_4xx(r, h[:40])
        assert_json_error(r, 401, "invalid_client")

    # 6. size: over OAuthASMaxBody (16 KiB) and over LimitRequestBody (64 KiB) → 413
    for size in (17 * 1024, 100 * 1024):
        body = good + "&pad=" + "a" * size
        r = c.s.post(url, data=body, headers={"Content-Type": FORM,
                                              "Authorization": GOOD_AUTH})
        n += 1
        check_4xx(r, f"{size} bytes")
        assert r.status_code == 413, (size, r.status_code)
        # chunked, no Content-Length
        r = c.s.post(url, data=iter([body[i:i + 4096].encode()
                                     for i in range(0, len(body), 4096)]),
                     headers={"Content-Type": FORM, "Authorization": GOOD_AUTH})
        n += 1
        check_4xx(r, f"{size} bytes chunked")
        assert r.status_code == 413, (size, r.status_code)
    # a long single value under the body limit
    r = c.s.post(url, data=good + "&nonce2=" + "n" * 12000,
                 headers={"Content-Type": FORM, "Authorization": GOOD_AUTH})
    n += 1
    check_4xx(r, "12k value")

    # 7. garbage bodies
    for body in (b"", b"&", b"&&&&", b"=", b"==", b"a", b"=a", b"\x00" * 64, b"%" * 100,
                 bytes(range(256)), b"{\"client_id\":\"conf1\"}", b"a=1;b=2",
                 ("x" * 3000).encode()):
        r = c.s.post(url, data=body, headers={"Content-Type": FORM,
                                              "Authorization": GOOD_AUTH})
        n += 1
        check_4xx(r, repr(body[:20]))

    # 8. /authorize with malformed PAR references: the 400 page, never a 5xx
    for q in ("client_id=conf1&request_uri=%zz", "client_id=conf1&request_uri=urn%00",
              "client_id=conf1&request_uri=%ff%fe",
              "client_id=conf1&request_uri=urn:ietf:params:oauth:request_uri:%0d%0a",
              "client_id=conf1&request_uri=a&request_uri=b",
              "client_id=conf1&client_id=conf2&request_uri=urn:ietf:params:oauth:request_uri:x",
              "client_id=%ff&request_uri=urn:ietf:params:oauth:request_uri:x",
              "request_uri=urn:ietf:params:oauth:request_uri:" + "x" * 6000):
        r = c.authorize(raw_query=q)
        n += 1
        assert_error_page(r, 400)

    assert n >= 300, n
    assert oas.pid == pid and oas.children()

    # the server is healthy: a normal PAR flow works
    ru = c.push_ok("conf1", pkce, state="after-sweep")
    q = c.callback(c.authorize_uri_and_approve("conf1", ru), base="https://rp1.test/cb")
    assert q["state"] == "after-sweep"
    t = c.redeem(q["code"], pkce.verifier, "conf1")
    assert t.status_code == 200 and "access_token" in t.json()


def _raw_request(h, data):
    """Sends raw bytes over TLS; the status code of the answer (0: connection closed)."""
    ctx = ssl.create_default_context(cafile=h.ca)
    with socket.create_connection(("127.0.0.1", h.tls_port), 5) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            t.sendall(data)
            t.settimeout(5)
            buf = b""
            while b"\r\n" not in buf:
                chunk = t.recv(4096)
                if not chunk:
                    return 0
                buf += chunk
    return int(buf.split(b" ", 2)[1])


@pytest.mark.catalogue("B07")
def test_par_raw_protocol_abuse(oas):
    """Requests that no HTTP library sends: a lying Content-Length, header injection, a body
    that ends early, a bare LF; httpd or the module answers 4xx (or closes), never 5xx."""
    c = Client(oas)
    pkce = Pkce()
    good = encode(base_pairs(pkce)).encode()
    host = f"localhost:{oas.tls_port}".encode()
    head = (b"POST /oauth/par HTTP/1.1\r\nHost: " + host + b"\r\nAuthorization: "
            + GOOD_AUTH.encode() + b"\r\nContent-Type: " + FORM.encode() + b"\r\n")
    cases = [
        head + b"Content-Length: 99999999999999999999\r\n\r\n" + good,
        head + b"Content-Length: -1\r\n\r\n" + good,
        head + b"Content-Length: 10\r\nContent-Length: 20\r\n\r\n" + good,
        head + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n" + good + b"\r\n0\r\n\r\n",
        head + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nstate\r\n0\r\n\r\n",
        head + b"Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(good) + good,
        head + b"X-Bad: a\x00b\r\nContent-Length: %d\r\n\r\n" % len(good) + good,
        b"POST /oauth/par?\xff HTTP/1.1\r\nHost: " + host + b"\r\n\r\n",
        b"POST /oauth/par HTTP/1.1\nHost: " + host + b"\nContent-Length: 1\n\n=",
    ]
    for data in cases:
        status = _raw_request(oas, data)
        assert status == 0 or 400 <= status < 500, (data[:120], status)
    # a body shorter than its Content-Length, then the client goes away: nothing to answer,
    # the child must survive the aborted read (the flow below and the error_log check)
    conn = http.client.HTTPSConnection("localhost", oas.tls_port, timeout=5,
                                       context=ssl.create_default_context(cafile=oas.ca))
    conn.putrequest("POST", "/oauth/par")
    conn.putheader("Content-Type", FORM)
    conn.putheader("Authorization", GOOD_AUTH)
    conn.putheader("Content-Length", str(len(good) + 50))
    conn.endheaders()
    conn.send(good)
    conn.close()
    ru = c.push_ok("conf1", pkce)
    assert "code" in c.callback(c.authorize_uri_and_approve("conf1", ru))
