"""client_credentials (issue 6, RFC 6749 §4.4): svc1 acts for itself; scope and audience are
checked against its allowance; no refresh token, no ID token; public clients cannot."""

import pytest

from client import (assert_json_error, client_credentials, introspect, jwt_header_payload, register,
                    token, userinfo)
from harness import Httpd
from oauth_conf import RESOURCE, SVC1_SECRET, standard_conf

OTHER = """
<OAuthASResource urn:test:other>
    OAuthASScope other.read
    OAuthASAccessTokenLifetime 600
</OAuthASResource>
<OAuthASClient svc2>
    OAuthASClientSecret "svc2-secret-aa11bb"
    OAuthASScope openid offline_access other.read
    OAuthASGrantType client_credentials
    OAuthASAudience urn:test:other
</OAuthASClient>
"""
register("svc2", "svc2-secret-aa11bb")


@pytest.fixture
def srv(httpd_factory):
    return httpd_factory(lambda h: standard_conf(h, extra=OTHER))


def ok(r):
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    j = r.json()
    assert j["token_type"] == "Bearer" and isinstance(j["expires_in"], int)
    assert "refresh_token" not in j and "id_token" not in j
    hdr, c = jwt_header_payload(j["access_token"])
    assert hdr["typ"] == "at+jwt"
    assert c["exp"] - c["iat"] == j["expires_in"]
    return j, c


def test_cc_default_audience_is_the_issuer(srv):
    h = srv
    j, c = ok(client_credentials(h))
    assert c["sub"] == "svc1" and c["client_id"] == "svc1"
    assert c["aud"] == h.issuer and c["iss"] == h.issuer
    assert j["expires_in"] == 3600
    assert "auth_time" not in c


@pytest.mark.parametrize("param", ["resource", "audience"])
def test_cc_with_resource(srv, param):
    h = srv
    j, c = ok(client_credentials(h, scope="api.read", **{param: RESOURCE}))
    assert c["aud"] == RESOURCE and c["sub"] == "svc1"
    assert c["scope"] == "api.read" and j["scope"] == "api.read"
    # both naming the same resource is fine
    j, c = ok(client_credentials(h, resource=RESOURCE, audience=RESOURCE))
    assert c["aud"] == RESOURCE


def test_cc_resource_lifetime(srv):
    h = srv
    j, c = ok(client_credentials(h, "svc2", scope="other.read", resource="urn:test:other"))
    assert j["expires_in"] == 600 and c["aud"] == "urn:test:other"


@pytest.mark.parametrize("scope", ["api.write", "openid", "offline_access", "admin",
                                   "api.read api.write"])
def test_cc_scope_not_allowed(srv, scope):
    h = srv
    assert_json_error(client_credentials(h, scope=scope, resource=RESOURCE), 400, "invalid_scope")


@pytest.mark.parametrize("scope", ["openid", "offline_access", "openid other.read"])
def test_cc_openid_and_offline_access_never(srv, scope):
    """svc2 lists openid and offline_access, but they mean nothing without a user."""
    h = srv
    assert_json_error(client_credentials(h, "svc2", scope=scope), 400, "invalid_scope")


def test_cc_audience_not_allowed(srv):
    h = srv
    # a resource that exists but svc1 may not use
    assert_json_error(client_credentials(h, resource="urn:test:other"), 400, "invalid_scope")
    assert_json_error(client_credentials(h, audience="urn:test:other"), 400, "invalid_scope")
    # an unknown resource
    assert_json_error(client_credentials(h, resource="urn:test:nowhere"), 400, "invalid_scope")
    # audience and resource naming different resources
    assert_json_error(client_credentials(h, resource=RESOURCE, audience="urn:test:other"), 400,
               "invalid_target")


def test_cc_only_for_clients_with_the_grant(srv):
    h = srv
    for cid in ("conf1", "conf2", "pub1"):
        assert_json_error(client_credentials(h, cid), 400, "unauthorized_client")


def test_cc_needs_client_authentication(srv):
    h = srv
    r = token(h, "svc1", {"grant_type": "client_credentials"}, secret="wrong")
    assert_json_error(r, 401, "invalid_client")
    assert r.headers["WWW-Authenticate"].lower().startswith("basic")
    r = token(h, "svc1", {"grant_type": "client_credentials"}, method="anonymous")
    assert_json_error(r, 401, "invalid_client")
    r = token(h, "svc1", {"grant_type": "client_credentials"}, method="none")
    assert_json_error(r, 401, "invalid_client")
    # svc1 is registered for client_secret_basic only: the right secret in the body fails
    r = token(h, "svc1", {"grant_type": "client_credentials"},
                    method="client_secret_post", secret=SVC1_SECRET)
    assert r.status_code in (400, 401) and r.json()["error"] == "invalid_client"


def test_cc_token_at_introspection_and_userinfo(srv):
    h = srv
    j, c = ok(client_credentials(h, scope="api.read", resource=RESOURCE))
    i = introspect(h, j["access_token"]).json()
    assert i["active"] is True and i["sub"] == "svc1" and i["client_id"] == "svc1"
    assert i["aud"] == RESOURCE and i["scope"] == "api.read"
    # not a user's token: userinfo refuses it (another audience)
    r = userinfo(h, j["access_token"])
    assert r.status_code == 403 and 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]
    # nor with the issuer as audience (no openid)
    j, c = ok(client_credentials(h))
    r = userinfo(h, j["access_token"])
    assert r.status_code == 403 and 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]


def test_public_client_with_client_credentials_is_a_config_error(tmp_path):
    body = """
<OAuthASClient pubcc>
    OAuthASAuthMethod none
    OAuthASScope api.read
    OAuthASGrantType client_credentials
</OAuthASClient>
"""
    h = Httpd(str(tmp_path / "srv"), lambda h: standard_conf(h, extra=body))
    rc, out = h.configtest()
    assert rc != 0
    assert "pubcc" in out and "client_credentials" in out, out
