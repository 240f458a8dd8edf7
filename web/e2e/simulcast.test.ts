// Simulcast through the real SFU with end-to-end encryption on: Alice's camera is published as
// three layers (q, h, f); three receive-only members show her tile at different sizes (CSS forced
// on their tile video), their clients report the sizes (`video-preferences`) and the SFU forwards
// each the layer that fits. What each decodes is read from getStats (frameWidth): a tiny tile gets
// the quarter-size layer, a large one the full layer, a hidden one no video at all. The times from
// a size change to the new width on screen are printed.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Contexts,
  joinAs,
  Traffic,
  launchBrowser,
  receiveOnly,
  setTileSize,
  startMeeting,
  selfId,
  waitForRoster,
  waitUntil,
} from './browser';
import { cryptoStats, findTrack, pageStats, type PageStats, type TrackStats } from './hook';
import * as ff from './firefox';
import { inLab } from './lab';
import { serverHasMedia, startServer, stopAndRemove, type RunningServer } from './server';

/** A publisher's camera as `page` receives it (undefined until the subscribe offer is in). */
async function aliceCamera(page: Page, aliceId: string): Promise<TrackStats | undefined> {
  return findTrack((await pageStats(page)).received, aliceId, 'camera');
}

/**
 * What a publisher's camera layers send, in kbit/s per rid, from outbound-rtp bytesSent over a
 * window of about `ms` (a measurement, not a wait: the elapsed time is what is divided by).
 */
async function layerRates(sent: () => Promise<PageStats['sent']>, ms = 3000): Promise<string> {
  const before = await sent();
  const started = Date.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = await sent();
  const seconds = (Date.now() - started) / 1000;
  return after
    .filter((s) => s.source === 'camera')
    .sort((a, b) => a.frameWidth - b.frameWidth)
    .map((s) => {
      const earlier = before.find((b) => b.source === 'camera' && b.rid === s.rid)?.bytesSent ?? 0;
      const kbps = Math.round(((s.bytesSent - earlier) * 8) / seconds / 1000);
      return `${s.rid || '-'} ${s.frameWidth}px ${kbps} kbit/s (${s.qualityLimitationReason || 'none'})`;
    })
    .join(', ');
}

const TINY = { width: 160, height: 90 };
const LARGE = { width: 1000, height: 562 };
const HIDDEN = 'hidden';

describe.skipIf(!serverHasMedia())('simulcast', () => {
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

  it('a tiny tile gets the low layer, a large tile the full one, a hidden tile no video', async () => {
    const alice = await contexts.page(browser);
    const link = await startMeeting(alice, server.origin);
    await alice.goto(link);
    await joinAs(alice, 'Alice', { preview: true });
    const bob = await receiveOnly(contexts, browser, link, 'Bob');
    const carolTraffic = new Traffic();
    const daveTraffic = new Traffic();
    const carol = await receiveOnly(contexts, browser, link, 'Carol', carolTraffic);
    const dave = await receiveOnly(contexts, browser, link, 'Dave', daveTraffic);
    await waitForRoster(alice, ['Alice (you)', 'Bob', 'Carol', 'Dave']);
    const aliceId = await selfId(alice);

    // Everyone decodes Alice at the size the grid gives her tile.
    for (const p of [bob, carol, dave]) {
      await waitUntil(
        'video from Alice',
        () => aliceCamera(p, aliceId),
        (t) => (t?.framesDecoded ?? 0) > 0,
      );
    }

    // What Alice's encoder sends: three layers, the smallest a quarter of the largest.
    const sentWidths = async (): Promise<number[]> =>
      (await pageStats(alice)).sent
        .filter((s) => s.source === 'camera' && s.frameWidth > 0)
        .map((s) => s.frameWidth)
        .sort((a, b) => a - b);
    const widths = await waitUntil('three layers from Alice', sentWidths, (w) => w.length === 3);
    console.log(`simulcast: Alice's layers: ${await layerRates(async () => (await pageStats(alice)).sent)}`);

    // Bob and Carol: large tiles (1000x562 CSS px at devicePixelRatio 1): the full layer.
    let started = Date.now();
    await setTileSize(bob, LARGE);
    await setTileSize(carol, LARGE);
    const fullLayer = (t: TrackStats | undefined): boolean =>
      t !== undefined && t.frameWidth >= 3 * (widths[0] ?? Infinity);
    const large = await waitUntil('the full layer at Carol', () => aliceCamera(carol, aliceId), fullLayer).catch(
      (error: unknown) => {
        // What the SFU did with the layers (at log level debug: learned SSRCs, switches) and
        // what Carol asked for.
        const lines = server.output().split('\n');
        console.log(lines.filter((l) => /learned|consumer \d+: layer/.test(l)).join('\n'));
        console.log(carolTraffic.framesSent.filter((f) => f.includes('video-preferences')).join('\n'));
        throw error;
      },
    );
    const largeSwitchMs = Date.now() - started;
    await waitUntil('the full layer at Bob', () => aliceCamera(bob, aliceId), fullLayer);

    // Bob: a thumbnail (160x90): down to the quarter-size layer.
    started = Date.now();
    await setTileSize(bob, TINY);
    const tiny = await waitUntil(
      'a low layer at Bob',
      () => aliceCamera(bob, aliceId),
      (t) => t !== undefined && t.frameWidth > 0 && t.frameWidth <= 320,
    );
    const tinySwitchMs = Date.now() - started;
    expect((tiny?.frameWidth ?? 0) * 3.5).toBeLessThanOrEqual(large?.frameWidth ?? 0);

    // Dave: the tile is hidden: nothing more arrives.
    started = Date.now();
    await setTileSize(dave, HIDDEN);
    // Stopped: the count stands still for 3 s (a busy browser may still read packets that were
    // on their way when the tile went).
    let previous = await aliceCamera(dave, aliceId);
    let stillFor = 0;
    await waitUntil(
      'no more packets at Dave',
      async () => {
        const now = await aliceCamera(dave, aliceId);
        const still = now !== undefined && previous !== undefined && now.packetsReceived === previous.packetsReceived;
        stillFor = still ? stillFor + 1 : 0;
        previous = now;
        return stillFor;
      },
      (count) => count >= 3,
      { intervalMs: 1000 },
    );
    const pauseMs = Date.now() - started;
    const daveBefore = await aliceCamera(dave, aliceId);
    const others = await Promise.all([aliceCamera(bob, aliceId), aliceCamera(carol, aliceId)]);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const daveAfter = await aliceCamera(dave, aliceId);
    const othersAfter = await Promise.all([aliceCamera(bob, aliceId), aliceCamera(carol, aliceId)]);
    if (daveAfter?.packetsReceived !== daveBefore?.packetsReceived) {
      console.log(daveTraffic.framesSent.filter((f) => f.includes('video-preferences')).join('\n'));
      console.log(
        server
          .output()
          .split('\n')
          .filter((l) => /consumer \d+: layer/.test(l))
          .join('\n'),
      );
    }
    expect(daveAfter?.packetsReceived).toBe(daveBefore?.packetsReceived);
    // ...while Bob and Carol go on decoding their layers.
    others.forEach((before, i) => {
      expect(othersAfter[i]?.framesDecoded ?? 0).toBeGreaterThan(before?.framesDecoded ?? 0);
    });
    expect(othersAfter[0]?.frameWidth ?? 0).toBeLessThanOrEqual(320);
    expect(othersAfter[1]?.frameWidth ?? 0).toBe(large?.frameWidth);

    // Dave's tile comes back: video again, from a keyframe.
    started = Date.now();
    await setTileSize(dave, LARGE);
    await waitUntil(
      'video at Dave again',
      () => aliceCamera(dave, aliceId),
      (t) => (t?.framesDecoded ?? 0) > (daveAfter?.framesDecoded ?? 0) && (t?.frameWidth ?? 0) > 320,
    );
    const resumeMs = Date.now() - started;

    // Every frame was end-to-end encrypted: the receivers decrypted them all with Alice's key.
    for (const p of [bob, carol, dave]) {
      const crypto = await cryptoStats(p);
      expect(crypto.mode).not.toBe('none');
      const fromAlice = crypto.tracks.filter((t) => t.role === 'receive' && t.participantId === aliceId);
      expect(fromAlice.some((t) => t.kind === 'video' && t.ok > 0)).toBe(true);
      for (const t of fromAlice) expect(t.failed).toBe(0);
    }

    console.log(
      `simulcast: Alice sends ${widths.join('/')} px wide; received q=${tiny?.frameWidth} (Bob, 160x90 tile), ` +
        `f=${large?.frameWidth} (Carol, 1000x562); ` +
        `switch to q ${tinySwitchMs} ms, to f ${largeSwitchMs} ms, hidden -> no packets for 3 s after ${pauseMs} ms, ` +
        `shown again -> video ${resumeMs} ms`,
    );
  });
});

// Firefox takes the layers only at addTransceiver; it pairs no loopback candidates, so this runs
// only in the network lab.
describe.skipIf(!serverHasMedia() || !ff.hasFirefox() || !inLab())('simulcast from Firefox', () => {
  let firefox: Awaited<ReturnType<typeof ff.launchFirefox>>;
  let chromium: Browser;
  let server: RunningServer;
  const contexts = new Contexts();
  const firefoxPages = new ff.FirefoxPages();

  beforeAll(async () => {
    server = await startServer();
    firefox = await ff.launchFirefox();
    chromium = await launchBrowser();
  });

  afterAll(async () => {
    await firefoxPages.closeAll();
    await contexts.closeAll();
    await firefox?.close();
    await chromium?.close();
    await stopAndRemove(server);
  });

  it('Firefox sends three layers; a Chromium tile gets the full or the quarter one by its size', async () => {
    const fox = await firefoxPages.page(firefox);
    const link = await ff.startMeeting(fox, server.origin);
    await ff.joinAs(fox, 'Fiona', link);
    const chrome = await receiveOnly(contexts, chromium, link, 'Chris');
    await ff.waitForRoster(fox, ['Fiona (you)', 'Chris']);
    const fionaId = await ff.selfId(fox);
    const joined = Date.now();
    const widths = await waitUntil(
      'three layers from Firefox',
      async () =>
        (await ff.pageStats(fox)).sent
          .filter((s) => s.source === 'camera' && s.frameWidth > 0)
          .map((s) => s.frameWidth)
          .sort((a, b) => a - b),
      (w) => w.length === 3,
    ).catch(async (error: unknown) => {
      console.log(`simulcast from Firefox: layers: ${await layerRates(async () => (await ff.pageStats(fox)).sent)}`);
      throw error;
    });
    const threeLayersMs = Date.now() - joined;
    console.log(
      `simulcast from Firefox: three layers ${threeLayersMs} ms after the roster; ` +
        `${await layerRates(async () => (await ff.pageStats(fox)).sent)}`,
    );
    let started = Date.now();
    await setTileSize(chrome, LARGE);
    const large = await waitUntil(
      'the full layer at Chris',
      () => aliceCamera(chrome, fionaId),
      (t) => t !== undefined && t.frameWidth >= 3 * (widths[0] ?? Infinity),
    );
    const largeMs = Date.now() - started;
    started = Date.now();
    await setTileSize(chrome, TINY);
    const tiny = await waitUntil(
      'the quarter layer at Chris',
      () => aliceCamera(chrome, fionaId),
      (t) => t !== undefined && t.frameWidth > 0 && t.frameWidth <= 320,
    );
    const tinyMs = Date.now() - started;
    const crypto = await cryptoStats(chrome);
    expect(crypto.tracks.some((t) => t.role === 'receive' && t.kind === 'video' && t.ok > 0)).toBe(true);
    console.log(
      `simulcast from Firefox: sends ${widths.join('/')} px wide; received f=${large?.frameWidth} in ${largeMs} ms, ` +
        `q=${tiny?.frameWidth} in ${tinyMs} ms`,
    );
  });
});
