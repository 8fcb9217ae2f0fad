// openid-client (v6) registering its clients at our registration endpoint (RFC 7591,
// issue 20) with an initial access token (OAuthASRegistration Token), then using them: run by
// tests/integration/test_876_openid_client_registration.py, which sets ISSUER,
// OIDC_USER/OIDC_PASSWORD and INITIAL_ACCESS_TOKEN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { env } from './lib.mjs';
import { codeFlow, refreshIntrospectRevoke } from './rp.mjs';

const ISSUER = env('ISSUER');
const USER = env('OIDC_USER');
const PASSWORD = env('OIDC_PASSWORD');
const options = { initialAccessToken: env('INITIAL_ACCESS_TOKEN') };

test('a confidential client registers, then code flow, refresh, introspection, revocation',
  async () => {
    const redirectUri = 'https://rp.test/cb';
    const config = await client.dynamicClientRegistration(new URL(ISSUER), {
      redirect_uris: [redirectUri], token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid profile email offline_access', client_name: 'openid-client RP',
    }, undefined, options);
    const md = config.clientMetadata();
    assert.match(md.client_id, /^dyn-/);
    assert.ok(md.client_secret && md.registration_access_token);
    console.log(`registered: ${md.client_id}`);
    const { tokens } = await codeFlow(config, { redirectUri, scope: 'openid email offline_access',
      par: true, user: USER, password: PASSWORD });
    assert.equal(tokens.claims().aud, md.client_id);
    await refreshIntrospectRevoke(config, tokens, USER);
  });

test('a public client with a loopback redirect registers and runs the code flow', async () => {
  const config = await client.dynamicClientRegistration(new URL(ISSUER), {
    redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none',
  }, client.None(), options);
  assert.equal(config.clientMetadata().client_secret, undefined);
  const { tokens } = await codeFlow(config, { redirectUri: 'http://127.0.0.1:61000/cb',
    scope: 'openid', user: USER, password: PASSWORD });
  assert.equal(tokens.claims().sub, USER);
});

test('without the initial access token: refused', async () => {
  await assert.rejects(client.dynamicClientRegistration(new URL(ISSUER), {
    redirect_uris: ['https://rp.test/cb'] }), (e) => {
    assert.equal(e.status ?? e.cause?.status, 401, String(e));
    return true;
  });
});
