"""Brute-force throttling of client secrets (issue 9; SECURITY.md C07).

Pinned: failed authentications of a known client with a secret are counted per (client id,
client address) in a window that starts with the first failure
(OAuthASClientAuthFailureLimit N [SECONDS], default 10 in 60 s). At N failures that pair gets
JE(429, temporarily_unavailable) + Retry-After (the rest of the window) at the token, PAR,
revoke and introspect endpoints, without the secret being checked. Another address (the real
client) is not affected, and a success resets nobody's counter. Unknown client ids are not
counted (they cannot be brute-forced, and counting them would let anyone fill the store).

The harness listens on 127.0.0.1; "another address" is 127.0.0.2 as the source address of
the connection (the whole 127/8 is loopback on Linux).
"""

import time

import pytest
import requests
from requests.adapters import HTTPAdapter

from client import DESC_RE, Client, Pkce, redeem, session
from oauth_conf import CONF1_SECRET, SVC1_SECRET, standard_conf


class _SourceAdapter(HTTPAdapter):
    """Connections bound to a given local (source) address."""

    def __init__(self, source_ip, **kw):
        self._source = (source_ip, 0)
        super().__init__(**kw)

    def init_poolmanager(self, *args, **kw):
        kw["source_address"] = self._source
        super().init_poolmanager(*args, **kw)


def session_from(h, ip):
    s = session(h)
    s.mount("https://", _SourceAdapter(ip))
    s.mount("http://", _SourceAdapter(ip))
    return s


def cc(h, s, secret=SVC1_SECRET, client="svc1"):
    """client_credentials for svc1 (the simplest request that authenticates a client)."""
    return s.post(h.issuer + "/oauth/token", data={"grant_type": "client_credentials"},
                  auth=(client, secret), timeout=10)


def wrong_conf1(h, s):
    return s.post(h.issuer + "/oauth/token",
                  data={"grant_type": "authorization_code", "code": "x",
                        "redirect_uri": "https://rp1.test/cb", "code_verifier": "v" * 43},
                  auth=("conf1", "wrong-secret"), timeout=10)


def assert_429(r, window):
    assert r.status_code == 429, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers.get("Cache-Control") == "no-store"
    body = r.json()
    assert body["error"] == "temporarily_unavailable", body
    assert DESC_RE.match(body.get("error_description", "")), body
    ra = int(r.headers["Retry-After"])
    assert 1 <= ra <= window, ra


def par(h, s, secret=CONF1_SECRET):
    _, challenge = Pkce()
    return s.post(h.issuer + "/oauth/par", auth=("conf1", secret), data={
        "response_type": "code", "redirect_uri": "https://rp1.test/cb", "scope": "openid",
        "code_challenge": challenge, "code_challenge_method": "S256"}, timeout=10)


@pytest.mark.catalogue("C07")
@pytest.mark.expect_log("OAS00136")
def test_default_limit_is_10(oas):
    s = session(oas)
    for i in range(10):
        r = wrong_conf1(oas, s)
        assert r.status_code == 401 and r.json()["error"] == "invalid_client", (i, r.text)
    assert_429(wrong_conf1(oas, s), 60)
    assert "OAS00136" in oas.error_log()


@pytest.mark.catalogue("C07")
@pytest.mark.expect_log("OAS00136")
def test_threshold_429_on_every_client_endpoint(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(h, OAuthASClientAuthFailureLimit="5 60"))
    attacker = session(h)                       # 127.0.0.1
    for _ in range(5):
        assert wrong_conf1(h, attacker).status_code == 401
    # from now on the secret is not even looked at: the right one gets 429 too
    assert_429(wrong_conf1(h, attacker), 60)
    g = Client(h).get_code(client_id="conf1")
    assert_429(redeem(h, g, sess=attacker), 60)
    assert_429(par(h, attacker), 60)
    for ep in ("/oauth/revoke", "/oauth/introspect"):
        assert_429(attacker.post(h.issuer + ep, data={"token": "x"},
                                 auth=("conf1", CONF1_SECRET), timeout=10), 60)
    # client_secret_post names the client in the body: counted and refused the same way
    assert_429(attacker.post(h.issuer + "/oauth/token", data={
        "grant_type": "authorization_code", "code": "x", "client_id": "conf1",
        "client_secret": "wrong"}, timeout=10), 60)

    # the real client at another address: unaffected, and its code was not burnt above
    real = session_from(h, "127.0.0.2")
    r = redeem(h, g, sess=real)
    assert r.status_code == 200, r.text
    assert par(h, real).status_code == 201
    r = real.post(h.issuer + "/oauth/introspect", data={"token": r.json()["access_token"]},
                  auth=("conf1", CONF1_SECRET), timeout=10)
    assert r.status_code == 200 and r.json()["active"] is True, r.text
    # other clients from the attacker's address: unaffected
    assert cc(h, attacker).status_code == 200
    # and the attacker's address is still refused after the real client's successes
    assert_429(wrong_conf1(h, attacker), 60)
    # the refusals are at info level, the threshold once at warn: no [error] lines
    log = h.error_log()
    assert log.count("OAS00136") == 1, log.count("OAS00136")
    assert CONF1_SECRET not in log


@pytest.mark.expect_log("OAS00136")
def test_success_resets_no_counter(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(h, OAuthASClientAuthFailureLimit="4 60"))
    a, b = session(h), session_from(h, "127.0.0.2")
    for _ in range(3):
        assert cc(h, a, secret="bad").status_code == 401
    for _ in range(3):
        assert cc(h, b, secret="bad").status_code == 401
    # successes from both addresses reset nothing
    assert cc(h, a).status_code == 200
    assert cc(h, b).status_code == 200
    assert cc(h, a, secret="bad").status_code == 401       # the 4th failure of a
    assert_429(cc(h, a), 60)
    assert cc(h, b).status_code == 200                       # b is at 3: still served
    assert cc(h, b, secret="bad").status_code == 401
    assert_429(cc(h, b), 60)


@pytest.mark.catalogue("C07")
@pytest.mark.expect_log("OAS00136")
def test_window_expires(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(h, OAuthASClientAuthFailureLimit="3 2"))
    s = session(h)
    for _ in range(3):
        assert cc(h, s, secret="bad").status_code == 401
    r = cc(h, s)
    assert_429(r, 2)
    time.sleep(int(r.headers["Retry-After"]) + 0.3)
    deadline = time.monotonic() + 3
    while (r := cc(h, s)).status_code == 429 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert r.status_code == 200, r.text
    # a fresh window: three more failures are needed
    for _ in range(3):
        assert cc(h, s, secret="bad").status_code == 401
    assert cc(h, s, secret="bad").status_code == 429


@pytest.mark.catalogue("C07")
def test_unknown_and_public_clients_not_counted(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(h, OAuthASClientAuthFailureLimit="2 60"))
    s = session(h)
    for _ in range(6):
        r = cc(h, s, client="nosuch", secret="x")
        assert r.status_code == 401 and r.json()["error"] == "invalid_client"
        # a public client sending a secret: refused, not throttled (it has no secret to guess)
        r = s.post(h.issuer + "/oauth/token", data={
            "grant_type": "authorization_code", "code": "x", "client_id": "pub1",
            "client_secret": "x"}, timeout=10)
        assert r.status_code == 401, r.text
    # malformed requests are not failures of a secret
    for _ in range(4):
        r = s.post(h.issuer + "/oauth/token", data={"grant_type": "client_credentials",
                                                    "client_secret": "x"},
                   auth=("svc1", SVC1_SECRET), timeout=10)
        assert r.status_code == 400
    assert cc(h, s).status_code == 200


def test_limit_off(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(h, OAuthASClientAuthFailureLimit="0"))
    s = session(h)
    for _ in range(15):
        assert cc(h, s, secret="bad").status_code == 401
    assert cc(h, s).status_code == 200


def test_directive_syntax(httpd_factory):
    for bad in ("-1", "x", "10 0", "10 x", "10 100000"):
        h = httpd_factory(lambda h, v=bad: standard_conf(h, OAuthASClientAuthFailureLimit=v),
                          start=False)
        rc, out = h.configtest()
        assert rc != 0 and "OAuthASClientAuthFailureLimit" in out, (bad, out)
    h = httpd_factory(lambda h: standard_conf(h, OAuthASClientAuthFailureLimit="20 300"),
                      start=False)
    rc, out = h.configtest()
    assert rc == 0, out


def test_requests_still_use_loopback_alias(httpd_factory):
    """The 127.0.0.2 source really is a different client address for the server."""
    h = httpd_factory(standard_conf)
    s = session_from(h, "127.0.0.2")
    assert s.get(h.issuer + "/.well-known/jwks.json", timeout=5).status_code == 200
    # httpd writes the access-log line after the response went out: wait for it
    def logged():
        with open(h.accesslog) as f:
            return any(line.startswith("127.0.0.2 ") for line in f)
    deadline = time.monotonic() + 10
    while not logged() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert logged(), "source address not used"
    assert isinstance(s.get_adapter(h.issuer), requests.adapters.HTTPAdapter)
