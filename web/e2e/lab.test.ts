// The network lab itself (scripts/e2e-lab.sh, e2e/lab.ts): a browser on a client network reaches
// the server by the lab's address, and a client network's firewall drops what it is told to drop.
// The tests that rely on the lab (Firefox, ICE-TCP, TURN, address changes) stand on these.
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contexts, joinAs, launchBrowser, selfId, startMeeting, waitForRoster, waitUntil } from './browser';
import { findTrack, pageStats } from './hook';
import { createClientNetwork, inLab, labAddress, type ClientNetwork } from './lab';
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
