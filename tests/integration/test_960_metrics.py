"""OAuthASEndpoint metrics (issue 23): the Prometheus text exposition, read by a strict parser
written here (format 0.0.4: HELP and TYPE before each family's samples, well-formed names and
escaped labels, one sample per series, histogram buckets cumulative up to +Inf = _count).

A known set of requests between two scrapes moves the counters by exactly what it did, while
children come and go (MaxConnectionsPerChild 4, every request on a new connection) and across a
graceful restart: the counters live in one shared segment summed at scrape time. A hard restart
(`apachectl -k restart`) starts them again at zero. The scrapes themselves are not counted, and
the endpoint is protected like any Location (Require)."""

import os
import re
import time

import pytest

from client import (DPoPKey, Pkce, assert_error_redirect, assert_json_error, authorize,
                    authz_params, client_credentials, get_code, redeem, session, token, userinfo)
from harness import Httpd, module_scoped
from oauth_conf import standard_conf
from test_640_catalogue_restarts import hard_restart

METRICS_CONF = """
MaxConnectionsPerChild 4
<Location /metrics>
    OAuthASEndpoint metrics
    Require local
</Location>
<Location /metrics-remote>
    OAuthASEndpoint metrics
    Require ip 192.0.2.1
</Location>
"""

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
SAMPLE = re.compile(rf"^({NAME})(?:\{{((?:{LABEL})(?:,{LABEL})*)\}})? (\S+)$")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


def parse(text):
    """{(name, ((label, value), ...)): float}, asserting the format strictly."""
    assert text.endswith("\n"), text[-200:]
    out, families = {}, {}
    family = ftype = None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {n}: {line!r}"
        if line.startswith("# HELP "):
            m = re.match(rf"^# HELP ({NAME}) (.+)$", line)
            assert m, where
            family, ftype = m.group(1), None
            assert family not in families, f"family repeated: {where}"
            families[family] = None
            continue
        if line.startswith("# TYPE "):
            m = re.match(rf"^# TYPE ({NAME}) (\w+)$", line)
            assert m and m.group(1) == family and ftype is None, where
            assert m.group(2) in TYPES, where
            ftype = families[family] = m.group(2)
            continue
        assert not line.startswith("#") and line, where
        m = SAMPLE.match(line)
        assert m and ftype, where
        name = m.group(1)
        allowed = {family} if ftype != "histogram" else {
            family + "_bucket", family + "_sum", family + "_count"}
        assert name in allowed, where
        labels = tuple((k, v) for k, v in re.findall(LABEL, m.group(2) or ""))
        assert len({k for k, _ in labels}) == len(labels), where
        value = float(m.group(m.lastindex))
        assert value >= 0, where
        key = (name, labels)
        assert key not in out, f"series repeated: {where}"
        out[key] = value
    check_histograms(out, families)
    return out


def check_histograms(samples, families):
    for fam, t in families.items():
        if t != "histogram":
            continue
        series = {}
        for (name, labels), v in samples.items():
            if name == fam + "_bucket":
                rest = tuple(x for x in labels if x[0] != "le")
                le = dict(labels)["le"]
                series.setdefault(rest, []).append((float("inf") if le == "+Inf" else float(le), v))
        for rest, buckets in series.items():
            buckets.sort()
            counts = [v for _, v in buckets]
            assert counts == sorted(counts), (fam, rest, buckets)
            assert buckets[-1][0] == float("inf"), (fam, rest)
            assert samples[(fam + "_count", rest)] == counts[-1], (fam, rest)
            assert (fam + "_sum", rest) in samples, (fam, rest)


def scrape(h, path="/metrics"):
    r = session(h, keep_alive=False).get(h.base_url + path, timeout=10)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert r.headers["Cache-Control"] == "no-store"
    return parse(r.text)


def scrape_when(h, cond, timeout=5):
    """A scrape once cond(it) holds (else the last one, after timeout): a request is counted
    where it ends (log_transaction), just after its answer went out, so a scrape sent at once
    can be ahead of the last counts."""
    deadline = time.monotonic() + timeout
    m = scrape(h)
    while not cond(m) and time.monotonic() < deadline:
        time.sleep(0.02)
        m = scrape(h)
    return m


def val(m, name, **labels):
    return m.get((name, tuple(labels.items())), 0.0)


def delta(m0, m1):
    keys = set(m0) | set(m1)
    return {k: m1.get(k, 0.0) - m0.get(k, 0.0) for k in keys if m1.get(k, 0.0) != m0.get(k, 0.0)}


def conf(h):
    return standard_conf(h, extra=METRICS_CONF, OAuthASClientQuota=0, OAuthASUserQuota=0)


@pytest.fixture(scope="module")
def mh(request, workdir_base):
    # AH01630: the scrape refused by Require ip
    yield from module_scoped(request, Httpd(os.path.join(workdir_base, "960-metrics"), conf),
                             ("AH01630",))


def req(endpoint, status):
    return ("oauth_as_requests_total", (("endpoint", endpoint), ("status", status)))


def err(endpoint, error):
    return ("oauth_as_oauth_errors_total", (("endpoint", endpoint), ("error", error)))


def tok(grant, binding, kind):
    return ("oauth_as_tokens_issued_total", (("grant", grant), ("binding", binding),
                                             ("type", kind)))


def hist(endpoint, suffix, le=None):
    labels = (("endpoint", endpoint),) + ((("le", le),) if le else ())
    return ("oauth_as_request_duration_seconds_" + suffix, labels)


def test_deltas_exact_across_children_and_graceful(mh):
    h = mh
    s = session(h, keep_alive=False)   # a new connection each time: children recycle
    pids0 = set(h.children())
    m0 = scrape(h)

    for _ in range(3):
        r = client_credentials(h, sess=s)
        assert r.status_code == 200, r.text
    for _ in range(2):
        assert_json_error(token(h, "svc1", {"grant_type": "client_credentials"}, secret="wrong",
                                sess=s), 401, "invalid_client")
    assert_json_error(token(h, "svc1", {"grant_type": "password"}, sess=s), 400,
                      "unsupported_grant_type")
    h.graceful()
    g = get_code(h, "conf1", scope="openid offline_access", sess=s)
    r = redeem(h, g, sess=s)
    assert r.status_code == 200, r.text
    body = r.json()
    assert "id_token" in body and "refresh_token" in body, body
    assert userinfo(h, "not-a-token", sess=s).status_code == 401
    r = authorize(h, authz_params("conf1", scope="openid no-such-scope", state="m1",
                                  challenge=Pkce().challenge), sess=s)
    assert_error_redirect(h, r, "invalid_scope", state="m1")
    for _ in range(2):
        assert s.get(h.issuer + "/.well-known/jwks.json", timeout=10).status_code == 200
    proof = DPoPKey("es256").proof("POST", h.issuer + "/oauth/token")
    for status in (200, 400):   # the same proof twice: bound tokens, then a replay refused
        r = token(h, "svc1", {"grant_type": "client_credentials"}, headers={"DPoP": proof},
                  sess=s)
        assert r.status_code == status, r.text
    assert r.json()["error"] == "invalid_dpop_proof", r.text
    assert set(h.children()) != pids0   # the counts came from several generations of children

    def counted(m1):
        """The change since m0, its counters (finite buckets, sums and the store's figures
        aside) and what they must be."""
        d = delta(m0, m1)
        expected = {
            req("token", "2xx"): 5, req("token", "4xx"): 4,
            err("token", "invalid_client"): 2, err("token", "unsupported_grant_type"): 1,
            err("token", "invalid_dpop_proof"): 1,
            ("oauth_as_replays_refused_total", (("kind", "dpop_proof"),)): 1,
            tok("client_credentials", "bearer", "access"): 3,
            tok("client_credentials", "dpop", "access"): 1,
            tok("authorization_code", "bearer", "access"): 1,
            tok("authorization_code", "bearer", "refresh"): 1,
            tok("authorization_code", "bearer", "id"): 1,
            ("oauth_as_client_auth_failures_total", (("method", "client_secret_basic"),)): 2,
            req("userinfo", "4xx"): 1, err("userinfo", "invalid_token"): 1,
            req("jwks", "2xx"): 2,
            hist("token", "count"): 9, hist("token", "bucket", "+Inf"): 9,
            hist("userinfo", "count"): 1, hist("userinfo", "bucket", "+Inf"): 1,
            hist("jwks", "count"): 2, hist("jwks", "bucket", "+Inf"): 2,
        }
        # the authorization requests: the code (a consent page first, then its approval, when the
        # user had not allowed conf1 yet) and the invalid_scope redirect
        auth_3xx = d.get(req("authorize", "3xx"), 0)
        auth_2xx = d.get(req("authorize", "2xx"), 0)
        assert auth_3xx == 2 and auth_2xx in (0, 1), d
        expected[req("authorize", "3xx")] = 2
        if auth_2xx:
            expected[req("authorize", "2xx")] = 1
        expected[err("authorize", "invalid_scope")] = 1
        expected[hist("authorize", "count")] = 2 + auth_2xx
        expected[hist("authorize", "bucket", "+Inf")] = 2 + auth_2xx
        counters = {k: v for k, v in d.items()
                    if not k[0].endswith(("_sum",)) and not k[0].startswith("oauth_as_store_") and
                    not (k[0].endswith("_bucket") and dict(k[1])["le"] != "+Inf")}
        return d, counters, expected

    def settled(m):
        _, got, want = counted(m)
        return got == want

    m1 = scrape_when(h, settled)
    d, counters, expected = counted(m1)
    assert counters == expected, (sorted(counters.items()), sorted(expected.items()))
    # every finite bucket moved by at most the count; the sums grew
    for ep in ("token", "userinfo", "jwks", "authorize"):
        assert d.get(hist(ep, "sum"), 0) > 0, ep
        for (name, labels), v in d.items():
            if name.endswith("_bucket") and dict(labels)["endpoint"] == ep:
                assert 0 <= v <= expected[hist(ep, "count")], (name, labels, v)
    # the store's figures are there (one shared-memory store)
    assert val(m1, "oauth_as_store_capacity_entries") == 10000
    assert val(m1, "oauth_as_store_entries", **{"class": "live"}) >= 1
    assert ("oauth_as_store_evictions_total", ()) in m1
    assert val(m1, "oauth_as_tally_slots") >= 3825     # the smallest tally
    assert ("oauth_as_tally_evictions_total", ()) in m1


def test_scrapes_not_counted_and_protected(mh):
    h = mh
    m0 = scrape(h)
    m1 = scrape(h)
    assert delta(m0, m1) == {}
    r = session(h).get(h.base_url + "/metrics-remote", timeout=10)
    assert r.status_code == 403
    r = session(h).post(h.base_url + "/metrics", data={"a": "b"}, timeout=10)
    assert r.status_code == 405 and "GET" in r.headers.get("Allow", "")


def test_hard_restart_resets(mh):
    h = mh
    assert client_credentials(h).status_code == 200
    assert scrape_when(h, lambda m: m.get(req("token", "2xx"), 0) >= 1).get(
        req("token", "2xx"), 0) >= 1
    hard_restart(h)
    m = scrape(h)
    assert not [k for k in m if k[0] in ("oauth_as_requests_total", "oauth_as_oauth_errors_total")
                or k[0].startswith("oauth_as_request_duration")], m
    assert all(v == 0 for k, v in m.items() if k[0] == "oauth_as_tokens_issued_total")



def test_without_issuer(httpd_factory):
    """The endpoint is the server's: a server with no issuer serves it (no store figures)."""
    h = httpd_factory("<Location /metrics>\n    OAuthASEndpoint metrics\n    Require local\n"
                      "</Location>\n")
    m = scrape(h)
    assert not [k for k in m if k[0].startswith(("oauth_as_store_", "oauth_as_tally_"))], m
    assert val(m, "oauth_as_replays_refused_total", kind="dpop_proof") == 0
    assert ("oauth_as_replays_refused_total", (("kind", "dpop_proof"),)) in m


def test_assertion_replay_counted(httpd_factory):
    """A client assertion used twice: the second is a replay refused (401), counted as one
    with the failed authentication of its method."""
    import test_705_client_assertion as ca
    h = httpd_factory(lambda h: ca.conf(h, extra=METRICS_CONF))
    m0 = scrape(h)
    a = ca.assertion(h)
    ca.assert_authenticated(ca.call(h, "/oauth/par", ca.form(a)), "/oauth/par")
    assert_json_error(ca.call(h, "/oauth/token", ca.form(a)), 401, "invalid_client")
    expected = {
        req("par", "2xx"): 1, req("token", "4xx"): 1, err("token", "invalid_client"): 1,
        ("oauth_as_replays_refused_total", (("kind", "client_assertion"),)): 1,
        ("oauth_as_client_auth_failures_total", (("method", "jwt_assertion"),)): 1,
    }

    def counters(m):
        return {k: v for k, v in delta(m0, m).items() if not k[0].startswith(
            ("oauth_as_request_duration", "oauth_as_store_", "oauth_as_tally_"))}
    got = counters(scrape_when(h, lambda m: counters(m) == expected))
    assert got == expected, sorted(got.items())
