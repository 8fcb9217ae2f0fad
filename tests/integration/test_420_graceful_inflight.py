"""`apache2 -k graceful` with flows in flight (issue 7) loses no code, request_uri or consent
transaction, for OAuthASStore shm and dbd (SQLite): flows are stopped at different steps, the
server restarts gracefully while a background thread keeps running whole flows, then every
stopped flow is completed.

Connection resets: during the restart the old children close their idle keep-alive
connections; a request that raced such a close is retried once by the client (that is what
clients do) and counted. No request may get a 5xx."""

import threading
import time

import pytest
import requests

from client import OFFLINE, PUB1, Pkce, consent_form, redirect_params, session
from oauth_conf import USERS, sqlite_dbd, standard_conf

N = 21   # 7 flows stopped at each of the 3 steps


class Client:
    """Requests with one retry after a connection reset, counted; every answer recorded."""

    def __init__(self):
        self.resets = 0
        self.statuses = []
        self.lock = threading.Lock()

    def call(self, s, method, url, **kw):
        kw.setdefault("timeout", 15)
        kw.setdefault("allow_redirects", False)
        for attempt in (0, 1):
            try:
                r = s.request(method, url, **kw)
                break
            except requests.ConnectionError:
                if attempt:
                    raise
                with self.lock:
                    self.resets += 1
        with self.lock:
            self.statuses.append(r.status_code)
        return r


class Flow:
    """One authorization-code flow of pub1 for alice, advanced step by step."""

    def __init__(self, h, c, kind):
        self.h, self.c, self.kind = h, c, kind
        self.verifier, self.challenge = Pkce()
        self.s = session()
        self.s.verify = h.ca
        self.user = ("alice", USERS["alice"])
        self.params = dict(PUB1, response_type="code", scope=OFFLINE, state="s-" + kind,
                           code_challenge=self.challenge, code_challenge_method="S256",
                           prompt="consent")   # always a consent page, never a remembered one
        self.request_uri = self.form = self.code = None

    def url(self, path):
        return self.h.issuer + path

    def push(self):
        r = self.c.call(self.s, "POST", self.url("/oauth/par"), data=self.params)
        assert r.status_code == 201, r.text
        self.request_uri = r.json()["request_uri"]

    def show_consent(self):
        if self.request_uri:
            params = {"client_id": "pub1", "request_uri": self.request_uri}
        else:
            params = self.params
        self.form = consent_form(self.c.call(self.s, "GET", self.url("/authorize"),
                                             params=params, auth=self.user))

    def answer(self):
        r = self.c.call(self.s, "POST", self.url("/authorize"), auth=self.user,
                        data={"txn": self.form["txn"], "csrf": self.form["csrf"],
                              "decision": "allow"})
        q = redirect_params(r)
        assert "code" in q, q
        self.code = q["code"]

    def redeem(self):
        r = self.c.call(self.s, "POST", self.url("/oauth/token"),
                        data=dict(PUB1, grant_type="authorization_code", code=self.code,
                                  code_verifier=self.verifier))
        assert r.status_code == 200, r.text
        assert r.json()["access_token"] and r.json()["refresh_token"]
        return r

    # kind = where the flow is left standing during the restart
    def start(self):
        if self.kind == "pushed":          # a request_uri pushed, not yet used
            self.push()
        else:
            self.show_consent()            # a consent transaction open, not answered
            if self.kind == "code":        # a code issued, not yet redeemed
                self.answer()
        if self.kind != "full":
            self.s.close()   # N idle keep-alive connections would hold every prefork child

    def finish(self):
        if self.kind == "pushed":
            self.show_consent()
        if self.code is None:
            self.answer()
        self.redeem()
        self.s.close()


def background(h, c, stop, done, errors):
    while not stop.is_set():
        fl = Flow(h, c, "full")
        try:
            t0 = time.monotonic()
            fl.start()
            fl.finish()
            done.append((t0, time.monotonic()))
        except Exception as e:   # noqa: BLE001 — reported by the test
            errors.append(repr(e))
            fl.s.close()


# SQLite: a child that mod_dbd starts while another process closes the last connection (it
# checkpoints the WAL under an exclusive lock) fails to prepare at connect time, because
# mod_dbd prepares before any busy timeout can be set; mod_dbd connects again on the next
# request (AH02655 is mod_dbd's line for that failed acquire; our store waits and acquires
# again). Seen when spare children start around a restart. Allowed here; what must hold is
# that no request gets a 5xx, asserted below.
@pytest.mark.catalogue("D01", "D06")
@pytest.mark.allow_log("AH00632: failed to prepare SQL statements: database is locked",
                       "AH00633", "AH00636", "AH02655")
@pytest.mark.parametrize("store", ["shm", "dbd"])
@pytest.mark.allow_log("OAS00131", "OAS00134")
def test_graceful_loses_nothing_in_flight(httpd_factory, store):
    extra = sqlite_dbd if store == "dbd" else (lambda h: "")
    h = httpd_factory(lambda h: standard_conf(h, OAuthASStore=store, extra=extra(h)))
    c = Client()
    kinds = ["pushed", "consent", "code"]
    flows = [Flow(h, c, kinds[i % 3]) for i in range(N)]
    for fl in flows:
        fl.start()
    assert sum(fl.request_uri is not None and fl.form is None for fl in flows) == N // 3
    assert sum(fl.form is not None and fl.code is None for fl in flows) == N // 3
    assert sum(fl.code is not None for fl in flows) == N // 3

    stop, done, errors = threading.Event(), [], []
    bgs = [threading.Thread(target=background, args=(h, c, stop, done, errors))
           for _ in range(3)]
    for bg in bgs:
        bg.start()
    try:
        while len(done) < 3 and all(bg.is_alive() for bg in bgs):   # the traffic is flowing
            stop.wait(0.02)
        before = len(done)
        old = set(h.children())
        g0 = time.monotonic()
        h.graceful()
        g1 = time.monotonic()
        # every stopped flow completes on the new generation
        for fl in flows:
            fl.finish()
        # and the background keeps going until the old generation is gone
        for _ in range(200):
            if not set(h.children()) & old:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        for bg in bgs:
            bg.join(30)
    # whole flows that were running while the restart was under way
    during = sum(t0 < g1 and t1 > g0 for t0, t1 in done)
    print(f"\n[{store}] background flows: {len(done)} ({during} overlapping the graceful "
          f"restart of {g1 - g0:.2f} s); "
          f"connection resets retried: {c.resets}; requests: {len(c.statuses)}")
    assert not errors, errors
    assert during >= 1, "no background flow overlapped the graceful restart"
    assert sum(t0 > g1 for t0, t1 in done) >= 1, "no background flow after the restart"
    assert len(done) > before
    assert not [s for s in c.statuses if s >= 500], sorted(set(c.statuses))
    assert c.resets <= len(c.statuses) // 10, c.resets   # rare, not the rule
    # nothing was lost and nothing is reusable: each code was single-use across the restart
    r = flows[2].c.call(flows[2].s, "POST", h.issuer + "/oauth/token",
                        data=dict(PUB1, grant_type="authorization_code", code=flows[2].code,
                                  code_verifier=flows[2].verifier))
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
