import { describe, expect, it } from 'vitest';
import { KeyRing, MediaDecryptor, MediaEncryptor, SenderKey, makeKid, type Bytes } from '../../src/e2ee';
import { KAT } from './conclave_kat';
import { hex, toHex } from './helpers';

const ALICE = 'alice';
const BOB = 'bob';
const ALICE_TAG = 0x0a11ce00;
const BOB_TAG = 0x0b0b0000;
const opusFrame = (n: number): Bytes => hex('fc' + n.toString(16).padStart(2, '0').repeat(40));
const vp8Key = hex('502a009d012a8002e001' + 'cd'.repeat(100));

function must<T>(value: T | null | undefined): T {
  if (value === null || value === undefined) throw new Error('unexpected null');
  return value;
}

/** Alice sends her microphone; `ring` belongs to a receiver that knows Alice. */
async function setup(key = SenderKey.generate(0)) {
  const ring = new KeyRing({ graceMs: 1000 });
  expect(ring.addSender(ALICE, ALICE_TAG)).toBe(true);
  ring.setKey(ALICE, key, 0);
  const enc = new MediaEncryptor(ALICE_TAG, 'microphone');
  await enc.setKey(key);
  const dec = new MediaDecryptor(ring, 'microphone', ALICE);
  return { ring, enc, dec, key };
}

describe('media encryption with sender keys', () => {
  it('decrypts a frame protected by an independent implementation (known answer)', async () => {
    const ring = new KeyRing();
    ring.addSender(ALICE, KAT.senderTag);
    ring.setKey(ALICE, must(SenderKey.fromMaterial(1, hex(KAT.ratchetedKey))), 0);
    const dec = new MediaDecryptor(ring, 'camera', ALICE);
    const result = await dec.decrypt('vp8', hex(KAT.protectedFrame), 0);
    expect(result).toEqual({ ok: true, frame: hex(KAT.frame), senderId: ALICE, generation: 1 });
  });

  it('produces the known-answer frame from the same key and counter', async () => {
    const key = must(SenderKey.fromMaterial(1, hex(KAT.ratchetedKey)));
    const enc = new MediaEncryptor(KAT.senderTag, 'camera');
    await enc.setKey(key);
    for (let i = 0; i < KAT.ctr; i++) await enc.encrypt('vp8', hex(KAT.frame));
    expect(toHex(must(await enc.encrypt('vp8', hex(KAT.frame))))).toBe(KAT.protectedFrame);
  });

  it('round-trips audio and video, with a fresh counter per frame', async () => {
    const { enc, ring } = await setup();
    const dec = new MediaDecryptor(ring, 'microphone', ALICE);
    const a = must(await enc.encrypt('opus', opusFrame(1)));
    const b = must(await enc.encrypt('opus', opusFrame(1)));
    expect(toHex(a)).not.toBe(toHex(b));
    expect(await dec.decrypt('opus', b, 0)).toMatchObject({
      ok: true,
      frame: opusFrame(1),
      senderId: ALICE,
      generation: 0,
    });
    expect(await dec.decrypt('opus', a, 0)).toMatchObject({ ok: true }); // out of order is fine
    const video = new MediaEncryptor(ALICE_TAG, 'camera');
    await video.setKey(must(SenderKey.fromMaterial(0, (await setup()).key.material)));
    expect(await video.encrypt('vp8', vp8Key)).not.toBeNull();
  });

  it('encrypts nothing before it has a key', async () => {
    const enc = new MediaEncryptor(ALICE_TAG, 'microphone');
    expect(await enc.encrypt('opus', opusFrame(1))).toBeNull();
  });

  it('refuses a replayed frame', async () => {
    const { enc, dec } = await setup();
    const frame = must(await enc.encrypt('opus', opusFrame(2)));
    expect((await dec.decrypt('opus', frame, 0)).ok).toBe(true);
    expect(await dec.decrypt('opus', frame, 0)).toEqual({ ok: false, error: 'replay' });
  });

  it('keys each source separately: a microphone frame does not open as screen audio', async () => {
    const { enc, ring } = await setup();
    const other = new MediaDecryptor(ring, 'screen-audio', ALICE);
    const frame = must(await enc.encrypt('opus', opusFrame(3)));
    expect(await other.decrypt('opus', frame, 0)).toEqual({ ok: false, error: 'auth-failed' });
  });

  it('refuses frames of another member on this member track (the server cannot swap tiles)', async () => {
    const { ring, enc } = await setup();
    ring.addSender(BOB, BOB_TAG);
    const bobKey = SenderKey.generate(0);
    ring.setKey(BOB, bobKey, 0);
    const bobEnc = new MediaEncryptor(BOB_TAG, 'microphone');
    await bobEnc.setKey(bobKey);
    const onAliceTrack = new MediaDecryptor(ring, 'microphone', ALICE);
    expect(await onAliceTrack.decrypt('opus', must(await bobEnc.encrypt('opus', opusFrame(4))), 0)).toEqual({
      ok: false,
      error: 'wrong-sender',
    });
    expect((await onAliceTrack.decrypt('opus', must(await enc.encrypt('opus', opusFrame(4))), 0)).ok).toBe(true);
  });

  it('refuses an unknown sender tag and a second member with the same tag', async () => {
    const { ring, dec } = await setup();
    const stranger = new MediaEncryptor(0x12345678, 'microphone');
    await stranger.setKey(SenderKey.generate(0));
    expect(await dec.decrypt('opus', must(await stranger.encrypt('opus', opusFrame(5))), 0)).toEqual({
      ok: false,
      error: 'unknown-key',
    });
    expect(ring.addSender('mallory', ALICE_TAG)).toBe(false);
    expect(ring.addSender(ALICE, ALICE_TAG)).toBe(true);
  });

  it('drops malformed frames', async () => {
    const { dec } = await setup();
    expect(await dec.decrypt('opus', hex('fc'), 0)).toEqual({ ok: false, error: 'malformed' });
    expect(await dec.decrypt('opus', hex('fc00' + '00'.repeat(10)), 0)).toEqual({ ok: false, error: 'malformed' });
  });
});

describe('ratchet on join, rotation on leave', () => {
  it('a receiver follows a ratchet without any message', async () => {
    const { enc, dec, key, ring } = await setup();
    const next = await (await key.ratchet()).ratchet(); // two joins
    await enc.setKey(next);
    expect(enc.generation).toBe(2);
    const frame = must(await enc.encrypt('opus', opusFrame(6)));
    expect(await dec.decrypt('opus', frame, 10)).toMatchObject({ ok: true, generation: 2 });
    expect(ring.newestGeneration(ALICE)).toBe(2);
  });

  it('a newcomer with the current key cannot read frames of earlier generations', async () => {
    const old = SenderKey.generate(0);
    const { enc } = await setup(old);
    const oldFrame = must(await enc.encrypt('opus', opusFrame(7)));
    const current = await old.ratchet();
    const newcomer = new KeyRing();
    newcomer.addSender(ALICE, ALICE_TAG);
    newcomer.setKey(ALICE, current, 0);
    const dec = new MediaDecryptor(newcomer, 'microphone', ALICE);
    expect(await dec.decrypt('opus', oldFrame, 0)).toEqual({ ok: false, error: 'unknown-key' });
  });

  it('a member who left and kept the old keys cannot decrypt after the rotation', async () => {
    const key0 = SenderKey.generate(0);
    const { enc, dec: stayer, ring } = await setup(key0);
    const leaverRing = new KeyRing();
    leaverRing.addSender(ALICE, ALICE_TAG);
    leaverRing.setKey(ALICE, key0, 0);
    const leaver = new MediaDecryptor(leaverRing, 'microphone', ALICE);

    const rotated = key0.rotate();
    ring.setKey(ALICE, rotated, 5); // delivered pairwise to the remaining members only
    await enc.setKey(rotated);
    const frame = must(await enc.encrypt('opus', opusFrame(8)));
    expect(await stayer.decrypt('opus', frame, 5)).toMatchObject({ ok: true, generation: 1 });
    // The leaver ratchets its old key to generation 1 on demand: wrong key, refused.
    expect(await leaver.decrypt('opus', frame, 5)).toEqual({ ok: false, error: 'auth-failed' });
    expect(await leaver.decrypt('opus', must(await enc.encrypt('opus', opusFrame(9))), 6)).toEqual({
      ok: false,
      error: 'auth-failed',
    });
    expect(leaverRing.newestGeneration(ALICE)).toBe(0);
  });

  it('a rotated key that arrives after its first frames replaces the wrong ratchet guess', async () => {
    const key0 = SenderKey.generate(0);
    const { enc, dec, ring } = await setup(key0);
    const rotated = key0.rotate();
    await enc.setKey(rotated);
    const early = must(await enc.encrypt('opus', opusFrame(10)));
    expect(await dec.decrypt('opus', early, 1)).toEqual({ ok: false, error: 'auth-failed' });
    ring.setKey(ALICE, rotated, 2);
    expect(await dec.decrypt('opus', early, 2)).toMatchObject({ ok: true, generation: 1 });
  });

  it('drops a ratchet guess that never authenticated once a newer key arrives', async () => {
    const key0 = SenderKey.generate(0);
    const { enc, dec, ring } = await setup(key0);
    const key1 = key0.rotate();
    await enc.setKey(key1);
    const frame1 = must(await enc.encrypt('opus', opusFrame(16)));
    expect(await dec.decrypt('opus', frame1, 1)).toEqual({ ok: false, error: 'auth-failed' }); // guessed by ratchet
    ring.setKey(ALICE, key1.rotate(), 2); // generation 2 arrives; generation 1 never did
    expect(await dec.decrypt('opus', frame1, 2)).toEqual({ ok: false, error: 'unknown-key' });
  });

  it('keeps the previous generation for the grace period only', async () => {
    const key0 = SenderKey.generate(0);
    const { enc, ring } = await setup(key0);
    const late = must(await enc.encrypt('opus', opusFrame(11)));
    const later = must(await enc.encrypt('opus', opusFrame(12)));
    const key1 = key0.rotate();
    ring.setKey(ALICE, key1, 100);
    const dec = new MediaDecryptor(ring, 'microphone', ALICE);
    expect(await dec.decrypt('opus', late, 1000)).toMatchObject({ ok: true, generation: 0 }); // in flight
    expect(await dec.decrypt('opus', later, 1101)).toEqual({ ok: false, error: 'unknown-key' }); // grace over
  });

  it('ratchets at most maxRatchetAhead generations on demand', async () => {
    const key0 = SenderKey.generate(0);
    const ring = new KeyRing({ maxRatchetAhead: 3 });
    ring.addSender(ALICE, ALICE_TAG);
    ring.setKey(ALICE, key0, 0);
    const dec = new MediaDecryptor(ring, 'microphone', ALICE);
    let key = key0;
    for (let i = 0; i < 4; i++) key = await key.ratchet();
    const enc = new MediaEncryptor(ALICE_TAG, 'microphone');
    await enc.setKey(key);
    expect(await dec.decrypt('opus', must(await enc.encrypt('opus', opusFrame(13))), 0)).toEqual({
      ok: false,
      error: 'unknown-key',
    });
    await enc.setKey(await key.ratchet()); // older generations are ignored by setKey
    expect(enc.generation).toBe(5);
  });

  it('resolves the generation low byte across a wrap past 255', async () => {
    let key = SenderKey.generate(254);
    const { enc, dec } = await setup(key);
    for (let i = 0; i < 3; i++) key = await key.ratchet(); // 257: low byte 1
    await enc.setKey(key);
    expect(makeKid(ALICE_TAG, 257) & 0xffn).toBe(1n);
    expect(await dec.decrypt('opus', must(await enc.encrypt('opus', opusFrame(14))), 0)).toMatchObject({
      ok: true,
      generation: 257,
    });
  });

  it('forgets a sender that left', async () => {
    const { enc, dec, ring } = await setup();
    ring.removeSender(ALICE);
    expect(ring.hasSender(ALICE)).toBe(false);
    expect(await dec.decrypt('opus', must(await enc.encrypt('opus', opusFrame(15))), 0)).toEqual({
      ok: false,
      error: 'unknown-key',
    });
  });

  it('an ex-member ratcheting the old key far ahead never outranks the explicitly delivered key', async () => {
    const key0 = SenderKey.generate(0);
    const { ring, dec } = await setup(key0);
    // Carol left holding key0; the server withholds Alice's rotated key from this receiver, and
    // Carol sends frames under Alice's tag, five ratchets ahead.
    let forged = key0;
    for (let i = 0; i < 5; i++) forged = await forged.ratchet();
    const carol = new MediaEncryptor(ALICE_TAG, 'microphone');
    await carol.setKey(forged);
    await dec.decrypt('opus', must(await carol.encrypt('opus', opusFrame(20))), 10);
    // Alice's real rotated key arrives: it is the newest, and the forged chain is gone.
    const key1 = key0.rotate();
    ring.setKey(ALICE, key1, 20);
    expect(ring.newestGeneration(ALICE)).toBe(1);
    const alice = new MediaEncryptor(ALICE_TAG, 'microphone');
    await alice.setKey(key1);
    // Long after the grace period, Alice's frames still decrypt and Carol's do not.
    expect(await dec.decrypt('opus', must(await alice.encrypt('opus', opusFrame(21))), 60_000)).toMatchObject({
      ok: true,
      generation: 1,
    });
    expect((await dec.decrypt('opus', must(await carol.encrypt('opus', opusFrame(22))), 60_000)).ok).toBe(false);
  });

  it('after a leave, never ratchets a sender key: its next generation must come explicitly', async () => {
    const key0 = SenderKey.generate(0);
    const { ring, dec } = await setup(key0);
    ring.expectRotation(1);
    // An ex-member's ratchet of the old key, one or more generations ahead, is refused.
    const carol = new MediaEncryptor(ALICE_TAG, 'microphone');
    await carol.setKey(await key0.ratchet());
    expect(await dec.decrypt('opus', must(await carol.encrypt('opus', opusFrame(23))), 1)).toEqual({
      ok: false,
      error: 'unknown-key',
    });
    expect(ring.newestGeneration(ALICE)).toBe(0);
    // The rotated key arrives; from it, joins ratchet on demand again.
    const key1 = key0.rotate();
    ring.setKey(ALICE, key1, 2);
    const alice = new MediaEncryptor(ALICE_TAG, 'microphone');
    await alice.setKey(await key1.ratchet());
    expect(await dec.decrypt('opus', must(await alice.encrypt('opus', opusFrame(24))), 3)).toMatchObject({
      ok: true,
      generation: 2,
    });
  });
});

describe('replay protection shared by every decryptor', () => {
  it('refuses a frame replayed into another decryptor of the same sender and source', async () => {
    const { ring, enc, dec } = await setup();
    const frame = must(await enc.encrypt('opus', opusFrame(30)));
    expect((await dec.decrypt('opus', frame, 0)).ok).toBe(true);
    // A subscribe offer reassigns an m-section: the new decryptor must remember the old frames.
    const reassigned = new MediaDecryptor(ring, 'microphone', ALICE);
    expect(await reassigned.decrypt('opus', frame, 0)).toEqual({ ok: false, error: 'replay' });
  });

  it('keeps the replay state when the same key is delivered again', async () => {
    const { ring, enc, dec, key } = await setup();
    const frame = must(await enc.encrypt('opus', opusFrame(31)));
    expect((await dec.decrypt('opus', frame, 0)).ok).toBe(true);
    ring.setKey(ALICE, key, 1); // a repeated key message (a key-request answer, or a replay)
    expect(await new MediaDecryptor(ring, 'microphone', ALICE).decrypt('opus', frame, 1)).toEqual({
      ok: false,
      error: 'replay',
    });
  });
});
