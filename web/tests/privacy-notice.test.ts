import { describe, expect, it } from 'vitest';
import { parsePrivacyNotice } from '../src/privacy/notice';

const SECTION = { title: 'Recipients', paragraphs: ['None.'] };

describe('parsePrivacyNotice', () => {
  it('accepts the server’s notice in both languages with the missing settings', () => {
    const body = { missing: ['privacy_dpo'], notice: { en: [SECTION], de: [{ title: 'Empfänger', paragraphs: [] }] } };
    expect(parsePrivacyNotice(body)).toEqual(body);
  });

  it('refuses anything else', () => {
    for (const body of [
      null,
      [],
      { missing: [], notice: { en: [SECTION] } },
      { missing: [1], notice: { en: [], de: [] } },
      { missing: [], notice: { en: [{ title: 'x' }], de: [] } },
      { missing: [], notice: { en: [{ title: 'x', paragraphs: [2] }], de: [] } },
      { missing: [], notice: { en: [{ title: 'x'.repeat(9000), paragraphs: [] }], de: [] } },
      { missing: [], notice: { en: Array.from({ length: 33 }, () => SECTION), de: [] } },
    ]) {
      expect(parsePrivacyNotice(body), JSON.stringify(body)?.slice(0, 80)).toBeNull();
    }
  });
});
