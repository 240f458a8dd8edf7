// What a participant tells the others about themselves. The server relays the encoded profile as
// an opaque string. Today it is plain JSON `{"name":"..."}`; the E2EE issue swaps this module for
// one that encrypts with a key derived from the room secret. Nothing else encodes or decodes it.

export const MAX_NAME_LENGTH = 64;

export interface Profile {
  name: string;
}

/** Trims and checks a display name typed by the user; null if it is empty. */
export function normalizeName(raw: string): string | null {
  // Collapse whitespace (including newlines) and drop control characters.
  const cleaned = raw.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/\s+/g, ' ').trim();
  if (cleaned === '') return null;
  return Array.from(cleaned).slice(0, MAX_NAME_LENGTH).join('');
}

export function encodeProfile(profile: Profile): string {
  return JSON.stringify({ name: profile.name });
}

/** Decodes a profile from another participant; null when it is not one we understand. */
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
