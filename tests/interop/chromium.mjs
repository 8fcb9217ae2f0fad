// Debian's Chromium, headless, driven by playwright-core: the browser of the interop tests
// (browser.test.mjs, demo-browser.test.mjs, openid-client-device.test.mjs). A profile of its
// own, thrown away by close(); nothing talks to the internet; never a downloaded browser.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

// user/password answer the site's Basic authentication; the certificate is the test server's
// own (ignoreHTTPSErrors).
export async function launchChromium(user, password) {
  const profile = mkdtempSync(join(tmpdir(), 'oas-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ignoreHTTPSErrors: true,
    httpCredentials: { username: user, password },
    viewport: { width: 900, height: 760 },
  });
  return { context, close: async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); } };
}
