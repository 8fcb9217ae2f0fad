// bench/oidc-provider/server.mjs: node oidc-provider configured for the benchmark's flows.
//
//   node server.mjs --port P --key ES256.pem [--workers N] [--cookie-file F]
//                   [--client-key CLIENT.pub.pem --client-kid KID] [--dpop] [--fapi]
//                   [--mtls --tls-cert CRT --tls-key KEY --client-ca CA --client-dn DN]
//                   [--registration]
//
// Same flows as mod_oauth_as: PAR enabled (POST /request), PKCE S256 required, client 'bench'
// with client_secret_basic, JWT access tokens for the resource urn:bench:api signed ES256,
// ES256 ID tokens, the built-in in-memory adapter.  With --client-key (an EC P-256 public key,
// PEM) a second client 'bench-pkjwt', the same but authenticating with private_key_jwt (its
// jwks: that key with --client-kid, ES256): oidc-provider's own checks of the assertion (alg,
// exp, jti, iss, aud = issuer / endpoint URLs, signature, the jti once through its
// ReplayDetection model) at PAR and at the token endpoint.  With --dpop a client 'bench-dpop',
// the same as 'bench' (client_secret_basic, the same secret) with dpop_bound_access_tokens:
// DPoP (RFC 9449, features.dPoP, no nonces as in mod_oauth_as's default) at PAR and token, its
// tokens bound to the proof's key, a token request without a proof refused.  With --fapi (and
// --client-key) the provider runs in its FAPI 2.0 mode (features.fapi, profile '2.0': PKCE
// S256, the assertion's aud the issuer, redirect_uri required, 303s) with a client 'bench-fapi':
// private_key_jwt with that key (ES256), dpop_bound_access_tokens, PAR required, scope openid
// and no resource, so that its (opaque) access token is for userinfo (features.userinfo, GET
// /me with the DPoP scheme and a proof with ath).  With --mtls the
// server speaks TLS (node's https, the issuer https://localhost:PORT, --tls-cert/--tls-key as
// the httpd servers' certificate), asks every client for a certificate (requestCert, verified
// against --client-ca by the TLS layer, rejectUnauthorized false: the provider decides) and has a
// client 'bench-mtls' with tls_client_auth (RFC 8705), tls_client_auth_subject_dn --client-dn and
// certificate-bound access tokens (features.mTLS: tlsClientAuth, certificateBoundAccessTokens;
// the certificate read from the TLS socket).  TLS session tickets are on (node's default); the
// cluster's workers share their ticket keys, as a real cluster would.  With --registration
// open dynamic client registration (features.registration, RFC 7591, no initial access token)
// at POST /reg: bench/run --dcr's registration row (the memory adapter keeps the clients).
//
// The user 'benchuser' has an existing login session and grant, so /auth redirects at once:
// at start-up every process saves (1) a Grant for benchuser/bench with scope openid and the
// resource scope api.read on urn:bench:api and (2) a Session with the fixed id 'benchsession'
// whose authorizations name that grant.  The driver sends the (signed) session cookie, written
// to --cookie-file, on every GET /auth.  Nothing else is short-circuited: the provider loads
// the session and the grant from its adapter, runs its prompt policy, and issues real codes
// and tokens.  This is what a returning user with a remembered consent looks like.
//
// --workers N (N >= 2): a node:cluster of N workers sharing the port.  The in-memory adapter is
// per process; node's cluster hands each accepted connection to one worker, and the driver runs
// each whole flow on one kept-alive connection, so the PAR request_uri and the code are always
// redeemed in the worker that stored them (sticky by connection).  A real deployment would
// need a shared adapter (Redis...) and pay for it; the cluster figure is therefore a best case.
import cluster from 'node:cluster';
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { createServer } from 'node:https';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';
import Keygrip from 'keygrip';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '3000' },
    key: { type: 'string' },
    workers: { type: 'string', default: '1' },
    'cookie-file': { type: 'string' },
    'client-key': { type: 'string' },
    'client-kid': { type: 'string', default: 'bench-client' },
    dpop: { type: 'boolean', default: false },
    fapi: { type: 'boolean', default: false },
    mtls: { type: 'boolean', default: false },
    registration: { type: 'boolean', default: false },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'client-ca': { type: 'string' },
    'client-dn': { type: 'string' },
  },
});
const PORT = Number(args.port);
const WORKERS = Number(args.workers);
const ISSUER = args.mtls ? `https://localhost:${PORT}` : `http://127.0.0.1:${PORT}`;
const COOKIE_KEYS = ['bench-cookie-signing-key-0123456789'];
const SESSION_ID = 'benchsession';
const USER = 'benchuser';
const CLIENT = { id: 'bench', secret: 'bench-secret', redirect: 'https://rp.bench.test/cb' };
const PKJWT_CLIENT = 'bench-pkjwt';
const DPOP_CLIENT = 'bench-dpop';
const MTLS_CLIENT = 'bench-mtls';
const FAPI_CLIENT = 'bench-fapi';
const RESOURCE = 'urn:bench:api';

const cookieValue = () => {
  const kg = new Keygrip(COOKIE_KEYS);
  return `_session=${SESSION_ID}; _session.sig=${kg.sign(`_session=${SESSION_ID}`)}`;
};

async function worker() {
  const jwk = createPrivateKey(readFileSync(args.key)).export({ format: 'jwk' });
  jwk.alg = 'ES256';
  jwk.use = 'sig';
  jwk.kid = 'bench-es256';

  const base = {
    redirect_uris: [CLIENT.redirect],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    id_token_signed_response_alg: 'ES256',
  };
  const clients = [{
    ...base,
    client_id: CLIENT.id,
    client_secret: CLIENT.secret,
    token_endpoint_auth_method: 'client_secret_basic',
  }];
  const pub = args['client-key']
    && createPublicKey(readFileSync(args['client-key'])).export({ format: 'jwk' });
  if (args.fapi) {
    clients.push({
      ...base,
      client_id: FAPI_CLIENT,
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [{ ...pub, kid: args['client-kid'], alg: 'ES256', use: 'sig' }] },
      dpop_bound_access_tokens: true,
      require_pushed_authorization_requests: true,
    });
  } else if (args['client-key']) {
    clients.push({
      ...base,
      client_id: PKJWT_CLIENT,
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [{ ...pub, kid: args['client-kid'], alg: 'ES256', use: 'sig' }] },
    });
  }

  if (args.dpop) {
    clients.push({
      ...base,
      client_id: DPOP_CLIENT,
      client_secret: CLIENT.secret,
      token_endpoint_auth_method: 'client_secret_basic',
      dpop_bound_access_tokens: true,
    });
  }

  if (args.mtls) {
    clients.push({
      ...base,
      client_id: MTLS_CLIENT,
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: args['client-dn'],
      tls_client_certificate_bound_access_tokens: true,
    });
  }

  const provider = new Provider(ISSUER, {
    clients,
    jwks: { keys: [jwk] },
    // the library's defaults but ES256 ID tokens (its only key): what a registered client gets
    clientDefaults: {
      grant_types: ['authorization_code'],
      id_token_signed_response_alg: 'ES256',
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    cookies: { keys: COOKIE_KEYS },
    pkce: { required: () => true },
    // the defaults, plus tls_client_auth for the mTLS client
    clientAuthMethods: ['client_secret_basic', 'client_secret_jwt', 'client_secret_post',
      'private_key_jwt', 'none', ...(args.mtls ? ['tls_client_auth'] : [])],
    scopes: ['openid'],
    features: {
      devInteractions: { enabled: false },
      fapi: { enabled: args.fapi, profile: '2.0' },
      userinfo: { enabled: true },
      pushedAuthorizationRequests: { enabled: true },
      registration: { enabled: args.registration },
      dPoP: { enabled: true },   // the default; no nonceSecret: no nonces
      mTLS: {
        enabled: args.mtls,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        // the peer certificate of the TLS connection (an X509Certificate), verified by the TLS
        // layer against --client-ca
        getCertificate: (ctx) => ctx.req.socket.getPeerX509Certificate?.(),
        certificateAuthorized: (ctx) => ctx.req.socket.authorized,
        // node writes the subject one RDN a line, first RDN first; RFC 4514 the other way round
        certificateSubjectMatches: (ctx, property, expected) => property
          === 'tls_client_auth_subject_dn' && ctx.req.socket.getPeerX509Certificate()
          .subject.split('\n').reverse().join(',') === expected,
      },
      resourceIndicators: {
        enabled: true,
        // the FAPI client asks for no resource: its access token is for userinfo
        defaultResource: (ctx, client) => (client?.clientId === FAPI_CLIENT ? undefined
          : RESOURCE),
        useGrantedResource: (ctx) => ctx.oidc.client?.clientId !== FAPI_CLIENT,
        getResourceServerInfo: (ctx, resourceIndicator) => {
          if (resourceIndicator !== RESOURCE) throw new Error('unknown resource');
          return {
            scope: 'api.read',
            audience: RESOURCE,
            accessTokenTTL: 3600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    findAccount: (ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
    // the default: the grant id the session remembers for this client
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
  });
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  if (process.env.BENCH_DEBUG) provider.on('interaction.started', (ctx, prompt) => console.error('interaction', JSON.stringify(prompt)));

  // the returning user's grants (one per client) and session (see the header)
  const authorizations = {};
  for (const { client_id: clientId } of clients) {
    const grant = new provider.Grant({ accountId: USER, clientId });
    grant.addOIDCScope('openid');
    if (clientId !== FAPI_CLIENT) grant.addResourceScope(RESOURCE, 'api.read');
    const grantId = await grant.save();
    const sid = clientId === CLIENT.id ? 'benchsid' : `benchsid-${clientId}`;
    authorizations[clientId] = { grantId, sid, persistsLogout: false };
  }
  const now = Math.floor(Date.now() / 1000);
  const session = new provider.Session({
    jti: SESSION_ID,
    uid: 'benchsessionuid',
    accountId: USER,
    loginTs: now,
    authorizations,
  });
  await session.save(7 * 24 * 3600);

  const server = args.mtls
    ? createServer({
      cert: readFileSync(args['tls-cert']),
      key: readFileSync(args['tls-key']),
      ca: readFileSync(args['client-ca']),
      requestCert: true,
      rejectUnauthorized: false,
      // the same in every worker of a cluster: a ticket from one resumes at another
      ticketKeys: createHash('sha512').update(readFileSync(args['tls-key'])).digest()
        .subarray(0, 48),
    }, provider.callback()).listen(PORT, '127.0.0.1')
    : provider.listen(PORT, '127.0.0.1');
  server.keepAliveTimeout = 60000;
  server.headersTimeout = 61000;
}

if (WORKERS > 1 && cluster.isPrimary) {
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  cluster.on('exit', (w, code) => { console.error(`worker ${w.process.pid} exited ${code}`); });
  if (args['cookie-file']) writeFileSync(args['cookie-file'], cookieValue());
} else {
  await worker();
  if (WORKERS <= 1 && args['cookie-file']) writeFileSync(args['cookie-file'], cookieValue());
}
