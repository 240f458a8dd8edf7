// Debian's Chromium driven by playwright-core, a recorder of everything the pages send, and the
// page actions and waits the browser tests share.
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { WAIT_MS } from './deadline';

export { WAIT_MS };

/** Every message type a client may send (docs/protocol.md); the pages send nothing else. */
export const CLIENT_TYPES = new Set([
  'hello',
  'join',
  'update-profile',
  'leave',
  'ping',
  'publish',
  'subscribe-answer',
  'subscribe-restart',
  'relay',
  'file-upload',
  'turn-refresh',
  'video-preferences',
]);

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Media: Chromium's fake camera (a moving test pattern) and microphone (a beep), permission
  // prompts accepted (getDisplayMedia too: it then captures the fake screen), WebRTC over
  // loopback, and audio that plays without a user gesture.
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
];

export interface LaunchOptions {
  /**
   * Another Chromium executable: a client network's wrapper (e2e/lab.ts) starts it in that
   * namespace. Such a browser opens the server by the lab's address, whose certificate does not
   * name it, so certificate errors are ignored for it.
   */
  executablePath?: string;
  /** Options of Chromium's fake capture devices, e.g. `device-count=2` for a second camera. */
  fakeDevices?: string;
}

export function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  const inNamespace = options.executablePath !== undefined;
  const fake = options.fakeDevices;
  const args = fake
    ? CHROMIUM_ARGS.map((a) => (a === '--use-fake-device-for-media-stream' ? `${a}=${fake}` : a))
    : CHROMIUM_ARGS;
  return chromium.launch({
    executablePath: options.executablePath ?? process.env['CONCLAVE_CHROMIUM'] ?? '/usr/bin/chromium',
    args: inNamespace ? [...args, '--ignore-certificate-errors'] : args,
  });
}

export interface RecordedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  postData: string | null;
}

/** What every page of the recorded contexts sent: HTTP requests, WebSocket URLs and frames. */
export class Traffic {
  readonly requests: RecordedRequest[] = [];
  readonly webSockets: string[] = [];
  readonly framesSent: string[] = [];
  readonly framesReceived: string[] = [];
  readonly consoleErrors: string[] = [];
  private readonly mReceivedBy = new Map<Page, string[]>();

  watch(context: BrowserContext): void {
    context.on('request', (req) => {
      this.requests.push({ url: req.url(), method: req.method(), headers: req.headers(), postData: req.postData() });
    });
    context.on('page', (page) => this.watchPage(page));
    for (const page of context.pages()) this.watchPage(page);
  }

  private watchPage(page: Page): void {
    page.on('websocket', (ws) => {
      this.webSockets.push(ws.url());
      ws.on('framesent', (frame) => this.framesSent.push(String(frame.payload)));
      ws.on('framereceived', (frame) => {
        this.framesReceived.push(String(frame.payload));
        this.framesReceivedBy(page).push(String(frame.payload));
      });
    });
    page.on('console', (message) => {
      if (message.type() === 'error') this.consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => this.consoleErrors.push(`pageerror: ${error.message}`));
  }

  /** The WebSocket frames one page received. */
  framesReceivedBy(page: Page): string[] {
    let frames = this.mReceivedBy.get(page);
    if (!frames) {
      frames = [];
      this.mReceivedBy.set(page, frames);
    }
    return frames;
  }

  /** Every URL a page reached: HTTP requests and WebSockets. */
  allUrls(): string[] {
    return [...this.requests.map((r) => r.url), ...this.webSockets];
  }
}

/**
 * Chromium aborts a navigation with ERR_NETWORK_CHANGED when a network interface appears or goes
 * in its namespace, and the lab adds and removes veth pairs for client networks while other
 * pages load. A person would load the page again; so does goto, up to six times, waiting a little longer
 * each time.
 */
function reloadOnNetworkChange(page: Page): Page {
  const goto = page.goto.bind(page);
  page.goto = async (url, options) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await goto(url, options);
      } catch (err) {
        // The abort shows either as the error itself or as a navigation to Chromium's error page.
        const text = String(err);
        const changed = text.includes('ERR_NETWORK_CHANGED') || text.includes('chrome-error://chromewebdata');
        if (attempt >= 6 || !changed) throw err;
        // Adding a network is several changes (link, address, route) a few milliseconds apart;
        // an immediate retry is aborted by the next one, so let the burst pass first.
        await new Promise((r) => setTimeout(r, 250 * attempt));
      }
    }
  };
  return page;
}

export async function newContext(browser: Browser, locale = 'en-US'): Promise<BrowserContext> {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    locale,
    viewport: { width: 1024, height: 720 },
  });
  context.setDefaultTimeout(WAIT_MS);
  const newPage = context.newPage.bind(context);
  context.newPage = async () => reloadOnNetworkChange(await newPage());
  return context;
}

/** The browser contexts one group of tests opens, closed together at its end. */
export class Contexts {
  private readonly mOpen: BrowserContext[] = [];

  async context(browser: Browser, options: { locale?: string; traffic?: Traffic } = {}): Promise<BrowserContext> {
    const context = await newContext(browser, options.locale);
    this.mOpen.push(context);
    options.traffic?.watch(context);
    return context;
  }

  async page(browser: Browser, options: { locale?: string; traffic?: Traffic } = {}): Promise<Page> {
    return (await this.context(browser, options)).newPage();
  }

  async closeAll(): Promise<void> {
    for (const context of this.mOpen.splice(0)) await context.close();
  }
}

/**
 * Waits until `ok(read())` holds, reading again every `intervalMs`; for what has no event to wait
 * on (statistics counters). Fails with `what` and the last value read after `timeoutMs`.
 */
export async function waitUntil<T>(
  what: string,
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  { timeoutMs = WAIT_MS, intervalMs = 250 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(last)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
    last = await read();
  }
  return last;
}

/** Starts a meeting from the landing page; returns its invite link. */
export async function startMeeting(page: Page, origin: string): Promise<string> {
  await page.goto(`${origin}/`);
  await page.getByTestId('start-meeting').click();
  const invite = page.getByTestId('invite-link');
  await invite.waitFor();
  return invite.inputValue();
}

export function secretOf(link: string): string {
  return link.slice(link.indexOf('#') + 1);
}

/**
 * Joins under `name` (opening `link` first if given). With `preview`, waits until the camera
 * preview shows, so the fake devices are running and are published with the join.
 */
export async function joinAs(
  page: Page,
  name: string,
  options: { link?: string; preview?: boolean } = {},
): Promise<void> {
  if (options.link !== undefined) await page.goto(options.link);
  if (options.preview) await page.getByTestId('preview-video').waitFor();
  await page.getByTestId('name-input').fill(name);
  await page.getByTestId('join-button').click();
}

/** This page's participant ID, from its own camera tile. */
export async function selfId(page: Page): Promise<string> {
  const tile = page.locator('[data-testid="tile"][data-self="true"][data-kind="camera"]');
  return (await tile.getAttribute('data-participant-id')) ?? '';
}

/** Waits until the roster on `page` shows exactly `expected` (order-insensitive). */
export async function waitForRoster(page: Page, expected: string[]): Promise<void> {
  const want = [...expected].sort();
  try {
    await page.waitForFunction(
      (names: string[]) => {
        const items = [...document.querySelectorAll('[data-testid="roster-item"]')];
        // The visible name and "(you)", without the avatar's initial.
        const text = (el: Element): string =>
          (el.querySelector('.roster-name')?.textContent ?? '').replace(/\s+/g, ' ').trim();
        const have = items.map(text).sort();
        return JSON.stringify(have) === JSON.stringify(names);
      },
      want,
      { timeout: WAIT_MS },
    );
  } catch (err) {
    const have = await page.locator('[data-testid="roster-item"] .roster-name').allTextContents();
    throw new Error(`roster is ${JSON.stringify(have)}, expected ${JSON.stringify(want)}: ${String(err)}`, {
      cause: err,
    });
  }
}

/**
 * Forces the size of every remote tile's video on `page` (display: none for hidden), through the
 * CSSOM: the page's Content-Security-Policy refuses injected style sheets.
 */
export async function setTileSize(page: Page, size: { width: number; height: number } | 'hidden'): Promise<void> {
  await page.evaluate((wanted) => {
    const videos = document.querySelectorAll<HTMLElement>(
      '[data-testid="tile"][data-self="false"] video[data-testid="tile-video"]',
    );
    for (const video of videos) {
      if (wanted === 'hidden') {
        video.style.setProperty('display', 'none', 'important');
        continue;
      }
      video.style.removeProperty('display');
      video.style.setProperty('width', `${wanted.width}px`, 'important');
      video.style.setProperty('height', `${wanted.height}px`, 'important');
    }
  }, size);
}

/** A member without camera or microphone: it only receives (keeps the 2-core machine free). */
export async function receiveOnly(
  contexts: Contexts,
  browser: Browser,
  link: string,
  name: string,
  traffic?: Traffic,
): Promise<Page> {
  const context = await contexts.context(browser, traffic ? { traffic } : {});
  await context.addInitScript(() => {
    navigator.mediaDevices.getUserMedia = () =>
      Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
  });
  const page = await context.newPage();
  await page.goto(link);
  await joinAs(page, name);
  return page;
}
