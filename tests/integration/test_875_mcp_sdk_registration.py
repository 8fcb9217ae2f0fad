"""The MCP TypeScript SDK's client, given only the MCP server's URL, registers itself at our
registration endpoint (RFC 7591, issue 20) and then logs in and calls a tool through our
resource server: tests/interop/mcp-sdk-dcr.test.mjs against the setup of test_855 (an MCP
server behind ProxyPass protected by `AuthType oauth-as`) with `OAuthASRegistration Open` and
the MCP resource in `OAuthASRegistrationAudience`: the SDK registers a public client with a
loopback redirect and the resource metadata's scopes, and uses it at once. The other path:
the same script with a Client ID Metadata Document (the SDK's clientMetadataUrl), which the
module fetches from a local https server (OAuthASClientMetadataDocuments On)."""

import re
import shutil
import time

from interop_node import run_node_tests
from oauth_conf import USERS
from test_710_jwks_uri import JwksServer, _tls_material
from test_855_mcp_sdk import mcp_conf, mcp_server  # noqa: F401 (a fixture)

REDIRECT = "http://127.0.0.1:53683/callback"


def test_mcp_sdk_registers(httpd_factory, mcp_server):  # noqa: F811
    def conf(h):
        return mcp_conf(h, mcp_server) + f"""
OAuthASRegistration Open
OAuthASRegistrationAudience {h.issuer}/mcp
<Location /oauth/register>
    OAuthASEndpoint register
</Location>
"""
    h = httpd_factory(conf, extra_modules=("proxy", "proxy_http"))
    env = {"ISSUER": h.issuer, "MCP_URL": h.issuer + "/mcp", "MCP_REDIRECT_URI": REDIRECT,
           "OIDC_USER": "alice", "OIDC_PASSWORD": USERS["alice"]}
    start = time.time()
    out = run_node_tests("mcp-sdk-dcr.test.mjs", env, h.ca, passed=1)
    print(f"node: {time.time() - start:.1f} s")
    cid = re.search(r"^registered: (dyn-[A-Za-z0-9_-]{22})$", out, re.M).group(1)
    assert f'"client_id":"{cid}"' in out and '"user":"alice"' in out, out
    requests = re.findall(r"^request: (\S+) (\S+) -> (\d+)$", out, re.M)
    assert ("POST", h.issuer + "/oauth/register", "201") in requests, requests
    assert ("POST", h.issuer + "/oauth/token", "200") in requests, requests
    assert f"client {cid} registered" in h.error_log()


def test_mcp_sdk_metadata_document(httpd_factory, mcp_server):  # noqa: F811
    docs = JwksServer()
    try:
        url = docs.url("/mcp-agent.json")
        docs.serve("/mcp-agent.json", {
            "client_id": url, "client_name": "An MCP agent", "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"], "scope": "mcp.tools"})

        def conf(h):
            ca = h.path("conf", "jwks-ca.pem")
            shutil.copyfile(_tls_material("jwks")[0], ca)
            return mcp_conf(h, mcp_server) + f"""
OAuthASClientMetadataDocuments On
OAuthASRegistrationAudience {h.issuer}/mcp
OAuthASCACertificateFile "{ca}"
OAuthASOutboundAllow localhost
"""
        h = httpd_factory(conf, extra_modules=("proxy", "proxy_http"))
        env = {"ISSUER": h.issuer, "MCP_URL": h.issuer + "/mcp", "MCP_REDIRECT_URI": REDIRECT,
               "MCP_CLIENT_METADATA_URL": url,
               "OIDC_USER": "alice", "OIDC_PASSWORD": USERS["alice"]}
        out = run_node_tests("mcp-sdk-dcr.test.mjs", env, h.ca, passed=1)
        assert f"registered: {url}" in out and '"user":"alice"' in out, out
        requests = re.findall(r"^request: (\S+) (\S+) -> (\d+)$", out, re.M)
        assert not [r for r in requests if r[1].endswith("/oauth/register")], requests
        assert ("POST", h.issuer + "/oauth/token", "200") in requests, requests
        assert docs.fetched("/mcp-agent.json") == 1
        assert f"client {url}: metadata document fetched" in h.error_log()
    finally:
        docs.close()
