"""openid-client v6 with tls_client_auth (issue 17, RFC 8705): tests/interop/
openid-client-mtls.test.mjs runs discovery, client credentials, PAR + the code flow + userinfo
with a certificate-bound token, the same through mtls_endpoint_aliases, and the refusals
without a certificate and with one of another CA, against the standard server whose own host
asks for client certificates and which has an OAuthASMTLSAlias host too. The library's fetch
presents the certificate over node:https (undici, whose Agent would, is not installed)."""

import re

import pytest

from harness import free_port
from interop_node import ensure_node_modules, openid_client_env, run_node
from mtls_pki import VERIFY, Pki, alias_vhost, clients
from oauth_conf import standard_conf


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(str(tmp_path_factory.mktemp("pki")))


def test_openid_client_tls_client_auth(httpd_factory, pki):
    ensure_node_modules()
    port = free_port()

    def body(h):
        vhost = alias_vhost(h, port)
        return (f"OAuthASMTLSAlias {h.alias}\n" + VERIFY +
                standard_conf(h, extra=clients(pki) + vhost))
    h = httpd_factory(body)
    env = openid_client_env(h)
    env.update(ALIAS=h.alias, MTLS_X5T=pki.leaf["x5t"], MTLS_REDIRECT_URI="https://mtls.test/cb",
               MTLS_CERT=pki.leaf["files"][0], MTLS_KEY=pki.leaf["files"][1],
               OTHER_CERT=pki.spoof["files"][0], OTHER_KEY=pki.spoof["files"][1])
    rc, out = run_node(["--test", "--test-reporter=spec", "openid-client-mtls.test.mjs"], env,
                       h.ca)
    print(out)
    assert rc == 0, f"node --test failed ({rc}):\n{out}"
    assert re.search(r"^. pass 5$", out, re.M) and re.search(r"^. fail 0$", out, re.M), out
    log = h.error_log()
    assert "OAS06501" in log and "OAS06503" in log  # no certificate; another CA's
