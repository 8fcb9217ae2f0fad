// The Device Authorization Grant (RFC 8628) driven by openid-client 6's device flow functions
// (initiateDeviceAuthorization, pollDeviceAuthorizationGrant), the user's step done in Debian's
// headless Chromium (playwright-core). Run by tests/integration/test_946_device_interop.py,
// which starts the server and sets:
//   ISSUER, NODE_EXTRA_CA_CERTS, DEVICE_CLIENT_ID (public, device_code + refresh_token),
//   DEVICE_CLIENT_NAME, OIDC_USER/OIDC_PASSWORD, ARTIFACTS (screenshots), CHROMIUM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as client from 'openid-client';
import { firstPage, launch } from './chromium.mjs';
import { env } from './lib.mjs';

const ISSUER = env('ISSUER');
const USER = env('OIDC_USER');
const ARTIFACTS = env('ARTIFACTS');

function device() {
  return client.discovery(new URL(ISSUER), env('DEVICE_CLIENT_ID'), undefined, client.None());
}

// The user, in a browser: opens the verification URI the device shows (with the code in it),
// checks the pre-filled code, continues, and answers the consent page with `button`.
async function userStep(uri, userCode, button, shot) {
  const { context, close } = await launch(USER, env('OIDC_PASSWORD'));
  try {
    const { page, problems } = await firstPage(context);
    await page.goto(uri);
    const input = page.getByLabel('Code');
    assert.equal(await input.inputValue(), userCode, 'the code is pre-filled');
    await page.getByRole('button', { name: 'Continue' }).click();
    // the consent page: the device's name and the warning about a request from another device
    await assert.doesNotReject(
      page.getByRole('heading', { name: new RegExp(env('DEVICE_CLIENT_NAME')) }).waitFor());
    assert.ok(await page.getByText(/comes from another device/).isVisible(), 'device warning');
    if (shot) {
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, shot), fullPage: true });
    }
    await page.getByRole('button', { name: button }).click();
    await assert.doesNotReject(page.getByRole('heading', {
      name: button === 'Allow' ? 'Device connected' : 'Request denied' }).waitFor());
    assert.deepEqual(problems, []);
  } finally {
    await close();
  }
}

test('discovery: the device authorization endpoint and the grant type', async () => {
  const md = (await device()).serverMetadata();
  assert.equal(md.device_authorization_endpoint, ISSUER + '/oauth/device');
  assert.ok(md.grant_types_supported.includes('urn:ietf:params:oauth:grant-type:device_code'));
});

test('device flow: the library polls while the user allows in Chromium; tokens, refresh',
  async () => {
    const config = await device();
    const dar = await client.initiateDeviceAuthorization(config,
      { scope: 'openid profile offline_access' });
    assert.match(dar.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    assert.equal(dar.verification_uri, ISSUER + '/device');
    const polling = client.pollDeviceAuthorizationGrant(config, dar);
    await userStep(dar.verification_uri_complete, dar.user_code, 'Allow', 'device-consent.png');
    const tokens = await polling;
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    const idt = tokens.claims();       // signature, iss, aud, exp checked by the library
    assert.equal(idt.iss, ISSUER);
    assert.equal(idt.sub, USER);
    assert.ok(tokens.refresh_token);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.ok(refreshed.access_token && refreshed.access_token !== tokens.access_token);
    // the device code is used up
    await assert.rejects(client.pollDeviceAuthorizationGrant(config, dar),
      (e) => e.error === 'invalid_grant');
  });

test('device flow: the user denies; the library gets access_denied', async () => {
  const config = await device();
  const dar = await client.initiateDeviceAuthorization(config, { scope: 'openid' });
  // settled as soon as the answer comes (a rejection must not wait for a handler)
  const polling = client.pollDeviceAuthorizationGrant(config, dar).then(
    (tokens) => ({ tokens }), (error) => ({ error }));
  await userStep(dar.verification_uri_complete, dar.user_code, 'Deny');
  const { tokens, error } = await polling;
  assert.equal(tokens, undefined);
  assert.equal(error.error, 'access_denied');
});

test('device flow with DPoP: the tokens are bound to the library\'s key', async () => {
  const config = await device();
  const dpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
  const dar = await client.initiateDeviceAuthorization(config, { scope: 'openid' });
  const polling = client.pollDeviceAuthorizationGrant(config, dar, undefined, { DPoP: dpop });
  await userStep(dar.verification_uri_complete, dar.user_code, 'Allow');
  const tokens = await polling;
  assert.equal(tokens.token_type.toLowerCase(), 'dpop');
  const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url'));
  assert.ok(claims.cnf && claims.cnf.jkt, 'cnf.jkt in the access token');
});
