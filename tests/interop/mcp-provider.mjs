// The MCP SDK's OAuthClientProvider as the MCP interop tests use it, in memory: the client
// metadata (a public client with a loopback redirect), the state, the PKCE verifier and the
// tokens; mcpSession, the SDK's transports and clients around one. PreconfiguredProvider knows its client id and has no saveClientInformation (so the
// SDK cannot fall back to dynamic registration); RegisteringProvider keeps what it registered.
import { randomBytes } from 'node:crypto';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

class MemoryProvider {
  constructor(redirect, name) {
    this.calls = [];
    this.authorizationUrl = undefined;
    this._redirect = redirect;
    this._name = name;
    this._tokens = undefined;
    this._verifier = undefined;
    this._state = randomBytes(16).toString('base64url');
  }

  get redirectUrl() { return this._redirect; }

  get clientMetadata() {
    return { client_name: this._name, redirect_uris: [this._redirect],
      grant_types: this.grantTypes, response_types: ['code'],
      token_endpoint_auth_method: 'none' };
  }

  state() { this.calls.push('state'); return this._state; }

  tokens() { this.calls.push('tokens'); return this._tokens; }

  saveTokens(t) { this.calls.push('saveTokens'); this._tokens = t; }

  redirectToAuthorization(url) { this.calls.push('redirectToAuthorization'); this.authorizationUrl = url; }

  saveCodeVerifier(v) { this.calls.push('saveCodeVerifier'); this._verifier = v; }

  codeVerifier() { this.calls.push('codeVerifier'); return this._verifier; }
}

export class PreconfiguredProvider extends MemoryProvider {
  constructor(redirect, clientId) {
    super(redirect, 'mod_oauth_as MCP interop');
    this.grantTypes = ['authorization_code'];
    this._clientId = clientId;
  }

  clientInformation() { this.calls.push('clientInformation'); return { client_id: this._clientId }; }
}

export class RegisteringProvider extends MemoryProvider {
  // metadataUrl: the agent names itself by its Client ID Metadata Document (SEP-991) where the
  // server says it supports them, instead of registering
  constructor(redirect, metadataUrl) {
    super(redirect, 'mod_oauth_as MCP agent');
    this.grantTypes = ['authorization_code', 'refresh_token'];
    this.info = undefined;
    this._metadataUrl = metadataUrl;
  }

  get clientMetadataUrl() { return this._metadataUrl; }

  clientInformation() { this.calls.push('clientInformation'); return this.info; }

  saveClientInformation(info) { this.calls.push('saveClientInformation'); this.info = info; }
}

// The SDK's transports and clients for mcpUrl with provider, every request they make logged
// in `requests` ("METHOD url -> status"); seen(url, init), when given, sees each first.
export function mcpSession(mcpUrl, provider, seen) {
  const requests = [];
  const logged = async (url, init) => {
    if (seen) seen(url, init);
    const r = await fetch(url, init);
    requests.push(`${init?.method ?? 'GET'} ${url} -> ${r.status}`);
    return r;
  };
  return {
    requests,
    transport: () => new StreamableHTTPClientTransport(new URL(mcpUrl),
      { authProvider: provider, fetch: logged }),
    client: () => new Client({ name: 'mod-oauth-as-interop', version: '1.0.0' }),
  };
}
