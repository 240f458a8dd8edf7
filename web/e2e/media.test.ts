// End-to-end media: three Chromium pages in one meeting through the real SFU, all on loopback.
// What each page receives is read from its subscribe connection's getStats() through the e2e
// build's test hook (window.__conclaveTest, e2e/hook.ts), which labels every inbound stream with
// the participant and source of its m-section (from the server's subscribe offers).
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLIENT_TYPES,
  Contexts,
  joinAs as join_,
  launchBrowser,
  secretOf,
  selfId,
  startMeeting,
  Traffic,
  waitForRoster,
  waitUntil,
  WAIT_MS,
} from './browser';
import {
  cryptoStats,
  findTrack,
  pageStats as stats,
  remoteParticipants,
  subscribeSections,
  type PageStats,
  type TrackStats,
} from './hook';
import { serverHasMedia, startServer, stopAndRemove, WEB_DIR, type RunningServer } from './server';

const SHOTS = join(WEB_DIR, 'test-results');

function find(s: PageStats, participantId: string, source: string): TrackStats | undefined {
  return findTrack(s.received, participantId, source);
}

/** Joins once the fake camera runs (its preview shows), so it is published with the join. */
function joinAs(page: Page, name: string): Promise<void> {
  return join_(page, name, { preview: true });
}

/** Waits until `page` decodes video (and receives audio) from every participant in `from`. */
function waitForMediaFrom(page: Page, from: string[], sources = ['camera', 'microphone']): Promise<PageStats> {
  return waitUntil(
    `media from ${JSON.stringify(from)} (${sources.join(', ')})`,
    () => stats(page),
    (last) =>
      from.every((id) =>
        sources.every((source) => {
          const t = find(last, id, source);
          return t !== undefined && (t.kind === 'video' ? t.framesDecoded > 0 : t.packetsReceived > 0);
        }),
      ),
  );
}

describe.skipIf(!serverHasMedia())('media through the SFU', () => {
  let browser: Browser;
  let server: RunningServer;
  const contexts = new Contexts();

  beforeAll(async () => {
    browser = await launchBrowser();
    server = await startServer();
  });

  afterAll(async () => {
    await contexts.closeAll();
    await browser?.close();
    await stopAndRemove(server);
  });

  const page = (traffic?: Traffic): Promise<Page> => contexts.page(browser, traffic ? { traffic } : {});
  const newRoomLink = (p: Page): Promise<string> => startMeeting(p, server.origin);

  it('three people see and hear each other; leaving, rejoining and screen sharing work', async () => {
    const traffic = new Traffic();
    const alice = await page(traffic);
    const bob = await page(traffic);
    const carol = await page(traffic);
    const link = await newRoomLink(alice);
    const secret = secretOf(link);
    await alice.goto(link);
    await alice.locator('[data-testid="preview-video"][data-playing="true"]').waitFor();
    await alice.getByTestId('name-input').fill('Alice');
    await alice.screenshot({ path: join(SHOTS, 'media-prejoin.png') });
    await bob.goto(link);
    await carol.goto(link);
    await joinAs(alice, 'Alice');
    await joinAs(bob, 'Bob');
    await joinAs(carol, 'Carol');
    for (const [p, self] of [
      [alice, 'Alice'],
      [bob, 'Bob'],
      [carol, 'Carol'],
    ] as const) {
      await waitForRoster(
        p,
        ['Alice', 'Bob', 'Carol'].map((n) => (n === self ? `${n} (you)` : n)),
      );
    }
    const ids = { alice: await selfId(alice), bob: await selfId(bob), carol: await selfId(carol) };
    const pages = { alice, bob, carol };
    const others = (me: keyof typeof ids): string[] =>
      Object.entries(ids)
        .filter(([k]) => k !== me)
        .map(([, v]) => v);

    // Everyone decodes both others' video and receives their audio...
    const start = Date.now();
    const first: Record<string, PageStats> = {};
    for (const [name, p] of Object.entries(pages))
      first[name] = await waitForMediaFrom(p, others(name as keyof typeof ids));
    const connectedAfter = Date.now() - start;
    // ...and keeps doing so: 150 more frames (the fake camera runs at 30 fps, Chromium sends 15-20
    // at the start bitrate: 8-10 s) and 100 more audio packets (Opus sends 50/s; DTX may thin out
    // silence, but the fake microphone beeps) from each of the others, with all three in the
    // meeting. Waited for, not timed: a busy machine takes longer, it does not fail.
    const grown = (name: string, now: PageStats, id: string) => ({
      video:
        (find(now, id, 'camera')?.framesDecoded ?? 0) - (find(first[name] ?? now, id, 'camera')?.framesDecoded ?? 0),
      audio:
        (find(now, id, 'microphone')?.packetsReceived ?? 0) -
        (find(first[name] ?? now, id, 'microphone')?.packetsReceived ?? 0),
    });
    const figures: string[] = [];
    for (const [name, p] of Object.entries(pages)) {
      const from = others(name as keyof typeof ids);
      const now = await waitUntil(
        `${name} keeps receiving`,
        () => stats(p),
        (s) => from.every((id) => grown(name, s, id).video > 150 && grown(name, s, id).audio > 100),
        { timeoutMs: 2 * WAIT_MS },
      );
      for (const id of from) {
        const who = Object.entries(ids).find(([, v]) => v === id)?.[0] ?? id;
        const video0 = find(first[name] ?? now, id, 'camera');
        const video1 = find(now, id, 'camera');
        const audio0 = find(first[name] ?? now, id, 'microphone');
        const audio1 = find(now, id, 'microphone');
        figures.push(
          `${name} <- ${who}: framesDecoded ${video0?.framesDecoded} -> ${video1?.framesDecoded} ` +
            `(${video1?.frameWidth}x${video1?.frameHeight}), audio packets ${audio0?.packetsReceived} -> ${audio1?.packetsReceived}`,
        );
      }
    }
    console.log(
      `media after ${Math.round((Date.now() - start) / 1000)} s (connected in ${connectedAfter} ms):\n  ${figures.join('\n  ')}`,
    );
    // Every grid shows three camera tiles with playing video (the own one mirrored).
    for (const p of Object.values(pages)) {
      await expect
        .poll(() =>
          p.locator('[data-testid="tile"][data-kind="camera"] [data-testid="tile-video"][data-playing="true"]').count(),
        )
        .toBe(3);
      expect(await p.locator('[data-testid="tile"][data-self="true"] video').getAttribute('class')).toContain(
        'video-mirrored',
      );
      // Remote sound plays through one audio element per remote microphone.
      await expect.poll(() => p.getByTestId('remote-audio').count()).toBe(2);
      await expect
        .poll(() =>
          p.evaluate(() => [...document.querySelectorAll('audio')].every((a) => !a.paused && a.currentTime > 0)),
        )
        .toBe(true);
    }
    await alice.screenshot({ path: join(SHOTS, 'media-grid.png') });

    // Carol leaves: her tiles go, and the others' subscriptions to her end (inactive sections).
    await carol.getByTestId('leave-button').click();
    await carol.getByTestId('left-message').waitFor();
    for (const p of [alice, bob]) {
      await waitForRoster(p, p === alice ? ['Alice (you)', 'Bob'] : ['Alice', 'Bob (you)']);
      await expect.poll(() => p.locator(`[data-testid="tile"][data-participant-id="${ids.carol}"]`).count()).toBe(0);
      await expect.poll(() => remoteParticipants(p)).not.toContain(ids.carol);
      await waitUntil(
        'her two sections inactive',
        () => subscribeSections(p),
        (sections) => sections.filter((s) => s.currentDirection === 'inactive').length >= 2,
      );
      const before = find(await stats(p), ids.carol, 'camera');
      expect(before).toBeUndefined();
    }

    // Carol rejoins (as a new participant) and is seen and heard again.
    await carol.getByTestId('rejoin-button').click();
    await waitForRoster(carol, ['Alice', 'Bob', 'Carol (you)']);
    const carolAgain = await selfId(carol);
    expect(carolAgain).not.toBe(ids.carol);
    ids.carol = carolAgain;
    for (const [name, p] of Object.entries(pages)) await waitForMediaFrom(p, others(name as keyof typeof ids));

    // Alice shares her screen; Bob and Carol decode it.
    await alice.getByTestId('share-button').click();
    await expect.poll(() => alice.getByTestId('share-button').getAttribute('aria-pressed')).toBe('true');
    const screenFirst: Record<string, number> = {};
    for (const [name, p] of [
      ['bob', bob],
      ['carol', carol],
    ] as const) {
      const s = await waitForMediaFrom(p, [ids.alice], ['screen']);
      screenFirst[name] = find(s, ids.alice, 'screen')?.framesDecoded ?? 0;
      await p.locator(`[data-testid="tile"][data-kind="screen"][data-participant-id="${ids.alice}"]`).waitFor();
    }
    for (const [name, p] of [
      ['bob', bob],
      ['carol', carol],
    ] as const) {
      // A screen is sent at a low frame rate (detail over motion): wait for 3 more frames, each
      // through the decryptor (the screen is end-to-end encrypted like everything else).
      const screenNow = async () => ({
        screen: find(await stats(p), ids.alice, 'screen'),
        decrypted: (await cryptoStats(p)).tracks.find((t) => t.role === 'receive' && t.source === 'screen')?.ok ?? 0,
      });
      const { screen, decrypted } = await waitUntil(
        `${name} decodes the screen`,
        screenNow,
        (n) => (n.screen?.framesDecoded ?? 0) - (screenFirst[name] ?? 0) >= 3 && n.decrypted >= 3,
      );
      console.log(
        `${name} <- alice screen: framesDecoded ${screenFirst[name]} -> ${screen?.framesDecoded} ` +
          `(${screen?.frameWidth}x${screen?.frameHeight}), decrypted ${decrypted}`,
      );
    }
    const aliceSent = (await stats(alice)).sent;
    console.log(`alice sends: ${JSON.stringify(aliceSent)}`);
    await bob.screenshot({ path: join(SHOTS, 'media-screen.png') });
    await alice.getByTestId('share-button').click();
    for (const p of [bob, carol]) {
      await expect.poll(() => p.locator('[data-testid="tile"][data-kind="screen"]').count()).toBe(0);
    }

    // Mute and camera off are plain toggles with aria-pressed.
    await alice.getByTestId('mic-button').click();
    expect(await alice.getByTestId('mic-button').getAttribute('aria-pressed')).toBe('false');
    await alice.getByTestId('camera-button').click();
    expect(await alice.getByTestId('camera-button').getAttribute('aria-pressed')).toBe('false');
    await alice.locator('[data-testid="tile"][data-self="true"] [data-testid="tile-avatar"]').waitFor();

    // Signaling carried only protocol messages, never the secret.
    for (const frame of traffic.framesSent) {
      expect(frame).not.toContain(secret);
      expect(CLIENT_TYPES.has(String((JSON.parse(frame) as { type?: unknown }).type)), frame).toBe(true);
    }
    expect(traffic.framesSent.some((f) => f.includes('"type":"publish"'))).toBe(true);
    expect(traffic.framesSent.some((f) => f.includes('"type":"subscribe-answer"'))).toBe(true);
    for (const url of traffic.allUrls())
      expect(
        url.startsWith(`https://localhost:${server.port}/`) ||
          url.startsWith(`wss://localhost:${server.port}/`) ||
          url.startsWith('blob:') ||
          url.startsWith('data:'),
        url,
      ).toBe(true);
    expect(traffic.consoleErrors).toEqual([]);
  });

  it('says clearly when camera and microphone are blocked, and joins receive-only', async () => {
    const dana = await page();
    const link = await newRoomLink(dana);
    await dana.goto(link);
    await joinAs(dana, 'Dana');
    await waitForRoster(dana, ['Dana (you)']);

    const context = await contexts.context(browser);
    await context.addInitScript(() => {
      navigator.mediaDevices.getUserMedia = () =>
        Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
    });
    const erin = await context.newPage();
    await erin.goto(link);
    const message = erin.getByTestId('device-message');
    await expect.poll(() => message.textContent()).toContain('The browser blocked the camera and the microphone.');
    expect(await message.textContent()).toContain('You can still join');
    await erin.screenshot({ path: join(SHOTS, 'media-denied.png') });
    expect(await erin.getByTestId('preview-placeholder').count()).toBe(1);
    await erin.getByTestId('name-input').fill('Erin');
    await erin.getByTestId('join-button').click();
    await waitForRoster(erin, ['Dana', 'Erin (you)']);
    await waitForRoster(dana, ['Dana (you)', 'Erin']);
    expect(await erin.getByTestId('mic-button').isDisabled()).toBe(true);
    expect(await erin.getByTestId('camera-button').isDisabled()).toBe(true);
    // Erin publishes nothing but sees and hears Dana.
    const danaId = await selfId(dana);
    await waitForMediaFrom(erin, [danaId]);
    const erinStats = await stats(erin);
    expect(erinStats.sent).toEqual([]);
    // Dana has Erin's tile, as an avatar.
    const erinId = await selfId(erin);
    await dana.locator(`[data-testid="tile"][data-participant-id="${erinId}"] [data-testid="tile-avatar"]`).waitFor();
  });
});
