import { describe, expect, it } from 'vitest';
import { parseClientHash } from '../src/privacy/clientHash';

const HASH = 'a'.repeat(64);

describe('parseClientHash', () => {
  it('accepts the answer of GET /api/client-hash', () => {
    expect(parseClientHash({ clientHash: HASH, files: 6 })).toEqual({ clientHash: HASH, files: 6 });
  });

  it('refuses anything else', () => {
    for (const body of [
      null,
      [],
      'x',
      { clientHash: HASH },
      { clientHash: HASH.toUpperCase(), files: 1 },
      { clientHash: `${HASH}0`, files: 1 },
      { clientHash: '<img src=x>', files: 1 },
      { clientHash: HASH, files: -1 },
      { clientHash: HASH, files: 1.5 },
      { clientHash: HASH, files: '6' },
    ]) {
      expect(parseClientHash(body)).toBeNull();
    }
  });
});
