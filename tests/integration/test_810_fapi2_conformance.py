"""FAPI 2.0 Security Profile (Final), the proof of issue 18: one test per server-side module of
the OpenID conformance suite's `fapi2-security-profile-final-test-plan` (its module list: the
suite's FAPI2SPFinalTestPlan, i.e. the message-signing plan less the modules that need signed
request objects, which are in test_815), named after the module (prefix
`fapi2-security-profile-final-` left out, `-` -> `_`), run in the variants
`private_key_jwt-dpop` and `mtls-mtls` wherever the suite runs the module in both (its
@VariantNotApplicable); private_key_jwt-only and DPoP-only modules run that variant only.
Each asserts what the suite asserts: the status, the error codes it accepts, 303 with iss,
the PAR answer, the DPoP-Nonce form. One fapi2 server per variant serves the whole file;
README.md "FAPI 2.0 conformance" maps each module to its test."""

import re
import ssl
import time

import pytest

from client import (Client, DPoPKey, Pkce, consent_form, is_consent_page,
                    par_params, private_jwk, raw_request, redirect_params, session)
from fapi2_variants import (BCP195_TLS12, CODE_LIFETIME, DPOP_ONLY, REQUEST_URI_LIFETIME,
                            VARIANTS, assert_authorization_error, assert_error_response,
                            assert_par_error, assert_token_error, handshake, variant_server)
from mtls_pki import Pki

FAPI_ALGS = {"PS256", "ES256", "EdDSA", "Ed25519"}
INVALID_CLIENT = ("invalid_client", "invalid_request")  # the suite's accepted pairs
DPOP_ERRORS = ("invalid_request", "invalid_grant", "invalid_dpop_proof")
REDIRECT_ERRORS = ("invalid_request", "invalid_request_object")
RESPONSE_TYPE_ERRORS = ("unsupported_response_type", "invalid_request", "unauthorized_client")

# error_log lines (warn and above) the modules provoke on purpose: a replayed code
# (attempt-reuse-authorization-code-after-one-second).
ALLOWED = ("OAS00131",)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(str(tmp_path_factory.mktemp("pki")))


def aged(v):
    """A pushed request and a code made when the server starts, for the expiry modules at the
    end of the file (they then wait only for what is left of the lifetimes)."""
    k, p = v.key(), Pkce()
    uri = v.request_uri(Pkce(), k)
    return {"t0": time.time(), "uri": uri, "key": k, "p": p, "code": v.code(p, k)}


@pytest.fixture(scope="module", params=VARIANTS)
def v(request, workdir_base, pki):
    for var in variant_server(request, workdir_base, pki, "810", ALLOWED):
        var.aged = aged(var)
        yield var


def dpop_only(fn):
    return pytest.mark.parametrize("v", DPOP_ONLY, indirect=True)(fn)


def id_token(v, t):
    """The ID token's claims: signed by the server (a FAPI algorithm), for client 1, fresh."""
    header, claims = Client(v.h).verify_jwt(t["id_token"])
    assert header["alg"] in FAPI_ALGS, header
    assert claims["iss"] == v.h.issuer and claims["aud"] == v.c1, claims
    assert claims["exp"] > time.time() and abs(claims["iat"] - time.time()) < 60, claims
    return claims


# ---- normal well-behaved client ----------------------------------------------------------------

def test_discovery_end_point_verification(v):
    """Both well-known documents; auth methods only private_key_jwt / tls_client_auth; FAPI
    algorithms; S256; iss parameter; PAR advertised and required (a boolean)."""
    docs = [session(v.h).get(v.h.issuer + path, timeout=10).json()
            for path in ("/.well-known/openid-configuration",
                         "/.well-known/oauth-authorization-server")]
    for md in docs:
        assert md["issuer"] == v.h.issuer, md
        assert set(md["token_endpoint_auth_methods_supported"]) <= {"private_key_jwt",
                                                                    "tls_client_auth"}, md
        assert ("private_key_jwt" if v.dpop else "tls_client_auth") in \
            md["token_endpoint_auth_methods_supported"], md
        for name in ("dpop_signing_alg_values_supported", "id_token_signing_alg_values_supported",
                     "token_endpoint_auth_signing_alg_values_supported"):
            assert set(md[name]) <= FAPI_ALGS and md[name], (name, md[name])
        assert "S256" in md["code_challenge_methods_supported"], md
        assert md["authorization_response_iss_parameter_supported"] is True, md
        assert md["pushed_authorization_request_endpoint"] == v.h.issuer + "/oauth/par", md
        assert md["require_pushed_authorization_requests"] is True, md
        assert md["response_types_supported"] == ["code"], md
        if not v.dpop:
            assert md["tls_client_certificate_bound_access_tokens"] is True, md


def test_happy_flow(v):
    """The plain_fapi profile's flow: PAR (201, expires_in), a 303 with iss, tokens bound to
    the holder's key, an ID token for the client, userinfo with the bound token; in the DPoP
    variant the first client's server nonces (use_dpop_nonce with a DPoP-Nonce, retried)."""
    k, p = v.key(), Pkce()
    t = v.tokens(p, k, nonce="n-" + "x" * 10)
    claims = id_token(v, t)
    assert claims["nonce"] == "n-" + "x" * 10, claims
    r = v.userinfo(t["access_token"], k)
    assert r.status_code == 200 and r.json()["sub"] == claims["sub"], r.text
    if v.dpop:
        assert v.nonces.get("as") and v.nonces.get("rs") and v.nonce_errors >= 1, v.nonces


def test_fapi_client_credentials_grant(v):
    """The fapi_client_credentials_grant profile: a sender-constrained token without a
    browser."""
    k = v.key()
    v.assert_bound(v.token({"grant_type": "client_credentials", "scope": "profile"}, k), k)


def test_user_rejects_authentication(v):
    """The user cancels: a redirect to the client with access_denied, state and iss (302: it
    carries no credential, so FAPI2 5.3.2.2-10's 303 is not needed; never 307)."""
    uri = v.request_uri(Pkce(), v.key(), state="st-reject", prompt="consent")  # remembered
    c = Client(v.h)
    page = c.authorize_uri(v.c1, uri)
    assert is_consent_page(page), page.text
    r = c.decide(consent_form(page), "deny")
    q = redirect_params(r, base=v.redirect())
    assert_error_response(v, q, ("access_denied",))
    assert q["state"] == "st-reject", q


def test_ensure_authorization_request_without_state_success(v):
    q = v.response(Pkce(), v.key(), state=None)
    assert "state" not in q and q["code"], q


def test_ensure_authorization_request_without_nonce_success(v):
    k, p = v.key(), Pkce()
    assert "nonce" not in id_token(v, v.tokens(p, k, nonce=None))


def test_ensure_authorization_request_with_64_char_nonce_success(v):
    nonce = "N" * 64
    assert id_token(v, v.tokens(Pkce(), v.key(), nonce=nonce))["nonce"] == nonce


def test_ensure_other_scope_order_succeeds(v):
    k = v.key()
    t = v.tokens(Pkce(), k, scope="profile openid")
    assert set(t["scope"].split()) == {"openid", "profile"}, t


def test_test_claims_parameter_identity_claims(v):
    """The suite skips this module unless claims_parameter_supported is true; we do not offer
    the claims parameter, and a request carrying one still succeeds (it is ignored)."""
    md = session(v.h).get(v.h.issuer + "/.well-known/openid-configuration", timeout=10).json()
    assert md.get("claims_parameter_supported", False) is False, md
    claims = '{"userinfo": {"name": null}, "id_token": {"email": {"essential": true}}}'
    assert v.tokens(Pkce(), v.key(), claims=claims)["access_token"]


def test_access_token_type_header_case_sensitivity(v):
    """The authentication scheme at userinfo in inverted case (RFC 9110 §11.1)."""
    k = v.key()
    t = v.tokens(Pkce(), k)
    scheme = t["token_type"].swapcase()
    r = v.userinfo(t["access_token"], k, scheme=scheme)
    assert r.status_code == 200 and r.json()["sub"] == "alice", (scheme, r.status_code, r.text)


# ---- possible failures ----------------------------------------------------------------------

def test_ensure_authorization_request_with_long_nonce(v):
    """384 characters: used unchanged, or invalid_request (never truncated)."""
    nonce = "L" * 384
    r = v.push(Pkce(), v.key(), nonce=nonce)
    if r.status_code == 201:
        k, p = v.key(), Pkce()
        assert id_token(v, v.tokens(p, k, nonce=nonce))["nonce"] == nonce
    else:
        assert_par_error(r)


def test_ensure_authorization_request_with_long_state(v):
    """A 384-character state: echoed exactly, or invalid_request."""
    state = "S" * 384
    r = v.push(Pkce(), v.key(), state=state)
    if r.status_code == 201:
        assert v.response(Pkce(), v.key(), state=state)["state"] == state
    else:
        assert_par_error(r)


def test_ensure_different_nonce_inside_and_outside_request_object(v):
    """Unsigned variant: the pushed nonce is the request; a nonce beside request_uri at
    /authorize is not used (or the request fails)."""
    k, p = v.key(), Pkce()
    uri = v.request_uri(p, k, nonce="inside-nonce")
    r = Client(v.h).authorize_and_approve({"client_id": v.c1, "request_uri": uri,
                                           "nonce": "outside-nonce"})
    code = v.callback(r)["code"]
    t = v.assert_bound(v.token(v.grant(code, p), k), k)
    assert id_token(v, t)["nonce"] == "inside-nonce"


def test_ensure_different_state_inside_and_outside_request_object(v):
    uri = v.request_uri(Pkce(), v.key(), state="inside-state")
    r = Client(v.h).authorize_and_approve({"client_id": v.c1, "request_uri": uri,
                                           "state": "outside-state"})
    assert v.callback(r)["state"] == "inside-state"


def test_state_only_outside_request_object_not_used(v):
    uri = v.request_uri(Pkce(), v.key(), state=None)
    r = Client(v.h).authorize_and_approve({"client_id": v.c1, "request_uri": uri,
                                           "state": "outside-state"})
    assert "state" not in v.callback(r)


# ---- negative tests of the authorization request --------------------------------------------

def test_ensure_request_object_without_redirect_uri_fails(v):
    """Unsigned variant: a push without redirect_uri (FAPI2 5.3.2.2-6) is refused."""
    assert_par_error(v.push(Pkce(), v.key(), redirect_uri=None), REDIRECT_ERRORS)


def test_ensure_redirect_uri_in_authorization_request(v):
    """Not even a plain OAuth request (no openid) may fall back to the one registered URI."""
    assert_par_error(v.push(Pkce(), v.key(), redirect_uri=None, scope="profile"), REDIRECT_ERRORS)


def test_ensure_registered_redirect_uri(v):
    """An unregistered redirect_uri: a PAR error (the suite also accepts an error page)."""
    assert_par_error(v.push(Pkce(), v.key(), redirect_uri="https://attacker.test/cb"),
                     REDIRECT_ERRORS)


def test_plain_fapi_tolerate_unregistered_redirect_uri(v):
    """The suite lets an AS accept an unregistered URI at PAR (RFC 9126 §2.4) or refuse it;
    we refuse: nothing is ever sent to it."""
    r = v.push(Pkce(), v.key(), redirect_uri=v.redirect() + "/other")
    assert_par_error(r, REDIRECT_ERRORS)


def test_ensure_unsigned_authorization_request_without_using_par_fails(v):
    params = {**par_params(v.c1, Pkce(), state="st-nopar"), "client_id": v.c1}
    r = Client(v.h).authorize(params)
    assert assert_authorization_error(v, r, ("invalid_request",)) in ("page", "invalid_request")
    if r.status_code in (302, 303):
        assert redirect_params(r)["state"] == "st-nopar"


def test_ensure_response_type_code_idtoken_fails(v):
    r = v.push(Pkce(), v.key(), response_type="code id_token")
    assert_par_error(r, RESPONSE_TYPE_ERRORS)


def test_ensure_response_type_token_fails(v):
    r = v.push(Pkce(), v.key(), response_type="token")
    assert_par_error(r, RESPONSE_TYPE_ERRORS)


# ---- negative tests of the token endpoint ---------------------------------------------------

def test_ensure_client_id_in_token_endpoint(v):
    """Client 1's code, client 2's client_id with client 1's credentials: invalid_client (or
    invalid_grant)."""
    k, p = v.key(), Pkce()
    c = v.code(p, k)
    if v.dpop:
        r = v.token({**v.grant(c, p), "client_id": v.c2}, k)
    else:
        r = v.send("/oauth/token", {**v.grant(c, p)}, k, cid=v.c2)  # fm1's certificate
    assert_token_error(r, ("invalid_client", "invalid_grant"))


def test_ensure_holder_of_key_required(v):
    """First the module's TLS probes (every endpoint is on one host here): TLS 1.0 and 1.1
    refused, TLS 1.3 negotiated and preferred, TLS 1.2 available with a BCP 195 suite and
    refused with any other (the server's FAPI_TLS settings). Then a valid token request
    without the DPoP proof / client certificate: DPoP accepts invalid_request, invalid_grant or
    invalid_dpop_proof; mTLS invalid_client or invalid_request (or a TLS failure). The code is
    not spent by that."""
    V = ssl.TLSVersion
    assert handshake(v.h, V.MINIMUM_SUPPORTED, V.TLSv1_1, "ALL:@SECLEVEL=0") is None
    assert handshake(v.h, V.TLSv1_2, V.MAXIMUM_SUPPORTED)[0] == "TLSv1.3"
    assert handshake(v.h, V.TLSv1_2, V.TLSv1_2)[1] in BCP195_TLS12
    others = "ALL:@SECLEVEL=0:" + ":".join("!" + c for c in BCP195_TLS12)
    assert handshake(v.h, V.TLSv1_2, V.TLSv1_2, others) is None
    k, p = v.key(), Pkce()
    c = v.code(p, k)
    since = len(v.h.error_log())
    r = v.token(v.grant(c, p), None)
    if v.dpop:
        assert_token_error(r, DPOP_ERRORS)
        assert v.logged(since, "OAS06453")   # no proof, and DPoP required
    else:
        assert_token_error(r, INVALID_CLIENT)
        assert v.logged(since, "OAS06501")   # no certificate on the connection
    v.assert_bound(v.token(v.grant(c, p), k), k)


def test_ensure_authorization_code_is_bound_to_client(v):
    """Client 1's code redeemed by client 2 (its own credentials): 400 invalid_grant."""
    k, p = v.key(), Pkce()
    c = v.code(p, k)
    k2 = k if v.dpop else v.key(v.c2)
    r = v.token({**v.grant(c, p), "redirect_uri": v.redirect()}, k2, cid=v.c2)
    assert_token_error(r, ("invalid_grant",))


def test_attempt_reuse_authorization_code_after_one_second(v):
    """Redeemed again after a second: 400 invalid_grant; the first access token should be
    revoked (a warning in the suite; we do revoke it)."""
    k, p = v.key(), Pkce()
    c = v.code(p, k)
    t = v.assert_bound(v.token(v.grant(c, p), k), k)
    time.sleep(1)
    assert_token_error(v.token(v.grant(c, p), k), ("invalid_grant",))
    r = v.userinfo(t["access_token"], k)
    www = r.headers.get("WWW-Authenticate", "")
    assert r.status_code == 401 and 'error="invalid_token"' in www, (r.status_code, www)
    assert www.startswith("DPoP " if v.dpop else "Bearer "), www


def test_ensure_pkce_code_verifier_required(v):
    k, p = v.key(), Pkce()
    c = v.code(p, k)
    assert_token_error(v.token({**v.grant(c, p), "code_verifier": None}, k), ("invalid_grant",))


def test_incorrect_pkce_code_verifier_rejected(v):
    k, p = v.key(), Pkce()
    c = v.code(p, k)
    r = v.token({**v.grant(c, p), "code_verifier": Pkce().verifier}, k)
    assert_token_error(r, ("invalid_grant",))


def test_refresh_token(v):
    """Refresh works and stays bound (not rotated, so the suite's retry with the previous
    token is moot, and it works again); without client authentication (private_key_jwt):
    400/401 invalid_client, invalid_grant or invalid_request; without the proof of possession:
    DPoP invalid_request, invalid_grant or invalid_dpop_proof, mTLS (no certificate)
    invalid_client or invalid_request; client 2 with client 1's refresh token: 400
    invalid_grant; client 2's access token with client 1's key or certificate: a 4xx."""
    k, p = v.key(), Pkce()
    t = v.tokens(p, k, scope="openid offline_access", prompt="consent")
    assert re.match(r"^[\x20-\x7e]+$", t["refresh_token"]), t   # RFC 6749 A.17
    rt = {"grant_type": "refresh_token", "refresh_token": t["refresh_token"]}
    t2 = v.assert_bound(v.token(rt, k), k)
    assert t2.get("refresh_token", t["refresh_token"]) == t["refresh_token"], t2
    if v.dpop:
        assert_token_error(v.token(rt, k, auth=False), ("invalid_client", "invalid_grant",
                                                        "invalid_request"), (400, 401))
        assert_token_error(v.token(rt, None), DPOP_ERRORS)
    else:
        assert_token_error(v.token(rt, None), INVALID_CLIENT)
    k2 = v.key(v.c2)
    assert_token_error(v.token(rt, k2, cid=v.c2), ("invalid_grant",))
    v.assert_bound(v.token(rt, k), k)
    at2 = v.tokens(Pkce(), k2, cid=v.c2)["access_token"]
    r = v.userinfo(at2, k)
    assert 400 <= r.status_code < 500, (r.status_code, r.text)


# ---- PAR ------------------------------------------------------------------------------------

def test_par_ensure_reused_request_uri_prior_to_auth_completion_succeeds(v):
    """Opening /authorize twice with one request_uri before approving works (one-time use is
    enforced at authorization, FAPI2 5.3.2.2 note 3). The first visit is not logged in."""
    k, p = v.key(), Pkce()
    uri = v.request_uri(p, k, prompt="consent")  # the page again, although remembered
    c = Client(v.h)
    assert c.authorize_uri(v.c1, uri, user=None).status_code == 401
    assert is_consent_page(c.authorize_uri(v.c1, uri))
    page = c.authorize_uri(v.c1, uri)
    assert is_consent_page(page), page.text
    r = c.decide(consent_form(page))
    code = v.callback(r)["code"]
    v.assert_bound(v.token(v.grant(code, p), k), k)


def test_par_attempt_reuse_request_uri(v):
    """After a completed flow the request_uri is spent: an error page or invalid_request_uri."""
    k, p = v.key(), Pkce()
    uri = v.request_uri(p, k)
    assert v.browser(uri).status_code == 303
    r = v.browser(uri)
    assert_authorization_error(v, r, ("invalid_request_uri",))


def test_par_attempt_to_use_request_uri_for_different_client(v):
    uri = v.request_uri(Pkce(), v.key())
    r = Client(v.h).authorize_uri(v.c2, uri)
    assert_authorization_error(v, r, ("invalid_request", "invalid_request_object",
                                      "invalid_request_uri"), cid=v.c2)


def test_par_authorization_request_containing_request_uri_form_param(v):
    r = v.push(Pkce(), v.key(), form={"request_uri": "urn:ietf:params:oauth:request_uri:abc"})
    assert_par_error(r, ("invalid_request", "invalid_request_object", "request_uri_not_supported"))


def test_par_attempt_invalid_http_method(v):
    """PUT to the PAR endpoint: 405 (RFC 9126 §2.3; the suite takes any 4xx/5xx)."""
    r = v.send("/oauth/par", par_params(v.c1, Pkce()), v.key(), method="PUT")
    assert r.status_code == 405, (r.status_code, r.text)


def test_par_ensure_pkce_required(v):
    assert_par_error(v.push(None, v.key()))


def test_par_plain_pkce_rejected(v):
    p = Pkce()
    assert_par_error(v.push(p, v.key(), code_challenge=p.verifier, code_challenge_method="plain"))


def test_par_without_duplicate_parameters(v):
    """/authorize with only client_id and request_uri (RFC 9101 §5) works: the happy path of
    every module here; checked once more with nothing else in the query."""
    k, p = v.key(), Pkce()
    uri = v.request_uri(p, k)
    r = Client(v.h).authorize_uri_and_approve(v.c1, uri)  # the query: those two only
    v.assert_bound(v.token(v.grant(v.callback(r)["code"], p), k), k)


# ---- private_key_jwt: client assertions ------------------------------------------------------

def pkjwt_only(fn):
    return pytest.mark.parametrize("v", DPOP_ONLY, indirect=True)(fn)


@pkjwt_only
def test_ensure_signed_client_assertion_with_RS256_fails(v):
    """RS256 is outside FAPI 2.0 even with a registered RSA key: invalid_client at the token
    endpoint."""
    k, p = v.key(), Pkce()
    c = v.code(p, k)
    since = len(v.h.error_log())
    assert_token_error(v.token(v.grant(c, p), k, auth={"alg": "RS256"}), ("invalid_client",))
    assert v.logged(since, "OAS06214")   # the alg is not allowed


@pkjwt_only
def test_ensure_client_assertion_in_token_endpoint(v):
    k, p = v.key(), Pkce()
    c = v.code(p, k)
    r = v.token({**v.grant(c, p), "client_id": v.c1}, k, auth=False)
    assert_token_error(r, INVALID_CLIENT)


@pkjwt_only
def test_ensure_client_assertion_with_exp_is_5_minutes_in_past_fails(v):
    now = int(time.time())
    r = v.token({"grant_type": "client_credentials"}, v.key(),
                auth={"exp": now - 300, "iat": now - 360})
    assert_token_error(r, INVALID_CLIENT)


@pkjwt_only
def test_ensure_client_assertion_with_wrong_aud_fails(v):
    r = v.token({"grant_type": "client_credentials"}, v.key(),
                auth={"aud": "https://other-server.example.com"})
    assert_token_error(r, INVALID_CLIENT)


@pkjwt_only
def test_ensure_client_assertion_with_no_sub_fails(v):
    r = v.token({"grant_type": "client_credentials"}, v.key(), auth={"sub": None})
    assert_token_error(r, INVALID_CLIENT)


@pkjwt_only
def test_par_ensure_jwt_client_assertions_nbf_8_seconds_in_the_future_is_accepted(v):
    now = int(time.time())
    r = v.push(Pkce(), v.key(), auth={"iat": now + 8, "nbf": now + 8})
    assert r.status_code == 201, r.text


@pkjwt_only
def test_par_ensure_jwt_client_assertions_nbf_over_60_seconds_in_the_future_fails(v):
    now = int(time.time())
    r = v.push(Pkce(), v.key(), auth={"iat": now + 70, "nbf": now + 70})
    assert_par_error(r, INVALID_CLIENT)


@pkjwt_only
def test_par_test_array_as_audience_fails(v):
    assert_par_error(v.push(Pkce(), v.key(), auth={"aud": [v.h.issuer]}), INVALID_CLIENT)


@pkjwt_only
def test_par_test_par_endpoint_url_as_audience_fails(v):
    r = v.push(Pkce(), v.key(), auth={"aud": v.h.issuer + "/oauth/par"})
    assert_par_error(r, INVALID_CLIENT)


@pkjwt_only
def test_par_test_token_endpoint_url_as_audience_fails(v):
    r = v.push(Pkce(), v.key(), auth={"aud": v.h.issuer + "/oauth/token"})
    assert_par_error(r, INVALID_CLIENT)


# ---- DPoP ------------------------------------------------------------------------------------

def proof_with(k, htm, url, at=None, **kw):
    """A proof function (nonce -> proof) of k for htm url with kw (claims=, header=, ...)."""
    return lambda nonce: k.proof(htm, url, at, nonce=nonce, **kw)


@dpop_only
def test_check_dpop_proof_nbf_exp(v):
    """Proofs carrying nbf and exp are accepted at PAR, token and userinfo."""
    k, p, now = v.key(), Pkce(), int(time.time())
    extra = {"claims": {"nbf": now - 5, "exp": now + 60}}
    iss = v.h.issuer
    r = v.push(p, k, proof=proof_with(k, "POST", iss + "/oauth/par", **extra))
    assert r.status_code == 201, r.text
    q = v.callback(v.browser(r.json()["request_uri"]))
    r = v.token(v.grant(q["code"], p), k,
                proof=proof_with(k, "POST", iss + "/oauth/token", **extra))
    at = v.assert_bound(r, k)["access_token"]
    r = v.userinfo(at, k, proof=proof_with(k, "GET", iss + "/userinfo", at, **extra))
    assert r.status_code == 200, r.text


def iat_shift(v, seconds):
    k, p = v.key(), Pkce()
    iss, claims = v.h.issuer, {"claims": {"iat": int(time.time()) + seconds}}
    r = v.push(p, k, proof=proof_with(k, "POST", iss + "/oauth/par", **claims))
    assert r.status_code == 201, r.text
    q = v.callback(v.browser(r.json()["request_uri"]))
    claims = {"claims": {"iat": int(time.time()) + seconds}}
    r = v.token(v.grant(q["code"], p), k, proof=proof_with(k, "POST", iss + "/oauth/token",
                                                           **claims))
    at = v.assert_bound(r, k)["access_token"]
    claims = {"claims": {"iat": int(time.time()) + seconds}}
    r = v.userinfo(at, k, proof=proof_with(k, "GET", iss + "/userinfo", at, **claims))
    assert r.status_code == 200, r.text


@dpop_only
def test_ensure_dpopproof_with_iat_10seconds_before_succeeds(v):
    iat_shift(v, -10)


@dpop_only
def test_ensure_dpopproof_with_iat_10seconds_after_succeeds(v):
    iat_shift(v, 10)


@dpop_only
def test_ensure_mismatched_dpop_jkt_fails(v):
    """dpop_jkt at PAR other than the thumbprint of the PAR proof: invalid_request (or
    invalid_dpop_proof)."""
    k = v.key()
    r = v.push(Pkce(), k, dpop_jkt=DPoPKey().jkt)
    assert_par_error(r, ("invalid_request", "invalid_dpop_proof"))


@dpop_only
def test_ensure_token_endpoint_fails_with_mismatched_dpop_proof_jkt(v):
    """PAR proved with one key, the token request with another: refused; the code survives."""
    k, p = v.key(), Pkce()
    c = v.code(p, k)
    assert_token_error(v.token(v.grant(c, p), DPoPKey()), DPOP_ERRORS)
    v.assert_bound(v.token(v.grant(c, p), k), k)


@dpop_only
def test_ensure_token_endpoint_fails_with_mismatched_dpop_jkt(v):
    """dpop_jkt pushed (PAR without a proof), the token request proved with another key."""
    k, p = v.key(), Pkce()
    c = v.code(p, None, dpop_jkt=k.jkt)
    assert_token_error(v.token(v.grant(c, p), DPoPKey()), DPOP_ERRORS)
    v.assert_bound(v.token(v.grant(c, p), k), k)


@dpop_only
def test_ensure_dpopproof_at_par_endpoint_binding_success(v):
    """A proof at PAR binds the code to its key: the same key redeems it."""
    k, p = v.key(), Pkce()
    v.assert_bound(v.token(v.grant(v.code(p, k), p), k), k)


@dpop_only
def test_ensure_dpop_auth_code_binding_success(v):
    """dpop_jkt at PAR (no proof there): the key it names redeems the code."""
    k, p = v.key(), Pkce()
    v.assert_bound(v.token(v.grant(v.code(p, None, dpop_jkt=k.jkt), p), k), k)


@dpop_only
def test_dpop_negative_tests(v):
    """The suite's dpop-negative-tests at our userinfo, case by case (next-wave.md §1.3), the
    current nonce in every proof: 401 (with a DPoP challenge) for each wrong proof, success
    for the must-succeed rows. (The explicit-default-port row cannot arise: the issuer has a
    port of its own; test_750 checks the normalisation.)"""
    k, other, rsa = v.key(), DPoPKey(), DPoPKey("rsa")
    t = v.tokens(Pkce(), k)
    at, url = t["access_token"], v.h.issuer + "/userinfo"
    assert v.userinfo(at, k).status_code == 200   # a current nonce in v.nonces["rs"]
    now = int(time.time())

    def p(key=k, htm="GET", u=url, ath=at, **kw):
        return lambda nonce: key.proof(htm, u, ath, nonce=nonce, **kw)

    must_fail = [
        ("not a JWT", lambda n: "this-is-not-a-jwt"),
        ("wrong typ", p(header={"typ": "jwt"})),
        ("RS256 with an RSA key", p(key=rsa, alg="RS256")),
        ("alg none", p(alg="none", sig=b"")),
        ("bad signature", p(sig=b"\x01" * 64)),
        ("private key in jwk", p(header={"jwk": private_jwk(k)})),
        ("htm PUT", p(htm="PUT")),
        ("htu a different URL", p(u=v.h.issuer + "/oauth/token")),
        ("iat an hour ago", p(claims={"iat": now - 3600})),
        ("iat in an hour", p(claims={"iat": now + 3600})),
        ("wrong ath", p(ath=at + "x")),
        ("signed with a different key", p(signer=other)),
        ("a proof of another key", p(key=other)),
    ]
    must_fail += [(f"no {m}", p(drop=(m,))) for m in
                  ("typ", "alg", "jwk", "jti", "htm", "htu", "iat")]
    must_fail += [("no ath", p(ath=None))]
    for name, proof in must_fail:
        r = v.userinfo(at, k, proof=proof)
        assert r.status_code in (400, 401), (name, r.status_code, r.text)
        assert r.headers.get("WWW-Authenticate", "").startswith("DPoP "), (name, r.headers)
    up = url.replace("https://localhost", "HTTPS://LOCALHOST")
    must_succeed = [
        ("htu with query and fragment added", p(u=url + "?foo=bar#frag")),
        ("extra header and payload members", p(header={"x": 1}, claims={"y": [1]})),
        ("upper-case scheme and host", p(u=up)),
        ("final correct proof", p()),
    ]
    for name, proof in must_succeed:
        r = v.userinfo(at, k, proof=proof)
        assert r.status_code == 200, (name, r.status_code, r.text)
    # a request URL with a query and fragment, htu without them: must succeed
    r = session(v.h).get(url + "?foo=bar#frag", timeout=10, headers={
        "Authorization": "DPoP " + at, "DPoP": k.proof("GET", url, at, nonce=v.nonces["rs"])})
    assert r.status_code == 200, r.text
    # header name DPOP in capitals: must succeed
    r = v.userinfo(at, k, headers={"DPOP": k.proof("GET", url, at, nonce=v.nonces["rs"])},
                   proof=lambda n: None)
    assert r.status_code == 200, r.text
    # the same jti twice (a warning in the suite; refused here)
    same = k.proof("GET", url, at, nonce=v.nonces["rs"])
    assert v.userinfo(at, k, proof=lambda n: same).status_code == 200
    assert v.userinfo(at, k, proof=lambda n: same).status_code == 401
    # two DPoP headers
    r = raw_request(v.h, "GET", "/userinfo", [
        ("Authorization", "DPoP " + at),
        ("DPoP", k.proof("GET", url, at, nonce=v.nonces["rs"])),
        ("DPoP", k.proof("GET", url, at, nonce=v.nonces["rs"]))])
    assert r.status_code == 401 and 'DPoP error="invalid_dpop_proof"' in \
        r.headers["WWW-Authenticate"], (r.status_code, dict(r.headers))
    # no DPoP header; and no DPoP header with the Bearer scheme
    assert v.userinfo(at, k, proof=lambda n: None).status_code == 401
    r = v.userinfo(at, None, scheme="Bearer")
    assert r.status_code == 401, r.text


# ---- expiry (last: the server's first minute has passed by then) ------------------------------

def wait_past(t0, lifetime):
    left = t0 + lifetime + 1.5 - time.time()
    if left > 0:
        time.sleep(left)


def test_par_attempt_to_use_expired_request_uri(v):
    """A request_uri pushed when the server started, used after its expires_in: an error."""
    wait_past(v.aged["t0"], REQUEST_URI_LIFETIME)
    r = Client(v.h).authorize_uri(v.c1, v.aged["uri"])
    assert_authorization_error(v, r, ("invalid_request_uri",))


def test_ensure_token_endpoint_fails_with_expired_auth_code(v):
    """A code first redeemed after its lifetime (FAPI2 5.3.2.1-11): 400 invalid_grant."""
    a = v.aged
    wait_past(a["t0"], CODE_LIFETIME)
    assert_token_error(v.token(v.grant(a["code"], a["p"]), a["key"]), ("invalid_grant",))
