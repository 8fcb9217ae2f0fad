"""Store occupancy in mod_status (Hardening issue: shm occupancy observable).

With mod_status loaded, /server-status?auto carries OAuthASShm* lines (entries in use,
capacity, value bytes in use and available, region bytes, wipes) and one OAuthASIssuerN
line per issuer with its short and long store; the HTML page has the same figures. The
counters must follow the flows: a pushed request and an issued code take one entry each,
a redemption trades the code for its used-code tombstone (and, for fp1 with openid, the
per-jti userinfo claims)."""

import re

from client import Pkce, get_code, push_ok, redeem, session
from oauth_conf import STATUS_CONF, sqlite_dbd, standard_conf


def status_auto(h, s):
    r = s.get(h.issuer + "/server-status?auto", timeout=10)
    assert r.status_code == 200, r.text[:300]
    out = {}
    for line in r.text.splitlines():
        k, sep, v = line.partition(": ")
        if sep:
            out[k] = v
    return out


def shm(h, s):
    st = status_auto(h, s)
    return {k[len("OAuthASShm"):]: int(v) for k, v in st.items() if k.startswith("OAuthASShm")}


def push_conf1(h, s):
    """conf1 pushes an openid request: its request_uri."""
    return push_ok(h, "conf1", Pkce(), sess=s, timeout=10, scope="openid", state=None)


def test_status_counts_follow_flows(httpd_factory):
    # issue 14: the quota counters are records too; off here, so that the flows' records are
    # counted alone (the brake's reservations, given back, leave none)
    h = httpd_factory(lambda h: standard_conf(h, OAuthASStoreSize=500, extra=STATUS_CONF,
                                              OAuthASClientQuota=0, OAuthASUserQuota=0),
                      extra_modules=("status",))
    s = session(h)
    st = status_auto(h, s)
    # one issuer, listed once although the plain-HTTP vhost inherits it
    assert st.get("OAuthASIssuer1") == f"{h.issuer} shm shm", st
    assert "OAuthASIssuer2" not in st, st
    u0 = shm(h, s)
    assert u0["Capacity"] == 500, u0
    assert u0["Bytes"] >= 500 * 128, u0          # the region: slots plus the value arena
    assert u0["ValueCapacity"] >= 500 * 128, u0
    assert u0["Resets"] == 0, u0
    assert 0 <= u0["Entries"] <= 500, u0

    for _ in range(4):
        push_conf1(h, s)
    u1 = shm(h, s)
    assert u1["Entries"] == u0["Entries"] + 4, (u0, u1)       # one request_uri each
    assert u1["ValueBytes"] > u0["ValueBytes"], (u0, u1)

    codes = [get_code(h, "fp1", scope="openid", expect_consent=False, sess=s) for _ in range(3)]
    u2 = shm(h, s)
    # one code each, and the browser's AS session (issue 21): one record, begun at the first
    # /authorize; s keeps its cookie, so the next two join it
    assert u2["Entries"] == u1["Entries"] + 3 + 1, (u1, u2)

    for g in codes:
        assert redeem(h, g, sess=s).status_code == 200
    u3 = shm(h, s)
    # each code was taken and replaced by its tombstone; the user's claims are kept once for
    # userinfo (one record per user, not per access token: issue 14)
    assert u3["Entries"] == u2["Entries"] + 1, (u2, u3)
    assert u3["Capacity"] == 500 and u3["Resets"] == 0, u3

    # the HTML page shows the same store
    r = s.get(h.issuer + "/server-status", timeout=10)
    assert r.status_code == 200
    m = re.search(r"(\d+) of 500 entries in use", r.text)
    assert m and abs(int(m.group(1)) - u3["Entries"]) <= 2, r.text[-2000:]
    assert f"{h.issuer}: short-lived state in shm, long-lived in shm" in r.text


def test_status_names_each_store(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(h, OAuthASStore="shm dbd",
                                              extra=sqlite_dbd(h) + STATUS_CONF),
                      extra_modules=("status", "dbd"))
    s = session(h)
    st = status_auto(h, s)
    assert st.get("OAuthASIssuer1") == f"{h.issuer} shm dbd", st
    assert int(st["OAuthASShmCapacity"]) > 0, st
