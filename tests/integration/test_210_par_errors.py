"""Pushed Authorization Requests (issue 4): every failure. Catalogue P02, P03, P04, P05 a,
P06, P07, P10 (SECURITY.md §6), unauthorized_client, deny and error redirects on a PAR flow."""

import secrets
import socket
import threading
import time

import pytest

from client import (URN, Client, Pkce, assert_error_page, assert_json_error, codes_issued,
                    consent_form, is_consent_page, location_query)
from oauth_conf import (CLIENTS_CONF, CONF1_SECRET, CONF2_SECRET, FP1_SECRET,
                        PARREQ_SECRET, SVC1_SECRET, standard_conf)


# ---- P02: client authentication at PAR ------------------------------------------------------

@pytest.mark.catalogue("P02")
def test_client_authentication(oas):
    c = Client(oas)
    pkce = Pkce()
    url = oas.issuer + "/oauth/par"
    params = c.par_params("conf1", pkce)
    # (a) no authentication at all, and a confidential client_id without its secret
    assert_json_error(c.s.post(url, data=params), 401, "invalid_client")
    assert_json_error(c.s.post(url, data={"client_id": "conf1", **params}), 401,
                      "invalid_client")
    # (b) wrong Basic secret: 401 with WWW-Authenticate (assert_json_error checks it)
    assert_json_error(c.s.post(url, data=params, auth=("conf1", "wrong")), 401,
                      "invalid_client")
    assert_json_error(c.s.post(url, data=params, auth=("conf1", CONF2_SECRET)), 401,
                      "invalid_client")
    assert_json_error(c.s.post(url, data=params, auth=("nosuch", "x")), 401, "invalid_client")
    # (c) Basic conf1 with body client_id=conf2: never 201
    for extra in ({"client_id": "conf2"},
                  {"client_id": "conf2", "client_secret": CONF2_SECRET}):
        r = c.s.post(url, data={**params, **extra}, auth=("conf1", CONF1_SECRET))
        assert r.status_code in (400, 401), r.text
        assert_json_error(r, r.status_code)
    # Basic and client_secret in the body: two methods
    r = c.s.post(url, data={**params, "client_secret": CONF1_SECRET},
                 auth=("conf1", CONF1_SECRET))
    assert_json_error(r, 400, "invalid_request")
    # a method the client is not registered for
    assert_json_error(c.s.post(url, data={**params, "client_id": "conf1",
                                          "client_secret": CONF1_SECRET}), 401,
                      "invalid_client")
    p2 = c.par_params("conf2", pkce)
    assert_json_error(c.s.post(url, data=p2, auth=("conf2", CONF2_SECRET)), 401,
                      "invalid_client")
    assert_json_error(c.s.post(url, data={**p2, "client_id": "conf2",
                                          "client_secret": "wrong"}), 401, "invalid_client")
    # a public client cannot be impersonated with a secret, nor Basic
    p3 = c.par_params("pub1", pkce)
    assert_json_error(c.s.post(url, data={**p3, "client_id": "pub1", "client_secret": "x"}),
                      401, "invalid_client")
    # body client_id equal to the Basic client is fine
    assert c.s.post(url, data={**params, "client_id": "conf1"},
                    auth=("conf1", CONF1_SECRET)).status_code == 201
    # (d) the public client with client_id alone
    assert c.push("pub1", pkce).status_code == 201
    assert codes_issued(oas) == 0


# ---- P03: validation at push time -----------------------------------------------------------

P03_CASES = [
    ("a_request_uri", {"request_uri": URN + "x"}, 400, "invalid_request"),
    ("b_unregistered_redirect", {"redirect_uri": "https://evil.test/cb"}, 400,
     "invalid_request"),
    ("b2_redirect_prefix", {"redirect_uri": "https://rp1.test/cb/x"}, 400, "invalid_request"),
    ("c_no_response_type", {"response_type": None}, 400, "invalid_request"),
    ("d_response_type_token", {"response_type": "token"}, 400, "unsupported_response_type"),
    ("d2_code_id_token", {"response_type": "code id_token"}, 400,
     "unsupported_response_type"),
    ("e_scope_nope", {"scope": "openid nope"}, 400, "invalid_scope"),
    ("e2_scope_other_client", {"scope": "openid email api.write"}, 400, "invalid_scope"),
    ("e3_audience_unknown", {"audience": "urn:other:api"}, 400, "invalid_scope"),
    ("f_no_code_challenge", {"code_challenge": None, "code_challenge_method": None}, 400,
     "invalid_request"),
    ("g_plain", {"code_challenge_method": "plain"}, 400, "invalid_request"),
    ("g2_no_method", {"code_challenge_method": None}, 400, "invalid_request"),
    ("g3_short_challenge", {"code_challenge": "abc"}, 400, "invalid_request"),
    ("request_object", {"request": "eyJhbGciOiJub25lIn0.e30."}, 400, "request_not_supported"),
    ("response_mode_fragment", {"response_mode": "fragment"}, 400, "invalid_request"),
    ("prompt_bad", {"prompt": "bogus"}, 400, "invalid_request"),
    ("audience_resource_differ", {"audience": "urn:test:api", "resource": "urn:x"}, 400,
     "invalid_target"),
]


@pytest.mark.catalogue("A06", "P03", "K01")
@pytest.mark.parametrize("name,params,status,error", P03_CASES, ids=[x[0] for x in P03_CASES])
def test_validation_errors(oas, name, params, status, error):
    c = Client(oas)
    r = c.push("conf1", Pkce(), **{"scope": "openid api.read", **params})
    assert "Location" not in r.headers
    assert_json_error(r, status, error)


@pytest.mark.catalogue("P03", "B03")
def test_repeated_parameters(oas):
    """P03 h: a repeated parameter (any, even with an empty or equal value) → invalid_request."""
    c = Client(oas)
    pkce = Pkce()
    base = "&".join(f"{k}={v}" for k, v in c.par_params("conf1", pkce, state="S").items())
    for extra in ("state=S", "state=T", "state=", "scope=openid", "redirect_uri=x",
                  "client_id=conf1&client_id=conf1", "code_challenge=" + pkce.challenge, "STATE=S",
                  "response_type=code", "audience=urn:test:api&audience=urn:test:api"):
        r = c.s.post(oas.issuer + "/oauth/par", data=base + "&" + extra,
                     auth=("conf1", CONF1_SECRET),
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert "Location" not in r.headers
        assert r.status_code == 400, (extra, r.text)
        assert_json_error(r, 400, "invalid_request")


@pytest.mark.catalogue("P03")
def test_no_interaction_errors_at_push(oas):
    """RFC 9126 §2.3: interaction errors are for /authorize, never PAR: prompt=none pushes
    fine and fails (redirected) only when used."""
    c = Client(oas)
    r = c.push("conf1", Pkce(), prompt="none", state="pn")
    assert r.status_code == 201


def test_unauthorized_client(httpd_factory):
    """A client without the authorization_code grant: unauthorized_client at push time. svc1
    (client_credentials only, no redirect URI) is refused too."""
    extra = """
<OAuthASClient cc2>
    OAuthASClientSecret "cc2-secret"
    OAuthASAuthMethod client_secret_basic
    OAuthASRedirectURI https://cc2.test/cb
    OAuthASScope api.read
    OAuthASGrantType client_credentials
</OAuthASClient>
"""
    h = httpd_factory(lambda h: standard_conf(h, extra=extra))
    c = Client(h)
    pkce = Pkce()
    params = {"response_type": "code", "redirect_uri": "https://cc2.test/cb",
              "scope": "api.read", "code_challenge": pkce.challenge,
              "code_challenge_method": "S256"}
    r = c.s.post(h.issuer + "/oauth/par", data=params, auth=("cc2", "cc2-secret"))
    assert_json_error(r, 400, "unauthorized_client")
    params.pop("redirect_uri")
    r = c.s.post(h.issuer + "/oauth/par", data=params, auth=("svc1", SVC1_SECRET))
    body = assert_json_error(r, 400)
    assert body["error"] in ("unauthorized_client", "invalid_request")
    # the same client at the front channel: the error page (no redirect URI to trust)
    for q in ("client_id=svc1&response_type=code",
              "client_id=svc1&response_type=code&redirect_uri=https%3A%2F%2Fcc2.test%2Fcb"):
        assert_error_page(c.authorize(raw_query=q), 400)
    # cc2 has a redirect URI: unauthorized_client is redirected there
    r = c.authorize(raw_query="client_id=cc2&response_type=code&state=u"
                    "&redirect_uri=https%3A%2F%2Fcc2.test%2Fcb")
    base, q = location_query(r)
    assert base == "https://cc2.test/cb" and q["error"] == "unauthorized_client"
    assert q["state"] == "u" and "code" not in q


# ---- P04: bound to the pushing client -------------------------------------------------------

@pytest.mark.catalogue("P04")
def test_request_uri_bound_to_client(oas):
    c = Client(oas)
    pkce = Pkce()
    ru = c.push_ok("conf1", pkce, state="mine")
    for client_id in ("conf2", "pub1", "fp1", "nosuch", "CONF1", "conf1 "):
        r = c.authorize_uri(client_id, ru)
        assert_error_page(r, 400)
        assert "rp1.test" not in r.text
    assert_error_page(c.authorize_uri("conf2", ru), 400, "invalid_request_uri")
    # no client_id at all
    assert_error_page(c.authorize_uri(None, ru), 400)
    assert codes_issued(oas) == 0
    # those attempts did not use the request_uri up for its client
    q = c.callback(c.authorize_uri_and_approve("conf1", ru), base="https://rp1.test/cb")
    assert q["state"] == "mine"
    # a request_uri pushed by fp1 (consent Off) is not redeemed by conf1 either
    ru = c.push_ok("fp1", pkce)
    assert_error_page(c.authorize_uri("conf1", ru), 400, "invalid_request_uri")
    assert codes_issued(oas) == 1


# ---- P05 a: one-time use ----------------------------------------------------------------------

@pytest.mark.catalogue("P05")
def test_reuse_after_completed_flow(oas):
    c = Client(oas)
    pkce = Pkce()
    ru = c.push_ok("conf1", pkce)
    q = c.callback(c.authorize_uri_and_approve("conf1", ru))
    assert c.redeem(q["code"], pkce.verifier, "conf1").status_code == 200
    n = codes_issued(oas)
    for _ in range(2):
        r = c.authorize_uri("conf1", ru)
        assert_error_page(r, 400, "invalid_request_uri")
    # also with consent remembered and with fp1 (no consent page at all)
    ru = c.push_ok("fp1", pkce)
    q = c.callback(c.authorize_uri("fp1", ru), base="https://fp.test/cb")
    assert_error_page(c.authorize_uri("fp1", ru), 400, "invalid_request_uri")
    assert codes_issued(oas) == n + 1


@pytest.mark.catalogue("H03")
def test_deny_uses_request_uri_up(oas):
    """Deny at consent on a PAR flow → access_denied with the pushed state; the request_uri
    is dead afterwards."""
    c = Client(oas)
    ru = c.push_ok("conf1", Pkce(), state="deny-S")
    page = c.authorize_uri("conf1", ru)
    r = c.decide(consent_form(page), "deny")
    base, q = location_query(r)
    assert base == "https://rp1.test/cb"
    assert q["error"] == "access_denied" and q["state"] == "deny-S"
    assert q["iss"] == oas.issuer and "code" not in q
    assert_error_page(c.authorize_uri("conf1", ru), 400, "invalid_request_uri")
    # a second consent page opened before the deny is dead too
    ru = c.push_ok("conf1", Pkce())
    p1, p2 = c.authorize_uri("conf1", ru), c.authorize_uri("conf1", ru)
    location_query(c.decide(consent_form(p1), "deny"))
    r = c.approve(p2)
    assert_error_page(r, 400, "invalid_request_uri")
    assert codes_issued(oas) == 0
    # and the other way round: once a code was issued, a deny on another page sends no
    # access_denied after it (one authorization response per request_uri)
    ru = c.push_ok("conf1", Pkce(), state="after-code", prompt="consent")
    p1, p2 = c.authorize_uri("conf1", ru), c.authorize_uri("conf1", ru)
    assert "code" in c.callback(c.approve(p1))
    assert_error_page(c.decide(consent_form(p2), "deny"), 400, "invalid_request_uri")
    assert codes_issued(oas) == 1


def test_error_redirect_uses_request_uri_up(oas):
    """An error redirect ends the authorization too: pushed prompt=none without a session (a
    new browser) → login_required, then the request_uri is dead."""
    c = Client(oas)
    ru = c.push_ok("conf1", Pkce(), prompt="none", state="pn-S")
    base, q = location_query(c.authorize_uri("conf1", ru))
    assert base == "https://rp1.test/cb"
    assert q["error"] == "login_required" and q["state"] == "pn-S"
    assert q["iss"] == oas.issuer and "code" not in q
    assert_error_page(c.authorize_uri("conf1", ru), 400, "invalid_request_uri")
    assert codes_issued(oas) == 0


# ---- P06: expiry -----------------------------------------------------------------------------

@pytest.mark.catalogue("P06")
def test_expired_request_uri(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(h, OAuthASRequestURILifetime=2))
    c = Client(h)
    pkce = Pkce()
    r = c.push("conf1", pkce)
    assert r.json()["expires_in"] == 2
    ru = r.json()["request_uri"]
    ru_fp = c.push_ok("fp1", pkce)
    ru_late = c.push_ok("conf1", pkce)
    page = c.authorize_uri("conf1", ru_late)          # consent shown while still valid
    assert is_consent_page(page)
    time.sleep(3)
    assert_error_page(c.authorize_uri("conf1", ru), 400, "invalid_request_uri")
    assert_error_page(c.authorize_uri("fp1", ru_fp), 400, "invalid_request_uri")
    # approving after expiry issues no code either
    r = c.approve(page)
    assert_error_page(r, 400, "invalid_request_uri")
    assert codes_issued(h) == 0
    # a fresh push works
    ru = c.push_ok("conf1", pkce)
    assert "code" in c.callback(c.authorize_uri_and_approve("conf1", ru))


# ---- P07: forged, unknown, external ----------------------------------------------------------

class Listener:
    """A TCP listener that counts connections (no SSRF: the AS must never connect)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
                self.count += 1
                conn.close()
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.t.join()
        self.sock.close()


@pytest.mark.catalogue("P07")
def test_forged_request_uris(oas):
    c = Client(oas)
    pkce = Pkce()
    real = c.push_ok("conf1", pkce, state="real")
    tail = real[len(URN):]
    i = next(k for k, ch in enumerate(tail) if ch.isalpha())
    flipped = URN + tail[:i] + tail[i].swapcase() + tail[i + 1:]
    lst = Listener()
    try:
        forged = [
            URN + secrets.token_urlsafe(32),
            URN + secrets.token_urlsafe(16),
            URN,
            URN + "A" * 4096,
            "A" * 4096,
            flipped,
            real.upper(),
            real[:-1],
            real + "A",
            real[len(URN):],                      # the bare opaque part
            "urn:ietf:params:oauth:request_uri:" + tail + "%2e",
            f"https://127.0.0.1:{lst.port}/req.jwt",
            f"http://127.0.0.1:{lst.port}/req.jwt",
            "https://attacker.test/req.jwt",
            "http://169.254.169.254/latest/meta-data/",
            "file:///etc/passwd",
            " " + real,
        ]
        for ru in forged:
            r = c.authorize_uri("conf1", ru)
            assert_error_page(r, 400)
            assert "root:" not in r.text
        # a NUL after the real one: the malformed-request page
        assert_error_page(c.authorize(raw_query=f"client_id=conf1&request_uri="
                                      f"{real}%00"), 400)
        time.sleep(0.3)
        assert lst.count == 0
    finally:
        lst.close()
    assert codes_issued(oas) == 0
    # the empty reference is no reference (RFC 6749 §3.1): a plain request without
    # response_type, an error redirect to the registered URI at most; never a code
    r = c.authorize(raw_query="client_id=conf1&request_uri=")
    if r.status_code == 400:
        assert_error_page(r, 400)
    else:
        base, q = location_query(r)
        assert base == "https://rp1.test/cb" and q["error"] and "code" not in q
    assert codes_issued(oas) == 0
    # none of this used the real request_uri up
    q = c.callback(c.authorize_uri_and_approve("conf1", real), base="https://rp1.test/cb")
    assert q["state"] == "real"


# ---- P10: client policy changes between push and use ----------------------------------------

@pytest.mark.catalogue("A05", "P10")
def test_policy_change_after_push(httpd_factory):
    """Push for conf1 and conf2, then a graceful restart with conf1's redirect URI replaced
    and conf2 removed: both request_uris give the error page and no code; a request_uri of
    an unchanged client (pub1) still works, so the store survived the restart."""
    h = httpd_factory(standard_conf)
    c = Client(h)
    pkce = Pkce()
    ru1 = c.push_ok("conf1", pkce, state="p10")
    ru2 = c.push_ok("conf2", pkce)
    ru3 = c.push_ok("pub1", pkce, state="p10-pub")
    ru4 = c.push_ok("conf1", pkce, state="p10-scope", scope="openid api.read",
                    redirect_uri="https://rp1.test/cb")

    clients = CLIENTS_CONF.format(conf1=CONF1_SECRET, conf2=CONF2_SECRET,
                                  parreq=PARREQ_SECRET, fp1=FP1_SECRET, svc1=SVC1_SECRET)
    start = clients.index("<OAuthASClient conf2>")
    end = clients.index("</OAuthASClient>", start) + len("</OAuthASClient>")
    clients = clients[:start] + clients[end:]
    assert "rp1.test" in clients
    clients = clients.replace("OAuthASRedirectURI https://rp1.test/cb",
                              "OAuthASRedirectURI https://rp1-new.test/cb")
    h.body = lambda h: standard_conf(h, clients=False, extra=clients)
    h.graceful()
    # new connections: under prefork an old child keeps serving its keep-alive connection
    # with the old configuration until it closes (httpd's behaviour, not the module's)
    c.s = c.session()

    for ru, cid in ((ru1, "conf1"), (ru4, "conf1"), (ru2, "conf2")):
        r = c.authorize_uri(cid, ru)
        assert_error_page(r, 400)
        assert "rp1" not in r.headers.get("Location", "")
    assert codes_issued(h) == 0
    q = c.callback(c.authorize_uri_and_approve("pub1", ru3), base="https://spa.test/cb")
    assert q["state"] == "p10-pub"
    assert c.redeem(q["code"], pkce.verifier, "pub1").status_code == 200


@pytest.mark.catalogue("P10")
def test_scope_removed_after_push(httpd_factory):
    """A pushed scope the client may no longer ask for: invalid_scope (redirect: the client
    and its redirect URI are still valid), no code, and the request_uri is used up."""
    h = httpd_factory(standard_conf)
    c = Client(h)
    ru = c.push_ok("conf1", Pkce(), state="sc", scope="openid api.read")
    keep = c.push_ok("conf1", Pkce(), state="keep", scope="openid")
    clients = CLIENTS_CONF.format(conf1=CONF1_SECRET, conf2=CONF2_SECRET,
                                  parreq=PARREQ_SECRET, fp1=FP1_SECRET, svc1=SVC1_SECRET)
    old = "OAuthASScope openid profile email offline_access api.read\n    OAuthASGrantType " \
          "authorization_code refresh_token\n    OAuthASAudience urn:test:api\n</OAuthASClient>" \
          "\n<OAuthASClient conf2>"
    assert old in clients
    clients = clients.replace(old, old.replace(" api.read", "", 1))
    h.body = lambda h: standard_conf(h, clients=False, extra=clients)
    h.graceful()
    # new connections: under prefork an old child keeps serving its keep-alive connection
    # with the old configuration until it closes (httpd's behaviour, not the module's)
    c.s = c.session()
    base, q = location_query(c.authorize_uri("conf1", ru))
    assert base == "https://rp1.test/cb"
    assert q["error"] == "invalid_scope" and q["state"] == "sc" and "code" not in q
    assert_error_page(c.authorize_uri("conf1", ru), 400, "invalid_request_uri")
    assert codes_issued(h) == 0
    q = c.callback(c.authorize_uri_and_approve("conf1", keep), base="https://rp1.test/cb")
    assert q["state"] == "keep"


def test_request_uri_by_post_form(oas):
    """OIDC allows /authorize by POST: client_id + request_uri in a form body work alike, and
    a used one fails alike."""
    c = Client(oas)
    pkce = Pkce()
    ru = c.push_ok("fp1", pkce, state="post-S")
    r = c.s.post(oas.issuer + "/authorize", data={"client_id": "fp1", "request_uri": ru},
                 auth=("alice", "alice-password"), allow_redirects=False)
    q = c.callback(r, base="https://fp.test/cb")
    assert q["state"] == "post-S"
    assert c.redeem(q["code"], pkce.verifier, "fp1").status_code == 200
    r = c.s.post(oas.issuer + "/authorize", data={"client_id": "fp1", "request_uri": ru},
                 auth=("alice", "alice-password"), allow_redirects=False)
    assert_error_page(r, 400, "invalid_request_uri")


@pytest.mark.catalogue("D07")
@pytest.mark.expect_log("OAS00120")
def test_store_full_503(httpd_factory):
    """Pushes that fill the short-lived store: 503 JSON with Retry-After (never a 500); once
    the pushed requests expire, pushing works again."""
    h = httpd_factory(lambda h: standard_conf(h, OAuthASStoreSize=64,
                                              OAuthASRequestURILifetime=2))
    c = Client(h)
    pkce = Pkce()
    statuses = []
    for _ in range(200):
        r = c.push("pub1", pkce)
        statuses.append(r.status_code)
        if r.status_code == 503:
            body = assert_json_error(r, 503)
            assert body["error"] in ("temporarily_unavailable", "server_error")
            assert r.headers.get("Retry-After", "").isdigit()
            break
        assert r.status_code == 201, r.text
    assert statuses[-1] == 503 and statuses.count(201) >= 10, statuses
    deadline = time.monotonic() + 10
    while True:
        r = c.push("pub1", pkce)
        if r.status_code == 201 or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert r.status_code == 201, r.text
    q = c.callback(c.authorize_uri_and_approve("pub1", r.json()["request_uri"]))
    assert c.redeem(q["code"], pkce.verifier, "pub1").status_code == 200
