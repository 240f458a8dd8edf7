// The security code members compare out of band (read aloud, side by side) to check that nobody,
// not even a server that learned the link, sits between them. No DOM.
//
//   digest = SHA-512(fields("Conclave security code v2", roomId, key_1, ..., key_n))
//   key_i  = the members' Ed25519 public keys (raw 32 bytes), sorted bytewise, duplicates removed
//   code   = 12 groups of 5 digits; group i = (bytes 5i..5i+4 of digest as a big-endian 40-bit
//            integer) mod 100000, zero-padded
//
// Every member computes the same code from the same roster, whatever order it learned it in, and
// any change of the member set (or of any member's key) changes it. The Ed25519 key covers the
// member's X25519 key, join nonce and profile, which its profile envelope signs (membership.ts).
//
// Why 60 digits (~199 bits): an insider in the middle (someone with the link, helped by the
// server) can generate keys for both sides it stands between and search for two key sets that
// give the same code. That is a birthday search over both sides: about 2^(bits/2) key
// generations. 25 digits (~83 bits) fell to ~2^41.5; 60 digits need ~2^100 (the length of
// Signal's safety numbers, for the same reason). The groups are read one after the other; a
// mismatch in any group means the rosters differ.

import { compareBytes, encodeFields, equalBytes, LABELS, subtle, type Bytes } from './util';

export const SECURITY_CODE_GROUPS = 12;
export const SECURITY_CODE_GROUP_DIGITS = 5;

/** The code as its groups, e.g. ["01234", "56789", ...]. */
export async function securityCodeGroups(roomId: string, signingPublicKeys: readonly Bytes[]): Promise<string[]> {
  const sorted = [...signingPublicKeys].sort(compareBytes);
  const unique = sorted.filter((key, i) => {
    const previous = sorted[i - 1];
    return previous === undefined || !equalBytes(previous, key);
  });
  const digest = new Uint8Array(await subtle.digest('SHA-512', encodeFields(LABELS.securityCode, roomId, ...unique)));
  const view = new DataView(digest.buffer);
  const groups: string[] = [];
  for (let i = 0; i < SECURITY_CODE_GROUPS; i++) {
    const value = view.getUint32(5 * i) * 256 + view.getUint8(5 * i + 4);
    groups.push(String(value % 100000).padStart(SECURITY_CODE_GROUP_DIGITS, '0'));
  }
  return groups;
}

/** The code as one string, groups separated by spaces: "01234 56789 ...". */
export async function securityCode(roomId: string, signingPublicKeys: readonly Bytes[]): Promise<string> {
  return (await securityCodeGroups(roomId, signingPublicKeys)).join(' ');
}
