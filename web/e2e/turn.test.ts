// TURN through a local coturn, in the network lab (scripts/e2e-lab.sh): the server hands out
// time-limited credentials (TURN REST API) for a coturn listening on the lab's address. Bob's
// browser sits on a client network that drops all its UDP and its TCP to the media port, so
// neither UDP nor ICE-TCP reach the SFU: only TURN over TCP does. Alice's page is forced to relay
// (iceTransportPolicy 'relay' through the e2e build's hook). Both decode and decrypt each other's
// frames, every connection's selected candidate is a relayed one, and coturn accepted the
// server's credentials (it would refuse a wrong HMAC or an expired username).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contexts, joinAs, launchBrowser, selfId, startMeeting, Traffic, waitForRoster, waitUntil } from './browser';
import { cryptoStats, findTrack, pageStats, selectedCandidates, turnUsernames, type SelectedCandidate } from './hook';
import { createClientNetwork, inLab, labAddress, type ClientNetwork } from './lab';
import { freePort, serverHasMedia, startServer, stopAndRemove, type RunningServer } from './server';

const TURNSERVER = process.env['CONCLAVE_TURNSERVER'] ?? '/usr/bin/turnserver';

interface Coturn {
  port: number;
  secret: string;
  output(): string;
  stop(): Promise<void>;
}

/** True once something accepts TCP connections on address:port. */
function accepts(address: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, address);
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

/**
 * A coturn for this test only: a configuration in a temporary directory, listening on the lab's
 * address, TURN REST API credentials with a random secret, and relaying to the media server only
 * (every other peer address denied, as docs/coturn.conf.example does).
 */
async function startCoturn(address: string): Promise<Coturn> {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-coturn-'));
  const port = await freePort();
  const secret = randomBytes(24).toString('base64url');
  const config = [
    `listening-ip=${address}`,
    `relay-ip=${address}`,
    `listening-port=${port}`,
    'min-port=50000',
    'max-port=50999',
    'realm=conclave.test',
    'use-auth-secret',
    `static-auth-secret=${secret}`,
    'fingerprint',
    'no-cli',
    'no-tls',
    'no-dtls',
    'no-multicast-peers',
    'denied-peer-ip=0.0.0.0-255.255.255.255',
    `allowed-peer-ip=${address}`,
    `userdb=${join(dir, 'turndb')}`,
    `pidfile=${join(dir, 'turnserver.pid')}`,
    'log-file=stdout',
    'simple-log',
    '',
  ].join('\n');
  const configFile = join(dir, 'turnserver.conf');
  writeFileSync(configFile, config);
  const child: ChildProcess = spawn(TURNSERVER, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let running = true;
  const exited = new Promise<void>((done) => child.once('exit', () => ((running = false), done())));
  await waitUntil(
    'coturn listening',
    async () => {
      if (!running) throw new Error(`coturn exited at start:\n${output}`);
      return accepts(address, port);
    },
    (ok) => ok,
  );
  return {
    port,
    secret,
    output: () => output,
    stop: async () => {
      if (running) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe.skipIf(!inLab() || !serverHasMedia())('TURN through a local coturn', () => {
  let coturn: Coturn;
  let server: RunningServer;
  let net: ClientNetwork;
  let labBrowser: Browser;
  let blockedBrowser: Browser;
  let secretDir: string;
  const contexts = new Contexts();

  beforeAll(async () => {
    if (!existsSync(TURNSERVER)) throw new Error(`${TURNSERVER} is missing: install Debian's coturn (make test does)`);
    const lab = labAddress() ?? '';
    const mediaPort = await freePort();
    // UDP blocked (so no UDP media, no UDP TURN) and TCP to the media port blocked (so no ICE-TCP):
    // what is left is TURN over TCP to coturn and HTTPS to the server.
    net = createClientNetwork('turn', { blockUdp: true, blockTcpPorts: [mediaPort] });
    // A new link's IPv6 link-local address appears after duplicate address detection; Chromium
    // takes that for a network change and aborts a navigation (ERR_NETWORK_CHANGED). Wait it out.
    await waitUntil(
      'no tentative addresses in the lab and the client network',
      () =>
        Promise.resolve(
          execFileSync('ip', ['addr', 'show', 'tentative'], { encoding: 'utf8' }) +
            net.run(['ip', 'addr', 'show', 'tentative']),
        ),
      (text) => text.trim() === '',
    );
    coturn = await startCoturn(lab);
    // The secret travels as a file, as the README advises (not on the command line).
    secretDir = mkdtempSync(join(tmpdir(), 'conclave-turn-secret-'));
    writeFileSync(join(secretDir, 'secret'), `${coturn.secret}\n`);
    server = await startServer({
      extraArgs: [
        '--media-port',
        String(mediaPort),
        '--turn-urls',
        `turn:${lab}:${coturn.port}?transport=tcp`,
        '--turn-secret-file',
        join(secretDir, 'secret'),
        // The shortest lifetime: pages renew their credential after 30 s, within this test.
        '--turn-credential-seconds',
        '60',
      ],
    });
    labBrowser = await launchBrowser();
    blockedBrowser = await launchBrowser({ executablePath: net.chromiumPath });
  });

  afterAll(async () => {
    await contexts.closeAll();
    await labBrowser?.close();
    await blockedBrowser?.close();
    net?.close();
    await stopAndRemove(server);
    await coturn?.stop();
    if (secretDir) rmSync(secretDir, { recursive: true, force: true });
  });

  const relayed = (c: SelectedCandidate | null): boolean => c?.localType === 'relay' && c.relayProtocol === 'tcp';

  it('connects a browser that can reach neither UDP nor the media port, end-to-end encrypted', async () => {
    const traffic = new Traffic();
    const relayContext = await contexts.context(labBrowser, { traffic });
    await relayContext.addInitScript(() => {
      (window as unknown as { __conclaveTestIcePolicy?: string }).__conclaveTestIcePolicy = 'relay';
    });
    const alice: Page = await relayContext.newPage();
    const bob: Page = await contexts.page(blockedBrowser, { traffic });
    const link = await startMeeting(alice, server.origin);
    await joinAs(alice, 'Alice', { link, preview: true });
    await bob.goto(link.replace(server.origin, server.labOrigin ?? ''));
    await bob.getByTestId('preview-video').waitFor();
    const joinedAt = Date.now();
    await joinAs(bob, 'Bob');
    await waitForRoster(alice, ['Alice (you)', 'Bob']);
    await waitForRoster(bob, ['Alice', 'Bob (you)']);
    const ids = { alice: await selfId(alice), bob: await selfId(bob) };

    const firstFrame: Record<string, number> = {};
    await Promise.all(
      (
        [
          ['bob <- alice', bob, ids.alice],
          ['alice <- bob', alice, ids.bob],
        ] as const
      ).map(async ([key, page, from]) => {
        await waitUntil(
          `${key}: first decoded frame`,
          () => pageStats(page),
          (s) => (findTrack(s.received, from, 'camera')?.framesDecoded ?? 0) > 0,
          { intervalMs: 50 },
        );
        firstFrame[key] = Date.now() - joinedAt;
      }),
    );

    // Every connection of both pages goes through coturn, over TCP.
    for (const [name, page] of [
      ['alice', alice],
      ['bob', bob],
    ] as const) {
      const selected = await waitUntil(
        `${name}: relayed candidate pairs`,
        () => selectedCandidates(page),
        (s) => relayed(s.publish) && relayed(s.subscribe),
      );
      expect(selected.publish?.remoteAddress).toBe(labAddress());
    }

    // Media through TURN stays end-to-end encrypted: each page decrypts the other's frames with
    // its SFrame keys (the SFU and coturn only carried ciphertext) and none fail.
    for (const [page, from] of [
      [alice, ids.bob],
      [bob, ids.alice],
    ] as const) {
      const crypto = await waitUntil(
        'frames decrypted through TURN',
        () => cryptoStats(page),
        (c) =>
          (findTrack(c.tracks, from, 'camera')?.ok ?? 0) > 30 &&
          (findTrack(c.tracks, from, 'microphone')?.ok ?? 0) > 50,
      );
      expect(crypto.mode).toBe('script');
      expect(findTrack(crypto.tracks, from, 'camera')?.state).toBe('ok');
      await page.locator(`[data-testid="tile"][data-participant-id="${from}"][data-e2ee="encrypted"]`).waitFor();
    }

    // Halfway through the credential's lifetime each page asks for a new one and puts it into
    // both connections' configuration; the call goes on through coturn.
    for (const page of [alice, bob]) {
      const renewed = await waitUntil(
        'a renewed TURN credential',
        () =>
          Promise.resolve(
            traffic
              .framesReceivedBy(page)
              .map((f) => JSON.parse(f) as { type: string; turn?: { username: string } })
              .filter((m) => m.type === 'turn-credentials'),
          ),
        (list) => list.length > 0,
      );
      const username = renewed[0]?.turn?.username ?? '';
      expect(username).toMatch(/^\d+:[A-Za-z0-9_-]{12}$/);
      await waitUntil(
        'the renewed credential in both connections',
        () => turnUsernames(page),
        (u) => u.publish.join() === username && u.subscribe.join() === username,
      );
    }
    for (const [page, from] of [
      [alice, ids.bob],
      [bob, ids.alice],
    ] as const) {
      const before = findTrack((await pageStats(page)).received, from, 'camera')?.framesDecoded ?? 0;
      await waitUntil(
        'frames still decoded after the renewal',
        () => pageStats(page),
        (s) => (findTrack(s.received, from, 'camera')?.framesDecoded ?? 0) > before + 30,
      );
      expect(relayed((await selectedCandidates(page)).publish)).toBe(true);
    }
    expect(traffic.consoleErrors).toEqual([]);

    // A relay candidate exists only after coturn accepted an Allocate signed with the credential
    // the server issued: the relayed pairs above also prove that the HMAC and expiry are right.
    console.log(
      `TURN connect time (Bob's join to first decoded frame): bob <- alice ${firstFrame['bob <- alice']} ms, ` +
        `alice <- bob ${firstFrame['alice <- bob']} ms`,
    );
  });
});
