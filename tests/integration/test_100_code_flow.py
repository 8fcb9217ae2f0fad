"""Issue 3: the Authorization Code flow end to end (SECURITY.md A01, T01, H03 happy parts),
the tokens verified against the JWKS, and the consent round trip."""

import re
import time

import pytest

from client import (Client, assert_error_page, assert_error_redirect, at_hash, b64url_decode,
                    consent_form)
from oauth_conf import RESOURCE, standard_conf

CH = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 App. B
B64URL = re.compile(r"^[A-Za-z0-9_-]+$")


def check_token_response(r, scope):
    """T01: 200 JSON, no-store / no-cache, the RFC 6749 §5.1 fields."""
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers.get("Cache-Control") == "no-store", r.headers
    assert r.headers.get("Pragma") == "no-cache", r.headers
    t = r.json()
    assert t["token_type"] == "Bearer"
    assert isinstance(t["expires_in"], int) and 0 < t["expires_in"] <= 3600
    assert t["scope"] == scope
    assert re.match(r"^[\x20-\x7e]+$", t["access_token"])
    return t


def check_access_token(f, t, g, aud, scope, user="alice"):
    now = int(time.time())
    hdr, c = f.verify_jwt(t["access_token"], typ="at+jwt")
    assert hdr["kid"]
    assert c["iss"] == f.h.issuer
    assert c["sub"] == user
    assert c["aud"] == aud
    assert c["client_id"] == g["client_id"]
    assert c["scope"] == scope
    assert now - 60 <= c["iat"] <= now + 5
    assert c["exp"] > now and c["exp"] - c["iat"] == t["expires_in"]
    assert len(c["jti"]) >= 16
    assert now - 60 <= c["auth_time"] <= now + 5
    return c


def check_id_token(f, t, g, user="alice"):
    now = int(time.time())
    hdr, c = f.verify_jwt(t["id_token"])
    assert hdr.get("typ") in (None, "JWT")
    assert c["iss"] == f.h.issuer
    assert c["sub"] == user
    assert c["aud"] == g["client_id"] or c["aud"] == [g["client_id"]]
    assert c["exp"] > now and c["iat"] <= now + 5
    assert c["nonce"] == g["nonce"]
    assert c["at_hash"] == at_hash(t["access_token"], hdr["alg"])
    assert now - 60 <= c["auth_time"] <= now + 5
    return c


@pytest.mark.catalogue("A01", "T01")
def test_confidential_basic_happy_path_with_audience(oas):
    f = Client(oas)
    scope = "openid profile email api.read"
    g = f.get_code("conf1", scope=scope, audience=RESOURCE, expect_consent=True)
    # A01: the code is ≥ 128 bits of base64url; no PKCE material in the Location
    assert B64URL.match(g["code"]) and len(g["code"]) >= 43
    assert set(g["query"]) == {"code", "state", "iss"}
    t = check_token_response(f.redeem(g), scope)
    at = check_access_token(f, t, g, RESOURCE, scope)
    idt = check_id_token(f, t, g)
    assert idt["email"] == "alice@example.test"
    assert idt["name"] == "alice"
    assert at["jti"] not in t["id_token"]
    assert "refresh_token" not in t or t["refresh_token"]


def test_resource_parameter_names_the_audience(oas):
    f = Client(oas)
    g = f.get_code("conf1", scope="api.read", resource=RESOURCE)
    t = check_token_response(f.redeem(g), "api.read")
    check_access_token(f, t, g, RESOURCE, "api.read")
    assert "id_token" not in t  # no openid, no ID token


def test_no_audience_means_issuer_audience(oas):
    f = Client(oas)
    g = f.get_code("conf1", scope="openid")
    t = check_token_response(f.redeem(g), "openid")
    check_access_token(f, t, g, oas.issuer, "openid")
    idt = check_id_token(f, t, g)
    # claims for profile/email only when those scopes are granted
    assert "email" not in idt and "name" not in idt


def test_id_token_claims_follow_scopes(oas):
    f = Client(oas)
    g = f.get_code("conf1", scope="openid profile")
    t = check_token_response(f.redeem(g), "openid profile")
    idt = check_id_token(f, t, g)
    assert idt["name"] == "alice" and "email" not in idt
    g = f.get_code("conf1", scope="openid email", user="bob")
    t = check_token_response(f.redeem(g), "openid email")
    idt = check_id_token(f, t, g, user="bob")
    assert idt["email"] == "bob@example.test" and "name" not in idt


def test_public_client_pkce_happy_path(oas):
    f = Client(oas)
    scope = "openid profile api.read"
    g = f.get_code("pub1", scope=scope, audience=RESOURCE)
    r = f.redeem(g)  # client_id only, no secret
    t = check_token_response(r, scope)
    check_access_token(f, t, g, RESOURCE, scope)
    idt = check_id_token(f, t, g)
    assert idt["name"] == "alice"


@pytest.mark.catalogue("A01")
def test_client_secret_post_with_query_in_registered_uri(oas):
    f = Client(oas)
    g = f.get_code("conf2", redirect_uri="https://rp2.test/cb?tenant=a", scope="openid email")
    # A01 (3): the registered query is kept, one '?'
    assert g["query"]["tenant"] == "a"
    t = check_token_response(f.redeem(g), "openid email")
    idt = check_id_token(f, t, g)
    assert idt["email"] == "alice@example.test"
    check_access_token(f, t, g, oas.issuer, "openid email")


@pytest.mark.catalogue("A01")
def test_post_authorize_form(oas):
    """OIDC Core §3.1.2.1: POST /authorize as a form gives the same outcome as GET."""
    f = Client(oas)
    g = f.get_code("conf1", method="POST", scope="openid api.read", expect_consent=True)
    t = check_token_response(f.redeem(g), "openid api.read")
    check_id_token(f, t, g)


@pytest.mark.catalogue("A01")
def test_codes_are_distinct(oas):
    f = Client(oas)
    codes = {f.get_code("fp1", scope="openid")["code"] for _ in range(30)}
    assert len(codes) == 30
    assert all(len(c) >= 43 and B64URL.match(c) for c in codes)


def test_consent_page_content_and_headers(oas):
    f = Client(oas)
    p = f.authz_params("conf1", scope="openid profile api.read", audience=RESOURCE,
                       challenge=CH)
    r = f.authorize(p)
    form = consent_form(r)
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert "no-store" in r.headers["Cache-Control"]
    assert "conf1" in r.text and "alice" in r.text and RESOURCE in r.text
    assert "api.read" in r.text and "profile" in r.text
    assert form["txn"] != form["csrf"]


@pytest.mark.catalogue("H03")
def test_consent_deny(oas):
    f = Client(oas)
    p = f.authz_params("conf1", state="deny-state", challenge=CH)
    form = consent_form(f.authorize(p))
    r = f.decide(form, "deny")
    assert r.status_code in (302, 303)
    assert_error_redirect(oas, r, "access_denied", state="deny-state", base="https://rp1.test/cb")
    # H03: the transaction is gone: approving it afterwards is an error page, no code
    r = f.decide(form, "allow")
    assert_error_page(r, 400)
    # a denial is not remembered: the page comes again
    consent_form(f.authorize(p))


@pytest.mark.catalogue("A08")
def test_remembered_consent_and_prompt(oas):
    f = Client(oas)
    f.get_code("conf1", scope="openid api.read", expect_consent=True)
    # remembered: no page, scope order irrelevant (a set)
    f.get_code("conf1", scope="api.read openid", expect_consent=False)
    # prompt=none with remembered consent: the code comes directly
    f.get_code("conf1", scope="openid api.read", prompt="none", expect_consent=False)
    # prompt=consent shows the page anyway
    f.get_code("conf1", scope="openid api.read", prompt="consent", expect_consent=True)
    # another set of scopes, another user, another audience: asked again
    f.get_code("conf1", scope="openid profile api.read", expect_consent=True)
    f.get_code("conf1", scope="openid api.read", user="bob", expect_consent=True)
    f.get_code("conf1", scope="openid api.read", audience=RESOURCE, expect_consent=True)


def test_prompt_none_without_consent(oas):
    f = Client(oas)
    # signed in at the AS (a session) through a first-party client: prompt=none is then
    # about consent alone (without a session it is login_required: test_890_session)
    f.get_code("fp1", scope="openid", expect_consent=False)
    p = f.authz_params("conf1", state="pn", prompt="none",
                       challenge=CH)
    r = f.authorize(p)
    assert_error_redirect(oas, r, "consent_required", state="pn", base="https://rp1.test/cb")


def test_first_party_client_skips_consent(oas):
    f = Client(oas)
    g = f.get_code("fp1", scope="openid profile email", expect_consent=False)
    t = check_token_response(f.redeem(g), "openid profile email")
    check_id_token(f, t, g)
    # prompt=none works for it without any earlier consent (bob's session begins first: the
    # browser's session is alice's)
    f.get_code("fp1", scope="openid", user="bob", expect_consent=False)
    f.get_code("fp1", scope="openid", prompt="none", user="bob", expect_consent=False)


def test_redeemed_tokens_differ_per_code(oas):
    f = Client(oas)
    t1 = f.redeem(f.get_code("fp1", scope="openid")).json()
    t2 = f.redeem(f.get_code("fp1", scope="openid")).json()
    j1 = f.verify_jwt(t1["access_token"])[1]["jti"]
    j2 = f.verify_jwt(t2["access_token"])[1]["jti"]
    assert j1 != j2 and t1["access_token"] != t2["access_token"]


def test_head_authorize_changes_nothing(oas):
    f = Client(oas)
    p = f.authz_params("conf1", challenge=CH)
    r = f.s.head(f.url("/authorize"), params=p, auth=("alice", "alice-password"),
                 allow_redirects=False, timeout=5)
    assert r.status_code == 200 and r.content == b""
    assert "Location" not in r.headers


@pytest.mark.allow_log("OAS00144")
def test_unprotected_location_is_refused(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(
        h, extra="<Location /authorize>\n    AuthType None\n    Require all granted\n"
                  "</Location>\n"))
    f = Client(h)
    p = f.authz_params("conf1", challenge=CH)
    r = f.authorize(p, user=None)
    assert_error_page(r, 403)
    assert "not configured" in r.text.lower()
    h.wait_log(r":error\].*OAS00144")


def test_user_of_code_is_the_authenticated_user(oas):
    f = Client(oas)
    g = f.get_code("fp1", scope="openid", user="bob")
    t = f.redeem(g).json()
    assert f.verify_jwt(t["access_token"])[1]["sub"] == "bob"
    assert f.verify_jwt(t["id_token"])[1]["sub"] == "bob"
    # the JWT header carries a kid that the JWKS publishes
    kid = f.verify_jwt(t["access_token"])[0]["kid"]
    assert kid in [k["kid"] for k in f.jwks()["keys"]]
    assert b64url_decode(t["access_token"].split(".")[2])


@pytest.mark.parametrize("keys,at_alg,id_alg", [
    (("es256", "rsa"), "ES256", "RS256"),
    (("ed25519",), "EdDSA", "EdDSA"),
    (("rsa", "es256"), "RS256", "RS256"),
])
def test_signing_keys(httpd_factory, keys, at_alg, id_alg):
    """The first key signs access tokens; ID tokens use the first RSA key when there is one."""
    h = httpd_factory(lambda h: standard_conf(h, keys=keys))
    f = Client(h)
    assert len(f.jwks()["keys"]) == len(keys)
    g = f.get_code("fp1", scope="openid email")
    t = check_token_response(f.redeem(g), "openid email")
    assert f.verify_jwt(t["access_token"], typ="at+jwt")[0]["alg"] == at_alg
    assert f.verify_jwt(t["id_token"])[0]["alg"] == id_alg
    check_id_token(f, t, g)
    check_access_token(f, t, g, h.issuer, "openid email")


def test_prompt_none_without_user_is_login_required(httpd_factory):
    """A location where authentication is optional: prompt=none without a user →
    login_required (no configuration error logged for it)."""
    h = httpd_factory(lambda h: standard_conf(
        h, extra="<Location /authorize>\n    AuthType None\n    Require all granted\n"
                  "</Location>\n"))
    f = Client(h)
    p = f.authz_params("fp1", scope="openid", state="ln", prompt="none",
                       challenge=CH)
    r = f.authorize(p, user=None)
    assert_error_redirect(h, r, "login_required", state="ln", base="https://fp.test/cb")
    assert "OAS00144" not in h.error_log()
