"""Revocation (RFC 7009) and introspection (RFC 7662) (issue 6), and the metadata that
announces them and the new grant types."""

import time

import pytest

from client import (assert_json_error, b64url, client_credentials, code_tokens, introspect,
                    jwt_claims, post, refresh, revoke, session, userinfo)
from oauth_conf import RESOURCE, standard_conf

FULL = "openid profile email offline_access"


def revoked_ok(r):
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    return r


# ---- revocation -------------------------------------------------------------------------------

@pytest.mark.catalogue("R06")
@pytest.mark.expect_log("OAS00134")
def test_revoke_own_refresh_token_kills_the_family(oas):
    h = oas
    t = code_tokens(h, "conf1", FULL)
    rt = t["refresh_token"]
    assert refresh(h, "conf1", rt).status_code == 200
    h.mark_log()
    revoked_ok(revoke(h, "conf1", rt))
    h.wait_log(r"\[oauth_as:warn\].*OAS00134: revoked a refresh token family: revoked by its client")
    assert_json_error(refresh(h, "conf1", rt), 400, "invalid_grant")
    assert introspect(h, rt, client_id="conf1").json() == {"active": False}
    # revoking again: still 200 (RFC 7009 §2.2)
    revoked_ok(revoke(h, "conf1", rt))


def test_revoke_foreign_rotated_token_does_nothing(oas):
    """conf1 cannot revoke pub1's (rotated) refresh token: it keeps working."""
    h = oas
    rt1 = code_tokens(h, "pub1", "openid offline_access")["refresh_token"]
    rt2 = refresh(h, "pub1", rt1).json()["refresh_token"]
    revoked_ok(revoke(h, "conf1", rt2))
    assert refresh(h, "pub1", rt2).status_code == 200


def test_revoke_own_access_token(oas):
    h = oas
    t = code_tokens(h, "conf1", FULL)
    at = t["access_token"]
    assert userinfo(h, at).status_code == 200
    revoked_ok(revoke(h, "conf1", at))
    r = userinfo(h, at)
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    assert introspect(h, at).json() == {"active": False}
    # the refresh token of the same grant is untouched and gives a working access token
    j = refresh(h, "conf1", t["refresh_token"]).json()
    assert userinfo(h, j["access_token"]).status_code == 200
    # a token_type_hint that is wrong is only a hint (RFC 7009 §2.1)
    at2 = j["access_token"]
    revoked_ok(post(h, "/oauth/revoke", {"token": at2, "token_type_hint": "refresh_token"},
                    "conf1"))
    assert introspect(h, at2).json() == {"active": False}


def test_revoke_cc_access_token(oas):
    h = oas
    at = client_credentials(h).json()["access_token"]
    revoked_ok(revoke(h, "svc1", at))
    assert introspect(h, at).json() == {"active": False}


def test_revoke_another_clients_tokens_does_nothing(oas):
    h = oas
    t = code_tokens(h, "conf1", FULL)
    cc = client_credentials(h).json()["access_token"]
    # svc1 tries conf1's tokens; conf1 tries svc1's; conf2 tries conf1's
    revoked_ok(revoke(h, "svc1", t["refresh_token"]))
    revoked_ok(revoke(h, "svc1", t["access_token"]))
    revoked_ok(revoke(h, "conf2", t["access_token"]))
    revoked_ok(revoke(h, "conf1", cc))
    assert refresh(h, "conf1", t["refresh_token"]).status_code == 200
    assert introspect(h, t["access_token"]).json()["active"] is True
    assert userinfo(h, t["access_token"]).status_code == 200
    assert introspect(h, cc).json()["active"] is True


@pytest.mark.parametrize("tok", ["unknown-token", "A" * 43, "x.y.z", "eyJhbGciOiJub25lIn0.e30."])
def test_revoke_unknown_token_is_200(oas, tok):
    h = oas
    r = revoked_ok(revoke(h, "conf1", tok))
    assert r.json() == {}


def test_revoke_client_authentication(oas):
    """A confidential client authenticates; a public one names itself (RFC 7009 §2.1, issue
    21: test_890_session has more)."""
    h = oas
    t = code_tokens(h, "pub1", "openid offline_access")
    assert_json_error(revoke(h, "conf1", t["refresh_token"], method="anonymous"), 401, "invalid_client")
    r = revoke(h, "conf1", t["refresh_token"], secret="wrong")
    assert_json_error(r, 401, "invalid_client")
    assert r.headers["WWW-Authenticate"].lower().startswith("basic")
    # the public client's token survived all of that
    assert refresh(h, "pub1", t["refresh_token"]).status_code == 200


def test_revoke_missing_token(oas):
    h = oas
    assert_json_error(post(h, "/oauth/revoke", {}, "conf1"), 400, "invalid_request")
    assert_json_error(post(h, "/oauth/revoke", {"token": ""}, "conf1"), 400, "invalid_request")
    assert_json_error(post(h, "/oauth/revoke", {"token_type_hint": "access_token"}, "conf2"), 400,
               "invalid_request")


# ---- introspection ----------------------------------------------------------------------------

def test_introspect_access_token(oas):
    h = oas
    t = code_tokens(h, "conf1", FULL)
    r = introspect(h, t["access_token"])
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert r.headers["Content-Type"].startswith("application/json")
    i = r.json()
    c = jwt_claims(t["access_token"])
    assert i["active"] is True
    assert i["scope"] == t["scope"] and i["client_id"] == "conf1" and i["sub"] == "alice"
    assert i["aud"] == h.issuer and i["iss"] == h.issuer
    for k in ("exp", "iat", "jti"):
        assert i[k] == c[k], k
    assert i["exp"] > time.time()
    assert i["token_type"] == "Bearer"
    # the owner may; another client without OAuthASIntrospection On learns nothing
    assert introspect(h, t["access_token"], client_id="conf1").json()["active"] is True
    assert introspect(h, t["access_token"], client_id="conf2").json() == {"active": False}


@pytest.mark.expect_log("OAS02040")
def test_introspection_rights(oas):
    """INTERFACE.md "Introspection": a client introspects its own tokens; a resource server
    (svc1: OAuthASIntrospection On) any access token but no other client's refresh token;
    anyone else gets {"active": false}, as for an unknown token."""
    h = oas
    t = code_tokens(h, "conf1", FULL)
    at, rt = t["access_token"], t["refresh_token"]
    assert introspect(h, at, client_id="svc1").json()["active"] is True
    assert introspect(h, rt, client_id="svc1").json() == {"active": False}
    assert introspect(h, rt, client_id="conf1").json()["active"] is True
    for tok in (at, rt):
        assert introspect(h, tok, client_id="conf2").json() == {"active": False}
    assert "OAS02040: introspection: client conf2 asked about a refresh token of client conf1" \
        in h.error_log()


def test_introspect_resource_token(oas):
    h = oas
    t = code_tokens(h, "conf1", "api.read", resource=RESOURCE)
    i = introspect(h, t["access_token"]).json()
    assert i["active"] is True and i["aud"] == RESOURCE and i["scope"] == "api.read"


def test_introspect_refresh_token(oas):
    h = oas
    t = code_tokens(h, "conf1", FULL)
    i = introspect(h, t["refresh_token"], client_id="conf1").json()
    assert i["active"] is True
    assert i["client_id"] == "conf1" and i["sub"] == "alice" and i["iss"] == h.issuer
    assert set(i["scope"].split()) == set(FULL.split())
    # an ID token is not an access token
    assert introspect(h, t["id_token"]).json() == {"active": False}


@pytest.mark.parametrize("tok", ["garbage", "A" * 43, "a.b.c", "eyJhbGciOiJub25lIn0.e30.",
                                 "%", "\u00e9t\u00e9"])
def test_introspect_garbage_is_inactive(oas, tok):
    h = oas
    r = introspect(h, tok)
    assert r.status_code == 200 and r.json() == {"active": False}


def test_introspect_tampered_is_inactive(oas):
    h = oas
    at = code_tokens(h, "conf1", FULL)["access_token"]
    hd, p, sig = at.split(".")
    c = jwt_claims(at)
    c["scope"] += " admin"
    import json
    forged = ".".join([hd, b64url(json.dumps(c).encode()), sig])
    assert introspect(h, forged).json() == {"active": False}


def test_introspect_expired_is_inactive(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(h, OAuthASAccessTokenLifetime=1))
    at = code_tokens(h, "conf1", FULL)["access_token"]
    deadline = time.monotonic() + 5
    while introspect(h, at).json()["active"]:
        assert time.monotonic() < deadline, "the access token did not expire"
        time.sleep(0.2)
    assert introspect(h, at).json() == {"active": False}


def test_introspect_needs_a_confidential_client(oas):
    h = oas
    t = code_tokens(h, "pub1", "openid offline_access")
    assert_json_error(introspect(h, t["access_token"], client_id="pub1"), 401, "invalid_client")
    assert_json_error(introspect(h, t["access_token"], method="anonymous"), 401, "invalid_client")
    r = introspect(h, t["access_token"], secret="wrong")
    assert_json_error(r, 401, "invalid_client")
    assert r.headers["WWW-Authenticate"].lower().startswith("basic")
    assert_json_error(post(h, "/oauth/introspect", {}, "svc1"), 400, "invalid_request")


# ---- metadata ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/.well-known/openid-configuration",
                                  "/.well-known/oauth-authorization-server"])
def test_metadata_lists_lifecycle_endpoints(oas, path):
    h = oas
    m = session(h).get(h.issuer + path, timeout=10).json()
    assert m["userinfo_endpoint"] == h.issuer + "/userinfo"
    assert m["revocation_endpoint"] == h.issuer + "/oauth/revoke"
    assert m["introspection_endpoint"] == h.issuer + "/oauth/introspect"
    assert {"authorization_code", "refresh_token", "client_credentials"} <= set(
        m["grant_types_supported"])
    for k in ("revocation_endpoint_auth_methods_supported",
              "introspection_endpoint_auth_methods_supported"):
        if k in m:
            assert "none" not in m[k] and "client_secret_basic" in m[k], m[k]
    assert "offline_access" in m["scopes_supported"]


def test_metadata_grant_types_follow_the_clients(httpd_factory):
    """With no client using them, refresh_token and client_credentials are not advertised."""
    extra = """
<OAuthASClient only>
    OAuthASClientSecret "only-secret-123456"
    OAuthASRedirectURI https://only.test/cb
    OAuthASScope openid
</OAuthASClient>
"""
    h = httpd_factory(lambda h: standard_conf(h, clients=False, extra=extra))
    m = session(h).get(h.issuer + "/.well-known/openid-configuration", timeout=10).json()
    assert m["grant_types_supported"] == ["authorization_code"]
    assert m["userinfo_endpoint"] == h.issuer + "/userinfo"
