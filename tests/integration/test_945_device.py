"""Device Authorization Grant (RFC 8628), issue 22: INTERFACE.md "More grants" and its "Precise
rules" (Device grant). A device asks at /oauth/device, the user types the code at /device
(behind the site's authentication) and consents, the device polls the token endpoint:
authorization_pending, slow_down (the server keeps the last poll; the interval grows by 5 s),
access_denied, expired_token, then the tokens once. Most tests share one module-scoped server;
those that need their own clock or counters (expiry, guessing) start their own."""

import concurrent.futures
import os
import re
import shutil
import time
import urllib.parse

import pytest

from client import (DPoPKey, assert_error_page, assert_json_error, consent_form, jwt_claims,
                    parse_forms, post, session)
from harness import Httpd
from oauth_conf import USERS, sqlite_dbd, standard_conf

DEVICE_GT = "urn:ietf:params:oauth:grant-type:device_code"
TVC_SECRET = "tvc-secret-6c1e93"
USER_CODE_RE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")
CLIENTS = f"""
<OAuthASClient tv1>
    OAuthASClientName "Living Room TV"
    OAuthASAuthMethod none
    OAuthASScope openid profile offline_access api.read
    OAuthASGrantType {DEVICE_GT} refresh_token
    OAuthASAudience urn:test:api
</OAuthASClient>
<OAuthASClient tvc>
    OAuthASClientSecret "{TVC_SECRET}"
    OAuthASAuthMethod client_secret_basic
    OAuthASScope openid api.read
    OAuthASGrantType {DEVICE_GT}
</OAuthASClient>
"""


def conf(lifetime=None, verify_auth=True, dbd=False):
    def body(h):
        htpasswd = h.path("conf", "users.htpasswd")
        auth = ('    AuthType Basic\n    AuthName "oauth-as test"\n'
                f'    AuthUserFile "{htpasswd}"\n    Require valid-user\n')
        extra = (CLIENTS + "<Location /oauth/device>\n    OAuthASEndpoint device\n</Location>\n"
                 "<Location /device>\n    OAuthASEndpoint device-verify\n"
                 + (auth if verify_auth else "") + "</Location>\n"
                 # a second page, left unprotected: refused
                 "<Location /device-open>\n    OAuthASEndpoint device-verify\n</Location>\n"
                 # the user's page of allowed applications lists devices too
                 "<Location /me/applications>\n    OAuthASEndpoint account\n" + auth
                 + "</Location>\n"
                 "<Location /metrics>\n    OAuthASEndpoint metrics\n    Require local\n"
                 "</Location>\n")
        over = {"OAuthASDeviceInterval": 1}
        if dbd:
            over["OAuthASStore"] = "dbd"
            extra += sqlite_dbd(h)
        if lifetime:
            over["OAuthASDeviceCodeLifetime"] = lifetime
        return standard_conf(h, extra=extra, **over)
    return body


ALLOWED = ("OAS00144",  # the unprotected page's configuration error, provoked on purpose
           "OAS00134")  # the account page's revocation (a warning)


@pytest.fixture(scope="module")
def dh(workdir_base):
    h = Httpd(os.path.join(workdir_base, "device-module"), "")
    h.body = conf()(h)
    h.allow_log(*ALLOWED)
    h.start()
    try:
        yield h
    finally:
        h.stop()
    bad = h.check_error_log()
    assert not bad, bad
    shutil.rmtree(h.workdir, ignore_errors=True)


def start(h, client="tv1", scope="openid api.read", **kw):
    """POST /oauth/device as client: the 200 answer's JSON."""
    data = {"scope": scope} if scope is not None else {}
    if client == "tvc":
        kw.setdefault("auth", ("tvc", TVC_SECRET))
    else:
        data["client_id"] = client
    r = post(h, "/oauth/device", data, **kw)
    assert r.status_code == 200, (r.status_code, r.text)
    assert "no-store" in r.headers.get("Cache-Control", "")
    return r.json()


def poll(h, dc, client="tv1", headers=None, **data):
    form = {"grant_type": DEVICE_GT, "device_code": dc, **data}
    if client == "tvc":
        return post(h, "/oauth/token", form, auth=("tvc", TVC_SECRET), headers=headers)
    return post(h, "/oauth/token", {"client_id": client, **form}, headers=headers)


def code_page(h, s, user="alice", query=None, path="/device"):
    return s.get(h.issuer + path, params=query, auth=(user, USERS[user]) if user else None,
                 allow_redirects=False, timeout=10)


def type_code(h, s, code, user="alice", csrf=None, headers=None):
    """The code form: loaded, then posted with code; the answer (a consent page normally)."""
    if csrf is None:
        page = code_page(h, s, user)
        assert page.status_code == 200, page.text
        csrf = parse_forms(page.text)[0]["hidden"]["csrf"]
    return s.post(h.issuer + "/device", data={"user_code": code, "csrf": csrf},
                  auth=(user, USERS[user]), headers=headers, allow_redirects=False, timeout=10)


def decide(h, s, page, decision="allow", user="alice"):
    f = consent_form(page)
    return s.post(urllib.parse.urljoin(h.issuer + "/device", f["action"]),
                  data={"txn": f["txn"], "csrf": f["csrf"], "decision": decision},
                  auth=(user, USERS[user]), allow_redirects=False, timeout=10)


def approved(h, client="tv1", scope="openid api.read", decision="allow", user="alice"):
    """A device request of client, typed and decided by user: its device_code."""
    d = start(h, client, scope)
    with session(h) as s:
        page = type_code(h, s, d["user_code"], user=user)
        r = decide(h, s, page, decision, user=user)
    assert r.status_code == 200, r.text
    return d["device_code"]


# ---- discovery and the device endpoint -------------------------------------------------------

def test_metadata(dh):
    with session(dh) as s:
        md = s.get(dh.issuer + "/.well-known/openid-configuration", timeout=10).json()
    assert md["device_authorization_endpoint"] == dh.issuer + "/oauth/device"
    assert DEVICE_GT in md["grant_types_supported"]


def test_device_response(dh):
    d = start(dh, scope="openid api.read api.read")
    assert set(d) == {"device_code", "user_code", "verification_uri",
                      "verification_uri_complete", "expires_in", "interval"}, d
    assert USER_CODE_RE.match(d["user_code"]), d
    assert len(d["device_code"]) >= 43  # 256 bits, base64url
    assert d["verification_uri"] == dh.issuer + "/device"
    assert d["verification_uri_complete"] == (dh.issuer + "/device?user_code="
                                              + d["user_code"])
    assert d["expires_in"] == 600 and d["interval"] == 1
    # every request gets its own codes
    other = start(dh)
    assert other["device_code"] != d["device_code"] and other["user_code"] != d["user_code"]
    # a confidential client authenticates
    assert USER_CODE_RE.match(start(dh, "tvc", "api.read")["user_code"])


def test_device_endpoint_errors(dh):
    r = post(dh, "/oauth/device", {"scope": "api.read"}, auth=("tvc", "wrong-secret"))
    assert_json_error(r, 401, "invalid_client")
    r = post(dh, "/oauth/device", {"client_id": "tvc", "scope": "api.read"})
    assert_json_error(r, 401, "invalid_client")  # confidential: its secret, not its id
    r = post(dh, "/oauth/device", {"client_id": "pub1", "scope": "openid"})
    assert_json_error(r, 400, "unauthorized_client")  # not a device client
    r = post(dh, "/oauth/device", {"client_id": "tv1", "scope": "openid email"})
    assert_json_error(r, 400, "invalid_scope")
    r = post(dh, "/oauth/device", {"client_id": "tv1", "scope": "bad\"scope"})
    assert_json_error(r, 400, "invalid_scope")
    r = post(dh, "/oauth/device", {"client_id": "tv1", "resource": "urn:other"})
    assert_json_error(r, 400, "invalid_scope")
    r = post(dh, "/oauth/device", {"client_id": "nobody"})
    assert_json_error(r, 401, "invalid_client")
    with session(dh) as s:
        assert s.get(dh.issuer + "/oauth/device", timeout=10).status_code == 405


# ---- the whole flow ----------------------------------------------------------------------------

def test_flow_public_client(dh):
    d = start(dh, scope="openid offline_access api.read")
    assert_json_error(poll(dh, d["device_code"]), 400, "authorization_pending")
    with session(dh) as s:
        # verification_uri_complete pre-fills the code
        page = code_page(dh, s, query={"user_code": d["user_code"]})
        assert page.status_code == 200
        assert f'value="{d["user_code"]}"' in page.text
        forms = parse_forms(page.text)
        assert len(forms) == 1 and forms[0]["method"] == "post", forms
        # typed in lower case, without the dash, with spaces: the same code (RFC 8628 §6.1)
        typed = " " + d["user_code"].lower().replace("-", " ") + " "
        consent = type_code(dh, s, typed, csrf=forms[0]["hidden"]["csrf"])
        assert "Living Room TV" in consent.text
        assert "another device" in consent.text
        done = decide(dh, s, consent)
        assert done.status_code == 200 and "Device connected" in done.text
        # the same code again: already used
        again = type_code(dh, s, d["user_code"])
        assert_error_page(again, 400, "already used")
    r = poll(dh, d["device_code"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "openid offline_access api.read"
    assert {"access_token", "id_token", "refresh_token", "expires_in"} <= set(body)
    claims = jwt_claims(body["access_token"])
    assert claims["sub"] == "alice" and claims["client_id"] == "tv1"
    assert jwt_claims(body["id_token"])["aud"] == "tv1"
    # single use
    assert_json_error(poll(dh, d["device_code"]), 400, "invalid_grant")
    # the refresh token works
    r = post(dh, "/oauth/token", {"client_id": "tv1", "grant_type": "refresh_token",
                                  "refresh_token": body["refresh_token"]})
    assert r.status_code == 200, r.text


def issued(h):
    """The device grant's access tokens so far, by the metrics (issue 23)."""
    with session(h) as s:
        text = s.get(h.issuer + "/metrics", timeout=10).text
    return sum(int(m) for m in re.findall(
        r'^oauth_as_tokens_issued_total\{grant="device_code",binding="[a-z]+",type="access"\} '
        r'(\d+)$', text, re.M))


def test_flow_confidential_client(dh):
    dc = approved(dh, "tvc", "api.read")
    before = issued(dh)
    r = poll(dh, dc, "tvc")
    assert r.status_code == 200, r.text
    assert issued(dh) == before + 1
    assert jwt_claims(r.json()["access_token"])["client_id"] == "tvc"
    assert "refresh_token" not in r.json()


def test_deny(dh):
    dc = approved(dh, decision="deny")
    assert_json_error(poll(dh, dc), 400, "access_denied")
    assert_json_error(poll(dh, dc), 400, "access_denied")


def test_device_code_bound_to_client(dh):
    dc = approved(dh)
    assert_json_error(poll(dh, dc, "tvc"), 400, "invalid_grant")
    assert_json_error(poll(dh, dc, "pub1"), 400, "unauthorized_client")
    # the rightful client still gets its tokens
    assert poll(dh, dc).status_code == 200


def test_poll_errors(dh):
    assert_json_error(poll(dh, "no-such-device-code"), 400, "invalid_grant")
    r = post(dh, "/oauth/token", {"client_id": "tv1", "grant_type": DEVICE_GT})
    assert_json_error(r, 400, "invalid_request")
    dc = approved(dh, scope="api.read")
    r = poll(dh, dc, resource="urn:other")
    assert_json_error(r, 400, "invalid_target")
    assert poll(dh, dc).status_code == 200  # a refused poll spends nothing


def test_polling_race(dh):
    """Two polls (and more) at once of an approved request: one token, the others
    invalid_grant (the store's atomic take)."""
    for _ in range(3):
        dc = approved(dh)
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            got = list(ex.map(lambda _: poll(dh, dc), range(8)))
        ok = [r for r in got if r.status_code == 200]
        assert len(ok) == 1, [(r.status_code, r.text) for r in got]
        for r in got:
            if r.status_code != 200:
                assert_json_error(r, 400, "invalid_grant")


def test_slow_down(dh):
    d = start(dh)
    dh.mark_log()
    assert_json_error(poll(dh, d["device_code"]), 400, "authorization_pending")  # at once
    assert_json_error(poll(dh, d["device_code"]), 400, "slow_down")
    dh.wait_log(r"OAS07116.* interval now 6 s")
    # 1.5 s later: past the configured interval, not the grown one
    time.sleep(1.5)
    assert_json_error(poll(dh, d["device_code"]), 400, "slow_down")
    dh.wait_log(r"OAS07116.* interval now 11 s")


def test_dpop_bound_tokens(dh):
    key = DPoPKey()
    dc = approved(dh, scope="openid offline_access api.read")
    proof = key.proof("POST", dh.issuer + "/oauth/token")
    r = poll(dh, dc, headers={"DPoP": proof})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "DPoP"
    assert jwt_claims(body["access_token"])["cnf"] == {"jkt": key.jkt}
    # a public client's refresh token is bound to the key too
    r = post(dh, "/oauth/token", {"client_id": "tv1", "grant_type": "refresh_token",
                                  "refresh_token": body["refresh_token"]})
    assert_json_error(r, 400, "invalid_grant")


def test_account_page_lists_the_device(dh):
    """The user's page of allowed applications (issue 21) shows the device, and its Revoke
    ends the device's refresh tokens."""
    r = poll(dh, approved(dh, scope="openid offline_access", user="bob"))
    assert r.status_code == 200, r.text
    rt = r.json()["refresh_token"]
    with session(dh) as s:
        page = s.get(dh.issuer + "/me/applications", auth=("bob", USERS["bob"]), timeout=10)
        assert page.status_code == 200 and "Living Room TV" in page.text
        form = next(f for f in parse_forms(page.text) if f["hidden"].get("client_id") == "tv1")
        r = s.post(dh.issuer + "/me/applications", auth=("bob", USERS["bob"]),
                   headers={"Origin": dh.issuer}, allow_redirects=False, timeout=10,
                   data={"csrf": form["hidden"]["csrf"], "client_id": "tv1"})
        assert r.status_code == 303, (r.status_code, r.text[:300])
    r = post(dh, "/oauth/token", {"client_id": "tv1", "grant_type": "refresh_token",
                                  "refresh_token": rt})
    assert_json_error(r, 400, "invalid_grant")


# ---- the verification page ---------------------------------------------------------------------

def test_verification_page_refusals(dh):
    d = start(dh)
    with session(dh) as s:
        # behind the site's authentication
        assert code_page(dh, s, user=None).status_code == 401
        # an unprotected page refuses to work
        r = code_page(dh, s, user=None, path="/device-open")
        assert_error_page(r, 403, "not configured")
        # the form's CSRF token is required, and the form comes from our own site
        r = type_code(dh, s, d["user_code"], csrf="forged")
        assert_error_page(r, 403)
        r = s.post(dh.issuer + "/device", data={"user_code": d["user_code"]},
                   auth=("alice", USERS["alice"]), timeout=10)
        assert_error_page(r, 403)
        r = type_code(dh, s, d["user_code"], headers={"Origin": "https://evil.test",
                                                      "Sec-Fetch-Site": "cross-site"})
        assert_error_page(r, 403)
        # bob's token is not alice's
        page = code_page(dh, s, user="bob")
        bob_csrf = parse_forms(page.text)[0]["hidden"]["csrf"]
        assert_error_page(type_code(dh, s, d["user_code"], csrf=bob_csrf), 403)
        # a wrong code: the form again, with a message (one guess of the address's five)
        r = type_code(dh, s, "BCDF-GHJK" if d["user_code"] != "BCDF-GHJK" else "ZZZZ-ZZZZ")
        assert r.status_code == 200 and "not valid" in r.text and 'name="csrf"' in r.text
        # the device request is still there
        page = type_code(dh, s, d["user_code"])
        f = consent_form(page)
        # its consent transaction is answered on the device page only
        r = s.post(dh.issuer + "/authorize", data={"txn": f["txn"], "csrf": f["csrf"],
                                                   "decision": "allow"},
                   auth=("alice", USERS["alice"]), allow_redirects=False, timeout=10)
        assert_error_page(r, 400, "another page")
        # and by its user only
        r = decide(dh, s, page, user="bob")
        assert_error_page(r, 403)
        assert decide(dh, s, page).status_code == 200
    assert poll(dh, d["device_code"]).status_code == 200


# ---- own servers: expiry, guessing, configuration -------------------------------------------

def test_expiry(httpd_factory):
    h = httpd_factory(conf(lifetime=2))
    d = start(h)
    assert d["expires_in"] == 2
    deadline = time.monotonic() + 10
    while True:  # polls at the interval until the code expires
        r = poll(h, d["device_code"])
        if r.json().get("error") == "expired_token":
            break
        assert r.json()["error"] in ("authorization_pending", "slow_down"), r.text
        assert time.monotonic() < deadline
        time.sleep(1.1)
    assert_json_error(r, 400, "expired_token")
    # the user cannot approve it any more
    with session(h) as s:
        r = type_code(h, s, d["user_code"])
        assert r.status_code == 200 and "not valid" in r.text


def test_flow_on_a_database(httpd_factory):
    """OAuthASStore dbd: the requests, decisions and the poll markers in the database; the
    same answers, and one token of parallel polls."""
    h = httpd_factory(conf(dbd=True))
    d = start(h)
    assert_json_error(poll(h, d["device_code"]), 400, "authorization_pending")
    assert_json_error(poll(h, d["device_code"]), 400, "slow_down")
    with session(h) as s:
        assert decide(h, s, type_code(h, s, d["user_code"])).status_code == 200
    with concurrent.futures.ThreadPoolExecutor(6) as ex:
        got = list(ex.map(lambda _: poll(h, d["device_code"]), range(6)))
    assert sorted(r.status_code for r in got) == [200] + [400] * 5, [r.text for r in got]
    assert_json_error(poll(h, approved(h, decision="deny")), 400, "access_denied")


@pytest.mark.expect_log("OAS07121")
def test_guessing_limited(httpd_factory):
    h = httpd_factory(conf())
    d = start(h)
    h.mark_log()
    with session(h) as s:
        wrong = "BCDF-GHJK" if d["user_code"] != "BCDF-GHJK" else "ZZZZ-ZZZZ"
        for _ in range(5):
            r = type_code(h, s, wrong)
            assert r.status_code == 200 and "not valid" in r.text, r.text
        # the sixth is refused, even the right code
        r = type_code(h, s, d["user_code"])
        assert_error_page(r, 429)
        assert r.headers.get("Retry-After")
        h.wait_log(r"OAS07121: user alice from 127.0.0.1: 5 wrong user codes")
        h.wait_log(r"OAS07107: user alice from 127.0.0.1: too many wrong user codes")
        # the same address as another user: refused too (per address)
        r = type_code(h, s, d["user_code"], user="bob")
        assert_error_page(r, 429)


@pytest.mark.parametrize("line,fragment", [
    ("OAuthASDeviceInterval 0", "OAuthASDeviceInterval"),
    ("OAuthASDeviceInterval 301", "OAuthASDeviceInterval"),
    ("OAuthASDeviceCodeLifetime soon", "OAuthASDeviceCodeLifetime"),
    ("OAuthASDeviceCodeLifetime 86400", "OAuthASDeviceCodeLifetime"),
])
def test_configtest_bad_values(tmp_path, line, fragment):
    h = Httpd(str(tmp_path / "srv"), "")
    h.body = conf()(h) + line + "\n"
    rc, out = h.configtest()
    assert rc != 0 and fragment in out, out


def test_configtest_device_without_verify(tmp_path):
    h = Httpd(str(tmp_path / "srv"), "")
    h.body = standard_conf(h, extra=CLIENTS + "<Location /oauth/device>\n"
                           "    OAuthASEndpoint device\n</Location>\n")
    rc, out = h.configtest()
    assert rc != 0 and "device-verify" in out, out
    h.body = standard_conf(h, extra=CLIENTS.replace(DEVICE_GT, "urn:device"))
    rc, out = h.configtest()
    assert rc != 0 and "OAuthASGrantType" in out and DEVICE_GT in out, out
