// Shared by the interop tests: the environment the pytest wrapper passes, and a user agent
// made of fetch that logs in with Basic auth and answers our consent page.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

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
