// A Vue 3 app built with Vite that imports push-vue.js (as served by pushd)
// renders an event triggered through the HTTP API, and disconnects cleanly
// when unmounted.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { assetBase, env, launchChromium, openPage, startSite, trigger, uniq, waitUntil, wsURL } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
let browser;
let site;
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pushd-vue-'));
after(async () => {
  await browser?.close();
  await site?.close();
  fs.rmSync(outDir, { recursive: true, force: true });
});

test('Vue 3 + Vite app with push-vue.js shows an event from the HTTP API', async () => {
  const res = await fetch(`${assetBase}/push-vue.js`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/javascript/);
  fs.writeFileSync(path.join(here, 'vue-app/src/push-vue.js'), await res.text());

  const { build } = await import('vite');
  const vue = (await import('@vitejs/plugin-vue')).default;
  await build({
    root: path.join(here, 'vue-app'),
    base: './',
    logLevel: 'warn',
    configFile: false,
    plugins: [vue()],
    build: { outDir, emptyOutDir: true, minify: false },
  });

  site = await startSite();
  browser = await launchChromium();
  const ch = uniq('vue');
  const url = `${site.dir('/vue/', outDir)}index.html?ws=${encodeURIComponent(wsURL)}&key=${env.key}&channel=${ch}`;
  const page = await openPage(browser, url);
  await page.waitForSelector('.subscribed');
  await trigger(ch, 'message', { text: 'Hello from the HTTP API' });
  await page.waitForSelector('li.msg');
  assert.equal(await page.textContent('li.msg'), 'Hello from the HTTP API');
  assert.equal(await page.textContent('.state b'), 'connected');
  await page.screenshot({ path: path.join(os.tmpdir(), 'pushd-vue.png') });

  // onUnmounted disconnects: the socket closes and the state ends disconnected
  const ws = page.sockets[0];
  const closed = new Promise((r) => ws.on('close', r));
  await page.evaluate('window.__app.unmount()');
  await Promise.race([closed, new Promise((_, rej) => setTimeout(() => rej(new Error('socket not closed after unmount')), 5000))]);
  const states = await page.evaluate('window.__states');
  assert.deepEqual(states, ['connecting', 'connected', 'disconnected']);
  assert.deepEqual(page.errors, []);
});
