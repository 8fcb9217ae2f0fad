// Shared by the interop tests: the environment the pytest wrapper passes, and a user agent
// made of fetch that logs in with Basic auth and answers our consent page.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';

export function env(name) {
  const v = process.env[name];
  assert.ok(v, `environment variable ${name} is not set (run through the pytest wrapper)`);
  return v;
}

export function basic(user, password) {
  return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
}

function attr(tag, name) {
  const m = tag.match(new RegExp(`\\b${name}="([^"]*)"`));
  return m ? m[1].replace(/&amp;/g, '&').replace(/&quot;/g, '"') : undefined;
}

// The consent page's form: { action, txn, csrf } (the page has exactly one form).
export function consentForm(html) {
  const forms = html.match(/<form\b[^>]*>/g) || [];
  assert.equal(forms.length, 1, 'the consent page has one form');
  assert.equal(attr(forms[0], 'method'), 'post');
  const hidden = {};
  for (const input of html.match(/<input\b[^>]*>/g) || []) {
    if (attr(input, 'type') === 'hidden') hidden[attr(input, 'name')] = attr(input, 'value');
  }
  assert.ok(hidden.txn && hidden.csrf, 'hidden txn and csrf');
  return { action: attr(forms[0], 'action'), txn: hidden.txn, csrf: hidden.csrf };
}

// Plays the browser for one authorization request: GET authorizeUrl as the user, allow on the
// consent page (when one is shown), and return the redirect target as a URL. A FAPI 2.0 server
// redirects with 303 (FAPI 2.0 SP 5.3.2.2-10: the browser must not re-post the consent form).
export async function userAgentAuthorize(authorizeUrl, user, password, status = 302) {
  const auth = basic(user, password);
  let r = await fetch(authorizeUrl, { headers: { authorization: auth }, redirect: 'manual' });
  if (r.status === 200) {
    assert.match(r.headers.get('content-type') || '', /^text\/html/);
    const form = consentForm(await r.text());
    const action = new URL(form.action, authorizeUrl);
    r = await fetch(action, {
      method: 'POST',
      redirect: 'manual',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ txn: form.txn, csrf: form.csrf, decision: 'allow' }),
    });
  }
  assert.equal(r.status, status, `expected a ${status}, got ${r.status}: ${await r.text()}`);
  return new URL(r.headers.get('location'));
}

// OIDC Core §3.1.3.6: base64url of the left half of SHA-256 of the access token.
export function atHash(accessToken) {
  const d = createHash('sha256').update(accessToken, 'ascii').digest();
  return d.subarray(0, d.length / 2).toString('base64url');
}

// A fetch over node:https presenting a client certificate (none when cert is undefined), for
// openid-client's customFetch: node's own fetch takes no client certificate without undici.
// Every URL fetched is pushed onto seen.
export function certFetch(cert, key, seen = []) {
  return (url, options) => new Promise((resolve, reject) => {
    seen.push(String(url));
    const headers = Object.fromEntries(new Headers(options.headers));
    const req = https.request(url, {
      method: options.method, headers, signal: options.signal,
      ...(cert ? { cert: readFileSync(cert), key: readFileSync(key) } : {}),
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          h.set(k, Array.isArray(v) ? v.join(', ') : v);
        }
        const body = [204, 304].includes(res.statusCode) ? null : Buffer.concat(chunks);
        resolve(new Response(body, { status: res.statusCode, headers: h }));
      });
    });
    req.on('error', reject);
    const body = options.body;
    req.end(body === undefined || body === null ? undefined : String(body));
  });
}
