// The room secret as the root of membership, and the encrypted profile envelope. No DOM.
//
//   roomKey       = HKDF-SHA256(secret bytes, salt = utf8(roomId), info fields("Conclave room v1"), 32)
//   membershipKey = HKDF-SHA256(roomKey, info fields("Conclave membership v1"), 32)   -> HMAC-SHA256
//   profileKey    = HKDF-SHA256(roomKey, info fields("Conclave profile v1"), 16)      -> AES-GCM-128
//   pairwiseSalt  = HKDF-SHA256(roomKey, info fields("Conclave pairwise salt v1"), 32) (keys.ts)
//
//   proof = HMAC-SHA256(membershipKey, fields("Conclave membership v1", roomId, Ed25519 pub, X25519 pub))
//
// The proof does not name the participant ID: the server assigns that in `joined`, after the
// profile went out with `join`. The identity keys are what members trust; a copied profile under
// another participant ID is useless without the private keys (keys are wrapped to the X25519 key,
// and everything a member sends is signed or MACed under keys only the owner holds).
//
// Profile envelope: the server-visible `profile` string, compact JSON the server never parses:
//
//   {"v":2,"ed":<Ed25519 pub>,"x":<X25519 pub>,"j":<16 bytes>,"proof":<32 bytes>,"box":<iv || AES-GCM(profileKey)>,"sig":<64 bytes>}
//
// all values base64url without padding. `j` is the join nonce (keys.ts): fresh for every join and
// bound into every pairwise message, so the envelope names the one join it was made for.
//   box = iv(12) || AES-GCM-128(profileKey, iv, aad = fields("Conclave profile v1", roomId, ed, x), profile)
//   sig = Ed25519(fields("Conclave profile signature v1", roomId, ed, x, j, proof, box))
// The signature binds the X25519 key and the profile to the Ed25519 key, so the security code
// (over Ed25519 keys) covers them too. The inner profile is an opaque UTF-8 string (today the JSON
// of src/profile.ts).

import {
  importPeerIdentity,
  sign,
  verifySignature,
  JOIN_NONCE_BYTES,
  PUBLIC_KEY_BYTES,
  SIGNATURE_BYTES,
  type Identity,
  type PeerIdentity,
} from './keys';
import {
  base64UrlDecode,
  base64UrlDecodeExact,
  base64UrlEncode,
  encodeFields,
  GCM_IV_BYTES,
  GCM_TAG_BYTES,
  hkdf,
  importAesGcmKey,
  LABELS,
  openRandomIv,
  sealRandomIv,
  subtle,
  utf8,
  type Bytes,
} from './util';

export const PROFILE_ENVELOPE_VERSION = 2;
/** Longest inner profile (UTF-8 bytes); the envelope then stays well under the 8,192-character limit. */
export const MAX_INNER_PROFILE_BYTES = 4096;
/** The room secret: at least 128 bits, at most 256 base64url characters (the invite link's fragment). */
export const MIN_SECRET_BYTES = 16;
export const MAX_SECRET_LENGTH = 256;
const PROOF_BYTES = 32;

export type RoomKeysResult = { ok: true; room: RoomKeys } | { ok: false; error: 'bad-secret' };

/** The keys every member derives from the room secret and the room ID. */
export class RoomKeys {
  private constructor(
    readonly roomId: string,
    private readonly mMembershipKey: CryptoKey,
    private readonly mProfileKey: CryptoKey,
    /** HKDF salt for pairwise keys (PairwiseKey.derive): ties them to knowing the secret. */
    readonly pairwiseSalt: Bytes,
  ) {}

  /** Derives the room's keys; `bad-secret` when the secret is not ≥128 bits of base64url. */
  static async derive(secret: string, roomId: string): Promise<RoomKeysResult> {
    const secretBytes = secret.length <= MAX_SECRET_LENGTH ? base64UrlDecode(secret) : null;
    if (secretBytes === null || secretBytes.length < MIN_SECRET_BYTES) return { ok: false, error: 'bad-secret' };
    const roomKey = await hkdf(secretBytes, encodeFields(LABELS.room), 32, utf8(roomId));
    const [membership, profile, pairwiseSalt] = await Promise.all([
      hkdf(roomKey, encodeFields(LABELS.membership), 32),
      hkdf(roomKey, encodeFields(LABELS.profile), 16),
      hkdf(roomKey, encodeFields(LABELS.pairwiseSalt), 32),
    ]);
    const membershipKey = await subtle.importKey('raw', membership, { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ]);
    const profileKey = await importAesGcmKey(profile, ['encrypt', 'decrypt']);
    return { ok: true, room: new RoomKeys(roomId, membershipKey, profileKey, pairwiseSalt) };
  }

  private proofInput(signingPublic: Bytes, agreementPublic: Bytes): Bytes {
    return encodeFields(LABELS.membership, this.roomId, signingPublic, agreementPublic);
  }

  /** The membership proof over a member's two identity public keys. */
  async proof(signingPublic: Bytes, agreementPublic: Bytes): Promise<Bytes> {
    return new Uint8Array(
      await subtle.sign('HMAC', this.mMembershipKey, this.proofInput(signingPublic, agreementPublic)),
    );
  }

  /** Constant-time check of a proof; false (never an exception) for anything that is not one. */
  async verifyProof(signingPublic: Bytes, agreementPublic: Bytes, proof: Bytes): Promise<boolean> {
    if (proof.length !== PROOF_BYTES) return false;
    try {
      return await subtle.verify('HMAC', this.mMembershipKey, proof, this.proofInput(signingPublic, agreementPublic));
    } catch {
      return false;
    }
  }

  boxAad(signingPublic: Bytes, agreementPublic: Bytes): Bytes {
    return encodeFields(LABELS.profile, this.roomId, signingPublic, agreementPublic);
  }

  sealBox(plaintext: Bytes, aad: Bytes): Promise<Bytes> {
    return sealRandomIv(this.mProfileKey, plaintext, aad);
  }

  openBox(box: Bytes, aad: Bytes): Promise<Bytes | null> {
    return openRandomIv(this.mProfileKey, box, aad);
  }
}

function signatureInput(roomId: string, ed: Bytes, x: Bytes, join: Bytes, proof: Bytes, box: Bytes): Bytes {
  return encodeFields(LABELS.profileSignature, roomId, ed, x, join, proof, box);
}

/** Builds this participant's `profile` string. Throws RangeError if the inner profile is too long. */
export async function sealProfile(room: RoomKeys, identity: Identity, profile: string): Promise<string> {
  const inner = utf8(profile);
  if (inner.length > MAX_INNER_PROFILE_BYTES) throw new RangeError('profile too long');
  const ed = identity.signingPublic;
  const x = identity.agreementPublic;
  const proof = await room.proof(ed, x);
  const box = await room.sealBox(inner, room.boxAad(ed, x));
  const join = identity.joinNonce;
  const sig = await sign(identity, signatureInput(room.roomId, ed, x, join, proof, box));
  return JSON.stringify({
    v: PROFILE_ENVELOPE_VERSION,
    ed: base64UrlEncode(ed),
    x: base64UrlEncode(x),
    j: base64UrlEncode(join),
    proof: base64UrlEncode(proof),
    box: base64UrlEncode(box),
    sig: base64UrlEncode(sig),
  });
}

/**
 * Why a profile was refused:
 * - `malformed`: not an envelope (or keys that are not valid points);
 * - `unsupported-version`: an envelope version this client does not know;
 * - `not-a-member`: the proof does not verify under this room's secret. When every other member
 *   fails this way, this browser's link is incomplete or wrong;
 * - `bad-signature`: the proof is right but the envelope was altered;
 * - `bad-box`: the encrypted profile does not open (altered, or not made for these keys).
 */
export type OpenProfileError = 'malformed' | 'unsupported-version' | 'not-a-member' | 'bad-signature' | 'bad-box';
export type OpenProfileResult =
  { ok: true; profile: string; peer: PeerIdentity } | { ok: false; error: OpenProfileError };

const MAX_ENVELOPE_LENGTH = 16384;

/** Verifies and decrypts another participant's `profile` string. Never throws. */
export async function openProfile(room: RoomKeys, envelope: string): Promise<OpenProfileResult> {
  if (envelope.length > MAX_ENVELOPE_LENGTH) return { ok: false, error: 'malformed' };
  let value: unknown;
  try {
    value = JSON.parse(envelope);
  } catch {
    return { ok: false, error: 'malformed' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, error: 'malformed' };
  const o = value as Record<string, unknown>;
  if (o['v'] !== PROFILE_ENVELOPE_VERSION) {
    return { ok: false, error: typeof o['v'] === 'number' ? 'unsupported-version' : 'malformed' };
  }
  const ed = base64UrlDecodeExact(o['ed'], PUBLIC_KEY_BYTES);
  const x = base64UrlDecodeExact(o['x'], PUBLIC_KEY_BYTES);
  const join = base64UrlDecodeExact(o['j'], JOIN_NONCE_BYTES);
  const proof = base64UrlDecodeExact(o['proof'], PROOF_BYTES);
  const sig = base64UrlDecodeExact(o['sig'], SIGNATURE_BYTES);
  const box = typeof o['box'] === 'string' ? base64UrlDecode(o['box']) : null;
  if (ed === null || x === null || join === null || proof === null || sig === null || box === null) {
    return { ok: false, error: 'malformed' };
  }
  if (box.length < GCM_IV_BYTES + GCM_TAG_BYTES) return { ok: false, error: 'malformed' };
  if (!(await room.verifyProof(ed, x, proof))) return { ok: false, error: 'not-a-member' };
  const peer = await importPeerIdentity(ed, x, join);
  if (peer === null) return { ok: false, error: 'malformed' };
  if (!(await verifySignature(peer.verifyKey, sig, signatureInput(room.roomId, ed, x, join, proof, box)))) {
    return { ok: false, error: 'bad-signature' };
  }
  const inner = await room.openBox(box, room.boxAad(ed, x));
  if (inner === null || inner.length > MAX_INNER_PROFILE_BYTES) return { ok: false, error: 'bad-box' };
  let profile: string;
  try {
    profile = new TextDecoder('utf-8', { fatal: true }).decode(inner);
  } catch {
    return { ok: false, error: 'bad-box' };
  }
  return { ok: true, profile, peer };
}
