import { describe, expect, it } from 'vitest';
import {
  clearPrefixLength,
  decodeSFrameHeader,
  deriveSFrameKey,
  deriveSFrameKeyMaterial,
  encodeSFrameHeader,
  parseProtectedMediaFrame,
  protectMediaFrame,
  ReplayWindow,
  sframeDecrypt,
  sframeEncrypt,
  sframeNonce,
  subtle,
  unprotectMediaFrame,
  type SFrameKey,
} from '../../src/e2ee';
import { flipBit, hex, toHex } from './helpers';
import { HEADER_VECTORS, SFRAME_VECTOR_0004 as V } from './rfc9605_vectors';

const lookup = (key: SFrameKey) => (kid: bigint) => (kid === key.kid ? key : undefined);

describe('SFrame header (RFC 9605 §4.3, Appendix C.1)', () => {
  it('has all 289 vectors of the RFC', () => {
    expect(HEADER_VECTORS).toHaveLength(289);
  });

  it('encodes every vector', () => {
    for (const v of HEADER_VECTORS) {
      expect(toHex(encodeSFrameHeader(BigInt(v.kid), BigInt(v.ctr))), `${v.kid} ${v.ctr}`).toBe(v.header);
    }
  });

  it('decodes every vector, also with bytes after the header', () => {
    for (const v of HEADER_VECTORS) {
      const bytes = hex(v.header);
      expect(decodeSFrameHeader(bytes)).toEqual({ kid: BigInt(v.kid), ctr: BigInt(v.ctr), length: bytes.length });
      const withBody = new Uint8Array([0xee, ...bytes, 1, 2, 3]);
      expect(decodeSFrameHeader(withBody, 1)).toEqual({ kid: BigInt(v.kid), ctr: BigInt(v.ctr), length: bytes.length });
    }
  });

  it('refuses truncated headers', () => {
    for (const v of HEADER_VECTORS) {
      const bytes = hex(v.header);
      for (let n = 0; n < bytes.length; n++) expect(decodeSFrameHeader(bytes.subarray(0, n))).toBeNull();
    }
  });

  it('refuses encodings that are not minimal', () => {
    expect(decodeSFrameHeader(hex('0805'))).toBeNull(); // CTR 5 belongs in the config byte
    expect(decodeSFrameHeader(hex('8007'))).toBeNull(); // KID 7 likewise
    expect(decodeSFrameHeader(hex('0900ff'))).toBeNull(); // leading zero byte
    expect(decodeSFrameHeader(hex('900010'))).toBeNull();
    expect(decodeSFrameHeader(hex('900100'))).toEqual({ kid: 256n, ctr: 0n, length: 3 });
    expect(decodeSFrameHeader(hex('08ff'))).toEqual({ kid: 0n, ctr: 255n, length: 2 });
  });

  it('refuses values outside 64 bits', () => {
    expect(() => encodeSFrameHeader(1n << 64n, 0n)).toThrow(RangeError);
    expect(() => encodeSFrameHeader(0n, -1n)).toThrow(RangeError);
  });
});

describe('SFrame AES_128_GCM_SHA256_128 (RFC 9605 §4.4, Appendix C.3)', () => {
  const kid = BigInt(V.kid);
  const ctr = BigInt(V.ctr);

  it('uses the RFC labels', () => {
    expect(toHex(new TextEncoder().encode('SFrame 1.0 Secret key '))).toBe(V.sframe_key_label.slice(0, -20));
    expect(V.sframe_key_label.slice(-20)).toBe('00000000000001230004');
    expect(V.sframe_salt_label.slice(-20)).toBe('00000000000001230004');
  });

  it('HKDF-Extract with an empty salt gives sframe_secret (HMAC keyed with zeros)', async () => {
    const zeros = await subtle.importKey('raw', new Uint8Array(32), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const secret = await subtle.sign('HMAC', zeros, hex(V.base_key));
    expect(toHex(new Uint8Array(secret))).toBe(V.sframe_secret);
  });

  it('derives sframe_key and sframe_salt', async () => {
    const material = await deriveSFrameKeyMaterial(hex(V.base_key), kid);
    expect(toHex(material.key)).toBe(V.sframe_key);
    expect(toHex(material.salt)).toBe(V.sframe_salt);
  });

  it('forms the nonce as salt XOR CTR', () => {
    expect(toHex(sframeNonce(hex(V.sframe_salt), ctr))).toBe(V.nonce);
    expect(toHex(sframeNonce(hex('000000000000000000000000'), (1n << 64n) - 1n))).toBe('00000000ffffffffffffffff');
  });

  it('encrypts to the vector ciphertext', async () => {
    const key = await deriveSFrameKey(hex(V.base_key), kid, 'encrypt');
    const ct = await sframeEncrypt(key, ctr, hex(V.metadata), hex(V.pt));
    expect(toHex(ct)).toBe(V.ct);
    // The AAD is header || metadata.
    expect(toHex(ct.subarray(0, 5)) + V.metadata).toBe(V.aad);
  });

  it('decrypts the vector ciphertext', async () => {
    const key = await deriveSFrameKey(hex(V.base_key), kid, 'decrypt');
    const result = await sframeDecrypt(lookup(key), hex(V.metadata), hex(V.ct));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(toHex(result.plaintext)).toBe(V.pt);
    expect(result.kid).toBe(kid);
    expect(result.ctr).toBe(ctr);
  });

  it('refuses any altered byte, other metadata, another key or an unknown KID', async () => {
    const key = await deriveSFrameKey(hex(V.base_key), kid, 'decrypt');
    const ct = hex(V.ct);
    for (let i = 0; i < ct.length; i++) {
      const result = await sframeDecrypt(lookup(key), hex(V.metadata), flipBit(ct, i));
      expect(result.ok, `byte ${i}`).toBe(false);
    }
    expect(await sframeDecrypt(lookup(key), hex('00'), ct)).toEqual({ ok: false, error: 'auth-failed' });
    const other = await deriveSFrameKey(hex('ff0102030405060708090a0b0c0d0e0f'), kid, 'decrypt');
    expect(await sframeDecrypt(lookup(other), hex(V.metadata), ct)).toEqual({ ok: false, error: 'auth-failed' });
    expect(await sframeDecrypt(() => undefined, hex(V.metadata), ct)).toEqual({ ok: false, error: 'unknown-kid' });
    expect(await sframeDecrypt(lookup(key), hex(V.metadata), ct.subarray(0, 20))).toEqual({
      ok: false,
      error: 'malformed',
    });
  });

  it('keeps keys to one direction (§4.4.1)', async () => {
    const decryptOnly = await deriveSFrameKey(hex(V.base_key), kid, 'decrypt');
    await expect(sframeEncrypt(decryptOnly, 0n, new Uint8Array(0), hex('00'))).rejects.toThrow(TypeError);
    const encryptOnly = await deriveSFrameKey(hex(V.base_key), kid, 'encrypt');
    expect(await sframeDecrypt(lookup(encryptOnly), hex(V.metadata), hex(V.ct))).toEqual({
      ok: false,
      error: 'auth-failed',
    });
  });

  it('round-trips with large KIDs and CTRs', async () => {
    const bigKid = (1n << 63n) + 12345n;
    const enc = await deriveSFrameKey(hex(V.base_key), bigKid, 'encrypt');
    const dec = await deriveSFrameKey(hex(V.base_key), bigKid, 'decrypt');
    const ct = await sframeEncrypt(enc, (1n << 64n) - 1n, new Uint8Array(0), hex('68656c6c6f'));
    expect(ct.length).toBe(17 + 5 + 16);
    const result = await sframeDecrypt(lookup(dec), new Uint8Array(0), ct);
    expect(result.ok && toHex(result.plaintext)).toBe('68656c6c6f');
  });
});

describe('ReplayWindow', () => {
  it('accepts each counter once, in any order within the window', () => {
    const w = new ReplayWindow(128);
    expect(w.commit(5n)).toBe(true);
    expect(w.commit(5n)).toBe(false);
    expect(w.commit(3n)).toBe(true);
    expect(w.commit(4n)).toBe(true);
    expect(w.commit(3n)).toBe(false);
    expect(w.commit(200n)).toBe(true);
    expect(w.check(72n)).toBe(false); // 128 behind the highest
    expect(w.check(73n)).toBe(true);
    expect(w.commit(73n)).toBe(true);
    expect(w.check(73n)).toBe(false);
    expect(w.commit(0n)).toBe(false);
    expect(w.commit(1000n)).toBe(true);
    expect(w.check(999n)).toBe(true);
    expect(w.check(200n)).toBe(false);
  });

  it('check() does not record', () => {
    const w = new ReplayWindow();
    expect(w.check(0n)).toBe(true);
    expect(w.check(0n)).toBe(true);
    expect(w.commit(0n)).toBe(true);
    expect(w.check(0n)).toBe(false);
  });
});

describe('media frames: clear codec bytes || SFrame header || ciphertext', () => {
  const base = hex('000102030405060708090a0b0c0d0e0f');
  const vp8Key = hex('502a009d012a8002e001' + 'aa'.repeat(50)); // P = 0, start code 9d 01 2a, 640x480
  const vp8Delta = hex('b1' + '55'.repeat(30)); // P = 1
  const opus = hex('fc' + '77'.repeat(60)); // TOC byte

  async function keys(kid = 0x1234n) {
    return { enc: await deriveSFrameKey(base, kid, 'encrypt'), dec: await deriveSFrameKey(base, kid, 'decrypt') };
  }

  it('chooses the clear prefix from the first byte', () => {
    expect(clearPrefixLength('vp8', vp8Key)).toBe(10);
    expect(clearPrefixLength('vp8', vp8Delta)).toBe(1);
    expect(clearPrefixLength('opus', opus)).toBe(1);
    expect(clearPrefixLength('opus', new Uint8Array(0))).toBe(0);
  });

  it('keeps 10 bytes of a VP8 key frame in the clear, then the SFrame header', async () => {
    const { enc, dec } = await keys();
    const out = await protectMediaFrame('vp8', enc, 7n, vp8Key);
    expect(out).not.toBeNull();
    if (out === null) return;
    expect(toHex(out.subarray(0, 10))).toBe('502a009d012a8002e001');
    const header = decodeSFrameHeader(out, 10);
    expect(header).toEqual({ kid: 0x1234n, ctr: 7n, length: 3 });
    expect(out.length).toBe(vp8Key.length + 3 + 16);
    // The rest is the RFC operation with the clear bytes as metadata.
    const rfc = await sframeEncrypt(enc, 7n, vp8Key.subarray(0, 10), vp8Key.subarray(10));
    expect(toHex(out.subarray(10))).toBe(toHex(rfc));
    const back = await unprotectMediaFrame('vp8', lookup(dec), out);
    expect(back.ok && toHex(back.frame)).toBe(toHex(vp8Key));
  });

  it('keeps 1 byte of a VP8 delta frame and the Opus TOC in the clear', async () => {
    const { enc, dec } = await keys();
    const delta = await protectMediaFrame('vp8', enc, 8n, vp8Delta);
    const audio = await protectMediaFrame('opus', enc, 9n, opus);
    if (delta === null || audio === null) throw new Error('not protected');
    expect(delta[0]).toBe(0xb1);
    expect(audio[0]).toBe(0xfc);
    expect(parseProtectedMediaFrame('vp8', delta)?.sframe.ctr).toBe(8n);
    expect(parseProtectedMediaFrame('opus', audio)?.sframe.ctr).toBe(9n);
    const d = await unprotectMediaFrame('vp8', lookup(dec), delta);
    const a = await unprotectMediaFrame('opus', lookup(dec), audio);
    expect(d.ok && toHex(d.frame)).toBe(toHex(vp8Delta));
    expect(a.ok && toHex(a.frame)).toBe(toHex(opus));
  });

  it('authenticates the clear bytes', async () => {
    const { enc, dec } = await keys();
    const out = await protectMediaFrame('vp8', enc, 1n, vp8Key);
    if (out === null) throw new Error('not protected');
    for (const i of [1, 3, 6, 9]) {
      expect((await unprotectMediaFrame('vp8', lookup(dec), flipBit(out, i))).ok, `byte ${i}`).toBe(false);
    }
    // Turning the key frame into a "delta frame" moves the boundary: refused too.
    expect((await unprotectMediaFrame('vp8', lookup(dec), flipBit(out, 0))).ok).toBe(false);
    expect((await unprotectMediaFrame('vp8', lookup(dec), flipBit(out, -1))).ok).toBe(false);
  });

  it('fails with the wrong key', async () => {
    const { enc } = await keys();
    const wrong = await deriveSFrameKey(hex('ff'.repeat(16)), 0x1234n, 'decrypt');
    const out = await protectMediaFrame('opus', enc, 1n, opus);
    if (out === null) throw new Error('not protected');
    expect(await unprotectMediaFrame('opus', lookup(wrong), out)).toEqual({ ok: false, error: 'auth-failed' });
  });

  it('drops a VP8 key frame too short to be one, and passes empty frames through', async () => {
    const { enc, dec } = await keys();
    expect(await protectMediaFrame('vp8', enc, 1n, hex('00010203'))).toBeNull();
    const empty = new Uint8Array(0);
    expect((await protectMediaFrame('opus', enc, 1n, empty))?.length).toBe(0);
    expect(await unprotectMediaFrame('opus', lookup(dec), empty)).toEqual({
      ok: true,
      frame: empty,
      kid: null,
      ctr: null,
    });
    expect(await unprotectMediaFrame('opus', lookup(dec), hex('fc'))).toEqual({ ok: false, error: 'malformed' });
  });
});
