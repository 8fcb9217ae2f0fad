"""FAPI 2.0 Message Signing (Final): the modules of the conformance suite's
`fapi2-message-signing-final-test-plan` that the security-profile plan leaves out (signed
request objects at PAR), and the shared modules whose behaviour signing changes, run as the
plan's `signed_non_repudiation` + `jarm` variant: every request is a request object signed
with the client's key, every authorization response a JARM JWT. Named after the module
(prefix `fapi2-security-profile-final-` left out, `-` -> `_`, as the suite names them in both
plans), in the variants `private_key_jwt-dpop` and `mtls-mtls`, against a server with
`OAuthASProfile fapi2-message-signing`; README.md "FAPI 2.0 conformance" maps each module to
its test."""

import secrets
import time

import pytest

from client import Client, Pkce, consent_form, is_consent_page, location_query, session
from fapi2_variants import VARIANTS, assert_par_error, key2, variant_server
from mtls_pki import Pki
from test_705_client_assertion import key
from test_720_request_object import sign

FAPI_ALGS = {"PS256", "ES256", "EdDSA", "Ed25519"}

# error_log lines (warn and above) the modules provoke on purpose: none.
ALLOWED = ()


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(str(tmp_path_factory.mktemp("pki")))


@pytest.fixture(scope="module", params=VARIANTS)
def v(request, workdir_base, pki):
    yield from variant_server(request, workdir_base, pki, "815", ALLOWED, jar=True,
                              more_server={"OAuthASProfile": "fapi2-message-signing"})


def request_object(v, p, cid=None, alg="ES256", signer=None, kid=None, typ="oauth-authz-req+jwt",
                   **claims):
    """A request object of client cid as the suite builds it (iss, aud, client_id, the
    authorization parameters, response_mode jwt, nbf now, exp in 5 minutes), signed with the
    client's key for alg (signer/kid: another key); claims change members (None drops one)."""
    cid = cid or v.c1
    now = int(time.time())
    c = {"iss": cid, "aud": v.h.issuer, "client_id": cid, "response_type": "code",
         "redirect_uri": v.redirect(cid), "scope": "openid profile",
         "state": "st-" + secrets.token_hex(6), "nonce": "n-" + secrets.token_hex(6),
         "code_challenge": p.challenge, "code_challenge_method": "S256",
         "response_mode": "jwt", "nbf": now, "exp": now + 300, "jti": secrets.token_urlsafe(12)}
    c.update(claims)
    c = {n: x for n, x in c.items() if x is not None}
    if alg == "none":
        return sign(None, "none", c, typ=typ)
    if signer is None:
        if cid == v.c2:
            signer, kid = key2(), kid or "k2"
        else:
            signer, kid = key(alg), kid or f"k-{alg}"
    return sign(signer, alg, c, kid=kid, typ=typ)


def push_ro(v, ro, k, cid=None, **extra):
    cid = cid or v.c1
    return v.send("/oauth/par", {"request": ro, "client_id": cid, **extra}, k, cid)


def jarm(v, r, cid=None):
    """The claims of a JARM response: only `response` in the query, signed by the server, for
    the client, short-lived, with iss (only inside)."""
    assert r.status_code in (302, 303), (r.status_code, r.headers)
    got, q = location_query(r)
    assert got == v.redirect(cid) and set(q) == {"response"}, r.headers["Location"]
    _, claims = Client(v.h).verify_jwt(q["response"])
    assert claims["iss"] == v.h.issuer and claims["aud"] == (cid or v.c1), claims
    assert 0 < claims["exp"] - time.time() <= 600, claims
    return claims


def flow(v, k, p, cid=None, **claims):
    """PAR with a request object, the browser, the JARM response's claims (a 303 with a code
    asserted unless it carries an error)."""
    r = push_ro(v, request_object(v, p, cid, **claims), k, cid)
    assert r.status_code == 201, (r.status_code, r.text)
    resp = v.browser(r.json()["request_uri"], cid)
    out = jarm(v, resp, cid)
    if "error" not in out:
        assert resp.status_code == 303 and out.get("code"), (resp.status_code, out)
    return out


def assert_ro_refused(v, ro, errors=("invalid_request_object",), cid=None):
    """What the suite accepts for a bad request object: a PAR error (400) of errors."""
    assert_par_error(push_ro(v, ro, v.key(cid), cid), errors)


# ---- the shared modules, signed -----------------------------------------------------------------

def test_discovery_end_point_verification(v):
    md = session(v.h).get(v.h.issuer + "/.well-known/openid-configuration", timeout=10).json()
    assert md["issuer"] == v.h.issuer
    assert md["request_parameter_supported"] is True, md
    assert md["require_signed_request_object"] is True, md
    assert md["response_modes_supported"] == ["jwt", "query.jwt"], md
    assert set(md["request_object_signing_alg_values_supported"]) <= FAPI_ALGS, md
    assert "jwt" in md["response_modes_supported"], md
    assert set(md["authorization_signing_alg_values_supported"]) <= FAPI_ALGS, md
    assert md["require_pushed_authorization_requests"] is True, md


def test_happy_flow(v):
    """A signed request at PAR, a JARM response (a 303), tokens bound to the holder's key."""
    k, p = v.key(), Pkce()
    out = flow(v, k, p, state="st-happy")
    assert out["state"] == "st-happy", out
    v.assert_bound(v.token(v.grant(out["code"], p), k), k)


def test_user_rejects_authentication(v):
    k, p = v.key(), Pkce()
    r = push_ro(v, request_object(v, p, state="st-deny", prompt="consent"), k)
    assert r.status_code == 201, r.text
    c = Client(v.h)
    page = c.authorize_uri(v.c1, r.json()["request_uri"])
    assert is_consent_page(page), page.text
    out = jarm(v, c.decide(consent_form(page), "deny"))
    assert out["error"] == "access_denied" and out["state"] == "st-deny", out
    assert "code" not in out, out


def test_ensure_request_object_with_multiple_aud_succeeds(v):
    k, p = v.key(), Pkce()
    out = flow(v, k, p, aud=[v.h.issuer, "https://other.example.com"])
    v.assert_bound(v.token(v.grant(out["code"], p), k), k)


def test_ensure_request_object_with_nbf_8_seconds_in_the_future_is_accepted(v):
    now = int(time.time())
    k, p = v.key(), Pkce()
    out = flow(v, k, p, nbf=now + 8, exp=now + 8 + 300)
    v.assert_bound(v.token(v.grant(out["code"], p), k), k)


def test_ensure_authorization_request_without_state_success(v):
    out = flow(v, v.key(), Pkce(), state=None)
    assert "state" not in out and out["code"], out


def test_ensure_different_nonce_inside_and_outside_request_object(v):
    """A nonce beside `request` at PAR is not used (only the object's parameters are)."""
    k, p = v.key(), Pkce()
    r = push_ro(v, request_object(v, p, nonce="inside-nonce"), k, nonce="outside-nonce")
    assert r.status_code == 201, r.text
    out = jarm(v, v.browser(r.json()["request_uri"]))
    t = v.assert_bound(v.token(v.grant(out["code"], p), k), k)
    assert Client(v.h).verify_jwt(t["id_token"])[1]["nonce"] == "inside-nonce"


def test_ensure_different_state_inside_and_outside_request_object(v):
    k, p = v.key(), Pkce()
    r = push_ro(v, request_object(v, p, state="inside-state"), k, state="outside-state")
    assert r.status_code == 201, r.text
    assert jarm(v, v.browser(r.json()["request_uri"]))["state"] == "inside-state"


def test_state_only_outside_request_object_not_used(v):
    k, p = v.key(), Pkce()
    r = push_ro(v, request_object(v, p, state=None), k, state="outside-state")
    assert r.status_code == 201, r.text
    assert "state" not in jarm(v, v.browser(r.json()["request_uri"]))


def test_ensure_unsigned_authorization_request_without_using_par_fails(v):
    """/authorize with a signed request but no PAR: invalid_request, as a JARM response."""
    ro = request_object(v, Pkce(), state="st-nopar")
    r = Client(v.h).authorize({"client_id": v.c1, "request": ro, "response_mode": "jwt"})
    out = jarm(v, r)
    assert out["error"] == "invalid_request", out


# ---- request objects: negative modules ----------------------------------------------------------

def test_ensure_request_object_without_redirect_uri_fails(v):
    assert_ro_refused(v, request_object(v, Pkce(), redirect_uri=None),
                      ("invalid_request", "invalid_request_object"))


def test_ensure_request_object_without_exp_fails(v):
    assert_ro_refused(v, request_object(v, Pkce(), exp=None))


def test_ensure_request_object_without_nbf_fails(v):
    assert_ro_refused(v, request_object(v, Pkce(), nbf=None))


def test_ensure_expired_request_object_fails(v):
    now = int(time.time())
    assert_ro_refused(v, request_object(v, Pkce(), nbf=now - 600, exp=now - 300))


def test_ensure_request_object_with_bad_aud_fails(v):
    assert_ro_refused(v, request_object(v, Pkce(), aud="https://other.example.com"))


def test_ensure_request_object_with_exp_over_60_fails(v):
    """exp 70 minutes after nbf (the suite's offset)."""
    now = int(time.time())
    assert_ro_refused(v, request_object(v, Pkce(), exp=now + 70 * 60))


def test_ensure_request_object_with_nbf_over_60_fails(v):
    """nbf 70 minutes ago."""
    now = int(time.time())
    assert_ro_refused(v, request_object(v, Pkce(), nbf=now - 70 * 60, exp=now + 60))


def test_ensure_signed_request_object_with_RS256_fails(v):
    """Signed RS256 with a key the client registered for it: outside FAPI 2.0."""
    assert_ro_refused(v, request_object(v, Pkce(), alg="RS256"))


def test_ensure_request_object_signature_algorithm_is_not_none(v):
    assert_ro_refused(v, request_object(v, Pkce(), alg="none"))


def test_ensure_request_object_with_invalid_signature_fails(v):
    ro = request_object(v, Pkce())
    head, body, sig = ro.split(".")
    bad = sig[:-4] + ("AAAA" if not sig.endswith("AAAA") else "BBBB")
    assert_ro_refused(v, ".".join((head, body, bad)))


def test_ensure_matching_key_in_authorization_request(v):
    """Client 1's request object signed with client 2's key (kid k2): refused."""
    ro = request_object(v, Pkce(), signer=key2(), kid="k2")
    assert_ro_refused(v, ro, ("invalid_request", "invalid_request_object"))


def test_ensure_unsigned_request_at_par_endpoint_fails(v):
    """Plain parameters at PAR from a client that must sign: invalid_request."""
    assert_par_error(v.push(Pkce(), v.key()), ("invalid_request",))


def test_par_authorization_request_containing_request_uri(v):
    """A request_uri claim inside the request object: invalid_request_object."""
    ro = request_object(v, Pkce(), request_uri="urn:ietf:params:oauth:request_uri:abc")
    assert_ro_refused(v, ro)
