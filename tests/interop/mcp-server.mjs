// A small MCP server (the SDK's Streamable HTTP server transport, stateless, JSON responses)
// for tests/integration/test_855_mcp_sdk.py: one tool, `whoami`, answering with what httpd
// passed it after AuthType oauth-as accepted the token (X-User, X-Client-Id, X-Scope) and
// whether a token reached it (httpd keeps it). It trusts those headers because it listens on
// loopback only, behind httpd's ProxyPass. MCP_PORT: its port; it prints "listening" when ready.
import http from 'node:http';

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

const port = Number(process.env.MCP_PORT);

function whoamiServer() {
  const server = new McpServer({ name: 'oas-whoami', version: '1.0.0' });
  server.registerTool('whoami', {
    title: 'Who am I',
    description: 'The user signed in at the authorization server, as httpd passed it',
  }, async (extra) => {
    const h = extra.requestInfo?.headers ?? {};
    const seen = {
      user: h['x-user'] ?? null,
      client_id: h['x-client-id'] ?? null,
      scope: h['x-scope'] ?? null,
      token_reached_backend: 'authorization' in h,
    };
    return { content: [{ type: 'text', text: JSON.stringify(seen) }] };
  });
  return server;
}

http.createServer(async (req, res) => {
  if (new URL(req.url, 'http://x').pathname !== '/mcp') {
    res.writeHead(404).end();
    return;
  }
  if (req.method !== 'POST') { // stateless: no SSE stream to open, no session to delete
    res.writeHead(405, { allow: 'POST' }).end();
    return;
  }
  const server = whoamiServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined,
    enableJsonResponse: true });
  res.on('close', () => { transport.close(); server.close(); });
  try {
    await server.connect(transport);
    await transport.handleRequest(req, res);
  } catch (e) {
    console.error(e);
    if (!res.headersSent) res.writeHead(500).end();
  }
}).listen(port, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${port}`));
