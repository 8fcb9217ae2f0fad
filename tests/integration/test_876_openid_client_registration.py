"""openid-client (npm, v6) registers clients at our registration endpoint with an initial
access token (RFC 7591; OAuthASRegistration Token, issue 20) and uses them:
tests/interop/openid-client-dcr.test.mjs (a confidential client through PAR, the code flow,
refresh, introspection and revocation; a public one on a loopback redirect; a registration
without the token refused)."""

import pytest

from interop_node import ensure_node_modules, run_node_tests
from oauth_conf import USERS, standard_conf

INITIAL = "openid-client-initial-access-token"


@pytest.mark.expect_log("OAS00134")  # the revocation
def test_openid_client_registers(httpd_factory):
    ensure_node_modules()
    h = httpd_factory(lambda h: standard_conf(
        h, OAuthASRegistration="Token", OAuthASRegistrationToken=INITIAL,
        extra="<Location /oauth/register>\n    OAuthASEndpoint register\n</Location>\n"))
    env = {"ISSUER": h.issuer, "OIDC_USER": "alice", "OIDC_PASSWORD": USERS["alice"],
           "INITIAL_ACCESS_TOKEN": INITIAL}
    out = run_node_tests("openid-client-dcr.test.mjs", env, h.ca, passed=3)
    assert "registered: dyn-" in out
    assert h.error_log().count("OAS06806") == 2 and "OAS00600" in h.error_log()
