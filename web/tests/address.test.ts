import { describe, expect, it } from 'vitest';
import { AddressSecrets, type HistoryLike } from '../src/ui/address';

const ROOM = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAroom';
const SECRET = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I';

class FakeHistory implements HistoryLike {
  state: unknown = { kept: true };
  readonly replaced: [unknown, string | URL | null | undefined][] = [];
  replaceState(data: unknown, _unused: string, url?: string | URL | null): void {
    this.replaced.push([data, url]);
  }
}

describe('the secret in the address bar', () => {
  it('is read once, removed from the address and history entry, and remembered for the page', () => {
    const history = new FakeHistory();
    const address = new AddressSecrets(history);
    expect(address.read(`/r/${ROOM}`, '?lang=de', `#${SECRET}`)).toBe(`#${SECRET}`);
    expect(history.replaced).toEqual([[{ kept: true }, `/r/${ROOM}?lang=de`]]);
    // The address now has no fragment; the page still knows the secret of this room.
    expect(address.read(`/r/${ROOM}`, '', '')).toBe(`#${SECRET}`);
    expect(history.replaced).toHaveLength(1);
    // Another room, or a page that never saw the secret, gets nothing.
    expect(address.read('/r/BBBBBBBBBBBBBBBBBBBBBBBBBBBBroom', '', '')).toBe('');
    expect(new AddressSecrets(new FakeHistory()).read(`/r/${ROOM}`, '', '')).toBe('');
  });

  it('leaves addresses without a valid secret alone', () => {
    const history = new FakeHistory();
    const address = new AddressSecrets(history);
    expect(address.read('/', '', '#whatever')).toBe('#whatever');
    expect(address.read(`/r/${ROOM}`, '', '#short')).toBe('#short');
    expect(history.replaced).toEqual([]);
  });
});
