// `make run`'s demo in a real browser (Debian's headless Chromium, driven by playwright-core):
// the newcomer's walk of issue 8.  Run by tests/integration/test_540_demo_browser.py, which
// starts tools/demo.sh on a free port and sets:
//   DEMO_URL (https://localhost:PORT), ARTIFACTS (where screenshots go), CHROMIUM.
// The demo's user is demo/demo (answered by httpCredentials); its TLS certificate is
// self-signed (ignoreHTTPSErrors).
//
//   /app/ (mod_auth_openidc, client demo-rp) → our /authorize → Basic login → our consent page
//   → Allow → /app/redirect_uri → /app/ showing the ID token's claims → "Call the API"
//   → /app/api/ (proxied with the access token) → /api/ (AuthType oauth-as) answering with the user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from './chromium.mjs';
import { env } from './lib.mjs';

const BASE = env('DEMO_URL');
const ARTIFACTS = env('ARTIFACTS');
const CLIENT_NAME = 'Demo app (mod_auth_openidc)';

test('Chromium through the demo: app → login → consent → app → API', async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const { context, close } = await launch('demo', 'demo');
  const problems = [];   // console errors (CSP violations included) and page errors, with the page
  try {
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(15000);
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console on ${page.url()}: ${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror on ${page.url()}: ${e.message}`));
    const cspReports = [];
    await page.exposeFunction('__cspViolation', (v) => cspReports.push(v));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation',
        (e) => window.__cspViolation(`${location.href}: ${e.violatedDirective} ${e.blockedURI}`));
    });

    // The app: mod_auth_openidc sends the browser to our /authorize (PKCE S256, state, nonce).
    await page.goto(BASE + '/app/');
    await page.waitForURL((u) => u.href.startsWith(BASE + '/authorize?'));
    const authz = new URL(page.url());
    assert.equal(authz.searchParams.get('client_id'), 'demo-rp');
    assert.equal(authz.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(authz.searchParams.get('state'));

    // Our consent page, after Basic authentication as demo.
    assert.ok((await page.title()).includes(CLIENT_NAME), `title: ${await page.title()}`);
    await assert.doesNotReject(page.getByRole('heading', { name: CLIENT_NAME }).waitFor());
    for (const text of ['Sign you in with your account', 'See your name and basic profile',
      'See your email address', 'Call the demo API for you']) {
      assert.ok(await page.getByText(text, { exact: true }).isVisible(), `scope description: ${text}`);
    }
    assert.ok(await page.getByText('demo', { exact: true }).first().isVisible(), 'who is signed in');
    const allow = page.getByRole('button', { name: 'Allow' });
    const deny = page.getByRole('button', { name: 'Deny' });
    assert.ok(await allow.isVisible(), 'Allow button visible');
    assert.ok(await deny.isVisible(), 'Deny button visible');
    const allowBg = await allow.evaluate((el) => getComputedStyle(el).backgroundColor);
    const denyBg = await deny.evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.notEqual(allowBg, 'rgb(239, 239, 239)', 'Allow is styled, not a default button');
    assert.notEqual(allowBg, denyBg, 'Allow stands out from Deny');
    const consentShot = join(ARTIFACTS, 'consent-demo.png');
    await page.screenshot({ path: consentShot, fullPage: true });
    console.log(`screenshot: ${consentShot}`);

    // Allow: via mod_auth_openidc's redirect_uri (code redeemed, ID token checked) to the app.
    await allow.click();
    await page.waitForURL(BASE + '/app/');
    await assert.doesNotReject(page.locator('#sub').filter({ hasText: /^demo$/ }).waitFor());
    assert.equal((await page.locator('#sub').textContent()).trim(), 'demo');
    assert.equal((await page.locator('#email').textContent()).trim(), 'demo@example.test');
    assert.equal((await page.locator('#name').textContent()).trim(), 'demo');
    assert.equal((await page.locator('#user').textContent()).trim(), 'demo');
    const appShot = join(ARTIFACTS, 'app-demo.png');
    await page.screenshot({ path: appShot, fullPage: true });
    console.log(`screenshot: ${appShot}`);

    // "Call the API": the app's back end forwards the access token to /api/ (AuthType oauth-as).
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.url() === BASE + '/app/api/'),
      page.locator('#call-api').click(),
    ]);
    assert.equal(resp.status(), 200, `API answered ${resp.status()}`);
    assert.match(resp.headers()['content-type'] || '', /^application\/json/);
    await page.waitForURL(BASE + '/app/api/');
    const api = JSON.parse(await page.locator('body').innerText());
    console.log(`API: ${JSON.stringify(api)}`);
    assert.equal(api.sub, 'demo');
    assert.equal(api.client_id, 'demo-rp');
    assert.match(api.scope, /\bapi\.read\b/);
    assert.equal(api.aud, BASE + '/api');

    assert.deepEqual(cspReports, [], 'no CSP violations');
    assert.deepEqual(problems, [], 'no console errors');
  } finally {
    await close();
  }
});
