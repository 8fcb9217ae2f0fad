"""Issue 21: the authorization server's session (a __Host- cookie, `sid` in ID tokens,
`auth_time` kept), prompt=none / prompt=login / max_age against it, with HTTP Basic (no new
sign-in can be asked for: login_required) and with mod_auth_form + mod_session and
OAuthASLoginURL (the browser signs in again), and public clients revoking their own tokens.

Two module-scoped servers: the standard fixture (Basic), and the same with /authorize behind
mod_auth_form and a mod_session session (mod_session_crypto), OAuthASLoginURL /login.html."""

import os
import re
import time
import urllib.parse

import pytest

from client import (Client, Pkce, assert_error_redirect, assert_json_error, jwt_claims,
                    location_query, post, refresh, revoke, introspect)
from harness import Httpd, module_scoped
from oauth_conf import USERS, standard_conf

COOKIE = "__Host-oauth_as_session"
FP = "https://fp.test/cb"
FORM_MODULES = ("auth_form", "session", "session_cookie", "session_crypto", "request")


def form_conf(h):
    """The standard fixture with /authorize behind mod_auth_form and mod_session; the AS
    sends a new sign-in to /login.html."""
    auth = f"""    AuthType form
    AuthName "oauth-as"
    AuthFormProvider file
    AuthUserFile "{h.path('conf', 'users.htpasswd')}"
    AuthFormLoginRequiredLocation "/login.html"
    Session On
    SessionCookieName site_session path=/;secure;httponly
    SessionCryptoPassphrase "test-only-passphrase-5d1c"
"""
    with open(os.path.join(h.htdocs, "login.html"), "w") as f:
        f.write("<form method=post action=/dologin>login</form>\n")
    extra = (f"<Location /authorize>\n{auth}    Require valid-user\n</Location>\n"
             f"<Location /dologin>\n    SetHandler form-login-handler\n{auth}</Location>\n"
             # HTTP Basic beside a mod_session session: no sign-in in it to drop
             "<Location /basic-authorize>\n    OAuthASEndpoint authorize\n"
             '    AuthType Basic\n    AuthName "oauth-as"\n'
             f"    AuthUserFile \"{h.path('conf', 'users.htpasswd')}\"\n"
             "    Session On\n    SessionCookieName site_session path=/;secure;httponly\n"
             '    SessionCryptoPassphrase "test-only-passphrase-5d1c"\n'
             "    Require valid-user\n</Location>\n")
    return standard_conf(h, extra=extra, OAuthASLoginURL="/login.html")


def module_server(request, workdir_base, name, conf, **kw):
    h = Httpd(os.path.join(workdir_base, f"900-{name}"), "", **kw)
    h.body = conf(h)
    # a refresh family revoked by its (public) client; OAuthASLoginURL beside HTTP Basic
    h.allow_log("OAS00134", "OAS00630")
    yield from module_scoped(request, h)


@pytest.fixture(scope="module")
def basic(request, workdir_base):
    yield from module_server(request, workdir_base, "basic", standard_conf)


@pytest.fixture(scope="module")
def form(request, workdir_base):
    yield from module_server(request, workdir_base, "form", form_conf,
                             extra_modules=FORM_MODULES)


def set_cookie(r):
    """The AS session's Set-Cookie header of response r, or None."""
    for v in r.raw.headers.getlist("Set-Cookie"):
        if v.startswith(COOKIE + "="):
            return v
    return None


def id_token(f, t):
    header, claims = f.verify_jwt(t["id_token"])
    return claims


def tokens(f, g):
    r = f.redeem(g)
    assert r.status_code == 200, r.text
    return r.json()


# ---- the session and its cookie ------------------------------------------------------------

def test_cookie_attributes(basic):
    f = Client(basic)
    r = f.authorize(f.authz_params("fp1", scope="openid", challenge=Pkce().challenge))
    assert r.status_code == 302, r.text
    c = set_cookie(r)
    assert c, r.headers
    attrs = [a.strip() for a in c.split(";")]
    value = attrs[0].split("=", 1)[1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value), value
    lower = [a.lower() for a in attrs[1:]]
    assert "secure" in lower and "httponly" in lower and "samesite=lax" in lower, c
    assert "path=/" in lower and not any(a.startswith("domain") for a in lower), c
    max_age = [int(a.split("=")[1]) for a in lower if a.startswith("max-age=")]
    assert max_age and 86300 < max_age[0] <= 86400, c
    # the value is a secret: never logged, never the sid
    assert value not in basic.error_log()
    # the same browser again: no new cookie
    r = f.authorize(f.authz_params("fp1", scope="openid", challenge=Pkce().challenge))
    assert r.status_code == 302 and set_cookie(r) is None


def test_sid_in_id_tokens_and_auth_time_kept(basic):
    """sid equal in the ID tokens of the code and of refreshes, and across clients of one
    session; auth_time is the session's, not the request's."""
    f = Client(basic)
    g1 = f.get_code("conf1", scope="openid offline_access")
    t1 = tokens(f, g1)
    c1 = id_token(f, t1)
    assert c1.get("sid") and re.fullmatch(r"[A-Za-z0-9_-]{22,}", c1["sid"]), c1
    assert c1["sid"] != f.s.cookies.get(COOKIE)
    time.sleep(1.1)  # the clock must move for the session's auth_time to differ from now
    g2 = f.get_code("fp1", scope="openid", expect_consent=False)
    c2 = id_token(f, tokens(f, g2))
    assert c2["sid"] == c1["sid"] and c2["auth_time"] == c1["auth_time"], (c1, c2)
    assert c2["iat"] > c2["auth_time"]
    # refreshed ID tokens carry the same sid and auth_time
    r = refresh(basic, "conf1", t1["refresh_token"])
    assert r.status_code == 200, r.text
    c3 = id_token(f, r.json())
    assert c3["sid"] == c1["sid"] and c3["auth_time"] == c1["auth_time"], c3
    # the access token carries the session's auth_time too
    assert jwt_claims(t1["access_token"])["auth_time"] == c1["auth_time"]


def test_another_user_gets_another_session(basic):
    f = Client(basic)
    ca = id_token(f, tokens(f, f.get_code("fp1", scope="openid", expect_consent=False)))
    cookie_a = f.s.cookies.get(COOKIE)
    # the site now says bob (HTTP Basic): the site's user is the truth
    g = f.get_code("fp1", scope="openid", user="bob", expect_consent=False)
    cb = id_token(f, tokens(f, g))
    assert cb["sub"] == "bob" and cb["sid"] != ca["sid"]
    assert f.s.cookies.get(COOKIE) != cookie_a
    assert "OAS06929" in basic.error_log()


def test_prompt_none_needs_a_session(basic):
    f = Client(basic)
    p = f.authz_params("fp1", scope="openid", state="pn", prompt="none",
                       challenge=Pkce().challenge)
    # a browser without a session (the cookie deleted, as after a logout)
    assert_error_redirect(basic, f.authorize(p), "login_required", state="pn", base=FP)
    # a forged or unknown cookie is no session either
    f.s.cookies.set(COOKIE, "A" * 43, domain="localhost.local", path="/")
    assert_error_redirect(basic, f.authorize(p), "login_required", state="pn", base=FP)
    f.s.cookies.clear()
    # signed in: prompt=none works
    f.get_code("fp1", scope="openid", expect_consent=False)
    f.get_code("fp1", scope="openid", prompt="none", expect_consent=False)
    # the cookie deleted: login_required again
    f.s.cookies.clear()
    assert_error_redirect(basic, f.authorize(p), "login_required", state="pn", base=FP)
    assert "OAS06930" in basic.error_log()


def test_prompt_login_and_max_age_with_basic(basic):
    """HTTP Basic cannot be asked for a new sign-in: prompt=login, max_age=0 and a max_age the
    session is older than are login_required; metadata does not advertise login."""
    f = Client(basic)
    g = f.get_code("fp1", scope="openid", expect_consent=False)
    at = id_token(f, tokens(f, g))["auth_time"]
    for extra in ({"prompt": "login"}, {"max_age": "0"}):
        p = f.authz_params("fp1", scope="openid", state="pl", challenge=Pkce().challenge,
                           **extra)
        assert_error_redirect(basic, f.authorize(p), "login_required", state="pl", base=FP)
    # a max_age the session's sign-in is within: the code, auth_time in the ID token
    g = f.get_code("fp1", scope="openid", max_age="3600", expect_consent=False)
    assert id_token(f, tokens(f, g))["auth_time"] == at
    md = f.s.get(basic.issuer + "/.well-known/openid-configuration", timeout=10).json()
    assert md["prompt_values_supported"] == ["none", "consent"]


# ---- OAuthASLoginURL with mod_auth_form and mod_session -----------------------------------

def form_login(h, s, location, user="alice"):
    """The login form posted (mod_auth_form's form-login-handler): the redirect to location."""
    r = s.post(h.issuer + "/dologin", data={"httpd_username": user,
                                              "httpd_password": USERS[user],
                                              "httpd_location": location},
               allow_redirects=False, timeout=10)
    assert r.status_code in (302, 303) and r.headers["Location"] == location, (r.status_code,
                                                                                r.headers)
    return r


def form_authorize(f, params):
    return f.s.get(f.h.issuer + "/authorize", params=params, allow_redirects=False, timeout=10)


def code_tokens(f, params, r):
    base, q = location_query(r)
    assert base == FP and "code" in q, (r.status_code, r.headers.get("Location"), r.text[:300])
    return tokens(f, {"code": q["code"], "verifier": params["_verifier"],
                      "redirect_uri": FP, "client_id": "fp1"})


def fp_params(f, **extra):
    p = Pkce()
    params = f.authz_params("fp1", scope="openid", challenge=p.challenge, **extra)
    params["_verifier"] = p.verifier
    return params


def send(params):
    return {k: v for k, v in params.items() if not k.startswith("_")}


def test_prompt_login_with_login_url(form):
    """prompt=login: the browser goes to OAuthASLoginURL with a return to /authorize; the
    site's sign-in is dropped, so coming back needs the login form; then the code, the same
    session, auth_time = when the user came back."""
    f = Client(form)
    first = fp_params(f)
    form_login(form, f.s, "/authorize?x=1")
    c1 = id_token(f, code_tokens(f, first, form_authorize(f, send(first))))
    md = f.s.get(form.issuer + "/.well-known/openid-configuration", timeout=10).json()
    assert "login" in md["prompt_values_supported"]
    time.sleep(1.1)  # the new sign-in must be later than the first
    for extra in ({"prompt": "login"}, {"max_age": "0"}):
        params = fp_params(f, **extra)
        r = form_authorize(f, send(params))
        assert r.status_code == 302, r.text
        loc = r.headers["Location"]
        assert loc.startswith("/login.html?return="), loc
        back = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)["return"][0]
        assert back.startswith(form.issuer + "/authorize?oas_login="), back
        # without signing in, the way back leads to the login page again (no user)
        r = f.s.get(back, allow_redirects=False, timeout=10)
        assert r.status_code == 302 and r.headers["Location"].startswith("/login.html"), r
        form_login(form, f.s, back)
        t0 = int(time.time())
        c = id_token(f, code_tokens(f, params, f.s.get(back, allow_redirects=False,
                                                       timeout=10)))
        assert c["sid"] == c1["sid"], (c, c1)
        assert c["auth_time"] > c1["auth_time"] and abs(c["auth_time"] - t0) <= 2, (c, c1)
        # the sign-in transaction is spent
        r = f.s.get(back, allow_redirects=False, timeout=10)
        assert r.status_code == 400 and "expired" in r.text
    # later requests carry the session's new auth_time
    params = fp_params(f)
    c = id_token(f, code_tokens(f, params, form_authorize(f, send(params))))
    assert c["sid"] == c1["sid"] and c["auth_time"] > c1["auth_time"], (c, c1)
    log = form.error_log()
    assert "OAS00631" in log and "OAS06932" in log


def test_login_url_refuses_an_old_site_session(form):
    """The browser skips the login form and brings back a copy of its site session taken
    before (it still names the user): no marker in it, so login_required."""
    f = Client(form)
    form_login(form, f.s, "/authorize?x=1")
    old = f.s.cookies.get("site_session")
    assert old
    params = fp_params(f, prompt="login", state="old")
    r = form_authorize(f, send(params))
    back = urllib.parse.parse_qs(urllib.parse.urlsplit(r.headers["Location"]).query)["return"][0]
    assert f.s.cookies.get("site_session") != old
    f.s.cookies.set("site_session", old, domain="localhost.local", path="/")
    r = f.s.get(back, allow_redirects=False, timeout=10)
    assert_error_redirect(form, r, "login_required", state="old", base=FP)
    assert "OAS00632" in form.error_log()


def test_login_url_with_basic_beside_a_session(form):
    """HTTP Basic at an authorize location with Session On: the sign-in is not the session's,
    nothing can be dropped: login_required (and a warning naming the location)."""
    f = Client(form)
    r = f.s.get(form.issuer + "/basic-authorize", auth=("alice", USERS["alice"]),
                params=send(fp_params(f, state="b", prompt="login")), allow_redirects=False,
                timeout=10)
    base, q = location_query(r)
    assert base == FP and q["error"] == "login_required" and q["state"] == "b", q
    assert "OAS00630" in form.error_log()


def test_prompt_none_after_max_age_with_login_url(form):
    """prompt=none never goes to the login page: login_required when the session is too old."""
    f = Client(form)
    form_login(form, f.s, "/authorize?x=1")
    params = fp_params(f)
    code_tokens(f, params, form_authorize(f, send(params)))
    params = fp_params(f, prompt="none", max_age="0", state="pn")
    assert_error_redirect(form, form_authorize(f, send(params)), "login_required", state="pn",
                          base=FP)


# ---- public clients revoke their own tokens (RFC 7009 §2.1) ------------------------------

def test_public_client_revokes_its_tokens(basic):
    f = Client(basic)
    t = tokens(f, f.get_code("pub1", scope="openid offline_access"))
    other = tokens(f, f.get_code("conf1", scope="openid offline_access"))
    # another client's token: 200 (RFC 7009 §2.2), and nothing happens to it
    r = post(basic, "/oauth/revoke", {"token": other["refresh_token"]}, "pub1")
    assert r.status_code == 200, r.text
    assert refresh(basic, "conf1", other["refresh_token"]).status_code == 200
    # its own access token, then its refresh token, by client_id alone
    r = post(basic, "/oauth/revoke", {"token": t["access_token"]}, "pub1")
    assert r.status_code == 200, r.text
    assert introspect(basic, t["access_token"]).json() == {"active": False}
    r = revoke(basic, "pub1", t["refresh_token"])
    assert r.status_code == 200, r.text
    assert_json_error(refresh(basic, "pub1", t["refresh_token"]), 400, "invalid_grant")
    # still no anonymous revocation
    assert_json_error(post(basic, "/oauth/revoke", {"token": "x"}), 401, "invalid_client")
