// Opens Pushd's debug console in headless Chromium, triggers an event from
// its form and waits until the event shows in its event list; saves a
// screenshot. Run by e2e/console_test.go with CONSOLE_URL, CONSOLE_PASSWORD
// and SCREENSHOT in the environment.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const url = process.env.CONSOLE_URL;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pushd-console-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  httpCredentials: { username: 'admin', password: process.env.CONSOLE_PASSWORD },
  viewport: { width: 1200, height: 800 },
});
try {
  const page = ctx.pages()[0] || (await ctx.newPage());
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url, { timeout: 10000 });
  await page.waitForFunction(() => document.getElementById('status').textContent === 'live', null, { timeout: 10000 });
  // The live subscriber and its channel are listed.
  await page.waitForFunction(() => document.getElementById('sockets').textContent.includes('console-channel') &&
    document.getElementById('channels').textContent.includes('console-channel'), null, { timeout: 10000 });
  await page.fill('#t-channel', 'console-channel');
  await page.fill('#t-event', 'console-event');
  await page.fill('#t-data', '{"from":"the console"}');
  await page.click('button[type=submit]');
  await page.waitForFunction(() => [...document.querySelectorAll('#events td')].some((td) => td.textContent === 'console-event'),
    null, { timeout: 10000 });
  const row = await page.textContent('#events tr');
  if (!row.includes('console-channel') || !row.includes('{"from":"the console"}')) throw new Error('event row: ' + row);
  const result = await page.textContent('#t-result');
  if (result !== 'sent') throw new Error('trigger result: ' + result);
  await page.screenshot({ path: process.env.SCREENSHOT });
  if (errors.length) throw new Error('page errors: ' + errors.join('; '));
  console.log('console ok:', row);
} finally {
  await ctx.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
