import { describe, expect, it } from 'vitest';
import { focusTile } from '../src/ui/layout';
import { initial } from '../src/ui/people';

const self = { participantId: 'me', self: true };
const ann = { participantId: 'ann', self: false };
const ben = { participantId: 'ben', self: false };

describe('focusTile', () => {
  it('shows the pinned tile, else the dominant speaker, else the first other person', () => {
    const cameras = [self, ann, ben];
    expect(focusTile(cameras, 'ann', 'ben')).toBe(ann);
    expect(focusTile(cameras, null, 'ben')).toBe(ben);
    expect(focusTile(cameras, null, null)).toBe(ann);
    // A pin or speaker that is gone does not count.
    expect(focusTile(cameras, 'gone', 'also-gone')).toBe(ann);
  });

  it('never shows oneself large for speaking, only when pinned or alone', () => {
    expect(focusTile([self, ann], null, 'me')).toBe(ann);
    expect(focusTile([self, ann], 'me', 'ann')).toBe(self);
    expect(focusTile([self], null, 'me')).toBe(self);
    expect(focusTile([], null, null)).toBeNull();
  });
});

describe('initial', () => {
  it('makes the avatar letters from the first and last word of the name', () => {
    expect(initial('Ada King Lovelace')).toBe('AL');
    expect(initial('  grace   hopper ')).toBe('GH');
    expect(initial('Zoë')).toBe('Z');
    expect(initial('Łukasz Ćwik')).toBe('ŁĆ');
    expect(initial('')).toBe('?');
    expect(initial(null)).toBe('?');
  });
});
