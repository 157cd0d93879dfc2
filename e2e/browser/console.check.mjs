// Pushd's console in headless Chromium, under pushbench's load (started by
// e2e/console_test.go, TestConsole): every way of logging in, each view
// with a screenshot, the graphs' latest values, a socket's details and its
// disconnect, the stream's connects, channels, webhooks, filter and pause.
// Prints the values the graphs showed on a line starting with "@@ ".
// Environment: CONSOLE_ORIGIN, CONSOLE_PASSWORD, WS_URL, TARGET_SOCKET,
// TARGET_UA, SHOTS (a directory).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const origin = process.env.CONSOLE_ORIGIN;
const password = process.env.CONSOLE_PASSWORD;
const shots = process.env.SHOTS;
const wait = { timeout: 15000 };
const launch = { executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'] };

const browser = await chromium.launch(launch);
const problems = [];
// Page errors and the console's own errors (a refused script or style
// under the page's policy shows there) fail the run; the 401s of the
// login's probes and of the wrong password are expected.
function watchPage(page) {
  page.on('pageerror', (e) => problems.push('page error: ' + e));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('status of 401')) problems.push('console error: ' + m.text());
  });
  page.on('dialog', (d) => d.accept());
  return page;
}
async function live(page) {
  await page.waitForFunction(() => document.getElementById('status').textContent === 'live', null, wait);
}
async function view(page, name) {
  await page.click(`nav button[data-view="${name}"]`);
  await page.waitForFunction((n) => !document.getElementById('view-' + n).hidden, name, wait);
}
const shot = (page, name) => page.screenshot({ path: path.join(shots, name + '.png') });

try {
  // 1. The login form: a wrong password is refused where it can be seen,
  //    the right one logs in.
  const ctx = await browser.newContext({ viewport: { width: 1300, height: 900 } });
  const page = watchPage(await ctx.newPage());
  await page.goto(origin + '/console', wait);
  await page.waitForFunction(() => !document.getElementById('login-view').hidden, null, wait);
  await page.fill('#login-user', 'admin');
  await page.fill('#login-pass', 'not-the-password');
  await page.click('#login button[type=submit]');
  await page.waitForFunction(() => document.getElementById('login-error').textContent.includes('Wrong user or password'), null, wait);
  if (!(await page.isVisible('#login-error'))) throw new Error('the login error is not visible');
  await shot(page, 'login');
  await page.fill('#login-pass', password);
  await page.click('#login button[type=submit]');
  await live(page);
  const node = await page.textContent('#node');
  if (!node.includes('alpha')) throw new Error('node name: ' + node);

  // 2. Overview: the graphs show pushbench's load (for five seconds, so
  //    that the screenshot shows lines).
  await page.waitForFunction(() => {
    const v = (k) => Number(document.getElementById('last-' + k).dataset.value || 0);
    const points = (k) => Number(document.getElementById('last-' + k).dataset.points || 0);
    return v('connections') >= 200 && v('messages_in') > 0 && v('messages_out') > 0 && v('api_requests') > 0 &&
      points('messages_out') >= 5;
  }, null, { timeout: 30000 });
  const graphs = await page.evaluate(() => {
    const v = (k) => Number(document.getElementById('last-' + k).dataset.value || 0);
    return { connections: v('connections'), messagesIn: v('messages_in'), messagesOut: v('messages_out'), apiRequests: v('api_requests'),
      canvases: document.querySelectorAll('.charts canvas').length, nodes: document.getElementById('nodes').textContent };
  });
  if (graphs.canvases < 6 || !graphs.nodes.includes('alpha')) throw new Error('overview: ' + JSON.stringify(graphs));
  await shot(page, 'overview');

  // 3. Channels: the load's channels with their messages per second; the
  //    internal ones only when asked for, and marked.
  await view(page, 'channels');
  await page.waitForFunction(() => [...document.querySelectorAll('#channels tr')].some((tr) =>
    tr.dataset.channel.startsWith('bench-') && Number(tr.querySelector('td.rate').textContent) > 0), null, wait);
  const channelRate = await page.evaluate(() => Math.max(...[...document.querySelectorAll('#channels tr')]
    .filter((tr) => tr.dataset.channel.startsWith('bench-')).map((tr) => Number(tr.querySelector('td.rate').textContent))));
  if (await page.$('#channels tr[data-channel="#connections"]')) throw new Error('an internal channel is listed unasked');
  const room = await page.textContent('#channels tr[data-channel="presence-room"]');
  if (!room.includes('1: alice')) throw new Error('presence channel row: ' + room);
  await page.check('#chan-internal');
  await page.waitForFunction(() => {
    const tr = document.querySelector('#channels tr[data-channel="#connections"]');
    return tr && tr.querySelector('.badge.internal');
  }, null, wait);
  await shot(page, 'channels');
  await page.uncheck('#chan-internal');

  // 4. Connections: the target socket found by its user agent, with its
  //    details; disconnected from the page.
  await view(page, 'connections');
  await page.fill('#conn-filter', process.env.TARGET_UA);
  const target = `#sockets tr[data-socket="${process.env.TARGET_SOCKET}"]`;
  await page.waitForSelector(target, wait);
  const row = await page.textContent(target);
  if (!row.includes('127.0.0.1:') || !row.includes(process.env.TARGET_UA) || !row.includes('s ago')) throw new Error('socket row: ' + row);
  await shot(page, 'connections');
  await page.click(`${target} button`);
  await page.waitForFunction(() => document.getElementById('conn-result').textContent.startsWith('disconnected'), null, wait);
  await page.waitForSelector(target, { state: 'detached', timeout: 15000 });

  // 5. The stream: a socket of the page's own connects, subscribes and
  //    leaves: its connect, the channel occupied, the webhook for it and
  //    its disconnect all show, besides the load's events.
  await view(page, 'events');
  // (From another page: the console's policy lets it connect only to its
  // own origin.)
  const aux = await ctx.newPage();
  await aux.evaluate((ws) => new Promise((resolve, reject) => {
    const s = new WebSocket(ws + '/app/app-key?protocol=7');
    s.onmessage = (m) => {
      const f = JSON.parse(m.data);
      if (f.event === 'pusher:connection_established') s.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel: 'feed-channel' } }));
      if (f.event === 'pusher_internal:subscription_succeeded') setTimeout(() => { s.close(1000, 'done'); resolve(); }, 1500);
    };
    s.onerror = () => reject(new Error('websocket error'));
  }), process.env.WS_URL);
  await aux.close();
  for (const [type, text] of [['connected', 'on alpha'], ['occupied', 'feed-channel'], ['disconnected', 'code 1000'],
    ['vacated', 'feed-channel'], ['webhook', 'channel_occupied']]) {
    await page.waitForFunction(([ty, tx]) => [...document.querySelectorAll(`#events tr[data-type="${ty}"]`)].some((tr) => tr.textContent.includes(tx)),
      [type, text], { timeout: 20000 }).catch((e) => { throw new Error(`no ${type} entry with "${text}": ${e.message}`); });
  }
  // Without the events, these are what the view shows.
  await page.uncheck('#ev-events');
  const shown = await page.evaluate(() => [...document.querySelectorAll('#events tr')].filter((tr) => tr.offsetParent !== null)
    .map((tr) => tr.dataset.type));
  if (!shown.length || shown.some((t) => t === 'event' || t === 'client_event')) throw new Error('rows shown without events: ' + shown);
  await shot(page, 'events');
  await page.check('#ev-events');
  // Filter by channel, then trigger from the form: only that channel shows.
  await page.fill('#ev-filter', 'console-channel');
  await page.waitForFunction(() => document.querySelectorAll('#events tr').length === 0, null, wait);
  await live(page);
  await page.fill('#t-channel', 'console-channel');
  await page.fill('#t-event', 'console-event');
  await page.fill('#t-data', '{"from":"the console"}');
  await page.click('#t-send');
  await page.waitForFunction(() => [...document.querySelectorAll('#events td')].some((td) => td.textContent.startsWith('console-event')), null, wait);
  if ((await page.textContent('#t-result')) !== 'sent') throw new Error('trigger result: ' + (await page.textContent('#t-result')));
  const others = await page.evaluate(() => [...document.querySelectorAll('#events tr')].filter((tr) => !tr.textContent.includes('console-channel')).length);
  if (others) throw new Error(others + ' rows of other channels under the filter');
  // Pause: what arrives is held, shown on resume.
  await page.click('#ev-pause');
  await page.fill('#t-event', 'while-paused');
  await page.click('#t-send');
  await page.waitForFunction(() => document.getElementById('ev-note').textContent.includes('paused: 1 new'), null, wait);
  if (await page.evaluate(() => document.getElementById('events').textContent.includes('while-paused'))) throw new Error('shown while paused');
  await shot(page, 'events-filtered');
  await page.click('#ev-pause');
  await page.waitForFunction(() => document.getElementById('events').textContent.includes('while-paused'), null, wait);

  // 6. Apps (admin).
  await view(page, 'apps');
  await shot(page, 'apps-view');
  await ctx.close();

  // 7. The credentials in the address (fetch refuses such a base address:
  //    the page must not stay on "connecting…").
  const u = new URL(origin);
  u.username = 'admin'; u.password = password; u.pathname = '/console';
  const byURL = await browser.newContext();
  const p2 = watchPage(await byURL.newPage());
  await p2.goto(u.toString(), wait);
  await live(p2);
  await byURL.close();

  // 8. The browser's own login (/console?basic answers with a challenge).
  const byDialog = await browser.newContext({ httpCredentials: { username: 'admin', password } });
  const p3 = watchPage(await byDialog.newPage());
  await p3.goto(origin + '/console?basic', wait);
  await live(p3);
  if (!(await p3.isHidden('#login-view'))) throw new Error('the browser\'s login still shows the form');
  await byDialog.close();

  if (problems.length) throw new Error(problems.join('; '));
  console.log('@@ ' + JSON.stringify({ Connections: graphs.connections, MessagesIn: graphs.messagesIn, MessagesOut: graphs.messagesOut,
    APIRequests: graphs.apiRequests, ChannelRate: channelRate }));
} finally {
  await browser.close();
}
