// Devices during the call, in Chromium through the real SFU: switching camera, microphone and
// speaker from the in-call Devices menu, and recovering from a camera that stops, without
// leaving. Chromium's fake capture offers three cameras (`device-count=3`; the second is a Y16
// depth camera that WebRTC cannot encode, so the test switches to the third, an MJPEG one), three
// microphones and three speakers. Each step checks on the other page that frames from the new device arrive,
// decrypt and decode (getStats framesDecoded, the frame transform's counters), and on the
// sender's own signaling that no new `publish` (renegotiation) was needed where none should be.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Contexts,
  joinAs,
  launchBrowser,
  selfId,
  startMeeting,
  Traffic,
  waitForRoster,
  waitUntil,
  WAIT_MS,
} from './browser';
import { cryptoStats, endDevice, findTrack, localDevices, pageStats, type LocalDevices } from './hook';
import { serverHasMedia, startServer, stopAndRemove, WEB_DIR, type RunningServer } from './server';

const SHOTS = join(WEB_DIR, 'test-results');

/** Frames (video) or packets (audio) `page` got from `from`'s `source`, and how many decrypted. */
async function received(page: Page, from: string, source: 'camera' | 'microphone') {
  const stats = findTrack((await pageStats(page)).received, from, source);
  const crypto = findTrack(
    (await cryptoStats(page)).tracks.filter((t) => t.role === 'receive'),
    from,
    source,
  );
  return {
    media: source === 'camera' ? (stats?.framesDecoded ?? 0) : (stats?.packetsReceived ?? 0),
    decrypted: crypto?.ok ?? 0,
    failed: crypto?.failed ?? 0,
  };
}

/**
 * Waits until `page` decoded `more` frames (camera) or received `more` packets (microphone) of
 * `from` beyond `since`, each through the decryptor. Returns the new counters.
 */
async function waitForMore(
  page: Page,
  from: string,
  source: 'camera' | 'microphone',
  since: { media: number; decrypted: number },
  more: number,
) {
  return waitUntil(
    `${more} more ${source} frames from ${from}`,
    () => received(page, from, source),
    (now) => now.media - since.media >= more && now.decrypted - since.decrypted >= more,
  );
}

function publishes(traffic: Traffic): number {
  return traffic.framesSent.filter((f) => f.includes('"type":"publish"')).length;
}

/** Opens the Devices menu (a disclosure) if it is closed. */
async function openMenu(page: Page): Promise<void> {
  const menu = page.getByTestId('device-menu');
  if ((await menu.getAttribute('open')) === null) await page.getByTestId('device-menu-button').click();
  await page.getByTestId('call-camera-select').waitFor();
}

/** The values and texts of a select's options. */
function options(page: Page, testId: string): Promise<{ value: string; text: string }[]> {
  return page
    .getByTestId(testId)
    .locator('option')
    .evaluateAll((list) => list.map((o) => ({ value: (o as HTMLOptionElement).value, text: o.textContent ?? '' })));
}

async function optionValues(page: Page, testId: string): Promise<string[]> {
  return (await options(page, testId)).map((o) => o.value);
}

describe.skipIf(!serverHasMedia())('devices during the call', () => {
  let browser: Browser;
  let server: RunningServer;
  const contexts = new Contexts();

  beforeAll(async () => {
    browser = await launchBrowser({ fakeDevices: 'device-count=3' });
    server = await startServer();
  });

  afterAll(async () => {
    await contexts.closeAll();
    await browser?.close();
    await stopAndRemove(server);
  });

  /** Alice (whose signaling is recorded) and Bob in one meeting, each decoding the other. */
  async function meeting() {
    const traffic = new Traffic();
    const alice = await contexts.page(browser, { traffic });
    const bob = await contexts.page(browser);
    const link = await startMeeting(alice, server.origin);
    await joinAs(alice, 'Alice', { link, preview: true });
    await joinAs(bob, 'Bob', { link, preview: true });
    await waitForRoster(alice, ['Alice (you)', 'Bob']);
    await waitForRoster(bob, ['Alice', 'Bob (you)']);
    const aliceId = await selfId(alice);
    for (const source of ['camera', 'microphone'] as const)
      await waitForMore(bob, aliceId, source, { media: 0, decrypted: 0 }, 1);
    return { alice, bob, aliceId, traffic };
  }

  it('switches camera, microphone and speaker in the call: no renegotiation, still end-to-end encrypted', async () => {
    const { alice, bob, aliceId, traffic } = await meeting();
    await openMenu(alice);
    const before = await localDevices(alice);
    const cameras = await options(alice, 'call-camera-select');
    expect(cameras.map((c) => c.text)).toEqual(['fake_device_0', 'fake_device_1', 'fake_device_2']);
    expect(before.camera.track?.label).toBe('fake_device_0');
    const publishesBefore = publishes(traffic);

    // Camera: the other fake camera replaces the track on the same sender.
    const otherCamera = cameras.find((c) => c.text === 'fake_device_2')?.value ?? '';
    await alice.getByTestId('call-camera-select').selectOption(otherCamera);
    const switched = await waitUntil(
      'the camera switched',
      () => localDevices(alice),
      (d: LocalDevices) => d.camera.deviceId === otherCamera && d.camera.track?.readyState === 'live',
    );
    expect(switched.camera.track?.id).not.toBe(before.camera.track?.id);
    expect(switched.camera.track?.label).not.toBe(before.camera.track?.label);
    // Frames of the new camera reach Bob, decrypt and decode (the fake camera runs at 30 fps).
    const since = await received(bob, aliceId, 'camera');
    const afterCamera = await waitForMore(bob, aliceId, 'camera', since, 60);
    console.log(
      `camera ${before.camera.track?.label} -> ${switched.camera.track?.label}: bob decoded ` +
        `${afterCamera.media - since.media} more frames, decrypted ${afterCamera.decrypted - since.decrypted}`,
    );
    expect(publishes(traffic)).toBe(publishesBefore);

    // Microphone: another fake microphone, the same way.
    const microphones = await optionValues(alice, 'call-microphone-select');
    expect(microphones.length).toBeGreaterThanOrEqual(2);
    const otherMicrophone = microphones.find((id) => id !== before.microphone.deviceId) ?? '';
    await alice.getByTestId('call-microphone-select').selectOption(otherMicrophone);
    const micSwitched = await waitUntil(
      'the microphone switched',
      () => localDevices(alice),
      (d: LocalDevices) => d.microphone.deviceId === otherMicrophone && d.microphone.track?.readyState === 'live',
    );
    expect(micSwitched.microphone.track?.id).not.toBe(before.microphone.track?.id);
    const sinceAudio = await received(bob, aliceId, 'microphone');
    const afterAudio = await waitForMore(bob, aliceId, 'microphone', sinceAudio, 100);
    console.log(
      `microphone -> ${micSwitched.microphone.track?.label}: bob received ` +
        `${afterAudio.media - sinceAudio.media} more packets, decrypted ${afterAudio.decrypted - sinceAudio.decrypted}`,
    );
    expect(publishes(traffic)).toBe(publishesBefore);

    // Speaker: Bob's voice plays on the chosen output (setSinkId on every remote audio element).
    const speakers = await optionValues(alice, 'call-speaker-select');
    expect(speakers.length).toBeGreaterThanOrEqual(2);
    const speaker = speakers.find((id) => id !== 'default') ?? '';
    await alice.getByTestId('call-speaker-select').selectOption(speaker);
    await expect
      .poll(() =>
        alice.evaluate(() =>
          [...document.querySelectorAll('audio')].map((a) => (a as HTMLAudioElement & { sinkId: string }).sinkId),
        ),
      )
      .toEqual([speaker]);
    expect((await localDevices(alice)).speakerId).toBe(speaker);
    await alice.screenshot({ path: join(SHOTS, 'devices-menu.png') });
    expect(await alice.getByTestId('device-notice').count()).toBe(0);
    expect(traffic.consoleErrors).toEqual([]);
  });

  it('recovers from a camera that stops, and from one that cannot be opened again, without leaving', async () => {
    const { alice, bob, aliceId, traffic } = await meeting();
    const publishesBefore = publishes(traffic);
    const before = await localDevices(alice);

    // The camera stops (as when unplugged): the page opens it again on the same sender.
    expect(await endDevice(alice, 'camera')).toBe(true);
    const reopened = await waitUntil(
      'the camera reopened',
      () => localDevices(alice),
      (d: LocalDevices) => d.camera.track !== null && d.camera.track.id !== before.camera.track?.id,
    );
    expect(reopened.camera.track?.readyState).toBe('live');
    expect(reopened.camera.problem).toBeNull();
    let since = await received(bob, aliceId, 'camera');
    await waitForMore(bob, aliceId, 'camera', since, 60);
    expect(publishes(traffic)).toBe(publishesBefore);

    // Now no camera can be opened (every request fails as for a device in use): Alice stays in
    // the meeting, is told, and stops sending the camera (Bob sees her avatar, not a frozen frame).
    await alice.evaluate(() => {
      const devices = navigator.mediaDevices as MediaDevices & { realGetUserMedia?: MediaDevices['getUserMedia'] };
      devices.realGetUserMedia = devices.getUserMedia.bind(devices);
      devices.getUserMedia = () => Promise.reject(new DOMException('busy', 'NotReadableError'));
    });
    expect(await endDevice(alice, 'camera')).toBe(true);
    const notice = alice.getByTestId('device-notice');
    await expect.poll(() => notice.textContent()).toContain('Your camera stopped');
    await expect.poll(() => publishes(traffic)).toBe(publishesBefore + 1);
    await bob
      .locator(`[data-testid="tile"][data-participant-id="${aliceId}"] [data-testid="tile-avatar"]`)
      .waitFor({ timeout: WAIT_MS });
    await waitForRoster(alice, ['Alice (you)', 'Bob']);
    expect((await localDevices(alice)).camera.problem).toBe('ended');
    await alice.screenshot({ path: join(SHOTS, 'devices-ended.png') });

    // The camera can be opened again: "Try again" sends it, Bob decodes it.
    await alice.evaluate(() => {
      const devices = navigator.mediaDevices as MediaDevices & { realGetUserMedia?: MediaDevices['getUserMedia'] };
      if (devices.realGetUserMedia) devices.getUserMedia = devices.realGetUserMedia;
    });
    await alice.getByTestId('device-retry').click();
    await expect.poll(() => alice.getByTestId('device-notice').count()).toBe(0);
    // Counted from the first frame Bob has again (the server may reuse the m-section, whose
    // counters then start where they stopped).
    since = await waitUntil(
      'the camera back at Bob',
      () => received(bob, aliceId, 'camera'),
      (r) => r.media > 0,
    );
    await waitForMore(bob, aliceId, 'camera', since, 60);
    await bob
      .locator(`[data-testid="tile"][data-participant-id="${aliceId}"] [data-testid="tile-video"][data-playing="true"]`)
      .waitFor({ timeout: WAIT_MS });
    expect(publishes(traffic)).toBe(publishesBefore + 2);
  });

  it('joins receive-only when the devices are refused, and sends them once they are allowed', async () => {
    const dana = await contexts.page(browser);
    const link = await startMeeting(dana, server.origin);
    await joinAs(dana, 'Dana', { link, preview: true });
    await waitForRoster(dana, ['Dana (you)']);

    const context = await contexts.context(browser);
    await context.addInitScript(() => {
      const devices = navigator.mediaDevices;
      const real = devices.getUserMedia.bind(devices);
      const w = window as unknown as { refuseDevices: boolean };
      w.refuseDevices = true;
      devices.getUserMedia = (constraints) =>
        w.refuseDevices ? Promise.reject(new DOMException('Permission denied', 'NotAllowedError')) : real(constraints);
    });
    const erin = await context.newPage();
    await erin.goto(link);
    await erin.getByTestId('device-message').waitFor();
    await joinAs(erin, 'Erin');
    await waitForRoster(erin, ['Dana', 'Erin (you)']);
    const notice = erin.getByTestId('device-notice');
    await expect.poll(() => notice.textContent()).toContain('The browser blocked the camera and the microphone.');
    expect(await notice.textContent()).toContain('Try again');
    const erinId = await selfId(erin);

    // Allowed now (as after changing the site settings): "Try again" publishes both into the call.
    await erin.evaluate(() => {
      (window as unknown as { refuseDevices: boolean }).refuseDevices = false;
    });
    await erin.getByTestId('device-retry').click();
    await expect.poll(() => erin.getByTestId('device-notice').count()).toBe(0);
    for (const source of ['camera', 'microphone'] as const)
      await waitForMore(dana, erinId, source, { media: 0, decrypted: 0 }, 10);
    expect(await erin.getByTestId('mic-button').isDisabled()).toBe(false);
  });
});
