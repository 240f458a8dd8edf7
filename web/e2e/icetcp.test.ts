// ICE-TCP through the network lab (issue 9, item 4): a Chromium on a client network that drops all
// of its outgoing UDP still joins, over the media worker's passive TCP candidate (RFC 6544), and
// both pages decode each other's video. The same join from a network that lets UDP through is the
// baseline: both report the time from clicking Join to the first decoded frame each way.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contexts, joinAs, launchBrowser, selfId, startMeeting, waitForRoster, waitUntil } from './browser';
import { findTrack, pageStats } from './hook';
import { createClientNetwork, inLab, type ClientNetwork } from './lab';
import { serverHasMedia, startServer, stopAndRemove, type RunningServer } from './server';

type PcList = { __e2ePeerConnections?: RTCPeerConnection[] };

/** Keeps every RTCPeerConnection the page makes, so the test can read its selected pair. */
async function recordPeerConnections(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const Original = window.RTCPeerConnection;
    const list: RTCPeerConnection[] = [];
    (window as unknown as PcList).__e2ePeerConnections = list;
    window.RTCPeerConnection = class extends Original {
      constructor(configuration?: RTCConfiguration) {
        super(configuration);
        list.push(this);
      }
    };
  });
}

interface SelectedPair {
  local: { protocol: string; candidateType: string; tcpType: string | null };
  remote: { protocol: string; port: number };
}

/** The selected candidate pair of each of the page's connected peer connections. */
function selectedPairs(page: Page): Promise<SelectedPair[]> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as PcList).__e2ePeerConnections ?? [];
    const pairs: SelectedPair[] = [];
    for (const pc of pcs) {
      if (pc.connectionState !== 'connected') continue;
      const reports = new Map<string, Record<string, unknown>>();
      (await pc.getStats()).forEach((r: Record<string, unknown>) => reports.set(r['id'] as string, r));
      for (const r of reports.values()) {
        if (r['type'] !== 'transport' || typeof r['selectedCandidatePairId'] !== 'string') continue;
        const pair = reports.get(r['selectedCandidatePairId']);
        const local = reports.get(pair?.['localCandidateId'] as string);
        const remote = reports.get(pair?.['remoteCandidateId'] as string);
        if (!local || !remote) continue;
        pairs.push({
          local: {
            protocol: local['protocol'] as string,
            candidateType: local['candidateType'] as string,
            tcpType: (local['tcpType'] as string | undefined) ?? null,
          },
          remote: { protocol: remote['protocol'] as string, port: remote['port'] as number },
        });
      }
    }
    return pairs;
  });
}

async function firstDecodedFrame(page: Page, from: string): Promise<void> {
  await waitUntil(
    `video from ${from}`,
    () => pageStats(page),
    (s) => (findTrack(s.received, from, 'camera')?.framesDecoded ?? 0) > 0,
    { intervalMs: 50 },
  );
}

describe.skipIf(!inLab() || !serverHasMedia())('ICE-TCP in the network lab', () => {
  const networks: ClientNetwork[] = [];
  const browsers: Browser[] = [];
  let labBrowser: Browser;
  let server: RunningServer;
  const contexts = new Contexts();
  const times: Record<string, { aliceSeesBob: number; bobSeesAlice: number }> = {};

  beforeAll(async () => {
    labBrowser = await launchBrowser();
    server = await startServer();
  });

  afterAll(async () => {
    await contexts.closeAll();
    for (const b of [labBrowser, ...browsers]) await b?.close();
    for (const net of networks.splice(0)) net.close();
    await stopAndRemove(server);
    if (Object.keys(times).length > 0) console.log(`join to first decoded frame (ms): ${JSON.stringify(times)}`);
  });

  /** Alice (in the lab) starts a meeting; Bob joins from `net`; both must decode each other. */
  async function meet(net: ClientNetwork, label: string): Promise<{ alice: Page; bob: Page }> {
    const clientBrowser = await launchBrowser({ executablePath: net.chromiumPath });
    browsers.push(clientBrowser);
    const alice = await contexts.page(labBrowser);
    const bob = await contexts.page(clientBrowser);
    await recordPeerConnections(alice);
    await recordPeerConnections(bob);
    const link = await startMeeting(alice, server.origin);
    await joinAs(alice, 'Alice', { link, preview: true });
    await bob.goto(link.replace(server.origin, server.labOrigin ?? ''));
    await bob.getByTestId('preview-video').waitFor();
    const joinedAt = Date.now();
    await joinAs(bob, 'Bob');
    await waitForRoster(alice, ['Alice (you)', 'Bob']);
    const ids = { alice: await selfId(alice), bob: await selfId(bob) };
    const [bobSeesAlice, aliceSeesBob] = await Promise.all([
      firstDecodedFrame(bob, ids.alice).then(() => Date.now() - joinedAt),
      firstDecodedFrame(alice, ids.bob).then(() => Date.now() - joinedAt),
    ]);
    times[label] = { aliceSeesBob, bobSeesAlice };
    return { alice, bob };
  }

  it('connects over UDP from an open network (the baseline)', async () => {
    const open = createClientNetwork('udpok');
    networks.push(open);
    const { bob } = await meet(open, 'udp');
    const pairs = await selectedPairs(bob);
    expect(pairs.length).toBeGreaterThan(0);
    for (const p of pairs) expect(p.local.protocol).toBe('udp');
  });

  it('connects over ICE-TCP when every outgoing UDP packet is dropped', async () => {
    const blocked = createClientNetwork('noudp', { blockUdp: true });
    networks.push(blocked);
    const { alice, bob } = await meet(blocked, 'tcp');
    // Both of Bob's peer connections (publish and subscribe) run over TCP to the worker's
    // passive candidate; Alice, in the lab, keeps UDP.
    const pairs = await waitUntil(
      'Bob’s selected pairs',
      () => selectedPairs(bob),
      (p) => p.length >= 2,
    );
    for (const p of pairs) {
      expect(p.local.protocol).toBe('tcp');
      expect(p.remote.protocol).toBe('tcp');
    }
    for (const p of await selectedPairs(alice)) expect(p.local.protocol).toBe('udp');
  });
});
