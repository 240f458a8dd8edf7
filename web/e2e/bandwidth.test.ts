// Issue 11, a subscriber's downlink: Bob's Chromium is in a client network whose downlink from the
// SFU goes through the impairment forwarder (e2e/lab.ts impairUdp) capped at 300 kbit/s. Before
// the SFU estimated each subscriber's downlink, Bob decoded Alice at 0.2-0.3 frames/s while the
// SFU answered the NACKs of the overloaded link with ~10,000 retransmissions a second. Now his
// transport-cc feedback brings his estimate down, his consumer of Alice's camera moves to the
// lowest simulcast layer, and retransmissions stay inside the estimate. The figures are printed;
// the floors are generous enough for a busy 2-core machine.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contexts, joinAs, launchBrowser, selfId, startMeeting, waitForRoster, waitUntil } from './browser';
import { findTrack, pageStats } from './hook';
import { createClientNetwork, inLab, type ClientNetwork, type PathCounters } from './lab';
import { freePort, freeUdpPort, serverHasMedia, startServer, stopAndRemove, type RunningServer } from './server';
import { describeVideo, measureVideo } from './video_quality';

const SETTLE_MS = 12_000;
const WINDOW_MS = 20_000;
const CAP_KBPS = 300;

/** The per-worker counters of /metrics, summed over workers. */
async function metrics(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{[^}]*\})? ([0-9.e+]+)$/.exec(line);
    if (m) out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[2]));
  }
  return out;
}

function delta(before: Map<string, number>, after: Map<string, number>, name: string): number {
  return (after.get(name) ?? 0) - (before.get(name) ?? 0);
}

describe.skipIf(!inLab() || !serverHasMedia())('a subscriber behind a 300 kbit/s downlink', () => {
  let net: ClientNetwork;
  let labBrowser: Browser;
  let bobBrowser: Browser;
  let server: RunningServer;
  let metricsPort: number;
  const contexts = new Contexts();

  beforeAll(async () => {
    metricsPort = await freePort();
    server = await startServer({
      mediaPort: await freeUdpPort(),
      extraArgs: ['--metrics-listen', `127.0.0.1:${metricsPort}`],
    });
    net = createClientNetwork('capped');
    labBrowser = await launchBrowser();
    bobBrowser = await launchBrowser({ executablePath: net.chromiumPath });
  });

  afterAll(async () => {
    await contexts.closeAll();
    await labBrowser?.close();
    await bobBrowser?.close();
    await stopAndRemove(server);
    net?.close();
  });

  it('decodes the lowest layer at a usable rate and the SFU keeps its retransmissions bounded', async () => {
    const path = await net.impairUdp(server.mediaPort);
    const alice = await contexts.page(labBrowser);
    const bob: Page = await contexts.page(bobBrowser);
    const link = await startMeeting(alice, server.origin);
    await joinAs(alice, 'Alice', { link, preview: true });
    await joinAs(bob, 'Bob', { link: link.replace(server.origin, server.labOrigin ?? ''), preview: true });
    await waitForRoster(alice, ['Alice (you)', 'Bob']);
    await waitForRoster(bob, ['Alice', 'Bob (you)']);
    const aliceId = await selfId(alice);
    await waitUntil(
      'Bob decodes Alice',
      async () => findTrack((await pageStats(bob)).received, aliceId, 'camera')?.framesDecoded ?? 0,
      (n) => n > 0,
    );
    // Alice's simulcast climbs to its top layer first, so the cap meets full-rate video.
    const open = await measureVideo(bob, aliceId, 5_000);
    await path.set({ down: { rateKbps: CAP_KBPS } });
    await new Promise((r) => setTimeout(r, SETTLE_MS));

    const m0 = await metrics(metricsPort);
    const p0: PathCounters = await path.counters();
    const video = await measureVideo(bob, aliceId, WINDOW_MS);
    const p1 = await path.counters();
    const m1 = await metrics(metricsPort);
    const seconds = (p1.atMs - p0.atMs) / 1000;
    const sentKbps = ((p1.down.bytesIn - p0.down.bytesIn) * 8) / 1000 / seconds;
    const retransmittedPerS = delta(m0, m1, 'conclave_retransmitted_packets_total') / seconds;
    const droppedPerS = delta(m0, m1, 'conclave_bwe_retransmissions_dropped_total') / seconds;
    const estimates = delta(m0, m1, 'conclave_bwe_estimates_total');
    const meanEstimateKbps = estimates > 0 ? delta(m0, m1, 'conclave_bwe_estimate_kbps_sum_total') / estimates : 0;
    console.log(
      [
        `before the cap: Bob decoding Alice: ${describeVideo(open)}`,
        `behind ${CAP_KBPS} kbit/s, after ${SETTLE_MS / 1000} s: Bob decoding Alice: ${describeVideo(video)}`,
        `  SFU to Bob: ${sentKbps.toFixed(0)} kbit/s into the cap, ${(p1.down.queueDropped - p0.down.queueDropped).toString()} dropped at it`,
        `  retransmissions ${retransmittedPerS.toFixed(1)}/s, dropped for the estimate ${droppedPerS.toFixed(1)}/s; ` +
          `mean estimate (both subscribers) ${meanEstimateKbps.toFixed(0)} kbit/s; layer switches down ` +
          `${(m1.get('conclave_layer_switches_down_total') ?? 0).toString()}, up ${(m1.get('conclave_layer_switches_up_total') ?? 0).toString()}, ` +
          `probe clusters ${(m1.get('conclave_bwe_probe_clusters_total') ?? 0).toString()}`,
      ].join('\n'),
    );
    // The lowest layer (a quarter of the camera's width), decoded at a usable rate.
    expect(video.frameWidth).toBeGreaterThan(0);
    expect(video.frameWidth).toBeLessThanOrEqual(Math.max(open.frameWidth / 2, 240));
    expect(video.fps).toBeGreaterThanOrEqual(FPS_FLOOR);
    // The SFU sends about what the link carries, and repairs within it.
    expect(sentKbps).toBeLessThan(CAP_KBPS * 1.5);
    expect(retransmittedPerS).toBeLessThan(50);
  });
});

/** 20x the baseline before (0.2-0.3 fps); the lowest layer runs at the camera's 30 fps when it fits. */
const FPS_FLOOR = 5;
