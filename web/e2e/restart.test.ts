// End-to-end: calls survive the server. Two Chromium pages in a call with media; the server is
// stopped (SIGTERM: it says goodbye; SIGKILL: the connections just drop) and started again after
// 3 s on the same port, media port and data directory. The pages keep the call on screen marked
// "Reconnecting…", come back by themselves, and decode each other's video again. The time from
// the server answering again to both pages decoding each other is measured and printed.
// Also: a publish the server refuses shows as refused, on one's own tile and on the others'.
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Contexts,
  joinAs as join_,
  launchBrowser,
  selfId,
  startMeeting,
  waitForRoster,
  waitUntil,
  WAIT_MS,
} from './browser';
import { findTrack, pageStats } from './hook';
import { createClientNetwork, inLab, type ClientNetwork } from './lab';
import { freeUdpPort, serverHasMedia, startServer, stopAndRemove, WEB_DIR, type RunningServer } from './server';

const SHOTS = join(WEB_DIR, 'test-results');
/** How long the server stays away, as in an upgrade. */
const DOWNTIME_MS = 3000;
/**
 * The goal is 3 s from the server answering to media decoded on both sides; this deadline is
 * generous for a busy 2-core machine (the measured figure is printed and kept in test-results).
 */
const RECONNECT_DEADLINE_MS = 20_000;

function joinAs(page: Page, name: string): Promise<void> {
  return join_(page, name, { preview: true });
}

/** Frames `page` decoded from `from`'s camera (0 when none yet). */
async function decodedFrom(page: Page, from: string): Promise<number> {
  const stats = await pageStats(page);
  return findTrack(stats.received, from, 'camera')?.framesDecoded ?? 0;
}

/** Waits until `page` decodes more and more frames from `from`'s camera. */
async function waitForGrowingVideo(page: Page, from: string): Promise<void> {
  const first = await waitUntil(
    `video from ${from}`,
    () => decodedFrom(page, from),
    (n) => n > 0,
    {
      intervalMs: 100,
    },
  );
  await waitUntil(
    `more video from ${from}`,
    () => decodedFrom(page, from),
    (n) => n > first,
    { intervalMs: 100 },
  );
}

/** The pages' participant IDs once all have rejoined (IDs other than `old`). */
async function newIds(pages: Page[], old: string[], timeoutMs = WAIT_MS): Promise<string[]> {
  return waitUntil(
    'new participant IDs',
    () => Promise.all(pages.map((p) => selfId(p))),
    (ids) => ids.every((id, i) => id !== '' && id !== old[i]),
    { intervalMs: 100, timeoutMs },
  );
}

async function record(line: string): Promise<void> {
  console.log(line);
  await appendFile(join(SHOTS, 'reconnect-times.txt'), `${new Date().toISOString()} ${line}\n`);
}

describe.skipIf(!serverHasMedia())('calls survive the server', () => {
  let browser: Browser;
  let server: RunningServer | undefined;
  const contexts = new Contexts();

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await contexts.closeAll();
    await browser?.close();
    await stopAndRemove(server);
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`${signal}: the call stays on screen, comes back by itself, media and chat work again`, async () => {
      server = await startServer({ mediaPort: await freeUdpPort() });
      const alice = await contexts.page(browser);
      const bob = await contexts.page(browser);
      const link = await startMeeting(alice, server.origin);
      await alice.goto(link);
      await bob.goto(link);
      await joinAs(alice, 'Alice');
      await joinAs(bob, 'Bob');
      await waitForRoster(alice, ['Alice (you)', 'Bob']);
      await waitForRoster(bob, ['Alice', 'Bob (you)']);
      const before = [await selfId(alice), await selfId(bob)];
      const [aliceId, bobId] = before as [string, string];
      await waitForGrowingVideo(alice, bobId);
      await waitForGrowingVideo(bob, aliceId);
      await alice.locator(`[data-testid="tile"][data-participant-id="${bobId}"][data-e2ee="encrypted"]`).waitFor();
      await alice.getByTestId('chat-input').fill('before the restart');
      await alice.getByTestId('chat-send').click();
      await bob.getByTestId('chat-message').filter({ hasText: 'before the restart' }).waitFor();

      await server.stop(signal);
      const stoppedAt = Date.now();
      // Both pages keep the call, say they reconnect (and why), and show nothing as live.
      for (const p of [alice, bob]) {
        const status = p.locator('[data-testid="call"][data-live="false"] [data-testid="connection-status"]');
        await status.waitFor({ timeout: WAIT_MS });
        expect(await status.getAttribute('data-reason')).toBe(signal === 'SIGTERM' ? 'restart' : 'dropped');
        expect(await status.textContent()).toContain(
          signal === 'SIGTERM' ? 'The server is restarting. Reconnecting…' : 'The connection was lost. Reconnecting…',
        );
        expect(await p.locator('[data-testid="tile"]').count()).toBe(2);
        expect(await p.locator('[data-testid="tile"][data-e2ee="encrypted"]').count()).toBe(0);
        expect(await p.locator('[data-testid="tile"][data-e2ee="reconnecting"]').count()).toBe(2);
        expect(await p.getByTestId('left-message').count()).toBe(0);
      }
      await alice.screenshot({ path: join(SHOTS, `restart-${signal}-reconnecting.png`), fullPage: true });
      // A chat message while the server is away is not lost silently: the page says so, the text stays.
      if (Date.now() - stoppedAt < DOWNTIME_MS - 500) {
        await alice.getByTestId('chat-input').fill('while away');
        await alice.getByTestId('chat-send').click();
        await expect
          .poll(() => alice.getByTestId('chat-status').textContent())
          .toContain('Not sent: reconnecting to the meeting.');
        expect(await alice.getByTestId('chat-input').inputValue()).toBe('while away');
      }

      const wait = DOWNTIME_MS - (Date.now() - stoppedAt);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const old = server;
      server = await startServer({ port: old.port, dataDir: old.dataDir, mediaPort: old.mediaPort });
      const answeredAt = Date.now();

      // Both rejoin by themselves (new participant IDs) and decode each other's video again.
      const [aliceNew, bobNew] = (await newIds([alice, bob], before)) as [string, string];
      const rejoinedAfter = Date.now() - answeredAt;
      await Promise.all([waitForGrowingVideo(alice, bobNew), waitForGrowingVideo(bob, aliceNew)]);
      const decodedAfter = Date.now() - answeredAt;
      await record(
        `${signal}: both pages decode each other again ${decodedAfter} ms after the server answered ` +
          `(both rejoined after ${rejoinedAfter} ms)`,
      );
      expect(decodedAfter).toBeLessThan(RECONNECT_DEADLINE_MS);

      await waitForRoster(alice, ['Alice (you)', 'Bob']);
      await waitForRoster(bob, ['Alice', 'Bob (you)']);
      await alice.locator('[data-testid="call"][data-live="true"]').waitFor();
      expect(await alice.getByTestId('connection-status').count()).toBe(0);
      await alice.locator(`[data-testid="tile"][data-participant-id="${bobNew}"][data-e2ee="encrypted"]`).waitFor();
      await bob.locator(`[data-testid="tile"][data-participant-id="${aliceNew}"][data-e2ee="encrypted"]`).waitFor();
      await alice.screenshot({ path: join(SHOTS, `restart-${signal}-back.png`), fullPage: true });

      // The chat history is still there, and chat works again.
      expect(await bob.getByTestId('chat-message').filter({ hasText: 'before the restart' }).count()).toBe(1);
      await alice.getByTestId('chat-input').fill(`after ${signal}`);
      await alice.getByTestId('chat-send').click();
      await bob
        .getByTestId('chat-message')
        .filter({ hasText: `after ${signal}` })
        .waitFor();

      await contexts.closeAll();
      await stopAndRemove(server);
      server = undefined;
    });
  }

  it('a network drop on the client: offline keeps the call and waits, online rejoins at once', async () => {
    server = await startServer();
    const aliceContext = await contexts.context(browser, {});
    const alice = await aliceContext.newPage();
    const bob = await contexts.page(browser);
    const link = await startMeeting(alice, server.origin);
    await alice.goto(link);
    await bob.goto(link);
    await joinAs(alice, 'Alice');
    await joinAs(bob, 'Bob');
    await waitForRoster(alice, ['Alice (you)', 'Bob']);
    const before = [await selfId(alice), await selfId(bob)];
    await waitForGrowingVideo(alice, before[1] ?? '');

    await aliceContext.setOffline(true);
    const status = alice.locator('[data-testid="call"][data-live="false"] [data-testid="connection-status"]');
    await status.waitFor();
    expect(await status.getAttribute('data-reason')).toBe('offline');
    expect(await status.textContent()).toContain('This device is offline.');
    await aliceContext.setOffline(false);
    const onlineAt = Date.now();
    const [aliceNew] = (await newIds([alice], [before[0] ?? ''])) as [string];
    const bobId = before[1] ?? '';
    await Promise.all([waitForGrowingVideo(alice, bobId), waitForGrowingVideo(bob, aliceNew)]);
    await record(`offline/online: both pages decode each other again ${Date.now() - onlineAt} ms after online`);
    await alice.locator('[data-testid="call"][data-live="true"]').waitFor();
    await contexts.closeAll();
    await stopAndRemove(server);
    server = undefined;
  });

  it.skipIf(!inLab())('media lost for good (UDP cut): ICE restarts do not help, a rejoin does', async () => {
    server = await startServer();
    const net: ClientNetwork = createClientNetwork('udpcut');
    const clientBrowser = await launchBrowser({ executablePath: net.chromiumPath });
    try {
      const alice = await contexts.page(browser);
      const bob = await (await contexts.context(clientBrowser)).newPage();
      const link = await startMeeting(alice, server.origin);
      await alice.goto(link);
      await joinAs(alice, 'Alice');
      await bob.goto(link.replace(server.origin, server.labOrigin ?? ''));
      await joinAs(bob, 'Bob');
      await waitForRoster(bob, ['Alice', 'Bob (you)']);
      const [aliceId, bobId] = [await selfId(alice), await selfId(bob)];
      await waitForGrowingVideo(bob, aliceId);
      await waitForGrowingVideo(alice, bobId);

      // Bob's network starts dropping every UDP packet and all TCP but signaling: media and ICE checks. The server
      // and Bob's browser notice (consent expires), ICE restarts cannot succeed, so Bob's page
      // rejoins from scratch, keeping the call on screen all along.
      net.run(['nft', 'add', 'table', 'inet', 'cut']);
      net.run([
        'nft',
        'add',
        'chain',
        'inet',
        'cut',
        'out',
        '{ type filter hook output priority 0 ; policy accept ; }',
      ]);
      net.run(['nft', 'add', 'rule', 'inet', 'cut', 'out', 'meta', 'l4proto', 'udp', 'drop']);
      // ICE-TCP to the media port would carry the call instead: only signaling (HTTPS) gets through.
      net.run(['nft', 'add', 'rule', 'inet', 'cut', 'out', 'tcp', 'dport', '!=', String(server.port), 'drop']);
      const cutAt = Date.now();
      // Consent expires after 30 s without an answer (RFC 7675), then the restart gets 8 s.
      const [bobNew] = (await newIds([bob], [bobId], 2 * WAIT_MS)) as [string];
      const rejoinedAfter = Date.now() - cutAt;
      expect(await bob.getByTestId('call').count()).toBe(1);
      // Alice hears nothing from Bob: his tile is not shown as encrypted.
      expect(
        await alice.locator(`[data-testid="tile"][data-participant-id="${bobId}"][data-e2ee="encrypted"]`).count(),
      ).toBe(0);

      net.run(['nft', 'delete', 'table', 'inet', 'cut']);
      const restoredAt = Date.now();
      await Promise.all([waitForGrowingVideo(alice, bobNew), waitForGrowingVideo(bob, aliceId)]);
      await record(
        `UDP cut: rejoined ${rejoinedAfter} ms after the cut; both decode again ${Date.now() - restoredAt} ms ` +
          'after UDP was let through again',
      );
      await bob.locator('[data-testid="call"][data-live="true"]').waitFor();
    } finally {
      await contexts.closeAll();
      await clientBrowser.close();
      net.close();
      await stopAndRemove(server);
      server = undefined;
    }
  });

  it('shows a refused publish as refused, with the reason, on both sides', async () => {
    // Room for one participant's microphone and camera only: the second one's publish is refused.
    server = await startServer({ extraArgs: ['--max-room-tracks', '2'] });
    const alice = await contexts.page(browser);
    const bob = await contexts.page(browser);
    const link = await startMeeting(alice, server.origin);
    await alice.goto(link);
    await joinAs(alice, 'Alice');
    await waitForRoster(alice, ['Alice (you)']);
    await alice.locator('[data-testid="tile"][data-self="true"][data-e2ee="encrypted"]').waitFor();
    await bob.goto(link);
    await joinAs(bob, 'Bob');
    await waitForRoster(bob, ['Alice', 'Bob (you)']);
    const aliceId = await selfId(alice);
    const bobId = await selfId(bob);

    await bob.locator('[data-testid="tile"][data-self="true"][data-e2ee="publish-refused"]').waitFor();
    const notice = bob.getByTestId('self-media-status');
    await expect
      .poll(() => notice.textContent())
      .toBe('Your camera and microphone are not reaching the others: the server refused them (too-many-tracks).');
    // Bob still receives Alice, and her tile says so only because her frames decrypt.
    await waitForGrowingVideo(bob, aliceId);
    await bob.locator(`[data-testid="tile"][data-participant-id="${aliceId}"][data-e2ee="encrypted"]`).waitFor();
    // Alice gets nothing from Bob: his tile says so, never "encrypted".
    await alice.locator(`[data-testid="tile"][data-participant-id="${bobId}"][data-e2ee="no-media"]`).waitFor();
    expect(await alice.getByTestId('self-media-status').count()).toBe(0);
    await bob.screenshot({ path: join(SHOTS, 'publish-refused.png'), fullPage: true });
  });
});
