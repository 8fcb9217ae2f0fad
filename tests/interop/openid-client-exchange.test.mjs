// openid-client (v6) doing a token exchange (RFC 8693) with its genericGrantRequest against a
// running mod_oauth_as. Run by tests/integration/test_950_token_exchange.py, which sets:
//   ISSUER, NODE_EXTRA_CA_CERTS, CC_CLIENT_ID/CC_CLIENT_SECRET (svc1: the subject token's
//   client, client_credentials), XANY_CLIENT_ID/XANY_CLIENT_SECRET (OAuthASTokenExchange * for
//   AUDIENCE, and client_credentials for its own actor token), AUDIENCE and API_URL (a file
//   behind AuthType oauth-as for AUDIENCE).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { env } from './lib.mjs';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';

const configOf = (id, secret) => client.discovery(new URL(env('ISSUER')), env(id), undefined,
  client.ClientSecretBasic(env(secret)));

async function subjectToken() {
  const svc = await configOf('CC_CLIENT_ID', 'CC_CLIENT_SECRET');
  return (await client.clientCredentialsGrant(svc, { scope: 'api.read' })).access_token;
}

test('discovery lists the token-exchange grant', async () => {
  const config = await configOf('XANY_CLIENT_ID', 'XANY_CLIENT_SECRET');
  assert.ok(config.serverMetadata().grant_types_supported.includes(GRANT));
});

test('genericGrantRequest exchanges a token for the audience; the resource server takes it',
  async () => {
    const config = await configOf('XANY_CLIENT_ID', 'XANY_CLIENT_SECRET');
    const tokens = await client.genericGrantRequest(config, GRANT, {
      subject_token: await subjectToken(), subject_token_type: AT, audience: env('AUDIENCE'),
    });
    assert.equal(tokens.issued_token_type, AT);
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(tokens.scope, 'api.read');
    assert.equal(tokens.refresh_token, undefined);
    assert.ok(tokens.expiresIn() > 0);
    const res = await client.fetchProtectedResource(config, tokens.access_token,
      new URL(env('API_URL')), 'GET');
    assert.equal(res.status, 200);
    assert.equal((await res.text()).trim(), 'hello');
  });

test('delegation: actor_token gives act; a wider scope is invalid_scope', async () => {
  const config = await configOf('XANY_CLIENT_ID', 'XANY_CLIENT_SECRET');
  const actor = (await client.clientCredentialsGrant(config, { scope: 'api.read' })).access_token;
  const subject = await subjectToken();
  const tokens = await client.genericGrantRequest(config, GRANT, {
    subject_token: subject, subject_token_type: AT, audience: env('AUDIENCE'),
    actor_token: actor, actor_token_type: AT,
  });
  const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url'));
  assert.deepEqual(claims.act, { sub: env('XANY_CLIENT_ID') });
  assert.equal(claims.sub, env('CC_CLIENT_ID'));
  await assert.rejects(client.genericGrantRequest(config, GRANT, {
    subject_token: subject, subject_token_type: AT, audience: env('AUDIENCE'),
    scope: 'api.read api.write',
  }), (e) => e instanceof client.ResponseBodyError && e.error === 'invalid_scope');
});
