"""Pushed Authorization Requests (issue 4, RFC 9126): the second diagram end to end
(seeds/002_470903fbc0ab66b1.txt) for confidential and public clients, and the catalogue's
P01, P05 (b, c), P08, P09 (SECURITY.md §6)."""


import pytest

from client import (URN, Client, Pkce, assert_error_page, b64url_decode, codes_issued, consent_form,
                    is_consent_page, jwt_header_payload, location_query, request_uri)
from oauth_conf import CLIENTS, RESOURCE, standard_conf


def check_tokens(h, t, client, scope, aud, nonce=None):
    """A 200 token response from the code flow: shape, access token and ID token claims."""
    assert t.status_code == 200, (t.status_code, t.text)
    assert "no-store" in t.headers.get("Cache-Control", "")
    body = t.json()
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expires_in"], int) and body["expires_in"] > 0
    assert set(body["scope"].split()) == set(scope.split())
    hdr, at = jwt_header_payload(body["access_token"])
    assert hdr["typ"].lower() == "at+jwt"
    assert at["iss"] == h.issuer
    assert at["sub"] == "alice"
    assert at["client_id"] == client
    assert at["aud"] == aud or at["aud"] == [aud], at
    assert set(at["scope"].split()) == set(scope.split())
    assert "id_token" in body
    _, idt = jwt_header_payload(body["id_token"])
    assert idt["iss"] == h.issuer and idt["sub"] == "alice"
    assert idt["aud"] == client or idt["aud"] == [client], idt
    if nonce is not None:
        assert idt["nonce"] == nonce
    return body, at, idt


@pytest.mark.catalogue("P01")
def test_confidential_basic_whole_diagram(oas):
    """conf1 (client_secret_basic): PAR → 201 → /authorize with client_id + request_uri →
    consent → code with the pushed state and iss → token with access and ID token."""
    c = Client(oas)
    pkce = Pkce()
    r = c.push("conf1", pkce, state="xyzABC123", nonce="n-0S6_WzA2Mj",
               scope="openid profile api.read")
    ru = request_uri(r)
    assert r.json()["expires_in"] == 60                 # the default OAuthASRequestURILifetime
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    # 256-bit random part (issue 4), at least 128 bits (P01)
    assert len(b64url_decode(ru[len(URN):])) >= 16

    page = c.authorize_uri("conf1", ru)
    assert is_consent_page(page), page.text[:300]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert "no-store" in page.headers["Cache-Control"]
    assert "conf1" in page.text
    before = codes_issued(oas)
    r = c.approve(page)
    q = c.callback(r, base="https://rp1.test/cb")
    assert q["state"] == "xyzABC123"
    assert set(q) == {"code", "state", "iss"}
    assert codes_issued(oas) == before + 1

    t = c.redeem(q["code"], pkce.verifier, "conf1")
    check_tokens(oas, t, "conf1", "openid profile api.read", oas.issuer, nonce="n-0S6_WzA2Mj")


def test_confidential_post_as_in_the_diagram(oas):
    """conf2 (client_secret_post): client_id and client_secret in the PAR body, exactly as
    the diagram's curl; the token request carries them in the body too."""
    c = Client(oas)
    pkce = Pkce()
    data = {"client_id": "conf2", "client_secret": CLIENTS["conf2"]["secret"],
            "redirect_uri": "https://rp2.test/cb?tenant=a", "scope": "openid profile",
            "response_type": "code", "state": "st-conf2",
            "code_challenge": pkce.challenge, "code_challenge_method": "S256"}
    r = c.s.post(oas.issuer + "/oauth/par", data=data,
                 headers={"content-type": "application/x-www-form-urlencoded"})
    ru = request_uri(r)
    r = c.authorize_uri("conf2", ru)
    r = c.approve(r)
    base, q = location_query(r)
    # the registered URI with its own query kept, the response parameters added
    assert base == "https://rp2.test/cb"
    assert q["tenant"] == "a" and q["state"] == "st-conf2" and q["iss"] == oas.issuer
    t = c.s.post(oas.issuer + "/oauth/token", data={
        "grant_type": "authorization_code", "client_id": "conf2",
        "client_secret": CLIENTS["conf2"]["secret"], "code": q["code"],
        "redirect_uri": "https://rp2.test/cb?tenant=a", "code_verifier": pkce.verifier})
    check_tokens(oas, t, "conf2", "openid profile", oas.issuer)


def test_public_client_with_audience(oas):
    """pub1 (public, client_id only) with audience=urn:test:api: the access token's aud is the
    resource."""
    c = Client(oas)
    pkce = Pkce()
    ru = c.push_ok("pub1", pkce, scope="openid api.read", audience=RESOURCE, state="pub-S")
    r = c.authorize_uri("pub1", ru)
    consent_form(r)
    assert RESOURCE in r.text                            # the audience is shown to the user
    q = c.callback(c.approve(r), base="https://spa.test/cb")
    assert q["state"] == "pub-S"
    t = c.redeem(q["code"], pkce.verifier, "pub1")
    check_tokens(oas, t, "pub1", "openid api.read", RESOURCE)


def test_confidential_audience_and_resource(oas):
    """conf1 with audience (as in the diagram) and, separately, with resource (RFC 8707)."""
    c = Client(oas)
    for name in ("audience", "resource"):
        pkce = Pkce()
        ru = c.push_ok("conf1", pkce, scope="openid api.read", prompt="consent",
                       **{name: RESOURCE})
        q = c.callback(c.authorize_uri_and_approve("conf1", ru), base="https://rp1.test/cb")
        t = c.redeem(q["code"], pkce.verifier, "conf1")
        check_tokens(oas, t, "conf1", "openid api.read", RESOURCE)


def test_custom_request_uri_lifetime(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(h, OAuthASRequestURILifetime=37))
    c = Client(h)
    r = c.push("conf1", Pkce())
    request_uri(r)
    assert r.json()["expires_in"] == 37


@pytest.mark.catalogue("P01")
def test_many_pushes_distinct(oas):
    """P01: 200 pushes give 200 distinct, well-formed request_uris."""
    c = Client(oas)
    pkce = Pkce()
    seen = set()
    for _ in range(200):
        seen.add(c.push_ok("conf1", pkce))
    assert len(seen) == 200
    # and the last one still works
    q = c.callback(c.authorize_uri_and_approve("conf1", seen.pop()))
    assert "code" in q


@pytest.mark.catalogue("P05")
def test_reload_before_approval(oas):
    """P05 b: the /authorize URL opened twice before approving shows the consent page both
    times; approving gives exactly one code, and the other page's form is then dead."""
    c = Client(oas)
    pkce = Pkce()
    ru = c.push_ok("conf1", pkce, state="reload")
    p1 = c.authorize_uri("conf1", ru)
    p2 = c.authorize_uri("conf1", ru)
    assert is_consent_page(p1) and is_consent_page(p2)
    assert consent_form(p1)["hidden"]["txn"] != consent_form(p2)["hidden"]["txn"]
    before = codes_issued(oas)
    q = c.callback(c.approve(p2), base="https://rp1.test/cb")
    assert q["state"] == "reload"
    # the first page's form: the request_uri is used up now, no second code
    r = c.approve(p1)
    assert "code=" not in r.headers.get("Location", "")
    assert_error_page(r, 400, "invalid_request_uri")
    assert codes_issued(oas) == before + 1
    assert c.redeem(q["code"], pkce.verifier, "conf1").status_code == 200


@pytest.mark.catalogue("P05")
def test_head_and_cookieless_get_change_nothing(oas):
    """P05 c: a HEAD of the /authorize URL and an unauthenticated GET (link scanner,
    prefetch) do not use the request_uri up; the user's visit then works."""
    c = Client(oas)
    pkce = Pkce()
    ru = c.push_ok("conf1", pkce, state="scan")
    for _ in range(3):
        r = c.authorize_uri("conf1", ru, method="HEAD")
        assert r.status_code == 200 and "Location" not in r.headers and not r.content
    # a scanner without the user's credentials: httpd's 401, the module is not reached
    r = c.session().get(f"{oas.issuer}/authorize", params={"client_id": "conf1",
                                                           "request_uri": ru},
                        allow_redirects=False)
    assert r.status_code == 401 and "Location" not in r.headers
    q = c.callback(c.authorize_uri_and_approve("conf1", ru), base="https://rp1.test/cb")
    assert q["state"] == "scan"
    assert c.redeem(q["code"], pkce.verifier, "conf1").status_code == 200


@pytest.mark.catalogue("P08")
def test_outer_parameters_ignored(oas):
    """P08: parameters beside client_id and request_uri are ignored; the pushed ones count."""
    c = Client(oas)
    pkce, other = Pkce(), Pkce()
    ru = c.push_ok("conf1", pkce, state="PUSHED", scope="openid profile")
    outer = {"redirect_uri": "https://evil.test/cb", "scope": "openid api.read email",
             "state": "OUTER", "response_type": "token", "code_challenge": other.challenge,
             "code_challenge_method": "plain", "audience": RESOURCE, "prompt": "none"}
    r = c.authorize_uri("conf1", ru, extra=outer)
    assert "evil.test" not in r.headers.get("Location", "")
    assert is_consent_page(r), (r.status_code, r.headers.get("Location"))
    assert "api.read" not in r.text and RESOURCE not in r.text   # pushed scope only
    r = c.approve(r)
    q = c.callback(r, base="https://rp1.test/cb")
    assert q["state"] == "PUSHED"
    assert "access_token" not in q and "error" not in q
    # OTHER's verifier does not redeem the code (and does not burn it) ...
    bad = c.redeem(q["code"], other.verifier, "conf1")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    # ... the pushed one does, with the pushed scope and no audience
    t = c.redeem(q["code"], pkce.verifier, "conf1")
    check_tokens(oas, t, "conf1", "openid profile", oas.issuer)

    # and a plain second flow with only client_id + request_uri succeeds
    pkce = Pkce()
    ru = c.push_ok("conf1", pkce, state="PLAIN")
    q = c.callback(c.authorize_uri_and_approve("conf1", ru), base="https://rp1.test/cb")
    assert q["state"] == "PLAIN"


@pytest.mark.catalogue("P09")
def test_par_required_client(oas):
    """P09: parreq (OAuthASRequirePAR On in its block): a plain /authorize is refused with
    invalid_request (redirected: client and redirect URI are known), the PAR flow works."""
    c = Client(oas)
    pkce = Pkce()
    before = codes_issued(oas)
    r = c.authorize_uri(None, None, extra=c.par_params("parreq", pkce, client_id="parreq",
                                                   state="plain-S"))
    base, q = location_query(r)
    assert base == "https://rp3.test/cb"
    assert q["error"] == "invalid_request" and q["state"] == "plain-S"
    assert q["iss"] == oas.issuer and "code" not in q
    assert codes_issued(oas) == before

    ru = c.push_ok("parreq", pkce, state="par-S")
    q = c.callback(c.authorize_uri_and_approve("parreq", ru), base="https://rp3.test/cb")
    assert q["state"] == "par-S"
    t = c.redeem(q["code"], pkce.verifier, "parreq")
    check_tokens(oas, t, "parreq", "openid profile", oas.issuer)

    # metadata: the PAR endpoint, and PAR not required server-wide
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        md = c.s.get(oas.issuer + path).json()
        assert md["pushed_authorization_request_endpoint"] == oas.issuer + "/oauth/par"
        assert md["require_pushed_authorization_requests"] is False
    # a client without RequirePAR still may use plain /authorize
    r = c.authorize_uri(None, None, extra=c.par_params("conf1", pkce, client_id="conf1"))
    assert is_consent_page(r)


@pytest.mark.catalogue("P09")
def test_server_wide_require_par(httpd_factory):
    """OAuthASRequirePAR On at server level: metadata says so; plain /authorize of any client
    → invalid_request redirect; PAR works."""
    h = httpd_factory(lambda h: standard_conf(h, OAuthASRequirePAR="On"))
    c = Client(h)
    md = c.s.get(h.issuer + "/.well-known/openid-configuration").json()
    assert md["require_pushed_authorization_requests"] is True
    assert md["pushed_authorization_request_endpoint"] == h.issuer + "/oauth/par"
    pkce = Pkce()
    for client in ("conf1", "pub1"):
        r = c.authorize_uri(None, None, extra=c.par_params(client, pkce, client_id=client,
                                                       state="S"))
        base, q = location_query(r)
        assert base == CLIENTS[client]["redirect_uris"][0]
        assert q["error"] == "invalid_request" and "code" not in q and q["state"] == "S"
    ru = c.push_ok("pub1", pkce)
    q = c.callback(c.authorize_uri_and_approve("pub1", ru), base="https://spa.test/cb")
    assert c.redeem(q["code"], pkce.verifier, "pub1").status_code == 200
    assert codes_issued(h) == 1


def test_client_id_in_body_beside_basic(oas):
    """INTERFACE.md: PAR may carry client_id in the body beside Basic when both name the same
    client (RFC 9126's example)."""
    c = Client(oas)
    pkce = Pkce()
    ru = c.push_ok("conf1", pkce, client_id="conf1", state="both")
    q = c.callback(c.authorize_uri_and_approve("conf1", ru), base="https://rp1.test/cb")
    assert q["state"] == "both"
    assert c.redeem(q["code"], pkce.verifier, "conf1").status_code == 200


def test_remembered_consent_then_prompt_consent(oas):
    """A PAR flow after an approved one skips the page (remembered consent); a pushed
    prompt=consent shows it again; the request_uri lives until the code is issued."""
    c = Client(oas)
    pkce = Pkce()
    ru = c.push_ok("conf1", pkce)
    c.callback(c.authorize_uri_and_approve("conf1", ru))
    ru = c.push_ok("conf1", pkce)
    r = c.authorize_uri("conf1", ru)
    assert r.status_code == 302 and "code" in c.callback(r)
    ru = c.push_ok("conf1", pkce, prompt="consent")
    assert is_consent_page(c.authorize_uri("conf1", ru))


def test_no_secrets_in_logs(oas):
    """U5: a PAR flow for each kind of client leaves no client secret, code_verifier, code or
    token in error_log or access_log."""
    c = Client(oas)
    secrets_seen = [CLIENTS["conf1"]["secret"], CLIENTS["conf2"]["secret"]]
    for client in ("conf1", "conf2", "pub1"):
        pkce = Pkce()
        ru = c.push_ok(client, pkce)
        q = c.callback(c.authorize_uri_and_approve(client, ru))
        t = c.redeem(q["code"], pkce.verifier, client).json()
        secrets_seen += [pkce.verifier, q["code"], t["access_token"], t["id_token"]]
    # a failed push with a wrong secret is not logged either
    c.s.post(oas.issuer + "/oauth/par", data=c.par_params("conf1", Pkce()),
             auth=("conf1", "wrong-secret-zz81"))
    secrets_seen.append("wrong-secret-zz81")
    logs = oas.error_log() + open(oas.accesslog).read()
    assert "POST /oauth/par" in logs
    for s in secrets_seen:
        assert s not in logs


@pytest.mark.catalogue("P08")
def test_repeated_outer_parameter_with_request_uri(oas):
    """/authorize?client_id&request_uri with another outer parameter repeated: RFC 9126 §4
    uses only the pushed parameters, so the repetition is ignored like the rest of the query
    and the pushed request goes on (consent page); repeating client_id is still refused."""
    c = Client(oas)
    pkce = Pkce()
    ru = c.push_ok("conf1", pkce, state="pushed")
    r = c.authorize(raw_query="client_id=conf1&request_uri="
                    + ru + "&client_id=conf1")
    assert r.status_code == 400 and "Location" not in r.headers
    r = c.authorize(raw_query="client_id=conf1&request_uri="
                    + ru + "&state=a&state=b")
    assert r.status_code == 200 and 'name="txn"' in r.text
    assert codes_issued(oas) == 0
    q = c.callback(c.authorize_uri_and_approve("conf1", ru), base="https://rp1.test/cb")
    assert q["state"] == "pushed"
