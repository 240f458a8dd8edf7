import { describe, expect, it } from 'vitest';
import { countText, detectLanguage, errorText, LANGUAGES, MESSAGES, translate } from '../src/i18n';
import { SERVER_ERROR_CODES } from '../src/protocol/messages';

const placeholders = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '').sort();

describe('i18n', () => {
  it('has English and German', () => {
    expect([...LANGUAGES]).toEqual(['en', 'de']);
  });

  it('has every key in every language, non-empty, with the same placeholders', () => {
    const english = MESSAGES.en;
    const keys = Object.keys(english).sort();
    expect(keys.length).toBeGreaterThan(40);
    for (const lang of LANGUAGES) {
      const messages = MESSAGES[lang];
      expect(Object.keys(messages).sort(), lang).toEqual(keys);
      for (const key of keys) {
        const text = (messages as Record<string, string>)[key] ?? '';
        expect(text.trim(), `${lang} ${key}`).not.toBe('');
        expect(placeholders(text), `${lang} ${key}`).toEqual(
          placeholders((english as Record<string, string>)[key] ?? ''),
        );
      }
    }
  });

  it('really translates: German differs from English except for names', () => {
    const same = Object.keys(MESSAGES.en).filter(
      (key) => (MESSAGES.en as Record<string, string>)[key] === (MESSAGES.de as Record<string, string>)[key],
    );
    expect(same.sort()).toEqual(['app.name', 'language.de', 'language.en']);
  });

  it('has the strings the brief names', () => {
    expect(translate('en', 'link.invalidTitle')).toBe('This link is incomplete or wrong');
    expect(translate('en', 'status.restarting')).toBe('The server is restarting. Reconnecting…');
    expect(translate('en', 'left.title')).toBe('You left the meeting');
    expect(translate('en', 'room.inMeeting')).toBe('In this meeting');
    expect(translate('en', 'landing.start')).toBe('Start a meeting');
  });

  it('fills placeholders', () => {
    expect(translate('en', 'announce.joined', { name: 'Bob' })).toBe('Bob joined the meeting');
    expect(translate('de', 'announce.left', { name: 'Bob' })).toBe('Bob hat die Besprechung verlassen');
    expect(translate('en', 'announce.joined')).toBe('{name} joined the meeting');
  });

  it('counts people', () => {
    expect(countText('en', 1)).toBe('1 person');
    expect(countText('en', 3)).toBe('3 people');
    expect(countText('de', 2)).toBe('2 Personen');
  });

  it('has a message for every server error code', () => {
    for (const lang of LANGUAGES) {
      for (const code of SERVER_ERROR_CODES) {
        expect(errorText(lang, code)).not.toMatch(/\{/);
      }
    }
    expect(errorText('en', 'room-full')).toBe('This meeting is full.');
    expect(errorText('en', 'bad-json')).toBe('Something went wrong (bad-json).');
  });

  it('follows the browser language and falls back to English', () => {
    expect(detectLanguage(['de-DE', 'en-US'])).toBe('de');
    expect(detectLanguage(['de-AT'])).toBe('de');
    expect(detectLanguage(['fr-FR', 'de'])).toBe('de');
    expect(detectLanguage(['EN-gb'])).toBe('en');
    expect(detectLanguage(['fr-FR'])).toBe('en');
    expect(detectLanguage([])).toBe('en');
  });
});
