// Starts the real Conclave server binary for the end-to-end tests.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labAddress } from './lab';

export const WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function serverBinary(): string {
  const fromEnv = process.env['CONCLAVE_BIN'];
  return fromEnv ? resolve(WEB_DIR, fromEnv) : resolve(WEB_DIR, '../build/src/app/conclave');
}

/** The end-to-end build (`vite build --mode e2e`): the client plus its test hook. */
export function webRoot(): string {
  return join(WEB_DIR, 'dist-e2e');
}

let helpText: string | null = null;

/** The server's --help, to see which options this binary has. */
export function serverHelp(): string {
  if (helpText === null) {
    const result = spawnSync(serverBinary(), ['--help'], { encoding: 'utf8' });
    helpText = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  }
  return helpText;
}

/** True when the server binary has the media plane (the --media-* options). */
export function serverHasMedia(): boolean {
  return existsSync(serverBinary()) && serverHelp().includes('--media-announced-address');
}

/**
 * Media options that keep all media on this machine: the worker binds `mediaPort` (0: one the
 * system picks) on 127.0.0.1, or in the network lab (scripts/e2e-lab.sh) on the lab's own address,
 * which Firefox can pair with too. Either way no packet goes to another address.
 */
function mediaArgs(mediaPort: number, announce?: string[]): string[] {
  if (!serverHasMedia()) return [];
  const address = labAddress() ?? '127.0.0.1';
  // Several addresses (IPv4 and IPv6): one dual-stack socket on "::" receives them all.
  const [listen, announced] = announce ? ['::', announce.join(',')] : [address, address];
  return [
    '--media-listen',
    listen,
    '--media-announced-address',
    announced,
    '--media-port',
    String(mediaPort),
    '--media-workers',
    '1',
  ];
}

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => done(port));
    });
  });
}

/** A generous deadline for one HTTPS request: the server answers in milliseconds when idle. */
const REQUEST_TIMEOUT_MS = 15000;

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTPS request to the test server. Certificate checks are off: the server is self-signed. */
export function fetchInsecure(port: number, path: string, method = 'GET'): Promise<HttpAnswer> {
  return new Promise((done, fail) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        servername: 'localhost',
        rejectUnauthorized: false,
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', fail);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', fail);
    req.end();
  });
}

/** A UDP port nobody uses right now on the media address (for a server that must come back on it). */
export async function freeUdpPort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createSocket('udp4');
    probe.once('error', fail);
    probe.bind(0, labAddress() ?? '127.0.0.1', () => {
      const port = probe.address().port;
      probe.close(() => done(port));
    });
  });
}

export interface RunningServer {
  port: number;
  /** The first media worker's UDP port (0: the system chose). */
  mediaPort: number;
  /** https://localhost:<port>, for browsers in the lab (or on this machine's loopback). */
  origin: string;
  /** https://<lab address>:<port>, for browsers in a client namespace; null outside the lab. */
  labOrigin: string | null;
  dataDir: string;
  /** Everything the server printed so far. */
  output(): string;
  /** Sends a signal and waits for the process to end. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartOptions {
  port?: number;
  dataDir?: string;
  /** Server log level; 'trace' makes it log the first bytes of forwarded payloads (its "tap"). */
  logLevel?: string;
  /** UDP port of the media worker (default 0: any); a restarted server passes the old one. */
  mediaPort?: number;
  /** More command-line options, e.g. ['--max-room-tracks', '2']. */
  extraArgs?: string[];
  /** Media addresses to announce instead of the lab's one (the workers then listen on "::"). */
  mediaAnnounce?: string[];
}

/** Until the server answers /healthz: it starts in well under a second when the machine is idle. */
const STARTUP_TIMEOUT_MS = 60000;

export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const binary = serverBinary();
  if (!existsSync(binary)) {
    throw new Error(`server binary not found at ${binary}: build it first or set CONCLAVE_BIN`);
  }
  if (!existsSync(join(webRoot(), 'index.html'))) {
    throw new Error(`no built client in ${webRoot()}: run "npm run e2e" (it builds with --mode e2e)`);
  }
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'conclave-e2e-')));
  const lab = labAddress();
  const args = [
    // In the lab, browsers in client namespaces reach the server at the lab's address too.
    '--listen',
    lab ? '0.0.0.0' : '127.0.0.1',
    '--port',
    String(port),
    '--data-dir',
    dataDir,
    '--web-root',
    webRoot(),
    // E2E_SERVER_LOG_LEVEL=debug shows what the server does (printed with a failing startup).
    '--log-level',
    options.logLevel ?? process.env['E2E_SERVER_LOG_LEVEL'] ?? 'warn',
    ...mediaArgs(options.mediaPort ?? 0, options.mediaAnnounce),
    ...(options.extraArgs ?? []),
  ];
  // The harness's own variables are not server options (the server warns about unknown CONCLAVE_*).
  const env = { ...process.env };
  delete env['CONCLAVE_BIN'];
  delete env['CONCLAVE_CHROMIUM'];
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  let running = true;
  void exited.then(() => (running = false));

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (!running) throw new Error(`server exited during startup:\n${output}`);
    try {
      const health = await fetchInsecure(port, '/healthz');
      if (health.status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not answer /healthz within ${STARTUP_TIMEOUT_MS} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    port,
    mediaPort: options.mediaPort ?? 0,
    origin: `https://localhost:${port}`,
    labOrigin: lab ? `https://${lab}:${port}` : null,
    dataDir,
    output: () => output,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (!running) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/**
 * The lines of a server log that name a client: an address of a lab client network
 * (10.213.<n>.x, n > 0; the server's own 10.213.0.x may appear) or a browser's user agent. The
 * server logs neither (docs/privacy.md), and every browser test checks its server's whole log.
 */
export function clientTraces(log: string): string[] {
  const clientAddress = /\b10\.213\.[1-9]\d*\.\d+\b/;
  const userAgent = /Mozilla\/5\.0|Gecko\/\d|Chrome\/\d|Firefox\/\d|AppleWebKit/;
  return log.split('\n').filter((line) => clientAddress.test(line) || userAgent.test(line));
}

/**
 * Stops a server startServer() made (if it got that far) and removes its data directory; then
 * fails if its log named a client (clientTraces).
 */
export async function stopAndRemove(server: RunningServer | undefined): Promise<void> {
  if (!server) return;
  // For debugging a test: its server's whole log (set E2E_SERVER_LOG_LEVEL too).
  if (process.env['E2E_DUMP_SERVER']) console.log(server.output());
  await server.stop();
  await removeDir(server.dataDir);
  const traces = clientTraces(server.output());
  if (traces.length > 0) throw new Error(`the server logged a client's address or user agent:\n${traces.join('\n')}`);
}
