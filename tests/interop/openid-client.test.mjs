// openid-client (v6, an OpenID-certified relying party library) against a running mod_oauth_as.
// Run by tests/integration/test_520_openid_client.py, which starts the server and sets:
//   ISSUER, NODE_EXTRA_CA_CERTS (the server's certificate), OIDC_USER/OIDC_PASSWORD,
//   CONF_CLIENT_ID/CONF_CLIENT_SECRET/CONF_REDIRECT_URI (confidential, client_secret_basic,
//   offline_access + refresh_token), PUBLIC_CLIENT_ID/PUBLIC_REDIRECT_URI (auth method none),
//   CC_CLIENT_ID/CC_CLIENT_SECRET (client_credentials), RESOURCE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { env, atHash } from './lib.mjs';
import { codeFlow as rpCodeFlow, refreshIntrospectRevoke } from './rp.mjs';

const ISSUER = env('ISSUER');
const USER = env('OIDC_USER');
const PASSWORD = env('OIDC_PASSWORD');

const codeFlow = (config, opts) => rpCodeFlow(config, { ...opts, user: USER, password: PASSWORD });

function confidential() {
  return client.discovery(new URL(ISSUER), env('CONF_CLIENT_ID'), undefined,
    client.ClientSecretBasic(env('CONF_CLIENT_SECRET')));
}

test('discovery: our issuer, endpoints and capabilities', async () => {
  const config = await confidential();
  const md = config.serverMetadata();
  assert.equal(md.issuer, ISSUER);
  for (const ep of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint',
    'revocation_endpoint', 'introspection_endpoint', 'pushed_authorization_request_endpoint']) {
    assert.ok(md[ep] && md[ep].startsWith(ISSUER + '/'), `${ep}: ${md[ep]}`);
  }
  assert.ok(md.supportsPKCE('S256'));
  assert.equal(md.authorization_response_iss_parameter_supported, true);
  assert.ok(md.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
});

test('PAR + PKCE + code flow, id_token checked; refresh; userinfo; introspection; revocation',
  async () => {
    const config = await confidential();
    const { tokens, nonce } = await codeFlow(config, {
      redirectUri: env('CONF_REDIRECT_URI'), scope: 'openid profile email offline_access',
      par: true,
    });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.ok(tokens.expiresIn() > 0);
    const idt = tokens.claims();          // signature, iss, aud, exp, iat, nonce done by the library
    assert.equal(idt.iss, ISSUER);
    assert.equal(idt.sub, USER);
    assert.equal(idt.nonce, nonce);
    assert.equal(idt.aud === env('CONF_CLIENT_ID') || idt.aud.includes(env('CONF_CLIENT_ID')), true);
    assert.equal(idt.at_hash, atHash(tokens.access_token), 'at_hash matches the access token');
    assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');

    const info = await client.fetchUserInfo(config, tokens.access_token, USER);
    assert.equal(info.sub, USER);
    assert.equal(info.email, `${USER}@example.test`);
    await assert.rejects(client.fetchUserInfo(config, tokens.access_token, 'mallory'),
      'userinfo for another subject than expected is rejected by the library');

    await refreshIntrospectRevoke(config, tokens, USER, {
      afterRefresh: async (refreshed) => {
        const info2 = await client.fetchUserInfo(config, refreshed.access_token, USER);
        assert.equal(info2.sub, USER);
      },
    });
  });

test('public client (auth none): code flow without PAR, refresh token rotation', async () => {
  const config = await client.discovery(new URL(ISSUER), env('PUBLIC_CLIENT_ID'), undefined,
    client.None());
  const { tokens } = await codeFlow(config, {
    redirectUri: env('PUBLIC_REDIRECT_URI'), scope: 'openid offline_access', par: false,
  });
  assert.equal(tokens.claims().sub, USER);
  assert.equal(tokens.claims().at_hash, atHash(tokens.access_token));
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.ok(refreshed.refresh_token, 'a public client gets a new refresh token');
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  await client.fetchUserInfo(config, refreshed.access_token, USER);
});

test('client_credentials', async () => {
  const config = await client.discovery(new URL(ISSUER), env('CC_CLIENT_ID'), undefined,
    client.ClientSecretBasic(env('CC_CLIENT_SECRET')));
  const tokens = await client.clientCredentialsGrant(config,
    { scope: 'api.read', resource: env('RESOURCE') });
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  assert.ok(tokens.access_token);
  assert.equal(tokens.refresh_token, undefined);
  assert.equal(tokens.id_token, undefined);
  const intro = await client.tokenIntrospection(config, tokens.access_token);
  assert.equal(intro.active, true);
  assert.equal(intro.client_id, env('CC_CLIENT_ID'));
  assert.equal(intro.scope, 'api.read');
});

test('a wrong client secret: 401 with a Basic challenge and invalid_client', async () => {
  const config = await client.discovery(new URL(ISSUER), env('CC_CLIENT_ID'), undefined,
    client.ClientSecretBasic('not-the-secret'));
  let err;
  await assert.rejects(client.clientCredentialsGrant(config, { scope: 'api.read' }), (e) => {
    err = e;
    return true;
  });
  // RFC 6749 §5.2: 401 + WWW-Authenticate for Basic; the library surfaces the challenge.
  assert.ok(err instanceof client.WWWAuthenticateChallengeError, String(err));
  assert.equal(err.status, 401);
  assert.equal(err.cause[0].scheme, 'basic');
  assert.equal((await err.response.json()).error, 'invalid_client');
});
