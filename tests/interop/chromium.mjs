// Debian's Chromium for the browser tests, driven by playwright-core: headless, a browser
// profile of its own thrown away afterwards, nothing talking to the internet, Basic
// authentication answered as user.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

// The context's page, and the list of its console errors (CSP violations show up there) and
// page errors, which a test expects empty at the end.
export async function firstPage(context) {
  const page = context.pages()[0] || await context.newPage();
  const problems = [];
  page.setDefaultTimeout(10000);
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  return { page, problems };
}

export async function launch(username, password) {
  const profile = mkdtempSync(join(tmpdir(), 'oas-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ignoreHTTPSErrors: true,
    httpCredentials: { username, password },
    viewport: { width: 900, height: 760 },
  });
  return { context, close: async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); } };
}
