"""Refresh tokens (issue 6; SECURITY.md §6 group R and X03): issuance rules, format, the
refresh grant, scope narrowing, policy A for confidential clients, rotation with reuse
detection, the concurrent-refresh race, client binding, expiry, code-replay revocation and
per-client / per-resource access token lifetimes."""

import concurrent.futures
import threading
import time

import pytest

from client import (B64URL, assert_json_error, code_tokens, get_code, introspect, jwt_claims,
                    jwt_header_payload, redeem, refresh, register, session, token, userinfo)
from oauth_conf import CONF1_SECRET, standard_conf

FULL = "openid profile email offline_access"

# A confidential client that rotates; another refresh-capable confidential client; a client
# with offline_access but without the refresh_token grant.
ROT_SECRET = "rot1-secret-0c93f1"
CONF3_SECRET = "conf3-secret-77ab02"
NOREF_SECRET = "noref-secret-e4d1a9"
EXTRA_CLIENTS = f"""
<OAuthASClient rot1>
    OAuthASClientSecret "{ROT_SECRET}"
    OAuthASAuthMethod client_secret_basic
    OAuthASRedirectURI https://rot.test/cb
    OAuthASScope openid profile email offline_access
    OAuthASGrantType authorization_code refresh_token
    OAuthASRefreshTokenRotation On
</OAuthASClient>
<OAuthASClient conf3>
    OAuthASClientSecret "{CONF3_SECRET}"
    OAuthASAuthMethod client_secret_basic
    OAuthASRedirectURI https://rp4.test/cb
    OAuthASScope openid profile email offline_access
    OAuthASGrantType authorization_code refresh_token
</OAuthASClient>
<OAuthASClient noref>
    OAuthASClientSecret "{NOREF_SECRET}"
    OAuthASAuthMethod client_secret_basic
    OAuthASRedirectURI https://noref.test/cb
    OAuthASScope openid offline_access
    OAuthASGrantType authorization_code
</OAuthASClient>
"""
register("rot1", ROT_SECRET, redirect_uris=["https://rot.test/cb"])
register("conf3", CONF3_SECRET, redirect_uris=["https://rp4.test/cb"])
register("noref", NOREF_SECRET, redirect_uris=["https://noref.test/cb"])


@pytest.fixture
def srv(httpd_factory):
    return httpd_factory(lambda h: standard_conf(h, extra=EXTRA_CLIENTS))


def assert_rt_format(rt):
    # RFC 6749 §10.10 / SECURITY.md R01: >= 128 bits; the server makes 256-bit base64url.
    assert len(rt) >= 43 and B64URL.match(rt), rt


def invalid_grant(r):
    return assert_json_error(r, 400, "invalid_grant")


# ---- issuance ---------------------------------------------------------------------------------

@pytest.mark.catalogue("T01")
def test_rt_issued_only_with_grant_and_offline_access(srv):
    h = srv
    # conf1 has the refresh_token grant: offline_access gives a refresh token ...
    t = code_tokens(h, "conf1", FULL)
    assert_rt_format(t["refresh_token"])
    assert "offline_access" in t["scope"].split()
    # ... without offline_access there is none.
    t = code_tokens(h, "conf1", "openid profile")
    assert "refresh_token" not in t
    # pub1 has it too.
    assert_rt_format(code_tokens(h, "pub1", "openid offline_access")["refresh_token"])
    # noref may ask for offline_access but lacks the grant: no refresh token.
    t = code_tokens(h, "noref", "openid offline_access")
    assert "refresh_token" not in t and "access_token" in t
    # Two refresh tokens are never the same.
    a = code_tokens(h, "conf1", FULL)["refresh_token"]
    b = code_tokens(h, "conf1", FULL)["refresh_token"]
    assert a != b


@pytest.mark.catalogue("T08")
def test_client_without_refresh_grant_is_unauthorized(srv):
    h = srv
    rt = code_tokens(h, "conf1", FULL)["refresh_token"]
    # conf2 (client_secret_post) lacks the refresh_token grant.
    assert_json_error(refresh(h, "conf2", rt), 400, "unauthorized_client")
    assert_json_error(refresh(h, "noref", rt), 400, "unauthorized_client")
    # svc1 (client_credentials only) neither.
    assert_json_error(refresh(h, "svc1", rt), 400, "unauthorized_client")
    # the token is untouched by those attempts
    assert refresh(h, "conf1", rt).status_code == 200


# ---- R01 --------------------------------------------------------------------------------------

@pytest.mark.catalogue("R01")
def test_refresh_happy_path(srv):
    h = srv
    t = code_tokens(h, "conf1", FULL)
    rt, at1, idt1 = t["refresh_token"], t["access_token"], t["id_token"]
    for scope in (None, FULL):
        r = refresh(h, "conf1", rt, scope=scope)
        assert r.status_code == 200, r.text
        assert r.headers["Cache-Control"] == "no-store"
        assert r.headers["Content-Type"].startswith("application/json")
        j = r.json()
        assert j["token_type"] == "Bearer"
        assert isinstance(j["expires_in"], int) and j["expires_in"] == 3600
        assert j["access_token"] != at1
        assert set(j["scope"].split()) == set(FULL.split())
        # policy A (SECURITY.md §2, R05): conf1 does not rotate
        assert j.get("refresh_token", rt) == rt
        hdr, at = jwt_header_payload(j["access_token"])
        old = jwt_claims(at1)
        assert hdr["typ"] == "at+jwt"
        for k in ("iss", "sub", "aud", "client_id"):
            assert at[k] == old[k], k
        assert at["jti"] != old["jti"]
        assert at["exp"] - at["iat"] == 3600
        # a new ID token (openid granted) keeping iss, sub, aud; no nonce (OIDC Core §12.2)
        idt, old_id = jwt_claims(j["id_token"]), jwt_claims(idt1)
        assert j["id_token"] != idt1
        for k in ("iss", "sub", "aud"):
            assert idt[k] == old_id[k], k
        assert idt["sub"] == "alice" and idt["aud"] == "conf1" and idt["iss"] == h.issuer
        assert "nonce" not in idt and "nonce" in old_id
        # the refreshed access token serves userinfo
        u = userinfo(h, j["access_token"])
        assert u.status_code == 200 and u.json()["sub"] == "alice"


@pytest.mark.catalogue("R01")
def test_no_id_token_without_openid(srv):
    h = srv
    t = code_tokens(h, "conf1", "profile offline_access")
    assert "id_token" not in t
    j = refresh(h, "conf1", t["refresh_token"]).json()
    assert "id_token" not in j and "access_token" in j


# ---- R03 --------------------------------------------------------------------------------------

@pytest.mark.catalogue("R03")
def test_narrower_scope(srv):
    h = srv
    rt = code_tokens(h, "conf1", FULL)["refresh_token"]
    r = refresh(h, "conf1", rt, scope="openid profile")
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["scope"] == "openid profile"
    assert jwt_claims(j["access_token"])["scope"] == "openid profile"
    assert "id_token" in j
    # the narrower token releases only the profile claims
    u = userinfo(h, j["access_token"]).json()
    assert u["name"] == "alice" and "email" not in u
    # without openid: no id_token
    j = refresh(h, "conf1", rt, scope="email").json()
    assert j["scope"] == "email" and "id_token" not in j
    # the grant itself is unchanged: a refresh without scope gets everything again
    j = refresh(h, "conf1", rt).json()
    assert set(j["scope"].split()) == set(FULL.split())


@pytest.mark.parametrize("scope", [
    "openid profile email offline_access api.read",   # the client may, but it was not granted
    "openid admin",                                     # unknown scope
    "openid profile email offline_access phone",
])
@pytest.mark.catalogue("R03")
def test_wider_scope_is_invalid_scope(srv, scope):
    h = srv
    rt = code_tokens(h, "conf1", FULL)["refresh_token"]
    assert_json_error(refresh(h, "conf1", rt, scope=scope), 400, "invalid_scope")
    # the refresh token still works
    assert refresh(h, "conf1", rt).status_code == 200


@pytest.mark.catalogue("R03")
def test_empty_scope_means_original(srv):
    """SECURITY.md R03(d): scope= (empty) → 200 with the original scope."""
    h = srv
    rt = code_tokens(h, "conf1", FULL)["refresh_token"]
    r = refresh(h, "conf1", rt, scope="")
    assert r.status_code == 200, r.text
    assert set(r.json()["scope"].split()) == set(FULL.split())
    assert set(jwt_claims(r.json()["access_token"])["scope"].split()) == set(FULL.split())


# ---- R05 policy A, rotation On for a confidential client --------------------------------------

@pytest.mark.catalogue("R05")
def test_confidential_without_rotation_retries(srv):
    h = srv
    rt = code_tokens(h, "conf1", FULL)["refresh_token"]
    seen = set()
    for _ in range(4):
        r = refresh(h, "conf1", rt)
        assert r.status_code == 200, r.text
        assert r.json().get("refresh_token", rt) == rt
        seen.add(r.json()["access_token"])
    assert len(seen) == 4


@pytest.mark.catalogue("R05", "X03")
def test_fifty_parallel_refreshes_all_succeed(srv):
    h = srv
    rt = code_tokens(h, "conf1", FULL)["refresh_token"]
    barrier = threading.Barrier(50)

    def one(_):
        s = session(h)
        # no keep-alive: under prefork (10 workers) idle connections would starve the rest
        s.headers["Connection"] = "close"
        barrier.wait(timeout=20)
        return refresh(h, "conf1", rt, sess=s)

    with concurrent.futures.ThreadPoolExecutor(50) as ex:
        rs = list(ex.map(one, range(50)))
    assert [r.status_code for r in rs] == [200] * 50, [r.text for r in rs if r.status_code != 200]
    assert len({r.json()["access_token"] for r in rs}) == 50
    assert len({jwt_claims(r.json()["access_token"])["jti"] for r in rs}) == 50
    assert refresh(h, "conf1", rt).status_code == 200


@pytest.mark.catalogue("R05")
def test_confidential_rotation_on(srv):
    h = srv
    rt1 = code_tokens(h, "rot1", FULL)["refresh_token"]
    r = refresh(h, "rot1", rt1)
    assert r.status_code == 200, r.text
    rt2 = r.json()["refresh_token"]
    assert_rt_format(rt2)
    assert rt2 != rt1
    # the new token carries the whole grant
    r = refresh(h, "rot1", rt2, scope="openid")
    assert r.status_code == 200
    rt3 = r.json()["refresh_token"]
    assert rt3 not in (rt1, rt2)
    j = refresh(h, "rot1", rt3).json()
    assert set(j["scope"].split()) == set(FULL.split())
    rt4 = j["refresh_token"]
    # R05 policy B: a confidential client may retry with a rotated-out token within the grace
    # (OAuthASRefreshTokenGrace, default 30 s): 200, a new successor, the family untouched
    h.mark_log()
    r = refresh(h, "rot1", rt2)
    assert r.status_code == 200, r.text
    rt5 = r.json()["refresh_token"]
    assert rt5 not in (rt1, rt2, rt3, rt4)
    assert "OAS00134" not in h.error_log()
    assert refresh(h, "rot1", rt4).status_code == 200
    assert introspect(h, rt5, client_id="rot1").json()["active"] is True


@pytest.mark.catalogue("R05")
@pytest.mark.expect_log("OAS00134")
def test_confidential_rotation_reuse_after_the_grace_revokes(httpd_factory):
    """R05 policy B, after the window: the rotated-out token is refused and revokes the
    family; the grace never applies to a public client (the R04 tests below)."""
    h = httpd_factory(lambda h: standard_conf(h, extra=EXTRA_CLIENTS,
                                              OAuthASRefreshTokenGrace=1))
    rt1 = code_tokens(h, "rot1", FULL)["refresh_token"]
    r = refresh(h, "rot1", rt1)
    assert r.status_code == 200, r.text
    rt2 = r.json()["refresh_token"]
    time.sleep(2.1)  # waiting out the 1-second grace (whole seconds are compared)
    h.mark_log()
    invalid_grant(refresh(h, "rot1", rt1))
    h.wait_log(r"\[oauth_as:warn\].*OAS00134")
    invalid_grant(refresh(h, "rot1", rt2))
    assert introspect(h, rt2, client_id="rot1").json() == {"active": False}


@pytest.mark.catalogue("R05")
@pytest.mark.expect_log("OAS00134")
def test_grace_off_reuse_revokes_at_once(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(h, extra=EXTRA_CLIENTS,
                                              OAuthASRefreshTokenGrace=0))
    rt1 = code_tokens(h, "rot1", FULL)["refresh_token"]
    rt2 = refresh(h, "rot1", rt1).json()["refresh_token"]
    invalid_grant(refresh(h, "rot1", rt1))
    h.wait_log(r"\[oauth_as:warn\].*OAS00134")
    invalid_grant(refresh(h, "rot1", rt2))


# ---- R04: public client, reuse detection ------------------------------------------------------

@pytest.mark.catalogue("R04")
@pytest.mark.expect_log("OAS00134")
def test_public_client_rotates_and_reuse_revokes_family(srv):
    h = srv
    t = code_tokens(h, "pub1", "openid offline_access")
    rt1 = t["refresh_token"]
    r = refresh(h, "pub1", rt1)
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    rt2 = r.json()["refresh_token"]
    assert_rt_format(rt2)
    assert rt2 != rt1
    # (a public client cannot introspect: the refresh answers below show which token lives)
    # theft: RT1 again → invalid_grant, the family (RT2 included) is revoked
    h.mark_log()
    invalid_grant(refresh(h, "pub1", rt1))
    m = h.wait_log(r"\[oauth_as:(\w+)\].*OAS00134: revoked a refresh token family")
    assert m.group(1) == "warn"
    invalid_grant(refresh(h, "pub1", rt2))
    # (SECURITY.md R04 also wants AT2 inactive: asserted in test_600_catalogue_transport.py::
    # test_reuse_revokes_the_access_tokens_too.)
    # and nothing comes back to life later
    invalid_grant(refresh(h, "pub1", rt1))
    invalid_grant(refresh(h, "pub1", rt2))


@pytest.mark.catalogue("R04")
def test_rotation_chain(srv):
    h = srv
    rt = code_tokens(h, "pub1", "openid offline_access")["refresh_token"]
    seen = {rt}
    for _ in range(5):
        j = refresh(h, "pub1", rt).json()
        rt = j["refresh_token"]
        assert rt not in seen
        seen.add(rt)
    assert refresh(h, "pub1", rt).status_code == 200


@pytest.mark.catalogue("X03")
@pytest.mark.allow_log("OAS00134")
def test_twenty_concurrent_refreshes_of_a_public_rt(srv):
    h = srv
    rt = code_tokens(h, "pub1", "openid offline_access")["refresh_token"]
    n = 20
    barrier = threading.Barrier(n)

    def one(_):
        s = session(h)
        # no keep-alive: under prefork (10 workers) idle connections would starve the rest
        s.headers["Connection"] = "close"
        barrier.wait(timeout=20)
        return refresh(h, "pub1", rt, sess=s)

    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        rs = list(ex.map(one, range(n)))
    codes = sorted(r.status_code for r in rs)
    assert codes == [200] + [400] * (n - 1), codes
    for r in rs:
        if r.status_code == 400:
            assert r.json()["error"] == "invalid_grant"
    # exactly one access token was minted from that refresh token
    winner = [r.json() for r in rs if r.status_code == 200][0]
    # SECURITY.md X03: the losers were second uses of the token, so the family is revoked
    # after the race: the winner's successor is dead too (never two valid successors).
    h.wait_log(r"OAS00134")
    invalid_grant(refresh(h, "pub1", winner["refresh_token"]))


# ---- R02: binding to the client and client authentication -------------------------------------

@pytest.mark.catalogue("R02")
def test_binding_and_authentication(srv):
    h = srv
    rt = code_tokens(h, "conf1", FULL)["refresh_token"]
    # (a) another refresh-capable confidential client with its own valid credentials
    invalid_grant(refresh(h, "conf3", rt))
    invalid_grant(refresh(h, "rot1", rt))
    # ... and a public one
    invalid_grant(refresh(h, "pub1", rt))
    # (b) no client authentication at all
    assert_json_error(refresh(h, "conf1", rt, method="anonymous"), 401, "invalid_client")
    # (c) wrong secret with Basic → 401 + WWW-Authenticate: Basic
    r = refresh(h, "conf1", rt, secret="wrong-secret")
    assert_json_error(r, 401, "invalid_client")
    assert r.headers["WWW-Authenticate"].lower().startswith("basic")
    # (d) client_id=conf1 in the body, no secret
    assert_json_error(refresh(h, "conf1", rt, method="none"), 401, "invalid_client")
    # ... the right secret in the body, but conf1 is registered for Basic only
    r = refresh(h, "conf1", rt, method="client_secret_post", secret=CONF1_SECRET)
    assert r.status_code in (400, 401) and r.json()["error"] == "invalid_client", r.text
    # RT1 still works for conf1 afterwards
    assert refresh(h, "conf1", rt).status_code == 200


@pytest.mark.catalogue("R02")
def test_public_rt_needs_the_right_client(srv):
    h = srv
    rt = code_tokens(h, "pub1", "openid offline_access")["refresh_token"]
    # conf1 presenting pub1's token does not use it up (nor revoke pub1's family)
    invalid_grant(refresh(h, "conf1", rt))
    r = refresh(h, "pub1", rt)
    assert r.status_code == 200, r.text
    rt2 = r.json()["refresh_token"]
    # a foreign client presenting the rotated-out token does not revoke pub1's family
    invalid_grant(refresh(h, "conf1", rt))
    assert refresh(h, "pub1", rt2).status_code == 200


@pytest.mark.catalogue("T07")
def test_refresh_request_errors(srv):
    h = srv
    assert_json_error(token(h, "conf1", {"grant_type": "refresh_token"}), 400, "invalid_request")
    invalid_grant(refresh(h, "conf1", "A" * 43))
    # RFC 6749 §3.1: a parameter without a value counts as omitted
    assert_json_error(refresh(h, "conf1", ""), 400, "invalid_request")
    # a code is not a refresh token
    a = get_code(h, "conf1", scope=FULL)
    invalid_grant(refresh(h, "conf1", a["code"]))
    # an access token is not a refresh token
    t = code_tokens(h, "conf1", FULL)
    invalid_grant(refresh(h, "conf1", t["access_token"]))
    # the code of `a` is still redeemable: nothing above touched it
    assert redeem(h, a).status_code == 200


# ---- R06: expired and revoked refresh tokens --------------------------------------------------

SHORT_RT = f"""
<OAuthASClient short1>
    OAuthASClientSecret "short1-secret-19f0aa"
    OAuthASRedirectURI https://short.test/cb
    OAuthASScope openid offline_access
    OAuthASGrantType authorization_code refresh_token
    OAuthASRefreshTokenLifetime 2
</OAuthASClient>
"""
register("short1", "short1-secret-19f0aa", redirect_uris=["https://short.test/cb"])


def wait_until_invalid(h, client, rt, limit=6):
    """Polls until the refresh token is refused (it must be within `limit` seconds)."""
    deadline = time.monotonic() + limit
    while True:
        r = refresh(h, client, rt)
        if r.status_code != 200:
            return r
        assert time.monotonic() < deadline, "the refresh token did not expire"
        time.sleep(0.25)


@pytest.mark.catalogue("R06")
def test_expired_rt_client_lifetime(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(h, extra=SHORT_RT))
    t0 = time.monotonic()
    rt = code_tokens(h, "short1", "openid offline_access")["refresh_token"]
    long_rt = code_tokens(h, "conf1", FULL)["refresh_token"]
    invalid_grant(wait_until_invalid(h, "short1", rt))
    assert time.monotonic() - t0 >= 1.0
    assert introspect(h, rt, client_id="short1").json() == {"active": False}
    # the server-wide lifetime (30 days) still applies to conf1
    assert refresh(h, "conf1", long_rt).status_code == 200


@pytest.mark.catalogue("R06")
def test_expired_rt_server_lifetime(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(h, OAuthASRefreshTokenLifetime=2))
    rt_conf = code_tokens(h, "conf1", FULL)["refresh_token"]
    rt_pub = code_tokens(h, "pub1", "openid offline_access")["refresh_token"]
    assert refresh(h, "conf1", rt_conf).status_code == 200
    invalid_grant(wait_until_invalid(h, "conf1", rt_conf))
    invalid_grant(wait_until_invalid(h, "pub1", rt_pub))


@pytest.mark.catalogue("T02", "R06")
@pytest.mark.expect_log("OAS00131", "OAS00134")
def test_rt_of_a_replayed_code_is_dead(srv):
    h = srv
    a = get_code(h, "conf1", scope=FULL)
    r1 = redeem(h, a)
    assert r1.status_code == 200
    t = r1.json()
    rt, at = t["refresh_token"], t["access_token"]
    assert introspect(h, at).json()["active"] is True
    h.mark_log()
    invalid_grant(redeem(h, a))
    h.wait_log(r"\[oauth_as:warn\].*OAS00131")
    h.wait_log(r"\[oauth_as:warn\].*OAS00134")
    invalid_grant(refresh(h, "conf1", rt))
    assert introspect(h, at).json() == {"active": False}
    assert introspect(h, rt, client_id="conf1").json() == {"active": False}
    u = userinfo(h, at)
    assert u.status_code == 401 and 'error="invalid_token"' in u.headers["WWW-Authenticate"]


@pytest.mark.catalogue("R06")
@pytest.mark.expect_log("OAS00131", "OAS00134")
def test_replay_of_a_public_code_kills_rotated_family(srv):
    h = srv
    a = get_code(h, "pub1", scope="openid offline_access")
    rt1 = redeem(h, a).json()["refresh_token"]
    rt2 = refresh(h, "pub1", rt1).json()["refresh_token"]
    invalid_grant(redeem(h, a))
    h.wait_log(r"OAS00134")
    invalid_grant(refresh(h, "pub1", rt2))


# ---- per-client and per-resource access token lifetimes ---------------------------------------

LIFETIMES = """
<OAuthASResource urn:test:short>
    OAuthASScope short.read
    OAuthASAccessTokenLifetime 300
</OAuthASResource>
<OAuthASClient lt1>
    OAuthASClientSecret "lt1-secret-5a5a5a"
    OAuthASRedirectURI https://lt1.test/cb
    OAuthASScope openid offline_access short.read
    OAuthASGrantType authorization_code refresh_token
    OAuthASAudience urn:test:short
    OAuthASAccessTokenLifetime 120
</OAuthASClient>
<OAuthASClient lt2>
    OAuthASClientSecret "lt2-secret-6b6b6b"
    OAuthASRedirectURI https://lt2.test/cb
    OAuthASScope openid offline_access short.read
    OAuthASGrantType authorization_code refresh_token
    OAuthASAudience urn:test:short
</OAuthASClient>
"""
register("lt1", "lt1-secret-5a5a5a", redirect_uris=["https://lt1.test/cb"])
register("lt2", "lt2-secret-6b6b6b", redirect_uris=["https://lt2.test/cb"])


def assert_lifetime(j, seconds):
    assert j["expires_in"] == seconds, j
    c = jwt_claims(j["access_token"])
    assert c["exp"] - c["iat"] == seconds, c
    assert abs(c["iat"] - time.time()) < 60


def test_access_token_lifetimes(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(h, OAuthASAccessTokenLifetime=900,
                                              extra=LIFETIMES))
    # server-wide
    t = code_tokens(h, "conf1", FULL)
    assert_lifetime(t, 900)
    assert_lifetime(refresh(h, "conf1", t["refresh_token"]).json(), 900)
    # per resource (lt2 has no lifetime of its own)
    t = code_tokens(h, "lt2", "offline_access short.read", resource="urn:test:short")
    assert jwt_claims(t["access_token"])["aud"] == "urn:test:short"
    assert_lifetime(t, 300)
    assert_lifetime(refresh(h, "lt2", t["refresh_token"]).json(), 300)
    # lt2 without a resource: the server's
    assert_lifetime(code_tokens(h, "lt2", "openid"), 900)
    # per client: the client's block wins over the resource's (README: client, resource, server)
    t = code_tokens(h, "lt1", "offline_access short.read", resource="urn:test:short")
    assert_lifetime(t, 120)
    assert_lifetime(refresh(h, "lt1", t["refresh_token"]).json(), 120)
    assert_lifetime(code_tokens(h, "lt1", "openid"), 120)
    # the standard resource has no lifetime of its own: conf1 with it gets the server's
    t = code_tokens(h, "conf1", "api.read", resource="urn:test:api")
    assert_lifetime(t, 900)
