// openid-client (v6) with tls_client_auth (RFC 8705) against a running mod_oauth_as: the
// library's TlsClientAuth() sends client_id alone and the certificate travels in the TLS
// handshake. Node's fetch cannot be given a client certificate without the undici package
// (not among our pinned modules), so the client's customFetch is a small fetch over
// node:https presenting it (certFetch, lib.mjs): what an undici Agent with connect: { cert, key }
// does. Run by tests/integration/test_775_openid_client_mtls.py, which makes the certificates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { certFetch, env, userAgentAuthorize } from './lib.mjs';

const ISSUER = env('ISSUER');
const X5T = env('MTLS_X5T');

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

const requested = []; // every URL the clients fetched

async function discover(clientId, cert, key, metadata) {
  return client.discovery(new URL(ISSUER), clientId, metadata, client.TlsClientAuth(),
    { [client.customFetch]: certFetch(cert, key, requested) });
}

test('discovery lists tls_client_auth, bound tokens and the aliases', async () => {
  const config = await discover('mtls1', env('MTLS_CERT'), env('MTLS_KEY'));
  const md = config.serverMetadata();
  assert.ok(md.token_endpoint_auth_methods_supported.includes('tls_client_auth'));
  assert.equal(md.tls_client_certificate_bound_access_tokens, true);
  assert.equal(md.mtls_endpoint_aliases.token_endpoint, env('ALIAS') + '/oauth/token');
});

test('client credentials: the token is bound to the certificate', async () => {
  const config = await discover('mtls1', env('MTLS_CERT'), env('MTLS_KEY'));
  const tokens = await client.clientCredentialsGrant(config, { scope: 'api.read' });
  assert.deepEqual(claims(tokens.access_token).cnf, { 'x5t#S256': X5T });
});

test('PAR and the code flow, userinfo with the bound token', async () => {
  const config = await discover('mtls1', env('MTLS_CERT'), env('MTLS_KEY'));
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: env('MTLS_REDIRECT_URI'), scope: 'openid', state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const callback = await userAgentAuthorize(url, env('OIDC_USER'), env('OIDC_PASSWORD'));
  const tokens = await client.authorizationCodeGrant(config, callback,
    { pkceCodeVerifier: verifier, expectedState: state });
  assert.deepEqual(claims(tokens.access_token).cnf, { 'x5t#S256': X5T });
  const sub = tokens.claims().sub;
  const info = await client.fetchUserInfo(config, tokens.access_token, sub);
  assert.equal(info.sub, env('OIDC_USER'));
});

test('use_mtls_endpoint_aliases: the token request goes to the alias host', async () => {
  const config = await discover('mtls1', env('MTLS_CERT'), env('MTLS_KEY'),
    { use_mtls_endpoint_aliases: true });
  requested.length = 0;
  const tokens = await client.clientCredentialsGrant(config, { scope: 'api.read' });
  assert.deepEqual(claims(tokens.access_token).cnf, { 'x5t#S256': X5T });
  assert.deepEqual(requested, [env('ALIAS') + '/oauth/token']);
});

test('without a certificate, or with another, invalid_client', async () => {
  for (const [cert, key] of [[undefined, undefined], [env('OTHER_CERT'), env('OTHER_KEY')]]) {
    const config = await discover('mtls1', cert, key);
    let err;
    await assert.rejects(client.clientCredentialsGrant(config, { scope: 'api.read' }), (e) => {
      err = e;
      return true;
    });
    // every 401 of the token endpoint carries a challenge, which the library surfaces
    assert.ok(err instanceof client.WWWAuthenticateChallengeError, String(err));
    assert.equal(err.status, 401);
    assert.equal((await err.response.json()).error, 'invalid_client');
  }
});
