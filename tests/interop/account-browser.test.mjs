// A real browser (Debian's headless Chromium, driven by playwright-core) on the user's page of
// allowed applications.  Run by tests/integration/test_893_account.py, which has the user allow
// two applications first and sets:
//   ACCOUNT_URL (the page), NODE_EXTRA_CA_CERTS, OIDC_USER/OIDC_PASSWORD (Basic), REVOKE_NAME
//   (the application to revoke), KEEP_NAME (the one that stays), ARTIFACTS (where the
//   screenshot goes), CHROMIUM (/usr/bin/chromium).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { firstPage, launch } from './chromium.mjs';
import { env } from './lib.mjs';

const ARTIFACTS = env('ARTIFACTS');

test('Chromium: the account page lists both applications; Revoke removes exactly one', async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const { context, close } = await launch(env('OIDC_USER'), env('OIDC_PASSWORD'));
  try {
    const { page, problems } = await firstPage(context);
    // the page has no favicon of its own: the browser's request for one is not ours to judge
    await page.route('**/favicon.ico', (route) => route.fulfill({ status: 204, body: '' }));

    const url = env('ACCOUNT_URL');
    await page.goto(url);
    assert.equal(await page.title(), 'Your applications');
    await page.getByRole('heading', { name: 'Applications with access to your account' }).waitFor();
    assert.ok(await page.getByText(env('OIDC_USER'), { exact: true }).first().isVisible(),
      'who is signed in');
    const revokeName = env('REVOKE_NAME');
    const keepName = env('KEEP_NAME');
    const revoke = page.getByRole('button', { name: `Revoke access of ${revokeName}` });
    const keep = page.getByRole('button', { name: `Revoke access of ${keepName}` });
    assert.ok(await revoke.isVisible(), `Revoke button of ${revokeName}`);
    assert.ok(await keep.isVisible(), `Revoke button of ${keepName}`);
    for (const text of [revokeName, keepName, 'See your name and basic profile']) {
      assert.ok(await page.getByText(text, { exact: true }).first().isVisible(), text);
    }
    // styled, not a bare form: the stylesheet applied (CSP allows our inline style)
    const style = await revoke.evaluate((el) => {
      const s = getComputedStyle(el);
      return { color: s.color, radius: s.borderRadius, bodyMargin: getComputedStyle(document.body).margin };
    });
    assert.equal(style.color, 'rgb(180, 35, 24)', `Revoke colour: ${style.color}`);
    assert.notEqual(style.radius, '0px');
    assert.equal(style.bodyMargin, '0px', 'body margin reset by the page style');
    const shot = join(ARTIFACTS, 'account.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`screenshot: ${shot}`);

    // Revoke: the POST, 303 back to the page, which says so and no longer lists it
    await revoke.click();
    await page.waitForURL((u) => u.href === `${url}?revoked=1`);
    await page.getByRole('status').filter({ hasText: 'Access revoked.' }).waitFor();
    assert.equal(await revoke.count(), 0, `${revokeName} gone`);
    assert.ok(await keep.isVisible(), `${keepName} still listed`);
    await page.screenshot({ path: join(ARTIFACTS, 'account-revoked.png'), fullPage: true });

    assert.deepEqual(problems, [], 'no console errors');
  } finally {
    await close();
  }
});
