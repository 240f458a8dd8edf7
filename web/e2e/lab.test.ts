// The network lab itself (scripts/e2e-lab.sh, e2e/lab.ts): a browser on a client network reaches
// the server by the lab's address, and a client network's firewall drops what it is told to drop.
// The tests that rely on the lab (Firefox, ICE-TCP, TURN, address changes) stand on these.
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contexts, joinAs, launchBrowser, selfId, startMeeting, waitForRoster, waitUntil } from './browser';
import { findTrack, pageStats } from './hook';
import { createClientNetwork, inLab, labAddress, linkFigures, type ClientNetwork } from './lab';
import { serverHasMedia, startServer, stopAndRemove, type RunningServer } from './server';

/** Runs node with `script` inside a client network; resolves when it exits. */
function nodeIn(net: ClientNetwork, script: string): Promise<void> {
  return new Promise((done, fail) => {
    execFile('ip', ['netns', 'exec', net.namespace, process.execPath, '-e', script], (error) => {
      if (error) fail(new Error(`node in ${net.namespace} failed: ${error.message}`));
      else done();
    });
  });
}

/** Runs node with `script` inside a client network; resolves with what it printed. */
function nodeOut(net: ClientNetwork, script: string): Promise<string> {
  return new Promise((done, fail) => {
    execFile('ip', ['netns', 'exec', net.namespace, process.execPath, '-e', script], (error, stdout) => {
      if (error) fail(new Error(`node in ${net.namespace} failed: ${error.message}`));
      else done(stdout);
    });
  });
}

describe.skipIf(!inLab())('the network lab', () => {
  const networks: ClientNetwork[] = [];

  afterAll(() => {
    for (const net of networks.splice(0)) net.close();
  });

  it('drops a client network’s UDP when told to, and nothing else', async () => {
    const lab = labAddress() ?? '';
    const open = createClientNetwork('open');
    const closed = createClientNetwork('noudp', { blockUdp: true });
    networks.push(open, closed);

    const datagrams: string[] = [];
    const udp = createSocket('udp4');
    udp.on('message', (message) => datagrams.push(message.toString()));
    await new Promise<void>((done) => udp.bind(0, lab, done));
    const udpPort = udp.address().port;
    const connections: string[] = [];
    const tcp: Server = createServer((socket) => {
      socket.on('data', (data) => connections.push(data.toString()));
    });
    await new Promise<void>((done) => tcp.listen(0, lab, done));
    const tcpPort = (tcp.address() as { port: number }).port;

    // Each client sends one datagram, then opens a TCP connection that says who it is.
    const send = (name: string) => `
      const dgram = require('node:dgram'); const net = require('node:net');
      const s = dgram.createSocket('udp4');
      s.send('${name}', ${udpPort}, '${lab}', () => {
        s.close();
        const c = net.connect(${tcpPort}, '${lab}', () => c.end('${name}'));
      });`;
    await nodeIn(open, send('open'));
    await nodeIn(closed, send('closed'));
    await waitUntil(
      'both TCP connections and the open network’s datagram',
      () => Promise.resolve({ connections: [...connections].sort(), datagrams: [...datagrams] }),
      (s) => s.connections.length === 2 && s.datagrams.includes('open'),
    );
    expect(connections.sort()).toEqual(['closed', 'open']);
    expect(datagrams).toEqual(['open']);
    udp.close();
    tcp.close();
  });

  it('impairs a client network’s UDP as asked: loss, delay and jitter, and a rate cap', async () => {
    const lab = labAddress() ?? '';
    const net = createClientNetwork('impair');
    networks.push(net);
    // An echo server in the lab stands for the media port: what comes in goes back.
    const echo = createSocket('udp4');
    echo.on('message', (message, from) => echo.send(message, from.port, from.address));
    await new Promise<void>((done) => echo.bind(0, lab, done));
    const port = echo.address().port;
    const path = await net.impairUdp(port, {
      up: { lossPercent: 10, delayMs: 100, jitterMs: 20 },
      down: { lossPercent: 10, delayMs: 100, jitterMs: 20 },
    });

    // The client sends `count` datagrams at `perSecond` and reports how many came back.
    const client = (count: number, perSecond: number, bytes: number) => `
      const s = require('node:dgram').createSocket('udp4');
      let back = 0; let sent = 0;
      s.on('message', () => back++);
      s.bind(0, () => {
        const t = setInterval(() => {
          for (let i = 0; i < ${perSecond / 100} && sent < ${count}; i++, sent++)
            s.send(Buffer.alloc(${bytes}), ${port}, '${lab}');
          if (sent >= ${count}) { clearInterval(t); setTimeout(() => { console.log(back); s.close(); }, 1000); }
        }, 10);
      });`;
    const before = await path.counters();
    const back = Number((await nodeOut(net, client(5000, 1000, 200))).trim());
    const after = await path.counters();
    const up = linkFigures(before, after, 'up');
    const down = linkFigures(before, after, 'down');
    console.log('forwarder, 10 % loss and 100 ms ± 20 ms each way:', { up, down, echoed: back });
    expect(up.packetsIn).toBe(5000);
    expect(down.packetsIn).toBe(up.packetsOut);
    expect(back).toBe(down.packetsOut);
    for (const side of [up, down]) {
      // 5000 datagrams at 10 %: the standard deviation of the fraction is 0.4 %.
      expect(Math.abs(side.lossFraction - 0.1)).toBeLessThan(0.02);
      expect(Math.abs(side.delayMeanMs - 100)).toBeLessThan(10);
      // A uniform ±20 ms has a standard deviation of 11.5 ms; timers add a little.
      expect(side.delayStdMs).toBeGreaterThan(8);
      expect(side.delayStdMs).toBeLessThan(20);
    }
    const all = after.down;
    // Never less than asked (80 ms), but for the forwarder's timers set up to 5 ms early and their
    // millisecond resolution.
    expect(all.delayMinMs).toBeGreaterThanOrEqual(74);

    // Changed mid-way: no loss or delay up, a 300 kbit/s cap down (the echo doubles nothing, so
    // 1000 datagrams/s of 200 bytes, 1.6 Mbit/s, overflow it).
    await path.set({ down: { rateKbps: 300 } });
    const capped = await path.counters();
    const backCapped = Number((await nodeOut(net, client(3000, 1000, 200))).trim());
    const end = await path.counters();
    const upCapped = linkFigures(capped, end, 'up');
    const downCapped = linkFigures(capped, end, 'down');
    console.log('forwarder, a 300 kbit/s cap down:', { up: upCapped, down: downCapped, echoed: backCapped });
    expect(upCapped.lossFraction).toBe(0);
    expect(upCapped.packetsOut).toBe(3000);
    expect(downCapped.queueDropped).toBeGreaterThan(0);
    expect(downCapped.packetsOut + downCapped.queueDropped).toBe(downCapped.packetsIn);
    // What left within the cap: 3 s of sending plus the 1 s wait, at most 300 kbit/s (+ its buffer).
    expect(downCapped.packetsOut * 200 * 8).toBeLessThanOrEqual(300_000 * ((end.atMs - capped.atMs) / 1000) + 7500 * 8);
    // ...and the link was kept busy: at least 80 % of 3 s at the cap.
    expect(downCapped.packetsOut * 200 * 8).toBeGreaterThan(0.8 * 300_000 * 3);
    expect(backCapped).toBe(downCapped.packetsOut);
    echo.close();
  });

  it('caps a client network’s link with tbf when asked, and lifts the cap', async () => {
    const lab = labAddress() ?? '';
    const net = createClientNetwork('shaped');
    networks.push(net);
    const arrivals: { at: number; bytes: number }[] = [];
    const sink = createSocket('udp4');
    sink.on('message', (message) => arrivals.push({ at: performance.now(), bytes: message.length }));
    await new Promise<void>((done) => sink.bind(0, lab, done));
    const port = sink.address().port;
    // 1000 datagrams of 1000 bytes in about a second (8 Mbit/s), from the client to the lab.
    const burst = `
      const s = require('node:dgram').createSocket('udp4');
      let sent = 0;
      const t = setInterval(() => {
        for (let i = 0; i < 10 && sent < 1000; i++, sent++) s.send(Buffer.alloc(1000), ${port}, '${lab}');
        if (sent >= 1000) { clearInterval(t); setTimeout(() => s.close(), 500); }
      }, 10);`;
    /** kbit/s between the first and the last arrival, and how many arrived. */
    const measure = async () => {
      arrivals.length = 0;
      await nodeOut(net, burst);
      // Drained once no datagram came in 300 ms (the tbf buffer holds 200 ms).
      let last = -1;
      await waitUntil(
        'the link to drain',
        async () => {
          await new Promise((r) => setTimeout(r, 300));
          const stable = arrivals.length === last;
          last = arrivals.length;
          return stable;
        },
        (stable) => stable,
      );
      const seconds = (arrivals[arrivals.length - 1]!.at - arrivals[0]!.at) / 1000;
      return { count: arrivals.length, kbps: (arrivals.reduce((sum, a) => sum + a.bytes, 0) * 8) / 1000 / seconds };
    };

    net.shape({ upKbps: 800 });
    const capped = await measure();
    net.shape({ upKbps: null });
    const free = await measure();
    console.log('tbf, 800 kbit/s up:', capped, 'then lifted:', free);
    // The cap held (1000-byte datagrams are 1028 bytes on the wire) and dropped the excess.
    expect(capped.kbps).toBeLessThan(800 * 1.1);
    expect(capped.kbps).toBeGreaterThan(800 * 0.7);
    expect(capped.count).toBeLessThan(500);
    expect(free.count).toBe(1000);
    sink.close();
  });

  describe.skipIf(!serverHasMedia())('a browser on a client network', () => {
    let labBrowser: Browser;
    let clientBrowser: Browser;
    let server: RunningServer;
    const contexts = new Contexts();

    beforeAll(async () => {
      const net = createClientNetwork('client');
      networks.push(net);
      labBrowser = await launchBrowser();
      clientBrowser = await launchBrowser({ executablePath: net.chromiumPath });
      server = await startServer();
    });

    afterAll(async () => {
      await contexts.closeAll();
      await labBrowser?.close();
      await clientBrowser?.close();
      await stopAndRemove(server);
    });

    it('meets a browser in the lab, both decoding each other', async () => {
      const alice = await contexts.page(labBrowser);
      const bob = await contexts.page(clientBrowser);
      const link = await startMeeting(alice, server.origin);
      await joinAs(alice, 'Alice', { link, preview: true });
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
});
