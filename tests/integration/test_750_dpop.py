"""DPoP (issue 16, RFC 9449) at the endpoints: bound tokens at the token endpoint for every
grant, the conformance suite's dpop-negative-tests rows (next-wave.md §1.3) at the token
endpoint and at userinfo, dpop_jkt at PAR and /authorize, refresh-token binding,
OAuthASDPoP Off|Required, server nonces, introspection's cnf, metadata, no 5xx for a
malformed proof, and a proof replayed on the other node of a cluster."""

import base64
import json
import os
import time

import pytest

from client import (OFFLINE, DPoPKey, Pkce, assert_json_error, b64url, code_of, get_code,
                    introspect, jwt_claims, par_params, post, private_jwk, raw_request, redeem,
                    refresh, session)
from oauth_conf import SVC1_SECRET, sqlite_dbd, standard_conf

FAPI_ALGS = "OAuthASClientSigningAlgs PS256 ES256 EdDSA\n"


def token_url(h):
    return h.issuer + "/oauth/token"


def cc(h, proof=None, headers=None, **kw):
    """client_credentials of svc1 with a DPoP proof (a header value, or None: none)."""
    hd = dict(headers or {})
    if proof is not None:
        hd["DPoP"] = proof
    return post(h, "/oauth/token", {"grant_type": "client_credentials", "scope": "api.read"},
                "svc1", headers=hd, **kw)


def ui(h, at, proof=None, scheme="DPoP", headers=None):
    hd = {"Authorization": f"{scheme} {at}", **(headers or {})}
    if proof is not None:
        hd["DPoP"] = proof
    return session(h).get(h.issuer + "/userinfo", headers=hd, timeout=10)


def assert_bound(r, key):
    """A 200 token answer whose access token is bound to key."""
    assert r.status_code == 200, (r.status_code, r.text)
    t = r.json()
    assert t["token_type"] == "DPoP", t
    assert jwt_claims(t["access_token"])["cnf"] == {"jkt": key.jkt}
    return t


def assert_bearer(r):
    assert r.status_code == 200, (r.status_code, r.text)
    t = r.json()
    assert t["token_type"] == "Bearer" and "cnf" not in jwt_claims(t["access_token"]), t
    return t


def assert_dpop_401(r, error):
    assert r.status_code == 401, (r.status_code, r.text)
    assert r.json()["error"] == error
    www = r.headers["WWW-Authenticate"]
    assert www.startswith("DPoP ") and f'error="{error}"' in www and 'algs="' in www, www


DPOP_CLIENTS = """
<OAuthASClient dreq>
    OAuthASClientSecret "dreq-secret-0f3a9c"
    OAuthASScope api.read
    OAuthASGrantType client_credentials
    OAuthASDPoP Required
</OAuthASClient>
<OAuthASClient doff>
    OAuthASClientSecret "doff-secret-77b1e2"
    OAuthASScope api.read
    OAuthASGrantType client_credentials
    OAuthASDPoP Off
</OAuthASClient>
<OAuthASClient dnonce>
    OAuthASClientSecret "dnonce-secret-5c8d41"
    OAuthASRedirectURI https://rp9.test/cb
    OAuthASScope openid api.read
    OAuthASGrantType authorization_code client_credentials
    OAuthASDPoPNonce On
</OAuthASClient>
"""


@pytest.fixture
def dpop(httpd_factory):
    """The standard server with FAPI's algorithms and three DPoP clients of their own."""
    from client import register
    register("dreq", "dreq-secret-0f3a9c")
    register("doff", "doff-secret-77b1e2")
    register("dnonce", "dnonce-secret-5c8d41", redirect_uris=["https://rp9.test/cb"])
    return httpd_factory(lambda h: standard_conf(h, extra=FAPI_ALGS + DPOP_CLIENTS))


# ---- binding -------------------------------------------------------------------------------

def test_code_flow_bound_userinfo_introspection(dpop):
    """A proof at the token endpoint binds the access token; userinfo takes it with the DPoP
    scheme (any case) and a proof with ath, refuses it as Bearer; introspection says how it
    is bound; metadata lists the proof algorithms."""
    h, k = dpop, DPoPKey()
    r = redeem(h, get_code(h, "conf1", scope="openid email"),
               headers={"DPoP": k.proof("POST", token_url(h))})
    t = assert_bound(r, k)
    at = t["access_token"]
    for scheme in ("DPoP", "dpop", "DPOP"):
        r = ui(h, at, k.proof("GET", h.issuer + "/userinfo", at), scheme=scheme)
        assert r.status_code == 200 and r.json()["sub"] == "alice", r.text
    # RFC 9449 §7.2: a bound token is no bearer token
    r = ui(h, at, scheme="Bearer")
    assert r.status_code == 401 and r.json()["error"] == "invalid_token", r.text
    j = introspect(h, at).json()
    assert j["active"] and j["token_type"] == "DPoP" and j["cnf"] == {"jkt": k.jkt}, j
    md = session(h).get(h.issuer + "/.well-known/openid-configuration", timeout=10).json()
    assert md["dpop_signing_alg_values_supported"] == ["PS256", "ES256", "EdDSA"]


def test_every_grant_and_key_type(dpop):
    """client_credentials, code and refresh bind alike; ES256, PS256 and EdDSA proofs."""
    h = dpop
    for kind in ("es256", "rsa", "ed25519"):
        k = DPoPKey(kind)
        assert_bound(cc(h, k.proof("POST", token_url(h))), k)
    assert_bearer(cc(h))
    k = DPoPKey()
    t = assert_bound(redeem(h, get_code(h, "conf1", scope=OFFLINE),
                            headers={"DPoP": k.proof("POST", token_url(h))}), k)
    # a confidential client's refresh token is not bound: each refresh binds to its proof
    k2 = DPoPKey()
    assert_bound(refresh(h, "conf1", t["refresh_token"],
                         headers={"DPoP": k2.proof("POST", token_url(h))}), k2)
    assert_bearer(refresh(h, "conf1", t["refresh_token"]))


def test_public_client_refresh_bound(dpop):
    """A public client's refresh token is bound to its key: without a proof or with another
    key, invalid_grant, and the family lives on (the right key still refreshes)."""
    h, k, other = dpop, DPoPKey(), DPoPKey()
    g = get_code(h, "pub1", scope=OFFLINE)
    t = assert_bound(redeem(h, g, headers={"DPoP": k.proof("POST", token_url(h))}), k)
    rt = t["refresh_token"]
    assert_json_error(refresh(h, "pub1", rt), 400, "invalid_grant")
    assert_json_error(refresh(h, "pub1", rt, headers={"DPoP": other.proof("POST", token_url(h))}),
                      400, "invalid_grant")
    assert "OAS06451" in h.error_log()
    t = assert_bound(refresh(h, "pub1", rt, headers={"DPoP": k.proof("POST", token_url(h))}), k)
    assert_bound(refresh(h, "pub1", t["refresh_token"],
                         headers={"DPoP": k.proof("POST", token_url(h))}), k)


def test_par_proof_binds_the_code(dpop):
    """A proof at PAR binds the code (RFC 9449 §10.1): the token request without a proof or
    with another key is invalid_grant and does not spend the code; the right key redeems."""
    h, k, other = dpop, DPoPKey(), DPoPKey()
    p = Pkce()
    r = post(h, "/oauth/par", par_params("pub1", p, scope=OFFLINE), "pub1",
             headers={"DPoP": k.proof("POST", h.issuer + "/oauth/par")})
    assert r.status_code == 201, r.text
    code = code_of(h, {"client_id": "pub1", "request_uri": r.json()["request_uri"]})
    assert_json_error(redeem(h, code, p.verifier, "pub1"), 400, "invalid_grant")
    assert_json_error(redeem(h, code, p.verifier, "pub1",
                             headers={"DPoP": other.proof("POST", token_url(h))}),
                      400, "invalid_grant")
    assert_bound(redeem(h, code, p.verifier, "pub1",
                        headers={"DPoP": k.proof("POST", token_url(h))}), k)


def test_dpop_jkt_at_par_and_authorize(dpop):
    """dpop_jkt binds the code at PAR and at /authorize; a dpop_jkt that differs from the PAR
    proof's key is invalid_request (ensure-mismatched-dpop-jkt-fails)."""
    h, k, other = dpop, DPoPKey(), DPoPKey()
    r = post(h, "/oauth/par", par_params("conf1", Pkce(), dpop_jkt=other.jkt), "conf1",
             headers={"DPoP": k.proof("POST", h.issuer + "/oauth/par")})
    assert_json_error(r, 400, "invalid_request")
    # PAR with dpop_jkt alone
    p = Pkce()
    ru = post(h, "/oauth/par", par_params("conf1", p, dpop_jkt=k.jkt), "conf1").json()
    code = code_of(h, {"client_id": "conf1", "request_uri": ru["request_uri"]})
    assert_json_error(redeem(h, code, p.verifier, "conf1",
                             headers={"DPoP": other.proof("POST", token_url(h))}),
                      400, "invalid_grant")
    assert_bound(redeem(h, code, p.verifier, "conf1",
                        headers={"DPoP": k.proof("POST", token_url(h))}), k)
    # /authorize with dpop_jkt (ensure-token-endpoint-fails-with-mismatched-dpop-jkt)
    g = get_code(h, "conf1", dpop_jkt=k.jkt)
    assert_json_error(redeem(h, g), 400, "invalid_grant")
    assert_bound(redeem(h, g, headers={"DPoP": k.proof("POST", token_url(h))}), k)


# ---- OAuthASDPoP and OAuthASDPoPNonce -------------------------------------------------------

def test_required_and_off(dpop):
    """Required refuses a request without a proof; Off ignores the header, even a garbage
    one, and issues Bearer tokens."""
    h, k = dpop, DPoPKey()
    data = {"grant_type": "client_credentials", "scope": "api.read"}
    assert_json_error(post(h, "/oauth/token", data, "dreq"), 400, "invalid_dpop_proof")
    assert_bound(post(h, "/oauth/token", data, "dreq",
                      headers={"DPoP": k.proof("POST", token_url(h))}), k)
    assert_bearer(post(h, "/oauth/token", data, "doff",
                       headers={"DPoP": k.proof("POST", token_url(h))}))
    assert_bearer(post(h, "/oauth/token", data, "doff", headers={"DPoP": "garbage"}))


def test_nonce_at_token_and_userinfo(dpop):
    """OAuthASDPoPNonce On: use_dpop_nonce with a DPoP-Nonce (400 at the token and PAR
    endpoints, 401 at userinfo for the token's client), then success with the nonce, and a
    fresh nonce offered on the successful answers; a made-up nonce is refused."""
    h, k = dpop, DPoPKey()
    data = {"grant_type": "client_credentials", "scope": "api.read"}
    r = post(h, "/oauth/token", data, "dnonce", headers={"DPoP": k.proof("POST", token_url(h))})
    assert_json_error(r, 400, "use_dpop_nonce")
    nonce = r.headers["DPoP-Nonce"]
    assert nonce and "," not in nonce and " " not in nonce
    r = post(h, "/oauth/token", data, "dnonce",
             headers={"DPoP": k.proof("POST", token_url(h), nonce="AAAA" + nonce[4:])})
    assert_json_error(r, 400, "use_dpop_nonce")
    r = post(h, "/oauth/token", data, "dnonce",
             headers={"DPoP": k.proof("POST", token_url(h), nonce=nonce)})
    assert_bound(r, k)
    assert r.headers["DPoP-Nonce"]
    # PAR follows the client's setting too; a push without a proof is offered a nonce
    par = h.issuer + "/oauth/par"
    r = post(h, "/oauth/par", par_params("dnonce", Pkce(), scope="openid"), "dnonce",
             headers={"DPoP": k.proof("POST", par)})
    assert_json_error(r, 400, "use_dpop_nonce")
    r = post(h, "/oauth/par", par_params("dnonce", Pkce(), scope="openid"), "dnonce",
             headers={"DPoP": k.proof("POST", par, nonce=r.headers["DPoP-Nonce"])})
    assert r.status_code == 201 and r.headers["DPoP-Nonce"], r.text
    r = post(h, "/oauth/par", par_params("dnonce", Pkce(), scope="openid"), "dnonce")
    assert r.status_code == 201 and r.headers["DPoP-Nonce"], r.text
    # userinfo, for a token of dnonce
    g = get_code(h, "dnonce", scope="openid")
    t = assert_bound(redeem(h, g, headers={"DPoP": k.proof("POST", token_url(h), nonce=nonce)}),
                     k)
    at, url = t["access_token"], h.issuer + "/userinfo"
    r = ui(h, at, k.proof("GET", url, at))
    assert_dpop_401(r, "use_dpop_nonce")
    r = ui(h, at, k.proof("GET", url, at, nonce=r.headers["DPoP-Nonce"]))
    assert r.status_code == 200 and r.headers["DPoP-Nonce"], r.text


# ---- the conformance suite's negative rows --------------------------------------------------

def negative_rows(k, other, rsa, htm, url, at=None):
    """(name, DPoP header value) of proofs that must be refused at htm url."""
    now = int(time.time())
    good = dict(at=at)
    rows = [
        ("not a JWT", "not-a-jwt"),
        ("not a JWS", "a.b.c"),
        ("wrong typ", k.proof(htm, url, header={"typ": "JWT"}, **good)),
        ("alg none", k.proof(htm, url, alg="none", sig=b"", **good)),
        ("HS256", k.proof(htm, url, alg="HS256", sig=b"x" * 32, **good)),
        ("RS256 with an RSA key", rsa.proof(htm, url, alg="RS256", **good)),
        ("bad signature", k.proof(htm, url, sig=b"\x01" * 64, **good)),
        ("signed by another key", k.proof(htm, url, signer=other, **good)),
        ("private key in jwk", k.proof(htm, url, header={"jwk": private_jwk(k)}, **good)),
        ("htm PUT", k.proof("PUT", url, **good)),
        ("htu another URL", k.proof(htm, url + "x", **good)),
        ("htu another host", k.proof(htm, url.replace("localhost", "127.0.0.1"), **good)),
        ("iat an hour ago", k.proof(htm, url, claims={"iat": now - 3600}, **good)),
        ("iat in an hour", k.proof(htm, url, claims={"iat": now + 3600}, **good)),
        ("exp passed", k.proof(htm, url, claims={"exp": now - 120}, **good)),
    ]
    for member in ("typ", "alg", "jwk", "jti", "htm", "htu", "iat"):
        rows.append((f"no {member}", k.proof(htm, url, drop=(member,), **good)))
    return rows


def positive_rows(k, htm, url, at=None):
    """(name, DPoP header name, proof) that must be accepted at htm url."""
    now = int(time.time())
    up = url.replace("https://localhost", "HTTPS://LOCALHOST")
    return [
        ("header name DPOP", "DPOP", k.proof(htm, url, at)),
        ("htu with query and fragment", "DPoP", k.proof(htm, url + "?a=b#frag", at)),
        ("scheme and host upper case", "DPoP", k.proof(htm, up, at)),
        ("extra members", "DPoP", k.proof(htm, url, at, header={"x": 1}, claims={"y": [1]})),
        ("iat 10 s back", "DPoP", k.proof(htm, url, at, claims={"iat": now - 10})),
        ("iat 10 s ahead", "DPoP", k.proof(htm, url, at, claims={"iat": now + 10})),
        ("nbf and exp", "DPoP", k.proof(htm, url, at, claims={"nbf": now - 5, "exp": now + 60})),
    ]


def test_negative_rows_at_token_endpoint(dpop):
    """Every row of dpop-negative-tests at the token endpoint: 400 invalid_dpop_proof for a
    wrong proof, a replayed one and two DPoP headers; the must-succeed rows bind."""
    h, k, other, rsa = dpop, DPoPKey(), DPoPKey(), DPoPKey("rsa")
    url = token_url(h)
    for name, proof in negative_rows(k, other, rsa, "POST", url):
        r = cc(h, proof)
        assert r.status_code == 400 and r.json()["error"] == "invalid_dpop_proof", (name, r.text)
    for name, header, proof in positive_rows(k, "POST", url):
        r = post(h, "/oauth/token", {"grant_type": "client_credentials", "scope": "api.read"},
                 "svc1", headers={header: proof})
        assert r.status_code == 200 and r.json()["token_type"] == "DPoP", (name, r.text)
    # the same jti twice: the second is refused
    proof = k.proof("POST", url)
    assert_bound(cc(h, proof), k)
    assert_json_error(cc(h, proof), 400, "invalid_dpop_proof")
    # two DPoP headers (httpd joins them with a comma)
    cred = base64.b64encode(f"svc1:{SVC1_SECRET}".encode()).decode()
    r = raw_request(h, "POST", "/oauth/token",
                    [("Authorization", "Basic " + cred),
                     ("Content-Type", "application/x-www-form-urlencoded"),
                     ("DPoP", k.proof("POST", url)), ("DPoP", k.proof("POST", url))],
                    b"grant_type=client_credentials&scope=api.read")
    assert r.status_code == 400 and r.json()["error"] == "invalid_dpop_proof", r.text


def test_negative_rows_at_userinfo(dpop):
    """Every row of dpop-negative-tests at userinfo: 401 with WWW-Authenticate DPoP
    error="invalid_dpop_proof" and algs; wrong or missing ath; a proof of another key; two
    DPoP headers; a replayed proof; no DPoP header (with either scheme); an unbound token with
    the DPoP scheme. The must-succeed rows pass, a request URL with a query included."""
    h, k, other, rsa = dpop, DPoPKey(), DPoPKey(), DPoPKey("rsa")
    url = h.issuer + "/userinfo"
    t = assert_bound(redeem(h, get_code(h, "conf1", scope="openid"),
                            headers={"DPoP": k.proof("POST", token_url(h))}), k)
    at = t["access_token"]
    rows = negative_rows(k, other, rsa, "GET", url, at)
    rows += [("no ath", k.proof("GET", url)),
             ("wrong ath", k.proof("GET", url, at + "x")),
             ("a proof of another key", other.proof("GET", url, at))]
    for name, proof in rows:
        assert_dpop_401(ui(h, at, proof), "invalid_dpop_proof")
    for name, header, proof in positive_rows(k, "GET", url, at):
        r = ui(h, at, headers={header: proof})
        assert r.status_code == 200 and r.json()["sub"] == "alice", (name, r.text)
    # the request's query is not part of htu: a proof without it passes
    r = session(h).get(url + "?x=1", headers={"Authorization": "DPoP " + at,
                                             "DPoP": k.proof("GET", url, at)}, timeout=10)
    assert r.status_code == 200, r.text
    # two DPoP headers
    r = raw_request(h, "GET", "/userinfo", [("Authorization", "DPoP " + at),
                                            ("DPoP", k.proof("GET", url, at)),
                                            ("DPoP", k.proof("GET", url, at))])
    assert r.status_code == 401 and r.json()["error"] == "invalid_dpop_proof", r.text
    assert 'DPoP error="invalid_dpop_proof"' in r.headers["WWW-Authenticate"]
    proof = k.proof("GET", url, at)
    assert ui(h, at, proof).status_code == 200
    assert_dpop_401(ui(h, at, proof), "invalid_dpop_proof")     # the same jti again
    assert_dpop_401(ui(h, at), "invalid_dpop_proof")           # no DPoP header
    r = ui(h, at, scheme="Bearer")                             # no DPoP header, Bearer
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    bearer = assert_bearer(redeem(h, get_code(h, "conf1", scope="openid")))["access_token"]
    assert_dpop_401(ui(h, bearer, k.proof("GET", url, bearer)), "invalid_token")
    # no token at all: both challenges offered
    r = session(h).get(url, timeout=10)
    assert r.status_code == 401 and "DPoP algs=" in r.headers["WWW-Authenticate"]


def test_malformed_proofs_never_5xx(dpop):
    """However malformed, a proof gets a 4xx: garbage, huge, binary, JSON in the wrong
    places, wrong member types."""
    h, k = dpop, DPoPKey()
    url = token_url(h)
    b = lambda o: b64url(json.dumps(o).encode())  # noqa: E731
    bad = ["", ".", "..", "...", "a.b", "x" * 9000, "é.é.é", b([]) + "." + b({}) + ".",
           b({"typ": "dpop+jwt", "alg": "ES256", "jwk": "str"}) + "." + b({}) + ".AAAA",
           b({"typ": "dpop+jwt", "alg": "ES256", "jwk": {"kty": "EC"}}) + "." + b({}) + ".AA",
           b({"typ": "dpop+jwt", "alg": "ES256", "jwk": k.jwk}) + "." + b([1]) + ".AA",
           k.proof("POST", url, claims={"iat": "now", "jti": 5, "htu": None}),
           k.proof("POST", url, claims={"iat": 1e300}),
           k.proof("POST", url, claims={"jti": "j" * 300}),
           k.proof("POST", url, header={"crit": ["x"]}),
           k.proof("POST", url, header={"jwk": {**k.jwk, "kty": "oct", "k": "AAAA"}})]
    bad += [base64.urlsafe_b64encode(os.urandom(n)).decode() for n in (1, 64, 700)]
    for v in bad:
        r = cc(h, v)
        assert 400 <= r.status_code < 500, (v[:60], r.status_code, r.text)
        r = ui(h, "x" * 20, v)
        assert 400 <= r.status_code < 500, (v[:60], r.status_code, r.text)


# ---- a cluster -----------------------------------------------------------------------------

def test_proof_replayed_on_the_other_node(httpd_factory):
    """Two nodes of one issuer on one SQLite database: a proof spent on A is refused on B
    (its jti is single-use across nodes), and a nonce of A is accepted by B."""
    a = httpd_factory(lambda h: standard_conf(h, OAuthASStore="dbd", OAuthASDPoPNonce="On",
                                              extra=sqlite_dbd(h)))

    def conf_b(h):   # the same issuer, key, clients and database as node A
        return standard_conf(h, OAuthASStore="dbd", OAuthASDPoPNonce="On",
                             extra=sqlite_dbd(a)).replace(f'OAuthASIssuer "{h.issuer}"',
                                                          f'OAuthASIssuer "{a.issuer}"')
    b = httpd_factory(conf_b)
    k, url = DPoPKey(), token_url(a)
    r = cc(a, k.proof("POST", url))
    assert_json_error(r, 400, "use_dpop_nonce")
    proof = k.proof("POST", url, nonce=r.headers["DPoP-Nonce"])
    assert_bound(cc(b, proof), k)           # A's nonce on B
    assert_json_error(cc(a, proof), 400, "invalid_dpop_proof")
    assert_json_error(cc(b, proof), 400, "invalid_dpop_proof")
