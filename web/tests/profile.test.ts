import { describe, expect, it } from 'vitest';
import { generateIdentity } from '../src/e2ee';
import {
  decodeProfile,
  encodeProfile,
  MAX_NAME_LENGTH,
  normalizeName,
  openMemberProfile,
  sealOwnProfile,
} from '../src/profile';
import { roomKeys, WRONG_SECRET } from './secure/helpers';

describe('profile', () => {
  it('seals the profile: the server sees keys, a proof and ciphertext, never the name', async () => {
    const room = await roomKeys();
    const identity = await generateIdentity();
    const envelope = await sealOwnProfile(room, identity, { name: 'Jürgen "J" Ö' });
    expect(envelope).not.toContain('ürgen');
    expect(Object.keys(JSON.parse(envelope) as object).sort()).toEqual(['box', 'ed', 'j', 'proof', 'sig', 'v', 'x']);
    const opened = await openMemberProfile(room, envelope);
    expect(opened.ok && opened.profile).toEqual({ name: 'Jürgen "J" Ö' });
    expect(opened.ok && opened.peer.signingPublic).toEqual(identity.signingPublic);
  });

  it('tells a profile made without the room secret from one that is broken', async () => {
    const room = await roomKeys();
    const wrong = await roomKeys(WRONG_SECRET);
    const identity = await generateIdentity();
    expect(await openMemberProfile(room, await sealOwnProfile(wrong, identity, { name: 'M' }))).toEqual({
      ok: false,
      error: 'not-a-member',
    });
    expect(await openMemberProfile(room, '{"name":"Alice"}')).toEqual({ ok: false, error: 'malformed' });
    expect(await openMemberProfile(room, '')).toEqual({ ok: false, error: 'malformed' });
  });

  it('encodes the inner profile as JSON and decodes only profiles it understands', () => {
    expect(encodeProfile({ name: 'Alice' })).toBe('{"name":"Alice"}');
    expect(decodeProfile(encodeProfile({ name: 'Jürgen "J" Ö' }))).toEqual({ name: 'Jürgen "J" Ö' });
    expect(decodeProfile('')).toBeNull();
    expect(decodeProfile('not json')).toBeNull();
    expect(decodeProfile('[]')).toBeNull();
    expect(decodeProfile('null')).toBeNull();
    expect(decodeProfile('{"name":5}')).toBeNull();
    expect(decodeProfile('{"name":"   "}')).toBeNull();
    expect(decodeProfile('{"name":"Bob","extra":1}')).toEqual({ name: 'Bob' });
  });

  it('cleans names from other participants', () => {
    expect(decodeProfile(JSON.stringify({ name: 'a\nb\u0000c' }))).toEqual({ name: 'a b c' });
    expect(decodeProfile(JSON.stringify({ name: 'x'.repeat(500) }))?.name).toHaveLength(MAX_NAME_LENGTH);
  });

  it('normalizes typed names', () => {
    expect(normalizeName('  Alice   Smith ')).toBe('Alice Smith');
    expect(normalizeName('')).toBeNull();
    expect(normalizeName(' \t ')).toBeNull();
    // Counts characters, not UTF-16 units, so an emoji is not cut in half.
    const emoji = '😀'.repeat(70);
    expect(Array.from(normalizeName(emoji) ?? '')).toHaveLength(MAX_NAME_LENGTH);
  });
});
