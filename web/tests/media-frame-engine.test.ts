// The frame-transform worker's logic with real crypto: one engine sends, another receives, as the
// browsers' RTCRtpScriptTransforms would, with the keys posted the way frame_crypto.ts posts them.
import { describe, expect, it } from 'vitest';
import { MediaEncryptor, SenderKey, VP8_KEYFRAME_CLEAR_BYTES } from '../src/e2ee';
import { FrameCryptoEngine, type EncodedFrameLike, type FrameCryptoRequest } from '../src/media/frame_engine';
import { ALICE_ID, BOB_ID } from './fake-socket';

const TAG = 0x1234abcd;

function frame(bytes: number[], mimeType?: string): EncodedFrameLike {
  const f: EncodedFrameLike = { data: new Uint8Array(bytes).buffer };
  if (mimeType !== undefined) f.getMetadata = () => ({ mimeType });
  return f;
}

function keyMessages(key: SenderKey): { send: FrameCryptoRequest; receive: FrameCryptoRequest } {
  return {
    send: { type: 'send-key', tag: TAG, generation: key.generation, material: key.material },
    receive: { type: 'receive-key', participantId: ALICE_ID, generation: key.generation, material: key.material },
  };
}

function clock() {
  let now = 1000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const VP8_KEY = [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01, 0xaa, 0xbb, 0xcc, 0xdd];
const VP8_DELTA = [0x31, 0x02, 0x00, 0x44, 0x55, 0x66];
const OPUS = [0xfc, 0x01, 0x02, 0x03, 0x04];

async function pair() {
  const time = clock();
  const sender = new FrameCryptoEngine(time.now);
  const receiver = new FrameCryptoEngine(time.now);
  const key = SenderKey.generate(3);
  const keyframes: string[] = [];
  const send = sender.createTransform(
    { role: 'send', kind: 'video', source: 'camera' },
    { generateKeyFrame: () => keyframes.push('generate') },
  );
  const sendAudio = sender.createTransform({ role: 'send', kind: 'audio', source: 'microphone' });
  const receive = receiver.createTransform(
    { role: 'receive', kind: 'video', mid: '1', participantId: ALICE_ID, source: 'camera' },
    { requestKeyFrame: () => keyframes.push('request') },
  );
  const receiveAudio = receiver.createTransform({
    role: 'receive',
    kind: 'audio',
    mid: '0',
    participantId: ALICE_ID,
    source: 'microphone',
  });
  const messages = keyMessages(key);
  sender.handle(messages.send);
  receiver.handle({ type: 'add-sender', participantId: ALICE_ID, tag: TAG });
  receiver.handle(messages.receive);
  // MediaEncryptor.setKey derives its key asynchronously.
  await sender.settled();
  return { time, sender, receiver, key, send, sendAudio, receive, receiveAudio, keyframes };
}

describe('FrameCryptoEngine', () => {
  it('encrypts VP8 and Opus frames keeping the codec bytes clear, and decrypts them back', async () => {
    const { send, sendAudio, receive, receiveAudio, sender, receiver } = await pair();
    for (const [bytes, tx, rx, kind] of [
      [VP8_KEY, send, receive, 'video'],
      [VP8_DELTA, send, receive, 'video'],
      [OPUS, sendAudio, receiveAudio, 'audio'],
    ] as const) {
      const f = frame([...bytes]);
      expect(await tx.process(f)).toBe(true);
      const sealed = new Uint8Array(f.data);
      const clear = kind === 'audio' ? 1 : bytes === VP8_KEY ? VP8_KEYFRAME_CLEAR_BYTES : 1;
      expect([...sealed.subarray(0, clear)]).toEqual(bytes.slice(0, clear));
      expect(sealed.length).toBeGreaterThan(bytes.length + 16);
      expect(await rx.process(f)).toBe(true);
      expect([...new Uint8Array(f.data)]).toEqual(bytes);
    }
    expect(sender.stats().map((s) => [s.role, s.source, s.ok, s.failed, s.generation, s.state])).toEqual([
      ['send', 'camera', 2, 0, 3, 'ok'],
      ['send', 'microphone', 1, 0, 3, 'ok'],
    ]);
    expect(receiver.stats().map((s) => [s.role, s.mid, s.participantId, s.ok, s.failed, s.state])).toEqual([
      ['receive', '1', ALICE_ID, 2, 0, 'ok'],
      ['receive', '0', ALICE_ID, 1, 0, 'ok'],
    ]);
  });

  it('drops frames it cannot decrypt: no key, another sender, altered bytes, replays', async () => {
    const { send, receiver } = await pair();
    const sealed = async (): Promise<ArrayBuffer> => {
      const f = frame([...VP8_DELTA]);
      await send.process(f);
      return f.data;
    };
    // A receiver that has no key (like a page with the wrong link).
    const stranger = new FrameCryptoEngine();
    const blind = stranger.createTransform({
      role: 'receive',
      kind: 'video',
      mid: '1',
      participantId: ALICE_ID,
      source: 'camera',
    });
    expect(await blind.process({ data: await sealed() })).toBe(false);
    expect(stranger.stats()[0]).toMatchObject({ ok: 0, failed: 1, lastError: 'unknown-key', state: 'failing' });
    // The server says the track is Bob's, but it is under Alice's key.
    const wrong = receiver.createTransform({
      role: 'receive',
      kind: 'video',
      mid: '5',
      participantId: BOB_ID,
      source: 'camera',
    });
    expect(await wrong.process({ data: await sealed() })).toBe(false);
    // Altered, and replayed.
    const data = await sealed();
    const altered = new Uint8Array(data.slice(0));
    altered[altered.length - 1] = (altered[altered.length - 1] ?? 0) ^ 1;
    const rx = receiver.createTransform({
      role: 'receive',
      kind: 'video',
      mid: '6',
      participantId: ALICE_ID,
      source: 'camera',
    });
    expect(await rx.process({ data: altered.buffer })).toBe(false);
    expect(await rx.process({ data: data.slice(0) })).toBe(true);
    expect(await rx.process({ data: data.slice(0) })).toBe(false);
    // A track of another source gets other keys.
    const screen = receiver.createTransform({
      role: 'receive',
      kind: 'video',
      mid: '7',
      participantId: ALICE_ID,
      source: 'screen',
    });
    expect(await screen.process({ data: await sealed() })).toBe(false);
    const errors = receiver.stats().map((s) => [s.mid, s.lastError]);
    expect(errors).toEqual([
      ['1', null],
      ['0', null],
      ['5', 'wrong-sender'],
      ['6', 'replay'],
      ['7', 'auth-failed'],
    ]);
  });

  it('never sends a frame without a key, nor one of a codec the SFU does not forward', async () => {
    const engine = new FrameCryptoEngine();
    const tx = engine.createTransform({ role: 'send', kind: 'video', source: 'camera' });
    expect(await tx.process(frame([...VP8_DELTA]))).toBe(false);
    expect(engine.stats()[0]).toMatchObject({ ok: 0, failed: 1, lastError: 'no-key' });
    const { send } = await pair();
    expect(await send.process(frame([...VP8_DELTA], 'video/H264'))).toBe(false);
    expect(await send.process(frame([...VP8_DELTA], 'video/VP8'))).toBe(true);
  });

  it('takes the codec from the frame metadata, so audio sent as video is not mistaken', async () => {
    const { send, receive } = await pair();
    // A VP8 key frame but the metadata says Opus: only one byte stays clear.
    const f = frame([...VP8_KEY], 'audio/opus');
    expect(await send.process(f)).toBe(true);
    expect(new Uint8Array(f.data)[1]).not.toBe(VP8_KEY[1]);
    const g = frame([...new Uint8Array(f.data)], 'audio/opus');
    expect(await receive.process(g)).toBe(true);
    expect([...new Uint8Array(g.data)]).toEqual(VP8_KEY);
  });

  it('switches keys, asks for key frames after a switch, and follows reassigned sections', async () => {
    const { send, receive, sender, receiver, key, keyframes, time } = await pair();
    const f1 = frame([...VP8_DELTA]);
    await send.process(f1);
    await receive.process(f1);
    expect(keyframes).toEqual(['request']);
    const next = key.rotate();
    const messages = keyMessages(next);
    receiver.handle(messages.receive);
    sender.handle(messages.send);
    await sender.settled();
    expect(keyframes).toEqual(['request', 'generate']);
    // Requests are spaced at least 500 ms apart.
    time.advance(500);
    const f2 = frame([...VP8_DELTA]);
    await send.process(f2);
    expect(await receive.process(f2)).toBe(true);
    expect(keyframes).toEqual(['request', 'generate', 'request']);
    expect(receiver.stats()[0]?.generation).toBe(4);
    // The section now carries Bob's camera: Alice's frames are refused there.
    receiver.handle({ type: 'assign', mid: '1', participantId: BOB_ID, source: 'camera' });
    const f3 = frame([...VP8_DELTA]);
    await send.process(f3);
    expect(await receive.process(f3)).toBe(false);
    receiver.handle({ type: 'assign', mid: '1', participantId: null, source: null });
    const f4 = frame([...VP8_DELTA]);
    await send.process(f4);
    expect(await receive.process(f4)).toBe(false);
    expect(receiver.stats()[0]?.lastError).toBe('unassigned');
  });

  it('forgets keys and stops old transforms on reset', async () => {
    const { send, receive, receiver, time } = await pair();
    const f = frame([...VP8_DELTA]);
    expect(await send.process(f)).toBe(true);
    const copy = f.data.slice(0);
    receiver.handle({ type: 'reset' });
    expect(receiver.stats()).toEqual([]);
    // The old membership's transform drops everything from now on.
    expect(await receive.process({ data: copy.slice(0) })).toBe(false);
    // A new transform has no key for the frame the old one could have decrypted.
    const fresh = receiver.createTransform({
      role: 'receive',
      kind: 'video',
      mid: '1',
      participantId: ALICE_ID,
      source: 'camera',
    });
    expect(await fresh.process({ data: copy.slice(0) })).toBe(false);
    expect(receiver.stats()[0]?.lastError).toBe('unknown-key');
    time.advance(2000);
    expect(receiver.stats()[0]?.state).toBe('idle');
    fresh.close();
    expect(receiver.stats()).toEqual([]);
  });

  it('refuses a frame replayed after a subscribe offer reassigned the m-section, or on another one', async () => {
    const { send, receive, receiver } = await pair();
    const f = frame([...VP8_DELTA]);
    expect(await send.process(f)).toBe(true);
    const recorded = f.data.slice(0);
    expect(await receive.process(f)).toBe(true);
    // The server reassigns mid 1 (away and back: a fresh decryptor) and replays the frame there...
    receiver.handle({ type: 'assign', mid: '1', participantId: BOB_ID, source: 'camera' });
    receiver.handle({ type: 'assign', mid: '1', participantId: ALICE_ID, source: 'camera' });
    expect(await receive.process({ data: recorded.slice(0) })).toBe(false);
    // ...or on a new m-section it assigns to Alice's camera.
    const other = receiver.createTransform({
      role: 'receive',
      kind: 'video',
      mid: '7',
      participantId: ALICE_ID,
      source: 'camera',
    });
    expect(await other.process({ data: recorded.slice(0) })).toBe(false);
    expect(receiver.stats().find((s) => s.mid === '7')?.lastError).toBe('replay');
  });

  it('takes no ratchet of a sender key after someone left, until its rotated key arrives', async () => {
    const { receive, receiver, key } = await pair();
    receiver.handle({ type: 'expect-rotation' });
    const sealed = async (k: SenderKey): Promise<EncodedFrameLike> => {
      const encryptor = new MediaEncryptor(TAG, 'camera');
      await encryptor.setKey(k);
      const out = await encryptor.encrypt('vp8', new Uint8Array(VP8_DELTA));
      if (!out) throw new Error('no frame');
      return { data: out.slice().buffer };
    };
    // A former member ratchets Alice's key and sends under her tag: refused.
    expect(await receive.process(await sealed(await key.ratchet()))).toBe(false);
    expect(receiver.stats().find((s) => s.mid === '1')?.lastError).toBe('unknown-key');
    // Alice's rotated key arrives: her frames decrypt, and joins ratchet from it again.
    const rotated = key.rotate();
    receiver.handle(keyMessages(rotated).receive);
    expect(await receive.process(await sealed(rotated))).toBe(true);
    expect(await receive.process(await sealed(await rotated.ratchet()))).toBe(true);
  });
});
