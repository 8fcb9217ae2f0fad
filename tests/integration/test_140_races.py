"""Issue 3: races (SECURITY.md X01, X04): one code redeemed by 50 connections released
together, and one consent transaction (or one PAR request_uri) approved 20 times at once."""

import threading
import time
import urllib.parse

import pytest

from client import (RFC7636_CHALLENGE, Client, basic, consent_form, read_response, redirect_params,
                    run_parallel, session, tls_connect)
from oauth_conf import CLIENTS, USERS, standard_conf

CONF1 = ("conf1", CLIENTS["conf1"]["secret"])


def release_together(h, requests_bytes, stall=1.0):
    """Sends every request but its last byte on its own TLS connection, waits until all are
    ready (or until no connection got ready for `stall` seconds: the server may have fewer
    workers than connections), then sends the last bytes together. Returns the responses
    (or exceptions) in order."""
    n = len(requests_bytes)
    results = [None] * n
    lock = threading.Lock()
    state = {"ready": 0, "last": time.monotonic()}
    go = threading.Event()

    def run(i):
        data = requests_bytes[i]
        try:
            with tls_connect(h, timeout=20) as s:
                s.sendall(data[:-1])
                with lock:
                    state["ready"] += 1
                    state["last"] = time.monotonic()
                go.wait(30)
                s.sendall(data[-1:])
                results[i] = read_response(s, "POST")
        except Exception as e:  # recorded, asserted by the caller
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    while True:
        with lock:
            ready, last = state["ready"], state["last"]
        if ready == n or time.monotonic() - last > stall:
            break
        time.sleep(0.01)
    go.set()
    for t in threads:
        t.join(60)
    return results


def token_request(h, g):
    body = urllib.parse.urlencode({"grant_type": "authorization_code", "code": g["code"],
                                   "redirect_uri": g["redirect_uri"],
                                   "code_verifier": g["verifier"]}).encode()
    head = (f"POST /oauth/token HTTP/1.1\r\nHost: localhost:{h.tls_port}\r\n"
            f"Authorization: {basic(*CONF1)}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    return head + body


def one_round(h, f, n=50):
    g = f.get_code("conf1", scope="openid api.read")
    res = release_together(h, [token_request(h, g)] * n)
    errors = [r for r in res if isinstance(r, Exception)]
    assert not errors, errors[:3]
    statuses = [r.status_code for r in res]
    odd = [(r.status_code, dict(r.headers), r.text[:400]) for r in res
           if r.status_code not in (200, 400)][:2]
    assert statuses.count(200) == 1, (statuses, odd)
    assert statuses.count(400) == n - 1, (statuses, odd)
    tokens = set()
    for r in res:
        body = r.json()
        assert "no-store" in r.headers.get("Cache-Control", "")
        if r.status_code == 200:
            tokens.add(body["access_token"])
        else:
            assert body["error"] == "invalid_grant", body
    assert len(tokens) == 1
    return g, tokens.pop()


# Room for 50 connections at once (the harness's MPM settings allow 40 / 10 workers); the
# later MPM directives in the body override the harness's.
MORE_WORKERS = {
    "event": "ServerLimit 6\nMaxRequestWorkers 60\nMaxSpareThreads 60\n",
    "prefork": "ServerLimit 64\nMaxRequestWorkers 64\nMaxSpareServers 64\n",
}


def approve_together(h, forms):
    """Each (user, consent form) of `forms` approved by its user on a session of its own, all
    released together; returns the responses (none may be an exception)."""
    def post(i):
        user, form = forms[i]
        return session(h).post(h.issuer + "/authorize", auth=(user, USERS[user]),
                               data={"txn": form["txn"], "csrf": form["csrf"],
                                     "decision": "allow"},
                               allow_redirects=False, timeout=20)

    return run_parallel(len(forms), post)


@pytest.mark.catalogue("T02", "X01")
@pytest.mark.parametrize("mpm,rounds", [("event", 5), ("prefork", 2)])
@pytest.mark.allow_log("OAS00131")
def test_parallel_redemptions(httpd_factory, mpm, rounds):
    h = httpd_factory(lambda h: standard_conf(h, extra=MORE_WORKERS[mpm]), mpm=mpm)
    f = Client(h)
    h.mark_log()
    for _ in range(rounds):
        g, at = one_round(h, f)
        jti = f.verify_jwt(at)[1]["jti"]
    # the losers were valid replays: at least the last round's winner is revoked once the
    # tombstone is there (a replay after the race always finds it)
    assert f.redeem(g).json()["error"] == "invalid_grant"
    h.wait_log(rf"OAS00131.*jti {jti}")
    # and the server serves a normal flow afterwards
    g = f.get_code("conf1", scope="openid")
    assert f.redeem(g).status_code == 200


@pytest.mark.catalogue("H02", "X04")
def test_parallel_consent_posts(oas):
    f = Client(oas)
    p = f.authz_params("conf1", challenge=RFC7636_CHALLENGE, state="x4")
    form = consent_form(f.authorize(p))
    results = approve_together(oas, [("alice", form)] * 20)
    codes = [r for r in results if r.status_code == 302]
    assert len(codes) == 1, [r.status_code for r in results]
    q = redirect_params(codes[0], "https://rp1.test/cb")
    assert q["code"] and q["state"] == "x4"
    others = [r for r in results if r.status_code != 302]
    assert all(r.status_code == 400 and "Location" not in r.headers for r in others)


@pytest.mark.catalogue("X04")
def test_parallel_request_uri_approvals(oas):
    f = Client(oas)
    par = f.s.post(oas.issuer + "/oauth/par", auth=CONF1, timeout=10,
                   data=f.authz_params("conf1", challenge=RFC7636_CHALLENGE, state="p4",
                                       prompt="consent"))
    assert par.status_code == 201, par.text
    ru = par.json()["request_uri"]
    n = 20
    # every "session" (alice and bob alternately) opens the page: reload before approval is fine
    forms = []
    for i in range(n):
        user = ("alice", "bob")[i % 2]
        r = f.authorize({"client_id": "conf1", "request_uri": ru}, user=user)
        forms.append((user, consent_form(r)))
    results = approve_together(oas, forms)
    statuses = [r.status_code for r in results]
    assert statuses.count(302) == 1, statuses
    assert statuses.count(400) == n - 1, statuses
    win = next(r for r in results if r.status_code == 302)
    assert redirect_params(win, "https://rp1.test/cb")["state"] == "p4"
    assert all("invalid_request_uri" in r.text for r in results if r.status_code == 400)
    # the request_uri is used up now
    r = f.authorize({"client_id": "conf1", "request_uri": ru})
    assert r.status_code == 400 and "invalid_request_uri" in r.text
