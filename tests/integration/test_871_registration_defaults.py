"""OAuthASRegistrationDefaults (issue 20): what a dynamic client may get, end to end. scope=
narrows what registered and metadata-document clients may ask for (a registration gets the
allowed ones, RFC 7591 §3.2.1; /authorize refuses the others with invalid_scope); their
tokens live access-token-lifetime= and refresh-token-lifetime=; a registered client lives
client-lifetime= (client_secret_expires_at; then it is unknown at /authorize and the token
endpoint) and at most max-clients= are registered at once (403 access_denied). One
module-scoped server carries the scope and lifetimes; the expiry and the cap need their own."""

import json
import os
import time

import pytest

from client import (assert_error_page, assert_error_redirect, assert_json_error, authorize,
                    authz_params, get_code, introspect, jwt_claims, redeem, refresh, register,
                    session)
from harness import Httpd, module_scoped
from oauth_conf import standard_conf
from test_710_jwks_uri import JwksServer, make_conf

REG = "/oauth/register"
ENDPOINT = f"<Location {REG}>\n    OAuthASEndpoint register\n</Location>\n"
DEFAULTS = ('OAuthASRegistrationDefaults scope="openid offline_access api.read" '
            "access-token-lifetime=120 refresh-token-lifetime=600\n")
LOOPBACK = "http://127.0.0.1/cb"
PUBLIC = {"redirect_uris": [LOOPBACK], "token_endpoint_auth_method": "none",
          "grant_types": ["authorization_code", "refresh_token"]}


def conf(extra):
    base = make_conf({})

    def body(h):
        return base(h) + ENDPOINT + extra + (
            "OAuthASRegistration Open\nOAuthASRegistrationAudience urn:test:api\n"
            "OAuthASClientMetadataDocuments On\n")
    return body


@pytest.fixture(scope="module")
def docs():
    s = JwksServer()
    yield s
    s.close()


@pytest.fixture(scope="module")
def h(request, workdir_base):
    """One server for the tests of scope= and the lifetimes (each registers its own clients)."""
    yield from module_scoped(request, Httpd(os.path.join(workdir_base, "871-defaults"),
                                            conf(DEFAULTS)))


def reg_post(h, md):
    with session(h) as s:
        return s.post(h.issuer + REG, data=json.dumps(md), timeout=10,
                      headers={"Content-Type": "application/json"})


def registered(h, md):
    r = reg_post(h, md)
    assert r.status_code == 201, r.text
    c = r.json()
    register(c["client_id"], c.get("client_secret"), c["token_endpoint_auth_method"],
             c["redirect_uris"])
    return c


def manage(h, c, method="GET", md=None):
    headers = {"Authorization": f"Bearer {c['registration_access_token']}"}
    if md is not None:
        headers["Content-Type"] = "application/json"
    with session(h) as s:
        return s.request(method, c["registration_client_uri"], headers=headers, timeout=10,
                         data=json.dumps(md) if md is not None else None)


def test_registration_gets_the_allowed_scopes(h):
    """RFC 7591 §3.2.1: the server replaces what it does not grant; the response says what the
    client got. Nothing allowed at all: invalid_client_metadata."""
    c = registered(h, dict(PUBLIC, scope="openid profile api.read api.write"))
    assert c["scope"] == "openid api.read"
    assert registered(h, PUBLIC)["scope"] == "openid"  # none asked: openid
    assert_json_error(reg_post(h, dict(PUBLIC, scope="profile api.write")), 400,
                      "invalid_client_metadata")
    # an update is narrowed the same way
    r = manage(h, c, "PUT", dict(PUBLIC, client_id=c["client_id"], scope="email api.read"))
    assert r.status_code == 200 and r.json()["scope"] == "api.read", r.text


def test_scope_outside_the_defaults_at_authorize(h):
    c = registered(h, dict(PUBLIC, scope="openid api.read"))
    r = authorize(h, authz_params(c["client_id"], scope="openid profile",
                                  challenge="x" * 43, state="s1"))
    assert_error_redirect(h, r, "invalid_scope", state="s1")


def test_token_lifetimes(h):
    """expires_in and the access token's exp say access-token-lifetime=, also for a resource
    (whose own lifetime would be the server's); the refresh token lives
    refresh-token-lifetime= (its introspection's exp)."""
    c = registered(h, dict(PUBLIC, token_endpoint_auth_method="client_secret_basic",
                           scope="openid offline_access api.read"))
    g = get_code(h, c["client_id"], scope="openid offline_access api.read",
                 redirect_uri=LOOPBACK, resource="urn:test:api")
    r = redeem(h, g)
    assert r.status_code == 200, r.text
    t = r.json()
    at = jwt_claims(t["access_token"])
    assert t["expires_in"] == 120 and at["exp"] - at["iat"] == 120, (t, at)
    i = introspect(h, t["refresh_token"], client_id=c["client_id"]).json()
    assert i["active"] and i["token_type"] == "refresh_token", i
    assert abs(i["exp"] - (at["iat"] + 600)) <= 2, (i, at)
    t2 = refresh(h, c["client_id"], t["refresh_token"]).json()
    assert t2["expires_in"] == 120, t2
    # a configured client keeps the server's lifetime
    at = jwt_claims(redeem(h, get_code(h, "conf1", scope="openid")).json()["access_token"])
    assert at["exp"] - at["iat"] == 3600


def test_metadata_document_client(h, docs):
    """A metadata-document client gets what a registered one may: its document's scopes within
    scope=, tokens of access-token-lifetime=."""
    url = docs.url("/agent-871.json")
    docs.serve("/agent-871.json", {
        "client_id": url, "client_name": "An agent", "redirect_uris": [LOOPBACK],
        "token_endpoint_auth_method": "none", "grant_types": ["authorization_code"],
        "scope": "openid profile api.read"})
    register(url, redirect_uris=[LOOPBACK])
    r = authorize(h, authz_params(url, redirect_uri=LOOPBACK, scope="openid profile",
                                  challenge="x" * 43, state="s2"))
    assert_error_redirect(h, r, "invalid_scope", state="s2")
    g = get_code(h, url, scope="openid api.read", redirect_uri=LOOPBACK)
    r = redeem(h, g)
    assert r.status_code == 200, r.text
    assert r.json()["expires_in"] == 120


def wait_until(cond, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.2)
    return cond()


@pytest.mark.catalogue("D07")
@pytest.mark.allow_log("OAS06830")
def test_client_lifetime_and_max_clients(httpd_factory):
    """client-lifetime=6 max-clients=2: the third registration is refused (403); a client
    expires with its secret (client_secret_expires_at), after which /authorize and the token
    endpoint know it no more; its place is free again once it is gone."""
    srv = httpd_factory(conf("OAuthASRegistrationDefaults client-lifetime=6 max-clients=2\n"))
    conf_c = registered(srv, dict(PUBLIC, token_endpoint_auth_method="client_secret_basic"))
    assert conf_c["client_secret_expires_at"] == conf_c["client_id_issued_at"] + 6
    pub = registered(srv, PUBLIC)
    r = reg_post(srv, PUBLIC)
    assert_json_error(r, 403, "access_denied")
    assert "OAS06830" in srv.error_log()
    # an update keeps the expiry (the lifetime runs from the registration)
    r = manage(srv, conf_c, "PUT", dict(PUBLIC, client_id=conf_c["client_id"],
                                        token_endpoint_auth_method="client_secret_basic"))
    assert r.json()["client_secret_expires_at"] == conf_c["client_secret_expires_at"], r.text
    g = get_code(srv, conf_c["client_id"], scope="openid", redirect_uri=LOOPBACK)
    # expired: unknown everywhere
    assert wait_until(lambda: manage(srv, conf_c).status_code == 401 and
                      manage(srv, pub).status_code == 401, 10)
    assert_json_error(redeem(srv, g), 401, "invalid_client")
    r = authorize(srv, authz_params(pub["client_id"], redirect_uri=LOOPBACK, scope="openid",
                                    challenge="x" * 43))
    assert_error_page(r, 400)
    # the cap counts live clients only: a place is free once the buckets of the gone ones end
    assert wait_until(lambda: reg_post(srv, PUBLIC).status_code == 201, 10)


@pytest.mark.parametrize("args,fragment", [
    ("scope", "is not KEY=VALUE"),
    ("colour=blue", "unknown key 'colour'"),
    ("max-clients=-1", "max-clients='-1'"),
    ("client-lifetime=soon", "client-lifetime='soon'"),
    ('scope="openid', "quote is not closed"),
    ("scope=nowhere", "nowhere is no scope of this issuer"),
    ("access-token-lifetime=7200", "access-token-lifetime=7200 is longer than "
                                   "OAuthASAccessTokenLifetime (3600)"),
    ("refresh-token-lifetime=99999999", "is longer than OAuthASRefreshTokenLifetime"),
])
def test_configtest(tmp_path, args, fragment):
    h = Httpd(str(tmp_path / "srv"), "")
    h.body = standard_conf(h, extra=ENDPOINT + "OAuthASRegistration Open\n"
                           f"OAuthASRegistrationDefaults {args}\n")
    rc, out = h.configtest()
    assert rc != 0 and "OAuthASRegistrationDefaults" in out and fragment in out, out


@pytest.mark.parametrize("block", ["OAuthASClient a", "Location /x"])
def test_configtest_server_only(tmp_path, block):
    h = Httpd(str(tmp_path / "srv"), "")
    h.body = standard_conf(h, extra=f"<{block}>\nOAuthASRegistrationDefaults max-clients=3\n"
                           f"</{block.split()[0]}>\n")
    rc, out = h.configtest()
    assert rc != 0 and "OAuthASRegistrationDefaults" in out and "not allowed" in out, out
