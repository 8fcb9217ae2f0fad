"""Issue 14: classes of records in the shared-memory store. A small store flooded with
best-effort records (redeemed codes' tombstones) keeps serving flows: the oldest tombstones
give way, counted as evictions, and nothing answers 503. Live records (pushed requests) are
never evicted: when they alone fill the store, a push answers 503 with Retry-After, counted as
a full refusal, and server-status shows bytes and entries by class."""

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from client import Pkce, session
from oauth_conf import CLIENTS, CONF1_SECRET, USERS, standard_conf

STATUS_CONF = """
<Location /server-status>
    SetHandler server-status
    Require local
</Location>
"""
ENTRIES = 40  # slots; 160 value chunks
FLOWS = 3 * ENTRIES


def shm_status(h, s):
    """The OAuthASShm* figures of /server-status?auto, by name without the prefix."""
    r = s.get(h.issuer + "/server-status?auto", timeout=10)
    assert r.status_code == 200, r.text[:300]
    return {k: int(v) for k, v in re.findall(r"^OAuthASShm(\w+): (\d+)$", r.text, re.M)}


def flow(h, s):
    """fp1 (consent off), scope profile: no ID token, no refresh token, so the flow leaves
    only its code's tombstone (best effort) behind. Returns (authorize status, token status)."""
    verifier, challenge = Pkce()
    redirect_uri = CLIENTS["fp1"]["redirect_uris"][0]
    r = s.get(h.issuer + "/authorize", params={
        "response_type": "code", "client_id": "fp1", "redirect_uri": redirect_uri,
        "scope": "profile", "state": "st", "code_challenge": challenge,
        "code_challenge_method": "S256"}, auth=("alice", USERS["alice"]),
        allow_redirects=False, timeout=10)
    if r.status_code != 302:
        return r.status_code, None
    code = parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]
    r = s.post(h.issuer + "/oauth/token", auth=("fp1", CLIENTS["fp1"]["secret"]), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        "code_verifier": verifier}, timeout=10)
    return 302, r.status_code


def push(h, s):
    _, challenge = Pkce()
    return s.post(h.issuer + "/oauth/par", auth=("conf1", CONF1_SECRET), data={
        "response_type": "code", "redirect_uri": CLIENTS["conf1"]["redirect_uris"][0],
        "scope": "openid", "code_challenge": challenge, "code_challenge_method": "S256"},
        timeout=10)


@pytest.mark.catalogue("D07")
# live records filling the store: 503s (OAS00120), and the brake failing closed when its
# reservation finds no room (OAS00135)
@pytest.mark.expect_log("OAS00120")
@pytest.mark.allow_log("OAS00135")
def test_tombstone_flood_evicts_oldest_then_live_fill_answers_503(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(h, OAuthASStoreSize=ENTRIES,
                                              OAuthASCodeLifetime=60, extra=STATUS_CONF),
                      extra_modules=("status",))
    s = session(h)
    u0 = shm_status(h, s)
    assert u0["Capacity"] == ENTRIES and u0["Evictions"] == 0, u0

    # three times the store in tombstones (each lives 120 s): every flow completes
    results = [flow(h, s) for _ in range(FLOWS)]
    assert results == [(302, 200)] * FLOWS, [r for r in results if r != (302, 200)][:5]
    u1 = shm_status(h, s)
    assert u1["FullRefusals"] == 0, u1
    assert u1["Evictions"] >= FLOWS - ENTRIES, u1
    assert u1["EntriesBestEffort"] > 0 and u1["BytesBestEffort"] >= 68 * u1["EntriesBestEffort"]
    assert u1["EntriesLive"] + u1["EntriesBestEffort"] == u1["Entries"], u1

    # live records take the store from the tombstones, then are refused, never evicted
    statuses = []
    for _ in range(2 * ENTRIES):
        r = push(h, s)
        statuses.append(r.status_code)
        if r.status_code != 201:
            break
    assert statuses[-1] == 503, statuses
    assert int(r.headers["Retry-After"]) > 0
    assert r.json()["error"] == "temporarily_unavailable"
    assert statuses.count(201) >= ENTRIES - u1["EntriesLive"] - 1, (statuses, u1)
    u2 = shm_status(h, s)
    assert u2["FullRefusals"] >= 1, u2
    assert u2["EntriesBestEffort"] == 0 and u2["BytesBestEffort"] == 0, u2
    assert u2["EntriesLive"] == ENTRIES or u2["ValueBytes"] > 0.9 * u2["ValueCapacity"], u2
    # the page shows the classes and the counters
    page = s.get(h.issuer + "/server-status", timeout=10).text
    assert "best effort: 0 entries" in page and "best-effort records evicted" in page
    # a flow that needs a new live record waits for room: an error page, never a 500
    status, _ = flow(h, s)
    assert status == 503, status


def test_size_in_bytes_and_graceful_resize(httpd_factory):
    """OAuthASStoreSize with a unit sizes the region in bytes (OAS01008 states them); a graceful
    restart with the same size keeps the contents, with another size re-creates the store
    (OAS01005 names both sizes)."""
    size = ["64K"]
    h = httpd_factory(lambda h: standard_conf(h, OAuthASStoreSize=size[0], extra=STATUS_CONF),
                      extra_modules=("status",))
    s = session(h)
    u = shm_status(h, s)
    assert 60000 < u["Bytes"] <= 64 * 1024, u
    assert u["Capacity"] == u["ValueCapacity"] // 256, u  # 2 chunks of 128 bytes per slot
    assert f"OAS01008: shared-memory store: {u['Bytes']} bytes (OAuthASStoreSize 65536 bytes)" \
        in h.error_log()
    r = push(h, s)
    assert r.status_code == 201, r.text
    request_uri = r.json()["request_uri"]

    h.graceful()  # same size: the pushed request is still there
    r = s.get(h.issuer + "/authorize", params={"client_id": "conf1", "request_uri": request_uri},
              auth=("alice", USERS["alice"]), allow_redirects=False, timeout=10)
    assert r.status_code == 200, r.status_code  # the consent page of the pushed request
    assert "OAS01005" not in h.error_log()

    size[0] = "1M"
    old_children = set(h.children())
    h.graceful()
    assert "store size changed from 65536 bytes to 1048576 bytes" in h.error_log()
    # the old generation keeps the old segment until it is gone
    deadline = time.monotonic() + 10
    while set(h.children()) & old_children and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not set(h.children()) & old_children
    s = session(h)
    u = shm_status(h, s)
    assert 1000000 < u["Bytes"] <= 1024 * 1024, u
    assert push(h, s).status_code == 201
