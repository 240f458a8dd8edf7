// The privacy notice in a real browser: it opens from the meeting in a new tab (the call stays),
// follows the server's configuration, says what the operator has not stated, switches between
// English and German, shows the client hash of the served files, and loads nothing from another
// origin. The page loaded with Subresource Integrity on its script and style sheet.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contexts, joinAs, launchBrowser, startMeeting, Traffic } from './browser';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, stopAndRemove, webRoot, type RunningServer } from './server';

describe('privacy notice', () => {
  let browser: Browser;
  let server: RunningServer;
  const contexts = new Contexts();

  beforeAll(async () => {
    browser = await launchBrowser();
    server = await startServer({
      extraArgs: [
        '--privacy-controller',
        'Example e.V., Hauptstr. 1, 10115 Berlin',
        '--security-log-retention-days',
        '3',
      ],
    });
  });

  afterAll(async () => {
    await contexts.closeAll();
    await browser?.close();
    await stopAndRemove(server);
  });

  it('opens from the meeting in both languages, from the server’s settings, with nothing from elsewhere', async () => {
    const traffic = new Traffic();
    const context = await contexts.context(browser, { traffic });
    const page = await context.newPage();
    const link = await startMeeting(page, server.origin);
    await joinAs(page, 'Alice', { link, preview: true });
    const opened = context.waitForEvent('page');
    await page.getByTestId('privacy-link').click();
    const notice = await opened;
    await notice.getByTestId('privacy').getByRole('heading', { level: 2 }).first().waitFor();
    // The call is still on in the first tab.
    expect(await page.getByTestId('call').count()).toBe(1);

    const text = (await notice.getByTestId('privacy').textContent()) ?? '';
    expect(text).toContain('Example e.V., Hauptstr. 1, 10115 Berlin');
    expect(text).toContain('kept for 3 days');
    expect(await notice.getByTestId('privacy-missing').textContent()).toContain('privacy_dpo');
    expect(text).not.toContain('privacy_controller');

    await notice.getByTestId('language-de').click();
    await expect
      .poll(async () => (await notice.getByTestId('privacy').textContent()) ?? '')
      .toContain('aufbewahrt für 3 Tage');
    expect(await notice.getByRole('heading', { level: 1 }).textContent()).toBe('Datenschutzhinweise');

    // The app ran although index.html demands integrity for its script and styles.
    expect(await notice.locator('script[type="module"][integrity^="sha384-"]').count()).toBe(1);
    expect(await notice.locator('link[rel="stylesheet"][integrity^="sha384-"]').count()).toBe(1);
    // The hash the server computes from the files it serves is the build's.
    const manifest = JSON.parse(readFileSync(join(webRoot(), 'client-manifest.json'), 'utf8')) as {
      clientHash: string;
    };
    expect(await notice.getByTestId('client-hash-value').textContent()).toBe(manifest.clientHash);
    expect(await notice.getByTestId('client-hash').textContent()).toContain('Diese App prüfen');

    const origin = new URL(server.origin).origin;
    for (const request of traffic.requests) {
      if (request.url.startsWith('data:') || request.url.startsWith('blob:')) continue;
      expect(new URL(request.url).origin, request.url).toBe(origin);
    }
  });
});
