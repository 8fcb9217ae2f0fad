"""RP-Initiated Logout 1.0 at OAuthASEndpoint end-session (issue 21): one test per module of
the OpenID conformance suite's `oidcc-rp-initiated-logout-certification-test-plan`
(next-wave.md §6.1), named after it, on one module-scoped server, each by GET and by POST;
then the confirmation form's CSRF refusals, OAuthASLogoutURL with mod_auth_form and
mod_session (the site's own sign-in really ends), registration's post_logout_redirect_uris and
the configtest of the new directives.

A user signs in (HTTP Basic here: every /authorize request authenticates; the AS session is
its cookie), the client gets an ID token (with `sid`) and sends it back as id_token_hint."""

import base64
import html
import json
import os
import re
import time
import urllib.parse

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from client import (Pkce, assert_error_page, authorize, authz_params, b64url, get_code,
                    jwt_claims, parse_forms, redeem, redirect_params, register, session)
from harness import Httpd, module_scoped
from oauth_conf import USERS, standard_conf, write_htpasswd
from test_010_config import assert_fails, assert_ok, client, valid

LO1_SECRET = "lo1-secret-5c02e1"
LO2_SECRET = "lo2-secret-e71a93"
LO3_SECRET = "lo3-secret-0b8f44"
BYE = "https://lo1.test/bye"
BYE2 = "https://lo1.test/bye2?x=1"
COOKIE = "__Host-oauth_as_session"

CLIENTS = f"""
<OAuthASClient lo1>
    OAuthASClientSecret "{LO1_SECRET}"
    OAuthASClientName "Logout App"
    OAuthASRedirectURI https://lo1.test/cb
    OAuthASPostLogoutRedirectURI {BYE}
    OAuthASPostLogoutRedirectURI "{BYE2}"
    OAuthASScope openid profile
    OAuthASConsent Off
</OAuthASClient>
<OAuthASClient lo2>
    OAuthASClientSecret "{LO2_SECRET}"
    OAuthASRedirectURI https://lo2.test/cb
    OAuthASPostLogoutRedirectURI https://lo2.test/bye
    OAuthASScope openid
    OAuthASConsent Off
</OAuthASClient>
<OAuthASClient lo3>
    OAuthASClientSecret "{LO3_SECRET}"
    OAuthASRedirectURI https://lo3.test/cb
    OAuthASPostLogoutRedirectURI https://lo3.test/bye
    OAuthASFrontchannelLogoutURI "https://fc.lo3.test:8443/logout?app=1"
    OAuthASScope openid
    OAuthASConsent Off
</OAuthASClient>
<Location /logout>
    OAuthASEndpoint end-session
</Location>
"""

register("lo1", LO1_SECRET, "client_secret_basic", ["https://lo1.test/cb"])
register("lo2", LO2_SECRET, "client_secret_basic", ["https://lo2.test/cb"])
register("lo3", LO3_SECRET, "client_secret_basic", ["https://lo3.test/cb"])

METHODS = ("GET", "POST")


@pytest.fixture(scope="module")
def h(request, workdir_base):
    """The server of the conformance modules (ID tokens live 4 s: the expired-hint test)."""
    srv = Httpd(os.path.join(workdir_base, "910-end-session"),
                lambda h: standard_conf(h, extra=CLIENTS, OAuthASIDTokenLifetime=4))
    yield from module_scoped(request, srv)


def sign_in(h, client_id="lo1"):
    """A browser signed in at the AS for client_id: (its session, the ID token's JWT)."""
    s = session(h)
    g = get_code(h, client_id, sess=s, scope="openid profile" if client_id == "lo1" else "openid")
    assert s.cookies.get(COOKIE), s.cookies
    r = redeem(h, g)
    assert r.status_code == 200, r.text
    idt = r.json()["id_token"]
    assert jwt_claims(idt).get("sid"), jwt_claims(idt)
    return s, idt


def end_session(h, s, method="GET", **params):
    """GET or POST (a form) the end-session endpoint with params, in browser session s."""
    url = h.issuer + "/logout"
    if method == "GET":
        return s.get(url, params=params, allow_redirects=False, timeout=10)
    # a form with no fields, as a browser posts it: its type, an empty body
    return s.post(url, data=params or b"", allow_redirects=False, timeout=10,
                  headers={"Content-Type": "application/x-www-form-urlencoded"})


def signed_in(h, s, client_id="lo1"):
    """prompt=none in browser session s: True with a code, False with login_required."""
    r = authorize(h, authz_params(client_id, scope="openid", prompt="none",
                                  challenge=Pkce().challenge), sess=s)
    q = redirect_params(r)
    assert "code" in q or q.get("error") == "login_required", q
    return "code" in q


def cookie_cleared(r):
    sc = r.headers.get("Set-Cookie", "")
    return sc.startswith(COOKIE + "=") and ("Max-Age=0" in sc or "expires=" in sc.lower())


def assert_signed_out_page(r):
    assert r.status_code == 200, (r.status_code, r.headers, r.text[:300])
    assert r.headers["Content-Type"].startswith("text/html"), r.headers
    assert "You have signed out" in r.text, r.text
    assert "Location" not in r.headers and "http-equiv" not in r.text, r.text
    assert not parse_forms(r.text), r.text
    assert r.headers.get("X-Frame-Options") == "DENY" and "no-store" in r.headers["Cache-Control"]


def confirmation(r):
    """The confirmation page's one POST form: its action and hidden fields."""
    assert r.status_code == 200, (r.status_code, r.headers, r.text[:300])
    assert "Location" not in r.headers, r.headers
    forms = parse_forms(r.text)
    assert len(forms) == 1, forms
    f = forms[0]
    assert f["method"] == "post" and f["hidden"].get("txn") and f["hidden"].get("csrf"), f
    assert ("decision", "allow") in f["buttons"] and ("decision", "deny") in f["buttons"], f
    assert r.headers.get("X-Frame-Options") == "DENY", r.headers
    return f


def confirm(h, s, f, decision="allow", headers=None, **override):
    data = dict(f["hidden"], decision=decision, **override)
    return s.post(urllib.parse.urljoin(h.issuer + "/logout", f["action"]), data=data,
                  headers=headers, allow_redirects=False, timeout=10)


def no_redirect_to_client(r):
    return not r.headers.get("Location", "").startswith("https://lo1.test")


# ---- metadata --------------------------------------------------------------------------------

def test_discovery(h):
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        md = session(h).get(h.issuer + path, timeout=10).json()
        assert md["end_session_endpoint"] == h.issuer + "/logout", md


# ---- the conformance plan's modules ----------------------------------------------------------

@pytest.mark.parametrize("method", METHODS)
def test_rp_initiated_logout(h, method):
    """oidcc-rp-initiated-logout: the hint of the current session, a registered URI and
    state: logged out at once, sent back with state; the cookie cleared; prompt=none then
    gets login_required."""
    s, idt = sign_in(h)
    assert signed_in(h, s)
    r = end_session(h, s, method, id_token_hint=idt, post_logout_redirect_uri=BYE, state="st 1")
    assert r.status_code == (303 if method == "POST" else 302), (r.status_code, r.text[:300])
    assert r.headers["Location"] == BYE + "?state=st%201", r.headers
    assert cookie_cleared(r), r.headers
    assert not signed_in(h, s)
    assert "OAS00650" in h.error_log()


def test_rp_initiated_logout_registered_uri_with_query(h):
    """A registered URI with a query of its own: state added with &."""
    s, idt = sign_in(h)
    r = end_session(h, s, id_token_hint=idt, post_logout_redirect_uri=BYE2, state="x")
    assert r.headers["Location"] == BYE2 + "&state=x", r.headers


@pytest.mark.parametrize("method", METHODS)
def test_rp_initiated_logout_no_state(h, method):
    """oidcc-rp-initiated-logout-no-state: back to the URI without a state parameter."""
    s, idt = sign_in(h)
    r = end_session(h, s, method, id_token_hint=idt, post_logout_redirect_uri=BYE)
    assert r.headers.get("Location") == BYE, r.headers
    assert not signed_in(h, s)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("uri", ["https://lo1.test/evil", "https://lo2.test/bye",
                                 "https://lo1.test/bye/", "HTTPS://lo1.test/bye"])
def test_rp_initiated_logout_bad_post_logout_redirect_uri(h, method, uri):
    """oidcc-rp-initiated-logout-bad-post-logout-redirect-uri: not one of the hint's client's
    URIs exactly (another client's included): an error page, no redirect, still signed in."""
    s, idt = sign_in(h)
    r = end_session(h, s, method, id_token_hint=idt, post_logout_redirect_uri=uri, state="s")
    assert_error_page(r, 400, "not registered")
    assert signed_in(h, s)
    assert "OAS06964" in h.error_log()


@pytest.mark.parametrize("method", METHODS)
def test_rp_initiated_logout_query_added_to_post_logout_redirect_uri(h, method):
    """oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri: an error page."""
    s, idt = sign_in(h)
    r = end_session(h, s, method, id_token_hint=idt, post_logout_redirect_uri=BYE + "?foo=bar")
    assert_error_page(r, 400)
    assert signed_in(h, s)


@pytest.mark.parametrize("method", METHODS)
def test_rp_initiated_logout_no_id_token_hint(h, method):
    """oidcc-rp-initiated-logout-no-id-token-hint: a registered URI (and client_id) but no
    hint: the confirmation page; once confirmed, logged out and our signed-out page: the URI
    is never followed without a hint."""
    s, _ = sign_in(h)
    r = end_session(h, s, method, client_id="lo1", post_logout_redirect_uri=BYE, state="s")
    f = confirmation(r)
    # the session's user; a bare client_id names no application on the page
    assert "alice" in r.text and "Logout App" not in r.text, r.text
    assert signed_in(h, s)
    r = confirm(h, s, f)
    assert_signed_out_page(r)
    assert cookie_cleared(r)
    assert not signed_in(h, s)


def alg_none(idt):
    """The suite's modified hint: header alg none, signature removed."""
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return header + "." + idt.split(".")[1] + "."


def foreign(h, idt):
    """The same claims (and our kid) signed by a key that is not the server's (RS256)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = json.loads(base64.urlsafe_b64decode(idt.split(".")[0] + "==")).get("kid")
    header = b64url(json.dumps({"alg": "RS256", "typ": "JWT", "kid": kid}).encode())
    data = (header + "." + idt.split(".")[1]).encode()
    return data.decode() + "." + b64url(key.sign(data, padding.PKCS1v15(), hashes.SHA256()))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("hint", [alg_none, foreign, lambda h, t: t[:-8] + "AAAAAAAA"],
                         ids=["modified_id_token_hint", "bad_id_token_hint", "damaged"])
def test_rp_initiated_logout_bad_hints(h, method, hint):
    """oidcc-rp-initiated-logout-modified-id-token-hint (alg none) and -bad-id-token-hint
    (signed by another key): a 400 page, never a redirect; still signed in."""
    s, idt = sign_in(h)
    bad = hint(idt) if hint is alg_none else hint(h, idt)
    r = end_session(h, s, method, id_token_hint=bad, post_logout_redirect_uri=BYE, state="s")
    assert_error_page(r, 400, "did not issue")
    assert signed_in(h, s)
    assert "OAS06962" in h.error_log()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("params", [{}, {"state": "only-state"}],
                         ids=["no_params", "only_state"])
def test_rp_initiated_logout_no_params_only_state(h, method, params):
    """oidcc-rp-initiated-logout-no-params and -only-state: the user confirms, is logged out
    and sees the signed-out page (state goes nowhere)."""
    s, _ = sign_in(h)
    f = confirmation(end_session(h, s, method, **params))
    r = confirm(h, s, f)
    assert_signed_out_page(r)
    assert "only-state" not in r.text
    assert not signed_in(h, s)


@pytest.mark.parametrize("method", METHODS)
def test_rp_initiated_logout_no_post_logout_redirect_uri(h, method):
    """oidcc-rp-initiated-logout-no-post-logout-redirect-uri: the hint of the session alone:
    logged out at once, the signed-out page."""
    s, idt = sign_in(h)
    r = end_session(h, s, method, id_token_hint=idt)
    assert_signed_out_page(r)
    assert cookie_cleared(r)
    assert not signed_in(h, s)


def test_prompt_none_after_logout(h):
    """After logout prompt=none fails (login_required) for every client of the session,
    and an interactive /authorize starts a new session."""
    s, idt = sign_in(h)
    assert signed_in(h, s, "lo2")
    end_session(h, s, id_token_hint=idt)
    assert not signed_in(h, s, "lo1") and not signed_in(h, s, "lo2")
    get_code(h, "lo1", sess=s, scope="openid")
    assert signed_in(h, s)


def test_front_channel_iframes(h):
    """A client with OAuthASFrontchannelLogoutURI: the signed-out page loads its URI with iss
    and sid in a hidden iframe (the page's CSP allows that origin as frame-src, nothing
    else), then goes on by itself to the client's URI with state."""
    s, idt = sign_in(h, "lo3")
    sid = jwt_claims(idt)["sid"]
    r = end_session(h, s, id_token_hint=idt, post_logout_redirect_uri="https://lo3.test/bye",
                    state="f")
    assert r.status_code == 200 and "You have signed out" in r.text, (r.status_code, r.text)
    assert cookie_cleared(r)
    frames = re.findall(r'<iframe src="([^"]+)"', r.text)
    assert len(frames) == 1, r.text
    u = urllib.parse.urlsplit(html.unescape(frames[0]))
    assert (u.scheme, u.netloc, u.path) == ("https", "fc.lo3.test:8443", "/logout"), u
    assert urllib.parse.parse_qs(u.query) == {"app": ["1"], "iss": [h.issuer], "sid": [sid]}, u
    csp = r.headers["Content-Security-Policy"]
    assert "frame-src https://fc.lo3.test:8443" in csp and "frame-ancestors 'none'" in csp, csp
    assert 'content="2;url=https://lo3.test/bye?state=f"' in r.text, r.text
    assert "Location" not in r.headers
    assert not signed_in(h, s, "lo3")


# ---- hints: client_id, another session, expired ---------------------------------------------

@pytest.mark.parametrize("method", METHODS)
def test_client_id_not_the_hints(h, method):
    s, idt = sign_in(h)
    r = end_session(h, s, method, id_token_hint=idt, client_id="lo2",
                    post_logout_redirect_uri=BYE)
    assert_error_page(r, 400, "another application")
    assert "OAS06963" in h.error_log()
    r = end_session(h, s, method, id_token_hint=idt, client_id="lo1",
                    post_logout_redirect_uri=BYE)
    assert r.headers.get("Location") == BYE, r.headers


def test_hint_of_another_session_asks(h):
    """A hint from another browser's session (or one that has ended) does not log this one
    out by itself: the confirmation page; once confirmed, back to the client's URI."""
    s1, idt1 = sign_in(h)
    s2, _ = sign_in(h)
    r = end_session(h, s2, id_token_hint=idt1, post_logout_redirect_uri=BYE, state="z")
    f = confirmation(r)
    assert "<strong>Logout App</strong> asks to sign you out" in r.text, r.text
    assert signed_in(h, s1) and signed_in(h, s2)
    r = confirm(h, s2, f)
    assert r.status_code == 303 and r.headers["Location"] == BYE + "?state=z", r.headers
    assert not signed_in(h, s2) and signed_in(h, s1)


def test_expired_hint_accepted(h):
    """An expired ID token is still a hint (RP-Initiated Logout 1.0 §2)."""
    s, idt = sign_in(h)
    exp = jwt_claims(idt)["exp"]
    time.sleep(max(0, exp - time.time() + 1.1))
    r = end_session(h, s, id_token_hint=idt, post_logout_redirect_uri=BYE, state="e")
    assert r.headers.get("Location") == BYE + "?state=e", (r.status_code, r.text[:300])
    assert not signed_in(h, s)


def test_without_session(h):
    """No AS session in this browser: a valid hint still asks (it is not of this browser's
    session); our signed-out page link shows only when signed out."""
    _, idt = sign_in(h)
    s = session(h)
    f = confirmation(end_session(h, s, id_token_hint=idt, post_logout_redirect_uri=BYE))
    r = confirm(h, s, f)
    assert r.headers.get("Location") == BYE, r.headers
    assert_signed_out_page(end_session(h, s, signed_out="1"))
    s2, _ = sign_in(h)
    confirmation(end_session(h, s2, signed_out="1"))  # signed in: not "signed out"


def test_repeated_parameter(h):
    s, idt = sign_in(h)
    r = s.get(h.issuer + "/logout?state=a&state=b&id_token_hint=" + idt, allow_redirects=False,
              timeout=10)
    assert_error_page(r, 400)
    r = s.post(h.issuer + "/logout?state=a", data={"state": "b", "id_token_hint": idt},
               allow_redirects=False, timeout=10)
    assert_error_page(r, 400)
    assert signed_in(h, s)


def test_transport_and_methods(h):
    """https only (a page, 403, over plain http), GET and POST only (405 with Allow)."""
    r = h.get("/logout", tls=False)
    assert_error_page(r, 403, "HTTPS")
    for method in ("PUT", "DELETE"):
        r = session(h).request(method, h.issuer + "/logout", allow_redirects=False, timeout=10)
        assert r.status_code == 405 and "GET" in r.headers.get("Allow", ""), (r.status_code,
                                                                             r.headers)


def test_head_changes_nothing(h):
    s, idt = sign_in(h)
    r = s.head(h.issuer + "/logout", params={"id_token_hint": idt}, allow_redirects=False,
               timeout=10)
    assert r.status_code == 200 and not r.headers.get("Set-Cookie"), r.headers
    assert signed_in(h, s)


# ---- the confirmation form -------------------------------------------------------------------

def test_deny_keeps_the_session(h):
    s, _ = sign_in(h)
    f = confirmation(end_session(h, s))
    r = confirm(h, s, f, "deny")
    assert r.status_code == 200 and "You are still signed in" in r.text, r.text
    assert "Set-Cookie" not in r.headers
    assert signed_in(h, s)
    assert_error_page(confirm(h, s, f, "allow"), 400, "already answered")
    assert signed_in(h, s)


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.test"},
                                     {"Sec-Fetch-Site": "cross-site"},
                                     {"Origin": "null", "Sec-Fetch-Site": "same-site"}],
                         ids=["origin", "sec_fetch_site", "null_origin"])
def test_cross_site_post_refused(h, headers):
    s, _ = sign_in(h)
    f = confirmation(end_session(h, s))
    assert_error_page(confirm(h, s, f, headers=headers), 403, "another site")
    assert signed_in(h, s)
    assert "OAS03003" in h.error_log()
    # our own page's POST (Origin null with Sec-Fetch-Site same-origin) passes
    r = confirm(h, s, f, headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"})
    assert_signed_out_page(r)


def test_csrf_refusals(h):
    """A wrong or missing CSRF token, a missing decision, an unknown one, the form of another
    browser's session (an attacker's own confirmation posted from the victim's browser), and
    a repeated field: refused, the session kept."""
    s, _ = sign_in(h)
    f = confirmation(end_session(h, s))
    assert_error_page(confirm(h, s, f, csrf="x" * 43), 403)
    assert_error_page(s.post(h.issuer + "/logout", data={"txn": f["hidden"]["txn"],
                                                         "decision": "allow"},
                             allow_redirects=False, timeout=10), 403, "incomplete")
    assert_error_page(confirm(h, s, f, "maybe"), 400, "Unknown decision")
    attacker = session(h)  # no session of the victim's
    fa = confirmation(end_session(h, attacker))
    assert_error_page(confirm(h, s, fa), 403, "does not belong")
    assert "OAS06967" in h.error_log()
    r = s.post(h.issuer + "/logout?decision=deny",
               data=dict(f["hidden"], decision="allow"), allow_redirects=False, timeout=10)
    assert_error_page(r, 400, "repeated")
    assert signed_in(h, s)
    assert_signed_out_page(confirm(h, s, f))  # the genuine form still works, once


def test_pages_escape_and_headers(h):
    """The confirmation page: no script, the client's name escaped, the security headers."""
    s, _ = sign_in(h)
    r = end_session(h, s, client_id="lo1", ui_locales="fr", logout_hint="alice")
    confirmation(r)
    assert "<script" not in r.text.lower()
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp, csp
    assert r.headers.get("Referrer-Policy") == "no-referrer"


def test_confirmations_per_address_bounded(httpd_factory):
    """Anyone may open a confirmation page, and each keeps a record until it expires:
    OAuthASAddressQuota per address, then 429 with Retry-After (a page), logged once."""
    h = httpd_factory(lambda h: standard_conf(h, extra=CLIENTS, OAuthASAddressQuota=2))
    s = session(h)
    for _ in range(2):
        confirmation(end_session(h, s))
    r = end_session(h, s)
    assert_error_page(r, 429, "try again later")
    assert int(r.headers["Retry-After"]) > 0, r.headers
    assert "OAS06810" in h.error_log() and "sign-out confirmations" in h.error_log()


# ---- OAuthASLogoutURL: the site's own sign-in (mod_auth_form + mod_session) ------------------

SITE_MODULES = ("session", "session_cookie", "auth_form", "request", "rewrite")


def site_conf(h):
    """/authorize behind mod_auth_form (the login form at /login.html, the user in a
    mod_session cookie); the site's logout at /site-logout, which follows `return` only to
    the client's host or this server (a RewriteCond), else to our signed-out page."""
    htpasswd = write_htpasswd(h.path("conf", "site.htpasswd"))
    h.write_file("htdocs/login.html", "<form method=post action=/dologin>login</form>\n")
    port = h.tls_port
    auth = f"""    AuthType form
    AuthName site
    AuthFormProvider file
    AuthUserFile "{htpasswd}"
    Session On
    SessionCookieName site_session path=/;secure;httponly
"""
    done = h.issuer + "/logout?signed_out=1"
    return standard_conf(h, OAuthASLogoutURL="/site-logout", extra=CLIENTS + f"""
RewriteMap unescape int:unescape
<Location /authorize>
{auth}    AuthFormLoginRequiredLocation "/login.html"
    Require valid-user
</Location>
<Location /dologin>
    SetHandler form-login-handler
{auth}</Location>
<Location /site-logout>
    SetHandler form-logout-handler
{auth}    SetEnvIf Request_URI ^ LOGOUT_RETURN={done}
    RewriteEngine On
    RewriteCond %{{QUERY_STRING}} (?:^|&)return=((?:https%3A%2F%2Flo1\\.test%2F|https%3A%2F%2Flocalhost%3A{port}%2F)[^&]*)
    RewriteRule ^ - [E=LOGOUT_RETURN:${{unescape:%1}}]
    AuthFormLogoutLocation "%{{env:LOGOUT_RETURN}}"
</Location>
""")


def site_sign_in(h, s):
    params = authz_params("lo1", scope="openid", challenge=Pkce().challenge)
    r = authorize(h, params, user=None, sess=s)
    assert r.status_code in (302, 303, 307) and "/login.html" in r.headers["Location"], \
        (r.status_code, r.headers)
    r = s.post(h.issuer + "/dologin", data={"httpd_username": "alice",
                                            "httpd_password": USERS["alice"],
                                            "httpd_location": "/"},
               allow_redirects=False, timeout=10)
    assert r.status_code in (302, 303) and s.cookies.get("site_session"), (r.status_code,
                                                                          r.headers)


def site_id_token(h, s):
    """A code flow of lo1 in browser session s, signed in at the site (mod_session adds its
    own Cache-Control, so not get_code): the ID token."""
    p = Pkce()
    params = authz_params("lo1", scope="openid", challenge=p.challenge)
    q = redirect_params(authorize(h, params, user=None, sess=s))
    assert "code" in q, q
    r = redeem(h, q["code"], verifier=p.verifier, client_id="lo1")
    assert r.status_code == 200, r.text
    return r.json()["id_token"]


def test_logout_url_ends_the_sites_sign_in(httpd_factory):
    """OAuthASLogoutURL: after our logout the browser goes to the site's logout with return
    (the client's URI with state); mod_auth_form's logout ends the site's session and sends it
    on; the next /authorize asks for the login form again. Without a client URI, return is
    our signed-out page."""
    h = httpd_factory(site_conf, extra_modules=SITE_MODULES)
    s = session(h)
    site_sign_in(h, s)
    idt = site_id_token(h, s)
    r = end_session(h, s, id_token_hint=idt, post_logout_redirect_uri=BYE, state="s1")
    nxt = BYE + "?state=s1"
    assert r.headers.get("Location") == "/site-logout?return=" + urllib.parse.quote(nxt, safe=""), \
        r.headers
    r = s.get(h.issuer + r.headers["Location"], allow_redirects=False, timeout=10)
    assert r.status_code in (302, 303, 307) and r.headers["Location"] == nxt, (r.status_code,
                                                                               r.headers)
    r = authorize(h, authz_params("lo1", scope="openid", challenge=Pkce().challenge), user=None,
                  sess=s)
    assert "/login.html" in r.headers.get("Location", ""), (r.status_code, r.headers)
    # again, with no client URI: back to our signed-out page
    site_sign_in(h, s)
    r = end_session(h, s, id_token_hint=site_id_token(h, s))
    r = s.get(h.issuer + r.headers["Location"], allow_redirects=False, timeout=10)
    assert r.headers["Location"] == h.issuer + "/logout?signed_out=1", r.headers
    assert_signed_out_page(s.get(r.headers["Location"], allow_redirects=False, timeout=10))
    r = authorize(h, authz_params("lo1", scope="openid", challenge=Pkce().challenge), user=None,
                  sess=s)
    assert "/login.html" in r.headers.get("Location", ""), (r.status_code, r.headers)


# ---- registration: post_logout_redirect_uris --------------------------------------------------

def test_registered_client_post_logout_redirect_uris(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(h, OAuthASRegistration="Open", extra=CLIENTS + """
<Location /oauth/register>
    OAuthASEndpoint register
</Location>
"""))
    reg = session(h).post(h.issuer + "/oauth/register", json={
        "redirect_uris": ["https://dyn.test/cb"], "token_endpoint_auth_method": "none",
        "post_logout_redirect_uris": ["https://dyn.test/bye"], "scope": "openid"}, timeout=10)
    assert reg.status_code == 201, reg.text
    body = reg.json()
    assert body["post_logout_redirect_uris"] == ["https://dyn.test/bye"], body
    cid = body["client_id"]
    register(cid, None, "none", ["https://dyn.test/cb"])
    s = session(h)
    g = get_code(h, cid, sess=s, scope="openid")
    idt = redeem(h, g).json()["id_token"]
    r = end_session(h, s, id_token_hint=idt, post_logout_redirect_uri="https://dyn.test/bye")
    assert r.headers.get("Location") == "https://dyn.test/bye", (r.status_code, r.text[:300])
    for bad in (["https://dyn.test/bye#f"], "https://dyn.test/bye", ["http://dyn.test/bye"], []):
        r = session(h).post(h.issuer + "/oauth/register", json={
            "redirect_uris": ["https://dyn.test/cb"], "token_endpoint_auth_method": "none",
            "post_logout_redirect_uris": bad}, timeout=10)
        assert r.status_code == 400 and r.json()["error"] == "invalid_client_metadata", r.text


# ---- configtest ------------------------------------------------------------------------------

@pytest.mark.parametrize("uri,fault", [("/bye", "not an absolute URI"),
                                       ("https://app.test/bye#f", "fragment"),
                                       ("javascript:alert(1)", "")])
def test_configtest_post_logout_redirect_uri(tmp_path, uri, fault):
    c = client("app", 'OAuthASClientSecret "s"', "OAuthASRedirectURI https://app.test/cb",
               f'OAuthASPostLogoutRedirectURI "{uri}"')
    out = assert_fails(tmp_path, valid(client=c), "OAuthASPostLogoutRedirectURI", fault)
    assert uri in out


@pytest.mark.parametrize("url", ["logout", "//evil.test/x", "/a#b", "ftp://site.test/",
                                 "http://site.test/logout"])
def test_configtest_logout_url(tmp_path, url):
    assert_fails(tmp_path, valid(server_lines=f'OAuthASLogoutURL "{url}"'), "OAuthASLogoutURL",
                 "not an https URL or a path")


@pytest.mark.parametrize("directive", ["OAuthASLogoutURL /site-logout",
                                       "OAuthASLogoutTemplate /nonexistent.html"])
def test_configtest_server_only(tmp_path, directive):
    out = assert_fails(tmp_path, valid(extra=f"<Location /x>\n    {directive}\n</Location>\n"),
                       directive.split()[0])
    assert "not allowed in <Location> context" in out, out
    c = client("app", 'OAuthASClientSecret "s"', "OAuthASRedirectURI https://app.test/cb",
               directive)
    assert_fails(tmp_path, valid(client=c), directive.split()[0])


def test_configtest_post_logout_uri_only_in_client(tmp_path):
    assert_fails(tmp_path, valid(server_lines="OAuthASPostLogoutRedirectURI https://a.test/bye"),
                 "OAuthASPostLogoutRedirectURI")


def test_configtest_logout_template(tmp_path):
    assert_fails(tmp_path, valid(server_lines="OAuthASLogoutTemplate /nonexistent.html"),
                 "OAuthASLogoutTemplate", "cannot read")
    bad = tmp_path / "bad.html"
    bad.write_text("{{#confirm}} unclosed")
    assert_fails(tmp_path, valid(server_lines=f'OAuthASLogoutTemplate "{bad}"'),
                 "OAuthASLogoutTemplate")


def test_configtest_good_values(tmp_path):
    c = client("app", 'OAuthASClientSecret "s"', "OAuthASRedirectURI https://app.test/cb",
               "OAuthASPostLogoutRedirectURI https://app.test/bye",
               "OAuthASPostLogoutRedirectURI http://127.0.0.1:8080/bye")
    good = tmp_path / "logout.html"
    good.write_text("{{#confirm}}<form>{{txn}}{{csrf}}</form>{{/confirm}}")
    assert_ok(tmp_path, valid(client=c, server_lines=f'OAuthASLogoutURL /site/logout\n'
                                                     f'OAuthASLogoutTemplate "{good}"',
                              extra="<Location /lo>\n    OAuthASEndpoint end-session\n"
                                    "</Location>\n"))


def test_logout_template_used(httpd_factory):
    """OAuthASLogoutTemplate replaces the built-in pages."""
    def conf(h):
        t = h.write_file("conf/logout.html", "{{#confirm}}CONFIRM {{client_name}}<form "
                         "method=post action='{{action}}'><input type=hidden name=txn "
                         "value='{{txn}}'><input type=hidden name=csrf value='{{csrf}}'>"
                         "<button name=decision value=allow></button><button name=decision "
                         "value=deny></button></form>{{/confirm}}{{#signed_out}}BYE-PAGE"
                         "{{/signed_out}}")
        return standard_conf(h, OAuthASLogoutTemplate=f'"{t}"', extra=CLIENTS)
    h = httpd_factory(conf)
    _, idt = sign_in(h)
    s, _ = sign_in(h)
    r = end_session(h, s, id_token_hint=idt)  # of another session: asks, naming its client
    assert r.text.startswith("CONFIRM Logout App"), r.text
    r = confirm(h, s, confirmation(r))
    assert r.text == "BYE-PAGE", r.text


# ---- interop: mod_auth_openidc's RP-initiated logout (?logout=) ------------------------------

def test_mod_auth_openidc_rp_initiated_logout(httpd_factory):
    """Debian's mod_auth_openidc (test_500's RP) logs alice in, then its `?logout=<URL>` ends
    its own session and sends the browser to our end_session_endpoint with id_token_hint and
    post_logout_redirect_uri (no state, next-wave.md §6.3): the hint is of our session, so we
    sign out at once and send the browser back to that URL; our session is over (prompt=none:
    login_required) and the app asks us again."""
    from test_500_mod_auth_openidc import login_through_rp, rp_body

    def conf(h):
        text = rp_body(h, ("es256",))
        back = h.rp_url + "/loggedout.html"
        h.rp_back = back
        text = text.replace("    OAuthASConsent On\n",
                            f"    OAuthASConsent On\n    OAuthASPostLogoutRedirectURI {back}\n", 1)
        return text + "<Location /logout>\n    OAuthASEndpoint end-session\n</Location>\n"

    h = httpd_factory(conf, extra_modules=("dir",))
    s = session(h)
    assert "sub=alice</p>" in login_through_rp(h, s).text
    r = s.get(h.rp_redirect, params={"logout": h.rp_back}, allow_redirects=False, timeout=10)
    assert r.status_code == 302, (r.status_code, r.text[:500])
    loc = r.headers["Location"]
    assert loc.startswith(h.issuer + "/logout?"), loc
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
    assert q.get("post_logout_redirect_uri") == h.rp_back and q.get("id_token_hint"), q
    r = s.get(loc, allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"] == h.rp_back, (r.status_code,
                                                                         r.text[:300])
    assert cookie_cleared(r)
    assert "OAS00650" in h.error_log()
    r = authorize(h, authz_params("rp-openidc", redirect_uri=h.rp_redirect, scope="openid",
                                  prompt="none", challenge=Pkce().challenge), sess=s)
    assert redirect_params(r).get("error") == "login_required", r.headers
    r = s.get(h.rp_url + "/app/", allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"].startswith(h.issuer + "/authorize?"), \
        (r.status_code, r.headers)
