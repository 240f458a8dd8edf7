// Test helpers for the E2EE suites: hex, and identities with fixed keys (for known-answer tests).
import { base64UrlDecode, subtle, type Bytes, type Identity } from '../../src/e2ee';

export function hex(text: string): Bytes {
  const clean = text.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function b64(text: string): Bytes {
  const bytes = base64UrlDecode(text);
  if (bytes === null) throw new Error(`bad base64url in test data: ${text}`);
  return bytes;
}

/** An Identity with the given raw private and public keys (base64url), imported as JWK. */
export async function fixedIdentity(
  edPrivate: string,
  edPublic: string,
  xPrivate: string,
  xPublic: string,
  join: string,
): Promise<Identity> {
  const signingKey = await subtle.importKey(
    'jwk',
    { kty: 'OKP', crv: 'Ed25519', d: edPrivate, x: edPublic },
    { name: 'Ed25519' },
    false,
    ['sign'],
  );
  const agreementKey = await subtle.importKey(
    'jwk',
    { kty: 'OKP', crv: 'X25519', d: xPrivate, x: xPublic },
    { name: 'X25519' },
    false,
    ['deriveBits'],
  );
  return {
    signingKey,
    agreementKey,
    signingPublic: b64(edPublic),
    agreementPublic: b64(xPublic),
    joinNonce: b64(join),
  };
}

/** A copy with one bit flipped at `index` (negative counts from the end). */
export function flipBit(bytes: Uint8Array, index: number): Bytes {
  const out = new Uint8Array(bytes);
  const i = index < 0 ? out.length + index : index;
  out[i] = (out[i] ?? 0) ^ 0x01;
  return out;
}
