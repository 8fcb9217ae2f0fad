// openid-client (v6) in its FAPI 2.0 configuration against a running mod_oauth_as with
// `OAuthASProfile fapi2` (issue 18): private_key_jwt (ES256), PAR, DPoP (with our nonces),
// JARM (response_mode=jwt, whose JWT the library verifies itself), ID token and signed
// introspection responses verified against our JWKS (enableNonRepudiationChecks), userinfo and
// refresh with the DPoP handle; and the same with tls_client_auth and certificate-bound tokens
// (the other FAPI 2.0 variant); and a client of OAuthASProfile fapi2-message-signing pushing a
// signed request object. Run by tests/integration/test_805_openid_client_fapi2.py, which
// sets ISSUER, NODE_EXTRA_CA_CERTS, OIDC_USER/OIDC_PASSWORD,
// FAPI_CLIENT_ID/FAPI_KEY_FILE/FAPI_KID/FAPI_REDIRECT_URI (the client's EC P-256 key, PKCS#8),
// MS_CLIENT_ID/MS_REDIRECT_URI (the Message Signing client, with the same key),
// MTLS_CLIENT_ID/MTLS_REDIRECT_URI/MTLS_CERT/MTLS_KEY/MTLS_X5T (the mTLS client's certificate
// and its SHA-256 thumbprint) and OTHER_CERT/OTHER_KEY (a certificate of another CA).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import * as client from 'openid-client';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { env, atHash, certFetch, userAgentAuthorize } from './lib.mjs';
import { refusal } from './rp.mjs';

const ISSUER = env('ISSUER');
const USER = env('OIDC_USER');
const CLIENT_ID = env('FAPI_CLIENT_ID');
const REDIRECT_URI = env('FAPI_REDIRECT_URI');

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

// A FAPI 2.0 client: private_key_jwt with the ES256 key of FAPI_KEY_FILE, every JWT response
// of ours (ID token, JARM, introspection) verified against our JWKS; jarm: response_mode=jwt.
// Its configuration, and the key (for request objects).
async function pkjwtClient(clientId, { jarm }) {
  const der = createPrivateKey(readFileSync(env('FAPI_KEY_FILE')))
    .export({ type: 'pkcs8', format: 'der' });
  const key = { key: await crypto.subtle.importKey('pkcs8', der,
    { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']), kid: env('FAPI_KID') };
  const config = await client.discovery(new URL(ISSUER), clientId,
    { introspection_signed_response_alg: 'ES256' }, client.PrivateKeyJwt(key));
  client.enableNonRepudiationChecks(config);
  if (jarm) client.useJwtResponseMode(config);
  return { config, key };
}

async function fapiClient({ jarm }) {
  return (await pkjwtClient(CLIENT_ID, { jarm })).config;
}

async function dpop(config) {
  const keyPair = await client.randomDPoPKeyPair('ES256');
  return { DPoP: client.getDPoPHandle(config, keyPair),
           jkt: await calculateJwkThumbprint(await exportJWK(keyPair.publicKey)) };
}

// The tls_client_auth client presenting cert (its tokens bound to it), with JARM.
async function mtlsClient(cert, key) {
  const config = await client.discovery(new URL(ISSUER), env('MTLS_CLIENT_ID'),
    { introspection_signed_response_alg: 'ES256' }, client.TlsClientAuth(),
    { [client.customFetch]: certFetch(cert, key) });
  client.enableNonRepudiationChecks(config);
  client.useJwtResponseMode(config);
  return config;
}

// The parameters of an authorization request (PKCE S256, state, nonce), and their secrets.
async function request(redirectUri) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const params = {
    redirect_uri: redirectUri, scope: 'openid profile offline_access', state, nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  };
  return { params, verifier, state, nonce };
}

// PAR (with the handle's proof when d is given; the parameters signed as a request object with
// jarKey when given), then the user at /authorize (Basic login, consent, a 303):
// { callback, verifier, state, nonce }.
async function authorize(config, d, redirectUri = REDIRECT_URI, jarKey = undefined) {
  const { params, verifier, state, nonce } = await request(redirectUri);
  let pushed = params;
  if (jarKey) {
    pushed = (await client.buildAuthorizationUrlWithJAR(config, params, jarKey)).searchParams;
    assert.deepEqual([...pushed.keys()].sort(), ['client_id', 'request']);
  }
  const url = await client.buildAuthorizationUrlWithPAR(config, pushed, { DPoP: d?.DPoP });
  assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
  const callback = await userAgentAuthorize(url, USER, env('OIDC_PASSWORD'), 303);
  return { callback, verifier, state, nonce };
}

function redeem(config, a, d) {
  return client.authorizationCodeGrant(config, a.callback, {
    pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce,
    idTokenExpected: true,
  }, undefined, { DPoP: d?.DPoP });
}

function assertBound(tokens, d) {
  assert.equal(tokens.token_type, 'dpop');
  assert.deepEqual(claims(tokens.access_token).cnf, { jkt: d.jkt });
}

test('discovery: what a FAPI 2.0 client looks for, and nothing the profile forbids',
  async () => {
    const md = (await fapiClient({ jarm: false })).serverMetadata();
    assert.deepEqual(md.token_endpoint_auth_methods_supported,
      ['private_key_jwt', 'tls_client_auth']);
    assert.equal(md.tls_client_certificate_bound_access_tokens, true);
    assert.equal(md.require_pushed_authorization_requests, true);
    assert.ok(md.response_modes_supported.includes('jwt'));
    assert.deepEqual(md.authorization_signing_alg_values_supported, ['ES256']);
    assert.deepEqual(md.introspection_signing_alg_values_supported, ['ES256']);
    for (const list of [md.dpop_signing_alg_values_supported,
      md.token_endpoint_auth_signing_alg_values_supported]) {
      assert.ok(list.includes('ES256') && !list.includes('RS256'), String(list));
    }
    assert.deepEqual(md.code_challenge_methods_supported, ['S256']);
  });

test('PAR + DPoP + JARM, ID token, userinfo, refresh, signed introspection', async () => {
  const config = await fapiClient({ jarm: true });
  const d = await dpop(config);
  const a = await authorize(config, d);
  // JARM: only the signed response travels back (the library verified it: signature with our
  // JWKS, iss, aud, exp, then state inside)
  assert.deepEqual([...a.callback.searchParams.keys()], ['response']);
  const response = a.callback.searchParams.get('response');
  assert.equal(claims(response).iss, ISSUER);
  assert.equal(claims(response).aud, CLIENT_ID);
  const tokens = await redeem(config, a, d);
  assertBound(tokens, d);
  const idt = tokens.claims();
  assert.equal(idt.iss, ISSUER);
  assert.equal(idt.sub, USER);
  assert.equal(idt.aud, CLIENT_ID);
  assert.equal(idt.nonce, a.nonce);
  assert.equal(idt.at_hash, atHash(tokens.access_token));
  assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');

  const info = await client.fetchUserInfo(config, tokens.access_token, USER, { DPoP: d.DPoP });
  assert.equal(info.sub, USER);
  assert.equal(info.name, USER);

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined,
    { DPoP: d.DPoP });
  assertBound(refreshed, d);
  assert.notEqual(refreshed.access_token, tokens.access_token);

  // introspection_signed_response_alg: Accept application/token-introspection+jwt; the library
  // checks typ, iss, aud and (non-repudiation) the signature
  const intro = await client.tokenIntrospection(config, refreshed.access_token);
  assert.equal(intro.active, true);
  assert.equal(intro.client_id, CLIENT_ID);
  assert.equal(intro.sub, USER);
  assert.equal(intro.token_type, 'DPoP');
  assert.deepEqual(intro.cnf, { jkt: d.jkt });
});

test('another DPoP key at the token endpoint than at PAR: invalid_grant; the code survives',
  async () => {
    const config = await fapiClient({ jarm: false });
    const d = await dpop(config);
    const a = await authorize(config, d);
    // without JARM: code, state and iss (RFC 9207, which the library checks) in the query
    assert.equal(a.callback.searchParams.get('iss'), ISSUER);
    const other = await dpop(config);
    await assert.rejects(redeem(config, a, other), (e) => {
      assert.ok(e instanceof client.ResponseBodyError, String(e));
      assert.equal(e.status, 400);
      assert.equal(e.error, 'invalid_grant');
      return true;
    });
    assertBound(await redeem(config, a, d), d);
  });

test('mTLS + certificate-bound tokens: PAR + JARM, ID token, userinfo, refresh, introspection',
  async () => {
    const config = await mtlsClient(env('MTLS_CERT'), env('MTLS_KEY'));
    const a = await authorize(config, undefined, env('MTLS_REDIRECT_URI'));
    assert.deepEqual([...a.callback.searchParams.keys()], ['response']);
    const tokens = await redeem(config, a);
    const bound = { 'x5t#S256': env('MTLS_X5T') };
    assert.equal(tokens.token_type, 'bearer');
    assert.deepEqual(claims(tokens.access_token).cnf, bound);
    assert.equal(tokens.claims().sub, USER);
    assert.equal(tokens.claims().nonce, a.nonce);
    const info = await client.fetchUserInfo(config, tokens.access_token, USER);
    assert.equal(info.sub, USER);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.deepEqual(claims(refreshed.access_token).cnf, bound);
    const intro = await client.tokenIntrospection(config, refreshed.access_token);
    assert.equal(intro.active, true);
    assert.deepEqual(intro.cnf, bound);
  });

test('mTLS: the code redeemed with a certificate of another CA: invalid_client; it survives',
  async () => {
    const config = await mtlsClient(env('MTLS_CERT'), env('MTLS_KEY'));
    const a = await authorize(config, undefined, env('MTLS_REDIRECT_URI'));
    const other = await mtlsClient(env('OTHER_CERT'), env('OTHER_KEY'));
    const { status, error } = await refusal(redeem(other, a));
    assert.deepEqual({ status, error }, { status: 401, error: 'invalid_client' });
    const tokens = await redeem(config, a);
    assert.deepEqual(claims(tokens.access_token).cnf, { 'x5t#S256': env('MTLS_X5T') });
  });

test('Message Signing: plain parameters refused; a request object pushed, JARM, DPoP',
  async () => {
    const { config, key } = await pkjwtClient(env('MS_CLIENT_ID'), { jarm: true });
    const d = await dpop(config);
    const { params } = await request(env('MS_REDIRECT_URI'));
    const plain = await refusal(client.buildAuthorizationUrlWithPAR(config, params,
      { DPoP: d.DPoP }));
    assert.deepEqual([plain.status, plain.error], [400, 'invalid_request']);
    assert.match(plain.description, /signed request object/);
    const a = await authorize(config, d, env('MS_REDIRECT_URI'), key);
    assert.deepEqual([...a.callback.searchParams.keys()], ['response']);
    const tokens = await redeem(config, a, d);
    assertBound(tokens, d);
    assert.equal(tokens.claims().nonce, a.nonce);
  });
