"""Two virtual hosts are two independent issuers (issue 2: Configuration): own issuer, keys and
clients; codes do not cross; server-level settings merge into a vhost that does not set them."""

from client import get_code, jwt_parts, redeem, session, verify_jws
from harness import free_port, session_key
from oauth_conf import USERS, write_htpasswd

SECRETS = {"main": "main-secret-1", "a": "vhost-a-secret-2", "b": "vhost-b-secret-3"}
REDIRECT = {"main": "https://main.test/cb", "a": "https://a.test/cb", "b": "https://b.test/cb"}
MAIN_AT_TTL = 1234
B_AT_TTL = 777


def app_client(which, extra=""):
    return f"""
<OAuthASClient app>
    OAuthASClientSecret "{SECRETS[which]}"
    OAuthASAuthMethod client_secret_basic
    OAuthASRedirectURI {REDIRECT[which]}
    OAuthASScope openid profile
    OAuthASConsent Off
</OAuthASClient>
{extra}"""


def key(h, kind):
    import shutil
    dst = h.path("conf", f"vh-{kind}.pem")
    shutil.copyfile(session_key(kind), dst)
    return dst


class VHosts:
    """Config body: the main server (TLS, h.issuer) and vhosts A and B on their own ports."""

    def __init__(self):
        self.port_a = free_port()
        self.port_b = free_port()
        while self.port_b == self.port_a:
            self.port_b = free_port()

    def issuer(self, which, h):
        return {"main": h.issuer, "a": f"http://127.0.0.1:{self.port_a}",
                "b": f"http://127.0.0.1:{self.port_b}"}[which]

    def __call__(self, h):
        pw = write_htpasswd(h.path("conf", "users.htpasswd"))
        only_a = """
<OAuthASClient only-a>
    OAuthASClientSecret "only-a-secret"
    OAuthASRedirectURI https://only-a.test/cb
    OAuthASScope openid
    OAuthASConsent Off
</OAuthASClient>
"""
        return f"""
OAuthASIssuer "{h.issuer}"
OAuthASSigningKey "{key(h, 'es256')}"
OAuthASAccessTokenLifetime {MAIN_AT_TTL}
{app_client("main")}

<Location /authorize>
    OAuthASEndpoint authorize
    AuthType Basic
    AuthName "vhosts"
    AuthUserFile "{pw}"
    Require valid-user
</Location>
<Location /oauth/token>
    OAuthASEndpoint token
</Location>
<Location /.well-known/openid-configuration>
    OAuthASEndpoint metadata
</Location>
<Location /.well-known/jwks.json>
    OAuthASEndpoint jwks
</Location>

Listen 127.0.0.1:{self.port_a}
Listen 127.0.0.1:{self.port_b}
<VirtualHost 127.0.0.1:{self.port_a}>
    ServerName a.test
    SSLEngine off
    OAuthASIssuer "http://127.0.0.1:{self.port_a}"
    OAuthASSigningKey "{key(h, 'rsa')}"
    {app_client("a", only_a)}
</VirtualHost>
<VirtualHost 127.0.0.1:{self.port_b}>
    ServerName b.test
    SSLEngine off
    OAuthASIssuer "http://127.0.0.1:{self.port_b}"
    OAuthASSigningKey "{key(h, 'ed25519')}"
    OAuthASAccessTokenLifetime {B_AT_TTL}
    {app_client("b")}
</VirtualHost>
"""


def start(httpd_factory):
    v = VHosts()
    h = httpd_factory(v)
    return h, v


def base(h, v, which):
    return v.issuer(which, h)


def sess(h, which):
    return session(h) if which == "main" else session()


def code_at(h, v, which, client="app", redirect=None):
    g = get_code(h, client, redirect_uri=redirect or REDIRECT[which], scope="openid",
                 expect_consent=False, base=base(h, v, which), sess=sess(h, which))
    return g["code"], g["verifier"], g["query"]


def redeem_at(h, v, which, code, verifier, secret, redirect):
    return redeem(h, code, verifier, auth=("app", secret), redirect_uri=redirect,
                  base=base(h, v, which), sess=sess(h, which))


def test_metadata_per_vhost(httpd_factory):
    h, v = start(httpd_factory)
    kids = {}
    for which in ("main", "a", "b"):
        iss = base(h, v, which)
        s = sess(h, which)
        m = s.get(iss + "/.well-known/openid-configuration", timeout=5).json()
        assert m["issuer"] == iss, which
        assert m["authorization_endpoint"] == iss + "/authorize"
        assert m["token_endpoint"] == iss + "/oauth/token"
        assert m["jwks_uri"] == iss + "/.well-known/jwks.json"
        jwks = s.get(m["jwks_uri"], timeout=5).json()
        assert len(jwks["keys"]) == 1, which
        kids[which] = jwks["keys"][0]
    assert kids["main"]["alg"] == "ES256"
    assert kids["a"]["alg"] == "RS256"
    assert kids["b"]["alg"] == "EdDSA"
    assert len({k["kid"] for k in kids.values()}) == 3
    # the main server's plain-http port is the same issuer as its TLS port
    m = session().get(h.base_url + "/.well-known/openid-configuration", timeout=5).json()
    assert m["issuer"] == h.issuer


def test_code_does_not_cross_vhosts(httpd_factory):
    h, v = start(httpd_factory)
    code, verifier, q = code_at(h, v, "a")
    assert q["iss"] == base(h, v, "a")

    # B knows a client "app" too, with another secret: A's code is not B's
    r = redeem_at(h, v, "b", code, verifier, SECRETS["b"], REDIRECT["a"])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    r = redeem_at(h, v, "b", code, verifier, SECRETS["b"], REDIRECT["b"])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    # A's secret does not authenticate at B (nor at the main server)
    r = redeem_at(h, v, "b", code, verifier, SECRETS["a"], REDIRECT["a"])
    assert r.status_code == 401 and r.json()["error"] == "invalid_client", r.text
    r = redeem_at(h, v, "main", code, verifier, SECRETS["a"], REDIRECT["a"])
    assert r.status_code == 401 and r.json()["error"] == "invalid_client", r.text
    r = redeem_at(h, v, "main", code, verifier, SECRETS["main"], REDIRECT["a"])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text

    # ... and the failed attempts elsewhere did not burn it at A
    r = redeem_at(h, v, "a", code, verifier, SECRETS["a"], REDIRECT["a"])
    assert r.status_code == 200, r.text
    tok = r.json()
    jwks_a = session().get(base(h, v, "a") + "/.well-known/jwks.json", timeout=5).json()
    hdr, at, _ = verify_jws(tok["access_token"], jwks_a)
    assert hdr["alg"] == "RS256"
    assert at["iss"] == base(h, v, "a")
    _, idt, _ = verify_jws(tok["id_token"], jwks_a)
    assert idt["iss"] == base(h, v, "a")
    # B's JWKS does not know A's key
    jwks_b = session().get(base(h, v, "b") + "/.well-known/jwks.json", timeout=5).json()
    assert jwt_parts(tok["access_token"])[0]["kid"] not in {k["kid"] for k in jwks_b["keys"]}


def test_code_from_b_rejected_at_a(httpd_factory):
    h, v = start(httpd_factory)
    code, verifier, _ = code_at(h, v, "b")
    r = redeem_at(h, v, "a", code, verifier, SECRETS["a"], REDIRECT["b"])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    r = redeem_at(h, v, "b", code, verifier, SECRETS["b"], REDIRECT["b"])
    assert r.status_code == 200, r.text
    assert jwt_parts(r.json()["access_token"])[1]["iss"] == base(h, v, "b")


def test_clients_belong_to_their_vhost(httpd_factory):
    h, v = start(httpd_factory)
    # only-a exists at A only
    code_at(h, v, "a", client="only-a", redirect="https://only-a.test/cb")
    for which in ("b", "main"):
        r = sess(h, which).get(base(h, v, which) + "/authorize", params={
            "response_type": "code", "client_id": "only-a",
            "redirect_uri": "https://only-a.test/cb", "scope": "openid",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256"}, auth=("alice", USERS["alice"]),
            allow_redirects=False, timeout=5)
        assert r.status_code == 400 and "Location" not in r.headers, (which, r.status_code)
    # A's "app" does not accept the main server's redirect URI, and vice versa
    r = session().get(base(h, v, "a") + "/authorize", params={
        "response_type": "code", "client_id": "app", "redirect_uri": REDIRECT["main"],
        "scope": "openid", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256"}, auth=("alice", USERS["alice"]),
        allow_redirects=False, timeout=5)
    assert r.status_code == 400 and "Location" not in r.headers


def test_lifetimes_merge_into_vhosts(httpd_factory):
    h, v = start(httpd_factory)
    want = {"main": MAIN_AT_TTL, "a": MAIN_AT_TTL, "b": B_AT_TTL}
    for which, ttl in want.items():
        code, verifier, _ = code_at(h, v, which)
        r = redeem_at(h, v, which, code, verifier, SECRETS[which], REDIRECT[which])
        assert r.status_code == 200, (which, r.text)
        tok = r.json()
        assert tok["expires_in"] == ttl, which
        at = jwt_parts(tok["access_token"])[1]
        assert at["exp"] - at["iat"] == ttl, which
        assert at["iss"] == base(h, v, which)


def test_vhost_issuer_without_clients_has_none(httpd_factory):
    """A vhost that is its own issuer but declares no clients does not serve the main
    server's clients (they belong to the main server's issuer)."""
    v = VHosts()
    port_c = free_port()

    def body(h):
        return v(h) + f"""
Listen 127.0.0.1:{port_c}
<VirtualHost 127.0.0.1:{port_c}>
    ServerName c.test
    SSLEngine off
    OAuthASIssuer "http://127.0.0.1:{port_c}"
</VirtualHost>
"""
    h = httpd_factory(body)
    iss_c = f"http://127.0.0.1:{port_c}"
    m = session().get(iss_c + "/.well-known/openid-configuration", timeout=5).json()
    assert m["issuer"] == iss_c
    r = session().get(iss_c + "/authorize", params={
        "response_type": "code", "client_id": "app", "redirect_uri": REDIRECT["main"],
        "scope": "openid", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256"}, auth=("alice", USERS["alice"]),
        allow_redirects=False, timeout=5)
    assert r.status_code == 400 and "Location" not in r.headers, (r.status_code, r.headers)


def test_vhost_does_not_see_main_resources(httpd_factory):
    """An audience declared by the main server is not declared for a vhost issuer."""
    v = VHosts()

    def body(h):
        text = v(h).replace(
            app_client("a"),
            app_client("a").replace("OAuthASConsent Off",
                                    "OAuthASConsent Off\n    OAuthASAudience urn:main-api"))
        return text + "<OAuthASResource urn:main-api>\n</OAuthASResource>\n"
    h = httpd_factory(body, start=False)
    rc, out = h.configtest()
    assert rc != 0, out
    assert "OAuthASAudience urn:main-api" in out and "<OAuthASResource urn:main-api>" in out, out
    # declared inside the vhost as well: fine
    h.body = lambda h: body(h).replace(
        "    ServerName a.test\n",
        "    ServerName a.test\n    <OAuthASResource urn:main-api>\n    </OAuthASResource>\n")
    rc, out = h.configtest()
    assert rc == 0, out
