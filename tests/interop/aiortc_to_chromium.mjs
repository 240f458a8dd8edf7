// Interop test against a second, independent WebRTC implementation (python3-aiortc).
//
//   1. aiortc publishes a sine (Opus) and moving bars (VP8) into a room; a receive-only Chromium
//      page decodes them: its inbound video framesDecoded and audio packetsReceived must grow.
//   2. The reverse: a Chromium page publishes its fake camera and microphone; aiortc answers the
//      server's subscribe-offer and must decode audio and video frames.
//
// Usage: node aiortc_to_chromium.mjs [path/to/conclave]   (or CONCLAVE_BIN=...)
// Optional env: CHROMIUM (default /usr/bin/chromium), PYTHON (default /usr/bin/python3),
//               CONCLAVE_LOG_LEVEL (server --log-level, default info), WINDOW_SECONDS (default 8).
// Exit: 0 all passed, 1 a failure, 77 a prerequisite is missing (ctest reports "skipped").

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const serverBin = process.argv[2] || process.env.CONCLAVE_BIN;
const chromiumBin = process.env.CHROMIUM || '/usr/bin/chromium';
const python = process.env.PYTHON || '/usr/bin/python3';
const aiortcScript = join(here, 'aiortc_publisher.py');
const playwrightPath = join(repo, 'web', 'node_modules', 'playwright-core', 'index.mjs');
const windowSeconds = Math.max(8, Number(process.env.WINDOW_SECONDS || 8));
// Lower bounds per second of the window: aiortc sends 30 fps and 50 audio packets/s, Chromium's
// fake devices 20-30 fps and 50 packets/s. A fraction of that leaves room for a slow, shared
// machine. Each half of the window must reach half the bound, so a stall midway fails too.
const minVideoFramesPerSecond = 5;
const minAudioPerSecond = 25;

const log = (...args) => console.log('[interop]', ...args);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function skip(reason) {
  console.log(`aiortc interop: skipped (${reason})`);
  process.exit(77);
}

// ---------------------------------------------------------------------------- prerequisites

if (!serverBin || !existsSync(serverBin)) {
  console.error(`aiortc interop: no server binary (argv[2] or CONCLAVE_BIN): ${serverBin}`);
  process.exit(1);
}
if (!existsSync(chromiumBin)) skip(`no Chromium at ${chromiumBin}`);
if (!existsSync(playwrightPath)) skip(`no playwright-core at ${playwrightPath} (run npm ci in web/)`);
const probe = spawnSync(python, ['-c', 'import aiortc, av, numpy, websockets'], { encoding: 'utf8' });
if (probe.status !== 0) {
  skip(`${python} lacks aiortc/av/numpy/websockets: ${(probe.stderr || probe.error || '').toString().trim().split('\n').pop()}`);
}
const { chromium } = await import(playwrightPath);

// ---------------------------------------------------------------------------- processes

const children = new Set();
const dataDir = mkdtempSync(join(tmpdir(), 'conclave-interop-'));
let browser = null;

async function cleanup() {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  if (browser) await browser.close().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
}

async function fail(message) {
  console.error(`FAIL: ${message}`);
  await cleanup();
  process.exit(1);
}

const watchdog = setTimeout(() => fail('overall timeout (100 s)'), 100_000);

function startServer() {
  const args = ['--port', '0', '--listen', '127.0.0.1', '--data-dir', dataDir, '--media-port', '0',
    '--media-workers', '1', '--media-listen', '127.0.0.1', '--media-announced-address', '127.0.0.1',
    '--log-level', process.env.CONCLAVE_LOG_LEVEL || 'info'];
  const server = spawn(serverBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(server);
  createInterface({ input: server.stderr }).on('line', (line) => process.stderr.write(`[server] ${line}\n`));
  return new Promise((res, rej) => {
    server.on('exit', (code) => rej(new Error(`server exited early with ${code}`)));
    server.stdout.on('data', (d) => {
      const m = /running at https:\/\/localhost:(\d+)\//.exec(d.toString());
      if (m) res(Number(m[1]));
    });
  });
}

// POST /api/rooms over loopback; the server's certificate is self-signed.
function createRoom(port) {
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/rooms', method: 'POST', rejectUnauthorized: false },
      (reply) => {
        let body = '';
        reply.on('data', (d) => { body += d; });
        reply.on('end', () => (reply.statusCode === 201 ? res(JSON.parse(body).roomId)
          : rej(new Error(`POST /api/rooms: ${reply.statusCode} ${body}`))));
      });
    req.on('error', rej);
    req.end();
  });
}

// Runs aiortc_publisher.py; its JSON lines arrive as events, `wait(name)` resolves on the first.
function startAiortc(port, roomId, mode, duration) {
  // `--room=ID`: a room ID may start with '-' (URL-safe base64), which argparse would take for an option.
  const child = spawn(python, [aiortcScript, `--url=https://localhost:${port}`, `--room=${roomId}`,
    `--mode=${mode}`, `--duration=${duration}`, `--profile=aiortc-${mode}`],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const events = [];
  const waiters = [];
  let exitInfo = null;
  const settle = () => {
    for (const w of [...waiters]) {
      const found = events.find(w.match);
      if (found) { waiters.splice(waiters.indexOf(w), 1); w.res(found); }
      else if (exitInfo !== null) { waiters.splice(waiters.indexOf(w), 1); w.rej(new Error(`aiortc ${mode} ended (${exitInfo}) before ${w.what}`)); }
    }
  };
  createInterface({ input: child.stdout }).on('line', (line) => {
    let event;
    try { event = JSON.parse(line); } catch { log(`aiortc ${mode}: ${line}`); return; }
    if (event.event !== 'stats') log(`aiortc ${mode}:`, line);
    events.push(event);
    settle();
  });
  createInterface({ input: child.stderr }).on('line', (line) => process.stderr.write(`[aiortc ${mode}] ${line}\n`));
  child.on('exit', (code, signal) => {
    const error = events.find((e) => e.event === 'error');
    exitInfo = `exit ${code ?? signal}${error ? `: ${error.message}` : ''}`;
    settle();
  });
  const wait = (what, match, ms = 20_000) => new Promise((res, rej) => {
    const w = { what, match, res, rej };
    waiters.push(w);
    settle();
    setTimeout(() => {
      const i = waiters.indexOf(w);
      if (i >= 0) { waiters.splice(i, 1); rej(new Error(`aiortc ${mode}: no ${what} within ${ms / 1000} s`)); }
    }, ms);
  });
  return { child, events, wait, stop: () => child.exitCode === null && child.kill('SIGTERM') };
}

// ---------------------------------------------------------------------------- the browser side

// Runs in the page: joins the room over the signaling WebSocket, answers every subscribe-offer,
// and (if asked) publishes the fake camera and microphone. State lives on `window.conclave`.
async function pageJoin({ roomId, profile, publish }) {
  const state = { tracks: new Map(), errors: [], participantId: null, sub: null, pub: null };
  window.conclave = state;
  const ws = new WebSocket(`wss://${location.host}/ws`);
  await new Promise((res, rej) => { ws.onopen = res; ws.onerror = () => rej(new Error('WebSocket failed')); });
  let nextId = 1;
  const waiting = new Map();
  const send = (m) => {
    m.id = nextId++;
    ws.send(JSON.stringify(m));
    return new Promise((res, rej) => waiting.set(m.id, { res, rej }));
  };
  state.sub = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  let queue = Promise.resolve();
  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    const w = waiting.get(m.id);
    if (w) {
      waiting.delete(m.id);
      if (m.type === 'error') w.rej(new Error(`${m.code}: ${m.message}`)); else w.res(m);
    } else if (m.type === 'subscribe-offer') {
      queue = queue.then(async () => {
        for (const t of m.tracks) state.tracks.set(t.mid, t);
        await state.sub.setRemoteDescription({ type: 'offer', sdp: m.sdp });
        await state.sub.setLocalDescription(await state.sub.createAnswer());
        await send({ type: 'subscribe-answer', sdp: state.sub.localDescription.sdp });
      }).catch((e) => state.errors.push(`subscribe: ${e.message}`));
    } else if (m.type === 'error') {
      state.errors.push(`server error ${m.code}: ${m.message}`);
    }
  };
  await send({ type: 'hello', version: 1, client: 'interop-chromium' });
  state.participantId = (await send({ type: 'join', roomId, profile })).participantId;
  if (publish) {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
    state.pub = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    const transceivers = stream.getTracks().map((t) => state.pub.addTransceiver(t, { direction: 'sendonly', streams: [stream] }));
    await state.pub.setLocalDescription(await state.pub.createOffer());
    const answer = await send({
      type: 'publish', sdp: state.pub.localDescription.sdp,
      tracks: transceivers.map((t) => ({ mid: t.mid, source: t.sender.track.kind === 'audio' ? 'microphone' : 'camera' })),
    });
    await state.pub.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
  }
  return state.participantId;
}

// Runs in the page: inbound-rtp figures for the tracks of one remote participant, by kind.
async function pageInbound(participantId) {
  const state = window.conclave;
  const out = { connection: state.sub.connectionState, errors: state.errors, audio: null, video: null };
  (await state.sub.getStats()).forEach((r) => {
    if (r.type !== 'inbound-rtp') return;
    const track = state.tracks.get(r.mid);
    if (!track || track.participantId !== participantId) return;
    out[r.kind] = { mid: r.mid, packetsReceived: r.packetsReceived, packetsLost: r.packetsLost,
      framesDecoded: r.framesDecoded, frameWidth: r.frameWidth, frameHeight: r.frameHeight,
      codecId: r.codecId };
  });
  return out;
}

async function openPage(port, name) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  page.on('console', (m) => { if (!/favicon|Failed to load resource/.test(m.text())) log(`[${name}]`, m.text()); });
  page.on('pageerror', (e) => log(`[${name}] page error:`, e.message));
  await page.goto(`https://localhost:${port}/healthz`); // same origin as /ws, for the Origin check
  return page;
}

// ---------------------------------------------------------------------------- the two cases

// Polls `sample` once a second until `ready(s)`, then waits the window and compares.
async function measure(what, sample, ready, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let first = await sample();
  while (!ready(first)) {
    if (Date.now() > deadline) throw new Error(`${what}: media never started; last sample ${JSON.stringify(first)}`);
    await sleep(1000);
    first = await sample();
  }
  await sleep(windowSeconds * 500);
  const middle = await sample();
  await sleep(windowSeconds * 500);
  const last = await sample();
  return { first, middle, last };
}

// Throws unless `values` (at the start, middle and end of the window) grew by at least
// `perSecond` on average in each half of it. Returns the total growth.
function checkGrowth(label, [first, middle, last], perSecond) {
  const half = (perSecond * windowSeconds) / 2;
  if (middle - first < half || last - middle < half) {
    throw new Error(`${label} grew by ${middle - first} then ${last - middle} over two ${windowSeconds / 2} s halves; ` +
      `expected at least ${half} in each`);
  }
  return last - first;
}

async function aiortcToChromium(port) {
  const roomId = await createRoom(port);
  const page = await openPage(port, 'chromium-receiver');
  await page.evaluate(pageJoin, { roomId, profile: 'chromium-receiver', publish: false });
  const publisher = startAiortc(port, roomId, 'publish', 60);
  try {
    const joined = await publisher.wait('joined', (e) => e.event === 'joined');
    await publisher.wait('published', (e) => e.event === 'published');
    const pid = joined.participantId;
    const { first, middle, last } = await measure('aiortc → Chromium', () => page.evaluate(pageInbound, pid),
      (s) => s.video?.framesDecoded > 0 && s.audio?.packetsReceived > 0);
    if (publisher.child.exitCode !== null) throw new Error(`aiortc publisher exited early: ${JSON.stringify(publisher.events.at(-1))}`);
    for (const s of [middle, last]) {
      if (!s.video || !s.audio) throw new Error(`aiortc's tracks left the page's stats: ${JSON.stringify(s)}`);
    }
    if (last.errors.length) throw new Error(`page errors: ${last.errors.join('; ')}`);
    const frames = checkGrowth('video framesDecoded', [first, middle, last].map((s) => s.video.framesDecoded),
      minVideoFramesPerSecond);
    const packets = checkGrowth('audio packetsReceived', [first, middle, last].map((s) => s.audio.packetsReceived),
      minAudioPerSecond);
    log(`aiortc → Chromium over ${windowSeconds} s: video framesDecoded +${frames} (total ${last.video.framesDecoded}, ` +
      `${last.video.frameWidth}x${last.video.frameHeight}, lost ${last.video.packetsLost}), audio packetsReceived +${packets} ` +
      `(total ${last.audio.packetsReceived}, lost ${last.audio.packetsLost})`);
    const sent = publisher.events.filter((e) => e.event === 'stats').pop();
    if (sent) log('aiortc sent so far:', JSON.stringify(sent.packetsSent));
    if (last.video.frameWidth !== 320 || last.video.frameHeight !== 240) {
      throw new Error(`decoded ${last.video.frameWidth}x${last.video.frameHeight}, aiortc sends 320x240`);
    }
  } finally {
    publisher.stop();
    await page.context().close();
  }
}

async function chromiumToAiortc(port) {
  const roomId = await createRoom(port);
  const subscriber = startAiortc(port, roomId, 'subscribe', 60);
  const page = await openPage(port, 'chromium-publisher');
  try {
    await subscriber.wait('joined', (e) => e.event === 'joined');
    await page.evaluate(pageJoin, { roomId, profile: 'chromium-publisher', publish: true });
    await subscriber.wait('subscribed', (e) => e.event === 'subscribed');
    // The latest stats line aiortc printed (it prints one a second).
    const sample = async () => {
      const deadline = Date.now() + 3000;
      const count = subscriber.events.length;
      while (subscriber.events.length === count && Date.now() < deadline) await sleep(100);
      const latest = subscriber.events.filter((e) => e.event === 'stats').pop();
      if (subscriber.child.exitCode !== null) throw new Error(`aiortc subscriber exited: ${JSON.stringify(subscriber.events.at(-1))}`);
      return latest?.framesReceived ?? { audio: 0, video: 0 };
    };
    const { first, middle, last } = await measure('Chromium → aiortc', sample, (s) => s.video > 0 && s.audio > 0);
    const video = checkGrowth('aiortc video frames', [first, middle, last].map((s) => s.video), minVideoFramesPerSecond);
    const audio = checkGrowth('aiortc audio frames', [first, middle, last].map((s) => s.audio), minAudioPerSecond);
    log(`Chromium → aiortc over ${windowSeconds} s: aiortc decoded +${video} video frames (total ${last.video}), ` +
      `+${audio} audio frames (total ${last.audio})`);
  } finally {
    subscriber.stop();
    await page.context().close();
  }
}

// ---------------------------------------------------------------------------- main

let passed = 0;
let failed = 0;
try {
  const port = await startServer();
  log(`server on port ${port}`);
  browser = await chromium.launch({
    executablePath: chromiumBin,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection'],
  });
  for (const [name, run] of [['aiortc publishes, Chromium decodes', aiortcToChromium],
    ['Chromium publishes, aiortc decodes', chromiumToAiortc]]) {
    try {
      await run(port);
      passed += 1;
      log(`PASS: ${name}`);
    } catch (e) {
      failed += 1;
      console.error(`FAIL: ${name}: ${e.message}`);
    }
  }
} catch (e) {
  await fail(e.message);
}
clearTimeout(watchdog);
await cleanup();
console.log(`aiortc interop: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
