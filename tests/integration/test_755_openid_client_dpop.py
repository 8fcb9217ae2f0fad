"""openid-client v6 with a DPoP handle against our AS with server nonces on (issue 16):
tests/interop/openid-client-dpop.test.mjs runs PAR with a proof + code flow + refresh +
userinfo + introspection (confidential), dpop_jkt + a bound refresh token (public) and
client_credentials, each first request meeting use_dpop_nonce and the library's retry."""

import re

from interop_node import ensure_node_modules, openid_client_env, run_node
from oauth_conf import standard_conf


def test_openid_client_dpop(httpd_factory):
    ensure_node_modules()
    h = httpd_factory(lambda h: standard_conf(h, OAuthASDPoPNonce="On"))
    env = openid_client_env(h)
    rc, out = run_node(["--test", "--test-reporter=spec", "openid-client-dpop.test.mjs"], env,
                       h.ca)
    print(out)
    assert rc == 0, f"node --test failed ({rc}):\n{out}"
    assert re.search(r"^. pass 4$", out, re.M) and re.search(r"^. fail 0$", out, re.M), out
    # the library met our nonces (use_dpop_nonce) and retried with them
    assert "OAS06412" in h.error_log()
