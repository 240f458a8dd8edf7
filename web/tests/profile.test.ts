import { describe, expect, it } from 'vitest';
import { decodeProfile, encodeProfile, MAX_NAME_LENGTH, normalizeName } from '../src/profile';

describe('profile', () => {
  it('encodes the name as JSON', () => {
    expect(encodeProfile({ name: 'Alice' })).toBe('{"name":"Alice"}');
    expect(decodeProfile(encodeProfile({ name: 'Jürgen "J" Ö' }))).toEqual({ name: 'Jürgen "J" Ö' });
  });

  it('decodes only profiles it understands', () => {
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
