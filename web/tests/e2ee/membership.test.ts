import { describe, expect, it } from 'vitest';
import {
  base64UrlEncode,
  encodeFields,
  generateIdentity,
  LABELS,
  openProfile,
  RoomKeys,
  sealProfile,
  sign,
  type Identity,
} from '../../src/e2ee';
import { KAT } from './conclave_kat';
import { b64, fixedIdentity, flipBit, toHex } from './helpers';

const SECRET = KAT.secret;
const WRONG_SECRET = 'x' + SECRET.slice(1);

async function room(secret: string = SECRET, roomId: string = KAT.roomId): Promise<RoomKeys> {
  const result = await RoomKeys.derive(secret, roomId);
  if (!result.ok) throw new Error('bad secret');
  return result.room;
}

function edit(envelope: string, change: (o: Record<string, unknown>) => void): string {
  const o = JSON.parse(envelope) as Record<string, unknown>;
  change(o);
  return JSON.stringify(o);
}

describe('room secret', () => {
  it('refuses secrets that are not at least 128 bits of base64url', async () => {
    for (const bad of [
      '',
      'short',
      'a'.repeat(21),
      'a'.repeat(22) + '=',
      'a'.repeat(21) + '+',
      'a'.repeat(300),
      'a'.repeat(25),
    ]) {
      expect(await RoomKeys.derive(bad, KAT.roomId), bad).toEqual({ ok: false, error: 'bad-secret' });
    }
    expect((await RoomKeys.derive('a'.repeat(22), KAT.roomId)).ok).toBe(true);
  });

  it('makes the membership proof of the spec (known answer)', async () => {
    const proof = await (await room()).proof(b64(KAT.aliceEdPublic), b64(KAT.aliceXPublic));
    expect(base64UrlEncode(proof)).toBe(KAT.proof);
  });

  it('verifies a proof only with the right secret, room and keys', async () => {
    const alice = await generateIdentity();
    const bob = await generateIdentity();
    const right = await room();
    const proof = await right.proof(alice.signingPublic, alice.agreementPublic);
    expect(await right.verifyProof(alice.signingPublic, alice.agreementPublic, proof)).toBe(true);
    expect(await (await room(WRONG_SECRET)).verifyProof(alice.signingPublic, alice.agreementPublic, proof)).toBe(false);
    expect(
      await (
        await room(SECRET, 'BBBBBBBBBBBBBBBBBBBBBBBBBBBBroom')
      ).verifyProof(alice.signingPublic, alice.agreementPublic, proof),
    ).toBe(false);
    expect(await right.verifyProof(bob.signingPublic, alice.agreementPublic, proof)).toBe(false);
    expect(await right.verifyProof(alice.signingPublic, bob.agreementPublic, proof)).toBe(false);
    expect(await right.verifyProof(alice.signingPublic, alice.agreementPublic, flipBit(proof, 0))).toBe(false);
    expect(await right.verifyProof(alice.signingPublic, alice.agreementPublic, proof.subarray(0, 16))).toBe(false);
  });
});

describe('profile envelope', () => {
  let alice: Identity;

  async function sealed(profile = '{"name":"Alice"}', secret: string = SECRET): Promise<string> {
    alice ??= await generateIdentity();
    return sealProfile(await room(secret), alice, profile);
  }

  it('opens an envelope made by an independent implementation (known answer)', async () => {
    const result = await openProfile(await room(), KAT.profileEnvelope);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.profile).toBe(KAT.profileInner);
    expect(base64UrlEncode(result.peer.signingPublic)).toBe(KAT.aliceEdPublic);
    expect(base64UrlEncode(result.peer.agreementPublic)).toBe(KAT.aliceXPublic);
    expect(base64UrlEncode(result.peer.joinNonce)).toBe(KAT.aliceJoin);
  });

  it('round-trips and shows the server nothing but keys, proof, ciphertext and signature', async () => {
    const profile = '{"name":"Jürgen \\"J\\" Ö"}';
    const envelope = await sealed(profile);
    expect(envelope).not.toContain('Jürgen');
    expect(envelope).not.toContain('J\u00fcrgen');
    expect(envelope).not.toContain('name');
    expect(Object.keys(JSON.parse(envelope) as object)).toEqual(['v', 'ed', 'x', 'j', 'proof', 'box', 'sig']);
    expect(envelope.length).toBeLessThan(600);
    const result = await openProfile(await room(), envelope);
    expect(result.ok && result.profile).toBe(profile);
    expect(result.ok && toHex(result.peer.signingPublic)).toBe(toHex(alice.signingPublic));
  });

  it('stays under the protocol limit at the largest inner profile', async () => {
    const envelope = await sealed('x'.repeat(4096));
    expect(envelope.length).toBeLessThanOrEqual(8192);
    await expect(sealed('x'.repeat(4097))).rejects.toThrow(RangeError);
  });

  it('reports a wrong secret as not-a-member, without throwing', async () => {
    const envelope = await sealed();
    expect(await openProfile(await room(WRONG_SECRET), envelope)).toEqual({ ok: false, error: 'not-a-member' });
    expect(await openProfile(await room(SECRET, 'BBBBBBBBBBBBBBBBBBBBBBBBBBBBroom'), envelope)).toEqual({
      ok: false,
      error: 'not-a-member',
    });
    // The other way round: a member made with a wrong secret is not one for the right room.
    expect(await openProfile(await room(), await sealed('{}', WRONG_SECRET))).toEqual({
      ok: false,
      error: 'not-a-member',
    });
  });

  it('refuses altered envelopes', async () => {
    const r = await room();
    const envelope = await sealed();
    const o = JSON.parse(envelope) as Record<string, string>;
    const box = b64(o['box'] ?? '');
    const sig = b64(o['sig'] ?? '');
    expect(
      await openProfile(
        r,
        edit(envelope, (e) => (e['box'] = base64UrlEncode(flipBit(box, -1)))),
      ),
    ).toEqual({
      ok: false,
      error: 'bad-signature',
    });
    expect(
      await openProfile(
        r,
        edit(envelope, (e) => (e['sig'] = base64UrlEncode(flipBit(sig, 3)))),
      ),
    ).toEqual({
      ok: false,
      error: 'bad-signature',
    });
    // Someone else's keys with Alice's proof: the proof no longer matches.
    const mallory = await generateIdentity();
    expect(
      await openProfile(
        r,
        edit(envelope, (e) => (e['x'] = base64UrlEncode(mallory.agreementPublic))),
      ),
    ).toEqual({
      ok: false,
      error: 'not-a-member',
    });
  });

  it('refuses a box moved to another identity, even by someone who knows the secret', async () => {
    // Mallory knows the secret, so she can make proofs and signatures for her own keys, but the
    // box of Alice's profile is bound to Alice's keys.
    const r = await room();
    const mallory = await generateIdentity();
    const aliceEnvelope = JSON.parse(await sealed()) as Record<string, string>;
    const malloryEnvelope = JSON.parse(await sealProfile(r, mallory, '{"name":"Mallory"}')) as Record<string, string>;
    const ed = mallory.signingPublic;
    const x = mallory.agreementPublic;
    const proof = b64(malloryEnvelope['proof'] ?? '');
    const box = b64(aliceEnvelope['box'] ?? '');
    const sig = await sign(
      mallory,
      encodeFields(LABELS.profileSignature, KAT.roomId, ed, x, mallory.joinNonce, proof, box),
    );
    const forged = JSON.stringify({ ...malloryEnvelope, box: aliceEnvelope['box'], sig: base64UrlEncode(sig) });
    expect(await openProfile(r, forged)).toEqual({ ok: false, error: 'bad-box' });
  });

  it('refuses malformed envelopes and unknown versions', async () => {
    const r = await room();
    const envelope = await sealed();
    const cases: [string, string][] = [
      ['', 'malformed'],
      ['{"name":"Alice"}', 'malformed'],
      ['[]', 'malformed'],
      ['null', 'malformed'],
      [edit(envelope, (e) => (e['v'] = 1)), 'unsupported-version'],
      [edit(envelope, (e) => (e['v'] = '2')), 'malformed'],
      [edit(envelope, (e) => delete e['j']), 'malformed'],
      [edit(envelope, (e) => (e['j'] = 'AAAA')), 'malformed'],
      [edit(envelope, (e) => delete e['proof']), 'malformed'],
      [edit(envelope, (e) => (e['ed'] = 'AAAA')), 'malformed'],
      [edit(envelope, (e) => (e['box'] = 'AAAA')), 'malformed'],
      [edit(envelope, (e) => (e['sig'] = 5)), 'malformed'],
      ['x'.repeat(20000), 'malformed'],
    ];
    for (const [input, error] of cases)
      expect(await openProfile(r, input), input.slice(0, 40)).toEqual({ ok: false, error });
  });

  it('accepts a fixed identity built from raw keys (test helper check)', async () => {
    const fixed = await fixedIdentity(
      KAT.aliceEdPrivate,
      KAT.aliceEdPublic,
      KAT.aliceXPrivate,
      KAT.aliceXPublic,
      KAT.aliceJoin,
    );
    const result = await openProfile(await room(), await sealProfile(await room(), fixed, 'p'));
    expect(result.ok && base64UrlEncode(result.peer.signingPublic)).toBe(KAT.aliceEdPublic);
  });

  it('signs the join nonce: an envelope moved to another join does not verify', async () => {
    const r = await room();
    const envelope = await sealed();
    const other = base64UrlEncode(new Uint8Array(16).fill(7));
    expect(
      await openProfile(
        r,
        edit(envelope, (e) => (e['j'] = other)),
      ),
    ).toEqual({ ok: false, error: 'bad-signature' });
  });
});
