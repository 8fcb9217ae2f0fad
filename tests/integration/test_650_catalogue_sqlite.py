"""Catalogue D05 (database outage and latency, SQLite variant: another process holds the file's
exclusive lock) and D06 (SQLite contention under prefork), scaled down. PostgreSQL outages are
test_410 (database stopped, and down at start-up)."""

import concurrent.futures
from collections import Counter
import os
import sqlite3
import threading
import time

import pytest
import requests

from client import OFFLINE, PUB1, Pkce, get_code, post, redeem, session, token
from oauth_conf import USERS, sqlite_dbd, standard_conf

# What a locked or contended SQLite file makes mod_dbd / the store log: statements that gave
# up on the lock (OAS00202 + OAS00120), and mod_dbd failing to prepare while a child connects
# during another process's checkpoint (see test_420).
SQLITE_BUSY_LINES = ("OAS00202", "OAS00120", "AH00632: failed to prepare SQL statements: "
                     "database is locked", "AH00633", "AH00636", "AH02655")


def dbd(h):
    return standard_conf(h, OAuthASStore="dbd", extra=sqlite_dbd(h))


def issued(h):
    """Token responses the server produced so far (OAS00133, one per issuance)."""
    return h.error_log().count("OAS00133")


def locked(h):
    """A connection holding the exclusive lock of the server's SQLite file (like a backup tool
    or a stuck writer)."""
    c = sqlite3.connect(os.path.join(h.datadir, "oas.sqlite"), timeout=10, isolation_level=None,
                        check_same_thread=False)
    c.execute("BEGIN EXCLUSIVE")
    return c


def pkce_par(h):
    verifier, challenge = Pkce()
    return post(h, "/oauth/par", dict(PUB1, response_type="code", scope="openid", state="p",
                                      code_challenge=challenge, code_challenge_method="S256"))


@pytest.mark.catalogue("D05")
@pytest.mark.allow_log(*SQLITE_BUSY_LINES, "OAS00131", "OAS00134")
def test_sqlite_locked_then_released(httpd_factory):
    """D05 (a)(c): while the database is locked, token, PAR and /authorize answer 503 with
    Retry-After (JSON errors with no-store; a page, not a redirect, at /authorize) after a
    bounded wait (SQLite's busy timeout; never a hang: the client waits up to 30 s), never a
    500, no code or token issued; the code taken before the outage is still redeemable once
    the lock is gone, without restarting httpd."""
    h = httpd_factory(dbd)
    g = get_code(h, "pub1", scope=OFFLINE)
    code, verifier = g["code"], g["verifier"]
    before = issued(h)
    conn = locked(h)
    results = {}
    try:
        def redeem_code():
            results["token"] = token(h, None, dict(grant_type="authorization_code", code=code,
                                                   code_verifier=verifier, **PUB1), timeout=30)

        def push():
            with session() as s:
                _, challenge = Pkce()
                results["par"] = s.post(h.issuer + "/oauth/par", verify=h.ca, timeout=30,
                                        data=dict(PUB1, response_type="code", scope="openid",
                                                  code_challenge=challenge,
                                                  code_challenge_method="S256"))

        def authorize():
            with session() as s:
                _, challenge = Pkce()
                results["authorize"] = s.get(
                    h.issuer + "/authorize", verify=h.ca, timeout=30, allow_redirects=False,
                    auth=("alice", USERS["alice"]),
                    params=dict(PUB1, response_type="code", scope=OFFLINE, state="x",
                                code_challenge=challenge, code_challenge_method="S256"))

        threads = [threading.Thread(target=t) for t in (redeem_code, push, authorize)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    for name in ("token", "par"):
        r = results[name]
        assert r.status_code == 503, (name, r.status_code, r.text[:200])
        assert r.json()["error"] in ("temporarily_unavailable", "server_error")
        assert int(r.headers["Retry-After"]) > 0 and "no-store" in r.headers["Cache-Control"]
    r = results["authorize"]
    assert r.status_code == 503 and "Location" not in r.headers, r.status_code
    assert int(r.headers["Retry-After"]) > 0
    assert issued(h) == before
    # (c) back at once, nothing lost: the code redeems exactly once
    r = redeem(h, code, verifier, "pub1")
    assert r.status_code == 200, r.text
    assert redeem(h, code, verifier, "pub1").json()["error"] == "invalid_grant"
    assert pkce_par(h).status_code == 201


@pytest.mark.catalogue("D05")
@pytest.mark.allow_log("OAS00131", "OAS00134")
def test_sqlite_slow_then_retry_never_two_successes(httpd_factory):
    """D05 (b): the database is locked for 1.5 s (a slow database); a client gives up on its
    token request after 0.5 s and retries with the same code. Both requests wait instead of
    failing, and the code issues tokens exactly once: the retry gets 200 or invalid_grant
    (when the abandoned request won), and one more try is invalid_grant."""
    h = httpd_factory(dbd)
    g = get_code(h, "pub1", scope=OFFLINE)
    code, verifier = g["code"], g["verifier"]
    before = issued(h)
    data = dict(grant_type="authorization_code", code=code, code_verifier=verifier, **PUB1)
    conn = locked(h)
    release = threading.Timer(1.5, lambda: (conn.execute("ROLLBACK"), conn.close()))
    release.start()
    try:
        with pytest.raises(requests.exceptions.Timeout):
            token(h, None, data, timeout=0.5)
        retry = token(h, None, data, timeout=30)
    finally:
        release.join(10)
    assert retry.status_code in (200, 400), retry.text
    if retry.status_code == 400:
        assert retry.json()["error"] == "invalid_grant"
    deadline = time.monotonic() + 10
    while issued(h) == before and time.monotonic() < deadline:   # the abandoned one's log line
        time.sleep(0.05)
    r = token(h, None, data, timeout=30)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    assert issued(h) == before + 1


PREFORK_ROOM = "StartServers 8\nMinSpareServers 8\nServerLimit 16\nMaxRequestWorkers 16\n"


@pytest.mark.catalogue("D06")
@pytest.mark.allow_log(*SQLITE_BUSY_LINES, "OAS00131", "OAS00134")
def test_sqlite_contention_under_prefork(httpd_factory):
    """D06, scaled: SQLite under prefork with 8-16 processes; a code raced by 16 connections
    has exactly one winner; 48 complete flows from 8 threads meanwhile all succeed or get a
    503 (never a 500; at most a few 503 from lock contention); the file is in WAL mode, so
    readers never wait for the writer."""
    h = httpd_factory(lambda h: standard_conf(h, OAuthASStore="dbd",
                                              extra=sqlite_dbd(h) + PREFORK_ROOM),
                      mpm="prefork")
    mode = sqlite3.connect(os.path.join(h.datadir, "oas.sqlite")).execute(
        "PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    g = get_code(h, "pub1", scope=OFFLINE)
    flows = []

    def flow(_):
        out = []
        for _ in range(6):
            try:
                out.append(redeem(h, get_code(h, "pub1", scope=OFFLINE)).status_code)
            except AssertionError as e:        # /authorize answered something else
                out.append(str(e)[:80])
        return out

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        background = ex.map(flow, range(8))
        with concurrent.futures.ThreadPoolExecutor(16) as racers:
            race = list(racers.map(lambda _: redeem(h, g), range(16)))
        for out in background:
            flows += out
    statuses = [r.status_code for r in race]
    assert statuses.count(200) == 1, sorted(statuses)
    assert all(r.json()["error"] == "invalid_grant" for r in race if r.status_code == 400)
    assert set(statuses) <= {200, 400, 503}, sorted(statuses)
    assert len(flows) == 48
    print(f"\nD06: race {dict(Counter(statuses))}; flows {dict(Counter(map(str, flows)))}")
    assert not [s for s in flows if isinstance(s, int) and s >= 500 and s != 503], flows
    assert flows.count(200) >= 40, flows     # 503 from lock contention: a small share at most
    assert not [s for s in flows if not isinstance(s, int) and "503" not in s], flows
