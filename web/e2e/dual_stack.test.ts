// Dual stack (issue 9, item 5): the server announces an IPv4 and an IPv6 address, its media worker
// listens on one "::" socket, and a browser whose network drops all IPv4 UDP still gets its media
// through: over IPv6, to the second candidate.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Contexts, joinAs, launchBrowser, selfId, startMeeting, waitForRoster, waitUntil } from './browser';
import { findTrack, pageStats } from './hook';
import { createClientNetwork, inLab, labAddress, labAddress6, type ClientNetwork } from './lab';
import { serverHasMedia, startServer, stopAndRemove, type RunningServer } from './server';

describe.skipIf(!inLab() || !labAddress6() || !serverHasMedia())('a dual-stack server', () => {
  let net: ClientNetwork;
  let labBrowser: Browser;
  let clientBrowser: Browser;
  let server: RunningServer;
  const contexts = new Contexts();

  beforeAll(async () => {
    net = createClientNetwork('v6only', { blockUdp4: true });
    labBrowser = await launchBrowser();
    clientBrowser = await launchBrowser({ executablePath: net.chromiumPath });
    server = await startServer({ mediaAnnounce: [labAddress() ?? '', labAddress6() ?? ''] });
  });

  afterAll(async () => {
    await contexts.closeAll();
    await labBrowser?.close();
    await clientBrowser?.close();
    await stopAndRemove(server);
    net?.close();
  });

  it('reaches a browser whose network has IPv6 only for UDP', async () => {
    const alice = await contexts.page(labBrowser);
    const bob = await contexts.page(clientBrowser);
    const link = await startMeeting(alice, server.origin);
    await joinAs(alice, 'Alice', { link, preview: true });
    // Signaling over IPv4 (TCP is not blocked); media can only use the IPv6 candidate.
    await joinAs(bob, 'Bob', { link: link.replace(server.origin, server.labOrigin ?? ''), preview: true });
    await waitForRoster(alice, ['Alice (you)', 'Bob']);
    await waitForRoster(bob, ['Alice', 'Bob (you)']);
    const ids = { alice: await selfId(alice), bob: await selfId(bob) };
    for (const [page, from] of [
      [alice, ids.bob],
      [bob, ids.alice],
    ] as const) {
      await waitUntil(
        `video from ${from}`,
        () => pageStats(page),
        (s) => (findTrack(s.received, from, 'camera')?.framesDecoded ?? 0) > 0,
      );
    }
  });
});
