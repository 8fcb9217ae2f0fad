"""Catalogue X05 (PAR burst: uniqueness, no lost or crossed writes) and the uniqueness parts of
A01 / P01 (many codes and request_uris), scaled to run in a few seconds: 1,000 pushes from 8
concurrent connections for three clients with three authentication methods, and 1,000 codes
from 8 connections. (The catalogue's 10,000 belong to the load runs of group L.)"""

import concurrent.futures
import re
import threading
import urllib.parse

import pytest

from client import RFC7636_CHALLENGE, Pkce, session
from oauth_conf import CLIENTS, USERS, standard_conf

# Two more first-party clients (no consent page, so a request_uri resolves straight to its
# redirect): one authenticating with client_secret_post, one public.
EXTRA = """
<OAuthASClient fpp>
    OAuthASClientSecret "fpp-secret-31b7c0"
    OAuthASAuthMethod client_secret_post
    OAuthASRedirectURI https://fpp.test/cb
    OAuthASScope openid
    OAuthASGrantType authorization_code
    OAuthASConsent Off
</OAuthASClient>
<OAuthASClient fpn>
    OAuthASAuthMethod none
    OAuthASRedirectURI https://fpn.test/cb
    OAuthASScope openid
    OAuthASGrantType authorization_code
    OAuthASConsent Off
</OAuthASClient>
"""
REDIRECT = {"fp1": "https://fp.test/cb", "fpp": "https://fpp.test/cb", "fpn": "https://fpn.test/cb"}
URN = "urn:ietf:params:oauth:request_uri:"
B64URL = re.compile(r"^[A-Za-z0-9_-]{43,}$")
N = 1000
# Fewer connections than one child has worker threads (10): when all of a child's workers
# are busy, mpm_event closes its idle keep-alive connections, which a client sees as a reset.
THREADS = 8


def sessions(h, n):
    return [session(h) for _ in range(n)]


@pytest.mark.catalogue("P01", "X05")
def test_par_burst_no_crossed_writes(httpd_factory):
    """X05: 1,000 pushes (fp1 Basic, fpp client_secret_post, fpn public), 8 at a time, each
    with its own state: 1,000 × 201, 1,000 distinct request_uris of ≥ 256 bits; then 300 of
    them, picked across the whole run, each resolve for their own client to their own state
    and redirect URI (no slot cross-talk), and a request_uri presented with another client's
    id is refused."""
    # issue 14: one user opening 300 authorizations and redeeming none is what the user quota
    # refuses; off here, where one user stands for many
    h = httpd_factory(lambda h: standard_conf(h, extra=EXTRA, OAuthASUserQuota=0))
    pool = sessions(h, THREADS)
    local = threading.local()
    counter = iter(range(THREADS))
    lock = threading.Lock()

    def push(i):
        if not hasattr(local, "s"):
            with lock:
                local.s = pool[next(counter)]
        client = ("fp1", "fpp", "fpn")[i % 3]
        data = {"response_type": "code", "redirect_uri": REDIRECT[client], "scope": "openid",
                "state": f"x05-{i}", "code_challenge": RFC7636_CHALLENGE,
                "code_challenge_method": "S256"}
        auth = None
        if client == "fp1":
            auth = ("fp1", CLIENTS["fp1"]["secret"])
        elif client == "fpp":
            data.update(client_id="fpp", client_secret="fpp-secret-31b7c0")
        else:
            data["client_id"] = "fpn"
        r = local.s.post(h.issuer + "/oauth/par", data=data, auth=auth, timeout=30)
        return client, r.status_code, (r.json().get("request_uri") if r.status_code == 201
                                       else r.text[:200])

    with concurrent.futures.ThreadPoolExecutor(THREADS) as ex:
        results = list(ex.map(push, range(N)))
    bad = [(i, r) for i, r in enumerate(results) if r[1] != 201]
    assert not bad, bad[:5]
    uris = [r[2] for r in results]
    assert len(set(uris)) == N
    assert all(u.startswith(URN) and B64URL.match(u[len(URN):]) for u in uris)

    s = pool[0]
    for i in list(range(0, N, 10)) + list(range(1, N, 10)) + list(range(2, N, 10)):
        client, _, ru = results[i]
        r = s.get(h.issuer + "/authorize", params={"client_id": client, "request_uri": ru},
                  auth=("alice", USERS["alice"]), allow_redirects=False, timeout=30)
        assert r.status_code == 302, (i, r.status_code, r.text[:200])
        loc = r.headers["Location"]
        assert loc.startswith(REDIRECT[client] + "?"), (i, loc)
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
        assert q["state"] == f"x05-{i}" and q["code"], (i, q)
    # a request_uri presented with another client's id: refused, and still usable by its own
    client, _, ru = results[3]
    other = "fpp" if client != "fpp" else "fpn"
    r = s.get(h.issuer + "/authorize", params={"client_id": other, "request_uri": ru},
              auth=("alice", USERS["alice"]), allow_redirects=False, timeout=30)
    assert r.status_code == 400 and "Location" not in r.headers
    r = s.get(h.issuer + "/authorize", params={"client_id": client, "request_uri": ru},
              auth=("alice", USERS["alice"]), allow_redirects=False, timeout=30)
    assert r.status_code == 302 and "state=x05-3" in r.headers["Location"]


@pytest.mark.catalogue("A01", "P01")
@pytest.mark.expect_log("OAS00131")
def test_many_codes_distinct(httpd_factory):
    """A01 (4) / N24: 1,000 codes issued to 8 concurrent connections: all distinct, each
    ≥ 43 base64url characters (256 random bits); a sample redeems, each exactly once."""
    # issue 14: 1,000 codes of one user, redeemed only in part, are over the user quota; off
    # here, where one user stands for many
    h = httpd_factory(lambda h: standard_conf(h, OAuthASUserQuota=0))
    pool = sessions(h, THREADS)
    verifier, challenge = Pkce()

    def code(i):
        s = pool[i % THREADS]
        r = s.get(h.issuer + "/authorize", params={
            "response_type": "code", "client_id": "fp1", "redirect_uri": REDIRECT["fp1"],
            "scope": "openid", "state": str(i), "code_challenge": challenge,
            "code_challenge_method": "S256"}, auth=("alice", USERS["alice"]),
            allow_redirects=False, timeout=30)
        assert r.status_code == 302, r.text[:200]
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers["Location"]).query))
        assert q["state"] == str(i)
        return q["code"]

    # one connection per thread: sessions are not shared between threads
    with concurrent.futures.ThreadPoolExecutor(THREADS) as ex:
        codes = []
        for start in range(0, N, THREADS):
            codes += list(ex.map(code, range(start, min(N, start + THREADS))))
    assert len(codes) == N and len(set(codes)) == N
    assert all(B64URL.match(c) for c in codes)
    s = pool[0]
    for c in codes[::100]:
        data = {"grant_type": "authorization_code", "code": c,
                "redirect_uri": REDIRECT["fp1"], "code_verifier": verifier}
        r = s.post(h.issuer + "/oauth/token", data=data,
                   auth=("fp1", CLIENTS["fp1"]["secret"]), timeout=30)
        assert r.status_code == 200, r.text
        r = s.post(h.issuer + "/oauth/token", data=data,
                   auth=("fp1", CLIENTS["fp1"]["secret"]), timeout=30)
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
