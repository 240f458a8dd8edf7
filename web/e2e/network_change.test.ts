// A browser whose network changes mid-call (issue 9, item 5). Bob's Chromium runs in a client
// namespace of the lab (e2e/lab.ts), Alice's in the lab; mid-call Bob's network changes:
// - a NAT rebinding: his UDP flows get new source ports (his browser does not notice). The server
//   must follow his authenticated checks from the new port;
// - an address change: his address is replaced by another one (his sockets, the WebSocket too,
//   are dead). Only the client can recover: a new signaling connection and an ICE restart.
// Both sides must decode each other's video again; the gap (the longest time a side's decoded-frame
// counter stood still) is measured and printed.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contexts, joinAs, launchBrowser, selfId, startMeeting, waitForRoster, waitUntil, WAIT_MS } from './browser';
import { findTrack, pageStats } from './hook';
import { createClientNetwork, inLab, type ClientNetwork } from './lab';
import { serverHasMedia, startServer, stopAndRemove, type RunningServer } from './server';

/** Frames of `from`'s camera decoded on `page` so far. */
async function framesFrom(page: Page, from: string): Promise<number> {
  return findTrack((await pageStats(page)).received, from, 'camera')?.framesDecoded ?? 0;
}

/** Decoded frames that count as "video flows again" (about half a second of the fake camera). */
const FRAMES_AGAIN = 15;
/** A counter that stands still this long has stalled (the fake camera sends 30 frames a second). */
const STALL_MS = 1000;
/** Polling interval for the counters: the resolution of the measured gap. */
const POLL_MS = 100;

interface Side {
  name: string;
  page: Page;
  /** The page whose camera `page` decodes. */
  other: Page;
  /** The other's participant ID: a new one after a rejoin. */
  from: string;
  rejoined: boolean;
  last: number;
  lastChange: number;
  longestStill: number;
  /** The counter when it started moving again after the longest stall. */
  resumedAt: number | null;
}

/**
 * Alice (lab) and Bob (client network) in a call, decoding each other; then `disrupt()`. Resolves
 * with each side's longest gap once both decode again (or never stalled for 10 s); fails after
 * WAIT_MS, printing the end of the server's log.
 */
async function gapsAfter(
  server: RunningServer,
  aliceBrowser: Browser,
  bobBrowser: Browser,
  contexts: Contexts,
  disrupt: () => void,
): Promise<Record<string, number>> {
  const alice = await contexts.page(aliceBrowser);
  const bob = await contexts.page(bobBrowser);
  const link = await startMeeting(alice, server.origin);
  await joinAs(alice, 'Alice', { link, preview: true });
  await joinAs(bob, 'Bob', { link: link.replace(server.origin, server.labOrigin ?? ''), preview: true });
  await waitForRoster(alice, ['Alice (you)', 'Bob']);
  await waitForRoster(bob, ['Alice', 'Bob (you)']);
  const ids = { alice: await selfId(alice), bob: await selfId(bob) };
  const side = (name: string, page: Page, other: Page, from: string): Side => ({
    name,
    page,
    other,
    from,
    rejoined: false,
    last: 0,
    lastChange: 0,
    longestStill: 0,
    resumedAt: null,
  });
  const sides = [side('Alice decoding Bob', alice, bob, ids.bob), side('Bob decoding Alice', bob, alice, ids.alice)];
  for (const s of sides) {
    await waitUntil(
      `${s.name}: first frames`,
      () => framesFrom(s.page, s.from),
      (n) => n >= FRAMES_AGAIN,
    );
  }

  const changedAt = Date.now();
  for (const s of sides) {
    s.last = await framesFrom(s.page, s.from);
    s.lastChange = changedAt;
  }
  disrupt();

  const done = (s: Side, now: number): boolean =>
    s.resumedAt !== null
      ? s.last >= s.resumedAt + FRAMES_AGAIN
      : s.longestStill < STALL_MS && now - changedAt > 10_000 && now - s.lastChange < STALL_MS;
  const deadline = changedAt + WAIT_MS;
  for (;;) {
    const now = Date.now();
    for (const s of sides) {
      // A side that had to rejoin has a new ID: its frames count from zero again.
      const from = await selfId(s.other);
      if (from !== '' && from !== s.from) {
        s.from = from;
        s.rejoined = true;
        s.last = 0;
      }
      const frames = await framesFrom(s.page, s.from);
      if (frames > s.last) {
        const still = now - s.lastChange;
        if (still >= STALL_MS && still > s.longestStill) {
          s.longestStill = still;
          s.resumedAt = s.last;
        }
        s.last = frames;
        s.lastChange = now;
      }
    }
    if (sides.every((s) => done(s, now))) break;
    if (now > deadline) {
      console.log(`server output (end):\n${server.output().slice(-6000)}`);
      const state = sides.map((s) => `${s.name}: ${s.last} frames, still for ${now - s.lastChange} ms`).join('; ');
      throw new Error(`the call did not recover within ${WAIT_MS} ms (${state})`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return Object.fromEntries(sides.map((s) => [s.rejoined ? `${s.name} (after a rejoin)` : s.name, s.longestStill]));
}

describe.skipIf(!inLab() || !serverHasMedia())('a network change mid-call', () => {
  const networks: ClientNetwork[] = [];
  const browsers: Browser[] = [];
  let labBrowser: Browser;
  let server: RunningServer;
  const contexts = new Contexts();

  beforeAll(async () => {
    labBrowser = await launchBrowser();
    browsers.push(labBrowser);
    server = await startServer();
  });

  afterAll(async () => {
    await contexts.closeAll();
    for (const browser of browsers.splice(0)) await browser.close();
    await stopAndRemove(server);
    for (const net of networks.splice(0)) net.close();
  });

  async function clientBrowser(name: string, natUdp: boolean): Promise<{ net: ClientNetwork; browser: Browser }> {
    const net = createClientNetwork(name, { natUdp });
    networks.push(net);
    const browser = await launchBrowser({ executablePath: net.chromiumPath });
    browsers.push(browser);
    return { net, browser };
  }

  it('follows a NAT rebinding: the server moves media to the new port, both decode again', async () => {
    const { net, browser } = await clientBrowser('nat', true);
    const gaps = await gapsAfter(server, labBrowser, browser, contexts, () => net.rebindUdp());
    for (const [name, gap] of Object.entries(gaps)) {
      console.log(`NAT rebinding: ${name}: longest gap ${gap} ms (±${POLL_MS} ms)`);
    }
  });

  // Bob's media connections go `disconnected`; his client finds his WebSocket dead too (a quick
  // ping gets no answer, src/media/call.ts) and rejoins from the new address: Alice decodes him
  // under his new participant ID.
  it('keeps the call when the client’s address changes, both decoding each other again', async () => {
    const { net, browser } = await clientBrowser('mover', false);
    const newAddress = net.address.replace(/\.2$/, '.3');
    const gaps = await gapsAfter(server, labBrowser, browser, contexts, () => net.setAddress(newAddress));
    for (const [name, gap] of Object.entries(gaps)) {
      console.log(`address change: ${name}: longest gap ${gap} ms (±${POLL_MS} ms)`);
    }
    expect(net.address).toBe(newAddress);
  });
});
