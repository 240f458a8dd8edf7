// SFrame (RFC 9605) with cipher suite AES_128_GCM_SHA256_128 (0x0004), plus the media-frame
// layout Conclave puts on top of it. No DOM: this runs per frame in the RTCRtpScriptTransform
// worker, so keys are imported once per KID (SFrameKey) and reused for every frame.
//
// RFC parts, exactly as specified:
// - §4.3 header: config byte |X|KKK|Y|CCC|, then KID and CTR as minimal big-endian integers.
//   Values 0-7 sit in the config byte; larger ones are appended, the 3-bit field holding
//   length - 1. This decoder refuses non-minimal encodings.
// - §4.4.2 key derivation: sframe_secret = HKDF-Extract("", base_key);
//   sframe_key  = HKDF-Expand(sframe_secret, "SFrame 1.0 Secret key "  || KID(8 bytes BE) || suite(2 bytes BE), 16)
//   sframe_salt = HKDF-Expand(sframe_secret, "SFrame 1.0 Secret salt " || KID(8 bytes BE) || suite(2 bytes BE), 12)
// - §4.4.3 nonce = sframe_salt XOR CTR (CTR as a 12-byte big-endian integer); AAD = header || metadata;
//   output = header || AES-GCM(sframe_key, nonce, AAD, plaintext) (the 16-byte tag included).
// - §4.4.1 a base_key is used either for encryption or for decryption, never both: SFrameKey
//   objects carry only the one usage they were derived for.
//
// Anti-replay (RFC 9605 §9.3 leaves it to the application): ReplayWindow, a sliding window per
// KID, updated only after a frame authenticated.

import { concatBytes, type Bytes, subtle, utf8 } from './util';

export const SFRAME_SUITE_AES_128_GCM_SHA256_128 = 0x0004;
const SUITE = SFRAME_SUITE_AES_128_GCM_SHA256_128;
/** AEAD.Nk, AEAD.Nn and AEAD.Nt of suite 0x0004. */
export const SFRAME_KEY_BYTES = 16;
export const SFRAME_NONCE_BYTES = 12;
export const SFRAME_TAG_BYTES = 16;
/** Longest header: config byte, 8-byte KID, 8-byte CTR. */
export const SFRAME_MAX_HEADER_BYTES = 17;

const MAX_U64 = (1n << 64n) - 1n;
const KEY_LABEL = utf8('SFrame 1.0 Secret key ');
const SALT_LABEL = utf8('SFrame 1.0 Secret salt ');

// ---------------------------------------------------------------------------------------------
// Header (§4.3)

export interface SFrameHeader {
  kid: bigint;
  ctr: bigint;
  /** Bytes the header occupies. */
  length: number;
}

function byteLength(value: bigint): number {
  let n = 1;
  while (value > 0xffn) {
    value >>= 8n;
    n++;
  }
  return n;
}

function writeBigEndian(out: Uint8Array, offset: number, value: bigint, length: number): void {
  for (let i = length - 1; i >= 0; i--) {
    out[offset + i] = Number(value & 0xffn);
    value >>= 8n;
  }
}

/** Encodes a header; throws RangeError unless 0 <= kid, ctr < 2^64. */
export function encodeSFrameHeader(kid: bigint, ctr: bigint): Bytes {
  if (kid < 0n || kid > MAX_U64 || ctr < 0n || ctr > MAX_U64) throw new RangeError('SFrame KID/CTR out of range');
  const kidLen = kid < 8n ? 0 : byteLength(kid);
  const ctrLen = ctr < 8n ? 0 : byteLength(ctr);
  const out = new Uint8Array(1 + kidLen + ctrLen);
  const k = kidLen === 0 ? Number(kid) : 0x08 | (kidLen - 1);
  const c = ctrLen === 0 ? Number(ctr) : 0x08 | (ctrLen - 1);
  out[0] = (k << 4) | c;
  if (kidLen > 0) writeBigEndian(out, 1, kid, kidLen);
  if (ctrLen > 0) writeBigEndian(out, 1 + kidLen, ctr, ctrLen);
  return out;
}

function readField(data: Uint8Array, offset: number, nibble: number): { value: bigint; length: number } | null {
  if ((nibble & 0x08) === 0) return { value: BigInt(nibble), length: 0 };
  const length = (nibble & 0x07) + 1;
  if (offset + length > data.length) return null;
  let value = 0n;
  for (let i = 0; i < length; i++) value = (value << 8n) | BigInt(data[offset + i] ?? 0);
  // Minimal encoding only: no leading zero byte, and values below 8 belong in the config byte.
  if (value < 8n || byteLength(value) !== length) return null;
  return { value, length };
}

/** Decodes the header at `offset`; null when it is truncated or not minimally encoded. */
export function decodeSFrameHeader(data: Uint8Array, offset = 0): SFrameHeader | null {
  const config = data[offset];
  if (config === undefined) return null;
  const kid = readField(data, offset + 1, config >> 4);
  if (kid === null) return null;
  const ctr = readField(data, offset + 1 + kid.length, config & 0x0f);
  if (ctr === null) return null;
  return { kid: kid.value, ctr: ctr.value, length: 1 + kid.length + ctr.length };
}

// ---------------------------------------------------------------------------------------------
// Keys (§4.4.2)

export interface SFrameKeyMaterial {
  key: Bytes;
  salt: Bytes;
}

export type SFrameKeyUsage = 'encrypt' | 'decrypt';

/** sframe_key and sframe_salt for one KID, ready to use; `usage` is fixed at derivation. */
export interface SFrameKey {
  readonly kid: bigint;
  readonly usage: SFrameKeyUsage;
  readonly key: CryptoKey;
  readonly salt: Bytes;
}

function label(prefix: Bytes, kid: bigint): Bytes {
  const out = new Uint8Array(prefix.length + 10);
  out.set(prefix, 0);
  const view = new DataView(out.buffer);
  view.setBigUint64(prefix.length, kid);
  view.setUint16(prefix.length + 8, SUITE);
  return out;
}

/** RFC 9605 derive_key_salt(KID, base_key) for suite 0x0004, as raw bytes. */
export async function deriveSFrameKeyMaterial(baseKey: Bytes, kid: bigint): Promise<SFrameKeyMaterial> {
  if (kid < 0n || kid > MAX_U64) throw new RangeError('SFrame KID out of range');
  const secret = await subtle.importKey('raw', baseKey, 'HKDF', false, ['deriveBits']);
  // An empty HKDF salt is HashLen zero bytes (RFC 5869 §2.2), which is what "" means in §4.4.2.
  const salt = new Uint8Array(0);
  const [key, nonceSalt] = await Promise.all([
    subtle.deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt, info: label(KEY_LABEL, kid) },
      secret,
      SFRAME_KEY_BYTES * 8,
    ),
    subtle.deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt, info: label(SALT_LABEL, kid) },
      secret,
      SFRAME_NONCE_BYTES * 8,
    ),
  ]);
  return { key: new Uint8Array(key), salt: new Uint8Array(nonceSalt) };
}

export async function importSFrameKey(
  material: SFrameKeyMaterial,
  kid: bigint,
  usage: SFrameKeyUsage,
): Promise<SFrameKey> {
  const key = await subtle.importKey('raw', material.key, { name: 'AES-GCM' }, false, [usage]);
  return { kid, usage, key, salt: material.salt };
}

/** Derives and imports the SFrame key of `kid`; do this once per KID, not per frame. */
export async function deriveSFrameKey(baseKey: Bytes, kid: bigint, usage: SFrameKeyUsage): Promise<SFrameKey> {
  return importSFrameKey(await deriveSFrameKeyMaterial(baseKey, kid), kid, usage);
}

/** nonce = sframe_salt XOR CTR, CTR encoded big-endian over the nonce's 12 bytes (§4.4.3). */
export function sframeNonce(salt: Uint8Array, ctr: bigint): Bytes {
  const nonce = new Uint8Array(salt);
  const view = new DataView(nonce.buffer);
  const tail = SFRAME_NONCE_BYTES - 8;
  view.setBigUint64(tail, view.getBigUint64(tail) ^ ctr);
  return nonce;
}

// ---------------------------------------------------------------------------------------------
// Encryption and decryption (§4.4.3, §4.4.4)

/**
 * Writes prefix || header || AEAD(plaintext) with AAD = header || metadata. sframeEncrypt is
 * the RFC operation (empty prefix); protectMediaFrame passes the clear codec bytes as both.
 */
async function seal(
  key: SFrameKey,
  ctr: bigint,
  prefix: Uint8Array,
  metadata: Uint8Array,
  plaintext: Bytes,
): Promise<Bytes> {
  if (key.usage !== 'encrypt') throw new TypeError('SFrame key is for decryption only');
  const header = encodeSFrameHeader(key.kid, ctr);
  const ct = await subtle.encrypt(
    { name: 'AES-GCM', iv: sframeNonce(key.salt, ctr), additionalData: concatBytes(header, metadata) },
    key.key,
    plaintext,
  );
  const out = new Uint8Array(prefix.length + header.length + ct.byteLength);
  out.set(prefix, 0);
  out.set(header, prefix.length);
  out.set(new Uint8Array(ct), prefix.length + header.length);
  return out;
}

/** RFC 9605 encrypt(CTR, KID, metadata, plaintext) = header || ciphertext. Each (KID, CTR) once. */
export function sframeEncrypt(key: SFrameKey, ctr: bigint, metadata: Uint8Array, plaintext: Bytes): Promise<Bytes> {
  return seal(key, ctr, new Uint8Array(0), metadata, plaintext);
}

export interface SFrameCiphertext {
  kid: bigint;
  ctr: bigint;
  header: Bytes;
  /** Ciphertext and tag. */
  body: Bytes;
}

/** Splits header and body; null when the header is malformed or no tag fits. */
export function parseSFrameCiphertext(data: Bytes): SFrameCiphertext | null {
  const header = decodeSFrameHeader(data);
  if (header === null || data.length - header.length < SFRAME_TAG_BYTES) return null;
  return {
    kid: header.kid,
    ctr: header.ctr,
    header: data.subarray(0, header.length),
    body: data.subarray(header.length),
  };
}

/** AEAD.Decrypt of a parsed ciphertext; null when it does not authenticate. */
export async function sframeOpen(
  key: SFrameKey,
  parsed: SFrameCiphertext,
  metadata: Uint8Array,
): Promise<Bytes | null> {
  if (key.usage !== 'decrypt' || key.kid !== parsed.kid) return null;
  try {
    const pt = await subtle.decrypt(
      { name: 'AES-GCM', iv: sframeNonce(key.salt, parsed.ctr), additionalData: concatBytes(parsed.header, metadata) },
      key.key,
      parsed.body,
    );
    return new Uint8Array(pt);
  } catch {
    return null;
  }
}

export type SFrameKeyLookup = (kid: bigint) => SFrameKey | undefined | null | PromiseLike<SFrameKey | undefined | null>;

export type SFrameDecryptError = 'malformed' | 'unknown-kid' | 'auth-failed';
export type SFrameDecryptResult =
  { ok: true; plaintext: Bytes; kid: bigint; ctr: bigint } | { ok: false; error: SFrameDecryptError };

/** RFC 9605 decrypt(metadata, sframe_ciphertext), with the key store as a lookup by KID. */
export async function sframeDecrypt(
  keys: SFrameKeyLookup,
  metadata: Uint8Array,
  data: Bytes,
): Promise<SFrameDecryptResult> {
  const parsed = parseSFrameCiphertext(data);
  if (parsed === null) return { ok: false, error: 'malformed' };
  const key = await keys(parsed.kid);
  if (!key) return { ok: false, error: 'unknown-kid' };
  const plaintext = await sframeOpen(key, parsed, metadata);
  if (plaintext === null) return { ok: false, error: 'auth-failed' };
  return { ok: true, plaintext, kid: parsed.kid, ctr: parsed.ctr };
}

// ---------------------------------------------------------------------------------------------
// Anti-replay

/**
 * Sliding window over the CTRs of one KID: accepts each CTR once, in any order within `size`
 * of the highest seen; older ones are refused. check() before decrypting (cheap rejection),
 * commit() after the frame authenticated (commit fails for a CTR that got in meanwhile).
 */
export class ReplayWindow {
  private mHighest = -1n;
  /** Bit i set: CTR mHighest - i was seen. */
  private mSeen = 0n;
  private readonly mSize: bigint;
  private readonly mMask: bigint;

  constructor(size = 128) {
    this.mSize = BigInt(size);
    this.mMask = (1n << this.mSize) - 1n;
  }

  check(ctr: bigint): boolean {
    if (ctr > this.mHighest) return true;
    const age = this.mHighest - ctr;
    if (age >= this.mSize) return false;
    return ((this.mSeen >> age) & 1n) === 0n;
  }

  commit(ctr: bigint): boolean {
    if (!this.check(ctr)) return false;
    if (ctr > this.mHighest) {
      const shift = ctr - this.mHighest;
      this.mSeen = shift >= this.mSize ? 1n : ((this.mSeen << shift) | 1n) & this.mMask;
      this.mHighest = ctr;
    } else {
      this.mSeen |= 1n << (this.mHighest - ctr);
    }
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Media frames: clear codec bytes for the SFU, authenticated as SFrame metadata
//
// Layout of a protected encoded frame (what RTCRtpScriptTransform hands to the packetizer):
//
//   +----------------+---------------+-----------------------------+
//   |  clear prefix  | SFrame header | AES-GCM ciphertext || tag   |
//   +----------------+---------------+-----------------------------+
//    \______ AAD = SFrame header || clear prefix (SFrame metadata) /
//
// clear prefix, read from the frame's own first byte so that sender, SFU and receiver agree:
// - VP8 (RFC 6386 §9.1): byte 0 bit 0 is P, 0 for a key frame. A key frame keeps 10 bytes in the
//   clear (3-byte frame tag + start code 9d 01 2a + 14-bit width and height: the SFU and the
//   receiving depacketizer detect key frames and read their size); a delta frame keeps 1 byte
//   (enough for P). The rest of the frame tag (show_frame, first partition size) is encrypted.
// - Opus (RFC 6716 §3.1): the TOC byte.
// An empty frame passes through unchanged in both directions (it has nothing to protect).

export type MediaCodec = 'vp8' | 'opus';

export const VP8_KEYFRAME_CLEAR_BYTES = 10;
export const VP8_DELTA_CLEAR_BYTES = 1;
export const OPUS_CLEAR_BYTES = 1;

export function isVp8KeyFrame(frame: Uint8Array): boolean {
  const first = frame[0];
  return first !== undefined && (first & 0x01) === 0;
}

/** How many leading bytes of `frame` stay in the clear. */
export function clearPrefixLength(codec: MediaCodec, frame: Uint8Array): number {
  if (frame.length === 0) return 0;
  if (codec === 'opus') return OPUS_CLEAR_BYTES;
  return isVp8KeyFrame(frame) ? VP8_KEYFRAME_CLEAR_BYTES : VP8_DELTA_CLEAR_BYTES;
}

/**
 * Encrypts one encoded frame with the sender's SFrame key and counter. Null when the frame is
 * too short to be what its first byte claims (a VP8 key frame under 10 bytes): drop it.
 */
export async function protectMediaFrame(
  codec: MediaCodec,
  key: SFrameKey,
  ctr: bigint,
  frame: Bytes,
): Promise<Bytes | null> {
  if (frame.length === 0) return frame;
  const clear = clearPrefixLength(codec, frame);
  if (frame.length < clear) return null;
  const prefix = frame.subarray(0, clear);
  return seal(key, ctr, prefix, prefix, frame.subarray(clear));
}

export interface ProtectedMediaFrame {
  prefix: Bytes;
  sframe: SFrameCiphertext;
}

/** Splits a protected frame into its clear prefix and SFrame ciphertext; null if malformed. */
export function parseProtectedMediaFrame(codec: MediaCodec, frame: Bytes): ProtectedMediaFrame | null {
  const clear = clearPrefixLength(codec, frame);
  if (frame.length < clear) return null;
  const sframe = parseSFrameCiphertext(frame.subarray(clear));
  if (sframe === null) return null;
  return { prefix: frame.subarray(0, clear), sframe };
}

/** Decrypts a parsed protected frame back into prefix || plaintext; null if it does not authenticate. */
export async function openProtectedMediaFrame(key: SFrameKey, parsed: ProtectedMediaFrame): Promise<Bytes | null> {
  const plaintext = await sframeOpen(key, parsed.sframe, parsed.prefix);
  return plaintext === null ? null : concatBytes(parsed.prefix, plaintext);
}

export type MediaUnprotectResult =
  { ok: true; frame: Bytes; kid: bigint | null; ctr: bigint | null } | { ok: false; error: SFrameDecryptError };

/** The inverse of protectMediaFrame: the original encoded frame (kid null: it was empty), or why not. */
export async function unprotectMediaFrame(
  codec: MediaCodec,
  keys: SFrameKeyLookup,
  frame: Bytes,
): Promise<MediaUnprotectResult> {
  if (frame.length === 0) return { ok: true, frame, kid: null, ctr: null };
  const parsed = parseProtectedMediaFrame(codec, frame);
  if (parsed === null) return { ok: false, error: 'malformed' };
  const key = await keys(parsed.sframe.kid);
  if (!key) return { ok: false, error: 'unknown-kid' };
  const plaintext = await openProtectedMediaFrame(key, parsed);
  if (plaintext === null) return { ok: false, error: 'auth-failed' };
  return { ok: true, frame: plaintext, kid: parsed.sframe.kid, ctr: parsed.sframe.ctr };
}
