"""Issue 3: browser-facing protections of /authorize and the consent page (SECURITY.md H01-H05
as far as they apply: no login form of our own, Apache authenticates)."""

import re

import pytest

from client import (RFC7636_CHALLENGE, Client, assert_error_page, assert_error_redirect,
                    consent_form, parse_forms, redirect_params)
from oauth_conf import standard_conf

CH = RFC7636_CHALLENGE


def csp_directives(r):
    out = {}
    for part in r.headers["Content-Security-Policy"].split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = words[1:]
    return out


def assert_page_headers(r):
    """H01 for an HTML page of the AS."""
    assert r.headers["X-Frame-Options"] == "DENY", r.headers
    csp = csp_directives(r)
    assert csp.get("frame-ancestors") == ["'none'"], csp
    # no script may run: script-src (or default-src when absent) never allows inline
    script = csp.get("script-src", csp.get("default-src"))
    assert script is not None and "'unsafe-inline'" not in script, csp
    assert "no-store" in r.headers["Cache-Control"], r.headers
    assert r.headers["Referrer-Policy"] == "no-referrer", r.headers
    assert r.headers["X-Content-Type-Options"] == "nosniff", r.headers
    assert "Access-Control-Allow-Origin" not in r.headers
    # every sub-resource same-origin: no absolute URLs in src/href/action attributes
    assert not re.search(r"""(src|href|action)\s*=\s*["']?\s*(https?:)?//""", r.text, re.I), r.text


def consent(f, client="conf1", user="alice", **kw):
    p = f.authz_params(client, challenge=CH, prompt="consent", **kw)
    r = f.authorize(p, user=user)
    return r, consent_form(r)


# ---- H01 -------------------------------------------------------------------------------------

@pytest.mark.catalogue("H01")
def test_headers_on_consent_error_and_redirect(oas):
    f = Client(oas)
    r, _ = consent(f)
    assert_page_headers(r)
    # an error page (A03)
    r = f.authorize(f.authz_params("conf1", redirect_uri="https://evil.test/cb", challenge=CH))
    assert_error_page(r, 400)
    assert_page_headers(r)
    # an error redirect and a code redirect
    r = f.authorize(f.authz_params("conf1", scope="nope", challenge=CH))
    assert r.status_code == 302
    assert "no-store" in r.headers["Cache-Control"]
    assert "Access-Control-Allow-Origin" not in r.headers
    assert r.headers.get("Referrer-Policy") == "no-referrer"
    r = f.authorize(f.authz_params("fp1", scope="openid", challenge=CH))
    assert r.status_code == 302 and r.headers["Cache-Control"] == "no-store"


@pytest.mark.catalogue("H01")
@pytest.mark.allow_log("OAS00144")
def test_headers_on_forbidden_page(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(
        h, extra="<Location /authorize>\n    AuthType None\n    Require all granted\n"
                  "</Location>\n"))
    f = Client(h)
    r = f.authorize(f.authz_params("conf1", challenge=CH), user=None)
    assert_error_page(r, 403)
    assert_page_headers(r)


@pytest.mark.catalogue("H01")
def test_no_cors_on_authorize(oas):
    f = Client(oas)
    evil = {"Origin": "https://evil.test"}
    r = f.s.options(f.url("/authorize"), auth=("alice", "alice-password"), timeout=5,
                    headers={**evil, "Access-Control-Request-Method": "GET"})
    assert r.status_code >= 400
    assert "Access-Control-Allow-Origin" not in r.headers
    for p in [f.authz_params("conf1", challenge=CH),
              f.authz_params("fp1", scope="openid", challenge=CH),
              f.authz_params("conf1", scope="nope", challenge=CH),
              {"client_id": "nosuch"}]:
        r = f.authorize(p, headers=evil)
        assert "Access-Control-Allow-Origin" not in r.headers
        assert "Access-Control-Allow-Credentials" not in r.headers


# ---- H02 -------------------------------------------------------------------------------------

@pytest.mark.catalogue("H02")
def test_csrf(oas):
    f = Client(oas)
    _, form = consent(f, state="h2")
    _, other = consent(f, state="other")
    # (a) without the CSRF token; without the decision
    assert_error_page(f.decide(form, drop=("csrf",)), 403)
    assert_error_page(f.decide(form, drop=("decision",)), 403)
    assert_error_page(f.decide(form, csrf=""), 403)
    assert_error_page(f.decide(form, csrf="x" * 43), 403)
    # (b) bob posts alice's form; bob's own token on alice's transaction
    assert_error_page(f.decide(form, user="bob"), 403)
    _, bobs = consent(f, user="bob")
    assert_error_page(f.decide(form, csrf=bobs["csrf"]), 403)
    assert_error_page(f.decide(form, csrf=bobs["csrf"], user="bob"), 403)
    # (c) the token of another transaction of the same user
    assert_error_page(f.decide(form, csrf=other["csrf"]), 403)
    # (d) cross-site submissions
    assert_error_page(f.decide(form, headers={"Origin": "https://evil.test"}), 403)
    assert_error_page(f.decide(form, headers={"Origin": "null"}), 403)
    assert_error_page(f.decide(form, headers={"Sec-Fetch-Site": "cross-site"}), 403)
    # (e) as GET: never a decision
    r = f.authorize({"txn": form["txn"], "csrf": form["csrf"], "decision": "allow"})
    assert r.status_code == 400 and "Location" not in r.headers
    # an unknown decision
    assert_error_page(f.decide(form, decision="maybe"), 400)
    # repeated fields (RFC 6749 §3.1), even when the first values are the right ones
    for extra in [("decision", "deny"), ("csrf", "x"), ("txn", "x"), ("DECISION", "allow")]:
        data = [("txn", form["txn"]), ("csrf", form["csrf"]), ("decision", "allow"), extra]
        r = f.s.post(f.url("/authorize"), data=data, auth=("alice", "alice-password"),
                     allow_redirects=False, timeout=10)
        assert_error_page(r, 400)
    # none of these used the transaction up: the real user's same-origin POST works once
    r = f.decide(form, headers={"Origin": oas.issuer, "Sec-Fetch-Site": "same-origin"})
    q = redirect_params(r, "https://rp1.test/cb")
    assert q["code"] and q["state"] == "h2"
    # (f) the same valid POST again: refused, no second code
    r = f.decide(form)
    assert_error_page(r, 400)
    r = f.decide(form, decision="deny")
    assert_error_page(r, 400)
    # the other transaction is still answerable
    assert redirect_params(f.decide(other))["state"] == "other"


@pytest.mark.catalogue("H02")
def test_unknown_transaction(oas):
    f = Client(oas)
    assert_error_page(f.decide({"txn": "nosuch", "csrf": "x"}), 400)
    _, form = consent(f)
    assert_error_page(f.decide(form, txn=form["txn"] + "x"), 400)
    assert redirect_params(f.decide(form))["code"]


# ---- H03 / H04 -------------------------------------------------------------------------------

@pytest.mark.catalogue("H03")
def test_deny_then_allow(oas):
    f = Client(oas)
    _, form = consent(f, state="S3")
    r = f.decide(form, "deny")
    assert_error_redirect(oas, r, "access_denied", state="S3", base="https://rp1.test/cb")
    assert_error_page(f.decide(form, "allow"), 400)


@pytest.mark.catalogue("H04")
def test_no_307_and_no_token_in_location(oas):
    f = Client(oas)
    for decision in ("allow", "deny"):
        _, form = consent(f)
        r = f.decide(form, decision)
        assert r.status_code in (302, 303), r.status_code
        loc = r.headers["Location"]
        assert form["csrf"] not in loc and form["txn"] not in loc
        assert "alice-password" not in loc and r.text == ""
    # POST /authorize (OIDC form post) answers with a page or a 302/303 too
    r = f.authorize(f.authz_params("fp1", scope="openid", challenge=CH), method="POST")
    assert r.status_code in (302, 303)
    r = f.authorize(f.authz_params("conf1", challenge=CH, prompt="consent"), method="POST")
    assert r.status_code == 200


# ---- H05 -------------------------------------------------------------------------------------

PAYLOADS = ['<script>alert(1)</script>', '"><svg onload=alert(1)>',
            '</title><script>alert(1)</script>', "javascript:alert(1)", "{{7*7}}", "${7*7}",
            "\u202e", "'onmouseover='alert(1)"]

EVIL_CLIENT = """
<OAuthASClient evil>
    OAuthASClientSecret "evil-secret"
    OAuthASClientName "{name}"
    OAuthASAuthMethod client_secret_basic
    OAuthASRedirectURI https://evil-client.test/cb
    OAuthASScope openid profile
    OAuthASGrantType authorization_code
</OAuthASClient>
OAuthASScopeDescription profile "{desc}"
"""


def apache_quote(s):
    return s.replace("\\", "\\\\").replace('"', '\\"')


def assert_escaped(text, payload):
    assert payload not in text or not any(c in payload for c in "<>\"'"), (payload, text)


@pytest.mark.catalogue("H05")
@pytest.mark.expect_log("AH00111")
def test_admin_values_are_escaped(httpd_factory):
    name = "<script>alert(1)</script> \"><svg onload=alert(1)> {{7*7}} ${7*7}"
    desc = "</title><script>alert(2)</script> 'x' & \"y\""
    h = httpd_factory(lambda h: standard_conf(
        h, extra=EVIL_CLIENT.format(name=apache_quote(name), desc=apache_quote(desc))))
    f = Client(h)
    p = f.authz_params("evil", redirect_uri="https://evil-client.test/cb",
                       scope="openid profile", challenge=CH, state='<script>alert(3)</script>')
    r = f.authorize(p)
    form = consent_form(r)
    assert "<script" not in r.text.lower() and "<svg" not in r.text.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert "&lt;/title&gt;&lt;script&gt;alert(2)" in r.text
    assert "{{7*7}}" in r.text and "${7*7}" in r.text  # values are never evaluated
    assert "&#39;x&#39; &amp; &quot;y&quot;" in r.text
    assert len(parse_forms(r.text)) == 1
    # the state is echoed exactly in the redirect, never rendered
    assert "alert(3)" not in r.text
    assert redirect_params(f.decide(form))["state"] == '<script>alert(3)</script>'


@pytest.mark.catalogue("H05")
def test_error_pages_escape_input(oas):
    f = Client(oas)
    for payload in PAYLOADS + ["x" * 5000]:
        for p in [{**f.authz_params("conf1", challenge=CH), "client_id": payload},
                  f.authz_params("conf1", redirect_uri=payload, challenge=CH),
                  f.authz_params("conf1", redirect_uri="https://rp1.test/cb" + payload,
                                 challenge=CH)]:
            r = f.authorize(p)
            assert_error_page(r, 400)
            low = r.text.lower()
            assert "<script" not in low and "<svg" not in low and "onload=" not in low
            assert "javascript:" not in low and "href" not in low
            assert payload not in r.text or payload.isalnum() or payload in ("{{7*7}}", "${7*7}")
    # scope payloads are refused with invalid_scope, never reflected
    for payload in PAYLOADS:
        r = f.authorize(f.authz_params("conf1", scope=payload, state="h5", challenge=CH))
        q = assert_error_redirect(oas, r, "invalid_scope", state="h5")
        assert payload not in q.get("error_description", "")
