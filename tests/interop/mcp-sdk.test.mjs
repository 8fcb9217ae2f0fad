// The MCP TypeScript SDK's client against an MCP server behind httpd (issue 19), driven by
// tests/integration/test_855_mcp_sdk.py. The client knows the MCP URL and a pre-configured
// public client id only (its OAuthClientProvider: no registration). It gets 401, reads the
// resource metadata the challenge names (RFC 9728), discovers our authorization server, runs
// the code flow with PKCE S256 and `resource`; the user's step (Basic login + consent) is done
// here over HTTP; then it calls the tool `whoami`, which answers with the signed-in user.
// Every provider call and every request the SDK made is printed (what the SDK needed).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

import { env, userAgentAuthorize } from './lib.mjs';
import { PreconfiguredProvider, mcpSession } from './mcp-provider.mjs';

const MCP_URL = env('MCP_URL');
const ISSUER = env('ISSUER');
const CLIENT_ID = env('MCP_CLIENT_ID');
const REDIRECT = env('MCP_REDIRECT_URI');
const USER = env('OIDC_USER');
const PASSWORD = env('OIDC_PASSWORD');

test('MCP SDK client: 401 → RFC 9728 → discovery → PKCE with resource → whoami', async () => {
  const provider = new PreconfiguredProvider(REDIRECT, CLIENT_ID);
  const tokenRequests = [];
  const { requests, transport, client } = mcpSession(MCP_URL, provider, (url, init) => {
    if (String(url) === ISSUER + '/oauth/token') tokenRequests.push(new URLSearchParams(init.body));
  });

  // 1. No token: the SDK reads our challenge, the metadata, discovers us, and "redirects".
  const first = transport();
  await assert.rejects(client().connect(first), UnauthorizedError);
  const u = provider.authorizationUrl;
  assert.ok(u, 'the SDK asked for the user step');
  assert.equal(u.origin + u.pathname, ISSUER + '/authorize');
  const q = u.searchParams;
  assert.equal(q.get('client_id'), CLIENT_ID);
  assert.equal(q.get('response_type'), 'code');
  assert.equal(q.get('redirect_uri'), REDIRECT);
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.match(q.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
  assert.equal(q.get('resource'), MCP_URL, 'RFC 8707 resource = the metadata\'s resource');
  assert.equal(q.get('scope'), 'mcp.tools', 'the scopes_supported of the resource metadata');
  assert.equal(q.get('state'), provider._state);
  console.log(`authorization request: ${u.href}`);

  // 2. The user's step, as a browser would: Basic login, consent, 302 to the redirect URI.
  const cb = await userAgentAuthorize(u.href, USER, PASSWORD);
  assert.equal(cb.origin + cb.pathname, REDIRECT);
  assert.equal(cb.searchParams.get('state'), provider._state);
  assert.equal(cb.searchParams.get('iss'), ISSUER);
  const code = cb.searchParams.get('code');
  assert.ok(code, `no code: ${cb.href}`);

  // 3. The SDK redeems the code (PKCE verifier, resource) and keeps the tokens.
  await first.finishAuth(code);
  assert.equal(tokenRequests.length, 1);
  const tr = tokenRequests[0];
  assert.deepEqual([...tr.keys()].sort(),
    ['client_id', 'code', 'code_verifier', 'grant_type', 'redirect_uri', 'resource']);
  assert.equal(tr.get('resource'), MCP_URL, 'RFC 8707 §2.2: the resource again at the token endpoint');
  assert.equal(tr.get('client_id'), CLIENT_ID);
  const tokens = provider._tokens;
  assert.equal(tokens.token_type, 'Bearer');
  const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url'));
  assert.equal(claims.aud, MCP_URL);
  assert.equal(claims.client_id, CLIENT_ID);
  assert.equal(claims.sub, USER);

  // 4. Connected with the token: the tool answers with the signed-in user.
  const c = client();
  await c.connect(transport());
  const { tools } = await c.listTools();
  assert.deepEqual(tools.map((t) => t.name), ['whoami']);
  const res = await c.callTool({ name: 'whoami', arguments: {} });
  const seen = JSON.parse(res.content[0].text);
  console.log(`whoami: ${JSON.stringify(seen)}`);
  assert.deepEqual(seen, { user: USER, client_id: CLIENT_ID, scope: 'mcp.tools',
    token_reached_backend: false });
  await c.close();

  console.log(`provider calls: ${provider.calls.join(' ')}`);
  for (const r of requests) console.log(`request: ${r}`);
});
