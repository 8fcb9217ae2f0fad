"""Signed request objects (JAR, RFC 9101; issue 15): `request=` at /oauth/par and at /authorize.
Every "Request objects" module of the conformance suite's message-signing plan
(shared/research/next-wave.md §1.3) at both endpoints, the successes it requires, the
OAuthASRequestObject modes, and garbage (never a 5xx). Clients authenticate with
client_secret_basic and sign with keys of their OAuthASClientJWKS file."""

import json
import os
import time

import pytest

from client import (Client, Pkce, assert_error_page, assert_json_error, b64url, callback,
                    consent_form, jwt_claims, post, public_jwk_members, redeem, register,
                    request_uri, session)
from oauth_conf import standard_conf

JAR1_SECRET = "jar1-secret-5e0c2f"
JAR2_SECRET = "jar2-secret-c81a9d"
CB1 = "https://jar1.test/cb"
CB2 = "https://jar2.test/cb"

register("jar1", JAR1_SECRET, redirect_uris=[CB1])
register("jar2", JAR2_SECRET, redirect_uris=[CB2])


# ---- keys and signing (python cryptography: software we did not write) -------------------

@pytest.fixture(scope="module")
def keys():
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    return {"rsa1": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ec1": ec.generate_private_key(ec.SECP256R1()),
            "rsa2": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ec2": ec.generate_private_key(ec.SECP256R1())}


def sign(key, alg, claims, kid=None, typ="oauth-authz-req+jwt", header=None):
    """A compact JWS of claims (a dict, or a str sent as is) signed with key as alg."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
    hdr = {"alg": alg}
    if kid:
        hdr["kid"] = kid
    if typ:
        hdr["typ"] = typ
    hdr.update(header or {})
    payload = claims if isinstance(claims, str) else json.dumps(claims)
    si = (b64url(json.dumps(hdr).encode()) + "." + b64url(payload.encode())).encode()
    if alg == "none":
        return si.decode() + "."
    if alg == "PS256":
        sig = key.sign(si, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                       hashes.SHA256())
    elif alg == "RS256":
        sig = key.sign(si, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "ES256":
        r, s = utils.decode_dss_signature(key.sign(si, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        raise ValueError(alg)
    return si.decode() + "." + b64url(sig)


def write_jwks(h, name, pairs):
    """A JWKS file of the public keys [(kid, key)] in h's conf/; its path."""
    ks = [{**public_jwk_members(k.public_key()), "kid": kid, "use": "sig"} for kid, k in pairs]
    path = h.path("conf", f"{name}.jwks.json")
    with open(path, "w") as f:
        json.dump({"keys": ks}, f)
    return path


def jar_conf(keys, server_mode=None, jar1_mode=None):
    """The standard fixture plus jar1 (Allowed by default) and jar2 (Required), each with its
    own keys; the server accepts PS256 and ES256 only (so RS256 is refused)."""
    def body(h):
        j1 = write_jwks(h, "jar1", [("r1", keys["rsa1"]), ("e1", keys["ec1"])])
        j2 = write_jwks(h, "jar2", [("r2", keys["rsa2"]), ("e2", keys["ec2"])])
        extra = f"""
<OAuthASClient jar1>
    OAuthASClientSecret "{JAR1_SECRET}"
    OAuthASAuthMethod client_secret_basic
    OAuthASRedirectURI {CB1}
    OAuthASScope openid profile
    OAuthASGrantType authorization_code
    OAuthASClientJWKS "{j1}"
    {f"OAuthASRequestObject {jar1_mode}" if jar1_mode else ""}
</OAuthASClient>
<OAuthASClient jar2>
    OAuthASClientSecret "{JAR2_SECRET}"
    OAuthASAuthMethod client_secret_basic
    OAuthASRedirectURI {CB2}
    OAuthASScope openid profile
    OAuthASGrantType authorization_code
    OAuthASClientJWKS "{j2}"
    OAuthASRequestObject Required
</OAuthASClient>
"""
        over = {"OAuthASClientSigningAlgs": "PS256 ES256"}
        if server_mode:
            over["OAuthASRequestObject"] = server_mode
        return standard_conf(h, extra=extra, **over)
    return body


@pytest.fixture
def jar(httpd_factory, keys):
    return httpd_factory(jar_conf(keys))


def claims(h, client="jar1", pkce=None, **over):
    """A good request object's claims for client; a keyword None drops a claim."""
    now = int(time.time())
    c = {"iss": client, "client_id": client, "aud": h.issuer, "exp": now + 300, "nbf": now,
         "iat": now, "jti": b64url(os.urandom(9)), "response_type": "code",
         "redirect_uri": CB1 if client == "jar1" else CB2, "scope": "openid profile",
         "state": "inner-state", "nonce": "inner-nonce",
         "code_challenge": (pkce or Pkce()).challenge, "code_challenge_method": "S256"}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def good(h, keys, client="jar1", pkce=None, alg="PS256", **over):
    key, kid = {("jar1", "PS256"): ("rsa1", "r1"), ("jar1", "ES256"): ("ec1", "e1"),
                ("jar2", "PS256"): ("rsa2", "r2"), ("jar2", "ES256"): ("ec2", "e2")}[
                    (client, alg)]
    return sign(keys[key], alg, claims(h, client, pkce, **over), kid=kid)


def par(h, client, data):
    return post(h, "/oauth/par", data, client)


def authorize_by_value(h, client, jws, **outer):
    c = Client(h)
    return c.authorize({"client_id": client, "request": jws, **outer})


# ---- the conformance suite's negatives, at PAR and at /authorize --------------------------

def _now():
    return int(time.time())


def bad_signature(jws):
    """jws with one signature byte changed (still base64url of the same length)."""
    head, sig = jws[:-8], jws[-8:]
    return head + ("A" if sig[0] != "A" else "B") + sig[1:]


# (name, how to make the object from (h, keys), error at PAR, log tag)
NEGATIVES = [
    ("without-exp", lambda h, k: good(h, k, exp=None), "invalid_request_object", "OAS06304"),
    ("without-nbf", lambda h, k: good(h, k, nbf=None), "invalid_request_object", "OAS06305"),
    ("expired", lambda h, k: good(h, k, exp=_now() - 120, nbf=_now() - 300, iat=_now() - 300),
     "invalid_request_object", "OAS06308"),
    ("exp-over-60", lambda h, k: good(h, k, exp=_now() + 3660), "invalid_request_object",
     "OAS06306"),
    ("nbf-over-60", lambda h, k: good(h, k, nbf=_now() - 3660, iat=_now() - 3660,
                                      exp=_now() + 300),
     "invalid_request_object", "OAS06307"),
    ("bad-aud", lambda h, k: good(h, k, aud="https://other.example"), "invalid_request_object",
     "OAS06311"),
    ("aud-token-endpoint", lambda h, k: good(h, k, aud=h.issuer + "/oauth/token"),
     "invalid_request_object", "OAS06311"),
    ("iss-other-client", lambda h, k: good(h, k, iss="conf1"), "invalid_request_object",
     "OAS06309"),
    ("client_id-other", lambda h, k: good(h, k, client_id="conf1"), "invalid_request_object",
     "OAS06310"),
    ("RS256", lambda h, k: sign(k["rsa1"], "RS256", claims(h), kid="r1"),
     "invalid_request_object", "OAS06316"),
    ("alg-none", lambda h, k: sign(None, "none", claims(h)), "invalid_request_object",
     "OAS06314"),
    ("bad-signature", lambda h, k: bad_signature(good(h, k)), "invalid_request_object",
     "OAS06318"),
    ("other-clients-key", lambda h, k: sign(k["rsa2"], "PS256", claims(h), kid="r2"),
     "invalid_request_object", "OAS06318"),
    ("other-clients-key-our-kid", lambda h, k: sign(k["ec2"], "ES256", claims(h), kid="e1"),
     "invalid_request_object", "OAS06318"),
    ("request_uri-inside", lambda h, k: good(
        h, k, request_uri="urn:ietf:params:oauth:request_uri:abc"), "invalid_request_object",
     "OAS06312"),
    ("typ-dpop", lambda h, k: sign(k["ec1"], "ES256", claims(h), kid="e1", typ="dpop+jwt"),
     "invalid_request_object", "OAS06315"),
    # OIDC requests need redirect_uri even with one registered URI: the request's own check
    ("without-redirect-uri", lambda h, k: good(h, k, redirect_uri=None), "invalid_request",
     None),
]


@pytest.mark.parametrize("name,make,error,tag", NEGATIVES, ids=[n[0] for n in NEGATIVES])
def test_negative_at_par(jar, keys, name, make, error, tag):
    r = par(jar, "jar1", {"request": make(jar, keys)})
    assert_json_error(r, 400, error)
    if tag:
        assert tag in jar.error_log()


@pytest.mark.parametrize("name,make,error,tag", NEGATIVES, ids=[n[0] for n in NEGATIVES])
def test_negative_at_authorize(jar, keys, name, make, error, tag):
    """An object that does not verify is a page: its redirect_uri is not to be trusted."""
    jws = make(jar, keys)
    r = authorize_by_value(jar, "jar1", jws, redirect_uri=CB1, response_type="code",
                           scope="openid")
    assert_error_page(r, 400)
    assert jws not in r.text
    if tag:
        assert tag in jar.error_log()
    assert jws.split(".")[1] not in jar.error_log()


def test_unsigned_request_at_par_with_required(jar):
    """ensure-unsigned-request-at-par-endpoint-fails: jar2 must sign."""
    c = Client(jar)
    r = c.s.post(jar.issuer + "/oauth/par", auth=("jar2", JAR2_SECRET), data={
        "response_type": "code", "redirect_uri": CB2, "scope": "openid",
        "code_challenge": Pkce().challenge, "code_challenge_method": "S256"}, timeout=10)
    assert_json_error(r, 400, "invalid_request")


def test_plain_at_authorize_with_required(jar):
    c = Client(jar)
    r = c.authorize({"client_id": "jar2", "response_type": "code", "redirect_uri": CB2,
                     "scope": "openid", "code_challenge": Pkce().challenge,
                     "code_challenge_method": "S256"})
    assert_error_page(r, 400)


def test_server_required_applies_to_clients_with_keys(httpd_factory, keys):
    """OAuthASRequestObject Required at server level: jar1 must sign; conf1 (no keys) cannot,
    and pushes plain parameters as before."""
    h = httpd_factory(jar_conf(keys, server_mode="Required"))
    c = Client(h)
    assert_json_error(c.push("jar1", Pkce(), scope="openid"), 400, "invalid_request")
    request_uri(c.push("conf1", Pkce(), scope="openid"))
    m = session(h).get(h.issuer + "/.well-known/openid-configuration", timeout=10).json()
    assert m["require_signed_request_object"] is True


def test_request_object_of_a_client_without_keys(jar, keys):
    """conf1 has no OAuthASClientJWKS: request objects are not supported for it."""
    jws = sign(keys["rsa1"], "PS256", claims(jar, "conf1"), kid="r1")
    assert_json_error(par(jar, "conf1", {"request": jws}), 400, "request_not_supported")


# ---- successes ----------------------------------------------------------------------------

def full_flow(h, c, ru, client, base):
    page = c.authorize_uri(client, ru)
    consent_form(page)
    return callback(h, c.approve(page), base=base)


@pytest.mark.parametrize("alg", ["PS256", "ES256"])
def test_par_full_flow_inner_values_used(jar, keys, alg):
    """PAR with only request= (and Basic): the object's state and nonce are used, not those
    sent beside it; the flow ends with tokens."""
    pkce = Pkce()
    jws = good(jar, keys, pkce=pkce, alg=alg)
    r = par(jar, "jar1", {"request": jws, "state": "outer-state", "nonce": "outer-nonce",
                          "scope": "openid profile email"})
    ru = request_uri(r)
    c = Client(jar)
    q = full_flow(jar, c, ru, "jar1", CB1)
    assert q["state"] == "inner-state"
    t = redeem(jar, q["code"], pkce.verifier, "jar1")
    assert t.status_code == 200, t.text
    assert jwt_claims(t.json()["id_token"])["nonce"] == "inner-nonce"
    assert set(t.json()["scope"].split()) == {"openid", "profile"}
    assert "OAS06320" in jar.error_log()


def test_par_required_client_full_flow(jar, keys):
    pkce = Pkce()
    ru = request_uri(par(jar, "jar2", {"request": good(jar, keys, "jar2", pkce, "ES256")}))
    q = full_flow(jar, Client(jar), ru, "jar2", CB2)
    assert redeem(jar, q["code"], pkce.verifier, "jar2").status_code == 200


def test_authorize_by_value_full_flow(jar, keys):
    """request= at /authorize with client_id beside it: the object's parameters only."""
    pkce = Pkce()
    jws = good(jar, keys, pkce=pkce)
    c = Client(jar)
    page = c.authorize({"client_id": "jar1", "request": jws, "state": "outer-state",
                        "redirect_uri": "https://evil.test/cb"})
    consent_form(page)
    q = callback(jar, c.approve(page), base=CB1)
    assert q["state"] == "inner-state"
    t = redeem(jar, q["code"], pkce.verifier, "jar1")
    assert t.status_code == 200, t.text
    assert jwt_claims(t.json()["id_token"])["nonce"] == "inner-nonce"


def test_authorize_by_value_client_id_mismatch(jar, keys):
    """client_id outside names another client: verified with that client's keys, refused."""
    r = authorize_by_value(jar, "jar2", good(jar, keys))
    assert_error_page(r, 400)


@pytest.mark.parametrize("at", ["par", "authorize"])
@pytest.mark.parametrize("variant", ["aud-array", "nbf-8s-future"])
def test_successes(jar, keys, at, variant):
    """…-with-multiple-aud-succeeds, …-with-nbf-8-seconds-in-the-future-is-accepted."""
    pkce = Pkce()
    over = ({"aud": ["https://other.example", jar.issuer]} if variant == "aud-array"
            else {"nbf": _now() + 8, "iat": _now() + 8})
    jws = good(jar, keys, pkce=pkce, **over)
    if at == "par":
        request_uri(par(jar, "jar1", {"request": jws}))
    else:
        consent_form(authorize_by_value(jar, "jar1", jws))


def test_plain_parameters_still_allowed(jar):
    """Allowed (the default with keys): jar1 may push plain parameters."""
    request_uri(Client(jar).push("jar1", Pkce(), scope="openid"))


# ---- garbage: a clear 4xx, never a 5xx ----------------------------------------------------

GARBAGE = ["junk", "a.b.c", "...", "eyJhbGciOiJQUzI1NiJ9.bm90IGpzb24.AAAA",
           b64url(b'{"alg":"PS256"}') + "." + b64url(b"not json") + ".AAAA",
           "e30.e30.e30", "x" * 9000, "a." * 3000]


@pytest.mark.parametrize("junk", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage(jar, junk):
    r = par(jar, "jar1", {"request": junk})
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])
    r = authorize_by_value(jar, "jar1", junk)
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])
    assert "Location" not in r.headers


def test_signed_garbage_payload(jar, keys):
    for payload in ("not json", "[1,2]", '{"iss":1}', '{"exp":"x"}'):
        jws = sign(keys["rsa1"], "PS256", payload, kid="r1")
        assert_json_error(par(jar, "jar1", {"request": jws}), 400, "invalid_request_object")


# ---- metadata -----------------------------------------------------------------------------

def test_metadata(jar):
    m = session(jar).get(jar.issuer + "/.well-known/openid-configuration", timeout=10).json()
    assert m["request_parameter_supported"] is True
    assert set(m["request_object_signing_alg_values_supported"]) == {"PS256", "ES256"}
    assert m["require_signed_request_object"] is False
    assert m["request_uri_parameter_supported"] is False


# ---- configuration ------------------------------------------------------------------------

@pytest.mark.parametrize("line,fragment", [
    ("OAuthASRequestObject Sometimes", "OAuthASRequestObject"),
    ("OAuthASRequestObject Required", "OAuthASClientJWKS"),
])
def test_configtest(httpd_factory, line, fragment):
    def body(h):
        return standard_conf(h, extra=f"""
<OAuthASClient nokeys>
    OAuthASClientSecret "nokeys-secret"
    OAuthASRedirectURI https://nokeys.test/cb
    OAuthASScope openid
    {line}
</OAuthASClient>
""")
    h = httpd_factory(body, start=False)
    rc, out = h.configtest()
    assert rc != 0 and fragment in out, out


# ---- the README's example -----------------------------------------------------------------

def test_readme_example(jar, keys):
    """README "Signed request objects": its Python block, run as written, makes an object
    that PAR accepts and that leads to a code."""
    import re
    readme = open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md")).read()
    block = re.search(r"<!-- jar-example:begin -->\n```python\n(.*?)```", readme, re.S).group(1)
    ns = {}
    exec(block, ns)  # noqa: S102 (our own README)
    pkce = Pkce()
    jws = ns["request_object"](keys["rsa1"], "r1", "jar1", jar.issuer, {
        "response_type": "code", "redirect_uri": CB1, "scope": "openid", "state": "readme",
        "code_challenge": pkce.challenge, "code_challenge_method": "S256"})
    ru = request_uri(par(jar, "jar1", {"request": jws}))
    q = full_flow(jar, Client(jar), ru, "jar1", CB1)
    assert q["state"] == "readme"
    assert redeem(jar, q["code"], pkce.verifier, "jar1").status_code == 200


# ---- with private_key_jwt at PAR (i15-assert) ---------------------------------------------

def test_private_key_jwt_and_request_object(httpd_factory, keys):
    """A client that authenticates with private_key_jwt and must sign its requests: PAR with
    client_assertion and request only, then the code flow; its request object is no client
    assertion (no sub, another typ) and the other way round."""
    def body(h):
        jwks = write_jwks(h, "pk", [("r1", keys["rsa1"]), ("e1", keys["ec1"])])
        return standard_conf(h, extra=f"""
<OAuthASClient pk>
    OAuthASAuthMethod private_key_jwt
    OAuthASClientJWKS "{jwks}"
    OAuthASRedirectURI {CB1}
    OAuthASScope openid profile
    OAuthASRequestObject Required
</OAuthASClient>
""")
    h = httpd_factory(body)
    s = session(h)

    def assertion():
        now = _now()
        return sign(keys["ec1"], "ES256", {"iss": "pk", "sub": "pk", "aud": h.issuer,
                                           "exp": now + 60, "iat": now,
                                           "jti": b64url(os.urandom(12))}, kid="e1", typ=None)

    def push(data):
        return s.post(h.issuer + "/oauth/par", data={
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            **data}, timeout=10)

    pkce = Pkce()
    obj = sign(keys["rsa1"], "PS256", claims(h, "jar1", pkce, iss="pk", client_id="pk"),
               kid="r1")
    ru = request_uri(push({"client_assertion": assertion(), "request": obj}))
    q = full_flow(h, Client(h), ru, "pk", CB1)
    assert q["state"] == "inner-state"
    t = s.post(h.issuer + "/oauth/token", data={
        "grant_type": "authorization_code", "code": q["code"], "redirect_uri": CB1,
        "code_verifier": pkce.verifier,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion()}, timeout=10)
    assert t.status_code == 200, t.text
    # plain parameters from this client: invalid_request (it must sign)
    assert_json_error(push({"client_assertion": assertion(), "response_type": "code",
                            "redirect_uri": CB1, "scope": "openid",
                            "code_challenge": pkce.challenge,
                            "code_challenge_method": "S256"}), 400, "invalid_request")
    # the request object offered as the client assertion: refused (no sub, typ)
    r = push({"client_assertion": obj, "request": obj})
    assert r.status_code in (400, 401) and r.json()["error"] == "invalid_client", r.text
