// Opens Pushd's debug console in headless Chromium, types the admin token,
// creates an app from the console's form and rotates its secret; prints
// {"key", "created", "rotated"} (the secrets the page showed) on a line
// starting with "@@ " and saves a screenshot. Run by e2e/console_test.go
// (TestConsoleManagesApps) with CONSOLE_URL, CONSOLE_PASSWORD, ADMIN_TOKEN
// and SCREENSHOT in the environment.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pushd-console-apps-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  httpCredentials: { username: 'admin', password: process.env.CONSOLE_PASSWORD },
  viewport: { width: 1200, height: 1000 },
});
try {
  const page = ctx.pages()[0] || (await ctx.newPage());
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('dialog', (d) => d.accept());
  // The browser's own login (/console?basic), then the Apps view.
  await page.goto(process.env.CONSOLE_URL + '?basic', { timeout: 10000 });
  await page.waitForFunction(() => document.getElementById('status').textContent === 'live', null, { timeout: 10000 });
  await page.click('nav button[data-view="apps"]');
  // A wrong token is refused and shown.
  await page.fill('#admin-token', 'not-the-token-at-all');
  await page.click('#admin-login button');
  await page.waitForFunction(() => document.getElementById('admin-status').textContent.startsWith('error:'), null, { timeout: 10000 });
  // The right one lists the apps.
  await page.fill('#admin-token', process.env.ADMIN_TOKEN);
  await page.click('#admin-login button');
  await page.waitForFunction(() => document.getElementById('admin-apps').textContent.includes('app-key'), null, { timeout: 10000 });
  // Create an app: its secret is shown once.
  await page.fill('#c-key', 'console-made');
  await page.fill('#c-maxconn', '3');
  await page.click('#admin-create button');
  await page.waitForFunction(() => document.getElementById('admin-secret').dataset.key === 'console-made', null, { timeout: 10000 });
  const created = await page.evaluate(() => document.getElementById('admin-secret').dataset.secret);
  await page.waitForFunction(() => document.getElementById('admin-apps').textContent.includes('console-made') &&
    [...document.getElementById('app').options].some((o) => o.value === 'console-made'), null, { timeout: 10000 });
  // Rotate its secret.
  await page.click('#admin-apps button[data-key="console-made"]');
  await page.waitForFunction((old) => document.getElementById('admin-secret').textContent.startsWith('rotated app console-made') &&
    document.getElementById('admin-secret').dataset.secret !== old, created, { timeout: 10000 });
  const rotated = await page.evaluate(() => document.getElementById('admin-secret').dataset.secret);
  await page.screenshot({ path: process.env.SCREENSHOT });
  if (errors.length) throw new Error('page errors: ' + errors.join('; '));
  console.log('@@ ' + JSON.stringify({ key: 'console-made', created, rotated }));
} finally {
  await ctx.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
