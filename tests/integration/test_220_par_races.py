"""Pushed Authorization Requests under concurrency (issue 4: "exactly one code is ever
issued for it, even under concurrent use"; SECURITY.md X group, P05)."""

import pytest

from client import (Client, Pkce, assert_error_page, codes_issued, consent_form, is_consent_page,
                    location_query, run_parallel, session)
from oauth_conf import standard_conf


def split(results, h, base):
    """(302 responses carrying a code, everything else) with every 302 checked."""
    winners, others = [], []
    for r in results:
        if r.status_code == 302:
            got, q = location_query(r)
            assert got == base, r.headers["Location"]
            assert q["iss"] == h.issuer
            if "code" in q:
                winners.append(q)
                continue
        others.append(r)
    return winners, others


def closing(c):
    """Another client of c's server and user, on its own session without keep-alive: under
    prefork an idle connection would hold one of the few children."""
    return Client(c.h, c.user, session(c.h, keep_alive=False))


@pytest.mark.catalogue("X04")
@pytest.mark.parametrize("mpm", ["event", "prefork"])
def test_fifty_concurrent_uses_one_code(httpd_factory, mpm):
    """50 concurrent GET /authorize with one request_uri of fp1 (no consent page: every GET
    tries to issue a code) → exactly one 302 with a code, the others the 400 page."""
    h = httpd_factory(standard_conf, mpm=mpm)
    c = Client(h)
    pkce = Pkce()
    ru = c.push_ok("fp1", pkce, state="race")
    clients = [closing(c) for _ in range(50)]
    results = run_parallel(50, lambda i: clients[i].authorize_uri("fp1", ru))
    winners, others = split(results, h, "https://fp.test/cb")
    assert len(winners) == 1, [r.status_code for r in results]
    assert winners[0]["state"] == "race"
    for r in others:
        assert_error_page(r, 400, "invalid_request_uri")
    assert codes_issued(h) == 1
    # the code redeems once
    t = c.redeem(winners[0]["code"], pkce.verifier, "fp1")
    assert t.status_code == 200, t.text
    # and the request_uri is dead
    assert_error_page(c.authorize_uri("fp1", ru), 400, "invalid_request_uri")


def test_twenty_parallel_posts_of_one_consent_form(oas):
    """The same consent form posted 20 times at once → exactly one code."""
    c = Client(oas)
    pkce = Pkce()
    ru = c.push_ok("conf1", pkce, state="form-race")
    page = c.authorize_uri("conf1", ru)
    assert is_consent_page(page)
    results = run_parallel(20, lambda i: closing(c).approve(page))
    winners, others = split(results, oas, "https://rp1.test/cb")
    assert len(winners) == 1, [r.status_code for r in results]
    assert winners[0]["state"] == "form-race"
    for r in others:
        assert_error_page(r, 400)
    assert codes_issued(oas) == 1
    assert c.redeem(winners[0]["code"], pkce.verifier, "conf1").status_code == 200


@pytest.mark.catalogue("X04")
def test_twenty_consent_pages_approved_at_once(oas):
    """20 consent pages for one request_uri (reloads, several tabs), all approved at once →
    exactly one code: the request_uri is the commit point, not the per-page transaction."""
    c = Client(oas)
    pkce = Pkce()
    ru = c.push_ok("conf1", pkce, state="tabs")
    pages = [c.authorize_uri("conf1", ru) for _ in range(20)]
    assert all(is_consent_page(p) for p in pages)
    assert len({consent_form(p)["hidden"]["txn"] for p in pages}) == 20
    results = run_parallel(20, lambda i: closing(c).approve(pages[i]))
    winners, others = split(results, oas, "https://rp1.test/cb")
    assert len(winners) == 1, [r.status_code for r in results]
    for r in others:
        assert_error_page(r, 400, "invalid_request_uri")
    assert codes_issued(oas) == 1
    assert c.redeem(winners[0]["code"], pkce.verifier, "conf1").status_code == 200


def test_approve_and_deny_race(oas):
    """10 approvals and 10 denials of 20 pages of one request_uri at once → exactly one
    authorization response (a code or access_denied), the rest the 400 page."""
    c = Client(oas)
    ru = c.push_ok("conf1", Pkce(), state="mixed")
    pages = [c.authorize_uri("conf1", ru) for _ in range(20)]
    results = run_parallel(20, lambda i: closing(c).decide(
        consent_form(pages[i]), "allow" if i % 2 else "deny"))
    redirects = [r for r in results if r.status_code == 302]
    assert len(redirects) == 1, [r.status_code for r in results]
    base, q = location_query(redirects[0])
    assert base == "https://rp1.test/cb" and q["state"] == "mixed"
    assert ("code" in q) != ("error" in q)
    if "error" in q:
        assert q["error"] == "access_denied"
    for r in results:
        if r.status_code != 302:
            assert_error_page(r, 400, "invalid_request_uri")
    assert codes_issued(oas) == (1 if "code" in q else 0)
    assert_error_page(c.authorize_uri("conf1", ru), 400, "invalid_request_uri")


@pytest.mark.catalogue("X05")
def test_concurrent_pushes_distinct_and_usable(oas):
    """40 clients pushing at once: 40 distinct request_uris, each usable once."""
    c = Client(oas)
    pkce = Pkce()
    results = run_parallel(40, lambda i: closing(c).push(
        "fp1", pkce, state=f"s{i}"))
    uris = []
    for r in results:
        assert r.status_code == 201, r.text
        uris.append(r.json()["request_uri"])
    assert len(set(uris)) == 40
    for i in (0, 17, 39):
        q = c.callback(c.authorize_uri("fp1", uris[i]), base="https://fp.test/cb")
        assert q["state"] == f"s{i}"
