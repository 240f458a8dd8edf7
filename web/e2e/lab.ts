// The network lab of the browser tests (scripts/e2e-lab.sh): the suite runs in a network namespace
// of its own, where the server announces a real (non-loopback) address that Firefox can pair with.
// A test that needs a browser on another network (UDP blocked, an address that changes) makes a
// client namespace joined to the lab by a veth pair and starts Chromium inside it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** True when the suite runs inside scripts/e2e-lab.sh. */
export function inLab(): boolean {
  return Boolean(process.env['CONCLAVE_LAB_NS'] && process.env['CONCLAVE_LAB_ADDRESS']);
}

/** The lab's own address (the server announces it), or null outside the lab. */
export function labAddress(): string | null {
  return inLab() ? (process.env['CONCLAVE_LAB_ADDRESS'] ?? null) : null;
}

/** The lab's IPv6 address (fd00:213::1), or null outside the lab (or an older lab script). */
export function labAddress6(): string | null {
  return inLab() ? (process.env['CONCLAVE_LAB_ADDRESS6'] ?? null) : null;
}

function requireLab(): { ns: string; address: string } {
  const ns = process.env['CONCLAVE_LAB_NS'];
  const address = process.env['CONCLAVE_LAB_ADDRESS'];
  if (!ns || !address) {
    throw new Error('this test needs the network lab: run the suite through scripts/e2e-lab.sh (as make test does)');
  }
  return { ns, address };
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Runs nft rules (one ruleset text) inside a namespace. */
function nft(namespace: string, rules: string): void {
  execFileSync('ip', ['netns', 'exec', namespace, 'nft', '-f', '-'], {
    input: rules,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
}

let nextLabTable = 1;

/**
 * Adds nft rules (each one line, e.g. `udp dport 40000 drop`) to the output hook of the lab itself
 * (where the server and the lab's browsers run); returns a function that removes them.
 */
export function blockInLab(rules: string[]): () => void {
  const lab = requireLab();
  const table = `labblock${nextLabTable++}`;
  nft(
    lab.ns,
    `table inet ${table} {\n  chain out {\n    type filter hook output priority 0; policy accept;\n${rules
      .map((r) => `    ${r}\n`)
      .join('')}  }\n}\n`,
  );
  return () => nft(lab.ns, `delete table inet ${table}\n`);
}

export interface ClientNetworkOptions {
  /** Drop every UDP packet the client sends (an office network that blocks UDP). */
  blockUdp?: boolean;
  /** Drop the client's TCP connections to these ports (any address). */
  blockTcpPorts?: number[];
  /** Drop the client's IPv4 UDP: its media can only go over IPv6 (fd00:213:<n>::2). */
  blockUdp4?: boolean;
  /**
   * Put the client's IPv4 UDP behind a NAT (source ports mapped into 20000-29999), so that
   * rebindUdp() can give it new ports mid-call, as a home router does when its mapping expires.
   */
  natUdp?: boolean;
}

export interface ClientNetwork {
  /** The namespace's name. */
  readonly namespace: string;
  /** The client's current address. */
  readonly address: string;
  /** An executable that starts /usr/bin/chromium (or CONCLAVE_CHROMIUM) inside the namespace. */
  readonly chromiumPath: string;
  /** The same for Firefox (/usr/bin/firefox-esr or CONCLAVE_FIREFOX): see ff.launchFirefoxIn. */
  readonly firefoxPath: string;
  /** Runs a command inside the namespace and returns its standard output. */
  run(command: string[]): string;
  /** Moves the client to another address of its subnet (as a network change or NAT rebinding). */
  setAddress(newAddress: string): void;
  /**
   * A NAT rebinding (needs natUdp): the client's UDP flows get new source ports; what is sent to
   * the old ones is lost. Its own sockets and TCP connections are untouched, so the browser does
   * not notice.
   */
  rebindUdp(): void;
  /**
   * Sends the client's UDP for `port` on the lab's address (the server's media port) through an
   * impairment forwarder (e2e/impair_forwarder.mjs: loss, delay, jitter, rate cap, per direction),
   * starting with `impairment`. The server then sees the flows come from the lab side's address.
   * Call it before the browser connects; at most once per network.
   */
  impairUdp(port: number, impairment?: Impairment): Promise<ImpairedPath>;
  /**
   * Caps the veth link with a tbf qdisc (all traffic, TCP too), in kbit/s per direction; null or
   * 0 removes that side's cap. `queueMs` is tbf's latency (the buffer), 200 ms by default.
   */
  shape(caps: { upKbps?: number | null; downKbps?: number | null; queueMs?: number }): void;
  /** Deletes the namespace (the browsers in it must be closed first). */
  close(): void;
}

/** What the forwarder does to one direction (all optional; 0 or absent: nothing). */
export interface LinkImpairment {
  /** Each datagram is lost with this probability (independently), in percent. */
  lossPercent?: number;
  /** Delay added to each datagram... */
  delayMs?: number;
  /** ...plus a uniform jitter in [-jitterMs, +jitterMs] (may reorder, as netem does). */
  jitterMs?: number;
  /** A bottleneck of this rate (kbit/s), with a tail-drop buffer of queueMs (default 200). */
  rateKbps?: number;
  queueMs?: number;
}

/** "up": the client to the server; "down": the server to the client. */
export interface Impairment {
  up?: LinkImpairment;
  down?: LinkImpairment;
}

/** One direction's counters since the forwarder started (see e2e/impair_forwarder.mjs). */
export interface LinkCounters {
  packetsIn: number;
  bytesIn: number;
  /** Dropped by the loss setting. */
  lost: number;
  /** Dropped because the rate cap's buffer was full. */
  queueDropped: number;
  packetsOut: number;
  bytesOut: number;
  /** The time forwarded datagrams spent in the forwarder (queue and delay), measured. */
  delayCount: number;
  delaySumMs: number;
  delaySumSquaresMs: number;
  delayMinMs: number;
  delayMaxMs: number;
}

export interface PathCounters {
  /** The forwarder's clock (ms) when these were read: rates are deltas over it. */
  atMs: number;
  up: LinkCounters;
  down: LinkCounters;
  /** Client flows (source address and port) relayed, and datagrams refused for too many flows. */
  flows: number;
  flowsRefused: number;
}

/** A client network's UDP path through the impairment forwarder. */
export interface ImpairedPath {
  /** Replaces the impairment (both directions; an absent side gets none), effective at once. */
  set(impairment: Impairment): Promise<void>;
  counters(): Promise<PathCounters>;
}

/** What one direction did between two readings of the counters. */
export interface LinkFigures {
  packetsIn: number;
  lossFraction: number;
  queueDropped: number;
  packetsOut: number;
  /** kbit/s forwarded over the interval. */
  kbpsOut: number;
  delayMeanMs: number;
  delayStdMs: number;
}

export function linkFigures(before: PathCounters, after: PathCounters, side: 'up' | 'down'): LinkFigures {
  const a = before[side];
  const b = after[side];
  const packetsIn = b.packetsIn - a.packetsIn;
  const count = b.delayCount - a.delayCount;
  const mean = count > 0 ? (b.delaySumMs - a.delaySumMs) / count : 0;
  const variance = count > 0 ? (b.delaySumSquaresMs - a.delaySumSquaresMs) / count - mean * mean : 0;
  const seconds = (after.atMs - before.atMs) / 1000;
  return {
    packetsIn,
    lossFraction: packetsIn > 0 ? (b.lost - a.lost) / packetsIn : 0,
    queueDropped: b.queueDropped - a.queueDropped,
    packetsOut: b.packetsOut - a.packetsOut,
    kbpsOut: seconds > 0 ? ((b.bytesOut - a.bytesOut) * 8) / 1000 / seconds : 0,
    delayMeanMs: mean,
    delayStdMs: Math.sqrt(Math.max(0, variance)),
  };
}

const FORWARDER = join(dirname(fileURLToPath(import.meta.url)), 'impair_forwarder.mjs');
/** The forwarder answers in milliseconds; this only bounds a hang. */
const FORWARDER_TIMEOUT_MS = 30_000;

/** Starts the forwarder (in the lab) and talks to it over its stdin/stdout. */
async function startForwarder(
  listen: string,
  target: string,
): Promise<{ port: number; child: ChildProcess; call: (request: object) => Promise<Record<string, unknown>> }> {
  const child = spawn(process.execPath, [FORWARDER, '--listen', listen, '--relay-bind', listen, '--target', target], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const waiting = new Map<number, (answer: Record<string, unknown>) => void>();
  let ready: ((port: number) => void) | null = null;
  const port = new Promise<number>((done, fail) => {
    ready = done;
    child.once('exit', (code) => fail(new Error(`the impairment forwarder exited (${code})`)));
    setTimeout(() => fail(new Error('the impairment forwarder did not start')), FORWARDER_TIMEOUT_MS).unref();
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const message = JSON.parse(line) as Record<string, unknown>;
    if (message['ready'] === true && ready) ready(Number(message['port']));
    const id = Number(message['id']);
    waiting.get(id)?.(message);
    waiting.delete(id);
  });
  let nextId = 1;
  const call = (request: object): Promise<Record<string, unknown>> =>
    new Promise((done, fail) => {
      const id = nextId++;
      waiting.set(id, done);
      child.stdin.write(`${JSON.stringify({ ...request, id })}\n`);
      setTimeout(() => {
        if (waiting.delete(id)) fail(new Error('the impairment forwarder did not answer'));
      }, FORWARDER_TIMEOUT_MS).unref();
    });
  return { port: await port, child, call };
}

let nextSubnet = 1;

/**
 * A client namespace "<lab>-<name>" joined to the lab: client 10.213.<n>.2/24, lab side
 * 10.213.<n>.1, the client's default route through the lab. The lab's address (the server's)
 * is reachable from it; nothing else is.
 */
export function createClientNetwork(name: string, options: ClientNetworkOptions = {}): ClientNetwork {
  const lab = requireLab();
  if (!/^[a-z0-9]{1,8}$/.test(name)) throw new Error(`client network name "${name}": 1-8 of a-z0-9`);
  const subnet = nextSubnet++;
  if (subnet > 250) throw new Error('too many client networks in one lab');
  const namespace = `${lab.ns}-${name}`;
  // Interface names are limited to 15 characters and live in different namespaces: short is fine.
  const labSide = `c${subnet}l`;
  const clientSide = `c${subnet}c`;
  const gateway = `10.213.${subnet}.1`;
  let address = `10.213.${subnet}.2`;

  ip('netns', 'add', namespace);
  try {
    ip('-n', namespace, 'link', 'set', 'lo', 'up');
    ip('link', 'add', labSide, 'type', 'veth', 'peer', 'name', clientSide, 'netns', namespace);
    ip('addr', 'add', `${gateway}/24`, 'dev', labSide);
    ip('link', 'set', labSide, 'up');
    ip('-n', namespace, 'addr', 'add', `${address}/24`, 'dev', clientSide);
    ip('-n', namespace, 'link', 'set', clientSide, 'up');
    ip('-n', namespace, 'route', 'add', 'default', 'via', gateway);
    // IPv6 alongside: client fd00:213:<n>::2/64, lab side fd00:213:<n>::1.
    ip('addr', 'add', `fd00:213:${subnet}::1/64`, 'dev', labSide, 'nodad');
    ip('-n', namespace, 'addr', 'add', `fd00:213:${subnet}::2/64`, 'dev', clientSide, 'nodad');
    ip('-n', namespace, '-6', 'route', 'add', 'default', 'via', `fd00:213:${subnet}::1`);

    const rules: string[] = [];
    if (options.blockUdp) rules.push('meta l4proto udp drop');
    if (options.blockUdp4) rules.push('meta nfproto ipv4 meta l4proto udp drop');
    for (const port of options.blockTcpPorts ?? []) rules.push(`tcp dport ${port} drop`);
    if (rules.length > 0) {
      nft(
        namespace,
        `table inet lab {\n  chain out {\n    type filter hook output priority 0; policy accept;\n${rules
          .map((r) => `    ${r}\n`)
          .join('')}  }\n}\n`,
      );
    }
  } catch (error) {
    ip('netns', 'del', namespace);
    throw error;
  }

  // The NAT: a conntrack zone for the client's UDP and a source NAT into a port range. A rebinding
  // moves the flows to a fresh zone (no mapping yet) and another range, so every flow gets a new
  // port and the old mappings no longer match anything.
  let rebindings = 0;
  const natRules = (): string => {
    const zone = rebindings + 1;
    const low = 20000 + (rebindings % 4) * 10000;
    return (
      `table ip labnat {\n` +
      `  chain rawout { type filter hook output priority -300; policy accept; meta l4proto udp ct zone set ${zone}; }\n` +
      `  chain rawin { type filter hook prerouting priority -300; policy accept; meta l4proto udp ct zone set ${zone}; }\n` +
      `  chain post { type nat hook postrouting priority 100; policy accept; ` +
      `oifname "${clientSide}" meta l4proto udp snat to ${address}:${low}-${low + 9999}; }\n` +
      `}\n`
    );
  };
  if (options.natUdp) nft(namespace, natRules());

  let forwarder: ChildProcess | null = null;
  const tbf = (device: string, inNamespace: boolean, kbps: number | null | undefined, queueMs: number): void => {
    const prefix = inNamespace ? ['-n', namespace] : [];
    if (kbps && kbps > 0) {
      // A burst of at least one full-size packet, and of ~10 ms at the rate.
      const burst = Math.max(1600, Math.ceil((kbps * 1000 * 0.01) / 8));
      execFileSync(
        'tc',
        [
          ...prefix,
          'qdisc',
          'replace',
          'dev',
          device,
          'root',
          'tbf',
          'rate',
          `${kbps}kbit`,
          'burst',
          String(burst),
          'latency',
          `${queueMs}ms`,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
    } else {
      try {
        execFileSync('tc', [...prefix, 'qdisc', 'del', 'dev', device, 'root'], { stdio: ['ignore', 'ignore', 'pipe'] });
      } catch {
        // No cap there.
      }
    }
  };

  const scriptDir = mkdtempSync(join(tmpdir(), 'conclave-lab-'));
  const chromiumPath = join(scriptDir, 'chromium');
  const chromium = process.env['CONCLAVE_CHROMIUM'] ?? '/usr/bin/chromium';
  writeFileSync(chromiumPath, `#!/bin/sh\nexec ip netns exec '${namespace}' '${chromium}' "$@"\n`);
  chmodSync(chromiumPath, 0o755);
  const firefoxPath = join(scriptDir, 'firefox');
  const firefox = process.env['CONCLAVE_FIREFOX'] ?? '/usr/bin/firefox-esr';
  writeFileSync(firefoxPath, `#!/bin/sh\nexec ip netns exec '${namespace}' '${firefox}' "$@"\n`);
  chmodSync(firefoxPath, 0o755);

  return {
    namespace,
    get address() {
      return address;
    },
    chromiumPath,
    firefoxPath,
    run(command: string[]): string {
      return execFileSync('ip', ['netns', 'exec', namespace, ...command], { encoding: 'utf8' });
    },
    setAddress(newAddress: string): void {
      // Old address out, new one in (adding first would not help: deleting a primary address
      // deletes its secondaries in the same subnet too). The default route went with the old one.
      ip('-n', namespace, 'addr', 'del', `${address}/24`, 'dev', clientSide);
      ip('-n', namespace, 'addr', 'add', `${newAddress}/24`, 'dev', clientSide);
      ip('-n', namespace, 'route', 'replace', 'default', 'via', gateway);
      address = newAddress;
    },
    rebindUdp(): void {
      if (!options.natUdp) throw new Error('rebindUdp() needs a client network made with natUdp');
      rebindings += 1;
      nft(namespace, `delete table ip labnat\n${natRules()}`);
    },
    async impairUdp(port: number, impairment: Impairment = {}): Promise<ImpairedPath> {
      if (forwarder) throw new Error('impairUdp() was called already for this network');
      const started = await startForwarder(gateway, `${lab.address}:${port}`);
      forwarder = started.child;
      const path: ImpairedPath = {
        set: async (i) => {
          await started.call({ op: 'set', up: i.up ?? {}, down: i.down ?? {} });
        },
        counters: async () => (await started.call({ op: 'counters' }))['counters'] as PathCounters,
      };
      await path.set(impairment);
      // The client's datagrams for the server's media port go to the forwarder instead.
      nft(
        namespace,
        `table ip labimpair {\n  chain out {\n    type nat hook output priority -100; policy accept;\n` +
          `    ip daddr ${lab.address} udp dport ${port} dnat to ${gateway}:${started.port}\n  }\n}\n`,
      );
      return path;
    },
    shape(caps): void {
      const queueMs = caps.queueMs ?? 200;
      if (caps.downKbps !== undefined) tbf(labSide, false, caps.downKbps, queueMs);
      if (caps.upKbps !== undefined) tbf(clientSide, true, caps.upKbps, queueMs);
    },
    close(): void {
      forwarder?.kill('SIGKILL');
      forwarder = null;
      try {
        execFileSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8' })
          .split('\n')
          .filter((pid) => pid.trim() !== '')
          .forEach((pid) => {
            try {
              process.kill(Number(pid), 'SIGKILL');
            } catch {
              // Already gone.
            }
          });
        ip('netns', 'del', namespace);
      } finally {
        try {
          ip('link', 'del', labSide);
        } catch {
          // Went with the namespace.
        }
        rmSync(scriptDir, { recursive: true, force: true });
      }
    },
  };
}
