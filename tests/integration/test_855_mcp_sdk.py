"""The MCP TypeScript SDK (npm @modelcontextprotocol/sdk, pinned in tests/interop) against an
MCP server behind httpd (issue 19): tests/interop/mcp-server.mjs (the SDK's Streamable HTTP
server transport, one tool `whoami`) listens on a loopback port behind `ProxyPass` in a
<Location /mcp> protected by `AuthType oauth-as`, with `OAuthASEndpoint resource-metadata` for
it; the headers it gets are set as README "A backend behind ProxyPass" shows.
tests/interop/mcp-sdk.test.mjs runs the SDK's client with nothing but the MCP URL and a
pre-configured public client id (no dynamic registration here: a later issue): 401, the RFC 9728
document named by the challenge, our discovery, the code flow with PKCE S256 and `resource`
(the user's Basic login and consent done by the script over HTTP; `resource` again at the token
endpoint, RFC 8707 §2.2, which the token endpoint checks), then `whoami` answers with
the signed-in user, and the token never reached the backend."""

import os
import re
import subprocess
import time

import pytest

from harness import free_port, wait_listening
from interop_node import INTEROP, ensure_node_modules, run_node_tests
from oauth_conf import USERS, standard_conf

CLIENT_ID = "mcp-client"
# registered exactly: any-port loopback matching (RFC 8252 §7.3) is a later issue
REDIRECT = "http://127.0.0.1:53682/callback"


def mcp_conf(h, port):
    mcp = h.issuer + "/mcp"
    return standard_conf(h, extra=f"""
<OAuthASResource {mcp}>
    OAuthASScope mcp.tools
</OAuthASResource>
<OAuthASClient {CLIENT_ID}>
    OAuthASClientName "MCP interop"
    OAuthASAuthMethod none
    OAuthASRedirectURI {REDIRECT}
    OAuthASScope mcp.tools
    OAuthASGrantType authorization_code
    OAuthASAudience {mcp}
</OAuthASClient>
<Location /mcp>
    AuthType oauth-as
    OAuthASResourceIssuer "{h.issuer}"
    OAuthASResourceAudience "{mcp}"
    Require oauth-as-scope mcp.tools
    RequestHeader set X-User "expr=%{{REMOTE_USER}}"
    RequestHeader set X-Client-Id "%{{OAUTH_AS_CLIENT_ID}}e"
    RequestHeader set X-Scope "%{{OAUTH_AS_SCOPE}}e"
    RequestHeader unset Authorization
    ProxyPass http://127.0.0.1:{port}/mcp
</Location>
<Location /.well-known/oauth-protected-resource/mcp>
    OAuthASEndpoint resource-metadata
    OAuthASResourceIssuer "{h.issuer}"
    OAuthASResourceAudience "{mcp}"
</Location>
""")


@pytest.fixture
def mcp_server():
    ensure_node_modules()
    port = free_port()
    proc = subprocess.Popen(["node", "mcp-server.mjs"], cwd=INTEROP,
                            env=dict(os.environ, MCP_PORT=str(port)),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_listening(port, proc, "the MCP server", proc.stdout.read)
    yield port
    proc.terminate()
    out = proc.communicate(timeout=10)[0]
    assert "Error" not in out, out


def test_mcp_sdk_client(httpd_factory, mcp_server):
    h = httpd_factory(lambda h: mcp_conf(h, mcp_server), extra_modules=("proxy", "proxy_http"))
    r = h.get("/mcp")   # what the SDK starts from (its first request is a POST)
    assert r.status_code == 401, r.status_code
    assert r.headers["WWW-Authenticate"].startswith(
        f'Bearer resource_metadata="{h.issuer}/.well-known/oauth-protected-resource/mcp"')
    env = {"ISSUER": h.issuer, "MCP_URL": h.issuer + "/mcp", "MCP_CLIENT_ID": CLIENT_ID,
           "MCP_REDIRECT_URI": REDIRECT, "OIDC_USER": "alice", "OIDC_PASSWORD": USERS["alice"]}
    start = time.time()
    out = run_node_tests("mcp-sdk.test.mjs", env, h.ca, passed=1)
    print(f"node: {time.time() - start:.1f} s")
    assert re.search(r'^whoami: \{"user":"alice","client_id":"mcp-client","scope":"mcp.tools",'
                     r'"token_reached_backend":false\}$', out, re.M), out
    requests = re.findall(r"^request: (\S+) (\S+) -> (\d+)$", out, re.M)
    # the discovery the SDK did: the challenge's resource metadata, then our metadata
    assert ("GET", h.issuer + "/.well-known/oauth-protected-resource/mcp", "200") in requests
    assert ("POST", h.issuer + "/oauth/token", "200") in requests
    assert not any("/register" in url for _, url, _ in requests), requests
    log = open(h.accesslog).read()
    assert re.search(r'"POST /mcp HTTP/1.1" 401 ', log) and re.search(r'"POST /mcp HTTP/1.1" 200 ',
                                                                         log), log
