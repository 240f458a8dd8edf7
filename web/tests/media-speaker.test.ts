import { describe, expect, it } from 'vitest';
import { SpeakerDetector } from '../src/media/speaker';

const LOUD = 0.2;
const QUIET = 0.001;

/** Feeds `levels` every 100 ms from `from` to `to` (exclusive); returns the last state. */
function feed(detector: SpeakerDetector, levels: Record<string, number>, from: number, to: number) {
  let state = detector.state();
  for (let t = from; t < to; t += 100) state = detector.update(new Map(Object.entries(levels)), t);
  return state;
}

describe('SpeakerDetector', () => {
  it('finds nobody speaking in silence', () => {
    const detector = new SpeakerDetector();
    const state = feed(detector, { a: QUIET, b: 0 }, 0, 2000);
    expect(state.dominant).toBeNull();
    expect([...state.speaking]).toEqual([]);
  });

  it('makes the first speaker dominant at once and marks it speaking', () => {
    const detector = new SpeakerDetector();
    feed(detector, { a: QUIET, b: QUIET }, 0, 1000);
    const state = feed(detector, { a: LOUD, b: QUIET }, 1000, 1400);
    expect(state.dominant).toBe('a');
    expect([...state.speaking]).toEqual(['a']);
  });

  it('ignores a single loud sample (smoothing window)', () => {
    const detector = new SpeakerDetector({ windowMs: 600, threshold: 0.05 });
    feed(detector, { a: 0, b: 0 }, 0, 1000);
    const state = detector.update(
      new Map([
        ['a', 0.2],
        ['b', 0],
      ]),
      1000,
    );
    expect(state.speaking.has('a')).toBe(false);
    expect(state.dominant).toBeNull();
  });

  it('keeps the dominant speaker through a short interruption, and hands over after the hold time', () => {
    const detector = new SpeakerDetector({ holdMs: 1000 });
    feed(detector, { a: LOUD, b: QUIET }, 0, 2000);
    // b speaks loudly for 500 ms while a goes quiet: b is speaking, but a keeps the floor.
    let state = feed(detector, { a: QUIET, b: LOUD }, 2000, 2500);
    expect(state.speaking.has('b')).toBe(true);
    expect(state.dominant).toBe('a');
    // b goes on: after the hold time it takes over.
    state = feed(detector, { a: QUIET, b: LOUD }, 2500, 4000);
    expect(state.dominant).toBe('b');
    expect(state.speaking.has('a')).toBe(false);
  });

  it('stays with the last speaker when everyone falls silent', () => {
    const detector = new SpeakerDetector();
    feed(detector, { a: LOUD, b: QUIET }, 0, 1000);
    const state = feed(detector, { a: QUIET, b: QUIET }, 1000, 5000);
    expect(state.dominant).toBe('a');
    expect(state.speaking.size).toBe(0);
  });

  it('does not hand over to a speaker who is barely louder than the current one', () => {
    const detector = new SpeakerDetector({ margin: 1.5 });
    feed(detector, { a: 0.1, b: QUIET }, 0, 1000);
    const state = feed(detector, { a: 0.1, b: 0.12 }, 1000, 5000);
    expect(state.dominant).toBe('a');
    expect([...state.speaking].sort()).toEqual(['a', 'b']);
  });

  it('hands over at once when the dominant speaker leaves', () => {
    const detector = new SpeakerDetector();
    feed(detector, { a: LOUD, b: 0.05 }, 0, 1000);
    const state = detector.update(new Map([['b', 0.05]]), 1000);
    expect(state.dominant).toBe('b');
  });

  it('treats invalid levels as silence and keeps bounded state', () => {
    const detector = new SpeakerDetector({ maxSamples: 4, windowMs: 60_000 });
    const state = feed(detector, { a: Number.NaN, b: -5, c: Number.POSITIVE_INFINITY }, 0, 10_000);
    expect(state.speaking.size).toBe(0);
    // Level 1 at most: a clamped level is still a level.
    const loud = feed(detector, { a: 50 }, 10_000, 10_500);
    expect(loud.dominant).toBe('a');
  });
});
