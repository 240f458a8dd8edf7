import { describe, expect, it } from 'vitest';
import {
  generateIdentity,
  importPeerIdentity,
  makeKid,
  PairwiseKey,
  RoomKeys,
  SenderKey,
  senderKeyAad,
  senderTag,
  sign,
  splitKid,
  verifySignature,
  type Bytes,
} from '../../src/e2ee';
import { KAT } from './conclave_kat';
import { b64, fixedIdentity, flipBit, hex, toHex } from './helpers';

function must<T>(value: T | null | undefined): T {
  if (value === null || value === undefined) throw new Error('unexpected null');
  return value;
}

async function room(secret = KAT.secret, roomId: string = KAT.roomId): Promise<RoomKeys> {
  const result = await RoomKeys.derive(secret, roomId);
  if (!result.ok) throw new Error('bad secret');
  return result.room;
}

describe('identities', () => {
  it('generates Ed25519 and X25519 key pairs with raw 32-byte public keys', async () => {
    const a = await generateIdentity();
    const b = await generateIdentity();
    expect(a.signingPublic).toHaveLength(32);
    expect(a.agreementPublic).toHaveLength(32);
    expect(toHex(a.signingPublic)).not.toBe(toHex(b.signingPublic));
    expect(a.signingKey.extractable).toBe(false);
    expect(a.agreementKey.extractable).toBe(false);
  });

  it('signs and verifies; other data or another key fails', async () => {
    const a = await generateIdentity();
    const b = await generateIdentity();
    const peerA = await importPeerIdentity(a.signingPublic, a.agreementPublic, a.joinNonce);
    const peerB = await importPeerIdentity(b.signingPublic, b.agreementPublic, b.joinNonce);
    if (peerA === null || peerB === null) throw new Error('import failed');
    const data = hex('0102030405');
    const sig = await sign(a, data);
    expect(await verifySignature(peerA.verifyKey, sig, data)).toBe(true);
    expect(await verifySignature(peerA.verifyKey, sig, hex('0102030406'))).toBe(false);
    expect(await verifySignature(peerA.verifyKey, flipBit(sig, 10), data)).toBe(false);
    expect(await verifySignature(peerB.verifyKey, sig, data)).toBe(false);
    expect(await verifySignature(peerA.verifyKey, sig.subarray(0, 63), data)).toBe(false);
  });

  it('refuses public keys of the wrong size', async () => {
    const a = await generateIdentity();
    expect(await importPeerIdentity(a.signingPublic.subarray(0, 31), a.agreementPublic, a.joinNonce)).toBeNull();
    expect(await importPeerIdentity(a.signingPublic, new Uint8Array(33), a.joinNonce)).toBeNull();
    expect(await importPeerIdentity(a.signingPublic, a.agreementPublic, new Uint8Array(15))).toBeNull();
  });
});

describe('KIDs', () => {
  it('packs the sender tag and the generation low byte', () => {
    expect(makeKid(0, 0)).toBe(0n);
    expect(makeKid(1, 2)).toBe(0x102n);
    expect(makeKid(0xffffffff, 0x1ff)).toBe(0xffffffffffn);
    expect(splitKid(0xabcdef0142n)).toEqual({ tag: 0xabcdef01, generationLow: 0x42 });
    expect(splitKid(1n << 40n)).toBeNull();
  });

  it('derives the tag from the Ed25519 public key (known answer)', async () => {
    expect(await senderTag(b64(KAT.aliceEdPublic))).toBe(KAT.senderTag);
    expect(makeKid(KAT.senderTag, 1)).toBe(BigInt(KAT.kid));
    expect(await senderTag(b64(KAT.bobEdPublic))).not.toBe(KAT.senderTag);
  });
});

describe('sender keys', () => {
  it('ratchets with HKDF (known answer), one way and deterministically', async () => {
    const key = SenderKey.fromMaterial(0, hex(KAT.senderKey));
    if (key === null) throw new Error('no key');
    const next = await key.ratchet();
    expect(next.generation).toBe(1);
    expect(toHex(next.material)).toBe(KAT.ratchetedKey);
    expect(toHex((await key.ratchet()).material)).toBe(KAT.ratchetedKey);
    expect(toHex((await next.ratchet()).material)).not.toBe(KAT.ratchetedKey);
  });

  it('rotates to a fresh random key', () => {
    const key = SenderKey.generate(4);
    const rotated = key.rotate();
    expect(rotated.generation).toBe(5);
    expect(toHex(rotated.material)).not.toBe(toHex(key.material));
    expect(rotated.material).toHaveLength(16);
  });

  it('packs generation and material', () => {
    const key = SenderKey.generate(0x01020304);
    const packed = key.pack();
    expect(toHex(packed.subarray(0, 4))).toBe('01020304');
    const back = SenderKey.unpack(packed);
    expect(back?.generation).toBe(0x01020304);
    expect(toHex(back?.material ?? new Uint8Array(0))).toBe(toHex(key.material));
    expect(SenderKey.unpack(packed.subarray(0, 19))).toBeNull();
    expect(SenderKey.fromMaterial(-1, key.material)).toBeNull();
    expect(SenderKey.fromMaterial(0, new Uint8Array(15))).toBeNull();
  });

  it('gives each source its own SFrame key (known answer for the camera)', async () => {
    const key = SenderKey.fromMaterial(1, hex(KAT.ratchetedKey));
    if (key === null) throw new Error('no key');
    const camera = await key.sframeKey(KAT.senderTag, 'camera', 'encrypt');
    const screen = await key.sframeKey(KAT.senderTag, 'screen', 'encrypt');
    expect(camera.kid).toBe(BigInt(KAT.kid));
    expect(toHex(camera.salt)).toBe(KAT.sframeSalt);
    expect(toHex(screen.salt)).not.toBe(KAT.sframeSalt);
  });
});

const JOIN_A = new Uint8Array(16).fill(1);
const JOIN_B = new Uint8Array(16).fill(2);
const AB = { roomId: KAT.roomId, from: 'alice', to: 'bob', fromJoin: JOIN_A, toJoin: JOIN_B };
const BA = { roomId: KAT.roomId, from: 'bob', to: 'alice', fromJoin: JOIN_B, toJoin: JOIN_A };
const KAT_DIRECTION = {
  roomId: KAT.roomId,
  from: KAT.aliceId,
  to: KAT.bobId,
  fromJoin: b64(KAT.aliceJoin),
  toJoin: b64(KAT.bobJoin),
};

describe('pairwise key transport', () => {
  it('binds a wrapped key to the joins of both participants', async () => {
    const salt = (await room()).pairwiseSalt;
    const [alice, bob] = await Promise.all([generateIdentity(), generateIdentity()]);
    const ab = must(await PairwiseKey.derive(alice, bob.agreementPublic, salt));
    const ba = must(await PairwiseKey.derive(bob, alice.agreementPublic, salt));
    const wrapped = await ab.wrapSenderKey(SenderKey.generate(3), AB);
    expect(await ba.unwrapSenderKey(wrapped, AB)).not.toBeNull();
    expect(await ba.unwrapSenderKey(wrapped, { ...AB, fromJoin: new Uint8Array(16).fill(9) })).toBeNull();
    expect(await ba.unwrapSenderKey(wrapped, { ...AB, toJoin: new Uint8Array(16).fill(9) })).toBeNull();
  });

  it('seals key acknowledgements and requests for one direction and kind (known answer)', async () => {
    const alice = await fixedIdentity(
      KAT.aliceEdPrivate,
      KAT.aliceEdPublic,
      KAT.aliceXPrivate,
      KAT.aliceXPublic,
      KAT.aliceJoin,
    );
    const pair = must(await PairwiseKey.derive(alice, b64(KAT.bobXPublic), (await room()).pairwiseSalt));
    const bobToAlice = {
      ...KAT_DIRECTION,
      from: KAT.bobId,
      to: KAT.aliceId,
      fromJoin: b64(KAT.bobJoin),
      toJoin: b64(KAT.aliceJoin),
    };
    expect(await pair.openControl('key-ack', KAT.keyAck, bobToAlice)).toBe(1);
    expect(await pair.openControl('key-request', KAT.keyAck, bobToAlice)).toBeNull();
    expect(await pair.openControl('key-ack', KAT.keyAck, KAT_DIRECTION)).toBeNull();
    const sealed = await pair.sealControl('key-request', 42, KAT_DIRECTION);
    expect(sealed).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await pair.openControl('key-request', sealed, KAT_DIRECTION)).toBe(42);
  });

  it('unwraps a key wrapped by an independent implementation (known answer)', async () => {
    const bob = await fixedIdentity(KAT.bobEdPrivate, KAT.bobEdPublic, KAT.bobXPrivate, KAT.bobXPublic, KAT.bobJoin);
    const pair = await PairwiseKey.derive(bob, b64(KAT.aliceXPublic), (await room()).pairwiseSalt);
    if (pair === null) throw new Error('no pairwise key');
    const packed = await pair.unwrap(hex(KAT.wrappedKey), senderKeyAad(KAT_DIRECTION));
    if (packed === null) throw new Error('did not unwrap');
    const key = SenderKey.unpack(packed);
    expect(key?.generation).toBe(1);
    expect(toHex(key?.material ?? new Uint8Array(0))).toBe(KAT.ratchetedKey);
  });

  it('both sides derive the same key; a third member cannot unwrap', async () => {
    const salt = (await room()).pairwiseSalt;
    const [alice, bob, carol] = await Promise.all([generateIdentity(), generateIdentity(), generateIdentity()]);
    const ab = await PairwiseKey.derive(alice, bob.agreementPublic, salt);
    const ba = await PairwiseKey.derive(bob, alice.agreementPublic, salt);
    const ca = await PairwiseKey.derive(carol, alice.agreementPublic, salt);
    const cb = await PairwiseKey.derive(carol, bob.agreementPublic, salt);
    if (!ab || !ba || !ca || !cb) throw new Error('derive failed');
    const key = SenderKey.generate(3);
    const aad = senderKeyAad(AB);
    const wrapped = await ab.wrap(key.pack(), aad);
    expect(wrapped.length).toBe(12 + 20 + 16);
    expect(toHex((await ba.unwrap(wrapped, aad)) ?? new Uint8Array(0))).toBe(toHex(key.pack()));
    expect(await ca.unwrap(wrapped, aad)).toBeNull();
    expect(await cb.unwrap(wrapped, aad)).toBeNull();
  });

  it('binds the key to room, direction and content', async () => {
    const [alice, bob] = await Promise.all([generateIdentity(), generateIdentity()]);
    const salt = (await room()).pairwiseSalt;
    const otherRoomSalt = (await room(KAT.secret, 'BBBBBBBBBBBBBBBBBBBBBBBBBBBBroom')).pairwiseSalt;
    const ab = await PairwiseKey.derive(alice, bob.agreementPublic, salt);
    const ba = await PairwiseKey.derive(bob, alice.agreementPublic, salt);
    const baOther = await PairwiseKey.derive(bob, alice.agreementPublic, otherRoomSalt);
    if (!ab || !ba || !baOther) throw new Error('derive failed');
    const aad = senderKeyAad(AB);
    const wrapped = await ab.wrap(hex('00112233'), aad);
    expect(await ba.unwrap(wrapped, aad)).not.toBeNull();
    expect(await ba.unwrap(wrapped, senderKeyAad(BA))).toBeNull();
    expect(await ba.unwrap(flipBit(wrapped, 5), aad)).toBeNull();
    expect(await ba.unwrap(wrapped.subarray(0, 20), aad)).toBeNull();
    expect(await baOther.unwrap(wrapped, aad)).toBeNull();
  });

  it('wraps a sender key for one direction as base64url', async () => {
    const salt = (await room()).pairwiseSalt;
    const [alice, bob] = await Promise.all([generateIdentity(), generateIdentity()]);
    const ab = must(await PairwiseKey.derive(alice, bob.agreementPublic, salt));
    const ba = must(await PairwiseKey.derive(bob, alice.agreementPublic, salt));
    const key = SenderKey.generate(7);
    const wrapped = await ab.wrapSenderKey(key, AB);
    expect(wrapped).toMatch(/^[A-Za-z0-9_-]{64}$/);
    const back = await ba.unwrapSenderKey(wrapped, AB);
    expect(back?.generation).toBe(7);
    expect(toHex(must(back).material)).toBe(toHex(key.material));
    expect(await ba.unwrapSenderKey(wrapped, BA)).toBeNull();
    expect(await ba.unwrapSenderKey(wrapped, { ...AB, roomId: 'other-room' })).toBeNull();
    expect(await ba.unwrapSenderKey('not base64url!', AB)).toBeNull();
  });

  it('refuses low-order and malformed peer keys', async () => {
    const alice = await generateIdentity();
    const salt = (await room()).pairwiseSalt;
    const zero: Bytes = new Uint8Array(32);
    const one: Bytes = new Uint8Array(32);
    one[0] = 1;
    expect(await PairwiseKey.derive(alice, zero, salt)).toBeNull();
    expect(await PairwiseKey.derive(alice, one, salt)).toBeNull();
    expect(await PairwiseKey.derive(alice, new Uint8Array(31), salt)).toBeNull();
  });
});
