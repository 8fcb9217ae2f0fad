"""openid-client (npm, v6, OpenID-certified RP library) against our AS (issue 8).

The node:test script tests/interop/openid-client.test.mjs does discovery, PAR + PKCE + code
flow with id_token validation (nonce, at_hash), refresh, userinfo, introspection, revocation
and client_credentials; this wrapper starts the standard server and runs it.
"""

import re

import pytest

from interop_node import ensure_node_modules, run_node
from oauth_conf import CLIENTS, RESOURCE, USERS, standard_conf


@pytest.mark.expect_log("OAS00134")
def test_openid_client(httpd_factory):
    ensure_node_modules()
    h = httpd_factory(standard_conf)
    env = {
        "ISSUER": h.issuer,
        "OIDC_USER": "alice", "OIDC_PASSWORD": USERS["alice"],
        "CONF_CLIENT_ID": "conf1", "CONF_CLIENT_SECRET": CLIENTS["conf1"]["secret"],
        "CONF_REDIRECT_URI": CLIENTS["conf1"]["redirect_uris"][0],
        "PUBLIC_CLIENT_ID": "pub1", "PUBLIC_REDIRECT_URI": CLIENTS["pub1"]["redirect_uris"][0],
        "CC_CLIENT_ID": "svc1", "CC_CLIENT_SECRET": CLIENTS["svc1"]["secret"],
        "RESOURCE": RESOURCE,
    }
    rc, out = run_node(["--test", "--test-reporter=spec", "openid-client.test.mjs"], env, h.ca)
    print(out)
    assert rc == 0, f"node --test failed ({rc}):\n{out}"
    # Every test of the script ran and passed (a script that silently ran nothing fails here).
    assert re.search(r"^. pass 5$", out, re.M) and re.search(r"^. fail 0$", out, re.M), out
