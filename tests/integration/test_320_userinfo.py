"""The userinfo endpoint (issue 6; OIDC Core §5.3, RFC 6750): Bearer token in the header or the
form body, claims per granted scope, RFC 6750 §3 errors."""

import time

import pytest

from client import b64url, b64url_decode, code_tokens, jwt_claims, session, userinfo
from oauth_conf import RESOURCE, standard_conf


@pytest.fixture
def tokens(oas):
    return oas, code_tokens(oas, "conf1", "openid profile email offline_access")


def assert_bearer_error(r, status, error):
    assert r.status_code == status, (r.status_code, r.text)
    www = r.headers["WWW-Authenticate"]
    assert www.startswith("Bearer"), www
    if error:
        assert f'error="{error}"' in www, www
        assert r.json()["error"] == error
    else:
        assert "error=" not in www, www   # RFC 6750 §3.1: no error code without a token
    assert r.headers["Cache-Control"] == "no-store"


def test_userinfo_get_with_header(tokens):
    h, t = tokens
    r = userinfo(h, t["access_token"])
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers["Cache-Control"] == "no-store"
    assert r.json() == {"sub": "alice", "email": "alice@example.test", "name": "alice"}
    # the ID token's sub matches
    assert jwt_claims(t["id_token"])["sub"] == r.json()["sub"]


def test_userinfo_post_with_header_and_form(tokens):
    h, t = tokens
    s = session(h)
    r = s.post(h.issuer + "/userinfo", headers={"Authorization": "Bearer " + t["access_token"]},
               timeout=10)
    assert r.status_code == 200 and r.json()["sub"] == "alice"
    # RFC 6750 §2.2: form-encoded body parameter
    r = s.post(h.issuer + "/userinfo", data={"access_token": t["access_token"]}, timeout=10)
    assert r.status_code == 200 and r.json()["email"] == "alice@example.test"
    # scheme name is case-insensitive
    r = s.get(h.issuer + "/userinfo", headers={"Authorization": "bearer " + t["access_token"]},
              timeout=10)
    assert r.status_code == 200


def test_userinfo_two_tokens_is_invalid_request(tokens):
    h, t = tokens
    r = session(h).post(h.issuer + "/userinfo",
                        headers={"Authorization": "Bearer " + t["access_token"]},
                        data={"access_token": t["access_token"]}, timeout=10)
    assert_bearer_error(r, 400, "invalid_request")


def test_userinfo_without_token(oas):
    h = oas
    s = session(h)
    assert_bearer_error(s.get(h.issuer + "/userinfo", timeout=10), 401, None)
    assert_bearer_error(s.post(h.issuer + "/userinfo", timeout=10), 401, None)
    assert_bearer_error(s.post(h.issuer + "/userinfo", data={"x": "y"}, timeout=10), 401, None)


def test_userinfo_query_token_not_accepted(tokens):
    """OAuth 2.1 / RFC 9700 §2.4.1: no access tokens in the query string."""
    h, t = tokens
    r = session(h).get(h.issuer + "/userinfo", params={"access_token": t["access_token"]},
                       timeout=10)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")


def tamper(jwt, **claims):
    import json
    hd, p, sig = jwt.split(".")
    body = json.loads(b64url_decode(p))
    body.update(claims)
    return ".".join([hd, b64url(json.dumps(body).encode()), sig])


def test_userinfo_invalid_tokens(tokens):
    h, t = tokens
    at = t["access_token"]
    hd, p, sig = at.split(".")
    bad = {
        "garbage": "not-a-token",
        "random": b64url(b"x" * 32),
        "two parts": hd + "." + p,
        "tampered sub": tamper(at, sub="bob"),
        "tampered scope": tamper(at, scope="openid profile email admin"),
        "bad signature": hd + "." + p + "." + sig[:-4] + ("AAAA" if sig[-4:] != "AAAA" else "BBBB"),
        "no signature": hd + "." + p + ".",
        "alg none": b64url(b'{"alg":"none","typ":"at+jwt"}') + "." + p + ".",
        "id token": t["id_token"],
        "refresh token": t["refresh_token"],
    }
    for name, tok in bad.items():
        r = userinfo(h, tok)
        assert r.status_code == 401, (name, r.status_code, r.text)
        assert_bearer_error(r, 401, "invalid_token")
    # the real one still works
    assert userinfo(h, at).status_code == 200


def test_userinfo_expired_token(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(h, OAuthASAccessTokenLifetime=1))
    t = code_tokens(h, "conf1", "openid email")
    assert t["expires_in"] == 1
    deadline = time.monotonic() + 5
    while True:
        r = userinfo(h, t["access_token"])
        if r.status_code != 200:
            break
        assert time.monotonic() < deadline, "the access token did not expire"
        time.sleep(0.2)
    assert_bearer_error(r, 401, "invalid_token")


def test_userinfo_other_audience_is_insufficient_scope(oas):
    h = oas
    t = code_tokens(h, "conf1", "openid api.read", resource=RESOURCE)
    assert jwt_claims(t["access_token"])["aud"] == RESOURCE
    r = userinfo(h, t["access_token"])
    assert_bearer_error(r, 403, "insufficient_scope")


def test_userinfo_without_openid_is_insufficient_scope(oas):
    h = oas
    t = code_tokens(h, "conf1", "profile email")
    assert_bearer_error(userinfo(h, t["access_token"]), 403, "insufficient_scope")


@pytest.mark.parametrize("scope,expected", [
    ("openid", {"sub": "alice"}),
    ("openid email", {"sub": "alice", "email": "alice@example.test"}),
    ("openid profile", {"sub": "alice", "name": "alice"}),
    ("openid profile email", {"sub": "alice", "name": "alice", "email": "alice@example.test"}),
])
def test_userinfo_claims_per_scope(oas, scope, expected):
    h = oas
    t = code_tokens(h, "conf2", scope)
    assert userinfo(h, t["access_token"]).json() == expected


def test_userinfo_is_per_user(oas):
    h = oas
    a = code_tokens(h, "pub1", "openid email", user="alice")
    b = code_tokens(h, "pub1", "openid email", user="bob")
    assert userinfo(h, a["access_token"]).json() == {"sub": "alice", "email": "alice@example.test"}
    assert userinfo(h, b["access_token"]).json() == {"sub": "bob", "email": "bob@example.test"}
