// End-to-end: the real server binary, the built client, Debian's Chromium.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLIENT_TYPES,
  Contexts,
  joinAs,
  launchBrowser,
  secretOf,
  startMeeting as start,
  Traffic,
  waitForRoster,
} from './browser';
import { fetchInsecure, startServer, stopAndRemove, WEB_DIR, type RunningServer } from './server';

const SHOTS = join(WEB_DIR, 'test-results');

let browser: Browser;

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

function startMeeting(page: Page, server: RunningServer): Promise<string> {
  return start(page, server.origin);
}

/** Presses Tab until the element with `testId` has the focus. */
async function tabTo(page: Page, testId: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null);
    if (focused === testId) return;
  }
  throw new Error(`could not reach ${testId} with the Tab key`);
}

function roomIdOf(link: string): string {
  return new URL(link).pathname.split('/')[2] ?? '';
}

describe('meeting', () => {
  let server: RunningServer;
  const contexts = new Contexts();

  beforeAll(async () => {
    server = await startServer();
  });

  afterAll(async () => {
    await contexts.closeAll();
    await stopAndRemove(server);
  });

  const context = (locale = 'en-US'): Promise<BrowserContext> => contexts.context(browser, { locale });

  it('answers /healthz and POST /api/rooms as docs/protocol.md says', async () => {
    const health = await fetchInsecure(server.port, '/healthz');
    expect(health.status).toBe(200);
    const body = JSON.parse(health.body) as Record<string, unknown>;
    expect(body['status']).toBe('ok');
    expect(typeof body['version']).toBe('string');
    expect(Number.isInteger(body['uptimeSeconds'])).toBe(true);
    expect(Number.isInteger(body['rooms'])).toBe(true);
    expect(health.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(health.headers['referrer-policy']).toBe('no-referrer');
    expect(health.headers['set-cookie']).toBeUndefined();

    const room = await fetchInsecure(server.port, '/api/rooms', 'POST');
    expect(room.status).toBe(201);
    expect(JSON.parse(room.body)).toEqual({
      roomId: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/) as unknown,
      hostToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) as unknown,
    });
  });

  it('lets two people meet, and nothing leaves the origin or reveals the secret', async () => {
    const traffic = new Traffic();
    const aliceContext = await context();
    const bobContext = await context();
    traffic.watch(aliceContext);
    traffic.watch(bobContext);

    const alice = await aliceContext.newPage();
    const link = await startMeeting(alice, server);
    expect(link).toMatch(new RegExp(`^https://localhost:${server.port}/r/[A-Za-z0-9_-]{32}#[A-Za-z0-9_-]{43}$`));
    const secret = secretOf(link);
    await aliceContext.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.origin });
    await alice.getByTestId('copy-link').click();
    await expect.poll(() => alice.getByTestId('copy-status').textContent()).toBe('Link copied');
    expect(await alice.evaluate(() => navigator.clipboard.readText())).toBe(link);
    await alice.screenshot({ path: join(SHOTS, 'landing-ready.png'), fullPage: true });

    await alice.getByTestId('open-meeting').click();
    // The page reads the secret, then clears it from the address bar and the history entry.
    await alice.waitForURL(link.slice(0, link.indexOf('#')));
    const bob = await bobContext.newPage();
    await bob.goto(link);

    await joinAs(alice, 'Alice');
    await waitForRoster(alice, ['Alice (you)']);
    await joinAs(bob, 'Bob');
    await waitForRoster(bob, ['Alice', 'Bob (you)']);
    await waitForRoster(alice, ['Alice (you)', 'Bob']);
    await expect.poll(() => alice.getByTestId('announcer').textContent()).toBe('Bob joined the meeting');
    await alice.screenshot({ path: join(SHOTS, 'room-joined.png'), fullPage: true });

    // Leave, then rejoin.
    await bob.getByTestId('leave-button').click();
    await expect.poll(() => bob.getByTestId('left-message').textContent()).toBe('You left the meeting');
    await waitForRoster(alice, ['Alice (you)']);
    await expect.poll(() => alice.getByTestId('announcer').textContent()).toBe('Bob left the meeting');
    await bob.screenshot({ path: join(SHOTS, 'room-left.png'), fullPage: true });
    await bob.getByTestId('rejoin-button').click();
    await waitForRoster(bob, ['Alice', 'Bob (you)']);
    await waitForRoster(alice, ['Alice (you)', 'Bob']);

    // Change a name (update-profile).
    await bob.locator('summary', { hasText: 'Change your name' }).click();
    await bob.getByTestId('rename-input').fill('Robert');
    await bob.getByTestId('rename-button').click();
    await waitForRoster(alice, ['Alice (you)', 'Robert']);
    await waitForRoster(bob, ['Alice', 'Robert (you)']);

    // What went over the wire.
    const origin = `https://localhost:${server.port}/`;
    const wsOrigin = `wss://localhost:${server.port}/`;
    const urls = traffic.allUrls();
    expect(urls.length).toBeGreaterThan(4);
    for (const url of urls) {
      const allowed =
        url.startsWith(origin) || url.startsWith(wsOrigin) || url.startsWith('data:') || url.startsWith('blob:');
      expect(allowed, `request to ${url}`).toBe(true);
    }
    expect(traffic.requests.some((r) => r.method === 'POST' && r.url === `${origin}api/rooms`)).toBe(true);
    expect(traffic.webSockets).toContain(`${wsOrigin}ws`);
    for (const req of traffic.requests) {
      expect(req.url).not.toContain(secret);
      expect(req.postData ?? '').not.toContain(secret);
      for (const [name, value] of Object.entries(req.headers)) {
        expect(value, `header ${name} of ${req.url}`).not.toContain(secret);
      }
      expect(req.headers['referer'] ?? '', `referer of ${req.url}`).toBe('');
    }
    for (const url of traffic.webSockets) expect(url).not.toContain(secret);
    expect(traffic.framesSent.length).toBeGreaterThanOrEqual(6);
    for (const frame of traffic.framesSent) {
      expect(frame).not.toContain(secret);
      const message = JSON.parse(frame) as { type?: unknown };
      expect(CLIENT_TYPES.has(String(message.type)), frame).toBe(true);
    }
    // No CSP violation, no failed resource, no script error.
    expect(traffic.consoleErrors).toEqual([]);
  });

  it('says a link without its secret is incomplete, and offers nothing to join', async () => {
    const page = await (await context()).newPage();
    const room = await fetchInsecure(server.port, '/api/rooms', 'POST');
    const { roomId } = JSON.parse(room.body) as { roomId: string };
    let sockets = 0;
    page.on('websocket', () => sockets++);
    for (const suffix of ['', '#', '#tooShort', '#not*base64*not*base64*not*base64']) {
      await page.goto(`${server.origin}/r/${roomId}${suffix}`);
      await expect.poll(() => page.getByTestId('link-error').textContent()).toBe('This link is incomplete or wrong');
      expect(await page.getByTestId('name-input').count()).toBe(0);
      expect(await page.getByTestId('join-button').count()).toBe(0);
    }
    expect(sockets).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'link-error.png'), fullPage: true });
  });

  it('reports a room ID the server did not issue', async () => {
    const page = await (await context()).newPage();
    const link = await startMeeting(page, server);
    const forged = `${roomIdOf(link).slice(0, 31)}${roomIdOf(link).endsWith('A') ? 'B' : 'A'}`;
    await page.goto(`${server.origin}/r/${forged}#${secretOf(link)}`);
    await joinAs(page, 'Mallory');
    await expect
      .poll(() => page.getByTestId('error-message').textContent())
      .toBe('This meeting does not exist on this server. Please check the link.');
  });

  it('follows the browser language and switches languages', async () => {
    const page = await (await context('de-DE')).newPage();
    await page.goto(`${server.origin}/`);
    await expect.poll(() => page.getByTestId('start-meeting').textContent()).toBe('Besprechung starten');
    expect(await page.locator('html').getAttribute('lang')).toBe('de');
    await page.getByTestId('language-en').click();
    await expect.poll(() => page.getByTestId('start-meeting').textContent()).toBe('Start a meeting');
    await page.getByTestId('language-de').click();
    await page.getByTestId('start-meeting').click();
    await page.getByTestId('invite-link').waitFor();
    await page.setViewportSize({ width: 375, height: 740 });
    await page.screenshot({ path: join(SHOTS, 'landing-phone-de.png'), fullPage: true });
  });

  it('can be used with the keyboard alone', async () => {
    const page = await (await context()).newPage();
    await page.goto(`${server.origin}/`);
    await page.screenshot({ path: join(SHOTS, 'landing.png'), fullPage: true });
    await tabTo(page, 'start-meeting');
    await page.keyboard.press('Enter');
    await page.getByTestId('invite-link').waitFor();
    await tabTo(page, 'open-meeting');
    await page.keyboard.press('Enter');
    // The page reads the secret and then clears it from the address bar.
    await page.waitForURL(/\/r\/[A-Za-z0-9_-]{32}(#|$)/);
    await page.getByTestId('name-input').waitFor();
    await page.screenshot({ path: join(SHOTS, 'room-join.png'), fullPage: true });
    await tabTo(page, 'name-input');
    await page.keyboard.type('Keyboard');
    await page.keyboard.press('Enter');
    await waitForRoster(page, ['Keyboard (you)']);
    await tabTo(page, 'leave-button');
    await page.keyboard.press('Enter');
    await page.getByTestId('left-message').waitFor();
    await tabTo(page, 'rejoin-button');
    await page.keyboard.press('Enter');
    await waitForRoster(page, ['Keyboard (you)']);
  });

  it('works on a phone-sized screen', async () => {
    const ctx = await context();
    const page = await ctx.newPage();
    await page.setViewportSize({ width: 360, height: 740 });
    const link = await startMeeting(page, server);
    await page.goto(link);
    await joinAs(page, 'Phone');
    await waitForRoster(page, ['Phone (you)']);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(SHOTS, 'room-phone.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(SHOTS, 'room-phone-dark.png'), fullPage: true });
  });
});

describe('server restarts', () => {
  let server: RunningServer;
  const contexts = new Contexts();

  beforeAll(async () => {
    server = await startServer();
  });

  afterAll(async () => {
    await contexts.closeAll();
    await stopAndRemove(server);
  });

  it('keeps the call on screen and rejoins by itself after a restart and after a crash', async () => {
    const page = await contexts.page(browser);
    const link = await startMeeting(page, server);
    await page.goto(link);
    await joinAs(page, 'Carol');
    await waitForRoster(page, ['Carol (you)']);

    // Orderly shutdown: the server says it restarts; the page keeps the call and says so.
    await server.stop('SIGTERM');
    const status = page.locator('[data-testid="call"] [data-testid="connection-status"]');
    await status.waitFor();
    expect(await status.getAttribute('data-reason')).toBe('restart');
    await expect.poll(() => status.textContent()).toContain('The server is restarting. Reconnecting…');
    expect(await page.getByTestId('error-message').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'room-restarting.png'), fullPage: true });

    // Same port and data directory: the room ID is still valid, and the page comes back by itself.
    server = await startServer({ port: server.port, dataDir: server.dataDir });
    await page.locator('[data-testid="call"][data-live="true"]').waitFor();
    await waitForRoster(page, ['Carol (you)']);

    // A crash (no goodbye): the page notices, keeps the call, and reconnects by itself.
    await server.stop('SIGKILL');
    await status.waitFor();
    expect(await status.getAttribute('data-reason')).toBe('dropped');
    await page.screenshot({ path: join(SHOTS, 'room-reconnecting.png'), fullPage: true });
    server = await startServer({ port: server.port, dataDir: server.dataDir });
    await page.locator('[data-testid="call"][data-live="true"]').waitFor();
    await waitForRoster(page, ['Carol (you)']);
  });
});
