"""Dynamic client registration (RFC 7591) and management (RFC 7592), issue 20: INTERFACE.md
"Open ecosystems" and its "Precise rules" (Registration). A registered client works at every
endpoint as a configured one; its secret and registration access token are shown once."""

import concurrent.futures
import json
import secrets
import threading
import time

import pytest

from client import (Client, DPoPKey, Pkce, assert_json_error, authorize, authz_params,
                    b64url, get_code, push, redeem, refresh, register, request_uri, session,
                    token)
from harness import Httpd
from oauth_conf import sqlite_dbd, standard_conf

REG = "/oauth/register"
ENDPOINT = f"<Location {REG}>\n    OAuthASEndpoint register\n</Location>\n"
INITIAL = "initial-access-token-0123456789"
PUBLIC = {"redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "none",
          "grant_types": ["authorization_code", "refresh_token"],
          "scope": "openid profile offline_access",
          "client_name": "Agent"}


def conf(mode="Open", tokens="", dbd=False, **overrides):
    def body(h):
        extra = ENDPOINT + (f"OAuthASRegistrationToken {tokens}\n" if tokens else "")
        extra += sqlite_dbd(h) if dbd else ""
        return standard_conf(h, extra=extra, OAuthASRegistration=mode,
                             OAuthASRegistrationAudience="urn:test:api", **overrides)
    return body


@pytest.fixture
def rh(httpd_factory):
    return httpd_factory(conf())


def reg_post(h, md, token=None, raw=None, ctype="application/json", sess=None):
    headers = {"Content-Type": ctype}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = raw if raw is not None else json.dumps(md)
    if sess is not None:
        return sess.post(h.issuer + REG, data=body, headers=headers, timeout=20)
    with session(h) as s:
        return s.post(h.issuer + REG, data=body, headers=headers, timeout=10)


def manage(h, method, uri, rat, md=None):
    headers = {"Authorization": f"Bearer {rat}"} if rat is not None else {}
    if md is not None:
        headers["Content-Type"] = "application/json"
    with session(h) as s:
        return s.request(method, uri, headers=headers, timeout=10,
                         data=json.dumps(md) if md is not None else None)


def assert_invalid_token(r):
    """RFC 6750 §3.1: 401 invalid_token with a Bearer challenge (never telling whether the
    client exists)."""
    assert r.status_code == 401, (r.status_code, r.text)
    assert r.json()["error"] == "invalid_token", r.text
    assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"', r.headers
    assert "no-store" in r.headers.get("Cache-Control", "")


def registered(h, md, **kw):
    r = reg_post(h, md, **kw)
    assert r.status_code == 201, r.text
    assert r.headers.get("Cache-Control") == "no-store"
    return r.json()


# ---- RFC 7591 --------------------------------------------------------------------------------

def test_metadata_and_off(rh, httpd_factory):
    md = rh.get("/.well-known/openid-configuration").json()
    assert md["registration_endpoint"] == rh.issuer + REG
    assert "none" in md["token_endpoint_auth_methods_supported"]
    off = httpd_factory(lambda h: standard_conf(h, extra=ENDPOINT))
    assert "registration_endpoint" not in off.get("/.well-known/openid-configuration").json()
    assert reg_post(off, PUBLIC).status_code == 404


def test_register_public_response(rh):
    c = registered(rh, dict(PUBLIC, logo_uri="https://agent.test/l.png"))
    assert c["client_id"].startswith("dyn-") and len(c["client_id"]) == 26
    assert "client_secret" not in c and "client_secret_expires_at" not in c
    assert c["registration_client_uri"] == f"{rh.issuer}{REG}/{c['client_id']}"
    assert c["redirect_uris"] == PUBLIC["redirect_uris"]
    assert c["scope"] == "openid profile offline_access" and c["client_name"] == "Agent"
    assert c["response_types"] == ["code"]
    assert isinstance(c["client_id_issued_at"], int)
    assert "logo_uri" not in c  # not kept, so not echoed
    assert len(c["registration_access_token"]) >= 43
    assert c["registration_access_token"] not in rh.error_log()


def test_register_defaults(rh):
    c = registered(rh, {"redirect_uris": ["https://rp.test/cb"]})
    assert c["token_endpoint_auth_method"] == "client_secret_basic"
    assert c["grant_types"] == ["authorization_code"] and c["scope"] == "openid"
    assert len(c["client_secret"]) >= 43
    # OAuthASRegistrationDefaults client-lifetime: 90 days by default, the secret's too
    assert c["client_secret_expires_at"] == c["client_id_issued_at"] + 90 * 86400
    assert c["client_secret"] not in rh.error_log()


@pytest.mark.parametrize("md,error", [
    ({}, "invalid_redirect_uri"),
    ({"redirect_uris": []}, "invalid_redirect_uri"),
    ({"redirect_uris": ["http://rp.test/cb"]}, "invalid_redirect_uri"),
    ({"redirect_uris": ["http://localhost:8080/cb"]}, "invalid_redirect_uri"),
    ({"redirect_uris": ["https://rp.test/cb#frag"]}, "invalid_redirect_uri"),
    ({"redirect_uris": ["http://127.0.0.1.evil.test/cb"]}, "invalid_redirect_uri"),
    ({"redirect_uris": ["https://rp.test/" + "a" * 1100]}, "invalid_redirect_uri"),
    ({"redirect_uris": [f"https://rp.test/{i}" for i in range(11)]}, "invalid_redirect_uri"),
    ({"redirect_uris": ["https://rp.test/cb"], "token_endpoint_auth_method": "client_secret_jwt"},
     "invalid_client_metadata"),
    ({"redirect_uris": ["https://rp.test/cb"], "token_endpoint_auth_method": "private_key_jwt"},
     "invalid_client_metadata"),
    ({"redirect_uris": ["https://rp.test/cb"], "token_endpoint_auth_method": "none",
      "grant_types": ["client_credentials"]}, "invalid_client_metadata"),
    ({"redirect_uris": ["https://rp.test/cb"], "grant_types": ["password"]},
     "invalid_client_metadata"),
    ({"redirect_uris": ["https://rp.test/cb"], "response_types": ["token"]},
     "invalid_client_metadata"),
    ({"redirect_uris": ["https://rp.test/cb"], "scope": "admin"}, "invalid_client_metadata"),
    ({"redirect_uris": ["https://rp.test/cb"], "client_name": "x" * 200},
     "invalid_client_metadata"),
    ({"redirect_uris": ["https://rp.test/cb"], "jwks_uri": "http://rp.test/jwks",
      "token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"),
])
def test_register_errors(rh, md, error):
    assert_json_error(reg_post(rh, md), 400, error)
    assert "OAS06803" in rh.error_log()


def test_register_bad_bodies(rh):
    assert_json_error(reg_post(rh, None, raw="not json"), 400, "invalid_client_metadata")
    assert_json_error(reg_post(rh, None, raw='{"a":1,"a":2}'), 400, "invalid_client_metadata")
    assert_json_error(reg_post(rh, PUBLIC, ctype="application/x-www-form-urlencoded"), 400,
                      "invalid_client_metadata")
    big = dict(PUBLIC, client_uri="https://x.test/" + "a" * 17000)
    assert reg_post(rh, big).status_code == 413
    with session(rh) as s:
        assert s.get(rh.issuer + REG, timeout=10).status_code == 405
        assert s.get(rh.issuer + REG + "/a/b", timeout=10).status_code == 404


# ---- a registered client at every endpoint ---------------------------------------------------

def test_public_client_code_refresh_any_port(rh):
    c = registered(rh, PUBLIC)
    cid = c["client_id"]
    register(cid, redirect_uris=["http://127.0.0.1/cb"])
    g = get_code(rh, cid, scope="openid offline_access", redirect_uri="http://127.0.0.1:54321/cb",
                 expect_consent=True)
    r = redeem(rh, g)
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["id_token"] and t["refresh_token"]
    r2 = refresh(rh, cid, t["refresh_token"])
    assert r2.status_code == 200, r2.text
    assert r2.json()["refresh_token"] != t["refresh_token"]  # public: rotated


def test_client_name_is_text_on_the_consent_page(rh):
    c = registered(rh, dict(PUBLIC, client_name='<script>alert("x")</script> Bank'))
    register(c["client_id"], redirect_uris=["http://127.0.0.1/cb"])
    r = authorize(rh, authz_params(c["client_id"], scope="openid", challenge=Pkce().challenge))
    assert r.status_code == 200, r.text
    assert "<script>alert" not in r.text and "&lt;script&gt;" in r.text


def test_public_client_par(rh):
    c = registered(rh, PUBLIC)
    cid = c["client_id"]
    register(cid, redirect_uris=["http://127.0.0.1/cb"])
    p = Pkce()
    ru = request_uri(push(rh, cid, p, redirect_uri="http://127.0.0.1:4711/cb"))
    cl = Client(rh)
    r = cl.authorize_uri_and_approve(cid, ru)
    assert r.status_code in (302, 303), r.text
    assert r.headers["Location"].startswith("http://127.0.0.1:4711/cb?")
    code = dict(x.split("=", 1) for x in r.headers["Location"].split("?", 1)[1].split("&"))
    r = token(rh, cid, {"grant_type": "authorization_code", "code": code["code"],
                        "redirect_uri": "http://127.0.0.1:4711/cb", "code_verifier": p.verifier})
    assert r.status_code == 200, r.text


def test_confidential_client_credentials(rh):
    c = registered(rh, {"grant_types": ["client_credentials"], "scope": "api.read",
                        "token_endpoint_auth_method": "client_secret_post"})
    cid, secret = c["client_id"], c["client_secret"]
    form = {"grant_type": "client_credentials", "client_id": cid, "client_secret": secret}
    r = token(rh, None, form)
    assert r.status_code == 200, r.text
    assert r.json()["access_token"]
    assert_json_error(token(rh, None, dict(form, client_secret="x" * 43)), 401, "invalid_client")
    # its registered method only
    assert_json_error(token(rh, None, {"grant_type": "client_credentials"}, auth=(cid, secret)),
                      401, "invalid_client")


def test_private_key_jwt_client(rh):
    """A client registered with its JWK Set authenticates with assertions signed by its key,
    and with nothing else."""
    key, other = DPoPKey(), DPoPKey()
    jwks = {"keys": [dict(key.jwk, kid="k1", alg="ES256", use="sig")]}
    c = registered(rh, {"grant_types": ["client_credentials"], "scope": "api.read",
                        "token_endpoint_auth_method": "private_key_jwt", "jwks": jwks})
    cid = c["client_id"]
    assert "client_secret" not in c and c["jwks"] == jwks

    def assertion(signer):
        now = int(time.time())
        claims = {"iss": cid, "sub": cid, "aud": rh.issuer, "iat": now, "exp": now + 60,
                  "jti": secrets.token_urlsafe(16)}
        si = (b64url(json.dumps({"alg": "ES256", "kid": "k1"}).encode()) + "." +
              b64url(json.dumps(claims).encode()))
        return si + "." + b64url(signer.sign(si.encode(), "ES256"))

    form = {"grant_type": "client_credentials", "client_assertion_type":
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
    r = token(rh, None, dict(form, client_assertion=assertion(key)))
    assert r.status_code == 200, r.text
    assert_json_error(token(rh, None, dict(form, client_assertion=assertion(other))), 401,
                      "invalid_client")


# ---- RFC 7592 --------------------------------------------------------------------------------

def test_read_update_delete(rh):
    c = registered(rh, PUBLIC)
    uri, rat, cid = c["registration_client_uri"], c["registration_access_token"], c["client_id"]
    for bad in (None, "", "wrong"):
        assert_invalid_token(manage(rh, "GET", uri, bad))
    # an unknown client answers as a wrong token does
    assert_invalid_token(manage(rh, "GET", f"{rh.issuer}{REG}/dyn-{'A' * 22}", rat))
    assert_invalid_token(manage(rh, "GET", f"{rh.issuer}{REG}/conf1", rat))
    r = manage(rh, "GET", uri, rat)
    assert r.status_code == 200, r.text
    assert r.json()["client_id"] == cid and r.json()["redirect_uris"] == PUBLIC["redirect_uris"]
    upd = dict(PUBLIC, client_id=cid, redirect_uris=["https://agent.test/cb"])
    assert_json_error(manage(rh, "PUT", uri, rat, dict(upd, client_id="dyn-other")), 400)
    assert_json_error(manage(rh, "PUT", uri, rat, dict(upd, redirect_uris=["http://x.test/"])),
                      400, "invalid_redirect_uri")
    r = manage(rh, "PUT", uri, rat, upd)
    assert r.status_code == 200, r.text
    assert r.json()["redirect_uris"] == ["https://agent.test/cb"]
    assert manage(rh, "GET", uri, rat).json()["redirect_uris"] == ["https://agent.test/cb"]
    assert manage(rh, "POST", uri, rat).status_code == 405
    assert_invalid_token(manage(rh, "DELETE", uri, "wrong"))
    r = manage(rh, "DELETE", uri, rat)
    assert r.status_code == 204 and not r.content
    assert_invalid_token(manage(rh, "GET", uri, rat))
    assert "OAS06808" in rh.error_log()


def test_update_never_brings_back_a_deleted_client(rh):
    """PUT and DELETE of one client at once, 20 times: whenever the DELETE answered 204 the
    client is gone afterwards (an update that lost the race gets 401, never re-creates it)."""
    for _ in range(20):
        c = registered(rh, PUBLIC)
        uri, rat = c["registration_client_uri"], c["registration_access_token"]
        upd = dict(PUBLIC, client_id=c["client_id"], client_name="renamed")
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            put = ex.submit(manage, rh, "PUT", uri, rat, upd)
            delete = ex.submit(manage, rh, "DELETE", uri, rat)
            put, delete = put.result(), delete.result()
        assert put.status_code in (200, 401) and delete.status_code in (204, 401), (put, delete)
        after = manage(rh, "GET", uri, rat).status_code
        if delete.status_code == 204:
            assert after == 401
        else:  # the update took the record first: the client is there, renamed
            assert put.status_code == 200 and after == 200


def test_deleted_client_cannot_refresh(rh):
    c = registered(rh, PUBLIC)
    cid = c["client_id"]
    register(cid, redirect_uris=["http://127.0.0.1/cb"])
    g = get_code(rh, cid, scope="openid offline_access", redirect_uri="http://127.0.0.1/cb")
    t = redeem(rh, g).json()
    assert refresh(rh, cid, t["refresh_token"]).status_code == 200
    assert manage(rh, "DELETE", c["registration_client_uri"],
                  c["registration_access_token"]).status_code == 204
    assert_json_error(refresh(rh, cid, t["refresh_token"]), 401, "invalid_client")
    assert "OAS03005" in rh.error_log()  # an unknown client now


def test_registered_client_in_the_database(httpd_factory):
    """With OAuthASStore shm dbd a registered client is long-lived state: it survives a full
    restart (the shared memory is gone) and every node sharing the database knows it."""
    h = httpd_factory(conf(dbd=True, OAuthASStore="shm dbd"))
    c = registered(h, PUBLIC)
    cid = c["client_id"]
    register(cid, redirect_uris=["http://127.0.0.1/cb"])
    h.restart()
    r = manage(h, "GET", c["registration_client_uri"], c["registration_access_token"])
    assert r.status_code == 200 and r.json()["client_id"] == cid
    assert redeem(h, get_code(h, cid, scope="openid", redirect_uri="http://127.0.0.1:9/cb"))\
        .status_code == 200


@pytest.mark.parametrize("store", ["shm", "dbd"])
def test_registration_under_load(httpd_factory, store):
    """200 registrations from 20 concurrent clients: no id lost or given twice (shared memory,
    and the database's put_new)."""
    rh = httpd_factory(conf(dbd=store == "dbd", OAuthASStore=store))
    n, local = 200, threading.local()

    def one(_):
        if not hasattr(local, "s"):
            local.s = session(rh, keep_alive=False)
        return reg_post(rh, PUBLIC, sess=local.s)

    with concurrent.futures.ThreadPoolExecutor(20) as ex:
        out = list(ex.map(one, range(n)))
    assert all(r.status_code == 201 for r in out), [r.text for r in out if r.status_code != 201]
    clients = [r.json() for r in out]
    assert len({c["client_id"] for c in clients}) == n
    assert len({c["registration_access_token"] for c in clients}) == n
    for c in clients:
        r = manage(rh, "GET", c["registration_client_uri"], c["registration_access_token"])
        assert r.status_code == 200 and r.json()["client_id"] == c["client_id"]


def test_registrations_per_address(httpd_factory):
    """Every registration stores a client until it is deleted: an address may make
    OAuthASAddressQuota of them per window."""
    h = httpd_factory(conf(OAuthASAddressQuota=3))
    for _ in range(3):
        registered(h, PUBLIC)
    r = reg_post(h, PUBLIC)
    assert_json_error(r, 429, "temporarily_unavailable")
    assert int(r.headers["Retry-After"]) > 0
    assert "OAS06810" in h.error_log()


def test_cors(httpd_factory):
    """A browser-based agent (an MCP inspector) registers and manages its client from its
    origin (INTERFACE.md: CORS on registration); other origins get no CORS header."""
    app = "https://inspector.test"
    h = httpd_factory(conf(OAuthASCORSOrigin=app))
    with session(h) as s:
        r = s.options(h.issuer + REG, timeout=10, headers={
            "Origin": app, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        assert r.status_code == 204
        assert r.headers["Access-Control-Allow-Origin"] == app
        assert "POST" in r.headers["Access-Control-Allow-Methods"]
        assert "Content-Type" in r.headers["Access-Control-Allow-Headers"]
        r = s.post(h.issuer + REG, data=json.dumps(PUBLIC), timeout=10,
                   headers={"Origin": app, "Content-Type": "application/json"})
        assert r.status_code == 201 and r.headers["Access-Control-Allow-Origin"] == app
        uri = r.json()["registration_client_uri"]
        r = s.options(uri, timeout=10, headers={"Origin": app,
                                                "Access-Control-Request-Method": "DELETE"})
        assert r.status_code == 204 and "DELETE" in r.headers["Access-Control-Allow-Methods"]
        r = s.get(uri, timeout=10, headers={"Origin": app, "Authorization": "Bearer x"})
        assert r.status_code == 401 and r.headers["Access-Control-Allow-Origin"] == app
        assert "WWW-Authenticate" in r.headers["Access-Control-Expose-Headers"]
        r = s.post(h.issuer + REG, data=json.dumps(PUBLIC), timeout=10,
                   headers={"Origin": "https://evil.test", "Content-Type": "application/json"})
        assert "Access-Control-Allow-Origin" not in r.headers


# ---- Token mode and configuration ------------------------------------------------------------

def test_token_mode(httpd_factory):
    h = httpd_factory(conf("Token", f"{INITIAL} second-initial-token-abcdef"))
    for tok in (None, "wrong-token-0123456789", INITIAL[:-1]):
        assert_invalid_token(reg_post(h, PUBLIC, token=tok))
    assert "OAS00600" in h.error_log()
    assert registered(h, PUBLIC, token=INITIAL)["client_id"].startswith("dyn-")
    assert registered(h, PUBLIC, token="second-initial-token-abcdef")


@pytest.mark.parametrize("lines,fragment", [
    ("OAuthASRegistration Maybe", "OAuthASRegistration"),
    ("OAuthASRegistration Token", "OAuthASRegistrationToken"),
    ("OAuthASRegistration Token\nOAuthASRegistrationToken short", "OAuthASRegistrationToken"),
    ("OAuthASRegistration Open\nOAuthASRegistrationAudience urn:nowhere",
     "OAuthASRegistrationAudience"),
    ("OAuthASRegistration Open\nOAuthASRegistrationAudience notauri",
     "OAuthASRegistrationAudience"),
    ("<OAuthASClient a>\nOAuthASRegistration Open\n</OAuthASClient>", "OAuthASRegistration"),
])
def test_configtest(tmp_path, lines, fragment):
    h = Httpd(str(tmp_path / "srv"), "")
    h.body = standard_conf(h, extra=ENDPOINT + lines + "\n")
    rc, out = h.configtest()
    assert rc != 0 and fragment in out, out
