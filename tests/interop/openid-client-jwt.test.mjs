// openid-client (v6) with JWT client authentication and signed request objects against a running
// mod_oauth_as (issue 15).  Run by tests/integration/test_525_openid_client_jwt.py, which starts
// the server and sets:
//   ISSUER, NODE_EXTRA_CA_CERTS (the server's certificate), OIDC_USER/OIDC_PASSWORD,
//   PKJWT_CLIENT_ID/PKJWT_KEY_FILE/PKJWT_KID/PKJWT_REDIRECT_URI (private_key_jwt, an EC P-256
//     key: ES256),
//   SJWT_CLIENT_ID/SJWT_SECRET/SJWT_REDIRECT_URI (client_secret_jwt: HS256),
//   JAR_CLIENT_ID/JAR_KEY_FILE/JAR_KID/JAR_REDIRECT_URI (private_key_jwt with an RSA key used
//     as PS256, OAuthASRequestObject Required: every authorization request a signed object).
// The keys are PKCS#8 PEM files; the server knows their public halves from OAuthASClientJWKS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import * as client from 'openid-client';
import { env, atHash } from './lib.mjs';
import { codeFlow as rpCodeFlow, refreshIntrospectRevoke, refusal } from './rp.mjs';

const ISSUER = env('ISSUER');
const USER = env('OIDC_USER');
const PASSWORD = env('OIDC_PASSWORD');
const ES256 = { name: 'ECDSA', namedCurve: 'P-256' };
const PS256 = { name: 'RSA-PSS', hash: 'SHA-256' };

const codeFlow = (config, opts) => rpCodeFlow(config, { ...opts, user: USER, password: PASSWORD });

// A PKCS#8 PEM file as a WebCrypto signing key (what openid-client signs with).
async function signingKey(file, algorithm) {
  const der = createPrivateKey(readFileSync(file)).export({ type: 'pkcs8', format: 'der' });
  return crypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
}

async function pkjwtClient() {
  const key = { key: await signingKey(env('PKJWT_KEY_FILE'), ES256), kid: env('PKJWT_KID') };
  return client.discovery(new URL(ISSUER), env('PKJWT_CLIENT_ID'), undefined,
    client.PrivateKeyJwt(key));
}

async function jarClient() {
  const key = { key: await signingKey(env('JAR_KEY_FILE'), PS256), kid: env('JAR_KID') };
  const config = await client.discovery(new URL(ISSUER), env('JAR_CLIENT_ID'), undefined,
    client.PrivateKeyJwt(key));
  return { config, key };
}

// The ID token of a flow: the library checked signature, iss, aud, exp and nonce; at_hash here.
function checkIdToken(tokens, clientId, nonce) {
  const idt = tokens.claims();
  assert.equal(idt.iss, ISSUER);
  assert.equal(idt.sub, USER);
  assert.equal(idt.nonce, nonce);
  assert.ok(idt.aud === clientId || idt.aud.includes(clientId), `aud ${idt.aud}`);
  assert.equal(idt.at_hash, atHash(tokens.access_token), 'at_hash matches the access token');
  assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');
}

test('discovery: private_key_jwt, client_secret_jwt and signed request objects', async () => {
  const md = (await pkjwtClient()).serverMetadata();
  for (const m of ['private_key_jwt', 'client_secret_jwt']) {
    assert.ok(md.token_endpoint_auth_methods_supported.includes(m), m);
  }
  for (const alg of ['ES256', 'PS256', 'HS256']) {
    assert.ok(md.token_endpoint_auth_signing_alg_values_supported.includes(alg), alg);
  }
  assert.ok(!md.token_endpoint_auth_signing_alg_values_supported.includes('none'));
  assert.equal(md.request_parameter_supported, true);
  assert.ok(md.request_object_signing_alg_values_supported.includes('PS256'));
});

test('private_key_jwt (ES256): PAR + code flow, refresh, introspection, revocation', async () => {
  const config = await pkjwtClient();
  const { tokens, nonce } = await codeFlow(config, {
    redirectUri: env('PKJWT_REDIRECT_URI'), scope: 'openid offline_access', par: true,
  });
  checkIdToken(tokens, env('PKJWT_CLIENT_ID'), nonce);
  await refreshIntrospectRevoke(config, tokens, USER);
});

test('client_secret_jwt (HS256): PAR + code flow, refresh, introspection, revocation', async () => {
  const config = await client.discovery(new URL(ISSUER), env('SJWT_CLIENT_ID'), undefined,
    client.ClientSecretJwt(env('SJWT_SECRET')));
  const { tokens, nonce } = await codeFlow(config, {
    redirectUri: env('SJWT_REDIRECT_URI'), scope: 'openid offline_access', par: true,
  });
  checkIdToken(tokens, env('SJWT_CLIENT_ID'), nonce);
  await refreshIntrospectRevoke(config, tokens, USER);
});

test('PAR with a signed request object (JAR, PS256) and private_key_jwt (PS256)', async () => {
  const { config, key } = await jarClient();
  const params = {
    redirect_uri: env('JAR_REDIRECT_URI'), scope: 'openid offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  };
  // OAuthASRequestObject Required: the same request pushed unsigned is refused.
  const plain = await refusal(client.buildAuthorizationUrlWithPAR(config, params));
  assert.equal(plain.status, 400);
  assert.equal(plain.error, 'invalid_request');
  assert.match(plain.description, /signed request object/);
  const { tokens, nonce } = await codeFlow(config, {
    redirectUri: env('JAR_REDIRECT_URI'), scope: 'openid offline_access', par: true,
    jarKey: key,
  });
  checkIdToken(tokens, env('JAR_CLIENT_ID'), nonce);
  await refreshIntrospectRevoke(config, tokens, USER);
});

test('a signed request object by value at /authorize (JAR without PAR)', async () => {
  const { config, key } = await jarClient();
  const { tokens, nonce } = await codeFlow(config, {
    redirectUri: env('JAR_REDIRECT_URI'), scope: 'openid offline_access', par: false,
    jarKey: key,
  });
  checkIdToken(tokens, env('JAR_CLIENT_ID'), nonce);
});

test('an assertion signed with a key the server does not know, or the wrong secret: '
  + 'invalid_client', async () => {
  const stranger = await crypto.subtle.generateKey(ES256, false, ['sign', 'verify']);
  const wrongKey = await client.discovery(new URL(ISSUER), env('PKJWT_CLIENT_ID'), undefined,
    client.PrivateKeyJwt({ key: stranger.privateKey, kid: env('PKJWT_KID') }));
  const wrongSecret = await client.discovery(new URL(ISSUER), env('SJWT_CLIENT_ID'), undefined,
    client.ClientSecretJwt('x'.repeat(48)));
  for (const [config, redirectUri] of [[wrongKey, env('PKJWT_REDIRECT_URI')],
    [wrongSecret, env('SJWT_REDIRECT_URI')]]) {
    const pushed = client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: redirectUri, scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const { status, error } = await refusal(pushed);
    assert.deepEqual({ status, error }, { status: 401, error: 'invalid_client' });
  }
});
