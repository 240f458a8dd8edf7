// Debian's Chromium driven by playwright-core, plus a recorder of everything the pages send.
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

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

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env['CONCLAVE_CHROMIUM'] ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
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
      ws.on('framereceived', (frame) => this.framesReceived.push(String(frame.payload)));
    });
    page.on('console', (message) => {
      if (message.type() === 'error') this.consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => this.consoleErrors.push(`pageerror: ${error.message}`));
  }

  /** Every URL a page reached: HTTP requests and WebSockets. */
  allUrls(): string[] {
    return [...this.requests.map((r) => r.url), ...this.webSockets];
  }
}

export async function newContext(browser: Browser, locale = 'en-US'): Promise<BrowserContext> {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    locale,
    viewport: { width: 1024, height: 720 },
  });
  context.setDefaultTimeout(15000);
  return context;
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
      { timeout: 15000 },
    );
  } catch (err) {
    const have = await page.locator('[data-testid="roster-item"] .roster-name').allTextContents();
    throw new Error(`roster is ${JSON.stringify(have)}, expected ${JSON.stringify(want)}: ${String(err)}`, {
      cause: err,
    });
  }
}
