"""OAuthASStore dbd (issue 14, availability): the table stays bounded under a flood, and the
statements the database store runs per PAR flow are counted and few.

Best-effort rows (replay tombstones, reuse markers) are kept to a cap:
OAuthASStoreSize rows for a bare number (a size: one row per 256 bytes). Beyond it the writing
requests (every cap/8 such rows per process) and the purge delete the ones that expire
soonest. Live rows are never deleted that way. /server-status?auto counts the statements
(OAuthASDbdStatements) and the evictions (OAuthASDbdEvicted) over every process. The brake's
and the quotas' counters are not rows at all: each node keeps them in its tally.

Other source addresses: the whole 127/8 is loopback on Linux; the harness listens on
127.0.0.1, so a connection bound to 127.0.x.y comes from "another address"."""

import base64
import http.client
import sqlite3
import ssl
import urllib.parse

import pytest

from client import Pkce, session
from oauth_conf import CLIENTS, FP1_SECRET, STATUS_CONF, USERS, sqlite_dbd, standard_conf

CAP = 64           # OAuthASStoreSize: best-effort rows kept
STEP = 16          # OAS_DBD_TRIM_MIN_STEP: CAP / 8 is smaller
FLOOD = 240        # wrong-secret attempts, one per source address
TOMBSTONES = 200   # flows, one tombstone row each
FP1_REDIRECT = CLIENTS["fp1"]["redirect_uris"][0]



def wrong_secret_from(h, ip):
    """A token request of fp1 with a wrong secret, on a connection from address ip: the
    status."""
    conn = http.client.HTTPSConnection("localhost", h.tls_port, source_address=(ip, 0),
                                       context=ssl.create_default_context(cafile=h.ca),
                                       timeout=10)
    try:
        conn.request("POST", "/oauth/token", body=urllib.parse.urlencode({
            "grant_type": "authorization_code", "code": "x", "redirect_uri": FP1_REDIRECT,
            "code_verifier": "v" * 43}), headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "Basic " + base64.b64encode(b"fp1:wrong").decode()})
        return conn.getresponse().status
    finally:
        conn.close()


def conf(store, size=CAP, **kw):
    return lambda h: standard_conf(h, OAuthASStore=store, OAuthASStoreSize=size,
                                   extra=sqlite_dbd(h) + STATUS_CONF, **kw)


def status(h):
    with session(h) as s:
        r = s.get(h.issuer + "/server-status?auto", timeout=10)
    assert r.status_code == 200, r.text[:300]
    return {k: int(v) for k, _, v in (line.partition(": ") for line in r.text.splitlines())
            if k.startswith("OAuthASDbd")}


def rows(h, cls):
    db = sqlite3.connect(f"file:{h.datadir}/oas.sqlite?mode=ro", uri=True, timeout=10)
    try:
        return db.execute("SELECT COUNT(*) FROM oauth_as_store WHERE c = ?", (cls,)).fetchone()[0]
    finally:
        db.close()


def par_flow(h, s):
    """fp1 (confidential, no consent page): push, /authorize as alice, redeem. The token
    response's status."""
    verifier, challenge = Pkce()
    r = s.post(h.issuer + "/oauth/par", auth=("fp1", FP1_SECRET), timeout=10, data={
        "response_type": "code", "redirect_uri": FP1_REDIRECT, "scope": "openid",
        "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"})
    assert r.status_code == 201, r.text
    r = s.get(h.issuer + "/authorize", auth=("alice", USERS["alice"]), allow_redirects=False,
              params={"client_id": "fp1", "request_uri": r.json()["request_uri"]}, timeout=10)
    assert r.status_code == 302, r.text[:300]
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(r.headers["Location"]).query)["code"][0]
    r = s.post(h.issuer + "/oauth/token", auth=("fp1", FP1_SECRET), timeout=10, data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
        "redirect_uri": FP1_REDIRECT})
    assert r.status_code == 200, r.text
    return r


def tally(h):
    with session(h) as s:
        r = s.get(h.issuer + "/server-status?auto", timeout=10)
    return {k: int(v) for k, _, v in (line.partition(": ") for line in r.text.splitlines())
            if k.startswith("OAuthASTally")}


@pytest.mark.catalogue("D07")
@pytest.mark.allow_log("OAS00136")   # the brake, at the end
def test_wrong_secret_flood_writes_no_rows(httpd_factory):
    """The brake's counters are kept by each node in its tally, not in the table (they were a
    row per address before issue 14, then capped best-effort rows): a flood of wrong secrets
    from FLOOD addresses leaves the table as it was, and the brake still works."""
    h = httpd_factory(conf("dbd", OAuthASClientAuthFailureLimit=3), extra_modules=("status",))
    with session(h) as s:
        par_flow(h, s)       # the legitimate client works before
    before = (rows(h, 0), rows(h, 1))
    for i in range(FLOOD):
        assert wrong_secret_from(h, f"127.0.{1 + i // 200}.{1 + i % 200}") == 401
    assert (rows(h, 0), rows(h, 1)) == before
    t = tally(h)
    assert t["OAuthASTallyCounters"] >= FLOOD, t   # one per address, and the quotas'
    assert t["OAuthASTallyEvictions"] == 0 and t["OAuthASTallyFullRefusals"] == 0, t
    # the brake still works for one attacker address
    codes = [wrong_secret_from(h, "127.0.3.1") for _ in range(5)]
    assert codes[:3] == [401] * 3 and codes[3:] == [429] * 2, codes
    # and the real client, from its own address, completes a flow
    with session(h) as s:
        par_flow(h, s)


@pytest.mark.catalogue("D07")
def test_tombstone_flood_keeps_the_table_bounded(httpd_factory):
    """Each redeemed code leaves a best-effort tombstone row: TOMBSTONES flows (well over the
    cap) leave at most the cap plus what each process writes between its trims, never far
    below it; live rows are not touched."""
    h = httpd_factory(conf("dbd"), extra_modules=("status",))
    with session(h) as s:
        for _ in range(TOMBSTONES):
            par_flow(h, s)
    children = max(1, len(h.children()))
    best_effort = rows(h, 1)
    print(f"\n{TOMBSTONES} flows: {best_effort} best-effort rows (cap {CAP}, "
          f"{children} children)")
    assert CAP <= best_effort <= CAP + STEP * (children + 2), (best_effort, children)
    st = status(h)
    assert st["OAuthASDbdEvicted"] >= TOMBSTONES - best_effort - 1, st
    assert st["OAuthASDbdRowsBestEffort"] == best_effort, st
    assert st["OAuthASDbdRowsLive"] == rows(h, 0) and st["OAuthASDbdBytesLive"] > 0, st
    with session(h) as s:
        par_flow(h, s)


@pytest.mark.parametrize("store", ["dbd", "shm dbd"])
def test_statements_per_par_flow(httpd_factory, store):
    """The statements one PAR flow (push, /authorize, redemption; fp1, openid) runs on the
    database, from the store's own counter; printed for bench/RESULTS.md (pytest -s)."""
    flows = 20
    h = httpd_factory(conf(store, size=100000), extra_modules=("status",))
    with session(h) as s:
        par_flow(h, s)   # warm-up: connections opened, busy_timeout set once on each
        before = status(h)["OAuthASDbdStatements"]
        for _ in range(flows):
            par_flow(h, s)
    per_flow = (status(h)["OAuthASDbdStatements"] - before) / flows
    print(f"\nOAuthASStore {store}: {per_flow:.2f} SQL statements per PAR flow")
    # dbd: push 1, /authorize read + take + code 3, redemption read + take + tombstone +
    # access record 4 (the brake's and the quotas' counters are in the node's tally, not in
    # the database), and the browser's AS session read at /authorize 1 (issue 21: its record
    # is written only when it begins or lists a new client); shm dbd: only the long-lived
    # records (the access record and the session read)
    limit = {"dbd": 9, "shm dbd": 2}[store]
    assert 0 < per_flow <= limit, per_flow
