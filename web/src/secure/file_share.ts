// Moving encrypted files: encrypt in the browser (src/e2ee/files.ts), reserve an upload with
// `file-upload`, PUT the ciphertext to the server, and later GET it back, decrypt and verify it
// before anything is offered for saving. The key travels only inside an encrypted chat message
// (the manifest). No DOM: fetch and the signaling request are parameters.

import {
  concatBytes,
  decryptFile,
  encryptFile,
  splitFileCiphertext,
  type Bytes,
  type FileInfo,
  type FileManifest,
} from '../e2ee';
import type { FetchLike } from '../protocol/invite';

export type FileUploadRequest = (size: number) => Promise<{ fileId: string; uploadToken: string; url: string }>;

export type FileShareErrorCode = 'upload-failed' | 'not-uploaded' | 'gone' | 'download-failed' | 'corrupt';

export class FileShareError extends Error {
  readonly code: FileShareErrorCode;
  constructor(code: FileShareErrorCode, message: string) {
    super(message);
    this.name = 'FileShareError';
    this.code = code;
  }
}

const REQUEST: RequestInit = { credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer' };

/**
 * Encrypts `data`, uploads the ciphertext and returns the manifest (with `ref`, the server's file
 * ID) to send in a chat message. Errors of `requestUpload` (e.g. `file-too-large`) pass through.
 */
export async function uploadFile(
  data: Bytes,
  info: FileInfo,
  requestUpload: FileUploadRequest,
  fetchFn: FetchLike,
): Promise<FileManifest> {
  const encrypted = await encryptFile(data, info);
  const body = concatBytes(...encrypted.chunks);
  const target = await requestUpload(body.length);
  let response: Response;
  try {
    response = await fetchFn(target.url, {
      ...REQUEST,
      method: 'PUT',
      headers: { Authorization: `Bearer ${target.uploadToken}`, 'Content-Type': 'application/octet-stream' },
      body,
    });
  } catch (err) {
    throw new FileShareError('upload-failed', err instanceof Error ? err.message : 'network error');
  }
  if (!response.ok) throw new FileShareError('upload-failed', `HTTP ${response.status}`);
  return { ...encrypted.manifest, ref: target.fileId };
}

/** Downloads a file's ciphertext, decrypts it and checks every chunk and the SHA-256. */
export async function downloadFile(manifest: FileManifest, fetchFn: FetchLike): Promise<Bytes> {
  if (manifest.ref === undefined) throw new FileShareError('not-uploaded', 'the file has no server reference');
  let response: Response;
  try {
    response = await fetchFn(`/api/files/${manifest.ref}`, { ...REQUEST, method: 'GET' });
  } catch (err) {
    throw new FileShareError('download-failed', err instanceof Error ? err.message : 'network error');
  }
  if (response.status === 404) throw new FileShareError('gone', 'the file is no longer on the server');
  if (!response.ok) throw new FileShareError('download-failed', `HTTP ${response.status}`);
  const ciphertext = new Uint8Array(await response.arrayBuffer());
  const chunks = splitFileCiphertext(manifest, ciphertext);
  if (chunks === null) throw new FileShareError('corrupt', 'the ciphertext has the wrong length');
  const result = await decryptFile(manifest, chunks);
  if (!result.ok) throw new FileShareError('corrupt', `the file does not verify (${result.error})`);
  return result.data;
}
