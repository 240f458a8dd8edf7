import { describe, expect, it } from 'vitest';
import {
  base64UrlDecode,
  base64UrlDecodeExact,
  base64UrlEncode,
  compareBytes,
  encodeFields,
  hkdf,
} from '../../src/e2ee';
import { hex, toHex } from './helpers';

describe('e2ee byte helpers', () => {
  it('encodes fields with 4-byte lengths', () => {
    expect(toHex(encodeFields('ab', hex('ff'), 258))).toBe(
      '00000002' + '6162' + '00000001' + 'ff' + '00000008' + '0000000000000102',
    );
    expect(toHex(encodeFields())).toBe('');
    expect(() => encodeFields(-1)).toThrow(RangeError);
    expect(() => encodeFields(1.5)).toThrow(RangeError);
    // Moving a byte between fields changes the encoding.
    expect(toHex(encodeFields('ab', 'c'))).not.toBe(toHex(encodeFields('a', 'bc')));
  });

  it('round-trips base64url without padding and refuses anything else', () => {
    for (const n of [0, 1, 2, 3, 31, 32, 33, 70000]) {
      const bytes = new Uint8Array(n).map((_, i) => (i * 31) & 0xff);
      const text = base64UrlEncode(bytes);
      expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
      expect(toHex(base64UrlDecode(text) ?? hex('ee'))).toBe(toHex(bytes));
    }
    expect(base64UrlDecode('AAA=')).toBeNull();
    expect(base64UrlDecode('AA+A')).toBeNull();
    expect(base64UrlDecode('AAAAA')).toBeNull();
    expect(base64UrlDecodeExact('AAAA', 3)?.length).toBe(3);
    expect(base64UrlDecodeExact('AAAA', 4)).toBeNull();
    expect(base64UrlDecodeExact(5, 4)).toBeNull();
  });

  it('orders bytes lexicographically', () => {
    expect(compareBytes(hex('01'), hex('02'))).toBeLessThan(0);
    expect(compareBytes(hex('0200'), hex('02'))).toBeGreaterThan(0);
    expect(compareBytes(hex('ff'), hex('ff'))).toBe(0);
  });

  it('implements HKDF-SHA256 (RFC 5869 test case 1)', async () => {
    const okm = await hkdf(hex('0b'.repeat(22)), hex('f0f1f2f3f4f5f6f7f8f9'), 42, hex('000102030405060708090a0b0c'));
    expect(toHex(okm)).toBe('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
  });
});
