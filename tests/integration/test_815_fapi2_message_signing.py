"""FAPI 2.0 Message Signing (Final): the conformance suite's
`fapi2-message-signing-final-test-plan` in its `signed_non_repudiation` + `jarm` variant, where
every request is a request object signed with the client's key and every authorization
response a JARM JWT: the modules that only this plan has (signed request objects at PAR), the
shared modules whose expectations signing changes (defined here), and every other module of
test_810 run once more against this file's server (imported below; the Variant signs and
reads JARM). Named after the module (prefix `fapi2-security-profile-final-` left out, `-` ->
`_`, as the suite names them in both plans), in the variants `private_key_jwt-dpop` and
`mtls-mtls`, against a server with `OAuthASProfile fapi2-message-signing`; README.md "FAPI 2.0
conformance" maps each module to its test."""

import time

import pytest

from client import Client, Pkce, consent_form, is_consent_page, par_params, session
from fapi2_variants import VARIANTS, assert_par_error, key2, variant_server
from mtls_pki import Pki
# The security-profile modules that signing leaves as they are, run here signed: pytest runs
# them with this file's server (fixture v); those signing changes are defined below instead.
from test_810_fapi2_conformance import (  # noqa: F401
    aged, test_access_token_type_header_case_sensitivity,
    test_attempt_reuse_authorization_code_after_one_second, test_check_dpop_proof_nbf_exp,
    test_dpop_negative_tests, test_ensure_authorization_code_is_bound_to_client,
    test_ensure_authorization_request_with_64_char_nonce_success,
    test_ensure_authorization_request_with_long_nonce,
    test_ensure_authorization_request_with_long_state,
    test_ensure_authorization_request_without_nonce_success,
    test_ensure_client_assertion_in_token_endpoint,
    test_ensure_client_assertion_with_exp_is_5_minutes_in_past_fails,
    test_ensure_client_assertion_with_no_sub_fails,
    test_ensure_client_assertion_with_wrong_aud_fails, test_ensure_client_id_in_token_endpoint,
    test_ensure_dpop_auth_code_binding_success,
    test_ensure_dpopproof_at_par_endpoint_binding_success,
    test_ensure_dpopproof_with_iat_10seconds_after_succeeds,
    test_ensure_dpopproof_with_iat_10seconds_before_succeeds,
    test_ensure_holder_of_key_required, test_ensure_mismatched_dpop_jkt_fails,
    test_ensure_other_scope_order_succeeds, test_ensure_pkce_code_verifier_required,
    test_ensure_redirect_uri_in_authorization_request, test_ensure_registered_redirect_uri,
    test_ensure_response_type_code_idtoken_fails, test_ensure_response_type_token_fails,
    test_ensure_signed_client_assertion_with_RS256_fails,
    test_ensure_token_endpoint_fails_with_expired_auth_code,
    test_ensure_token_endpoint_fails_with_mismatched_dpop_jkt,
    test_ensure_token_endpoint_fails_with_mismatched_dpop_proof_jkt,
    test_incorrect_pkce_code_verifier_rejected, test_par_attempt_invalid_http_method,
    test_par_attempt_reuse_request_uri, test_par_attempt_to_use_expired_request_uri,
    test_par_attempt_to_use_request_uri_for_different_client,
    test_par_authorization_request_containing_request_uri_form_param,
    test_par_ensure_jwt_client_assertions_nbf_8_seconds_in_the_future_is_accepted,
    test_par_ensure_jwt_client_assertions_nbf_over_60_seconds_in_the_future_fails,
    test_par_ensure_pkce_required,
    test_par_ensure_reused_request_uri_prior_to_auth_completion_succeeds,
    test_par_plain_pkce_rejected, test_par_test_array_as_audience_fails,
    test_par_test_par_endpoint_url_as_audience_fails,
    test_par_test_token_endpoint_url_as_audience_fails, test_par_without_duplicate_parameters,
    test_plain_fapi_tolerate_unregistered_redirect_uri, test_refresh_token,
    test_test_claims_parameter_identity_claims)

FAPI_ALGS = {"PS256", "ES256", "EdDSA", "Ed25519"}

# error_log lines (warn and above) the modules provoke on purpose: a replayed code
# (attempt-reuse-authorization-code-after-one-second).
ALLOWED = ("OAS00131",)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(str(tmp_path_factory.mktemp("pki")))


@pytest.fixture(scope="module", params=VARIANTS)
def v(request, workdir_base, pki):
    for var in variant_server(request, workdir_base, pki, "815", ALLOWED, signed=True,
                              more_server={"OAuthASProfile": "fapi2-message-signing"}):
        var.aged = aged(var)
        yield var


def push_ro(v, ro, k, cid=None, **extra):
    cid = cid or v.c1
    return v.send("/oauth/par", {"request": ro, "client_id": cid, **extra}, k, cid)


def flow(v, k, p, cid=None, **claims):
    """PAR with a request object, the browser, the JARM response's claims (a 303 with a code
    asserted unless it carries an error)."""
    r = push_ro(v, v.request_object(p, cid, **claims), k, cid)
    assert r.status_code == 201, (r.status_code, r.text)
    resp = v.browser(r.json()["request_uri"], cid)
    out = v.jarm(resp, cid)
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
    r = push_ro(v, v.request_object(p, state="st-deny", prompt="consent"), k)
    assert r.status_code == 201, r.text
    c = Client(v.h)
    page = c.authorize_uri(v.c1, r.json()["request_uri"])
    assert is_consent_page(page), page.text
    out = v.jarm(c.decide(consent_form(page), "deny"))
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
    r = push_ro(v, v.request_object(p, nonce="inside-nonce"), k, nonce="outside-nonce")
    assert r.status_code == 201, r.text
    out = v.jarm(v.browser(r.json()["request_uri"]))
    t = v.assert_bound(v.token(v.grant(out["code"], p), k), k)
    assert Client(v.h).verify_jwt(t["id_token"])[1]["nonce"] == "inside-nonce"


def test_ensure_different_state_inside_and_outside_request_object(v):
    k, p = v.key(), Pkce()
    r = push_ro(v, v.request_object(p, state="inside-state"), k, state="outside-state")
    assert r.status_code == 201, r.text
    assert v.jarm(v.browser(r.json()["request_uri"]))["state"] == "inside-state"


def test_state_only_outside_request_object_not_used(v):
    k, p = v.key(), Pkce()
    r = push_ro(v, v.request_object(p, state=None), k, state="outside-state")
    assert r.status_code == 201, r.text
    assert "state" not in v.jarm(v.browser(r.json()["request_uri"]))


def test_ensure_unsigned_authorization_request_without_using_par_fails(v):
    """/authorize with a signed request but no PAR: invalid_request, as a JARM response."""
    ro = v.request_object(Pkce(), state="st-nopar")
    r = Client(v.h).authorize({"client_id": v.c1, "request": ro, "response_mode": "jwt"})
    out = v.jarm(r)
    assert out["error"] == "invalid_request", out


# ---- request objects: negative modules ----------------------------------------------------------

def test_ensure_request_object_without_redirect_uri_fails(v):
    assert_ro_refused(v, v.request_object(Pkce(), redirect_uri=None),
                      ("invalid_request", "invalid_request_object"))


def test_ensure_request_object_without_exp_fails(v):
    assert_ro_refused(v, v.request_object(Pkce(), exp=None))


def test_ensure_request_object_without_nbf_fails(v):
    assert_ro_refused(v, v.request_object(Pkce(), nbf=None))


def test_ensure_expired_request_object_fails(v):
    now = int(time.time())
    assert_ro_refused(v, v.request_object(Pkce(), nbf=now - 600, exp=now - 300))


def test_ensure_request_object_with_bad_aud_fails(v):
    assert_ro_refused(v, v.request_object(Pkce(), aud="https://other.example.com"))


def test_ensure_request_object_with_exp_over_60_fails(v):
    """exp 70 minutes after nbf (the suite's offset)."""
    now = int(time.time())
    assert_ro_refused(v, v.request_object(Pkce(), exp=now + 70 * 60))


def test_ensure_request_object_with_nbf_over_60_fails(v):
    """nbf 70 minutes ago."""
    now = int(time.time())
    assert_ro_refused(v, v.request_object(Pkce(), nbf=now - 70 * 60, exp=now + 60))


def test_ensure_signed_request_object_with_RS256_fails(v):
    """Signed RS256 with a key the client registered for it: outside FAPI 2.0."""
    assert_ro_refused(v, v.request_object(Pkce(), alg="RS256"))


def test_ensure_request_object_signature_algorithm_is_not_none(v):
    assert_ro_refused(v, v.request_object(Pkce(), alg="none"))


def test_ensure_request_object_with_invalid_signature_fails(v):
    ro = v.request_object(Pkce())
    head, body, sig = ro.split(".")
    bad = sig[:-4] + ("AAAA" if not sig.endswith("AAAA") else "BBBB")
    assert_ro_refused(v, ".".join((head, body, bad)))


def test_ensure_matching_key_in_authorization_request(v):
    """Client 1's request object signed with client 2's key (kid k2): refused."""
    ro = v.request_object(Pkce(), signer=key2(), kid="k2")
    assert_ro_refused(v, ro, ("invalid_request", "invalid_request_object"))


def test_ensure_unsigned_request_at_par_endpoint_fails(v):
    """Plain parameters at PAR from a client that must sign: invalid_request."""
    k = v.key()
    assert_par_error(v.send("/oauth/par", par_params(v.c1, Pkce()), k), ("invalid_request",))


def test_par_authorization_request_containing_request_uri(v):
    """A request_uri claim inside the request object: invalid_request_object."""
    ro = v.request_object(Pkce(), request_uri="urn:ietf:params:oauth:request_uri:abc")
    assert_ro_refused(v, ro)
