// Minimal Chrome DevTools Protocol client over --remote-debugging-pipe (no sockets at all):
// Chromium reads NUL-terminated JSON messages on fd 3 and writes its replies on fd 4.
// Used by the SDP capture and validation scripts in this folder. Node >= 18, no packages.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-default-apps', '--disable-extensions', '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--remote-debugging-pipe',
];

export class Browser {
  static async launch(executable = process.env.CHROMIUM || '/usr/bin/chromium') {
    const profile = mkdtempSync(join(tmpdir(), 'conclave-sdp-'));
    // A file:// page is a secure context (getUserMedia needs one); the empty profile folder will do.
    const child = spawn(executable, [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, `file://${profile}/`],
      { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    const browser = new Browser(child, profile);
    await browser.#attach();
    return browser;
  }

  #child; #profile; #nextId = 1; #pending = new Map(); #buffer = ''; #sessionId = null;
  stderr = '';

  constructor(child, profile) {
    this.#child = child;
    this.#profile = profile;
    child.stderr.on('data', (d) => { this.stderr += d.toString(); });
    child.stdio[4].on('data', (d) => this.#onData(d.toString()));
    child.on('exit', (code) => {
      for (const { reject } of this.#pending.values()) reject(new Error(`chromium exited (${code})`));
      this.#pending.clear();
    });
  }

  #onData(text) {
    this.#buffer += text;
    let end;
    while ((end = this.#buffer.indexOf('\0')) >= 0) {
      const message = JSON.parse(this.#buffer.slice(0, end));
      this.#buffer = this.#buffer.slice(end + 1);
      const waiter = message.id !== undefined ? this.#pending.get(message.id) : undefined;
      if (!waiter) continue;
      this.#pending.delete(message.id);
      if (message.error) waiter.reject(new Error(JSON.stringify(message.error)));
      else waiter.resolve(message.result);
    }
  }

  send(method, params = {}, sessionId = this.#sessionId) {
    const id = this.#nextId++;
    const message = { id, method, params };
    if (sessionId) message.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#child.stdio[3].write(JSON.stringify(message) + '\0');
    });
  }

  async #attach() {
    const { targetInfos } = await this.send('Target.getTargets', {}, null);
    const page = targetInfos.find((t) => t.type === 'page');
    const { sessionId } = await this.send('Target.attachToTarget',
      { targetId: page.targetId, flatten: true }, null);
    this.#sessionId = sessionId;
    for (let i = 0; i < 100; ++i) {
      const { result } = await this.send('Runtime.evaluate',
        { expression: 'location.protocol + document.readyState', returnByValue: true });
      if (result.value === 'file:complete') return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('the start page did not load');
  }

  // Evaluates an async JS expression in the page and returns its (JSON) value; throws the page's
  // exception text if it rejects.
  async evaluate(expression) {
    const reply = await this.send('Runtime.evaluate',
      { expression, awaitPromise: true, returnByValue: true });
    if (reply.exceptionDetails) {
      const details = reply.exceptionDetails;
      throw new Error(details.exception?.description || details.text);
    }
    return reply.result.value;
  }

  async close() {
    try { await this.send('Browser.close', {}, null); } catch { /* already gone */ }
    await new Promise((resolve) => {
      if (this.#child.exitCode !== null) resolve();
      else this.#child.on('exit', resolve);
    });
    rmSync(this.#profile, { recursive: true, force: true });
  }
}
