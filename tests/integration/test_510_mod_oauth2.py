"""Issue 8: a real resource server, Debian's mod_oauth2 (liboauth2), accepts our tokens.

One httpd: the main server (TLS) is the AS of standard_conf; a second TLS <VirtualHost> on its
own port is the resource server, /api/... protected by mod_oauth2 (AuthType oauth2):

    /api/jwks/        OAuth2TokenVerify jwks_uri <our JWKS>        Require valid-user
    /api/aud/         OAuth2TokenVerify jwks_uri <our JWKS>        Require oauth2_claim aud:urn:test:api
    /api/introspect/  OAuth2TokenVerify introspect <our /oauth/introspect>, as svc1
                      (client_secret_basic)                         Require valid-user
    /api/dpop/        OAuth2TokenVerify jwks_uri <our JWKS> type=dpop, the DPoP scheme only
                                                                    Require valid-user

With rs_body(h, jwt_keys=...) (issue 15) three more, introspecting with a client assertion
(liboauth2's `introspect.auth=private_key_jwt` with the key as a JWK, RS256 only, and
`client_secret_jwt`, HS256; both take the assertion's `aud` from the option `aud`, set to our
issuer, so the strict audience check holds):

    /api/introspect-pkjwt/  as rs-pkjwt (private_key_jwt, its RSA key)
    /api/introspect-sjwt/   as rs-sjwt (client_secret_jwt)
    /api/introspect-wrong/  as rs-pkjwt, but signing with a key it did not register

Each serves a mod_include page printing the claims mod_oauth2 passes on (OAUTH2_CLAIM_sub,
OAUTH2_CLAIM_aud).  liboauth2 1.4.5 has no CA-bundle option for these URLs, so the RS fetches
our JWKS / calls introspection with *.ssl_verify=false (loopback only; a deployment with a
public CA keeps the default, verification on).  expiry=1 keeps mod_oauth2's cache of token
validation results (default: much longer) out of the revocation test's way.
"""

import base64
import json
import re
import time
import urllib.parse

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from cryptography.hazmat.primitives.asymmetric import rsa

from client import (DPoPKey, client_credentials, get_code, introspect, jwt_claims, redeem,
                    revoke, session, token)
from client_jwk import rsa_private_jwk, write_client_key
from oauth_conf import RESOURCE, SVC1_SECRET, standard_conf
from third_party import mod_oauth2_vhost

API_PAGE = """{"sub": "<!--#echo var="OAUTH2_CLAIM_sub" -->", \
"aud": "<!--#echo var="OAUTH2_CLAIM_aud" -->", "remote_user": "<!--#echo var="REMOTE_USER" -->"}
"""


# mod_oauth2 logs every rejected token at [error] level: these lines are expected where a
# test presents a bad token (the harness fails a test on any other [error] line).
LOG_EXPIRED = '"exp" validation failure'
LOG_INACTIVE = '"active" boolean object with value "false"'
LOG_AUTHZ = "AH01631"   # mod_authz_core: Require oauth2_claim not satisfied


RS_SJWT_SECRET = "rs-sjwt-secret-8e41c0d2a7f95b36e1c4d0a9f27b85c3"   # >= 32 bytes
RS_KID = "rs-pkjwt-rsa"


def jwt_introspection(h, keys):
    """Issue 15: (our client blocks, mod_oauth2 <Location>s) of the three JWT-authenticated
    introspection variants; keys = (the registered RSA key, a key nobody registered)."""
    _, jwks = write_client_key(h, "rs-pkjwt", keys[0], kid=RS_KID)
    clients = f"""
<OAuthASClient rs-pkjwt>
    OAuthASClientJWKS "{jwks}"
    OAuthASAuthMethod private_key_jwt
    OAuthASGrantType client_credentials
    OAuthASIntrospection On
</OAuthASClient>
<OAuthASClient rs-sjwt>
    OAuthASClientSecret "{RS_SJWT_SECRET}"
    OAuthASAuthMethod client_secret_jwt
    OAuthASGrantType client_credentials
    OAuthASIntrospection On
</OAuthASClient>
"""
    q = lambda v: urllib.parse.quote(v, safe="")  # noqa: E731
    url = f"{h.issuer}/oauth/introspect"
    base = f"introspect.ssl_verify=false&aud={q(h.issuer)}&expiry=1"
    auth = {
        "pkjwt": "introspect.auth=private_key_jwt&client_id=rs-pkjwt&jwk="
                 + q(json.dumps(rsa_private_jwk(keys[0], RS_KID))),
        "sjwt": "introspect.auth=client_secret_jwt&client_id=rs-sjwt"
                f"&client_secret={RS_SJWT_SECRET}",
        "wrong": "introspect.auth=private_key_jwt&client_id=rs-pkjwt&jwk="
                 + q(json.dumps(rsa_private_jwk(keys[1], RS_KID))),
    }
    locations = "".join(f"""
    <Location /api/introspect-{name}/>
        AuthType oauth2
        OAuth2TokenVerify introspect {url} {base}&{opts}
        Require valid-user
    </Location>""" for name, opts in auth.items())
    return clients, locations


def rs_body(h, jwt_keys=None, **overrides):
    jwks = (f"OAuth2TokenVerify jwks_uri {h.issuer}/.well-known/jwks.json "
            "jwks_uri.ssl_verify=false&verify.exp=required&verify.iss=skip&expiry=1")
    intro = (f"OAuth2TokenVerify introspect {h.issuer}/oauth/introspect "
             "introspect.ssl_verify=false&introspect.auth=client_secret_basic"
             f"&client_id=svc1&client_secret={SVC1_SECRET}&expiry=1")
    jwt_clients, jwt_locations = jwt_introspection(h, jwt_keys) if jwt_keys else ("", "")
    locations = f"""
    <Location /api/jwks/>
        AuthType oauth2
        {jwks}
        Require valid-user
    </Location>
    <Location /api/aud/>
        AuthType oauth2
        {jwks}
        Require oauth2_claim aud:{RESOURCE}
    </Location>
    <Location /api/introspect/>
        AuthType oauth2
        {intro}
        Require valid-user
    </Location>
    <Location /api/dpop/>
        AuthType oauth2
        OAuth2AcceptTokenIn header "name=Authorization&type=DPoP"
        {jwks}&type=dpop
        Require valid-user
    </Location>{jwt_locations}"""
    paths = ["jwks", "aud", "introspect", "introspect-pkjwt", "introspect-sjwt",
             "introspect-wrong", "dpop"]
    return (standard_conf(h, extra=jwt_clients, **overrides) +
            mod_oauth2_vhost(h, API_PAGE, paths, locations))


@pytest.fixture
def rs(httpd_factory):
    return httpd_factory(rs_body)


def call(h, where, token):
    s = session(h)
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return s.get(f"{h.rs_url}/api/{where}/", headers=headers, timeout=10,
                 allow_redirects=False)


def assert_ok(r, sub):
    assert r.status_code == 200, (r.status_code, r.headers, r.text[:300])
    body = json.loads(r.text)
    assert body["sub"] == sub and body["remote_user"] == sub, body
    return body


def assert_401(r):
    assert r.status_code == 401, (r.status_code, r.headers, r.text[:300])
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), r.headers


def cc_token(h, **data):
    r = client_credentials(h, **data)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


# ---- a valid token gets the API's answer -----------------------------------------------------

@pytest.mark.parametrize("where", ["jwks", "aud", "introspect"])
def test_client_credentials_token_accepted(rs, where):
    at = cc_token(rs, resource=RESOURCE)
    assert jwt_claims(at)["aud"] in (RESOURCE, [RESOURCE])
    body = assert_ok(call(rs, where, at), "svc1")
    assert body["aud"] == RESOURCE


@pytest.mark.parametrize("param", ["resource", "audience"])
@pytest.mark.parametrize("where", ["jwks", "aud", "introspect"])
def test_code_flow_token_accepted(rs, where, param):
    a = get_code(rs, "conf1", scope="openid api.read", **{param: RESOURCE})
    r = redeem(rs, a)
    assert r.status_code == 200, r.text
    at = r.json()["access_token"]
    assert jwt_claims(at)["sub"] == "alice"
    body = assert_ok(call(rs, where, at), "alice")
    assert body["aud"] == RESOURCE


@pytest.mark.parametrize("where", ["jwks", "aud", "introspect"])
def test_no_token_401(rs, where):
    assert_401(call(rs, where, None))


# ---- expired, revoked, wrongly signed, other audience -------------------------------------

@pytest.mark.allow_log(LOG_EXPIRED, LOG_INACTIVE)
@pytest.mark.parametrize("where", ["jwks", "introspect"])
def test_expired_token_401(httpd_factory, where):
    h = httpd_factory(lambda h: rs_body(h, OAuthASAccessTokenLifetime=2))
    at = cc_token(h, resource=RESOURCE)
    assert_ok(call(h, where, at), "svc1")
    exp = jwt_claims(at)["exp"]
    while time.time() < exp + 1.2:
        time.sleep(0.2)
    assert_401(call(h, where, at))


@pytest.mark.allow_log(LOG_INACTIVE)
def test_revoked_token_401_with_introspection(rs):
    at = cc_token(rs, resource=RESOURCE)
    assert_ok(call(rs, "introspect", at), "svc1")
    r = revoke(rs, "svc1", at)
    assert r.status_code == 200, r.text
    assert introspect(rs, at).json() == {"active": False}
    time.sleep(1.2)   # mod_oauth2's validation cache (expiry=1)
    assert_401(call(rs, "introspect", at))
    # a JWKS-only resource server cannot know: the signature is still good (documented limit)
    assert_ok(call(rs, "jwks", at), "svc1")


def _b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def _resign(token, key):
    """The token's header and payload, signed with another ES256 key (same kid)."""
    head, payload, _ = token.split(".")
    signing_input = f"{head}.{payload}".encode()
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    return f"{head}.{payload}.{_b64u(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


@pytest.mark.allow_log(LOG_INACTIVE)
@pytest.mark.parametrize("where", ["jwks", "aud", "introspect"])
@pytest.mark.allow_log("cjose_jws_verify failed")  # not in the introspection variant
def test_wrongly_signed_token_401(rs, where):
    at = cc_token(rs, resource=RESOURCE)
    other = ec.generate_private_key(ec.SECP256R1())
    assert_401(call(rs, where, _resign(at, other)))


@pytest.mark.allow_log(LOG_INACTIVE)
@pytest.mark.parametrize("where", ["jwks", "aud", "introspect"])
@pytest.mark.allow_log("cjose_jws_verify failed")  # not in the introspection variant
def test_tampered_token_401(rs, where):
    at = cc_token(rs, resource=RESOURCE)
    head, payload, sig = at.split(".")
    claims = jwt_claims(at)
    claims["sub"] = "alice"
    forged = f"{head}.{_b64u(json.dumps(claims).encode())}.{sig}"
    assert_401(call(rs, where, forged))


@pytest.mark.allow_log(LOG_AUTHZ)
def test_other_audience_rejected(rs):
    # client_credentials without resource: aud is the issuer, not urn:test:api
    at = cc_token(rs)
    assert RESOURCE not in (jwt_claims(at)["aud"] if isinstance(jwt_claims(at)["aud"], list)
                            else [jwt_claims(at)["aud"]])
    # the signature is ours: a resource server that checks no audience accepts it ...
    assert_ok(call(rs, "jwks", at), "svc1")
    # ... Require oauth2_claim aud:urn:test:api does not
    r = call(rs, "aud", at)
    assert r.status_code == 401, (r.status_code, r.headers, r.text[:300])


# ---- issue 15: mod_oauth2 authenticates to introspection with a client assertion -------------

@pytest.fixture
def rs_jwt(httpd_factory):
    keys = (rsa.generate_private_key(public_exponent=65537, key_size=2048),
            rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return httpd_factory(lambda h: rs_body(h, jwt_keys=keys))


@pytest.mark.parametrize("where", ["introspect-pkjwt", "introspect-sjwt"])
def test_introspection_with_jwt_client_auth(rs_jwt, where):
    """liboauth2 signs a fresh assertion (RS256 or HS256, aud = our issuer, a new jti) for every
    introspection call: two tokens, two calls, both accepted."""
    for _ in range(2):
        at = cc_token(rs_jwt, resource=RESOURCE)
        assert_ok(call(rs_jwt, where, at), "svc1")


@pytest.mark.expect_log("OAS06216")
def test_introspection_with_an_unregistered_key_401(rs_jwt):
    """The same resource server signing with a key it did not register: our introspection
    endpoint refuses the assertion (invalid_client), so mod_oauth2 rejects a good token."""
    # mod_oauth2 caches a token's validation for all its locations (expiry=1): a token of its own
    # for each, the refused one first
    assert_401(call(rs_jwt, "introspect-wrong", cc_token(rs_jwt, resource=RESOURCE)))
    assert_ok(call(rs_jwt, "introspect-pkjwt", cc_token(rs_jwt, resource=RESOURCE)), "svc1")
    # our log: the signature of rs-pkjwt's assertion does not verify (OAS06216)
    assert re.search(r"OAS06216.*client rs-pkjwt: assertion signature", rs_jwt.error_log())


# ---- DPoP (issue 16): liboauth2 1.4.5.4's DPoP, written to a 2023 draft ------------------------

LOG_DPOP = "DPOP"   # liboauth2 logs each refused proof at [error] level ("... DPOP ...")


def dpop_call(h, token, proof, scheme="DPoP"):
    headers = {"Authorization": f"{scheme} {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    return session(h).get(f"{h.rs_url}/api/dpop/", headers=headers, timeout=10,
                          allow_redirects=False)


def dpop_token(h, key):
    r = token(h, "svc1", {"grant_type": "client_credentials"},
              headers={"DPoP": key.proof("POST", h.issuer + "/oauth/token")})
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP", r.text
    assert jwt_claims(r.json()["access_token"])["cnf"] == {"jkt": key.jkt}
    return r.json()["access_token"]


@pytest.mark.allow_log(LOG_DPOP, "replay", "cjose_jws_import failed",
                       "unsupported authentication scheme")
def test_dpop_bound_token_with_proof(rs):
    """mod_oauth2 (type=dpop) accepts our bound token with a proof of its key (our cnf.jkt is
    the thumbprint it computes), and refuses it without a proof, as Bearer, with a proof of
    another key, for another URL, and a proof used twice."""
    k, url = DPoPKey(), f"{rs.rs_url}/api/dpop/"
    at = dpop_token(rs, k)
    assert_ok(dpop_call(rs, at, k.proof("GET", url, at)), "svc1")
    for r in (dpop_call(rs, at, None), dpop_call(rs, at, k.proof("GET", url, at), "Bearer"),
              dpop_call(rs, at, DPoPKey().proof("GET", url, at)),
              dpop_call(rs, at, k.proof("GET", url + "x", at))):
        assert r.status_code == 401, (r.status_code, r.text[:200])
    proof = k.proof("GET", url, at)
    assert_ok(dpop_call(rs, at, proof), "svc1")
    assert dpop_call(rs, at, proof).status_code == 401


@pytest.mark.allow_log(LOG_DPOP, "cjose_jws_import failed")
def test_dpop_where_liboauth2_1_4_5_falls_short(rs):
    """Where bookworm's liboauth2 1.4.5.4 (DPoP of a 2023 draft) differs from RFC 9449, as the
    README says: it does not check ath (a proof for another token passes), it refuses EdDSA
    proofs (only RS*, PS*, ES*), and a location of type bearer takes a bound token as a
    Bearer token (RFC 9449 §7.2 asks a resource server to refuse it). Our own userinfo does
    all three right (test_750)."""
    k, url = DPoPKey(), f"{rs.rs_url}/api/dpop/"
    at = dpop_token(rs, k)
    assert_ok(dpop_call(rs, at, k.proof("GET", url, "another token")), "svc1")   # no ath check
    assert_ok(dpop_call(rs, at, k.proof("GET", url)), "svc1")                    # nor a missing one
    ed = DPoPKey("ed25519")
    at_ed = dpop_token(rs, ed)
    assert dpop_call(rs, at_ed, ed.proof("GET", url, at_ed)).status_code == 401  # EdDSA refused
    assert_ok(call(rs, "jwks", at), "svc1")                                     # bound, as Bearer
