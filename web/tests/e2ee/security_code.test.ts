import { describe, expect, it } from 'vitest';
import { generateIdentity, securityCode, securityCodeGroups, type Bytes } from '../../src/e2ee';
import { KAT } from './conclave_kat';
import { b64 } from './helpers';

async function keys(n: number): Promise<Bytes[]> {
  return Promise.all(Array.from({ length: n }, async () => (await generateIdentity()).signingPublic));
}

describe('security code', () => {
  it('matches an independent implementation (known answer)', async () => {
    const code = await securityCode(KAT.roomId, [b64(KAT.aliceEdPublic), b64(KAT.bobEdPublic)]);
    expect(code).toBe(KAT.securityCode);
  });

  it('is twelve groups of five digits: ~199 bits, so a two-sided birthday search costs ~2^100', async () => {
    const groups = await securityCodeGroups(KAT.roomId, await keys(3));
    expect(groups).toHaveLength(12);
    for (const g of groups) expect(g).toMatch(/^\d{5}$/);
    expect(await securityCode(KAT.roomId, [])).toMatch(/^\d{5}( \d{5}){11}$/);
    // log2(10^60) ≈ 199.3; a collision between two attacker-chosen key sets needs ~2^99.7 tries.
    expect((groups.length * 5 * Math.log2(10)) / 2).toBeGreaterThan(99);
  });

  it('is the same for everyone, whatever order they learned the roster in', async () => {
    const [a, b, c, d] = await keys(4);
    if (!a || !b || !c || !d) throw new Error('no keys');
    const code = await securityCode(KAT.roomId, [a, b, c, d]);
    expect(await securityCode(KAT.roomId, [d, c, b, a])).toBe(code);
    expect(await securityCode(KAT.roomId, [b, d, a, c])).toBe(code);
    expect(await securityCode(KAT.roomId, [b, d, a, c, a])).toBe(code); // one member seen twice
  });

  it('changes when anyone joins, leaves or changes keys, and between rooms', async () => {
    const [a, b, c, e] = await keys(4);
    if (!a || !b || !c || !e) throw new Error('no keys');
    const code = await securityCode(KAT.roomId, [a, b, c]);
    const others = [
      await securityCode(KAT.roomId, [a, b]),
      await securityCode(KAT.roomId, [a, b, c, e]),
      await securityCode(KAT.roomId, [a, b, e]),
      await securityCode('BBBBBBBBBBBBBBBBBBBBBBBBBBBBroom', [a, b, c]),
    ];
    for (const other of others) expect(other).not.toBe(code);
    expect(new Set(others).size).toBe(others.length);
  });
});
