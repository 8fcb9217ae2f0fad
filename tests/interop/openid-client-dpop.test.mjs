// openid-client (v6) with a DPoP handle (RFC 9449) against a running mod_oauth_as whose
// OAuthASDPoPNonce is On, so that every first request of a handle meets use_dpop_nonce and
// the library's retry with our nonce. Run by tests/integration/test_755_openid_client_dpop.py,
// with the environment of openid-client.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { env, userAgentAuthorize } from './lib.mjs';

const ISSUER = env('ISSUER');
const USER = env('OIDC_USER');
const PASSWORD = env('OIDC_PASSWORD');

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

// A DPoP handle of config with a fresh ES256 key, and that key's RFC 7638 thumbprint.
async function dpop(config) {
  const keyPair = await client.randomDPoPKeyPair('ES256');
  const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey));
  return { DPoP: client.getDPoPHandle(config, keyPair), jkt };
}

// One code flow with the handle d at PAR (par) and at the token endpoint.
async function codeFlow(config, d, { redirectUri, scope, par }) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const params = {
    redirect_uri: redirectUri, scope, state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  };
  const url = par ? await client.buildAuthorizationUrlWithPAR(config, params, { DPoP: d.DPoP })
                  : client.buildAuthorizationUrl(config, { ...params, dpop_jkt: d.jkt });
  const callback = await userAgentAuthorize(url, USER, PASSWORD);
  return client.authorizationCodeGrant(config, callback,
    { pkceCodeVerifier: verifier, expectedState: state }, undefined, { DPoP: d.DPoP });
}

function assertBound(tokens, d) {
  assert.equal(tokens.token_type.toLowerCase(), 'dpop');
  assert.deepEqual(claims(tokens.access_token).cnf, { jkt: d.jkt });
}

test('discovery names the DPoP algorithms', async () => {
  const config = await client.discovery(new URL(ISSUER), env('CONF_CLIENT_ID'), undefined,
    client.ClientSecretBasic(env('CONF_CLIENT_SECRET')));
  assert.ok(config.serverMetadata().dpop_signing_alg_values_supported.includes('ES256'));
});

test('confidential client: PAR with a proof, code flow, refresh, userinfo, introspection',
  async () => {
    const config = await client.discovery(new URL(ISSUER), env('CONF_CLIENT_ID'), undefined,
      client.ClientSecretBasic(env('CONF_CLIENT_SECRET')));
    const d = await dpop(config);
    const tokens = await codeFlow(config, d, {
      redirectUri: env('CONF_REDIRECT_URI'), scope: 'openid email offline_access', par: true,
    });
    assertBound(tokens, d);
    const info = await client.fetchUserInfo(config, tokens.access_token, USER, { DPoP: d.DPoP });
    assert.equal(info.email, `${USER}@example.test`);
    // without the handle the library sends it as a Bearer token: refused
    await assert.rejects(client.fetchUserInfo(config, tokens.access_token, USER));
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined,
      { DPoP: d.DPoP });
    assertBound(refreshed, d);
    const intro = await client.tokenIntrospection(config, refreshed.access_token);
    assert.equal(intro.active, true);
    assert.equal(intro.token_type, 'DPoP');
    assert.deepEqual(intro.cnf, { jkt: d.jkt });
  });

test('public client: dpop_jkt at /authorize, bound refresh token', async () => {
  const config = await client.discovery(new URL(ISSUER), env('PUBLIC_CLIENT_ID'), undefined,
    client.None());
  const d = await dpop(config);
  const tokens = await codeFlow(config, d, {
    redirectUri: env('PUBLIC_REDIRECT_URI'), scope: 'openid offline_access', par: false,
  });
  assertBound(tokens, d);
  // another key cannot use the refresh token; the family lives on for the right one
  const other = await dpop(config);
  await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token, undefined,
    { DPoP: other.DPoP }), (e) => {
    assert.equal(e.error, 'invalid_grant');
    return true;
  });
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined,
    { DPoP: d.DPoP });
  assertBound(refreshed, d);
  await client.fetchUserInfo(config, refreshed.access_token, USER, { DPoP: d.DPoP });
});

test('client_credentials with a proof', async () => {
  const config = await client.discovery(new URL(ISSUER), env('CC_CLIENT_ID'), undefined,
    client.ClientSecretBasic(env('CC_CLIENT_SECRET')));
  const d = await dpop(config);
  const tokens = await client.clientCredentialsGrant(config, { scope: 'api.read' },
    { DPoP: d.DPoP });
  assertBound(tokens, d);
});
