// End-to-end: a host signs in on the login page and creates a permanent room; the session is the
// one HttpOnly, Secure, SameSite=Strict cookie, and the room's secret stays in the browser.
import { spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contexts, launchBrowser, Traffic } from './browser';
import { serverBinary, startServer, stopAndRemove, type RunningServer } from './server';

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

describe('host accounts', () => {
  let server: RunningServer;
  const contexts = new Contexts();

  beforeAll(async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'conclave-e2e-accounts-'));
    const added = spawnSync(serverBinary(), ['admin', '--data-dir', dataDir, 'user', 'add', 'alice'], {
      input: 'correct horse battery\n',
      encoding: 'utf8',
    });
    expect(added.status, `${added.stdout}${added.stderr}`).toBe(0);
    server = await startServer({ dataDir });
  });

  afterAll(async () => {
    await contexts.closeAll();
    await stopAndRemove(server);
  });

  it('signs in from the home page and creates a permanent room whose secret never leaves the browser', async () => {
    const traffic = new Traffic();
    const context = await contexts.context(browser, { traffic });
    const page = await context.newPage();
    await page.goto(`${server.origin}/`);
    await page.getByTestId('host-login-link').click();
    await page.waitForURL(`${server.origin}/login`);
    // Keyboard only: the username field, the password field, Enter.
    await page.locator('#login-username').focus();
    await page.keyboard.type('alice');
    await page.keyboard.press('Tab');
    await page.keyboard.type('correct horse battery');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${server.origin}/account`);
    await expect.poll(() => page.getByTestId('account-user').textContent()).toContain('alice');

    const cookies = await context.cookies();
    expect(cookies.map((c) => c.name)).toEqual(['conclave_session']);
    expect(cookies[0]).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });

    await page.locator('#new-room-name').fill('Team');
    await page.getByTestId('create-room').click();
    const item = page.getByTestId('room-item');
    await expect.poll(() => item.count()).toBe(1);
    const link = await item.locator('input').first().inputValue();
    const url = new URL(link);
    expect(url.pathname).toMatch(/^\/r\/[A-Za-z0-9_-]{32}$/);
    const secret = url.hash.slice(1);
    expect(secret.length).toBeGreaterThanOrEqual(22);
    for (const request of traffic.requests) {
      expect(request.url).not.toContain(secret);
      expect(request.postData ?? '').not.toContain(secret);
    }

    // The room is still there after a reload (it is the server's), with the same link (this browser's).
    await page.reload();
    await expect.poll(() => page.getByTestId('room-item').count()).toBe(1);
    expect(await page.getByTestId('room-item').locator('input').first().inputValue()).toBe(link);
  });
});
