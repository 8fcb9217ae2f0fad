"""Issue 3: /authorize errors, each with its exact code and its redirect / no-redirect
behaviour (SECURITY.md group A: A03-A10, plus audience/resource/prompt rules)."""

import os
import random
import string
import urllib.parse

import pytest

from client import (RFC7636_CHALLENGE, Client, assert_error_page, assert_error_redirect,
                    assert_json_error, b64url, consent_form, redirect_params)
from oauth_conf import CLIENTS, RESOURCE

CH = RFC7636_CHALLENGE
RP1 = "https://rp1.test/cb"

A03_MISMATCHES = [
    "https://rp1.test/cb/", "https://rp1.test/cb/x", "https://rp1.test/CB", "https://RP1.test/cb",
    "https://rp1.test:443/cb", "http://rp1.test/cb", "https://rp1.test/cb?x=1",
    "https://rp1.test/cb?code=attacker", "https://rp1.test/cb#f", "https://rp1.test/cb%2F..%2Fevil",
    "https://rp1.test/cb/..%252Fevil", "https://rp1.test/cb/;/../../evil",
    "https://rp1.test/cb%0A%0D/../evil", "https://rp1.test/cb%00.evil.test",
    "https://rp1.test.evil.test/cb", "https://rp1.test@evil.test/cb",
    "https://evil.test\\@rp1.test/cb", "//evil.test/cb", "/cb", " https://rp1.test/cb",
    "https://rp1.test/cb ", "javascript:alert(1)//https://rp1.test/cb",
    "https://rp1.t\u0435st/cb", "https://rp2.test/cb", "https://spa.test/cb",
]


def params(f, client_id="conf1", **kw):
    kw.setdefault("challenge", CH)
    return f.authz_params(client_id=client_id, **kw)


def assert_no_link_to(r, uri):
    assert f'href="{uri}' not in r.text and "href='" not in r.text


# ---- A03 -----------------------------------------------------------------------------------

@pytest.mark.catalogue("A03")
def test_redirect_uri_mismatch_battery(oas):
    f = Client(oas)
    for x in A03_MISMATCHES:
        r = f.authorize(params(f, redirect_uri=x, state="s"))
        assert_error_page(r, 400)
        assert_no_link_to(r, x)
    # decoded control characters and NUL inside the value: still a page, never a redirect
    for x in ["https://rp1.test/cb\x00.evil.test", "https://rp1.test/cb\r\n/../evil"]:
        r = f.authorize(params(f, redirect_uri=x, state="s"))
        assert_error_page(r, 400)
    # the registered value itself still works afterwards
    f.get_code("conf1", redirect_uri=RP1)


@pytest.mark.catalogue("A03")
def test_mismatch_battery_through_par(oas):
    f = Client(oas)
    for x in A03_MISMATCHES:
        r = f.s.post(f.url("/oauth/par"), auth=("conf1", CLIENTS["conf1"]["secret"]),
                     data=params(f, redirect_uri=x), timeout=10)
        assert_json_error(r, 400, "invalid_request")


# ---- A04 / A05 -----------------------------------------------------------------------------

@pytest.mark.catalogue("A04")
def test_omitted_redirect_uri(oas):
    f = Client(oas)
    # (a) two registered URIs: page
    p = params(f, "conf2", scope="openid")
    del p["redirect_uri"]
    assert_error_page(f.authorize(p), 400)
    # (b) one registered URI, OpenID Connect request: page (OIDC requires redirect_uri)
    p = params(f, "conf1", scope="openid api.read")
    del p["redirect_uri"]
    assert_error_page(f.authorize(p), 400)
    # (b') one registered URI, OAuth-only request: the single URI is used, and the token
    # request then succeeds without redirect_uri
    g = f.get_code("conf1", scope="api.read", redirect_uri=None)
    assert g["redirect_uri"] is None
    r = f.redeem(g)
    assert r.status_code == 200, r.text


@pytest.mark.catalogue("A04")
def test_omitted_redirect_uri_location(oas):
    f = Client(oas)
    p = params(f, "conf1", scope="api.read", state="st4")
    del p["redirect_uri"]
    form = consent_form(f.authorize(p))
    r = f.decide(form)
    q = redirect_params(r, RP1)
    assert q["code"] and q["state"] == "st4" and q["iss"] == oas.issuer


@pytest.mark.catalogue("A05")
def test_client_problems_give_pages(oas):
    f = Client(oas)
    p = params(f)
    del p["client_id"]
    assert_error_page(f.authorize(p), 400)
    for cid in ["nosuch", "off", "CONF1", "conf1 ", "conf1\x00x"]:
        assert_error_page(f.authorize({**params(f), "client_id": cid}), 400)
    # (d) conf1 with a URI registered for conf2: no redirect to either
    assert_error_page(f.authorize(params(f, redirect_uri="https://rp2.test/cb")), 400)
    # the page names the problem but not as a link
    r = f.authorize({**params(f), "client_id": "<b>nosuch</b>"})
    assert_error_page(r, 400)
    assert "<b>nosuch</b>" not in r.text


# ---- A06 / A07 -----------------------------------------------------------------------------

@pytest.mark.catalogue("A06")
def test_response_type(oas):
    f = Client(oas)
    p = params(f, state="rt")
    del p["response_type"]
    assert_error_redirect(oas, f.authorize(p), "invalid_request", state="rt", base=RP1)
    for rt in ["token", "code id_token", "code token", "foo", "CODE", "id_token", "code code"]:
        r = f.authorize({**params(f, state="rt"), "response_type": rt})
        assert_error_redirect(oas, r, "unsupported_response_type", state="rt", base=RP1)
    # without a user: Apache asks for authentication first, nothing goes to the client
    r = f.authorize({**params(f, state="rt"), "response_type": "token"}, user=None)
    assert r.status_code == 401 and "Location" not in r.headers


@pytest.mark.catalogue("A07")
def test_scope_not_allowed(oas):
    f = Client(oas)
    for scope in ["openid admin.all", "nope", "api.write", "openid offline_access admin"]:
        r = f.authorize(params(f, scope=scope, state="sc"))
        assert_error_redirect(oas, r, "invalid_scope", state="sc", base=RP1)
    # conf2 may not ask for api.read nor offline_access
    r = f.authorize(params(f, "conf2", scope="openid api.read", state="sc2"))
    assert_error_redirect(oas, r, "invalid_scope", state="sc2", base="https://rp2.test/cb")
    # without a user: authentication first
    r = f.authorize(params(f, scope="nope"), user=None)
    assert r.status_code == 401 and "Location" not in r.headers


def test_audience_and_resource_errors(oas):
    f = Client(oas)
    # conf2 has no audience: invalid_scope; an unknown resource too
    r = f.authorize(params(f, "conf2", scope="openid", audience=RESOURCE, state="a1"))
    assert_error_redirect(oas, r, "invalid_scope", state="a1", base="https://rp2.test/cb")
    r = f.authorize(params(f, audience="urn:test:other", state="a2"))
    assert_error_redirect(oas, r, "invalid_scope", state="a2", base=RP1)
    r = f.authorize(params(f, resource="urn:test:other", state="a2"))
    assert_error_redirect(oas, r, "invalid_scope", state="a2", base=RP1)
    # audience and resource naming different resources
    r = f.authorize(params(f, audience=RESOURCE, resource="urn:test:other", state="a3"))
    assert_error_redirect(oas, r, "invalid_target", state="a3", base=RP1)
    # resource repeated
    p = list(params(f, state="a4").items()) + [("resource", RESOURCE), ("resource", RESOURCE)]
    assert_error_redirect(oas, f.authorize(p), "invalid_target", state="a4", base=RP1)
    # the same resource named both ways is fine
    g = f.get_code("conf1", scope="api.read", audience=RESOURCE, resource=RESOURCE)
    t = f.redeem(g).json()
    assert f.verify_jwt(t["access_token"])[1]["aud"] == RESOURCE


def test_other_redirected_errors(oas):
    f = Client(oas)
    cases = [
        ({"prompt": "bogus"}, "invalid_request"),
        ({"prompt": "none consent"}, "invalid_request"),
        ({"max_age": "-1"}, "invalid_request"),
        ({"max_age": "abc"}, "invalid_request"),
        ({"response_mode": "fragment"}, "invalid_request"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
    ]
    for extra, err in cases:
        r = f.authorize({**params(f, state="o"), **extra})
        assert_error_redirect(oas, r, err, state="o", base=RP1)
        assert "#" not in r.headers["Location"]
    # parreq must use PAR
    r = f.authorize(params(f, "parreq", scope="openid", state="par"))
    assert_error_redirect(oas, r, "invalid_request", state="par", base="https://rp3.test/cb")
    # prompt=login and max_age=0 want a new sign-in, which HTTP Basic cannot give (no
    # OAuthASLoginURL): login_required (test_890_session has the rest)
    for extra in ({"prompt": "login"}, {"max_age": "0"}):
        r = f.authorize({**params(f, state="l"), **extra})
        assert_error_redirect(oas, r, "login_required", state="l", base=RP1)


# ---- A08 -----------------------------------------------------------------------------------

@pytest.mark.catalogue("A08")
def test_unknown_parameters_and_order(oas):
    f = Client(oas)
    p = list(params(f, scope="api.read openid", state="a8").items())
    p += [("extra", "foobar"), ("x-y", "z"), ("a[]", "1")]
    random.Random(8).shuffle(p)
    form = consent_form(f.authorize(p))
    q = redirect_params(f.decide(form), RP1)
    assert q["code"] and q["state"] == "a8" and q["iss"] == oas.issuer


# ---- A09 -----------------------------------------------------------------------------------

@pytest.mark.catalogue("A09")
def test_duplicate_parameters(oas):
    f = Client(oas)
    base = list(params(f, state="S").items())

    def without(name):
        return [(k, v) for k, v in base if k != name]

    # (a) state twice: invalid_request and no state at all
    r = f.authorize(without("state") + [("state", "A"), ("state", "B")])
    assert_error_redirect(oas, r, "invalid_request", state=None, base=RP1)
    # (b) scope twice, same value; (c) code_challenge twice
    r = f.authorize(base + [("scope", "openid api.read")])
    assert_error_redirect(oas, r, "invalid_request", state="S", base=RP1)
    r = f.authorize(base + [("code_challenge", CH)])
    assert_error_redirect(oas, r, "invalid_request", state="S", base=RP1)
    # response_type, code_challenge_method twice; names differing only by case are one name
    for extra in [("response_type", "code"), ("code_challenge_method", "S256"), ("STATE", "S")]:
        r = f.authorize(base + [extra])
        assert r.status_code == 302
        assert redirect_params(r, RP1)["error"] == "invalid_request"
    # an empty repeat is still a repeat
    r = f.authorize(base + [("scope", "")])
    assert_error_redirect(oas, r, "invalid_request", state="S", base=RP1)
    # (d) client_id twice, (e) redirect_uri twice, same values: page
    assert_error_page(f.authorize(base + [("client_id", "conf1")]), 400)
    assert_error_page(f.authorize(base + [("redirect_uri", RP1)]), 400)
    # (f) POST with response_type both in the query and in the body
    r = f.authorize(dict(base), method="POST",
                    raw_query="response_type=code")
    assert_error_redirect(oas, r, "invalid_request", state="S", base=RP1)


@pytest.mark.catalogue("A09")
def test_empty_parameters(oas):
    f = Client(oas)
    # (g) state= (empty): success, no state in the response
    p = params(f, scope="api.read", state="x")
    p["state"] = ""
    form = consent_form(f.authorize(p))
    q = redirect_params(f.decide(form), RP1)
    assert q["code"] and "state" not in q and q["iss"] == oas.issuer
    # (h) pub1 with code_challenge= (empty): the challenge is missing
    p = params(f, "pub1", scope="openid", state="h")
    p["code_challenge"] = ""
    del p["code_challenge_method"]
    assert_error_redirect(oas, f.authorize(p), "invalid_request", state="h",
                          base="https://spa.test/cb")
    # (i) conf2 with redirect_uri= (empty): missing with two registered → page
    p = params(f, "conf2", scope="openid")
    p["redirect_uri"] = ""
    assert_error_page(f.authorize(p), 400)
    # client_id= (empty) is a missing client: page
    p = params(f)
    p["client_id"] = ""
    assert_error_page(f.authorize(p), 400)


# ---- A10 -----------------------------------------------------------------------------------

def roundtrip_state(f, state):
    """A code response for `state` (fp1: no consent page); the decoded state from Location."""
    p = {**params(f, "fp1", scope="openid"), "state": state}
    r = f.authorize(p)
    q = redirect_params(r, "https://fp.test/cb")
    assert "code" in q
    return q.get("state")


@pytest.mark.catalogue("A10")
def test_state_fidelity(oas):
    f = Client(oas)
    s43 = "".join(random.choice(string.ascii_letters + string.digits + "-._~")
                  for _ in range(43))
    assert roundtrip_state(f, s43) == s43
    reserved = ":/?#[]@!$&'()*+,;=% \"<>\\^`{|}"
    s1k = (string.ascii_letters + string.digits + "-._~" + reserved) * 10
    s1k = s1k[:1024]
    assert roundtrip_state(f, s1k) == s1k
    for s in ["é✓", "日本語", "a b", "a+b", "𝄞"]:
        assert roundtrip_state(f, s) == s
    # a+b in a query is "a b"; a%2Bb is "a+b"
    for raw, want in [("a+b", "a b"), ("a%2Bb", "a+b"), ("%C3%A9%E2%9C%93", "é✓")]:
        p = params(f, "fp1", scope="openid")
        del p["state"]
        r = f.authorize(p, raw_query="state=" + raw)
        q = redirect_params(r, "https://fp.test/cb")
        assert q["state"] == want and "code" in q
        # Location keeps it percent-encoded (no raw space or '+' ambiguity in the header)
        assert " " not in r.headers["Location"]


@pytest.mark.catalogue("A10")
def test_long_state_and_nonce(oas):
    f = Client(oas)
    # ~7 KB: URL just under LimitRequestLine (8190): exact echo or invalid_request
    s7 = b64url(os.urandom(5200))[:7000]
    p = {**params(f, "fp1", scope="openid"), "state": s7}
    r = f.authorize(p)
    if r.status_code == 302:
        q = redirect_params(r, "https://fp.test/cb")
        assert q.get("state") == s7 or q.get("error") == "invalid_request"
    else:
        assert_error_page(r, 400)
    # ~9 KB: 414 from httpd
    s9 = "s" * 9000
    r = f.authorize({**params(f, "fp1", scope="openid"), "state": s9})
    assert r.status_code == 414
    assert "Location" not in r.headers
    # nonce of 64 and 384 chars: returned unchanged in the ID token
    for n in (64, 384):
        nonce = ("N" + b64url(os.urandom(400)))[:n]
        g = f.get_code("fp1", scope="openid", nonce=nonce)
        t = f.redeem(g).json()
        assert f.verify_jwt(t["id_token"])[1]["nonce"] == nonce


def test_errors_use_the_registered_uri_with_query(oas):
    f = Client(oas)
    r = f.authorize(params(f, "conf2", redirect_uri="https://rp2.test/cb?tenant=a",
                           scope="nope", state="t"))
    q = assert_error_redirect(oas, r, "invalid_scope", state="t",
                              base="https://rp2.test/cb?tenant=a")
    assert q["tenant"] == "a"
    assert r.headers["Location"].count("?") == 1
    assert "no-store" in r.headers.get("Cache-Control", "")


@pytest.mark.catalogue("B08")
def test_error_description_never_reflects_input(oas):
    f = Client(oas)
    evil = 'x"<script>alert(1)</script>\\'
    r = f.authorize({**params(f, state="e"), "prompt": evil})
    q = assert_error_redirect(oas, r, "invalid_request", state="e", base=RP1)
    assert "script" not in q.get("error_description", "")
    # state is echoed exactly, percent-encoded in the header
    r = f.authorize({**params(f), "state": evil, "response_type": "token"})
    q = assert_error_redirect(oas, r, "unsupported_response_type", state=evil, base=RP1)
    loc = r.headers["Location"]
    assert "<" not in loc and '"' not in loc and "\\" not in loc


@pytest.mark.catalogue("A07")
@pytest.mark.parametrize("user", ["alice", "bob"])
def test_errors_do_not_depend_on_user(oas, user):
    f = Client(oas)
    r = f.authorize(params(f, scope="nope", state="u"), user=user)
    assert_error_redirect(oas, r, "invalid_scope", state="u", base=RP1)
    q = redirect_params(r)
    assert urllib.parse.unquote(q["iss"]) == oas.issuer
