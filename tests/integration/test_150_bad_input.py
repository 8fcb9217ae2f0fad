"""Issue 3: a bad-input sweep (SECURITY.md group B, C05): a few hundred malformed requests to
/authorize and /oauth/token. Every answer is a 4xx (never a 5xx), JSON errors parse and carry
an error_description in the RFC 6749 charset, and the server serves normally afterwards."""

import base64
import gzip
import json
import re
import urllib.parse

import pytest

from client import ERROR_DESC_RE, RFC7636_CHALLENGE, Client, basic, raw_request, redirect_params
from oauth_conf import CLIENTS

CONF1 = ("conf1", CLIENTS["conf1"]["secret"])
FORM = ("Content-Type", "application/x-www-form-urlencoded")

OAUTH_ERRORS = {"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
                "unsupported_grant_type", "invalid_scope", "invalid_target"}

# Malformed encodings of a value (raw query/form text, not re-encoded).
BAD_VALUES = [
    "%zz", "%", "%4", "a%", "a%g1", "%C0%AF", "%ED%A0%80", "%80", "%F8%88%80%80%80", "%FF",
    "%C3", "%E2%9C", "%00", "a%00b", "%0D%0ASet-Cookie:%20pwn=1", "%0A", "%0D", "%09x", "%7F",
    "x%1B[31m",
]


def q(pairs):
    return "&".join(f"{urllib.parse.quote(k, safe='')}={urllib.parse.quote(v, safe='')}"
                    for k, v in pairs)


def check_4xx(r, what):
    assert 400 <= r.status_code < 500, (what, r.status_code, r.text[:300])
    ctype = r.headers.get("Content-Type", "")
    if ctype.startswith("application/json"):
        body = json.loads(r.text)
        assert isinstance(body, dict), (what, body)
        assert body.get("error") in OAUTH_ERRORS, (what, body)
        assert re.match(ERROR_DESC_RE, body.get("error_description", "")), (what, body)
        assert "no-store" in r.headers.get("Cache-Control", ""), what
    # CR/LF never reach a header raw (no injected cookie)
    assert "Set-Cookie" not in r.headers, (what, dict(r.headers))
    assert "pwn" not in r.headers.get("Location", ""), what


def authorize_base():
    return [("response_type", "code"), ("client_id", "conf1"),
            ("redirect_uri", "https://rp1.test/cb"), ("scope", "openid api.read"),
            ("state", "S"), ("nonce", "N"), ("code_challenge", RFC7636_CHALLENGE),
            ("code_challenge_method", "S256"), ("audience", "urn:test:api"),
            ("prompt", "consent")]


def authorize_cases():
    """(description, method, target, headers, body, expect) for /authorize; expect 'page'
    means a 4xx without Location."""
    base = authorize_base()
    cases = []
    for i, (name, value) in enumerate(base):
        for bad in BAD_VALUES:
            pairs = q(base[:i]) + ("&" if i else "") + name + "=" + bad + \
                ("&" + q(base[i + 1:]) if base[i + 1:] else "")
            cases.append((f"GET {name}={bad}", "GET", "/authorize?" + pairs, [], b""))
        # a malformed name
        cases.append((f"GET bad name {name}", "GET",
                      "/authorize?" + q(base) + "&%zz" + name + "=1", [], b""))
    # raw bytes the client should have encoded
    for raw in [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\x80abc", b"a\x7fb"]:
        cases.append((f"GET raw {raw!r}", "GET",
                      b"/authorize?" + q(base).encode() + b"&state2=" + raw, [], b""))
    for raw in [b"a b", b"a\x00b", b"a\tb"]:
        cases.append((f"GET raw ctl {raw!r}", "GET", b"/authorize?state=" + raw, [], b""))
    # huge values: 414 for the request line, 413 for a body
    cases.append(("GET 100kB state", "GET", "/authorize?" + q(base) + "&x=" + "a" * 100000,
                  [], b""))
    cases.append(("GET 9kB scope", "GET", "/authorize?scope=" + "openid+" * 1300, [], b""))
    body = (q(base) + "&x=" + "a" * 100000).encode()
    cases.append(("POST 100kB body", "POST", "/authorize", [FORM], body))
    cases.append(("POST 17kB body", "POST", "/authorize", [FORM], (q(base) + "&x=" + "a" * 17000)
                  .encode()))
    # one value over the parser's limit (8 KiB) in a body that fits
    cases.append(("POST 9kB value", "POST", "/authorize", [FORM],
                  (q(base[:4]) + "&state=" + "a" * 9000).encode()))
    # too many parameters
    cases.append(("GET 500 params", "GET",
                  "/authorize?" + q(base) + "".join(f"&p{i}=1" for i in range(500)), [], b""))
    # repeated client_id / redirect_uri / request_uri: an error page
    for name, value in [("client_id", "conf1"), ("client_id", "conf2"),
                        ("redirect_uri", "https://rp1.test/cb"), ("CLIENT_ID", "conf1"),
                        ("request_uri", "urn:x"), ("Redirect_Uri", "https://rp2.test/cb")]:
        cases.append((f"GET repeated {name}", "GET",
                      "/authorize?" + q(base + [(name, value)] +
                                        ([("request_uri", "urn:y")] if name == "request_uri"
                                         else [])), [], b""))
    # wrong methods (TRACE is httpd's, governed by TraceEnable)
    for m in ["PUT", "DELETE", "PATCH", "OPTIONS"]:
        cases.append((f"{m} /authorize", m, "/authorize?" + q(base), [FORM], q(base).encode()))
    # POST with a wrong or missing content type
    for ct in ["application/json", "text/plain", "multipart/form-data; boundary=x", None,
               "application/x-www-form-urlencoded; charset=ISO-8859-1",
               "application/x-www-form-urlencodedx"]:
        hdrs = [("Content-Type", ct)] if ct else []
        cases.append((f"POST ct {ct}", "POST", "/authorize", hdrs, q(base).encode()))
    # a consent POST with malformed fields
    for body in [b"txn=%zz&csrf=x&decision=allow", b"txn=a%00&csrf=x&decision=allow",
                 b"txn=a&txn=b&csrf=x&decision=allow", b"txn=" + b"a" * 9000 + b"&csrf=x",
                 b"txn=x&csrf=y&decision=%ff"]:
        cases.append((f"POST consent {body[:30]!r}", "POST", "/authorize", [FORM], body))
    return cases


@pytest.mark.catalogue("B04")
def test_authorize_sweep(oas):
    f = Client(oas)
    cases = authorize_cases()
    assert len(cases) >= 200
    for what, method, target, headers, body in cases:
        r = raw_request(oas, method, target, headers=headers, body=body, auth_user="alice")
        check_4xx(r, what)
        assert "Location" not in r.headers, (what, r.headers.get("Location"))
        if r.status_code == 405:
            assert "GET" in r.headers["Allow"] and "POST" in r.headers["Allow"], what
    # repeated parameters other than client_id/redirect_uri: ER(invalid_request), never 5xx
    base = authorize_base()
    for name, value in base[3:] + [("Scope", "openid"), ("STATE", "x")]:
        r = f.authorize(base + [(name, value)])
        qd = redirect_params(r, "https://rp1.test/cb")
        assert qd["error"] in ("invalid_request", "invalid_target"), (name, qd)
    # the server still serves a normal flow
    g = f.get_code("conf1", scope="openid api.read")
    assert f.redeem(g).status_code == 200


def token_cases(code_body_pairs):
    base = code_body_pairs
    auth = ("Authorization", basic(*CONF1))
    cases = []
    for i, (name, value) in enumerate(base):
        for bad in BAD_VALUES:
            body = q(base[:i]) + ("&" if i else "") + name + "=" + bad + \
                ("&" + q(base[i + 1:]) if base[i + 1:] else "")
            cases.append((f"{name}={bad}", "POST", "/oauth/token", [FORM, auth], body.encode()))
        # repeated with the same and with another value
        for v in (value, value + "x", ""):
            cases.append((f"repeated {name}", "POST", "/oauth/token", [FORM, auth],
                          q(base + [(name, v)]).encode()))
        # the parameter in the query instead of (or as well as) the body
        cases.append((f"query {name}", "POST", f"/oauth/token?{name}=" + value, [FORM, auth],
                      q(base).encode()))
    for extra in [("client_id", "conf1%00"), ("client_secret", "%zz"), ("client_id", "%C0%AF")]:
        cases.append((f"extra {extra}", "POST", "/oauth/token", [FORM, auth],
                      (q(base) + "&" + extra[0] + "=" + extra[1]).encode()))
    # raw bytes
    for raw in [b"\xff", b"\xc0\xaf", b"a\x00b", b"a\r\nb", b"\x80"]:
        cases.append((f"raw {raw!r}", "POST", "/oauth/token", [FORM, auth],
                      q(base).encode() + b"&code_verifier=" + raw))
    # huge bodies and values
    cases.append(("100kB body", "POST", "/oauth/token", [FORM, auth],
                  (q(base) + "&x=" + "a" * 100000).encode()))
    cases.append(("20kB body", "POST", "/oauth/token", [FORM, auth],
                  (q(base) + "&x=" + "a" * 20000).encode()))
    cases.append(("10kB verifier", "POST", "/oauth/token", [FORM, auth],
                  (q([p for p in base if p[0] != "code_verifier"]) + "&code_verifier=" +
                   "a" * 10000).encode()))
    cases.append(("many params", "POST", "/oauth/token", [FORM, auth],
                  (q(base) + "".join(f"&p{i}=1" for i in range(200))).encode()))
    cases.append(("100kB query", "POST", "/oauth/token?x=" + "a" * 100000, [FORM, auth],
                  q(base).encode()))
    # methods
    for m in ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]:
        cases.append((f"method {m}", m, "/oauth/token", [FORM, auth], b""))
    # content types and encodings
    body = q(base).encode()
    for ct in ["application/json", "text/plain", "multipart/form-data; boundary=x", None,
               "application/x-www-form-urlencoded; charset=ISO-8859-1",
               "application/x-www-form-urlencoded-x", "application/xml"]:
        hdrs = ([("Content-Type", ct)] if ct else []) + [auth]
        cases.append((f"ct {ct}", "POST", "/oauth/token", hdrs, body))
    cases.append(("json body", "POST", "/oauth/token", [("Content-Type", "application/json"), auth],
                  json.dumps(dict(base)).encode()))
    cases.append(("gzip body", "POST", "/oauth/token",
                  [FORM, ("Content-Encoding", "gzip"), auth], gzip.compress(body)))
    cases.append(("TE and CL", "POST", "/oauth/token",
                  [FORM, auth, ("Transfer-Encoding", "chunked"), ("Content-Length", "5")],
                  b"5\r\nhello\r\n0\r\n\r\n"))
    # C05: malformed Basic headers
    valid = base64.b64encode(f"{CONF1[0]}:{CONF1[1]}".encode()).decode()
    for hv in ["Basic", "Basic ", "Basic !!!!", "Basic " + base64.b64encode(b"conf1").decode(),
               "Basic " + base64.b64encode(b":secret").decode(),
               "Basic " + base64.b64encode(b"conf1:").decode(),
               "Basic " + base64.b64encode(b"conf1\0junk:" + CONF1[1].encode()).decode(),
               "Basic " + base64.b64encode(b"conf1:" + CONF1[1].encode() + b"\0junk").decode(),
               "Basic " + base64.b64encode(b"conf1\xff:" + CONF1[1].encode()).decode(),
               "Basic " + base64.b64encode(b"conf1:\xc0\xaf").decode(),
               "Basic " + base64.b64encode(b"%zz:x").decode(),
               "Basic " + "A" * 12000, "Basic " + "A" * 5000,
               "Basic  " + valid, "Bearer x", "Digest username=\"conf1\"", "Basic " + valid + "===",
               "Basic " + valid + " trailing", "Basic " + valid + ", Basic " + valid,
               "Basic " + valid[:-1], "Basic " + valid.replace("=", ""),
               "Basic " + base64.b64encode(b"conf1:wrong").decode(), "Basic\t" + valid,
               "NTLM TlRMTVNTUAABAAAA"]:
        body = q([p for p in base if p[0] != "client_id"]).encode()
        cases.append((f"auth {hv[:40]}", "POST", "/oauth/token", [FORM, ("Authorization", hv)],
                      body))
    return cases


@pytest.mark.catalogue("C05", "B05")
def test_token_sweep(oas):
    f = Client(oas)
    g = f.get_code("conf1", scope="openid api.read")
    base = [("grant_type", "authorization_code"), ("code", g["code"]),
            ("redirect_uri", g["redirect_uri"]), ("code_verifier", g["verifier"]),
            ("client_id", "conf1")]
    cases = token_cases(base)
    assert len(cases) >= 150
    for what, method, target, headers, body in cases:
        r = raw_request(oas, method, target, headers=headers, body=body)
        check_4xx(r, what)
        if r.status_code == 405:
            assert r.headers["Allow"].startswith("POST"), (what, r.headers["Allow"])
        if r.status_code == 401:
            assert r.headers["WWW-Authenticate"].startswith("Basic"), what
    # NUL variants never authenticated, nothing burnt the code: the clean request works,
    # with the scheme in lower case too (RFC 9110 §11.1)
    auth = "basic " + base64.b64encode(f"{CONF1[0]}:{CONF1[1]}".encode()).decode()
    r = f.token(dict(base), auth=auth)
    assert r.status_code == 200, r.text
    # no secret material in the error log (U5)
    log = oas.error_log()
    assert CONF1[1] not in log and g["code"] not in log and g["verifier"] not in log
    # and the server still serves a normal flow
    g = f.get_code("pub1", scope="openid")
    assert f.redeem(g).status_code == 200
