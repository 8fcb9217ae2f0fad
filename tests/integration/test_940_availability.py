"""Issue 14 (availability): the floods that filled the store or locked users out, at test
scale. After each attack the attacker gets 429 with Retry-After, and a legitimate user on
another address completes a flow.

- one signed-in user opening consent pages without end (OAuthASUserQuota);
- one public client pushing without credentials from one address (OAuthASAddressQuota);
- wrong client secrets from many addresses behind a proxy (the brake per r->useragent_ip:
  mod_remoteip with `RemoteIPHeader X-Forwarded-For` and `RemoteIPTrustedProxy 127.0.0.1`
  lets one test client speak for many addresses);
- 38 guesses at once against a limit of 10 (each counted before its secret is checked);
- the real client behind the same proxy as the attacker keeps working.
"""

import re
import urllib.parse

import pytest

from client import Pkce, parse_forms, run_parallel, session
from oauth_conf import CLIENTS, CONF1_SECRET, USERS, standard_conf

# RemoteIPTrustedProxy takes public addresses only from the header: the tests speak for
# documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32)
PROXY = """RemoteIPHeader X-Forwarded-For
RemoteIPTrustedProxy 127.0.0.1
"""


def proxied_server(httpd_factory, **conf):
    return httpd_factory(lambda h: standard_conf(h, extra=PROXY, **conf),
                         extra_modules=("remoteip",))


def authorize(h, s, client_id, user="alice", method="GET", **params):
    """/authorize for client_id as user; params override the defaults."""
    _, challenge = Pkce()
    p = {"response_type": "code", "client_id": client_id,
         "redirect_uri": CLIENTS[client_id]["redirect_uris"][0], "scope": "openid",
         "state": "st", "code_challenge": challenge, "code_challenge_method": "S256"}
    p.update(params)
    kw = {"params": p} if method == "GET" else {"data": p}
    return s.request(method, h.issuer + "/authorize", auth=(user, USERS[user]),
                     allow_redirects=False, timeout=10, **kw)


def location_params(r):
    assert r.status_code == 302, (r.status_code, r.text[:300])
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers["Location"]).query))


def full_flow(h, s, client_id, user="bob", push_auth=None, xff=None):
    """A complete flow: (push,) authorize, consent, code, token. The token response."""
    verifier, challenge = Pkce()
    headers = {"X-Forwarded-For": xff} if xff else {}
    redirect_uri = CLIENTS[client_id]["redirect_uris"][0]
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
              "scope": "openid", "state": "ok", "code_challenge": challenge,
              "code_challenge_method": "S256"}
    if push_auth is not False:
        data = dict(params)
        r = s.post(h.issuer + "/oauth/par", data=data, auth=push_auth, headers=headers,
                   timeout=10)
        assert r.status_code == 201, r.text
        params = {"client_id": client_id, "request_uri": r.json()["request_uri"]}
    r = s.get(h.issuer + "/authorize", params=params, auth=(user, USERS[user]),
              allow_redirects=False, timeout=10)
    if r.status_code == 200:  # the consent page
        form = parse_forms(r.text)[0]
        r = s.post(urllib.parse.urljoin(h.issuer + "/authorize", form["action"] or "/authorize"),
                   data={"txn": form["hidden"]["txn"], "csrf": form["hidden"]["csrf"],
                         "decision": "allow"},
                   auth=(user, USERS[user]), allow_redirects=False, timeout=10)
    q = location_params(r)
    assert "code" in q and q["state"] == "ok", q
    data = {"grant_type": "authorization_code", "code": q["code"], "redirect_uri": redirect_uri,
            "code_verifier": verifier}
    auth = None
    if CLIENTS[client_id]["secret"]:
        auth = (client_id, CLIENTS[client_id]["secret"])
    else:
        data["client_id"] = client_id
    r = s.post(h.issuer + "/oauth/token", data=data, auth=auth, headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def assert_429_json(r):
    assert r.status_code == 429, (r.status_code, r.text[:300])
    assert r.json()["error"] == "temporarily_unavailable"
    assert int(r.headers["Retry-After"]) >= 1


def wrong_secret(h, s, xff, secret="wrong"):
    return s.post(h.issuer + "/oauth/token",
                  data={"grant_type": "authorization_code", "code": "x",
                        "redirect_uri": "https://rp1.test/cb", "code_verifier": "v" * 43},
                  auth=("conf1", secret), headers={"X-Forwarded-For": xff}, timeout=10)


@pytest.mark.catalogue("D07")
def test_consent_flood_by_one_user(httpd_factory):
    """3,122 consent transactions by one signed-in user filled the default store; now the
    user is refused at the quota (429, redirected to the client with Retry-After), logged
    once, and every other user goes on."""
    h = httpd_factory(lambda h: standard_conf(h, OAuthASStoreSize=300, OAuthASUserQuota=20))
    s = session(h)
    statuses = []
    for i in range(120):
        r = authorize(h, s, "conf1", user="alice", method="POST", state=f"s{i}")
        statuses.append(r.status_code)
        if r.status_code == 302:
            q = location_params(r)
            assert q["error"] == "temporarily_unavailable" and q["state"] == f"s{i}", q
            assert 1 <= int(r.headers["Retry-After"]) <= 300
    assert statuses == [200] * 20 + [302] * 100, statuses
    log = h.error_log()
    assert log.count("OAS00162") == 1, log.count("OAS00162")
    assert "user alice over its quota of 20" in log
    # another user completes a flow, with and without PAR
    full_flow(h, s, "conf1", user="bob", push_auth=("conf1", CONF1_SECRET))
    full_flow(h, s, "conf1", user="bob", push_auth=False)
    # and the attacker is still refused
    r = authorize(h, s, "conf1", user="alice")
    assert location_params(r)["error"] == "temporarily_unavailable"


@pytest.mark.catalogue("D07")
def test_par_flood_by_public_client(httpd_factory):
    """3,148 pushes of a public client, no credentials at all, filled the store in 4.5 s; now
    its address gets 429 at the quota, and the same client from another address, and every
    other client, keep working."""
    h = proxied_server(httpd_factory, OAuthASStoreSize=300, OAuthASAddressQuota=20)
    s = session(h)
    _, challenge = Pkce()
    push = {"response_type": "code", "client_id": "pub1", "redirect_uri": "https://spa.test/cb",
            "scope": "openid", "code_challenge": challenge, "code_challenge_method": "S256"}
    statuses = []
    for _ in range(100):
        r = s.post(h.issuer + "/oauth/par", data=push, headers={"X-Forwarded-For": "192.0.2.66"},
                   timeout=10)
        statuses.append(r.status_code)
    assert statuses == [201] * 20 + [429] * 80, statuses
    assert_429_json(r)
    assert r.headers.get("Cache-Control") == "no-store"
    # the same IPv6 /64 is one party
    for addr in ("2001:db8:7:7::1", "2001:db8:7:7::2"):
        for _ in range(10):
            assert s.post(h.issuer + "/oauth/par", data=push, timeout=10,
                          headers={"X-Forwarded-For": addr}).status_code == 201
    assert_429_json(s.post(h.issuer + "/oauth/par", data=push, timeout=10,
                           headers={"X-Forwarded-For": "2001:db8:7:7::3"}))
    assert h.error_log().count("OAS00162") == 2
    # a legitimate user of the same public client elsewhere, and a confidential client
    tokens = full_flow(h, s, "pub1", user="bob", push_auth=None, xff="198.51.100.20")
    assert "access_token" in tokens
    full_flow(h, s, "conf1", user="bob", push_auth=("conf1", CONF1_SECRET), xff="192.0.2.66")
    # the attacker is still refused
    assert_429_json(s.post(h.issuer + "/oauth/par", data=push, timeout=10,
                           headers={"X-Forwarded-For": "192.0.2.66"}))


@pytest.mark.catalogue("D07")
def test_completed_public_flows_never_reach_the_address_quota(httpd_factory):
    """The address quota bounds pushes that are left pending, not how many flows an address
    completes: an agent behind one NAT (a public client pushing without credentials) runs
    twice its address quota of whole flows, each push given back when its request_uri is used
    up; pushes it leaves unused still count."""
    h = proxied_server(httpd_factory, OAuthASAddressQuota=3)
    s = session(h)
    for _ in range(6):
        assert "access_token" in full_flow(h, s, "pub1", user="bob", xff="192.0.2.77")
    _, challenge = Pkce()
    push = {"response_type": "code", "client_id": "pub1", "redirect_uri": "https://spa.test/cb",
            "scope": "openid", "code_challenge": challenge, "code_challenge_method": "S256"}
    got = [s.post(h.issuer + "/oauth/par", data=push, timeout=10,
                  headers={"X-Forwarded-For": "192.0.2.77"}).status_code for _ in range(4)]
    assert got == [201, 201, 201, 429], got


@pytest.mark.catalogue("C07")
@pytest.mark.expect_log("OAS00136")  # the brake reaches its limit
def test_wrong_secrets_from_many_addresses(httpd_factory):
    """Wrong secrets from many addresses (behind a proxy that says which): each address gets
    its limit of 401s, then 429; the real client at its own address is never locked out."""
    h = proxied_server(httpd_factory, OAuthASClientAuthFailureLimit="2 60")
    s = session(h)
    for i in range(40):
        addr = f"203.0.113.{i + 1}"
        got = [wrong_secret(h, s, addr).status_code for _ in range(4)]
        assert got == [401, 401, 429, 429], (addr, got)
    r = wrong_secret(h, s, "203.0.113.1", secret=CONF1_SECRET)  # even the right secret
    assert_429_json(r)
    # the real client, at its own address behind the same proxy
    full_flow(h, s, "conf1", user="bob", push_auth=("conf1", CONF1_SECRET), xff="198.51.100.9")
    log = h.error_log()
    assert log.count("OAS00137") == 40, log.count("OAS00137")  # once per window and address
    assert CONF1_SECRET not in log


@pytest.mark.catalogue("C07")
@pytest.mark.expect_log("OAS00136")  # the brake reaches its limit
def test_38_parallel_guesses_against_10(httpd_factory):
    """38 guesses at once, limit 10: each is counted before its secret is checked, so at
    most 10 get a 401 (an answer about the secret); the rest get 429."""
    h = proxied_server(httpd_factory, OAuthASClientAuthFailureLimit="10 60")

    def guess(i):
        return wrong_secret(h, session(h), "192.0.2.38", secret=f"guess-{i}").status_code

    got = run_parallel(38, guess)
    assert sorted(set(got)) == [401, 429], got
    assert got.count(401) == 10, got
    # the real client elsewhere is not affected
    full_flow(h, session(h), "conf1", user="bob", push_auth=("conf1", CONF1_SECRET),
              xff="198.51.100.38")


@pytest.mark.catalogue("C07")
@pytest.mark.expect_log("OAS00136")  # the brake reaches its limit
def test_real_client_behind_the_attackers_proxy(httpd_factory):
    """Behind a proxy or a shared NAT, 10 bad requests used to lock the real client out (it
    got 429 and lost its code). With mod_remoteip the brake keys on the real addresses: the
    attacker gets 429, the real client behind the same proxy redeems its code."""
    h = proxied_server(httpd_factory, OAuthASClientAuthFailureLimit="10 60")
    s = session(h)
    verifier, challenge = Pkce()
    r = authorize(h, s, "conf1", user="bob", code_challenge=challenge)
    form = parse_forms(r.text)[0]
    r = s.post(h.issuer + "/authorize", data={"txn": form["hidden"]["txn"],
                                              "csrf": form["hidden"]["csrf"],
                                              "decision": "allow"},
               auth=("bob", USERS["bob"]), allow_redirects=False, timeout=10)
    code = location_params(r)["code"]
    for _ in range(10):
        assert wrong_secret(h, s, "203.0.113.99").status_code == 401
    assert_429_json(wrong_secret(h, s, "203.0.113.99"))
    r = s.post(h.issuer + "/oauth/token",
               data={"grant_type": "authorization_code", "code": code,
                     "redirect_uri": "https://rp1.test/cb", "code_verifier": verifier},
               auth=("conf1", CONF1_SECRET), headers={"X-Forwarded-For": "198.51.100.1"},
               timeout=10)
    assert r.status_code == 200, r.text
    assert re.match(r"^[\w-]+\.[\w-]+\.[\w-]+$", r.json()["access_token"])


@pytest.mark.parametrize("param,size", [("state", 2049), ("nonce", 513), ("scope", 2049)])
def test_request_limits(httpd_factory, param, size):
    """What one request may leave in the store is bounded: a longer state, nonce or other
    value is invalid_request (at PAR as JSON, at /authorize redirected), never stored; a
    state of 2 KiB (a return URL) is fine."""
    h = httpd_factory(standard_conf)
    s = session(h)
    value = "openid" + " " * (size - 6) if param == "scope" else "x" * size
    r = s.post(h.issuer + "/oauth/par", auth=("conf1", CONF1_SECRET), timeout=10,
               data={"response_type": "code", "redirect_uri": "https://rp1.test/cb",
                     "scope": "openid", "code_challenge": Pkce()[1],
                     "code_challenge_method": "S256", param: value})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request", r.text
    q = location_params(authorize(h, s, "conf1", method="POST", **{param: value}))
    assert q["error"] == "invalid_request", q
    r = authorize(h, s, "conf1", method="POST", state="x" * 2048)
    assert r.status_code == 200, r.status_code  # the consent page


@pytest.mark.catalogue("D07")
def test_busy_party_whose_flows_complete_never_reaches_its_quota(httpd_factory):
    """The quotas bound what a party holds, not how fast it works: a flow that ends with its
    code redeemed gives its counts back, so a user and a client completing three times
    their quotas in a row are never refused; the same user then holding codes is."""
    h = httpd_factory(lambda h: standard_conf(h, OAuthASUserQuota=5, OAuthASClientQuota=5))
    s = session(h)
    for _ in range(15):
        full_flow(h, s, "conf1", user="bob", push_auth=("conf1", CONF1_SECRET))
    for _ in range(5):  # codes held, not redeemed
        assert "code" in location_params(authorize(h, s, "fp1", user="bob"))
    q = location_params(authorize(h, s, "fp1", user="bob"))
    assert q["error"] == "temporarily_unavailable", q
