import { describe, expect, it } from 'vitest';
import {
  base64UrlEncode,
  ciphertextSize,
  concatBytes,
  decryptFile,
  DEFAULT_FILE_CHUNK_SIZE,
  encryptFile,
  importFileKeys,
  parseFileManifest,
  randomBytes,
  sha256,
  splitFileCiphertext,
  type Bytes,
  type FileManifest,
} from '../../src/e2ee';
import { KAT } from './conclave_kat';
import { flipBit, hex } from './helpers';

const INFO = { name: 'report.pdf', mime: 'application/pdf' };

function must<T>(value: T | null | undefined): T {
  if (value === null || value === undefined) throw new Error('unexpected null');
  return value;
}

/** The manifest inside the known-answer chat message, rebuilt from the generator's fixed values. */
function katMessageFile(): unknown {
  return {
    v: 1,
    fileId: base64UrlEncode(hex('303132333435363738393a3b3c3d3e3f')),
    name: 'notes.txt',
    size: 2500,
    mime: 'text/plain',
    chunkSize: 1024,
    chunks: 3,
    sha256: '',
    key: base64UrlEncode(hex('101112131415161718191a1b1c1d1e1f')),
    nonce: base64UrlEncode(hex('0001020304050607')),
  };
}

describe('file encryption', () => {
  it('decrypts chunks made by an independent implementation (known answer)', async () => {
    const manifest = {
      ...(katMessageFile() as FileManifest),
      sha256: base64UrlEncode(await sha256(hex(KAT.fileData))),
    };
    expect(parseFileManifest(manifest)).toEqual(manifest);
    expect(
      await decryptFile(
        manifest,
        KAT.fileChunks.map((c) => hex(c)),
      ),
    ).toEqual({ ok: true, data: hex(KAT.fileData) });
  });

  it('round-trips files of every shape of last chunk', async () => {
    const chunk = 1024;
    for (const size of [0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk + 512]) {
      const data = randomBytes(size);
      const { manifest, chunks } = await encryptFile(data, INFO, chunk);
      expect(manifest.chunks).toBe(Math.max(1, Math.ceil(size / chunk)));
      expect(chunks).toHaveLength(manifest.chunks);
      expect(chunks.slice(0, -1).every((c) => c.length === chunk + 16)).toBe(true);
      expect(parseFileManifest(JSON.parse(JSON.stringify(manifest)))).toEqual(manifest);
      expect(await decryptFile(manifest, chunks), `size ${size}`).toEqual({ ok: true, data });
    }
  });

  it('uses 64 KiB chunks and a fresh key and ID per file', async () => {
    const data = randomBytes(DEFAULT_FILE_CHUNK_SIZE * 2 + 5);
    const a = await encryptFile(data, INFO);
    const b = await encryptFile(data, INFO);
    expect(a.manifest.chunkSize).toBe(65536);
    expect(a.manifest.chunks).toBe(3);
    expect(a.manifest.key).not.toBe(b.manifest.key);
    expect(a.manifest.fileId).not.toBe(b.manifest.fileId);
    expect(a.manifest.sha256).toBe(b.manifest.sha256);
  });

  describe('tampering', () => {
    async function sample(): Promise<{ data: Bytes; manifest: FileManifest; chunks: Bytes[] }> {
      const data = randomBytes(3 * 1024 + 100);
      return { data, ...(await encryptFile(data, INFO, 1024)) };
    }

    it('detects a flipped byte in any chunk', async () => {
      const { manifest, chunks } = await sample();
      for (let i = 0; i < chunks.length; i++) {
        const altered = chunks.map((c, j) => (j === i ? flipBit(c, 100 % c.length) : c));
        expect(await decryptFile(manifest, altered)).toEqual({ ok: false, error: 'bad-chunk', chunk: i });
      }
    });

    it('detects a dropped last chunk, even with a manifest shortened to match', async () => {
      const { manifest, chunks } = await sample();
      expect(await decryptFile(manifest, chunks.slice(0, -1))).toEqual({ ok: false, error: 'chunk-count' });
      const shortened = { ...manifest, chunks: 3, size: 3 * 1024 };
      expect(parseFileManifest(shortened)).not.toBeNull();
      // Chunk 2 was not sealed as the last one.
      expect(await decryptFile(shortened, chunks.slice(0, -1))).toEqual({ ok: false, error: 'bad-chunk', chunk: 2 });
    });

    it('detects reordered chunks and chunks of another file', async () => {
      const { manifest, chunks } = await sample();
      const [c0, c1, c2, c3] = chunks.map(must);
      expect(await decryptFile(manifest, [c1, c0, c2, c3].map(must))).toEqual({
        ok: false,
        error: 'bad-chunk',
        chunk: 0,
      });
      const other = await sample();
      const mixed = [c0, must(other.chunks[1]), c2, c3].map(must);
      expect(await decryptFile(manifest, mixed)).toEqual({ ok: false, error: 'bad-chunk', chunk: 1 });
    });

    it('fails with the wrong key', async () => {
      const { manifest, chunks } = await sample();
      const wrong = { ...manifest, key: base64UrlEncode(randomBytes(16)) };
      expect(await decryptFile(wrong, chunks)).toEqual({ ok: false, error: 'bad-chunk', chunk: 0 });
    });

    it('checks the plaintext hash before returning data', async () => {
      const { manifest, chunks } = await sample();
      const wrongHash = { ...manifest, sha256: base64UrlEncode(await sha256(hex('00'))) };
      expect(await decryptFile(wrongHash, chunks)).toEqual({ ok: false, error: 'hash-mismatch' });
    });
  });

  it('validates manifests', async () => {
    const { manifest } = await encryptFile(hex('0102'), INFO, 1024);
    const bad: unknown[] = [
      null,
      'manifest',
      { ...manifest, v: 2 },
      { ...manifest, chunks: 2 },
      { ...manifest, size: -1 },
      { ...manifest, size: 1.5 },
      { ...manifest, chunkSize: 10 },
      { ...manifest, key: 'AAAA' },
      { ...manifest, nonce: manifest.key },
      { ...manifest, sha256: 'x' },
      { ...manifest, name: 'n'.repeat(256) },
      { ...manifest, fileId: undefined },
    ];
    for (const value of bad) expect(parseFileManifest(value), JSON.stringify(value)).toBeNull();
    expect(await decryptFile({ ...manifest, chunks: 5 }, [])).toEqual({ ok: false, error: 'bad-manifest' });
    expect(await importFileKeys(manifest)).not.toBeNull();
  });

  it('joins chunks into the upload body and splits the download back', async () => {
    for (const size of [0, 1024, 2500]) {
      const data = randomBytes(size);
      const { manifest, chunks } = await encryptFile(data, INFO, 1024);
      const blob = concatBytes(...chunks);
      expect(blob.length).toBe(ciphertextSize(size, 1024));
      const split = must(splitFileCiphertext(manifest, blob));
      expect(await decryptFile(manifest, split)).toEqual({ ok: true, data });
      expect(splitFileCiphertext(manifest, blob.subarray(0, blob.length - 1))).toBeNull();
      expect(splitFileCiphertext(manifest, concatBytes(blob, new Uint8Array(1)))).toBeNull();
    }
    expect(ciphertextSize(0, 1024)).toBe(16);
    expect(ciphertextSize(2048, 1024)).toBe(2048 + 32);
    expect(ciphertextSize(2049, 1024)).toBe(2049 + 48);
  });

  it('carries where the ciphertext is stored', async () => {
    const { manifest } = await encryptFile(hex('0102'), INFO, 1024);
    expect(manifest.ref).toBeUndefined();
    const stored = { ...manifest, ref: 'q1w2e3r4t5y6u7i8o9p0aZ' };
    expect(parseFileManifest(stored)).toEqual(stored);
    expect(parseFileManifest({ ...manifest, ref: '../etc' })).toBeNull();
    expect(parseFileManifest({ ...manifest, ref: '' })).toBeNull();
    expect(parseFileManifest({ ...manifest, ref: 5 })).toBeNull();
  });

  it('refuses to encrypt with a chunk size out of range', async () => {
    await expect(encryptFile(hex('00'), INFO, 100)).rejects.toThrow(RangeError);
  });
});
