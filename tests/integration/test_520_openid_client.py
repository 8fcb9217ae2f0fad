"""openid-client (npm, v6, OpenID-certified RP library) against our AS (issue 8).

The node:test script tests/interop/openid-client.test.mjs does discovery, PAR + PKCE + code
flow with id_token validation (nonce, at_hash), refresh, userinfo, introspection, revocation
and client_credentials; this wrapper starts the standard server and runs it.
"""

import re

import pytest

from interop_node import ensure_node_modules, openid_client_env, run_node
from oauth_conf import standard_conf


@pytest.mark.expect_log("OAS00134")
def test_openid_client(httpd_factory):
    ensure_node_modules()
    h = httpd_factory(standard_conf)
    env = openid_client_env(h)
    rc, out = run_node(["--test", "--test-reporter=spec", "openid-client.test.mjs"], env, h.ca)
    print(out)
    assert rc == 0, f"node --test failed ({rc}):\n{out}"
    # Every test of the script ran and passed (a script that silently ran nothing fails here).
    assert re.search(r"^. pass 5$", out, re.M) and re.search(r"^. fail 0$", out, re.M), out
