// The privacy receipt (issue 12 item 3) and what the server tells browsers (item 5), in real
// browsers against the real server:
// - two people meet, one shares a file, each opens "What the server knows about this meeting"
//   (English and German); the receipt's participant count and file size are the server's own
//   (/metrics, the stored file's length), and the downloaded JSON verifies with
//   `conclave verify-receipt` (and fails once changed);
// - every server → client message of a meeting where people join, knock, are let in, chat, share
//   a file, are muted and removed and leave carries no IP address, no endpoint and nothing of a
//   user agent. The one exception is the server's own media address in the SDP it sends (its ICE
//   candidates, `c=` and `o=` lines): that is where browsers must send media.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contexts, joinAs, launchBrowser, selfId, startMeeting, Traffic, waitForRoster } from './browser';
import { createClientNetwork, inLab, labAddress, labAddress6, type ClientNetwork } from './lab';
import {
  clientTraces,
  fetchInsecure,
  freePort,
  serverBinary,
  serverHasMedia,
  startServer,
  stopAndRemove,
  type RunningServer,
} from './server';

/** A metric's value from the plain-HTTP /metrics listener. */
function metric(port: number, name: string): Promise<number> {
  return new Promise((done, fail) => {
    get({ host: '127.0.0.1', port, path: '/metrics', timeout: 15000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => {
        const line = body.split('\n').find((l) => l.startsWith(`${name} `));
        if (line === undefined) fail(new Error(`${name} not in /metrics`));
        else done(Number(line.split(' ')[1]));
      });
      res.on('error', fail);
    }).on('error', fail);
  });
}

/** Opens the receipt panel on `page` and waits until it shows `participants` people. */
async function openReceipt(page: Page, participants: number): Promise<void> {
  await page.getByTestId('receipt-button').click();
  await expect
    .poll(() => page.getByTestId('receipt-participants').getAttribute('data-count'))
    .toBe(String(participants));
}

const IPV4 = /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])/g;
// Two or more colon-separated hex groups with a "::" or at least 6 colons: an IPv6 literal (with or
// without brackets and port).
const IPV6 = /(?<![0-9A-Za-z:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![0-9A-Za-z:])/gi;
const ENDPOINT = /(?:\]|\d):\d{2,5}\b/g;
const USER_AGENT = [
  'Mozilla/',
  'Chrome/',
  'Chromium/',
  'HeadlessChrome',
  'Firefox/',
  'AppleWebKit',
  'Safari/',
  'Gecko/',
];

/**
 * The server's own media address may appear in SDP it sends, on the lines that announce it; every
 * other address anywhere is a leak. `allowed`: the server's announced media addresses.
 */
function withoutAnnouncedAddresses(frame: string, allowed: string[]): string {
  let message: unknown;
  try {
    message = JSON.parse(frame);
  } catch {
    return frame;
  }
  if (typeof message !== 'object' || message === null) return frame;
  const m = message as Record<string, unknown>;
  if ((m['type'] === 'publish-answer' || m['type'] === 'subscribe-offer') && typeof m['sdp'] === 'string') {
    const lines = m['sdp'].split('\r\n').map((line) => {
      // The DTLS fingerprint is hex with colons (not an address): it is the server's certificate's.
      if (line.startsWith('a=fingerprint:')) return 'a=fingerprint:(server certificate)';
      // The origin line's address is a fixed placeholder (src/sdp/sdp.h), not anyone's address.
      if (line.startsWith('o=')) return line.replace(/ IN IP4 127\.0\.0\.1$/, ' IN IP4 (placeholder)');
      if (!line.startsWith('a=candidate:') && !line.startsWith('c=IN ')) return line;
      // A candidate names the server's address and media port; `c=` its address (or 0.0.0.0).
      let out = line.replace(/^c=IN IP4 0\.0\.0\.0$/, 'c=IN IP4 (any)');
      for (const address of allowed) {
        out = out.replace(new RegExp(` ${address.replace(/[.:]/g, '\\$&')} \\d+ typ `), ' (server) (port) typ ');
        out = out.replace(new RegExp(`^c=IN IP[46] ${address.replace(/[.:]/g, '\\$&')}$`), 'c=IN (server)');
      }
      return out;
    });
    m['sdp'] = lines.join('\r\n');
  }
  return JSON.stringify(m);
}

/** What in `frames` looks like an address, endpoint or user agent (or is one of `known`). */
export function leaks(frames: string[], allowed: string[], known: string[]): string[] {
  const found: string[] = [];
  for (const raw of frames) {
    const frame = withoutAnnouncedAddresses(raw, allowed);
    const hits = [
      ...(frame.match(IPV4) ?? []),
      ...(frame.match(IPV6) ?? []).filter((h) => h.includes('::') || h.split(':').length >= 4),
      ...(frame.match(ENDPOINT) ?? []),
      ...USER_AGENT.filter((ua) => frame.includes(ua)),
      ...known.filter((k) => k.length > 0 && frame.includes(k)),
    ];
    for (const hit of hits) found.push(`${hit} in ${raw.slice(0, 160)}`);
  }
  return found;
}

describe('the leak check', () => {
  it("finds a client address or a user agent in a server log line, not the server's own address", () => {
    const log = [
      '2026-12-03T18:00:00.000 info  [http] listening on https://10.213.0.1:8443',
      '2026-12-03T18:00:01.000 info  [ice] selected endpoint -',
    ].join('\n');
    expect(clientTraces(log)).toEqual([]);
    expect(clientTraces(`${log}\n... info  [ice] selected endpoint 10.213.4.2:50000`)).toHaveLength(1);
    expect(clientTraces(`${log}\n... debug [ws] hello from Mozilla/5.0 (X11; Linux x86_64)`)).toHaveLength(1);
  });

  it('finds an address, an endpoint and a user agent when a message has one', () => {
    const allowed = ['10.213.0.1'];
    expect(leaks(['{"type":"pong"}'], allowed, [])).toEqual([]);
    expect(leaks(['{"type":"welcome","server":"conclave/0.1.0"}'], allowed, [])).toEqual([]);
    expect(leaks(['{"type":"pong","from":"10.213.7.2"}'], allowed, [])).not.toEqual([]);
    expect(leaks(['{"type":"pong","from":"[fd00:213:7::2]:51234"}'], allowed, [])).not.toEqual([]);
    expect(leaks(['{"type":"pong","ua":"Mozilla/5.0 (X11; Linux x86_64)"}'], allowed, [])).not.toEqual([]);
    expect(leaks(['{"type":"pong","x":"secret-address"}'], allowed, ['secret-address'])).not.toEqual([]);
    // The server's own candidate in its SDP is allowed; the same address elsewhere is not.
    const sdp =
      'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\nc=IN IP4 10.213.0.1\r\n' +
      'a=fingerprint:sha-256 A3:36:6D:C2:52:52:7E:1E\r\na=candidate:1 1 udp 2130706431 10.213.0.1 40000 typ host\r\n';
    expect(leaks([JSON.stringify({ type: 'publish-answer', sdp })], allowed, [])).toEqual([]);
    // Another address in a candidate line, or the placeholder on another line, is a leak.
    const other = 'v=0\r\na=candidate:1 1 udp 2130706431 10.213.7.2 40000 typ host\r\na=x:127.0.0.1\r\n';
    expect(leaks([JSON.stringify({ type: 'subscribe-offer', sdp: other })], allowed, []).length).toBe(2);
    expect(leaks([JSON.stringify({ type: 'relay', payload: '10.213.0.1' })], allowed, [])).not.toEqual([]);
  });
});

describe('privacy receipt', () => {
  let browser: Browser;
  let server: RunningServer;
  let metricsPort = 0;
  const contexts = new Contexts();
  const networks: ClientNetwork[] = [];
  const browsers: Browser[] = [];
  let scratch = '';

  beforeAll(async () => {
    browser = await launchBrowser();
    metricsPort = await freePort();
    server = await startServer({
      // Debug: the log-line check below then sees everything but the trace-level payload tap.
      logLevel: 'debug',
      extraArgs: ['--metrics-listen', `127.0.0.1:${metricsPort}`, '--file-retention-seconds', '3600'],
    });
    scratch = await mkdtemp(join(tmpdir(), 'conclave-receipt-'));
  });

  afterAll(async () => {
    await contexts.closeAll();
    for (const other of browsers.splice(0)) await other.close();
    await browser?.close();
    await stopAndRemove(server);
    for (const net of networks.splice(0)) net.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('shows the server’s real state in both languages and downloads a receipt that verifies', async () => {
    const traffic = new Traffic();
    const alice = await contexts.page(browser, { traffic });
    const bob = await contexts.page(browser, { traffic, locale: 'de-DE' });
    const link = await startMeeting(alice, server.origin);
    await joinAs(alice, 'Alice', { link });
    await joinAs(bob, 'Bob', { link });
    await waitForRoster(alice, ['Alice (you)', 'Bob']);

    // Alice shares a file: the server stores its ciphertext.
    const content = Buffer.alloc(40_000, 7);
    await alice
      .getByTestId('file-input')
      .setInputFiles({ name: 'notes.bin', mimeType: 'application/octet-stream', buffer: content });
    await expect.poll(() => alice.getByTestId('chat-status').textContent()).toBe('notes.bin was shared.');
    const ready = traffic.framesReceived
      .map((f) => JSON.parse(f) as Record<string, unknown>)
      .find((m) => m['type'] === 'file-upload-ready');
    expect(ready).toBeDefined();
    const stored = await fetchInsecure(server.port, `/api/files/${String(ready?.['fileId'])}`);
    expect(stored.status).toBe(200);
    const storedBytes = Number(stored.headers['content-length']);
    expect(storedBytes).toBeGreaterThan(content.length); // ciphertext: IV and tag added

    await openReceipt(alice, 2);
    expect(await metric(metricsPort, 'conclave_participants')).toBe(2);
    const files = alice.getByTestId('receipt-files');
    expect(await files.getAttribute('data-count')).toBe('1');
    expect(await files.getAttribute('data-bytes')).toBe(String(storedBytes));
    expect(await alice.getByTestId('receipt-file').getAttribute('data-size')).toBe(String(storedBytes));
    expect(await alice.getByRole('heading', { name: 'What the server knows about this meeting' }).count()).toBe(1);
    const ids = [await selfId(alice), await selfId(bob)].sort();
    const shown = (await alice.getByTestId('receipt-participants').textContent()) ?? '';
    for (const id of ids) expect(shown).toContain(id);

    // Bob reads it in German; the panel closes with Escape and gives the focus back.
    await openReceipt(bob, 2);
    expect(await bob.getByRole('heading', { name: 'Was der Server über dieses Meeting weiß' }).count()).toBe(1);
    await bob.getByTestId('receipt-refresh').focus();
    await bob.keyboard.press('Escape');
    await expect.poll(() => bob.getByTestId('receipt-view').count()).toBe(0);
    expect(await bob.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('receipt-button');

    // The download is the signed JSON; the server's command checks it against the published key.
    const key = JSON.parse((await fetchInsecure(server.port, '/api/receipt-key')).body) as { fingerprint: string };
    expect(await alice.getByTestId('receipt-fingerprint').textContent()).toContain(key.fingerprint);
    const [download] = await Promise.all([
      alice.waitForEvent('download'),
      alice.getByTestId('receipt-download').click(),
    ]);
    const path = join(scratch, 'receipt.json');
    await download.saveAs(path);
    const saved = JSON.parse(await readFile(path, 'utf8')) as {
      receipt: { participants: { count: number }; files: { totalBytes: number } };
    };
    expect(saved.receipt.participants.count).toBe(2);
    expect(saved.receipt.files.totalBytes).toBe(storedBytes);
    const verify = (file: string) =>
      spawnSync(serverBinary(), ['verify-receipt', file, '--fingerprint', key.fingerprint], { encoding: 'utf8' });
    const good = verify(path);
    expect(good.status, `${good.stdout}${good.stderr}`).toBe(0);
    expect(good.stdout).toContain('valid');
    saved.receipt.participants.count = 1;
    const changed = join(scratch, 'changed.json');
    await writeFile(changed, JSON.stringify(saved));
    const bad = verify(changed);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('NOT VALID');

    const origin = new URL(server.origin).origin;
    for (const request of traffic.requests) {
      if (request.url.startsWith('data:') || request.url.startsWith('blob:')) continue;
      expect(new URL(request.url).origin, request.url).toBe(origin);
    }
  });

  it.skipIf(!inLab() || !serverHasMedia())(
    "no server → client message and no log line carries a client's address or user agent",
    async () => {
      const traffic = new Traffic();
      const net = createClientNetwork('receipt');
      networks.push(net);
      const elsewhere = await launchBrowser({ executablePath: net.chromiumPath });
      browsers.push(elsewhere);
      const alice = await contexts.page(browser, { traffic });
      const bob = await contexts.page(elsewhere, { traffic });
      const carol = await contexts.page(browser, { traffic });
      const link = await startMeeting(alice, server.origin);
      await joinAs(alice, 'Alice', { link, preview: true });
      await alice.locator('[data-testid="roster-item"][data-self="true"][data-role="host"]').waitFor();
      await joinAs(bob, 'Bob', { link: link.replace(server.origin, server.labOrigin ?? ''), preview: true });
      await waitForRoster(alice, ['Alice (you)', 'Bob']);
      // The lobby: Carol knocks and Alice lets her in.
      await alice.getByTestId('settings-button').click();
      await alice.getByTestId('setting-lobby').click();
      await alice.getByTestId('lobby-badge').waitFor();
      await joinAs(carol, 'Carol', { link, preview: true });
      await carol.getByTestId('waiting').waitFor();
      const knocking = alice.locator('[data-testid="lobby-item"][data-verified="true"]', { hasText: 'Carol' });
      await knocking.getByTestId('lobby-admit').click();
      await waitForRoster(alice, ['Alice (you)', 'Bob', 'Carol']);
      // Chat and a file.
      await bob.getByTestId('chat-input').fill('hello from elsewhere');
      await bob.getByTestId('chat-send').click();
      await alice.getByTestId('chat-message').filter({ hasText: 'hello from elsewhere' }).waitFor();
      await bob
        .getByTestId('file-input')
        .setInputFiles({ name: 'b.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(5000, 1) });
      await expect.poll(() => bob.getByTestId('chat-status').textContent()).toBe('b.bin was shared.');
      // Host actions: mute Bob's microphone, then remove Carol; the receipt; Bob leaves.
      const ids = { bob: await selfId(bob), carol: await selfId(carol) };
      const bobItem = alice.locator(`[data-testid="roster-item"][data-participant-id="${ids.bob}"]`);
      await bobItem.getByTestId('participant-menu').click();
      await bobItem.getByTestId('menu-mute-microphone').click();
      const carolItem = alice.locator(`[data-testid="roster-item"][data-participant-id="${ids.carol}"]`);
      await carolItem.getByTestId('participant-menu').click();
      await carolItem.getByTestId('menu-remove').click();
      await carol.locator('[data-testid="gone"][data-code="removed"]').waitFor();
      await openReceipt(bob, 2);
      await bob.getByTestId('leave-button').click();
      await waitForRoster(alice, ['Alice (you)']);

      const received = traffic.framesReceived;
      const types = new Set(received.map((f) => String((JSON.parse(f) as { type?: unknown }).type)));
      for (const type of [
        'joined',
        'participant-joined',
        'relay',
        'file-upload-ready',
        'waiting',
        'lobby',
        'muted-by-host',
        'goodbye',
        'participant-left',
        'publish-answer',
        'subscribe-offer',
        'privacy-receipt',
      ]) {
        expect(types.has(type), `a ${type} message was seen`).toBe(true);
      }
      const userAgents = await Promise.all([alice, bob].map((p) => p.evaluate(() => navigator.userAgent)));
      const allowed = [labAddress(), labAddress6()].filter((a): a is string => a !== null);
      const known = [net.address, '127.0.0.1', '::1', ...userAgents];
      expect(leaks(received, allowed, known)).toEqual([]);
      // Nor any line the server logged meanwhile (its own listening addresses are not the clients').
      const clientFacts = [net.address, ...userAgents];
      const logged = server
        .output()
        .split('\n')
        .filter((line) => clientFacts.some((k) => line.includes(k)) || USER_AGENT.some((ua) => line.includes(ua)));
      expect(logged).toEqual([]);
    },
  );
});
