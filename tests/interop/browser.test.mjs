// A real browser (Debian's headless Chromium, driven by playwright-core) through our consent
// page.  Run by tests/integration/test_530_browser.py, which starts the server with a tiny
// static client app at /app/ and sets:
//   ISSUER, NODE_EXTRA_CA_CERTS, APP_URL (the app's start page), CLIENT_ID, CLIENT_SECRET,
//   CLIENT_NAME, REDIRECT_URI, CODE_VERIFIER and STATE (those the app's "Log in" link uses),
//   OIDC_USER/OIDC_PASSWORD, ARTIFACTS (where screenshots go), CHROMIUM (/usr/bin/chromium).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { firstPage, launch } from './chromium.mjs';
import { env, basic } from './lib.mjs';

const ISSUER = env('ISSUER');
const USER = env('OIDC_USER');
const ARTIFACTS = env('ARTIFACTS');

test('Chromium: app, consent page (deny, then allow), callback; code redeemed, userinfo', async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const { context, close } = await launch(USER, env('OIDC_PASSWORD'));
  try {
    const { page, problems } = await firstPage(context);
    const cspReports = [];
    await page.exposeFunction('__cspViolation', (v) => cspReports.push(v));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation',
        (e) => window.__cspViolation(`${e.violatedDirective} ${e.blockedURI}`));
    });

    // The app's start page and its "Log in" link.
    await page.goto(env('APP_URL'));
    await page.getByRole('link', { name: 'Log in' }).click();

    // Our consent page (after Basic authentication, answered by httpCredentials).
    await page.waitForURL((u) => u.href.startsWith(ISSUER + '/authorize'));
    const clientName = env('CLIENT_NAME');
    assert.ok((await page.title()).includes(clientName), `title: ${await page.title()}`);
    await assert.doesNotReject(page.getByRole('heading', { name: new RegExp(clientName) }).waitFor());
    const allow = page.getByRole('button', { name: 'Allow' });
    const deny = page.getByRole('button', { name: 'Deny' });
    assert.ok(await allow.isVisible(), 'Allow button visible');
    assert.ok(await deny.isVisible(), 'Deny button visible');
    for (const text of ['Sign you in with your account', 'See your name and basic profile',
      'See your email address']) {
      assert.ok(await page.getByText(text, { exact: true }).isVisible(), `scope description: ${text}`);
    }
    assert.ok(await page.getByText(USER, { exact: true }).first().isVisible(), 'who is signed in');
    // Styled, not a bare form: the stylesheet applied (CSP allows our inline style).
    const style = await allow.evaluate((el) => {
      const s = getComputedStyle(el);
      const body = getComputedStyle(document.body);
      return { bg: s.backgroundColor, color: s.color, radius: s.borderRadius,
               bodyFont: body.fontFamily, bodyMargin: body.margin };
    });
    assert.notEqual(style.bg, 'rgba(0, 0, 0, 0)', `Allow background: ${style.bg}`);
    assert.notEqual(style.bg, 'rgb(239, 239, 239)', 'not the default button colour');
    assert.equal(style.color, 'rgb(255, 255, 255)');
    assert.notEqual(style.radius, '0px');
    assert.equal(style.bodyMargin, '0px', 'body margin reset by the page style');
    const denyBg = await deny.evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.notEqual(denyBg, style.bg, 'Allow stands out from Deny');
    const consentShot = join(ARTIFACTS, 'consent.png');
    await page.screenshot({ path: consentShot, fullPage: true });
    console.log(`screenshot: ${consentShot}`);

    // Deny first: back at the app with access_denied and no code (RFC 6749 §4.1.2.1).
    await deny.click();
    await page.waitForURL((u) => u.href.startsWith(env('REDIRECT_URI')));
    const denied = new URL(page.url());
    assert.equal(denied.searchParams.get('error'), 'access_denied');
    assert.equal(denied.searchParams.get('state'), env('STATE'));
    assert.equal(denied.searchParams.get('iss'), ISSUER);
    assert.equal(denied.searchParams.get('code'), null);

    // Log in again (a denial is not remembered: the consent page comes back), then Allow:
    // back at the app's callback page with a code and our state.
    await page.goto(env('APP_URL'));
    await page.getByRole('link', { name: 'Log in' }).click();
    await page.waitForURL((u) => u.href.startsWith(ISSUER + '/authorize'));
    await allow.click();
    await page.waitForURL((u) => u.href.startsWith(env('REDIRECT_URI')));
    const cb = new URL(page.url());
    assert.equal(cb.searchParams.get('state'), env('STATE'));
    assert.equal(cb.searchParams.get('iss'), ISSUER);
    const code = cb.searchParams.get('code');
    assert.ok(code);
    await assert.doesNotReject(page.locator('#code').filter({ hasText: code }).waitFor());
    const callbackShot = join(ARTIFACTS, 'callback.png');
    await page.screenshot({ path: callbackShot, fullPage: true });
    console.log(`screenshot: ${callbackShot}`);

    // The app's back end redeems the code and asks who the user is.
    const meta = await (await fetch(`${ISSUER}/.well-known/openid-configuration`)).json();
    const tr = await fetch(meta.token_endpoint, {
      method: 'POST',
      headers: { authorization: basic(env('CLIENT_ID'), env('CLIENT_SECRET')),
                 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code,
        redirect_uri: env('REDIRECT_URI'), code_verifier: env('CODE_VERIFIER') }),
    });
    const tokens = await tr.json();
    assert.equal(tr.status, 200, JSON.stringify(tokens));
    assert.ok(tokens.id_token && tokens.access_token);
    const ur = await fetch(meta.userinfo_endpoint,
      { headers: { authorization: `Bearer ${tokens.access_token}` } });
    const info = await ur.json();
    assert.equal(ur.status, 200, JSON.stringify(info));
    assert.equal(info.sub, USER);
    assert.equal(info.email, `${USER}@example.test`);
    console.log(`userinfo: ${JSON.stringify(info)}`);

    assert.deepEqual(cspReports, [], 'no CSP violations');
    assert.deepEqual(problems, [], 'no console errors');
  } finally {
    await close();
  }
});
