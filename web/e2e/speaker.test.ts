// Speaker and state awareness end to end: three Chromium pages in one meeting through the real
// SFU, end-to-end encryption on. Each page's microphone is a WebAudio tone the test switches on
// and off (silence otherwise), so who talks is under the test's control. The speaker is detected
// in each browser from the decrypted audio; mute and camera state travel sealed between members.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Browser as FirefoxBrowser, Page as FirefoxPage } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Contexts, joinAs, launchBrowser, selfId, startMeeting, waitForRoster, WAIT_MS } from './browser';
import * as ff from './firefox';
import { inLab } from './lab';
import { serverHasMedia, startServer, stopAndRemove, WEB_DIR, type RunningServer } from './server';

const SHOTS = join(WEB_DIR, 'test-results');

/**
 * Replaces the microphone of every getUserMedia answer with a 440 Hz tone from WebAudio, silent
 * until `window.__tone(true)`. Runs in the page before the client's code.
 */
function installTone(): void {
  // On the prototype: Firefox runs this before navigator.mediaDevices exists.
  if (typeof MediaDevices !== 'function') return;
  const proto = MediaDevices.prototype;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the right `this`
  const original = proto.getUserMedia;
  let gain: GainNode | null = null;
  let track: MediaStreamTrack | null = null;
  const toneTrack = (): MediaStreamTrack => {
    if (track === null || track.readyState === 'ended') {
      const context = new AudioContext();
      const oscillator = context.createOscillator();
      oscillator.frequency.value = 440;
      gain = context.createGain();
      gain.gain.value = (window as unknown as { __toneOn?: boolean }).__toneOn ? 0.5 : 0;
      const destination = context.createMediaStreamDestination();
      oscillator.connect(gain).connect(destination);
      oscillator.start();
      void context.resume();
      track = destination.stream.getAudioTracks()[0] ?? null;
    }
    if (track === null) throw new Error('no tone track');
    return track.clone();
  };
  (window as unknown as { __tone: (on: boolean) => void }).__tone = (on) => {
    (window as unknown as { __toneOn?: boolean }).__toneOn = on;
    if (gain) gain.gain.value = on ? 0.5 : 0;
  };
  proto.getUserMedia = async function (this: MediaDevices, constraints?: MediaStreamConstraints) {
    const stream = await original.call(this, constraints);
    for (const audio of stream.getAudioTracks()) {
      stream.removeTrack(audio);
      audio.stop();
      stream.addTrack(toneTrack());
    }
    return stream;
  };
}

function tile(page: Page, participantId: string) {
  return page.locator(`[data-testid="tile"][data-kind="camera"][data-participant-id="${participantId}"]`);
}

/** The two browser drivers' pages, as far as these tests use them. */
type AnyPage = Pick<Page, 'waitForSelector' | 'evaluate'> | Pick<FirefoxPage, 'waitForSelector' | 'evaluate'>;

async function waitForAttribute(page: AnyPage, participantId: string, name: string, value: string): Promise<void> {
  const selector = `[data-testid="tile"][data-kind="camera"][data-participant-id="${participantId}"][${name}="${value}"]`;
  await (page as Pick<Page, 'waitForSelector'>).waitForSelector(selector, { timeout: WAIT_MS });
}

async function tone(page: AnyPage, on: boolean): Promise<void> {
  // Both drivers take (function, argument).
  await (page as Pick<Page, 'evaluate'>).evaluate(
    (value: boolean) => (window as unknown as { __tone: (on: boolean) => void }).__tone(value),
    on,
  );
}

describe.skipIf(!serverHasMedia())('speaker and state awareness', () => {
  let browser: Browser;
  let server: RunningServer;
  const contexts = new Contexts();

  beforeAll(async () => {
    browser = await launchBrowser();
    server = await startServer();
  });

  afterAll(async () => {
    await contexts.closeAll();
    await browser?.close();
    await stopAndRemove(server);
  });

  const page = async (locale?: string): Promise<Page> => {
    const p = await contexts.page(browser, locale ? { locale } : {});
    await p.addInitScript(installTone);
    return p;
  };

  it('the speaker indicator and the speaker view follow who talks; mute and camera off show on the others', async () => {
    const started = Date.now();
    const timings: string[] = [];
    const step = (what: string): void => void timings.push(`${what} ${Date.now() - started} ms`);
    const alice = await page();
    // Bob's browser speaks German: the new controls are translated.
    const bob = await page('de-DE');
    const carol = await page();
    const link = await startMeeting(alice, server.origin);
    await alice.goto(link);
    // The microphone meter before joining moves with the tone.
    await tone(alice, true);
    await alice.waitForSelector('[data-testid="mic-level"]:not([data-level="0"])', { timeout: WAIT_MS });
    await alice.screenshot({ path: join(SHOTS, 'speaker-prejoin.png') });
    await tone(alice, false);
    await alice.waitForSelector('[data-testid="mic-level"][data-level="0"]', { timeout: WAIT_MS });
    await joinAs(alice, 'Alice Liddell', { preview: true });
    await joinAs(bob, 'Bob', { link, preview: true });
    await joinAs(carol, 'Carol', { link, preview: true });
    const everyone = ['Alice Liddell (you)', 'Bob', 'Carol'];
    await waitForRoster(alice, everyone);
    await waitForRoster(bob, ['Alice Liddell', 'Bob (Sie)', 'Carol']);
    await waitForRoster(carol, ['Alice Liddell', 'Bob', 'Carol (you)']);
    const [aliceId, bobId, carolId] = await Promise.all([selfId(alice), selfId(bob), selfId(carol)]);
    step('joined');

    // Silence: nobody is marked as speaking.
    await bob.getByTestId('layout-speaker').click();
    expect(await bob.getByTestId('layout-speaker').textContent()).toBe('Sprecher');
    expect(await bob.locator('[data-testid="tile"][data-speaking="true"]').count()).toBe(0);

    // Alice talks: Bob and Carol see her speak; she sees herself speak; Bob's large tile is hers.
    await tone(alice, true);
    await waitForAttribute(bob, aliceId, 'data-speaking', 'true');
    await waitForAttribute(carol, aliceId, 'data-speaking', 'true');
    await waitForAttribute(alice, aliceId, 'data-speaking', 'true');
    await bob.waitForSelector(`[data-testid="speaker-main"] [data-participant-id="${aliceId}"]`, { timeout: WAIT_MS });
    step('alice speaks');
    expect(await tile(bob, carolId).getAttribute('data-speaking')).toBe('false');
    await bob.screenshot({ path: join(SHOTS, 'speaker-view.png') });

    // Carol takes over: the highlight and the large tile move to her.
    await tone(alice, false);
    await tone(carol, true);
    await waitForAttribute(bob, carolId, 'data-speaking', 'true');
    await waitForAttribute(bob, aliceId, 'data-speaking', 'false');
    await waitForAttribute(alice, carolId, 'data-speaking', 'true');
    await bob.waitForSelector(`[data-testid="speaker-main"] [data-participant-id="${carolId}"]`, { timeout: WAIT_MS });
    step('carol speaks');

    // Pinning Alice (with the keyboard) keeps her large while Carol talks; unpinning lets go.
    const pin = tile(bob, aliceId).getByTestId('tile-pin');
    await pin.focus();
    await bob.keyboard.press('Enter');
    await bob.waitForSelector(`[data-testid="speaker-main"] [data-participant-id="${aliceId}"][data-pinned="true"]`, {
      timeout: WAIT_MS,
    });
    await bob.screenshot({ path: join(SHOTS, 'speaker-pinned.png') });
    await tile(bob, aliceId).getByTestId('tile-pin').click();
    await bob.waitForSelector(`[data-testid="speaker-main"] [data-participant-id="${carolId}"]`, { timeout: WAIT_MS });

    step('pinned and unpinned');
    // Carol mutes: the others see her muted, and she no longer counts as speaking.
    await carol.getByTestId('mic-button').click();
    await waitForAttribute(bob, carolId, 'data-muted', 'true');
    await waitForAttribute(alice, carolId, 'data-muted', 'true');
    await tile(bob, carolId).getByTestId('tile-muted').waitFor();
    await waitForAttribute(bob, carolId, 'data-speaking', 'false');
    expect(await tile(bob, aliceId).getAttribute('data-muted')).toBe('false');

    step('carol muted');
    // Alice turns her camera off: the others see her initials instead of a frame.
    await alice.getByTestId('camera-button').click();
    await waitForAttribute(bob, aliceId, 'data-camera-off', 'true');
    const avatar = tile(bob, aliceId).getByTestId('tile-avatar');
    await avatar.waitFor();
    expect((await avatar.textContent())?.trim()).toBe('AL');
    expect(await tile(bob, aliceId).getByTestId('tile-video').count()).toBe(0);
    await waitForAttribute(carol, aliceId, 'data-camera-off', 'true');
    // And back on: the video returns.
    await alice.getByTestId('camera-button').click();
    await waitForAttribute(bob, aliceId, 'data-camera-off', 'false');
    await tile(bob, aliceId).getByTestId('tile-video').waitFor();

    step('camera off and on');
    // Each tile of another person shows a connection quality from Bob's own statistics.
    await waitForAttribute(bob, aliceId, 'data-video', 'true');
    await bob.waitForSelector(`[data-participant-id="${aliceId}"] [data-testid="tile-quality"]`, { timeout: WAIT_MS });
    step('quality shown');
    console.log(`speaker awareness: ${timings.join(', ')}`);
    await bob.getByTestId('layout-grid').click();
    await bob.screenshot({ path: join(SHOTS, 'speaker-grid.png') });
    await bob.setViewportSize({ width: 390, height: 844 });
    await bob.getByTestId('layout-speaker').click();
    await bob.screenshot({ path: join(SHOTS, 'speaker-phone.png'), fullPage: true });
    expect(bobId).not.toBe('');
  });
});

// Firefox cannot run WebAudio on this machine (no audio output device: every AudioContext stays
// suspended), so Firefox keeps its fake microphone (a constant tone) and Chromium measures it; the
// state announcements go both ways.
describe.skipIf(!serverHasMedia() || !ff.hasFirefox() || !inLab())('speaker and state awareness with Firefox', () => {
  let firefox: FirefoxBrowser;
  let chromium: Browser;
  let server: RunningServer;
  const contexts = new Contexts();
  const firefoxPages = new ff.FirefoxPages();

  beforeAll(async () => {
    server = await startServer();
    firefox = await ff.launchFirefox();
    chromium = await launchBrowser();
  });

  afterEach(async () => {
    const errors = firefoxPages.consoleErrors.splice(0);
    await firefoxPages.closeAll();
    await contexts.closeAll();
    expect(errors).toEqual([]);
  });

  afterAll(async () => {
    await firefox?.close();
    await chromium?.close();
    await stopAndRemove(server);
  });

  it('Chromium sees Firefox talk and mute, and each sees the other muted or with the camera off', async () => {
    const fox = await firefoxPages.page(firefox);
    const link = await ff.startMeeting(fox, server.origin);
    await ff.joinAs(fox, 'Fiona Fox', link);
    const chrome = await contexts.page(chromium);
    await chrome.addInitScript(installTone);
    await joinAs(chrome, 'Chris', { link, preview: true });
    await ff.waitForRoster(fox, ['Fiona Fox (you)', 'Chris']);
    await waitForRoster(chrome, ['Fiona Fox', 'Chris (you)']);
    const fiona = await ff.selfId(fox);
    const chris = await selfId(chrome);

    // Firefox's fake microphone plays a tone: Chromium measures it from the decrypted audio.
    await waitForAttribute(chrome, fiona, 'data-speaking', 'true');
    expect(await tile(chrome, chris).getAttribute('data-speaking')).toBe('false');
    // Firefox mutes: Chromium shows it muted and no longer speaking.
    await ff.click(fox, '[data-testid="mic-button"]');
    await waitForAttribute(chrome, fiona, 'data-muted', 'true');
    await waitForAttribute(chrome, fiona, 'data-speaking', 'false');
    // Chromium mutes: Firefox opens the sealed state too.
    await chrome.getByTestId('mic-button').click();
    await waitForAttribute(fox, chris, 'data-muted', 'true');
    // Firefox turns its camera off: Chromium shows the initials instead of a frame.
    await ff.click(fox, '[data-testid="camera-button"]');
    await waitForAttribute(chrome, fiona, 'data-camera-off', 'true');
    await tile(chrome, fiona).getByTestId('tile-avatar').waitFor();
    expect((await tile(chrome, fiona).getByTestId('tile-avatar').textContent())?.trim()).toBe('FF');
  });
});
