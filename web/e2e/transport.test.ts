// Issue 11, the media transport: Chromium negotiates RTX toward subscribers and transport-wide
// congestion control both ways with the SFU, and still decodes what the SFU rewrites (each
// subscriber transport renumbers every packet's transport-wide sequence number). The pages'
// RTCPeerConnections are kept by an init script so that their negotiated descriptions and
// statistics can be read; nothing in the client changes.
import type { Page } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contexts, joinAs, launchBrowser, selfId, startMeeting, waitForRoster, waitUntil } from './browser';
import { findTrack, pageStats } from './hook';
import { serverHasMedia, startServer, stopAndRemove, type RunningServer } from './server';

const TRANSPORT_CC = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';

interface Connection {
  local: string;
  remote: string;
  remoteIsOffer: boolean;
  availableOutgoingBitrate: number;
  videoRtxSsrcs: number;
}

/** Keeps every RTCPeerConnection the page creates in window.__pcs. */
async function keepConnections(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const Original = window.RTCPeerConnection;
    const kept: RTCPeerConnection[] = [];
    (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs = kept;
    window.RTCPeerConnection = class extends Original {
      constructor(config?: RTCConfiguration) {
        super(config);
        kept.push(this);
      }
    };
  });
}

function connections(page: Page): Promise<Connection[]> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const out = [];
    for (const pc of pcs) {
      if (pc.connectionState === 'closed' || !pc.currentRemoteDescription) continue;
      let available = 0;
      (await pc.getStats()).forEach((s: { type: string; availableOutgoingBitrate?: number; nominated?: boolean }) => {
        if (s.type === 'candidate-pair' && s.nominated && s.availableOutgoingBitrate)
          available = Math.max(available, s.availableOutgoingBitrate);
      });
      const remote = pc.currentRemoteDescription.sdp;
      out.push({
        local: pc.currentLocalDescription?.sdp ?? '',
        remote,
        remoteIsOffer: pc.currentRemoteDescription.type === 'offer',
        availableOutgoingBitrate: available,
        videoRtxSsrcs: (remote.match(/a=ssrc-group:FID /g) ?? []).length,
      });
    }
    return out;
  });
}

describe.skipIf(!serverHasMedia())('media transport: RTX and transport-cc', () => {
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

  it('negotiates RTX and transport-cc with Chromium, which decodes what the SFU renumbers', async () => {
    const alice = await contexts.page(browser);
    const bob = await contexts.page(browser);
    await keepConnections(alice);
    await keepConnections(bob);
    const link = await startMeeting(alice, server.origin);
    await joinAs(alice, 'Alice', { link, preview: true });
    const aliceJoined = Date.now();
    await joinAs(bob, 'Bob', { link, preview: true });
    await waitForRoster(bob, ['Alice', 'Bob (you)']);
    const aliceId = await selfId(alice);
    await waitUntil(
      'bob decodes alice',
      () => pageStats(bob),
      (s) => (findTrack(s.received, aliceId, 'camera')?.framesDecoded ?? 0) > 10,
    );

    const bobs = await connections(bob);
    const subscribe = bobs.find((c) => c.remoteIsOffer);
    const publish = bobs.find((c) => !c.remoteIsOffer);
    expect(subscribe).toBeDefined();
    expect(publish).toBeDefined();
    // Subscribe: the server offers transport-cc and an RTX stream per video track; Chromium keeps them.
    expect(subscribe!.remote).toContain(TRANSPORT_CC);
    expect(subscribe!.local).toContain(TRANSPORT_CC);
    expect(subscribe!.local).toMatch(/a=rtcp-fb:96 transport-cc/);
    expect(subscribe!.local).toMatch(/a=rtpmap:97 rtx\/90000/);
    expect(subscribe!.videoRtxSsrcs).toBeGreaterThanOrEqual(1);
    expect(subscribe!.remote).not.toContain('goog-remb');
    // Publish: the server answers transport-cc (no REMB) and RTX.
    expect(publish!.remote).toContain(TRANSPORT_CC);
    expect(publish!.remote).toMatch(/a=rtcp-fb:\d+ transport-cc/);
    expect(publish!.remote).not.toContain('goog-remb');
    expect(publish!.remote).toMatch(/a=rtpmap:\d+ rtx\/90000/);

    // Alice's browser estimates its uplink from the SFU's transport-wide feedback alone (no REMB).
    // It stayed at ~83 kbit/s on h11-int, where the feedback named no SSRC of hers, reported probes on
    // unknown SSRCs lost and a receive batch's packets as arriving at once. Printed, not asserted
    // (yet): the series (s since joining: kbit/s) over up to 20 s, and when it passed 1.5 Mbit/s.
    const series: string[] = [];
    let rampedAfterMs: number | undefined;
    while (rampedAfterMs === undefined && Date.now() - aliceJoined < 20_000) {
      const publishAlice = (await connections(alice)).find((c) => !c.remoteIsOffer);
      const bps = publishAlice?.availableOutgoingBitrate ?? 0;
      series.push(`${((Date.now() - aliceJoined) / 1000).toFixed(1)}s:${Math.round(bps / 1000)}`);
      if (bps > 1_500_000) rampedAfterMs = Date.now() - aliceJoined;
      else await new Promise((resolve) => setTimeout(resolve, 500));
    }
    console.log(
      `alice's publish estimate (kbit/s): ${series.join(' ')}; above 1.5 Mbit/s ` +
        (rampedAfterMs === undefined ? 'not within 20 s' : `after ${rampedAfterMs} ms`),
    );
    const bobAlice = findTrack((await pageStats(bob)).received, aliceId, 'camera');
    console.log(`bob <- alice camera: framesDecoded ${bobAlice?.framesDecoded}`);
  });
});
