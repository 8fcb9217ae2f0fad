"""Catalogue group B (SECURITY.md §6), the parts of B01, B03-B08 that the sweeps of test_150,
test_230 and test_340 do not assert exactly (tests/CATALOGUE.md maps every ID to its tests).
Every request here gets an answer well under the 10-second client timeout; outcomes are
asserted, never speed."""

import gzip
import json
import re
import time
import unicodedata
import urllib.parse

import pytest

from client import (ERROR_DESC_RE, RFC7636_CHALLENGE, Client, assert_error_page,
                    assert_error_redirect, assert_json_error, basic, code_tokens, consent_form,
                    raw_request, read_response, redirect_params, refresh, tls_connect)
from oauth_conf import CLIENTS, CONF1_SECRET, SVC1_SECRET, USERS, standard_conf

FORM = ("Content-Type", "application/x-www-form-urlencoded")
CONF1_BASIC = ("Authorization", basic("conf1", CONF1_SECRET))
SVC1_BASIC = ("Authorization", basic("svc1", SVC1_SECRET))
MAX_BODY = 16384          # OAuthASMaxBody default (INTERFACE.md: 16 KiB)
RFC_ERRORS = {"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
              "unsupported_grant_type", "invalid_scope", "unsupported_response_type",
              "invalid_target", "request_not_supported", "temporarily_unavailable",
              "server_error", "access_denied", "invalid_token", "insufficient_scope"}


def enc(pairs):
    return "&".join(f"{urllib.parse.quote(k, safe='')}={urllib.parse.quote(v, safe='')}"
                    for k, v in pairs)


def padded(body, total):
    """body plus unknown parameters (RFC 6749 §3.1: ignored) up to exactly `total` bytes, no
    value over the parser's 8 KiB value limit."""
    pad = total - len(body) - len("&pad1=&pad2=&pad3=")
    n = pad // 3
    out = body + "&pad1=" + "a" * n + "&pad2=" + "b" * n + "&pad3=" + "c" * (pad - 2 * n)
    assert len(out) == total
    return out


def strict_json(r):
    """B08: the body parses as one JSON object with no repeated member names."""
    def pairs(items):
        names = [k for k, _ in items]
        assert len(names) == len(set(names)), f"repeated member in {r.text!r}"
        return dict(items)
    body = json.loads(r.text, object_pairs_hook=pairs)
    assert isinstance(body, dict), r.text
    return body


def code_pairs(g):
    return [("grant_type", "authorization_code"), ("code", g["code"]),
            ("redirect_uri", g["redirect_uri"]), ("code_verifier", g["verifier"])]


# ---- B01 -------------------------------------------------------------------------------------

@pytest.mark.catalogue("B01")
def test_body_limits(oas):
    """B01 (a)-(e) at the token endpoint and PAR: a valid body padded with unknown parameters
    to exactly OAuthASMaxBody succeeds, one byte more is 413; a Content-Length of 1 GiB is
    refused with 413 before the body is read (LimitRequestBody 65536 on /oauth/*); 10 MiB
    chunked is cut off with 413; a gzip-encoded body is not decompressed: 400 invalid_request."""
    h = oas
    f = Client(h)
    # PAR: exactly the limit -> 201 (the unknown padding is not stored), one more -> 413
    par = enc(f.authz_params("conf1", challenge=RFC7636_CHALLENGE).items())
    r = raw_request(h, "POST", "/oauth/par", headers=[FORM, CONF1_BASIC],
                    body=padded(par, MAX_BODY))
    assert r.status_code == 201, r.text
    ru = r.json()["request_uri"]
    r = raw_request(h, "POST", "/oauth/par", headers=[FORM, CONF1_BASIC],
                    body=padded(par, MAX_BODY + 1))
    assert r.status_code == 413, r.status_code
    # the padded push is a normal request_uri
    q = redirect_params(f.decide(consent_form(f.authorize({"client_id": "conf1",
                                                           "request_uri": ru}))))
    assert q["code"]
    # token: exactly the limit -> 200; one more -> 413 and the code is not consumed
    g = f.get_code("conf1", scope="openid")
    r = raw_request(h, "POST", "/oauth/token", headers=[FORM, CONF1_BASIC],
                    body=padded(enc(code_pairs(g)), MAX_BODY + 1))
    assert r.status_code == 413, r.status_code
    r = raw_request(h, "POST", "/oauth/token", headers=[FORM, CONF1_BASIC],
                    body=padded(enc(code_pairs(g)), MAX_BODY))
    assert r.status_code == 200, r.text
    for path in ("/oauth/token", "/oauth/par"):
        # (b) a 1 GiB Content-Length: refused at once, nothing more is read
        with tls_connect(h) as s:
            s.sendall(f"POST {path} HTTP/1.1\r\nHost: localhost:{h.tls_port}\r\n"
                      f"Content-Type: application/x-www-form-urlencoded\r\n"
                      f"Authorization: {CONF1_BASIC[1]}\r\nContent-Length: 1073741824\r\n\r\n"
                      "grant_type=authorization_code".encode())
            assert read_response(s, "POST").status_code == 413
        # (c) 10 MiB chunked: 413 once the limit is passed (sending may stop early)
        with tls_connect(h) as s:
            s.sendall(f"POST {path} HTTP/1.1\r\nHost: localhost:{h.tls_port}\r\n"
                      f"Content-Type: application/x-www-form-urlencoded\r\n"
                      f"Authorization: {CONF1_BASIC[1]}\r\nTransfer-Encoding: chunked\r\n\r\n"
                      .encode())
            chunk = b"%x\r\n" % 65536 + b"a" * 65536 + b"\r\n"
            try:
                for _ in range(160):
                    s.sendall(chunk)
            except OSError:
                pass          # the server answered and closed: fine
            assert read_response(s, "POST").status_code == 413
        # (e) Content-Encoding: gzip is not decompressed
        r = raw_request(h, "POST", path, headers=[FORM, CONF1_BASIC, ("Content-Encoding", "gzip")],
                        body=gzip.compress(par.encode()))
        assert r.status_code in (400, 415), r.status_code
        if r.status_code == 400:
            assert_json_error(r, 400, "invalid_request")


@pytest.mark.catalogue("A10", "B01")
def test_pushed_request_too_large_for_the_store(oas):
    """B01 / U1: a pushed request whose stored form would exceed what the store keeps is the
    client's error, never "busy" (503). Issue 14 changed the limits: state and nonce have
    their own maxima (2048 and 512 bytes), so a state or nonce of 8 KB is invalid_request
    (400) at the push, and redirected without the state at /authorize; the maxima, JSON
    escaping included, fit the store and a consent transaction."""
    h = oas
    f = Client(h)
    base = {k: v for k, v in f.authz_params("conf1", challenge=RFC7636_CHALLENGE).items()
            if k not in ("state", "nonce")}
    body = enc(base.items()) + "&state=" + '"' * 8000 + "&nonce=" + '"' * 8000
    r = raw_request(h, "POST", "/oauth/par", headers=[FORM, CONF1_BASIC], body=body)
    assert_json_error(r, 400, "invalid_request")
    body = enc(base.items()) + "&state=" + "s" * 8000 + "&nonce=" + "n" * 8000
    r = raw_request(h, "POST", "/oauth/par", headers=[FORM, CONF1_BASIC], body=body)
    assert_json_error(r, 400, "invalid_request")
    # at the maxima, '"' doubled by escaping: stored, and the consent transaction fits
    body = enc(base.items()) + "&state=" + '"' * 2048 + "&nonce=" + '"' * 512
    r = raw_request(h, "POST", "/oauth/par", headers=[FORM, CONF1_BASIC], body=body)
    assert r.status_code == 201, r.text
    r = f.authorize({"client_id": "conf1", "request_uri": r.json()["request_uri"]})
    # the consent page, or the code when an earlier test left the consent remembered
    assert r.status_code == 200 or "code=" in r.headers.get("Location", ""), r.status_code
    # the same through POST /authorize: a state over its maximum is not echoed
    body = enc(base.items()) + "&state=" + '"' * 7000 + "&nonce=" + "m" * 7000
    r = raw_request(h, "POST", "/authorize", body=body,
                    headers=[FORM, ("Authorization", basic("alice", USERS["alice"]))])
    q = assert_error_redirect(h, r, "invalid_request", base="https://rp1.test/cb")
    assert "state" not in q and "state is too long" in q["error_description"]
    assert "OAS00120" not in h.error_log()


# ---- B03 -------------------------------------------------------------------------------------

@pytest.mark.catalogue("B03")
def test_duplicate_parameters_at_token(oas):
    """B03: every repeated parameter of a token request (same or other value), and a parameter
    in the query as well as the body, is JE(400, invalid_request); the code is not consumed;
    the same for the refresh grant."""
    h = oas
    f = Client(h)
    g = f.get_code("conf1", scope="openid offline_access")
    base = code_pairs(g)
    cases = []
    for name, value in base:
        cases += [base + [(name, value)], base + [(name, value + "x")], base + [(name, "")]]
    cases.append(base + [("client_id", "conf1"), ("client_id", "conf1")])
    cases.append(base + [("Code", g["code"])])
    for pairs in cases:
        r = raw_request(h, "POST", "/oauth/token", headers=[FORM, CONF1_BASIC], body=enc(pairs))
        assert_json_error(r, 400, "invalid_request")
    for name, value in base:
        r = raw_request(h, "POST", f"/oauth/token?{enc([(name, value)])}",
                        headers=[FORM, CONF1_BASIC], body=enc(base))
        assert_json_error(r, 400, "invalid_request")
    r = raw_request(h, "POST", "/oauth/token", headers=[FORM, CONF1_BASIC], body=enc(base))
    assert r.status_code == 200, r.text
    rt = r.json()["refresh_token"]
    rbase = [("grant_type", "refresh_token"), ("refresh_token", rt)]
    for pairs in (rbase + [("refresh_token", rt)], rbase + [("grant_type", "refresh_token")],
                  rbase + [("scope", "openid"), ("scope", "openid")]):
        r = raw_request(h, "POST", "/oauth/token", headers=[FORM, CONF1_BASIC], body=enc(pairs))
        assert_json_error(r, 400, "invalid_request")
    assert refresh(h, "conf1", rt).status_code == 200


# ---- B04 -------------------------------------------------------------------------------------

BROKEN = ["%zz", "%", "%4", "%C0%AF", "%ED%A0%80", "%80", "%F8%88%80%80%80", "%EF%BB%BF%FF"]


@pytest.mark.catalogue("B04")
def test_encodings(oas):
    """B04: malformed percent-encoding or invalid UTF-8 in any parameter is JE(400,
    invalid_request) at the token endpoint and PAR and the error page at /authorize; the
    invalid bytes are never reflected; '+' is a space in form bodies and %2B a plus; the
    redirect URI is compared on its decoded value (lower-case hex is the same URI) but never
    after further normalisation; state keeps its Unicode form (NFC/NFD) byte for byte."""
    h = oas
    f = Client(h)
    g = f.get_code("conf1", scope="openid")
    tok = code_pairs(g)
    par = list(f.authz_params("conf1", challenge=RFC7636_CHALLENGE).items())
    for bad in BROKEN:
        for i, (k, _) in enumerate(tok):
            body = enc(tok[:i]) + ("&" if i else "") + k + "=" + bad + \
                ("&" + enc(tok[i + 1:]) if tok[i + 1:] else "")
            r = raw_request(h, "POST", "/oauth/token", headers=[FORM, CONF1_BASIC], body=body)
            assert_json_error(r, 400, "invalid_request")
            assert b"\xff" not in r.content and b"\x80" not in r.content
        for i, (k, _) in enumerate(par):
            body = enc(par[:i]) + ("&" if i else "") + k + "=" + bad + \
                ("&" + enc(par[i + 1:]) if par[i + 1:] else "")
            r = raw_request(h, "POST", "/oauth/par", headers=[FORM, CONF1_BASIC], body=body)
            assert_json_error(r, 400, "invalid_request")
            r = raw_request(h, "GET", "/authorize?" + body, auth_user="alice")
            assert_error_page(r, 400)
            assert b"\xff" not in r.content and b"\x80" not in r.content
    assert f.redeem(g).status_code == 200          # none of it touched the code
    # '+' and %2B in a form body (POST /authorize and PAR)
    p = f.authz_params("fp1", scope="openid", challenge=RFC7636_CHALLENGE)
    del p["state"]
    body = enc(p.items()) + "&state=a+b%2Bc"
    r = raw_request(h, "POST", "/authorize", headers=[FORM], body=body, auth_user="alice")
    assert redirect_params(r, "https://fp.test/cb")["state"] == "a b+c"
    r = raw_request(h, "POST", "/oauth/par", body=body.replace("client_id=fp1&", ""),
                    headers=[FORM, ("Authorization", basic("fp1", CLIENTS["fp1"]["secret"]))])
    assert r.status_code == 201, r.text
    r = f.authorize({"client_id": "fp1", "request_uri": r.json()["request_uri"]})
    assert redirect_params(r, "https://fp.test/cb")["state"] == "a b+c"
    # redirect_uri: lower-case percent hex decodes to the registered URI; anything that only
    # normalises to it (double encoding, %-encoded unreserved characters) does not match
    q = {k: v for k, v in f.authz_params("fp1", scope="openid",
                                          challenge=RFC7636_CHALLENGE).items()
         if k != "redirect_uri"}
    r = raw_request(h, "GET", "/authorize?" + enc(q.items()) +
                    "&redirect_uri=https%3a%2f%2ffp.test%2fcb", auth_user="alice")
    assert "code" in redirect_params(r, "https://fp.test/cb")
    for variant in ("https://fp.test/%63b", "https://fp.test/c%62", "https://FP.test/cb",
                    "https://fp.test/cb/.", "https://fp.test/./cb", "https://fp.test:443/cb"):
        r = raw_request(h, "GET", "/authorize?" + enc(q.items()) + "&redirect_uri=" +
                        urllib.parse.quote(variant, safe=""), auth_user="alice")
        assert_error_page(r, 400)
    # NFC and NFD are different byte strings: each comes back as sent
    for form in ("NFC", "NFD"):
        s = unicodedata.normalize(form, "Ren\u00e9e \u00c5")
        r = f.authorize({**q, "redirect_uri": "https://fp.test/cb", "state": s})
        assert redirect_params(r, "https://fp.test/cb")["state"] == s


# ---- B05 -------------------------------------------------------------------------------------

@pytest.mark.catalogue("B05")
def test_control_characters(oas):
    """B05: NUL, CR, LF and TAB in values the older sweeps do not reach (the refresh token,
    client_id at PAR, values appended to valid ones): refused, never taken for their prefix;
    no raw CR/LF in any header; error_description never carries CR/LF/TAB."""
    h = oas
    f = Client(h)
    rt = code_tokens(h, "conf1", "openid offline_access")["refresh_token"]
    for tail in ("%00", "%00x", "%0A", "%0D%0A", "%09"):
        body = "grant_type=refresh_token&refresh_token=" + rt + tail
        r = raw_request(h, "POST", "/oauth/token", headers=[FORM, CONF1_BASIC], body=body)
        assert_json_error(r, 400, "invalid_request")
    assert refresh(h, "conf1", rt).status_code == 200
    # client_id with a NUL at PAR (public client: client_id is its only credential)
    p = f.authz_params("pub1", challenge=RFC7636_CHALLENGE)
    del p["client_id"]
    for cid in ("pub1%00", "pub1%00x", "pub1%0A"):
        r = raw_request(h, "POST", "/oauth/par", headers=[FORM],
                        body="client_id=" + cid + "&" + enc(p.items()))
        body = assert_json_error(r, 400, "invalid_request")
        assert "request_uri" not in body
    # /authorize: appended to a valid client_id, redirect_uri, state, scope: a page, no code
    p = f.authz_params("fp1", scope="openid", challenge=RFC7636_CHALLENGE, state="s")
    codes = h.error_log().count("OAS00141")
    for name in ("client_id", "redirect_uri", "state", "scope", "code_challenge"):
        for tail in ("%00", "%0D%0ASet-Cookie:%20pwn=1", "%09"):
            q = enc([(k, v) for k, v in p.items() if k != name]) + "&" + name + "=" + \
                urllib.parse.quote(p[name], safe="") + tail
            r = raw_request(h, "GET", "/authorize?" + q, auth_user="alice")
            assert r.status_code == 400 and "Location" not in r.headers, (name, tail)
            assert "Set-Cookie" not in r.headers
    assert h.error_log().count("OAS00141") == codes
    # a CR/LF-bearing error: every header line stays one line (raw read)
    r = raw_request(h, "POST", "/oauth/token", headers=[FORM, CONF1_BASIC],
                    body="grant_type=x%0D%0AX-Injected:%201")
    assert "X-Injected" not in r.headers
    desc = r.json().get("error_description", "")
    assert not re.search(r"[\r\n\t]", desc) and re.match(ERROR_DESC_RE, desc)


# ---- B06 -------------------------------------------------------------------------------------

@pytest.mark.catalogue("B06")
def test_huge_values_and_many_parameters(oas):
    """B06: a 64 KB scope token, 100 KB of scopes, 2,000 distinct parameters, 10,000 '&',
    1,000 cookies, more than 100 header fields, a 10 KB refresh_token: each a bounded 4xx
    (413 / 414 / 400, the form parser's parameter and value limits) or, for harmless padding,
    the normal answer; never a 5xx. Time is not asserted (the answers are immediate; the
    quadratic-parsing probe of the catalogue cannot reach the parser past the 16 KiB body
    limit)."""
    h = oas
    f = Client(h)
    par = enc(f.authz_params("conf1", challenge=RFC7636_CHALLENGE).items())
    cases = [
        ("POST", "/authorize", [FORM], "scope=" + "s" * 65536, True, {413}),
        ("POST", "/oauth/par", [FORM, CONF1_BASIC], par + "&scope2=" + "+".join(
            f"s{i}" for i in range(10000)), False, {413}),
        ("GET", "/authorize?scope=" + "+".join(f"s{i}" for i in range(10000)), [], "", True,
         {414}),
        ("POST", "/oauth/par", [FORM, CONF1_BASIC], par + "".join(
            f"&a{i}" for i in range(2000)), False, {400}),
        ("POST", "/oauth/par", [FORM, CONF1_BASIC], par + "&" * 10000, False, {201}),
        ("POST", "/oauth/par", [FORM, CONF1_BASIC,
                                ("Cookie", "; ".join(f"c{i}=1" for i in range(1000)))], par,
         False, {201, 400}),
        ("POST", "/oauth/par", [FORM, CONF1_BASIC] + [("Cookie", f"c{i}=1")
                                                      for i in range(1000)], par, False, {400}),
        ("POST", "/oauth/par", [FORM, CONF1_BASIC] + [(f"X-H{i}", "1") for i in range(101)],
         par, False, {400}),
        ("POST", "/oauth/token", [FORM, CONF1_BASIC],
         "grant_type=refresh_token&refresh_token=" + "r" * 10240, False, {400}),
        ("POST", "/oauth/token", [FORM, CONF1_BASIC],
         "grant_type=authorization_code&code=c&code_verifier=" + "v" * 10240, False, {400}),
    ]
    for method, target, headers, body, as_user, want in cases:
        r = raw_request(h, method, target, headers=headers, body=body,
                        auth_user="alice" if as_user else None, timeout=10)
        assert r.status_code in want, (target[:40], len(body), r.status_code, r.text[:200])
        if r.status_code == 400 and r.headers.get("Content-Type", "").startswith(
                "application/json"):
            assert strict_json(r)["error"] == "invalid_request", r.text
    # the server is fine afterwards
    assert f.redeem(f.get_code("conf1", scope="openid")).status_code == 200


# ---- B07 -------------------------------------------------------------------------------------

@pytest.mark.catalogue("B07")
@pytest.mark.allow_log("AH02031")
def test_methods_and_framing(httpd_factory):
    """B07, the parts the sweeps leave out: TRACE (httpd answers it before any module; with
    `TraceEnable off`, the recommended setting, it is 405), HTTP/1.0 without Host (400 from
    httpd: mod_ssl logs AH02031 for the SNI name without Host), TE + CL together never lets a
    smuggled second request through, and a body shorter than its Content-Length then closed
    leaves the server healthy. HEAD /authorize with a request_uri: test_207."""
    h = httpd_factory(lambda h: standard_conf(h, extra="TraceEnable off\n"))
    f = Client(h)
    for path in ("/oauth/token", "/oauth/par", "/authorize"):
        r = raw_request(h, "TRACE", path)
        assert r.status_code == 405, (path, r.status_code)
        assert "message/http" not in r.headers.get("Content-Type", "")
    with tls_connect(h) as s:
        s.sendall(b"POST /oauth/token HTTP/1.0\r\nContent-Type: application/x-www-form-urlencoded"
                  b"\r\nContent-Length: 29\r\n\r\ngrant_type=client_credentials")
        assert read_response(s, "POST").status_code == 400
    # TE + CL with a smuggled request behind a zero chunk: one answer, a 4xx
    smuggled = (b"POST /oauth/token HTTP/1.1\r\nHost: localhost\r\n"
                b"Authorization: " + SVC1_BASIC[1].encode() +
                b"\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 29\r\n\r\ngrant_type=client_credentials")
    body = b"0\r\n\r\n" + smuggled
    with tls_connect(h) as s:
        s.sendall(b"POST /oauth/token HTTP/1.1\r\nHost: localhost\r\n"
                  b"Content-Type: application/x-www-form-urlencoded\r\n"
                  b"Transfer-Encoding: chunked\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        s.settimeout(5)
        data = b""
        try:
            while True:
                c = s.recv(65536)
                if not c:
                    break
                data += c
        except OSError:
            pass
    assert data.count(b"HTTP/1.1 ") == 1, data[:300]
    assert 400 <= int(data.split(b" ", 2)[1]) < 500 and b"access_token" not in data
    # a body shorter than Content-Length, then the client goes away
    with tls_connect(h) as s:
        s.sendall(b"POST /oauth/token HTTP/1.1\r\nHost: localhost\r\nAuthorization: " +
                  SVC1_BASIC[1].encode() + b"\r\nContent-Type: application/x-www-form-"
                  b"urlencoded\r\nContent-Length: 500\r\n\r\ngrant_type=client_cred")
    r = f.s.post(h.issuer + "/oauth/token", data={"grant_type": "client_credentials"},
                 auth=("svc1", SVC1_SECRET), timeout=10)
    assert r.status_code == 200, r.text


# ---- B08 -------------------------------------------------------------------------------------

INJECT = ['x","error":"none","a":"', '"\\u0000</script><script>alert(1)</script>',
          '\\"}', 'a"b\\c', "\U0001F600\u00e9", "</title><svg onload=alert(1)>"]


@pytest.mark.catalogue("B08")
def test_injection_into_errors(oas):
    """B08: payloads that could break out of JSON or HTML, in the error-triggering parameters
    of the token endpoint, PAR, revoke, introspect and /authorize: every JSON body parses as
    one object with exactly one `error` member from the RFC set and an error_description in
    the RFC 6749 charset; error redirects decode to the same charset; error pages escape."""
    h = oas
    f = Client(h)
    n = 0
    for p in INJECT:
        reqs = [
            ("/oauth/token", [FORM], [("grant_type", "authorization_code"), ("code", "x"),
                                      ("client_id", p)]),
            ("/oauth/token", [FORM, CONF1_BASIC], [("grant_type", p)]),
            ("/oauth/token", [FORM, CONF1_BASIC], [("grant_type", "authorization_code"),
                                                   ("code", p), ("code_verifier", p)]),
            ("/oauth/token", [FORM, CONF1_BASIC], [("grant_type", "refresh_token"),
                                                   ("refresh_token", p), ("scope", p)]),
            ("/oauth/token", [FORM, ("Authorization", basic(p, p))],
             [("grant_type", "client_credentials")]),
            ("/oauth/par", [FORM, CONF1_BASIC], list(f.authz_params(
                "conf1", challenge=RFC7636_CHALLENGE, redirect_uri=p).items())),
            ("/oauth/par", [FORM, CONF1_BASIC], list(f.authz_params(
                "conf1", challenge=RFC7636_CHALLENGE, scope=p).items())),
            ("/oauth/par", [FORM, CONF1_BASIC], list(f.authz_params(
                "conf1", challenge=p).items())),
            ("/oauth/revoke", [FORM, SVC1_BASIC], [("token", p), ("token_type_hint", p)]),
            ("/oauth/introspect", [FORM, SVC1_BASIC], [("token", p)]),
        ]
        for path, headers, pairs in reqs:
            r = raw_request(h, "POST", path, headers=headers, body=enc(pairs))
            n += 1
            assert r.status_code < 500, (path, p, r.status_code)
            if r.status_code == 200:       # revoke of an unknown token, inactive introspection
                assert strict_json(r) in ({}, {"active": False}), r.text
                continue
            assert r.headers["Content-Type"].startswith("application/json"), (path, p)
            body = strict_json(r)
            assert body["error"] in RFC_ERRORS, body
            assert re.match(r"^[\x20-\x21\x23-\x5B\x5D-\x7E]{0,256}$",
                            body.get("error_description", "")), body
            assert "<" not in r.text and "alert" not in r.text, r.text
        # /authorize: redirected errors (invalid_scope, PKCE) decode to the charset too
        for extra in ({"scope": p}, {"code_challenge": p}, {"prompt": p}):
            r = f.authorize({**f.authz_params("conf1", challenge=RFC7636_CHALLENGE,
                                              state="b8"), **extra})
            n += 1
            q = redirect_params(r, "https://rp1.test/cb")
            assert q["error"] in RFC_ERRORS and q["state"] == "b8", q
            assert re.match(r"^[\x20-\x21\x23-\x5B\x5D-\x7E]{0,256}$",
                            q.get("error_description", "")), q
        # error pages: client_id and redirect_uri escaped
        for extra in ({"client_id": p}, {"redirect_uri": "https://rp1.test/cb" + p}):
            r = f.authorize({**f.authz_params("conf1", challenge=RFC7636_CHALLENGE), **extra})
            n += 1
            assert_error_page(r, 400)
            low = r.text.lower()
            assert "<script" not in low and "<svg" not in low and 'error":"none' not in low
    assert n >= 80
