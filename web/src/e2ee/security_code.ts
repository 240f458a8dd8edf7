// The security code members compare out of band (read aloud, side by side) to check that nobody,
// not even a server that learned the link, sits between them. No DOM.
//
//   digest = SHA-256(fields("Conclave security code v1", roomId, key_1, ..., key_n))
//   key_i  = the members' Ed25519 public keys (raw 32 bytes), sorted bytewise, duplicates removed
//   code   = 5 groups of 5 digits; group i = (bytes 5i..5i+4 of digest as a big-endian 40-bit
//            integer) mod 100000, zero-padded
//
// Every member computes the same code from the same roster, whatever order it learned it in, and
// any change of the member set (or of any member's key) changes it. The Ed25519 key covers the
// member's X25519 key and profile, which its profile envelope signs (membership.ts). 25 digits
// are ~83 bits: finding another key set with the same code is out of reach.

import { compareBytes, encodeFields, equalBytes, LABELS, sha256, type Bytes } from './util';

export const SECURITY_CODE_GROUPS = 5;
export const SECURITY_CODE_GROUP_DIGITS = 5;

/** The code as its groups, e.g. ["01234", "56789", ...]. */
export async function securityCodeGroups(roomId: string, signingPublicKeys: readonly Bytes[]): Promise<string[]> {
  const sorted = [...signingPublicKeys].sort(compareBytes);
  const unique = sorted.filter((key, i) => {
    const previous = sorted[i - 1];
    return previous === undefined || !equalBytes(previous, key);
  });
  const digest = await sha256(encodeFields(LABELS.securityCode, roomId, ...unique));
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
