// End-to-end encryption in real browsers through the real SFU: three members with the right link
// decode each other (every frame is SFrame-encrypted, so decoding proves decryption), read each
// other's chat and a shared file; a fourth page with a WRONG fragment gets the forwarded RTP but
// decodes nothing, reads nothing and says the link is wrong; the security code changes when a
// member leaves; a member who left and kept its keys ("spy") cannot decrypt what is sent after it
// left. Nothing the pages send over the WebSocket contains a name or a chat text in the clear.
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Contexts,
  joinAs,
  launchBrowser,
  secretOf,
  selfId,
  startMeeting,
  Traffic,
  waitForRoster,
  waitUntil,
} from './browser';
import {
  cryptoStats,
  findTrack as find,
  sendKeyGeneration,
  pageStats,
  securityCode as code,
  sendChat,
  spyNextJoin,
  type CryptoStats,
  type TrackStats,
} from './hook';
import { serverHasMedia, startServer, stopAndRemove, WEB_DIR, type RunningServer } from './server';

const SHOTS = join(WEB_DIR, 'test-results');
const UNVERIFIED = 'Unverified participant';
// Names and texts with spaces: they cannot turn up by chance inside base64 or an SDP.
const NAMES = { alice: 'Alice Anders', bob: 'Bob Brenner', carol: 'Carol Conrad', mallory: 'Mallory Mertens' };
const CHAT_TEXT = 'Meet at the old mill at nine';
const VANISHING_TEXT = 'This line will vanish soon';
const FILE_MARKER = 'CONFIDENTIAL PLANS FOR THE MILL ';

async function received(page: Page): Promise<TrackStats[]> {
  return (await pageStats(page)).received;
}

/** What a page receives and what its frame transforms did, read together. */
async function media(page: Page): Promise<{ received: TrackStats[]; crypto: CryptoStats }> {
  return { received: await received(page), crypto: await cryptoStats(page) };
}

describe.skipIf(!serverHasMedia())('end-to-end encryption', () => {
  let browser: Browser;
  let server: RunningServer;
  const contexts = new Contexts();

  beforeAll(async () => {
    browser = await launchBrowser();
    // At trace level the server logs the first bytes of what it forwards and relays: the test
    // below checks, from the server's side, that all of it is ciphertext.
    server = await startServer({ logLevel: 'trace' });
  });

  afterAll(async () => {
    await contexts.closeAll();
    await browser?.close();
    await stopAndRemove(server);
  });

  const page = (traffic: Traffic): Promise<Page> => contexts.page(browser, { traffic });
  const enter = (p: Page, link: string, name: string): Promise<void> => joinAs(p, name, { link, preview: true });

  it('protects media, names, chat and files; refuses a wrong link; forward secrecy after a leave', async () => {
    const traffic = new Traffic();
    const alice = await page(traffic);
    const bob = await page(traffic);
    const carol = await page(traffic);
    const mallory = await page(traffic);
    const link = await startMeeting(alice, server.origin);
    const secret = secretOf(link);
    // Mallory has the room ID but not the secret: a well-formed fragment that is not the room's.
    const wrongLink = `${link.slice(0, link.indexOf('#'))}#${randomBytes(32).toString('base64url')}`;

    await enter(alice, link, NAMES.alice);
    await enter(bob, link, NAMES.bob);
    await enter(carol, link, NAMES.carol);
    await enter(mallory, wrongLink, NAMES.mallory);
    const everyone = { alice, bob, carol } as const;
    for (const [key, p] of Object.entries(everyone)) {
      const names = (['alice', 'bob', 'carol'] as const).map((k) => (k === key ? `${NAMES[k]} (you)` : NAMES[k]));
      await waitForRoster(p, [...names, UNVERIFIED]);
    }
    // Mallory sees nobody's name, and is told her link is wrong.
    await waitForRoster(mallory, [`${NAMES.mallory} (you)`, UNVERIFIED, UNVERIFIED, UNVERIFIED]);
    await expect
      .poll(() => mallory.getByTestId('wrong-link-title').textContent())
      .toBe('This link is incomplete or wrong');
    const ids = {
      alice: await selfId(alice),
      bob: await selfId(bob),
      carol: await selfId(carol),
      mallory: await selfId(mallory),
    };
    for (const p of Object.values(everyone)) {
      await p.locator(`[data-testid="tile"][data-participant-id="${ids.mallory}"][data-e2ee="unverified"]`).waitFor();
      expect(await p.getByTestId('unverified-alert').count()).toBe(1);
      expect(await p.getByTestId('wrong-link').count()).toBe(0);
    }

    // Media: everyone decodes the other two; Mallory receives packets but decodes nothing.
    const others = (me: keyof typeof everyone): string[] =>
      (['alice', 'bob', 'carol'] as const).filter((k) => k !== me).map((k) => ids[k]);
    const decodedAll = (list: TrackStats[], from: string[]): boolean =>
      from.every(
        (id) =>
          (find(list, id, 'camera')?.framesDecoded ?? 0) > 0 &&
          (find(list, id, 'microphone')?.packetsReceived ?? 0) > 0,
      );
    const first: Record<string, TrackStats[]> = {};
    for (const [key, p] of Object.entries(everyone)) {
      const from = others(key as keyof typeof everyone);
      first[key] = await waitUntil(
        `${key} decodes`,
        () => received(p),
        (list) => decodedAll(list, from),
      );
    }
    const members = [ids.alice, ids.bob, ids.carol];
    const malloryFirst = await waitUntil(
      'mallory receives',
      () => received(mallory),
      (list) => members.every((id) => (find(list, id, 'camera')?.packetsReceived ?? 0) > 0),
    );
    // Media keeps flowing, decrypted: from its first decoded frames on, every member decodes 30
    // more frames and 2 s of 48 kHz audio (really decoded, not concealed) from each other member.
    // Waited for, not timed: a slow machine takes longer but does not fail.
    const audible = (t: TrackStats | undefined): number => (t?.totalSamplesReceived ?? 0) - (t?.concealedSamples ?? 0);
    const progress = (key: string, now: { received: TrackStats[]; crypto: CryptoStats }, id: string) => {
      const v0 = find(first[key] ?? [], id, 'camera');
      const v1 = find(now.received, id, 'camera');
      const cv = find(now.crypto.tracks, id, 'camera');
      const ca = find(now.crypto.tracks, id, 'microphone');
      return {
        v0,
        v1,
        cv,
        ca,
        frames: (v1?.framesDecoded ?? 0) - (v0?.framesDecoded ?? 0),
        audible: audible(find(now.received, id, 'microphone')) - audible(find(first[key] ?? [], id, 'microphone')),
      };
    };
    const figures: string[] = [];
    for (const [key, p] of Object.entries(everyone)) {
      const from = others(key as keyof typeof everyone);
      const now = await waitUntil(
        `${key} keeps decoding`,
        () => media(p),
        (m) =>
          from.every((id) => {
            const g = progress(key, m, id);
            return (
              g.frames > 30 &&
              g.audible > 48000 * 2 &&
              (g.cv?.ok ?? 0) > 30 &&
              (g.ca?.ok ?? 0) > 100 &&
              g.cv?.state === 'ok'
            );
          }),
      );
      expect(now.crypto.mode).toBe('script');
      for (const id of from) {
        const who = Object.entries(ids).find(([, v]) => v === id)?.[0];
        const { v0, v1, cv, ca, audible: heard } = progress(key, now, id);
        figures.push(
          `${key} <- ${who}: framesDecoded ${v0?.framesDecoded} -> ${v1?.framesDecoded}, ` +
            `video decrypted ${cv?.ok} failed ${cv?.failed} (gen ${cv?.generation}), ` +
            `audio decrypted ${ca?.ok} failed ${ca?.failed}, audio samples decoded (not concealed) +${heard}`,
        );
      }
      // Mallory's stream is refused on every honest page.
      const fromMallory = find(now.crypto.tracks, ids.mallory, 'camera');
      expect(fromMallory?.ok ?? 0).toBe(0);
      expect(await p.locator('[data-testid="tile"][data-self="true"][data-e2ee="encrypted"]').count()).toBe(1);
      for (const id of from) {
        await p.locator(`[data-testid="tile"][data-participant-id="${id}"][data-e2ee="encrypted"]`).waitFor();
      }
    }
    // Mallory: plenty of packets arrive from every member and every frame fails to decrypt.
    const malloryNow = await waitUntil(
      'mallory receives and cannot decrypt',
      () => media(mallory),
      (m) =>
        members.every(
          (id) =>
            (find(m.received, id, 'camera')?.packetsReceived ?? 0) -
              (find(malloryFirst, id, 'camera')?.packetsReceived ?? 0) >
              50 && (find(m.crypto.tracks, id, 'camera')?.failed ?? 0) > 30,
        ),
    );
    for (const [key, id] of [
      ['alice', ids.alice],
      ['bob', ids.bob],
      ['carol', ids.carol],
    ] as const) {
      const v0 = find(malloryFirst, id, 'camera');
      const v1 = find(malloryNow.received, id, 'camera');
      const a1 = find(malloryNow.received, id, 'microphone');
      const c = find(malloryNow.crypto.tracks, id, 'camera');
      figures.push(
        `mallory <- ${key}: video packets ${v0?.packetsReceived} -> ${v1?.packetsReceived}, framesDecoded ${v1?.framesDecoded}, ` +
          `decrypted ${c?.ok} failed ${c?.failed} (${c?.lastError}); audio packets ${a1?.packetsReceived}, ` +
          `concealed ${a1?.concealedSamples}/${a1?.totalSamplesReceived}`,
      );
      expect(v1?.framesDecoded ?? 0).toBe(0);
      expect(c?.ok ?? 0).toBe(0);
      await mallory.locator(`[data-testid="tile"][data-participant-id="${id}"][data-e2ee="unverified"]`).waitFor();
    }
    console.log(`E2EE media:\n  ${figures.join('\n  ')}`);

    // The security code: the same on the three members' pages, another on Mallory's.
    const code3 = await waitUntil(
      'codes agree',
      () => Promise.all([code(alice), code(bob), code(carol)]),
      (c) => c[0] !== null && c.every((x) => x === c[0]),
    );
    expect(code3[0]).toMatch(/^\d{5}( \d{5}){11}$/);
    expect(await alice.getByTestId('security-code').textContent()).toBe(code3[0]);
    expect(await code(mallory)).not.toBe(code3[0]);
    await alice.screenshot({ path: join(SHOTS, 'e2ee-grid.png') });
    await mallory.screenshot({ path: join(SHOTS, 'e2ee-wrong-link.png') });

    // Chat: typed and sent through the view; the others read it, Mallory does not.
    const relaysToMallory = (): number =>
      traffic.framesReceivedBy(mallory).filter((f) => f.includes('"type":"relay"')).length;
    const malloryRelaysBefore = relaysToMallory();
    await alice.getByTestId('chat-input').fill(CHAT_TEXT);
    await alice.getByTestId('chat-send').click();
    for (const p of [bob, carol]) {
      const message = p.getByTestId('chat-message').filter({ hasText: CHAT_TEXT });
      await message.waitFor();
      expect(await message.getByTestId('chat-sender').textContent()).toBe(NAMES.alice);
    }
    expect(await alice.getByTestId('chat-text').allTextContents()).toEqual([CHAT_TEXT]);
    // Self-destruct: gone everywhere after its lifetime (10 s here, long enough for a slow machine
    // to show it on all three pages first; the view offers 1 min and up).
    await sendChat(bob, VANISHING_TEXT, 10_000);
    for (const p of [alice, bob, carol]) {
      const vanishing = p.getByTestId('chat-message').filter({ hasText: VANISHING_TEXT });
      await vanishing.waitFor();
      expect(await vanishing.getByTestId('chat-expires').count()).toBe(1);
    }
    expect(await alice.getByTestId('chat-expires').count()).toBe(1);
    for (const p of [alice, bob, carol]) {
      await expect.poll(() => p.getByTestId('chat-text').filter({ hasText: VANISHING_TEXT }).count()).toBe(0);
    }
    expect(await alice.getByTestId('chat-text').allTextContents()).toEqual([CHAT_TEXT]);

    // A file: encrypted, uploaded, announced in the chat; downloaded, checked and saved by the others.
    const content = Buffer.concat([Buffer.from(FILE_MARKER.repeat(2000)), randomBytes(150_000)]);
    await carol
      .getByTestId('file-input')
      .setInputFiles({ name: 'plans.bin', mimeType: 'application/octet-stream', buffer: content });
    await expect.poll(() => carol.getByTestId('chat-status').textContent()).toBe('plans.bin was shared.');
    const wanted = createHash('sha256').update(content).digest('hex');
    for (const p of [alice, bob]) {
      const file = p.getByTestId('chat-file').filter({ hasText: 'plans.bin' });
      await file.getByTestId('file-get').click();
      const save = file.getByTestId('file-save');
      await save.waitFor();
      expect(await save.getAttribute('download')).toBe('plans.bin');
      // The save link offers the decrypted, checked file; the browser downloads it.
      const [download] = await Promise.all([p.waitForEvent('download'), save.click()]);
      expect(download.suggestedFilename()).toBe('plans.bin');
      const saved = await readFile(await download.path());
      const got = { size: saved.length, sha256: createHash('sha256').update(saved).digest('hex') };
      expect(got).toEqual({ size: content.length, sha256: wanted });
    }
    await alice.screenshot({ path: join(SHOTS, 'e2ee-chat.png') });
    // Mallory got the three chat relays (the text, the vanishing one, the file) and shows none.
    await waitUntil(
      'mallory receives the chat relays',
      () => Promise.resolve(relaysToMallory()),
      (n) => n >= malloryRelaysBefore + 3,
    );
    await mallory.waitForTimeout(500); // a grace to open them: an absence can only be seen after a while
    expect(await mallory.getByTestId('chat-message').count()).toBe(0);

    // Carol leaves: Alice and Bob rotate to fresh keys, and their code changes (to the same one).
    // (The send key generation is that of the key their frames are encrypted with: it changes when
    // the rotated key is switched to, after the others' acknowledgements or a timeout.)
    const before = { alice: await sendKeyGeneration(alice), bob: await sendKeyGeneration(bob) };
    expect(before.alice).not.toBeNull();
    expect(before.bob).not.toBeNull();
    await carol.getByTestId('leave-button').click();
    await carol.getByTestId('left-message').waitFor();
    const code2 = await waitUntil(
      'codes after the leave',
      () => Promise.all([code(alice), code(bob)]),
      (c) => c[0] !== null && c[0] !== code3[0] && c[0] === c[1],
    );
    for (const [key, p] of [
      ['alice', alice],
      ['bob', bob],
    ] as const) {
      const switched = (g: number | null): boolean => g !== null && g > (before[key] ?? 0);
      const after = await waitUntil(`${key} switched keys`, () => sendKeyGeneration(p), switched);
      console.log(`${key}: key generation ${before[key]} -> ${after}`);
    }
    console.log(
      `security code with three members: ${code3[0]}; after Carol left: ${code2[0]}; Mallory's: ${await code(mallory)}`,
    );

    // Carol comes back as a "spy": her frame transforms keep every key she had, but her new
    // profile does not prove membership, so nobody sends her a key. She decrypts nothing.
    await spyNextJoin(carol);
    await carol.getByTestId('rejoin-button').click();
    await waitForRoster(carol, [NAMES.alice, NAMES.bob, `${NAMES.carol} (you)`, UNVERIFIED]);
    const spyId = await selfId(carol);
    await waitForRoster(alice, [`${NAMES.alice} (you)`, NAMES.bob, UNVERIFIED, UNVERIFIED]);
    const spyFirst = await waitUntil(
      'spy receives',
      () => received(carol),
      (list) => [ids.alice, ids.bob].every((id) => (find(list, id, 'camera')?.packetsReceived ?? 0) > 0),
    );
    // Plenty arrives and every frame fails to decrypt (she tries her old keys: 'auth-failed').
    const spy = await waitUntil(
      'the spy receives and cannot decrypt',
      () => media(carol),
      (m) =>
        [ids.alice, ids.bob].every(
          (id) =>
            (find(m.received, id, 'camera')?.packetsReceived ?? 0) -
              (find(spyFirst, id, 'camera')?.packetsReceived ?? 0) >
              20 &&
            (find(m.crypto.tracks, id, 'camera')?.failed ?? 0) > 20 &&
            find(m.crypto.tracks, id, 'microphone') !== undefined,
        ),
    );
    const spyNow = spy.received;
    const spyCrypto = spy.crypto;
    for (const [key, id] of [
      ['alice', ids.alice],
      ['bob', ids.bob],
    ] as const) {
      const v0 = find(spyFirst, id, 'camera');
      const v1 = find(spyNow, id, 'camera');
      const cv = find(spyCrypto.tracks, id, 'camera');
      const ca = find(spyCrypto.tracks, id, 'microphone');
      console.log(
        `spy <- ${key}: video packets ${v0?.packetsReceived} -> ${v1?.packetsReceived}, framesDecoded ${v1?.framesDecoded}, ` +
          `video decrypted ${cv?.ok} failed ${cv?.failed} (${cv?.lastError}), audio decrypted ${ca?.ok} failed ${ca?.failed}`,
      );
      expect(cv?.ok ?? -1).toBe(0);
      expect(ca?.ok ?? -1).toBe(0);
      expect(v1?.framesDecoded ?? 0).toBe(0);
    }

    // The wire: only protocol messages; no secret; no name, chat text or file content in the clear;
    // no key was ever addressed to Mallory or to the spy.
    const plain = [...Object.values(NAMES), CHAT_TEXT, VANISHING_TEXT, FILE_MARKER.trim()];
    let relays = 0;
    for (const frame of traffic.framesSent) {
      expect(frame).not.toContain(secret);
      for (const text of plain) expect(frame, `a frame contains "${text}"`).not.toContain(text);
      const message = JSON.parse(frame) as { type?: string; to?: string; payload?: string };
      if (message.type === 'relay') {
        relays += 1;
        expect(
          message.to === ids.mallory || message.to === spyId,
          `a payload for an unverified participant: ${frame}`,
        ).toBe(false);
      }
    }
    expect(relays).toBeGreaterThan(5);
    // What the server sent to the pages (everything it could have seen) carries no plaintext either.
    for (const frame of traffic.framesReceived) {
      for (const text of plain) expect(frame, `a frame from the server contains "${text}"`).not.toContain(text);
    }
    expect(traffic.framesReceived.some((f) => f.includes('"type":"relay"'))).toBe(true);
    for (const req of traffic.requests) {
      for (const text of plain) expect(req.postData ?? '', `${req.method} ${req.url}`).not.toContain(text);
    }
    expect(traffic.requests.some((r) => r.method === 'PUT' && r.url.includes('/api/files/'))).toBe(true);
    expect(traffic.consoleErrors).toEqual([]);
  });

  it('shows the server only SFrame ciphertext and opaque profiles and relays', () => {
    const log = server.output();
    const media = [...log.matchAll(/\[tap\] producer (\d+) (audio|video) payload (\d+) bytes: ([0-9a-f]*)/g)];
    const tapLines = log.split('\n').filter((l) => l.includes('[tap]'));
    expect(
      media.length,
      `${log.length} bytes of server log, ${tapLines.length} [tap] lines, e.g. ${JSON.stringify(tapLines.slice(0, 3))}; ` +
        `log starts ${JSON.stringify(log.slice(0, 600))}`,
    ).toBeGreaterThan(20);
    const counters = new Map<string, number[]>();
    let audio = 0;
    let video = 0;
    for (const [, producer, kind, , hex] of media) {
      const bytes = Buffer.from(hex ?? '', 'hex');
      let offset: number;
      if (kind === 'audio') {
        offset = 1; // Opus TOC, in clear
        audio++;
      } else {
        // VP8 payload descriptor (RFC 7741), then the clear VP8 bytes SFrame leaves.
        const b0 = bytes[0] ?? 0;
        const startOfFrame = (b0 & 0x10) !== 0 && (b0 & 0x07) === 0;
        if (!startOfFrame) continue; // SFrame headers start frames; continuation packets carry ciphertext
        offset = 1;
        if (b0 & 0x80) {
          const x = bytes[1] ?? 0;
          offset = 2;
          if (x & 0x80) offset += ((bytes[offset] ?? 0) & 0x80) !== 0 ? 2 : 1; // picture ID
          if (x & 0x40) offset += 1; // TL0PICIDX
          if (x & 0x30) offset += 1; // TID / KEYIDX
        }
        const keyframe = ((bytes[offset] ?? 0) & 0x01) === 0;
        offset += keyframe ? 10 : 1;
        video++;
      }
      // RFC 9605 header: X bit set (our KIDs have 5 bytes: sender tag and generation), KID, CTR.
      const config = bytes[offset] ?? 0;
      expect(config & 0x80, `${kind} payload ${hex} has no SFrame header with an extended KID`).toBe(0x80);
      const kidLength = ((config >> 4) & 0x07) + 1;
      const ctrLength = (config & 0x08) !== 0 ? (config & 0x07) + 1 : 0;
      expect(kidLength).toBeGreaterThanOrEqual(4);
      let kid = 0;
      for (let i = 0; i < kidLength; i++) kid = kid * 256 + (bytes[offset + 1 + i] ?? 0);
      let ctr = ctrLength === 0 ? config & 0x07 : 0;
      for (let i = 0; i < ctrLength; i++) ctr = ctr * 256 + (bytes[offset + 1 + kidLength + i] ?? 0);
      const key = `${producer}/${kid}`;
      counters.set(key, [...(counters.get(key) ?? []), ctr]);
    }
    expect(audio).toBeGreaterThan(10);
    expect(video).toBeGreaterThan(0);
    // Within one key, SFrame counters go up: these are real SFrame headers, not chance bytes. The
    // tap also sees repairs (RTX, older frames again) and simulcast layers that share one key and
    // arrive interleaved, so most steps, not all, go up: counted over all keys together (one key
    // may have only 5 tapped packets, and one pair of layers interleaved, 0,1,2,4,3, is 3 of 4).
    // Chance bytes would go up about half of the time.
    let up = 0;
    let steps = 0;
    for (const list of counters.values()) {
      for (let i = 1; i < list.length; i++) if ((list[i] ?? 0) > (list[i - 1] ?? 0)) up++;
      steps += Math.max(0, list.length - 1);
    }
    const lists = [...counters.values()].map((l) => l.slice(0, 12).join(',')).join(' | ');
    expect(steps).toBeGreaterThan(10);
    expect(up, `SFrame counters ${lists}`).toBeGreaterThanOrEqual(0.8 * steps);

    const opaque = [...log.matchAll(/\[tap\] (?:relay|profile) \d+ bytes: (.*)/g)].map((m) => m[1] ?? '');
    expect(opaque.length).toBeGreaterThan(5);
    for (const head of opaque) {
      for (const secret of [...Object.values(NAMES), CHAT_TEXT, VANISHING_TEXT, FILE_MARKER.trim()]) {
        expect(head.includes(secret), `the server saw "${secret}"`).toBe(false);
      }
    }
  });

  it('falls back to createEncodedStreams() where RTCRtpScriptTransform is missing', async () => {
    const traffic = new Traffic();
    const context = await contexts.context(browser, { traffic });
    // This page's browser "lacks" the newer API: the client uses encodedInsertableStreams instead.
    await context.addInitScript(() => {
      delete (window as unknown as { RTCRtpScriptTransform?: unknown }).RTCRtpScriptTransform;
    });
    const old = await context.newPage();
    const current = await page(traffic);
    const link = await startMeeting(current, server.origin);
    await enter(current, link, NAMES.alice);
    await enter(old, link, NAMES.bob);
    await waitForRoster(old, [NAMES.alice, `${NAMES.bob} (you)`]);
    const ids = { current: await selfId(current), old: await selfId(old) };
    for (const [key, p, from] of [
      ['streams page', old, ids.current],
      ['script page', current, ids.old],
    ] as const) {
      const list = await waitUntil(
        `${key} decodes`,
        () => received(p),
        (l) =>
          (find(l, from, 'camera')?.framesDecoded ?? 0) > 10 &&
          (find(l, from, 'microphone')?.totalSamplesReceived ?? 0) > 0,
      );
      // The worker reports its counters twice a second.
      const c = await waitUntil(
        `${key} decrypts`,
        () => cryptoStats(p),
        (s) => (find(s.tracks, from, 'camera')?.ok ?? 0) > 10 && (find(s.tracks, from, 'microphone')?.ok ?? 0) > 10,
      );
      const video = find(c.tracks, from, 'camera');
      const audio = find(c.tracks, from, 'microphone');
      console.log(
        `${key} (${c.mode}): framesDecoded ${find(list, from, 'camera')?.framesDecoded}, ` +
          `video decrypted ${video?.ok} failed ${video?.failed}, audio decrypted ${audio?.ok}`,
      );
      expect(video?.ok ?? 0).toBeGreaterThan(10);
      expect(audio?.ok ?? 0).toBeGreaterThan(10);
    }
    expect((await cryptoStats(old)).mode).toBe('streams');
    expect((await cryptoStats(current)).mode).toBe('script');
    expect(traffic.consoleErrors).toEqual([]);
  });
});
