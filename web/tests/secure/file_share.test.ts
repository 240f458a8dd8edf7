import { describe, expect, it } from 'vitest';
import { ciphertextSize, randomBytes, DEFAULT_FILE_CHUNK_SIZE, type FileManifest } from '../../src/e2ee';
import type { FetchLike } from '../../src/protocol/invite';
import { downloadFile, FileShareError, uploadFile } from '../../src/secure/file_share';

/** Plays the server's /api/files endpoint. */
function fakeServer() {
  const files = new Map<string, Uint8Array>();
  const requests: { url: string; method: string; headers: Record<string, string>; size: number }[] = [];
  const answer = (url: string, init?: RequestInit): Response => {
    const method = init?.method ?? 'GET';
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const body = init?.body as Uint8Array | undefined;
    requests.push({ url, method, headers, size: body?.length ?? 0 });
    const id = url.slice('/api/files/'.length);
    if (method === 'PUT') {
      if (headers['Authorization'] !== `Bearer token-${id}`) return new Response(null, { status: 403 });
      files.set(id, new Uint8Array(body ?? []));
      return new Response('{}', { status: 201 });
    }
    const stored = files.get(id);
    return stored ? new Response(stored.slice(), { status: 200 }) : new Response(null, { status: 404 });
  };
  const fetchFn: FetchLike = (url, init) => Promise.resolve(answer(url, init));
  const reserved: number[] = [];
  const requestUpload = (size: number) => {
    reserved.push(size);
    const fileId = `file${reserved.length}`;
    return Promise.resolve({ fileId, uploadToken: `token-${fileId}`, url: `/api/files/${fileId}` });
  };
  return { files, requests, fetchFn, requestUpload, reserved };
}

describe('file sharing', () => {
  it('uploads only ciphertext, of exactly the reserved size, and gets the file back verified', async () => {
    const server = fakeServer();
    const data = randomBytes(3 * DEFAULT_FILE_CHUNK_SIZE + 17);
    data.set(new TextEncoder().encode('PLAINTEXT MARKER'), 0);
    const manifest = await uploadFile(
      data,
      { name: 'a.bin', mime: 'application/octet-stream' },
      server.requestUpload,
      server.fetchFn,
    );
    expect(manifest.ref).toBe('file1');
    expect(server.reserved).toEqual([ciphertextSize(data.length, DEFAULT_FILE_CHUNK_SIZE)]);
    const put = server.requests[0];
    expect(put).toMatchObject({ url: '/api/files/file1', method: 'PUT', size: server.reserved[0] });
    const stored = server.files.get('file1') ?? new Uint8Array();
    expect(new TextDecoder().decode(stored)).not.toContain('PLAINTEXT MARKER');
    expect(await downloadFile(manifest, server.fetchFn)).toEqual(data);
  });

  it('offers nothing when the ciphertext was altered, cut, or is gone', async () => {
    const server = fakeServer();
    const data = randomBytes(5000);
    const manifest = await uploadFile(data, { name: 'b', mime: '' }, server.requestUpload, server.fetchFn);
    const stored = server.files.get('file1') ?? new Uint8Array();
    const flipped = stored.slice();
    flipped[100] = (flipped[100] ?? 0) ^ 1;
    server.files.set('file1', flipped);
    await expect(downloadFile(manifest, server.fetchFn)).rejects.toMatchObject({ code: 'corrupt' });
    server.files.set('file1', stored.slice(0, stored.length - 1));
    await expect(downloadFile(manifest, server.fetchFn)).rejects.toMatchObject({ code: 'corrupt' });
    // Another file's ciphertext under this manifest.
    const other = await uploadFile(randomBytes(5000), { name: 'c', mime: '' }, server.requestUpload, server.fetchFn);
    await expect(downloadFile({ ...manifest, ref: other.ref ?? '' }, server.fetchFn)).rejects.toMatchObject({
      code: 'corrupt',
    });
    server.files.delete('file1');
    await expect(downloadFile(manifest, server.fetchFn)).rejects.toMatchObject({ code: 'gone' });
    const unsent: FileManifest = { ...manifest };
    delete unsent.ref;
    await expect(downloadFile(unsent, server.fetchFn)).rejects.toBeInstanceOf(FileShareError);
  });

  it('reports a refused upload', async () => {
    const server = fakeServer();
    const refuse: FetchLike = () => Promise.resolve(new Response(null, { status: 413 }));
    await expect(
      uploadFile(randomBytes(10), { name: 'x', mime: '' }, server.requestUpload, refuse),
    ).rejects.toMatchObject({ code: 'upload-failed' });
    const tooLarge = () => Promise.reject(Object.assign(new Error('too large'), { code: 'file-too-large' }));
    await expect(uploadFile(randomBytes(10), { name: 'x', mime: '' }, tooLarge, server.fetchFn)).rejects.toMatchObject({
      code: 'file-too-large',
    });
  });
});
