// Debian's Firefox ESR driven by puppeteer-core over WebDriver BiDi (no downloaded browser), and
// the page actions, waits and test-hook readers the Firefox tests need: the counterparts of the
// playwright ones in browser.ts and hook.ts (puppeteer's API differs, the pages are the same).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer-core';
import { WAIT_MS } from './deadline';
import type { CryptoStats, PageStats, TestHook } from './hook';

export const FIREFOX_PATH = process.env['CONCLAVE_FIREFOX'] ?? '/usr/bin/firefox-esr';

export function hasFirefox(): boolean {
  return existsSync(FIREFOX_PATH);
}

/**
 * Preferences of the test profile. Media: fake camera (a test pattern) and microphone (a tone), no
 * permission prompts, media that plays without a user gesture and in background tabs. Quiet: no
 * updates, telemetry or other background requests. (Fake streams cover no screen: getDisplayMedia
 * finds nothing to capture in headless Firefox, see firefox.test.ts.)
 */
export const FIREFOX_PREFS: Record<string, unknown> = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  'media.block-autoplay-until-in-foreground': false,
  'app.update.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
};

export interface FirefoxOptions {
  /** A wrapper that runs Firefox elsewhere (e.g. inside a lab network namespace). */
  executablePath?: string;
  prefs?: Record<string, unknown>;
  /** The WebDriver BiDi port (default: one Firefox picks). */
  debuggingPort?: number;
}

export function launchFirefox(options: FirefoxOptions = {}): Promise<Browser> {
  return puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: options.executablePath ?? FIREFOX_PATH,
    headless: true,
    // The test server's certificate is self-signed.
    acceptInsecureCerts: true,
    extraPrefsFirefox: { ...FIREFOX_PREFS, ...options.prefs },
    defaultViewport: { width: 1024, height: 720 },
    ...(options.debuggingPort !== undefined ? { debuggingPort: options.debuggingPort } : {}),
  });
}

/**
 * Firefox inside a client network (e2e/lab.ts createClientNetwork). Its WebDriver BiDi server
 * listens on the namespace's own 127.0.0.1, which this process cannot reach; so a relay here
 * listens on the same port of this namespace's 127.0.0.1 (the address Firefox prints and puppeteer
 * dials, and the only Host Firefox accepts) and carries each connection into the namespace
 * through `ip netns exec ... node` (Chromium needs none of this: playwright talks to it over a pipe).
 */
export async function launchFirefoxIn(net: { namespace: string; firefoxPath: string }): Promise<Browser> {
  const relay = createServer((socket) => {
    const inside = spawn(
      'ip',
      [
        'netns',
        'exec',
        net.namespace,
        process.execPath,
        '-e',
        `const s = require('net').connect(${port}, '127.0.0.1');` +
          `process.stdin.pipe(s); s.pipe(process.stdout); s.on('error', () => process.exit(1));` +
          `s.on('close', () => process.exit(0));`,
      ],
      { stdio: ['pipe', 'pipe', 'ignore'] },
    );
    socket.pipe(inside.stdin);
    inside.stdout.pipe(socket);
    const end = (): void => {
      socket.destroy();
      inside.kill();
    };
    socket.on('error', end);
    socket.on('close', end);
    inside.on('exit', end);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const port = (relay.address() as AddressInfo).port;
  try {
    const browser = await launchFirefox({ executablePath: net.firefoxPath, debuggingPort: port });
    browser.on('disconnected', () => relay.close());
    return browser;
  } catch (error) {
    relay.close();
    throw error;
  }
}

/** The Firefox pages (each in its own context, so its own storage) one group of tests opens. */
export class FirefoxPages {
  private readonly mOpen: BrowserContext[] = [];
  /** Console errors and uncaught exceptions of every page opened here. */
  readonly consoleErrors: string[] = [];

  async page(browser: Browser): Promise<Page> {
    const context = await browser.createBrowserContext();
    this.mOpen.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on('console', (message) => {
      if (message.type() === 'error') this.consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => this.consoleErrors.push(`pageerror: ${String(error)}`));
    return page;
  }

  async closeAll(): Promise<void> {
    for (const context of this.mOpen.splice(0)) await context.close().catch(() => undefined);
  }
}

const testId = (id: string): string => `[data-testid="${id}"]`;

export async function click(page: Page, selector: string): Promise<void> {
  await page.locator(selector).setTimeout(WAIT_MS).click();
}

export async function fill(page: Page, selector: string, value: string): Promise<void> {
  await page.locator(selector).setTimeout(WAIT_MS).fill(value);
}

export async function waitFor(page: Page, selector: string): Promise<void> {
  await page.waitForSelector(selector, { timeout: WAIT_MS });
}

/** Starts a meeting from the landing page; returns its invite link. */
export async function startMeeting(page: Page, origin: string): Promise<string> {
  await page.goto(`${origin}/`);
  await click(page, testId('start-meeting'));
  await waitFor(page, testId('invite-link'));
  return page.$eval(testId('invite-link'), (el) => (el as HTMLInputElement).value);
}

/** Opens `link`, waits for the camera preview (so the fake devices are published), joins as `name`. */
export async function joinAs(page: Page, name: string, link: string): Promise<void> {
  // Firefox shows no video in a page that is not in front (so the preview would never play).
  await page.bringToFront();
  await page.goto(link);
  await waitFor(page, '[data-testid="preview-video"][data-playing="true"]');
  await fill(page, testId('name-input'), name);
  await click(page, testId('join-button'));
}

/** This page's participant ID, from its own camera tile. */
export async function selfId(page: Page): Promise<string> {
  const selector = '[data-testid="tile"][data-self="true"][data-kind="camera"]';
  await waitFor(page, selector);
  return page.$eval(selector, (el) => el.getAttribute('data-participant-id') ?? '');
}

/** The names in the roster, sorted ("(you)" included). */
export function rosterNames(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="roster-item"] .roster-name')]
      .map((el) => (el.textContent ?? '').replace(/\s+/g, ' ').trim())
      .sort(),
  );
}

/** Waits until the roster shows exactly `expected` (order-insensitive, "(you)" included). */
export async function waitForRoster(page: Page, expected: string[]): Promise<void> {
  const want = JSON.stringify([...expected].sort());
  try {
    await page.waitForFunction(
      (names: string) =>
        JSON.stringify(
          [...document.querySelectorAll('[data-testid="roster-item"] .roster-name')]
            .map((el) => (el.textContent ?? '').replace(/\s+/g, ' ').trim())
            .sort(),
        ) === names,
      { timeout: WAIT_MS },
      want,
    );
  } catch (err) {
    throw new Error(`roster is ${JSON.stringify(await rosterNames(page))}, expected ${want}: ${String(err)}`, {
      cause: err,
    });
  }
}

type WithHook = { __conclaveTest?: TestHook };

export function pageStats(page: Page): Promise<PageStats> {
  return page.evaluate(() => {
    const hook = (window as unknown as WithHook).__conclaveTest;
    if (!hook) throw new Error('no test hook: build with --mode e2e');
    return hook.stats();
  });
}

export function cryptoStats(page: Page): Promise<CryptoStats> {
  return page.evaluate(() => {
    const hook = (window as unknown as WithHook).__conclaveTest;
    if (!hook) throw new Error('no test hook: build with --mode e2e');
    return hook.crypto();
  });
}

export function securityCode(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const hook = (window as unknown as WithHook).__conclaveTest;
    if (!hook) throw new Error('no test hook: build with --mode e2e');
    return hook.securityCode();
  });
}
