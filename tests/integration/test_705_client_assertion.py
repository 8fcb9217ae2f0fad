"""JWT client authentication (issue 15; RFC 7523, OIDC Core §9, RFC 10070): private_key_jwt
and client_secret_jwt at the token, PAR, revocation and introspection endpoints. Every negative
of next-wave.md §1.3 "Client assertion" and of INTERFACE.md at each endpoint, the positives
(a whole PAR + code + refresh + introspect + revoke flow per algorithm), the single use of a
jti across endpoints and children, garbage, and the logs. Keys and JWTs are made here with
Python's cryptography."""

import hashlib
import hmac
import json
import os
import secrets
import time

import pytest

from client import (Client, Pkce, assert_healthy, assert_json_error, b64url, callback, jwt_claims,
                    par_params, post, public_jwk_members, register, request_uri, run_parallel)
from oauth_conf import CONF1_SECRET, sqlite_dbd, standard_conf

TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SJWT_SECRET = "sjwt-secret-" + "0123456789abcdef" * 2  # 44 bytes: HS256 needs >= 32
ALGS = ("PS256", "ES256", "EdDSA", "RS256")
ENDPOINTS = ("/oauth/token", "/oauth/par", "/oauth/revoke", "/oauth/introspect")

_KEYS = {}


def _gen(kind):
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    if kind in ("PS256", "RS256"):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


def key(name):
    """A private key of this module, made once: one per alg (the client's), "stranger" (an
    ES256 key nobody registered)."""
    if name not in _KEYS:
        _KEYS[name] = _gen("ES256" if name == "stranger" else name)
    return _KEYS[name]


def jwks_of(algs=ALGS):
    keys = []
    for alg in algs:
        jwk = public_jwk_members(key(alg).public_key())
        keys.append({**jwk, "kid": f"k-{alg}", "alg": alg, "use": "sig"})
    return {"keys": keys}


def sign(alg, signing_input, k=None, secret=SJWT_SECRET):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
    if alg == "HS256":
        return hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    if alg == "none":
        return b""
    k = k or key(alg)
    if alg == "RS256":
        return k.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    if alg == "PS256":
        return k.sign(signing_input, padding.PSS(padding.MGF1(hashes.SHA256()), 32),
                      hashes.SHA256())
    if alg == "ES256":
        r, s = utils.decode_dss_signature(k.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return k.sign(signing_input)  # EdDSA


def jws(header, claims, alg, k=None, secret=SJWT_SECRET):
    si = (b64url(json.dumps(header).encode()) + "." +
          b64url(json.dumps(claims).encode())).encode()
    return si.decode() + "." + b64url(sign(alg, si, k, secret))


def assertion(h, client="pkjwt", alg="ES256", k=None, kid="default", typ=None, omit=(),
              secret=SJWT_SECRET, **claims):
    """A client assertion of client for h: iss = sub = client, aud = the issuer, exp in 60 s,
    iat now, a fresh jti; claims replace (None: leave out), omit drops. kid "default": the
    kid of the client's key of that alg (none for HS256)."""
    now = int(time.time())
    c = {"iss": client, "sub": client, "aud": h.issuer, "exp": now + 60, "iat": now,
         "jti": secrets.token_urlsafe(16)}
    c.update(claims)
    c = {n: v for n, v in c.items() if v is not None and n not in omit}
    header = {"alg": alg}
    if kid == "default" and alg not in ("HS256", "none"):
        kid = f"k-{alg}"
    if kid and kid != "default":
        header["kid"] = kid
    if typ:
        header["typ"] = typ
    return jws(header, c, alg, k, secret)


def form(a, **more):
    return {"client_assertion_type": TYPE, "client_assertion": a, **more}


CLIENTS = """
<OAuthASClient pkjwt>
    OAuthASClientJWKS "{jwks}"
    OAuthASAuthMethod private_key_jwt
    OAuthASRedirectURI https://pk.test/cb
    OAuthASScope openid profile offline_access
    OAuthASGrantType authorization_code refresh_token
</OAuthASClient>
<OAuthASClient sjwt>
    OAuthASClientSecret "{secret}"
    OAuthASAuthMethod client_secret_jwt
    OAuthASRedirectURI https://sj.test/cb
    OAuthASScope openid profile offline_access
    OAuthASGrantType authorization_code refresh_token
</OAuthASClient>
<OAuthASClient legacy>
    OAuthASClientJWKS "{jwks}"
    OAuthASAuthMethod private_key_jwt
    OAuthASAssertionAudience Legacy
    OAuthASRedirectURI https://legacy.test/cb
    OAuthASScope openid profile
    OAuthASGrantType authorization_code refresh_token
</OAuthASClient>
"""

register("pkjwt", redirect_uris=["https://pk.test/cb"])
register("sjwt", redirect_uris=["https://sj.test/cb"])
register("legacy", redirect_uris=["https://legacy.test/cb"])


def conf(h, extra="", **overrides):
    path = h.path("conf", "pkjwt.jwks.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(jwks_of(), f)
    overrides.setdefault("OAuthASClientAuthFailureLimit", "0")
    return standard_conf(h, extra=CLIENTS.format(jwks=path, secret=SJWT_SECRET) + extra,
                         **overrides)


@pytest.fixture
def jh(httpd_factory):
    return httpd_factory(conf)


def endpoint_data(path, client="pkjwt"):
    """What each endpoint takes besides client authentication, and its answer when the client
    authenticated: the token endpoint's is invalid_grant for a made-up refresh token."""
    if path == "/oauth/token":
        return {"grant_type": "refresh_token", "refresh_token": "x" * 43}
    if path == "/oauth/par":
        return par_params(client, Pkce())
    return {"token": "x" * 43}


def assert_authenticated(r, path):
    if path == "/oauth/token":
        assert_json_error(r, 400, "invalid_grant")
    elif path == "/oauth/par":
        request_uri(r)
    else:
        assert r.status_code == 200, (r.status_code, r.text)


def call(h, path, data, **kw):
    return post(h, path, {**endpoint_data(path), **data}, **kw)


# ---- the negatives, at every endpoint ------------------------------------------------------

def negatives(h):
    """(what, form fields, post() keywords, status, error, log tag) of every refusal."""
    now = int(time.time())
    a = lambda **kw: form(assertion(h, **kw))  # noqa: E731
    return [
        ("no assertion", {"client_id": "pkjwt"}, {}, 401, "invalid_client", "OAS03006"),
        ("aud another server", a(aud="https://evil.test"), {}, 401, "invalid_client",
         "OAS06218"),
        ("aud an array", a(aud=[h.issuer]), {}, 401, "invalid_client", "OAS06218"),
        ("aud the token endpoint", a(aud=h.issuer + "/oauth/token"), {}, 401, "invalid_client",
         "OAS06218"),
        ("aud the PAR endpoint", a(aud=h.issuer + "/oauth/par"), {}, 401, "invalid_client",
         "OAS06218"),
        ("aud with a trailing slash", a(aud=h.issuer + "/"), {}, 401, "invalid_client",
         "OAS06218"),
        ("exp 5 minutes in the past", a(iat=now - 360, exp=now - 300), {}, 401,
         "invalid_client", "OAS06220"),
        ("no exp", a(exp=None), {}, 401, "invalid_client", "OAS06219"),
        ("lifetime over 5 minutes", a(exp=now + 400), {}, 401, "invalid_client", "OAS06220"),
        ("nbf 70 s in the future", a(nbf=now + 70), {}, 401, "invalid_client", "OAS06220"),
        ("iat 70 s in the future", a(iat=now + 70, exp=now + 120), {}, 401, "invalid_client",
         "OAS06220"),
        ("no sub", a(sub=None), {}, 401, "invalid_client", "OAS06204"),
        ("iss is not sub", a(iss="sjwt"), {}, 401, "invalid_client", "OAS06208"),
        ("no iss", a(iss=None), {}, 401, "invalid_client", "OAS06208"),
        ("no jti", a(jti=None), {}, 401, "invalid_client", "OAS06221"),
        ("jti over 256 bytes", a(jti="j" * 257), {}, 401, "invalid_client", "OAS06222"),
        ("typ dpop+jwt", a(typ="dpop+jwt"), {}, 401, "invalid_client", "OAS06209"),
        ("typ oauth-authz-req+jwt", a(typ="oauth-authz-req+jwt"), {}, 401, "invalid_client",
         "OAS06209"),
        ("typ at+jwt", a(typ="at+jwt"), {}, 401, "invalid_client", "OAS06209"),
        ("typ logout+jwt", a(typ="logout+jwt"), {}, 401, "invalid_client", "OAS06209"),
        ("alg none", a(alg="none", kid=None), {}, 401, "invalid_client", "OAS06202"),
        ("HS256 from a private_key_jwt client", a(alg="HS256"), {}, 401, "invalid_client",
         "OAS06210"),
        ("ES256 from a client_secret_jwt client", a(client="sjwt"), {}, 401, "invalid_client",
         "OAS06213"),
        ("HS256 with another secret", a(client="sjwt", alg="HS256", secret="w" * 40), {}, 401,
         "invalid_client", "OAS06212"),
        ("a key the client did not register", a(k=key("stranger")), {}, 401, "invalid_client",
         "OAS06216"),
        ("RS256 under the kid of the EC key", a(alg="RS256", kid="k-ES256"), {}, 401,
         "invalid_client", "OAS06215"),
        ("an unknown kid", a(kid="nope"), {}, 401, "invalid_client", "OAS06215"),
        ("client_id that contradicts", form(assertion(h), client_id="conf1"), {}, 401,
         "invalid_client",
         "OAS06206"),
        ("sub of an unknown client", a(sub="nobody", iss="nobody"), {}, 401, "invalid_client",
         "OAS06205"),
        ("a secret client's assertion", a(client="conf1", alg="HS256", secret=CONF1_SECRET),
         {}, 401, "invalid_client", "OAS06207"),
        ("another assertion type",
         {**a(), "client_assertion_type": TYPE.replace("jwt-bearer", "saml2-bearer")},
         {}, 400, "invalid_request", "OAS00130"),
        ("an assertion without its type", {"client_assertion": assertion(h)}, {}, 400,
         "invalid_request", "OAS00130"),
        ("an assertion and Basic", a(), {"auth": ("conf1", CONF1_SECRET)}, 400,
         "invalid_request", "OAS00130"),
        ("an assertion and client_secret", form(assertion(h), client_secret="x"), {}, 400,
         "invalid_request",
         "OAS00130"),
        ("not a JWS", form("not-a-jws"), {}, 401, "invalid_client", "OAS06202"),
        ("bad base64url", form("e30.!!!.c2ln"), {}, 401, "invalid_client", "OAS06202"),
        ("header not an object", form(b64url(b"[1]") + ".e30.c2ln"), {}, 401, "invalid_client",
         "OAS06202"),
        ("four parts", form(assertion(h) + ".x"), {}, 401, "invalid_client", "OAS06202"),
        # a value over 8 KiB is refused by the form parser (OAS_MAX_VALUE_LEN) before the
        # assertion is read; OAS06201 is the core's own limit (test_client_assertion.c)
        ("over 8 KiB", form(assertion(h, pad="p" * 7000)), {}, 400, "invalid_request", None),
    ]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_negative_refused(jh, path):
    h = jh
    sent = []
    for what, data, kw, status, error, tag in negatives(h):
        h.mark_log()
        r = call(h, path, data, **kw)
        assert_json_error(r, status, error)
        assert r.status_code == status, what
        if tag:
            h.wait_log(tag)
        if "client_assertion" in data:
            sent.append(data["client_assertion"])
    # a good assertion still works after all that: the server is up and the client usable
    assert_authenticated(call(h, path, form(assertion(h))), path)
    assert_healthy(h)
    # neither the assertions nor their parts ever reach the log
    log = h.error_log()
    for a in sent:
        for part in a.split("."):
            assert len(part) < 8 or part not in log, part


@pytest.mark.parametrize("client,alg", [("pkjwt", a) for a in ALGS] + [("sjwt", "HS256")])
def test_each_alg_at_each_endpoint(jh, client, alg):
    h = jh
    for path in ENDPOINTS:
        r = post(h, path, {**endpoint_data(path, client), **form(assertion(h, client, alg))})
        assert_authenticated(r, path)


def test_rs256_refused_when_not_allowed(httpd_factory):
    """ensure-signed-client-assertion-with-RS256-fails (FAPI): a server whose
    OAuthASClientSigningAlgs leaves RS256 out refuses it, takes the others."""
    h = httpd_factory(lambda h: conf(h, OAuthASClientSigningAlgs="PS256 ES256 EdDSA"))
    h.mark_log()
    assert_json_error(call(h, "/oauth/token", form(assertion(h, alg="RS256"))), 401,
                      "invalid_client")
    h.wait_log("OAS06214")
    assert_authenticated(call(h, "/oauth/token", form(assertion(h, alg="PS256"))),
                         "/oauth/token")


# ---- time ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ("/oauth/par", "/oauth/token"))
def test_clock_skew(jh, path):
    """par-ensure-jwt-client-assertions-nbf-8-seconds-in-the-future-is-accepted, and iat;
    70 s is refused (see the negatives), a lifetime of exactly 300 s accepted."""
    h = jh
    now = int(time.time())
    assert_authenticated(call(h, path, form(assertion(h, nbf=now + 8))), path)
    assert_authenticated(call(h, path, form(assertion(h, iat=now + 8))), path)
    assert_authenticated(call(h, path, form(assertion(h, iat=now - 200, exp=now + 100))), path)
    assert_authenticated(call(h, path, form(assertion(h, iat=None, exp=now + 290))), path)


# ---- replay ----------------------------------------------------------------------------------

def test_jti_single_use_across_endpoints(jh):
    h = jh
    a = assertion(h)
    assert_authenticated(call(h, "/oauth/par", form(a)), "/oauth/par")
    for path in ENDPOINTS:
        h.mark_log()
        assert_json_error(call(h, path, form(a)), 401, "invalid_client")
        h.wait_log(r"OAS06217: client pkjwt: assertion jti \S+ was used before")
    # the same jti in a new assertion is still a replay; another client's jti is its own
    jti = jwt_claims(a)["jti"]
    assert_json_error(call(h, "/oauth/token", form(assertion(h, alg="EdDSA", jti=jti))), 401,
                      "invalid_client")
    assert_authenticated(call(h, "/oauth/token",
                              form(assertion(h, client="sjwt", alg="HS256", jti=jti))),
                         "/oauth/token")


def test_jti_single_use_across_children(jh):
    """The same assertion sent at once on many connections (prefork: several children): it
    authenticates exactly once."""
    h = jh
    a = assertion(h, alg="PS256")
    results = run_parallel(12, lambda i: call(h, "/oauth/revoke", form(a)).status_code)
    assert sorted(results) == [200] + [401] * 11, results


def test_jti_single_use_in_the_database(httpd_factory):
    """OAuthASStore dbd: the jti is recorded in the database (atomic put-if-absent, as every
    node of a cluster shares it), at once from many connections and then at another endpoint."""
    h = httpd_factory(lambda h: conf(h, OAuthASStore="dbd", extra=sqlite_dbd(h)))
    a = assertion(h, alg="EdDSA")
    results = run_parallel(8, lambda i: call(h, "/oauth/introspect", form(a)).status_code)
    assert sorted(results) == [200] + [401] * 7, results
    h.mark_log()
    assert_json_error(call(h, "/oauth/token", form(a)), 401, "invalid_client")
    h.wait_log("OAS06217")
    assert_authenticated(call(h, "/oauth/token", form(assertion(h, alg="EdDSA"))),
                         "/oauth/token")


# ---- the whole flow --------------------------------------------------------------------------

@pytest.mark.expect_log("OAS00134")
@pytest.mark.parametrize("client,alg", [("pkjwt", a) for a in ALGS] + [("sjwt", "HS256")])
def test_par_code_refresh_introspect_revoke(jh, client, alg):
    h = jh
    c = Client(h)
    p = Pkce()
    A = lambda: form(assertion(h, client, alg))  # noqa: E731
    redirect = {"pkjwt": "https://pk.test/cb", "sjwt": "https://sj.test/cb"}[client]
    ru = request_uri(post(h, "/oauth/par",
                          {**par_params(client, p, scope="openid offline_access"), **A()}))
    q = callback(h, c.authorize_uri_and_approve(client, ru), base=redirect)
    r = post(h, "/oauth/token", {"grant_type": "authorization_code", "code": q["code"],
                                 "redirect_uri": redirect, "code_verifier": p.verifier, **A()})
    assert r.status_code == 200, r.text
    t = r.json()
    _, claims = c.verify_jwt(t["id_token"])
    assert claims["aud"] == client
    r = post(h, "/oauth/token", {"grant_type": "refresh_token",
                                 "refresh_token": t["refresh_token"], **A()})
    assert r.status_code == 200, r.text
    at = r.json()["access_token"]
    r = post(h, "/oauth/introspect", {"token": at, **A()})
    assert r.status_code == 200 and r.json()["active"] is True, r.text
    assert r.json()["client_id"] == client
    assert post(h, "/oauth/revoke", {"token": t["refresh_token"], **A()}).status_code == 200
    assert_json_error(post(h, "/oauth/token", {"grant_type": "refresh_token",
                                               "refresh_token": t["refresh_token"], **A()}),
                      400, "invalid_grant")


def test_public_and_confidential(jh):
    """A private_key_jwt client is confidential without a secret: it may introspect; a client
    of the none method still cannot."""
    h = jh
    r = post(h, "/oauth/introspect", {"token": "x", **form(assertion(h))})
    assert r.status_code == 200 and r.json() == {"active": False}
    assert_json_error(post(h, "/oauth/introspect", {"token": "x", "client_id": "pub1"}), 401,
                      "invalid_client")


# ---- per-client legacy audience --------------------------------------------------------------

def test_legacy_audience(jh):
    h = jh
    tok = h.issuer + "/oauth/token"
    for path in ("/oauth/token", "/oauth/par"):
        assert_authenticated(post(h, path, {**endpoint_data(path, "legacy"),
                                            **form(assertion(h, "legacy", aud=tok))}), path)
        assert_authenticated(post(h, path, {**endpoint_data(path, "legacy"),
                                            **form(assertion(h, "legacy"))}), path)
        for aud in ([tok], [h.issuer], h.issuer + "/oauth/par", "https://evil.test/oauth/token"):
            assert_json_error(post(h, path, {**endpoint_data(path, "legacy"),
                                             **form(assertion(h, "legacy", aud=aud))}), 401,
                              "invalid_client")
    # a strict client is not affected
    assert_json_error(call(h, "/oauth/token", form(assertion(h, aud=tok))), 401,
                      "invalid_client")


# ---- the brake -------------------------------------------------------------------------------

@pytest.mark.expect_log("OAS00136")
def test_forged_assertions_are_braked(httpd_factory):
    """Assertions that fail count against the client they claim to be, as wrong secrets do:
    past the limit even a good one waits (429)."""
    h = httpd_factory(lambda h: conf(h, OAuthASClientAuthFailureLimit="3 60"))
    for _ in range(3):
        assert_json_error(call(h, "/oauth/token", form(assertion(h, k=key("stranger")))), 401,
                          "invalid_client")
    r = call(h, "/oauth/token", form(assertion(h)))
    assert_json_error(r, 429, "temporarily_unavailable")
    assert int(r.headers["Retry-After"]) > 0
    # another client is not braked
    assert_authenticated(call(h, "/oauth/token", form(assertion(h, "sjwt", "HS256"))),
                         "/oauth/token")


# ---- configuration ---------------------------------------------------------------------------

@pytest.mark.parametrize("block,message", [
    ("OAuthASAuthMethod private_key_jwt\nOAuthASRedirectURI https://x.test/cb",
     "private_key_jwt needs OAuthASClientJWKS"),
    ('OAuthASClientSecret "short-secret"\nOAuthASAuthMethod client_secret_jwt\n'
     "OAuthASRedirectURI https://x.test/cb",
     "client_secret_jwt needs a plaintext OAuthASClientSecret of at least 32 bytes"),
    ('OAuthASClientSecret "$apr1$abc$0123456789abcdefghijkl"\n'
     "OAuthASAuthMethod client_secret_jwt\nOAuthASRedirectURI https://x.test/cb",
     "client_secret_jwt needs a plaintext OAuthASClientSecret"),
    ("OAuthASAuthMethod none private_key_jwt\nOAuthASRedirectURI https://x.test/cb",
     "cannot be combined"),
    ("OAuthASAssertionAudience Loose\nOAuthASRedirectURI https://x.test/cb",
     "OAuthASAssertionAudience: 'Loose' is not Strict or Legacy"),
])
def test_configtest(httpd_factory, block, message):
    h = httpd_factory(lambda h: standard_conf(
        h, extra=f"<OAuthASClient bad>\n{block}\n</OAuthASClient>\n"), start=False)
    rc, out = h.configtest()
    assert rc != 0 and message in out, out
