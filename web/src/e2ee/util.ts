// Byte helpers and the key-derivation primitives every E2EE module shares. No DOM, no network:
// only `crypto.subtle` and `crypto.getRandomValues` (both exist in browsers, workers and Node 20).

/** Bytes backed by a plain ArrayBuffer: what `crypto.subtle` accepts. */
export type Bytes = Uint8Array<ArrayBuffer>;

export const subtle: SubtleCrypto = globalThis.crypto.subtle;

/** Domain-separation labels. Every derivation, MAC, signature and AAD starts with one of them. */
export const LABELS = {
  room: 'Conclave room v1',
  membership: 'Conclave membership v1',
  profile: 'Conclave profile v1',
  profileSignature: 'Conclave profile signature v1',
  pairwiseSalt: 'Conclave pairwise salt v1',
  pairwise: 'Conclave pairwise v1',
  senderKeyTransport: 'Conclave sender key v1',
  keyControl: 'Conclave key control v1',
  ratchet: 'Conclave ratchet v1',
  media: 'Conclave media v1',
  kid: 'Conclave kid v1',
  chat: 'Conclave chat v1',
  file: 'Conclave file v1',
  securityCode: 'Conclave security code v2',
  move: 'Conclave move v1',
  mediaState: 'Conclave media state v1',
} as const;

const EMPTY: Bytes = new Uint8Array(0);
const encoder = new TextEncoder();

export function utf8(text: string): Bytes {
  return encoder.encode(text);
}

export function randomBytes(length: number): Bytes {
  const bytes = new Uint8Array(length);
  // getRandomValues fills at most 65,536 bytes per call.
  for (let i = 0; i < length; i += 65536) globalThis.crypto.getRandomValues(bytes.subarray(i, i + 65536));
  return bytes;
}

export function concatBytes(...parts: readonly Uint8Array[]): Bytes {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** A copy on a fresh ArrayBuffer (for input that may sit on a shared or larger buffer). */
export function copyBytes(bytes: Uint8Array): Bytes {
  return new Uint8Array(bytes);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Lexicographic order of byte strings (a shorter prefix sorts first). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function uint32BE(value: number): Bytes {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0);
  return out;
}

/** A non-negative safe integer as 8 big-endian bytes. */
export function uint64BE(value: number | bigint): Bytes {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

export type Field = string | Uint8Array | number;

/**
 * Unambiguous encoding of a list of fields for MAC, signature, AAD and HKDF info inputs: each
 * field is a 4-byte big-endian length followed by its bytes. Strings are UTF-8; numbers (safe,
 * non-negative integers) are 8 big-endian bytes.
 */
export function encodeFields(...fields: readonly Field[]): Bytes {
  const parts: Uint8Array[] = [];
  for (const field of fields) {
    let bytes: Uint8Array;
    if (typeof field === 'string') bytes = utf8(field);
    else if (typeof field === 'number') {
      if (!Number.isSafeInteger(field) || field < 0) throw new RangeError('field: not a safe non-negative integer');
      bytes = uint64BE(field);
    } else bytes = field;
    parts.push(uint32BE(bytes.length), bytes);
  }
  return concatBytes(...parts);
}

// ---------------------------------------------------------------------------------------------
// base64url without padding (RFC 4648 §5)

export function base64UrlEncode(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Decodes unpadded base64url; null for anything else. */
export function base64UrlDecode(text: string): Bytes | null {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return null;
  let binary: string;
  try {
    binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  } catch {
    return null;
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** base64url that must decode to exactly `length` bytes (keys, MACs, signatures). */
export function base64UrlDecodeExact(text: unknown, length: number): Bytes | null {
  if (typeof text !== 'string') return null;
  const bytes = base64UrlDecode(text);
  return bytes !== null && bytes.length === length ? bytes : null;
}

// ---------------------------------------------------------------------------------------------
// HKDF-SHA256 (RFC 5869) and AES-GCM keys

/** HKDF-SHA256: Extract(salt, ikm) then Expand(info, length). An empty salt means HashLen zeros. */
export async function hkdf(ikm: Bytes, info: Bytes, length: number, salt: Bytes = EMPTY): Promise<Bytes> {
  const key = await subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  const bits = await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, key, length * 8);
  return new Uint8Array(bits);
}

export function importAesGcmKey(raw: Bytes, usages: readonly KeyUsage[]): Promise<CryptoKey> {
  return subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, [...usages]);
}

export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;

/** AES-GCM with a random 96-bit IV; output is iv || ciphertext || tag. */
export async function sealRandomIv(key: CryptoKey, plaintext: Bytes, aad: Bytes): Promise<Bytes> {
  const iv = randomBytes(GCM_IV_BYTES);
  const ct = await subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad }, key, plaintext);
  return concatBytes(iv, new Uint8Array(ct));
}

/** Opens iv || ciphertext || tag; null when it does not authenticate. */
export async function openRandomIv(key: CryptoKey, sealed: Bytes, aad: Bytes): Promise<Bytes | null> {
  if (sealed.length < GCM_IV_BYTES + GCM_TAG_BYTES) return null;
  try {
    const pt = await subtle.decrypt(
      { name: 'AES-GCM', iv: sealed.subarray(0, GCM_IV_BYTES), additionalData: aad },
      key,
      sealed.subarray(GCM_IV_BYTES),
    );
    return new Uint8Array(pt);
  } catch {
    return null;
  }
}

export async function sha256(data: Bytes): Promise<Bytes> {
  return new Uint8Array(await subtle.digest('SHA-256', data));
}
