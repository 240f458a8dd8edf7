// Files encrypted in chunks with a random per-file key. The manifest (with the key) travels inside
// an encrypted, signed chat message; the chunks travel however the app moves them. No DOM.
//
//   key        = 16 random bytes (AES-GCM-128), noncePrefix = 8 random bytes, fileId = 16 random bytes
//   chunk i    = AES-GCM(key, nonce = noncePrefix || uint32_be(i),
//                        aad = fields("Conclave file v1", fileId, i, isLast ? 1 : 0), plaintext[i])
//   manifest   = {v:1, fileId, name, size, mime, chunkSize, chunks, sha256 (of the plaintext), key, nonce,
//                 ref?}
//   ciphertext = chunk 0 || chunk 1 || ... (what is uploaded: PUT /api/files/<ref>); every chunk but
//                the last is chunkSize + 16 bytes
//
// `fileId` is this file's own random ID for the AAD; `ref` is where the ciphertext can be fetched
// (the server's file ID, set by the app after the upload).
//
// The AAD names the file, the chunk's position and whether it is the last one, so chunks cannot be
// swapped between files, reordered, or dropped from the end. An empty file is one empty chunk.
// decryptFile() checks every chunk, the size and the SHA-256 before it returns any data.

import {
  base64UrlDecodeExact,
  base64UrlEncode,
  encodeFields,
  equalBytes,
  GCM_TAG_BYTES,
  importAesGcmKey,
  LABELS,
  randomBytes,
  sha256,
  subtle,
  type Bytes,
} from './util';

export const FILE_MANIFEST_VERSION = 1;
export const DEFAULT_FILE_CHUNK_SIZE = 64 * 1024;
export const MIN_FILE_CHUNK_SIZE = 1024;
export const MAX_FILE_CHUNK_SIZE = 4 * 1024 * 1024;
export const MAX_FILE_SIZE = 1024 * 1024 * 1024;
export const MAX_FILE_NAME_LENGTH = 255;
export const MAX_MIME_LENGTH = 255;
const KEY_BYTES = 16;
const NONCE_PREFIX_BYTES = 8;
const FILE_ID_BYTES = 16;
const HASH_BYTES = 32;

export interface FileManifest {
  v: 1;
  /** base64url, 16 random bytes. */
  fileId: string;
  name: string;
  /** Plaintext size in bytes. */
  size: number;
  mime: string;
  chunkSize: number;
  chunks: number;
  /** base64url SHA-256 of the whole plaintext. */
  sha256: string;
  /** base64url AES-128 key. */
  key: string;
  /** base64url 8-byte nonce prefix. */
  nonce: string;
  /** Where the ciphertext is stored (the server's file ID); absent until uploaded. */
  ref?: string;
}

const REF = /^[A-Za-z0-9_-]{1,128}$/;

export function chunkCount(size: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(size / chunkSize));
}

/** Validates a manifest from a decrypted chat message; null when it is not a sound one. */
export function parseFileManifest(value: unknown): FileManifest | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const o = value as Record<string, unknown>;
  const fileId = o['fileId'];
  const name = o['name'];
  const size = o['size'];
  const mime = o['mime'];
  const chunkSize = o['chunkSize'];
  const chunks = o['chunks'];
  const hash = o['sha256'];
  const key = o['key'];
  const nonce = o['nonce'];
  if (o['v'] !== FILE_MANIFEST_VERSION) return null;
  if (typeof fileId !== 'string' || base64UrlDecodeExact(fileId, FILE_ID_BYTES) === null) return null;
  if (typeof name !== 'string' || name.length > MAX_FILE_NAME_LENGTH) return null;
  if (typeof mime !== 'string' || mime.length > MAX_MIME_LENGTH) return null;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || size > MAX_FILE_SIZE) return null;
  if (typeof chunkSize !== 'number' || !Number.isSafeInteger(chunkSize)) return null;
  if (chunkSize < MIN_FILE_CHUNK_SIZE || chunkSize > MAX_FILE_CHUNK_SIZE) return null;
  if (chunks !== chunkCount(size, chunkSize)) return null;
  if (typeof hash !== 'string' || base64UrlDecodeExact(hash, HASH_BYTES) === null) return null;
  if (typeof key !== 'string' || base64UrlDecodeExact(key, KEY_BYTES) === null) return null;
  if (typeof nonce !== 'string' || base64UrlDecodeExact(nonce, NONCE_PREFIX_BYTES) === null) return null;
  const manifest: FileManifest = {
    v: FILE_MANIFEST_VERSION,
    fileId,
    name,
    size,
    mime,
    chunkSize,
    chunks,
    sha256: hash,
    key,
    nonce,
  };
  const ref = o['ref'];
  if (ref !== undefined) {
    if (typeof ref !== 'string' || !REF.test(ref)) return null;
    manifest.ref = ref;
  }
  return manifest;
}

/** Bytes of ciphertext for a plaintext of `size` bytes (what `file-upload` announces). */
export function ciphertextSize(size: number, chunkSize: number): number {
  return size + chunkCount(size, chunkSize) * GCM_TAG_BYTES;
}

/** Splits a downloaded ciphertext into the manifest's chunks; null when its length is wrong. */
export function splitFileCiphertext(manifest: FileManifest, ciphertext: Bytes): Bytes[] | null {
  if (ciphertext.length !== ciphertextSize(manifest.size, manifest.chunkSize)) return null;
  const step = manifest.chunkSize + GCM_TAG_BYTES;
  const chunks: Bytes[] = [];
  for (let offset = 0; offset < ciphertext.length; offset += step)
    chunks.push(ciphertext.subarray(offset, offset + step));
  return chunks.length === manifest.chunks ? chunks : null;
}

function chunkNonce(prefix: Bytes, index: number): Bytes {
  const nonce = new Uint8Array(12);
  nonce.set(prefix, 0);
  new DataView(nonce.buffer).setUint32(8, index);
  return nonce;
}

function chunkAad(fileId: Bytes, index: number, isLast: boolean): Bytes {
  return encodeFields(LABELS.file, fileId, index, isLast ? 1 : 0);
}

/** The decoded secrets of a manifest, with the key imported once. */
export interface FileKeys {
  manifest: FileManifest;
  fileId: Bytes;
  noncePrefix: Bytes;
  key: CryptoKey;
}

export async function importFileKeys(manifest: FileManifest): Promise<FileKeys | null> {
  const fileId = base64UrlDecodeExact(manifest.fileId, FILE_ID_BYTES);
  const noncePrefix = base64UrlDecodeExact(manifest.nonce, NONCE_PREFIX_BYTES);
  const raw = base64UrlDecodeExact(manifest.key, KEY_BYTES);
  if (fileId === null || noncePrefix === null || raw === null) return null;
  return { manifest, fileId, noncePrefix, key: await importAesGcmKey(raw, ['encrypt', 'decrypt']) };
}

export interface EncryptedFile {
  manifest: FileManifest;
  /** Chunk i's ciphertext and tag; all but the last are chunkSize + 16 bytes. */
  chunks: Bytes[];
}

export interface FileInfo {
  name: string;
  mime: string;
}

/** Encrypts a whole file. Throws RangeError for a file or chunk size out of bounds. */
export async function encryptFile(
  data: Bytes,
  info: FileInfo,
  chunkSize = DEFAULT_FILE_CHUNK_SIZE,
): Promise<EncryptedFile> {
  if (data.length > MAX_FILE_SIZE) throw new RangeError('file too large');
  if (!Number.isSafeInteger(chunkSize) || chunkSize < MIN_FILE_CHUNK_SIZE || chunkSize > MAX_FILE_CHUNK_SIZE) {
    throw new RangeError('chunk size out of range');
  }
  const rawKey = randomBytes(KEY_BYTES);
  const manifest: FileManifest = {
    v: FILE_MANIFEST_VERSION,
    fileId: base64UrlEncode(randomBytes(FILE_ID_BYTES)),
    name: info.name.slice(0, MAX_FILE_NAME_LENGTH),
    size: data.length,
    mime: info.mime.slice(0, MAX_MIME_LENGTH),
    chunkSize,
    chunks: chunkCount(data.length, chunkSize),
    sha256: base64UrlEncode(await sha256(data)),
    key: base64UrlEncode(rawKey),
    nonce: base64UrlEncode(randomBytes(NONCE_PREFIX_BYTES)),
  };
  const keys = await importFileKeys(manifest);
  if (keys === null) throw new Error('unreachable: fresh manifest does not decode');
  const chunks: Bytes[] = [];
  for (let i = 0; i < manifest.chunks; i++) {
    chunks.push(await encryptFileChunk(keys, i, data.subarray(i * chunkSize, (i + 1) * chunkSize)));
  }
  return { manifest, chunks };
}

export async function encryptFileChunk(keys: FileKeys, index: number, plaintext: Bytes): Promise<Bytes> {
  const isLast = index === keys.manifest.chunks - 1;
  const ct = await subtle.encrypt(
    { name: 'AES-GCM', iv: chunkNonce(keys.noncePrefix, index), additionalData: chunkAad(keys.fileId, index, isLast) },
    keys.key,
    plaintext,
  );
  return new Uint8Array(ct);
}

/** One chunk's plaintext; null when it is not chunk `index` of this file (or was altered). */
export async function decryptFileChunk(keys: FileKeys, index: number, chunk: Bytes): Promise<Bytes | null> {
  const { chunks, chunkSize, size } = keys.manifest;
  if (!Number.isInteger(index) || index < 0 || index >= chunks) return null;
  const isLast = index === chunks - 1;
  const expected = isLast ? size - chunkSize * (chunks - 1) : chunkSize;
  if (chunk.length !== expected + GCM_TAG_BYTES) return null;
  try {
    const pt = await subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: chunkNonce(keys.noncePrefix, index),
        additionalData: chunkAad(keys.fileId, index, isLast),
      },
      keys.key,
      chunk,
    );
    return new Uint8Array(pt);
  } catch {
    return null;
  }
}

export type DecryptFileError = 'bad-manifest' | 'chunk-count' | 'bad-chunk' | 'hash-mismatch';
export type DecryptFileResult =
  { ok: true; data: Bytes } | { ok: false; error: DecryptFileError; /** For bad-chunk: which one. */ chunk?: number };

/** Decrypts and verifies a whole file; data is returned only when everything checks out. */
export async function decryptFile(manifest: FileManifest, chunks: readonly Bytes[]): Promise<DecryptFileResult> {
  const checked = parseFileManifest(manifest);
  const keys = checked === null ? null : await importFileKeys(checked);
  if (keys === null) return { ok: false, error: 'bad-manifest' };
  if (chunks.length !== keys.manifest.chunks) return { ok: false, error: 'chunk-count' };
  // Chunk lengths are checked against the manifest, so the chunks fill exactly `size` bytes.
  const data = new Uint8Array(keys.manifest.size);
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i];
    const plaintext = chunk === undefined ? null : await decryptFileChunk(keys, i, chunk);
    if (plaintext === null) return { ok: false, error: 'bad-chunk', chunk: i };
    data.set(plaintext, i * keys.manifest.chunkSize);
  }
  const expected = base64UrlDecodeExact(keys.manifest.sha256, HASH_BYTES);
  if (expected === null || data.length !== keys.manifest.size || !equalBytes(await sha256(data), expected)) {
    return { ok: false, error: 'hash-mismatch' };
  }
  return { ok: true, data };
}
