// The network lab's impairment forwarder (e2e/lab.ts ClientNetwork.impairUdp): this kernel has no
// netem qdisc, so loss, delay, jitter and a rate cap on a client network's UDP are applied here, in
// userspace, per direction. The client namespace's DNAT sends the client's datagrams for the
// server's media port here (--listen); each client flow (source address and port) gets a relay
// socket of its own (bound on --relay-bind) that talks to --target, so the server sees one source
// per flow, and its answers go back to the client from the listening socket (the client's
// conntrack turns the source back into the server's).
//
// Each direction ("up": client to server, "down": server to client) is, in this order:
// - loss: each datagram is dropped with probability lossPercent / 100 (independently);
// - rate cap (rateKbps > 0): a bottleneck link with a tail-drop buffer of queueMs: a datagram
//   leaves when the ones before it have been serialized at the rate; one that would wait longer
//   than queueMs is dropped (queueDropped);
// - delay: delayMs plus a uniform jitter in [-jitterMs, +jitterMs], drawn per datagram, as netem
//   does (so a jitter larger than the packet spacing reorders packets, as netem's does). Timers
//   fire late on a busy machine; the forwarder learns by how much and sets them up to 5 ms early.
// Counters per direction: datagrams and bytes in and out, lost, queueDropped, and the delay each
// forwarded datagram measurably spent here (count, sum, sum of squares, min, max), so a test can
// check them against what it asked for.
//
// Control: JSON lines on stdin, answered on stdout with the same id:
//   {"id":1,"op":"set","up":{...},"down":{...}}  -> {"id":1,"ok":true}   (a missing side: none)
//   {"id":2,"op":"counters"}                     -> {"id":2,"counters":{...}}
// The first line on stdout is {"ready":true,"port":N} once the listening socket is bound.
// Usage: node impair_forwarder.mjs --listen ADDR --relay-bind ADDR --target ADDR:PORT
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

/** Timers are set at most this much early to make up for their lateness on a busy machine. */
const MAX_EARLY_MS = 5;

/** At most this many client flows (a browser uses a few); more are dropped and counted. */
const MAX_FLOWS = 64;

function arg(name) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= process.argv.length) throw new Error(`impair_forwarder: --${name} missing`);
  return process.argv[i + 1];
}

const listenAddress = arg('listen');
const relayAddress = arg('relay-bind');
const target = arg('target');
const targetHost = target.slice(0, target.lastIndexOf(':'));
const targetPort = Number(target.slice(target.lastIndexOf(':') + 1));

function number(value, low, high) {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(Math.max(value, low), high) : 0;
}

/** One direction: its settings, its bottleneck's state and its counters. */
class Link {
  constructor() {
    this.set({});
    this.busyUntil = 0;
    // How much early timers are set (ms), learnt from how late they fire on this (busy) machine,
    // so that the delay datagrams get is on average the one asked for.
    this.lateness = 0;
    this.counters = {
      packetsIn: 0,
      bytesIn: 0,
      lost: 0,
      queueDropped: 0,
      packetsOut: 0,
      bytesOut: 0,
      delayCount: 0,
      delaySumMs: 0,
      delaySumSquaresMs: 0,
      delayMinMs: 0,
      delayMaxMs: 0,
    };
  }

  set(settings) {
    this.settings = {
      lossPercent: number(settings.lossPercent, 0, 100),
      delayMs: number(settings.delayMs, 0, 10_000),
      jitterMs: number(settings.jitterMs, 0, 10_000),
      rateKbps: number(settings.rateKbps, 0, 10_000_000),
      queueMs: settings.queueMs === undefined ? 200 : number(settings.queueMs, 0, 10_000),
    };
  }

  /** Takes one datagram; `send(data)` is called when (and if) it leaves. */
  take(data, send) {
    const c = this.counters;
    const s = this.settings;
    const arrived = performance.now();
    c.packetsIn += 1;
    c.bytesIn += data.length;
    if (s.lossPercent > 0 && Math.random() * 100 < s.lossPercent) {
      c.lost += 1;
      return;
    }
    let wait = 0;
    if (s.rateKbps > 0) {
      const start = Math.max(arrived, this.busyUntil);
      if (start - arrived > s.queueMs) {
        c.queueDropped += 1;
        return;
      }
      this.busyUntil = start + (data.length * 8) / s.rateKbps;
      wait = this.busyUntil - arrived;
    }
    if (s.delayMs > 0 || s.jitterMs > 0) wait += Math.max(0, s.delayMs + (Math.random() * 2 - 1) * s.jitterMs);
    const leave = () => {
      const spent = performance.now() - arrived;
      // The error left after setting the timer early corrects the next ones, slowly and by at most
      // MAX_EARLY_MS (a stall of the whole process is not a lateness to make up for).
      if (wait > 0) this.lateness = Math.min(MAX_EARLY_MS, Math.max(0, this.lateness + (spent - wait) / 64));
      if (c.delayCount === 0 || spent < c.delayMinMs) c.delayMinMs = spent;
      if (spent > c.delayMaxMs) c.delayMaxMs = spent;
      c.delayCount += 1;
      c.delaySumMs += spent;
      c.delaySumSquaresMs += spent * spent;
      c.packetsOut += 1;
      c.bytesOut += data.length;
      send(data);
    };
    if (wait <= 0) leave();
    else setTimeout(leave, Math.max(0, wait - this.lateness));
  }
}

const up = new Link();
const down = new Link();
const flows = new Map();
let flowsRefused = 0;

const listener = createSocket('udp4');

function relayFor(address, port) {
  const key = `${address}:${port}`;
  let relay = flows.get(key);
  if (relay) return relay;
  if (flows.size >= MAX_FLOWS) return null;
  relay = createSocket('udp4');
  relay.on('message', (data, from) => {
    if (from.address !== targetHost || from.port !== targetPort) return;
    down.take(data, (d) => listener.send(d, port, address));
  });
  relay.on('error', () => {});
  relay.bind(0, relayAddress);
  flows.set(key, relay);
  return relay;
}

listener.on('message', (data, from) => {
  const relay = relayFor(from.address, from.port);
  if (!relay) {
    flowsRefused += 1;
    return;
  }
  up.take(data, (d) => relay.send(d, targetPort, targetHost));
});
// A send to a port that is gone (ICMP unreachable) surfaces here: not the forwarder's concern.
listener.on('error', () => {});

function answer(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

listener.bind(0, listenAddress, () => {
  answer({ ready: true, port: listener.address().port });
  const control = createInterface({ input: process.stdin });
  control.on('line', (line) => {
    let request;
    try {
      request = JSON.parse(line);
    } catch {
      return;
    }
    if (request.op === 'set') {
      up.set(request.up ?? {});
      down.set(request.down ?? {});
      answer({ id: request.id, ok: true });
    } else if (request.op === 'counters') {
      answer({
        id: request.id,
        counters: {
          atMs: performance.now(),
          up: { ...up.counters },
          down: { ...down.counters },
          flows: flows.size,
          flowsRefused,
        },
      });
    }
  });
  // The test that started it is gone: so is the forwarder.
  control.on('close', () => process.exit(0));
});
