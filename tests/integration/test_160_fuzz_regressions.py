"""Regressions found by the fuzzers (tests/fuzz), end to end."""
import pytest

from client import Client


@pytest.mark.catalogue("B09")
def test_code_without_scope_is_redeemable(oas):
    """fuzz_grant: a grant with no scopes was stored without "scope" and then refused when
    read back, so an authorization request without a scope failed with a 500 at the consent
    decision, and a code or refresh token for it could never be redeemed (scope is optional,
    RFC 6749 §3.3)."""
    f = Client(oas)
    g = f.get_code(scope=None)
    assert "scope" not in g["params"]
    r = f.redeem(g)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["access_token"], body
    _, claims = f.verify_jwt(body["access_token"], typ="at+jwt")
    assert claims["client_id"] == "conf1" and claims.get("scope", "") == "", claims
    assert "id_token" not in body, body
