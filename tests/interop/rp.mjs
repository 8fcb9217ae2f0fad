// Shared by the openid-client tests: what a relying party does with a configured client (the
// authorization code flow, then the life of its tokens), written once for every way a client
// authenticates (client_secret_basic, private_key_jwt, client_secret_jwt, with or without JAR).
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { userAgentAuthorize } from './lib.mjs';

// One authorization code flow as a relying party does it; returns { tokens, nonce }.
//   par: push the request first (RFC 9126); jarKey: sign it as a request object (RFC 9101,
//   { key: CryptoKey, kid }), by value at /authorize, or pushed when par is set too.
export async function codeFlow(config, { redirectUri, scope, par, jarKey, user, password }) {
  const issuer = config.serverMetadata().issuer;
  const verifier = client.randomPKCECodeVerifier();
  const challenge = await client.calculatePKCECodeChallenge(verifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  let params = {
    redirect_uri: redirectUri, scope, state, nonce,
    code_challenge: challenge, code_challenge_method: 'S256',
  };
  if (jarKey) {
    const jar = await client.buildAuthorizationUrlWithJAR(config, params, jarKey);
    // Only client_id and the signed object remain outside it.
    assert.deepEqual([...jar.searchParams.keys()].sort(), ['client_id', 'request']);
    params = jar.searchParams;
  }
  const url = par ? await client.buildAuthorizationUrlWithPAR(config, params)
                  : client.buildAuthorizationUrl(config, params);
  if (par) {
    // Only client_id and request_uri travel through the browser (RFC 9126 §4).
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
    assert.match(url.searchParams.get('request_uri'), /^urn:ietf:params:oauth:request_uri:/);
  }
  const callback = await userAgentAuthorize(url, user, password);
  assert.equal(callback.origin + callback.pathname, redirectUri);
  assert.equal(callback.searchParams.get('iss'), issuer);
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
  });
  return { tokens, nonce };
}

// The refresh token's life: a refresh grant gives a new access token (afterRefresh(refreshed)
// may use it before it is revoked), introspection sees it active, revoking the refresh token
// refuses the next refresh with invalid_grant and deactivates the family's access tokens.
export async function refreshIntrospectRevoke(config, tokens, user, { afterRefresh } = {}) {
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.ok(refreshed.access_token);
  assert.notEqual(refreshed.access_token, tokens.access_token);
  if (afterRefresh) await afterRefresh(refreshed);
  const rt = refreshed.refresh_token || tokens.refresh_token;

  const intro = await client.tokenIntrospection(config, refreshed.access_token);
  assert.equal(intro.active, true);
  assert.equal(intro.sub, user);

  await client.tokenRevocation(config, rt);
  await assert.rejects(client.refreshTokenGrant(config, rt), (e) => {
    assert.ok(e instanceof client.ResponseBodyError, String(e));
    assert.equal(e.error, 'invalid_grant');
    return true;
  });
  // Revoking the family takes its access tokens along.
  const after = await client.tokenIntrospection(config, refreshed.access_token);
  assert.equal(after.active, false);
  return refreshed;
}

// { status, error, description } of a refused request, whether the library raised a
// ResponseBodyError (400, or 401 without a challenge) or a WWWAuthenticateChallengeError (401
// with one).
export async function refusal(promise) {
  let err;
  await assert.rejects(promise, (e) => { err = e; return true; });
  if (err instanceof client.ResponseBodyError) {
    return { status: err.status, error: err.error, description: err.error_description };
  }
  assert.ok(err instanceof client.WWWAuthenticateChallengeError, String(err));
  const body = await err.response.json();
  return { status: err.status, error: body.error, description: body.error_description };
}
