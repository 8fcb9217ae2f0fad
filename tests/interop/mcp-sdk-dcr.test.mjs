// The MCP TypeScript SDK's client registering itself (RFC 7591) at our registration endpoint
// (issue 20), driven by tests/integration/test_875_mcp_sdk_registration.py. The client knows
// the MCP URL only; its OAuthClientProvider keeps what it registered (saveClientInformation),
// as an agent that is not pre-configured does. 401 → RFC 9728 → our discovery →
// registration_endpoint → code flow with PKCE and `resource` on a loopback redirect → whoami.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

import { env, userAgentAuthorize } from './lib.mjs';
import { RegisteringProvider, mcpSession } from './mcp-provider.mjs';

const MCP_URL = env('MCP_URL');
const ISSUER = env('ISSUER');
const REDIRECT = env('MCP_REDIRECT_URI');
const USER = env('OIDC_USER');
const PASSWORD = env('OIDC_PASSWORD');
// set: the agent's Client ID Metadata Document, which it names itself by instead
const DOCUMENT = process.env.MCP_CLIENT_METADATA_URL;

test(`MCP SDK client: ${DOCUMENT ? 'a metadata document' : 'dynamic registration'} → PKCE with resource → whoami`, async () => {
  const provider = new RegisteringProvider(REDIRECT, DOCUMENT);
  const { requests, transport, client } = mcpSession(MCP_URL, provider);

  // 1. No token, no client id: the SDK registers, then "redirects" with its new client id.
  const first = transport();
  await assert.rejects(client().connect(first), UnauthorizedError);
  const info = provider.info;
  assert.ok(info, 'the SDK registered or named its document');
  if (DOCUMENT) {
    assert.equal(info.client_id, DOCUMENT);
  } else {
    assert.match(info.client_id, /^dyn-[A-Za-z0-9_-]{22}$/);
    assert.equal(info.token_endpoint_auth_method, 'none');
    assert.equal(info.client_secret, undefined);
    assert.equal(info.scope, 'mcp.tools', 'the resource metadata\'s scopes, registered');
  }
  console.log(`registered: ${info.client_id}`);
  const u = provider.authorizationUrl;
  assert.equal(u.origin + u.pathname, ISSUER + '/authorize');
  assert.equal(u.searchParams.get('client_id'), info.client_id);
  assert.equal(u.searchParams.get('resource'), MCP_URL);

  // 2. The user's step (Basic login, consent), then the SDK redeems the code.
  const cb = await userAgentAuthorize(u.href, USER, PASSWORD);
  assert.equal(cb.origin + cb.pathname, REDIRECT);
  const code = cb.searchParams.get('code');
  assert.ok(code, `no code: ${cb.href}`);
  await first.finishAuth(code);
  const claims = JSON.parse(Buffer.from(provider._tokens.access_token.split('.')[1], 'base64url'));
  assert.equal(claims.aud, MCP_URL);
  assert.equal(claims.client_id, info.client_id);

  // 3. The tool, with the token of the registered client.
  const c = client();
  await c.connect(transport());
  const res = await c.callTool({ name: 'whoami', arguments: {} });
  console.log(`whoami: ${res.content[0].text}`);
  assert.deepEqual(JSON.parse(res.content[0].text), { user: USER, client_id: info.client_id,
    scope: 'mcp.tools', token_reached_backend: false });
  await c.close();

  console.log(`provider calls: ${provider.calls.join(' ')}`);
  for (const r of requests) console.log(`request: ${r}`);
});
