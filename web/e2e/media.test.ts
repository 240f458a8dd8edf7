// End-to-end media: three Chromium pages in one meeting through the real SFU, all on loopback.
// What each page receives is read from its subscribe connection's getStats() through the e2e
// build's test hook (window.__conclaveTest), which labels every inbound stream with the
// participant and source of its m-section (from the server's subscribe offers).
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newContext, Traffic, waitForRoster } from './browser';
import { removeDir, serverHasMedia, startServer, WEB_DIR, type RunningServer } from './server';

const SHOTS = join(WEB_DIR, 'test-results');
const CLIENT_TYPES = new Set([
  'hello',
  'join',
  'update-profile',
  'leave',
  'ping',
  'publish',
  'subscribe-answer',
  'subscribe-restart',
  'relay',
  'file-upload',
]);

interface TrackStats {
  participantId: string;
  source: string;
  kind: string;
  packetsReceived: number;
  framesDecoded: number;
  frameWidth: number;
  frameHeight: number;
}

interface PageStats {
  received: TrackStats[];
  sent: { source: string; packetsSent: number; framesEncoded: number }[];
}

async function stats(page: Page): Promise<PageStats> {
  return page.evaluate(async () => {
    const hook = (window as unknown as { __conclaveTest?: { stats: () => Promise<unknown> } }).__conclaveTest;
    if (!hook) throw new Error('no test hook: build with --mode e2e');
    return ((await hook.stats()) ?? { received: [], sent: [] }) as PageStats;
  });
}

async function selfId(page: Page): Promise<string> {
  return page
    .locator('[data-testid="tile"][data-self="true"][data-kind="camera"]')
    .getAttribute('data-participant-id')
    .then((id) => id ?? '');
}

function find(s: PageStats, participantId: string, source: string): TrackStats | undefined {
  return s.received.find((t) => t.participantId === participantId && t.source === source);
}

async function joinAs(page: Page, name: string): Promise<void> {
  // The preview shows once the fake camera is running.
  await page.getByTestId('preview-video').waitFor();
  await page.getByTestId('name-input').fill(name);
  await page.getByTestId('join-button').click();
}

/** Waits until `page` decodes video (and receives audio) from every participant in `from`. */
async function waitForMediaFrom(
  page: Page,
  from: string[],
  sources = ['camera', 'microphone'],
  timeout = 20000,
): Promise<PageStats> {
  const deadline = Date.now() + timeout;
  let last: PageStats = { received: [], sent: [] };
  for (;;) {
    last = await stats(page);
    const ok = from.every((id) =>
      sources.every((source) => {
        const t = find(last, id, source);
        return t !== undefined && (t.kind === 'video' ? t.framesDecoded > 0 : t.packetsReceived > 0);
      }),
    );
    if (ok) return last;
    if (Date.now() > deadline) {
      throw new Error(`no media from ${JSON.stringify(from)} (${sources.join(', ')}): ${JSON.stringify(last)}`);
    }
    await page.waitForTimeout(250);
  }
}

describe.skipIf(!serverHasMedia())('media through the SFU', () => {
  let browser: Browser;
  let server: RunningServer;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
    server = await startServer();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await server?.stop();
    if (server) await removeDir(server.dataDir);
  });

  async function page(traffic?: Traffic): Promise<Page> {
    const context = await newContext(browser);
    contexts.push(context);
    traffic?.watch(context);
    return context.newPage();
  }

  async function newRoomLink(p: Page): Promise<string> {
    await p.goto(`${server.origin}/`);
    await p.getByTestId('start-meeting').click();
    const invite = p.getByTestId('invite-link');
    await invite.waitFor();
    return invite.inputValue();
  }

  it('three people see and hear each other; leaving, rejoining and screen sharing work', async () => {
    const traffic = new Traffic();
    const alice = await page(traffic);
    const bob = await page(traffic);
    const carol = await page(traffic);
    const link = await newRoomLink(alice);
    const secret = link.slice(link.indexOf('#') + 1);
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
    // ...and keeps doing so: 20 s with all three in the meeting.
    await alice.waitForTimeout(Math.max(0, 20000 - connectedAfter));
    const figures: string[] = [];
    for (const [name, p] of Object.entries(pages)) {
      const now = await stats(p);
      for (const id of others(name as keyof typeof ids)) {
        const who = Object.entries(ids).find(([, v]) => v === id)?.[0] ?? id;
        const video0 = find(first[name] ?? now, id, 'camera');
        const video1 = find(now, id, 'camera');
        const audio0 = find(first[name] ?? now, id, 'microphone');
        const audio1 = find(now, id, 'microphone');
        figures.push(
          `${name} <- ${who}: framesDecoded ${video0?.framesDecoded} -> ${video1?.framesDecoded} ` +
            `(${video1?.frameWidth}x${video1?.frameHeight}), audio packets ${audio0?.packetsReceived} -> ${audio1?.packetsReceived}`,
        );
        // The fake camera runs at 30 fps; with the start bitrate Chromium sends 15-20 fps, so ~300
        // frames arrive in the ~18 s between the samples. Ask for 150 (about 8 fps).
        const decoded = (video1?.framesDecoded ?? 0) - (video0?.framesDecoded ?? 0);
        expect(decoded, `${name} <- ${who} video`).toBeGreaterThan(150);
        // Opus sends 50 packets/s; DTX may thin out silence, but the fake microphone beeps.
        expect(
          (audio1?.packetsReceived ?? 0) - (audio0?.packetsReceived ?? 0),
          `${name} <- ${who} audio`,
        ).toBeGreaterThan(100);
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
      await expect
        .poll(() =>
          p.evaluate(() =>
            (window as unknown as { __conclaveTest: { remote: () => { participantId: string }[] } }).__conclaveTest
              .remote()
              .map((r) => r.participantId),
          ),
        )
        .not.toContain(ids.carol);
      const sections = await p.evaluate(() =>
        (
          window as unknown as {
            __conclaveTest: { subscribeSections: () => { mid: string; currentDirection: string | null }[] };
          }
        ).__conclaveTest.subscribeSections(),
      );
      expect(
        sections.filter((s) => s.currentDirection === 'inactive').length,
        JSON.stringify(sections),
      ).toBeGreaterThanOrEqual(2);
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
    await bob.waitForTimeout(4000);
    for (const [name, p] of [
      ['bob', bob],
      ['carol', carol],
    ] as const) {
      const screen = find(await stats(p), ids.alice, 'screen');
      console.log(
        `${name} <- alice screen: framesDecoded ${screenFirst[name]} -> ${screen?.framesDecoded} (${screen?.frameWidth}x${screen?.frameHeight})`,
      );
      // A screen is sent at a low frame rate (detail over motion): a few frames in 4 s.
      expect((screen?.framesDecoded ?? 0) - (screenFirst[name] ?? 0)).toBeGreaterThanOrEqual(3);
      // The screen is end-to-end encrypted like everything else: its frames went through the decryptor.
      const decrypted = await p.evaluate(() => {
        type Tracks = { tracks: { source: string | null; role: string; ok: number }[] };
        const hook = (window as unknown as { __conclaveTest: { crypto: () => Tracks } }).__conclaveTest;
        return hook.crypto().tracks.find((t) => t.role === 'receive' && t.source === 'screen')?.ok ?? 0;
      });
      expect(decrypted, `${name} decrypted screen frames`).toBeGreaterThanOrEqual(3);
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

    const context = await newContext(browser);
    contexts.push(context);
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
