// What a participant tells the others about themselves, and the only place that encodes or
// decodes the `profile` string the server relays. The server sees an opaque envelope
// (src/e2ee/membership.ts): the member's identity public keys, its membership proof (which only
// someone who knows the room secret can make), the profile encrypted under a key derived from the
// room secret, and an Ed25519 signature. Inside the envelope the profile is JSON `{"name":"..."}`.

import {
  openProfile,
  sealProfile,
  type Identity,
  type OpenProfileError,
  type PeerIdentity,
  type RoomKeys,
} from './e2ee';

export const MAX_NAME_LENGTH = 64;

export interface Profile {
  name: string;
}

/** Trims and checks a display name typed by the user; null if it is empty. */
export function normalizeName(raw: string): string | null {
  // Collapse whitespace (including newlines) and drop control characters.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const controls = /[\u0000-\u001f\u007f]/g;
  const cleaned = raw.replace(controls, ' ').replace(/\s+/g, ' ').trim();
  if (cleaned === '') return null;
  return Array.from(cleaned).slice(0, MAX_NAME_LENGTH).join('');
}

/** The inner profile (what the envelope encrypts). */
export function encodeProfile(profile: Profile): string {
  return JSON.stringify({ name: profile.name });
}

/** Decodes an inner profile; null when it is not one this client understands. */
export function decodeProfile(encoded: string): Profile | null {
  let value: unknown;
  try {
    value = JSON.parse(encoded);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const name: unknown = (value as Record<string, unknown>)['name'];
  if (typeof name !== 'string') return null;
  const normalized = normalizeName(name);
  return normalized === null ? null : { name: normalized };
}

/** This participant's `profile` string: the sealed, signed envelope with its membership proof. */
export function sealOwnProfile(room: RoomKeys, identity: Identity, profile: Profile): Promise<string> {
  return sealProfile(room, identity, encodeProfile(profile));
}

export type MemberProfileResult =
  | {
      ok: true;
      peer: PeerIdentity;
      /** null when the decrypted profile carries no usable name */ profile: Profile | null;
    }
  | { ok: false; error: OpenProfileError };

/** Verifies another participant's envelope (membership proof, signature) and decrypts its profile. */
export async function openMemberProfile(room: RoomKeys, envelope: string): Promise<MemberProfileResult> {
  const opened = await openProfile(room, envelope);
  if (!opened.ok) return opened;
  return { ok: true, peer: opened.peer, profile: decodeProfile(opened.profile) };
}
