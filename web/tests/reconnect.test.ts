// When the session tries again after losing its connection (src/reconnect.ts).
import { describe, expect, it } from 'vitest';
import {
  DROPPED_CAP_MS,
  DROPPED_FAST_CAP_MS,
  DROPPED_FAST_WINDOW_MS,
  RESTART_CAP_MS,
  RESTART_WINDOW_MS,
  retryDelay,
  type ReconnectCause,
} from '../src/reconnect';

const RANDOMS = [0, 0.25, 0.5, 0.75, 0.999999];

/** Every delay of tries 1..n for every random number above, with the time passing as the delays do. */
function schedule(cause: ReconnectCause, n: number, random: number, retryAfterMs?: number): number[] {
  const delays: number[] = [];
  let elapsed = 0;
  for (let attempt = 1; attempt <= n; attempt++) {
    const delay = retryDelay({ cause, attempt, elapsedMs: elapsed, random, retryAfterMs: retryAfterMs ?? null });
    delays.push(delay);
    elapsed += delay;
  }
  return delays;
}

describe('retryDelay', () => {
  it('tries within a second after a restart goodbye, around the delay the server asked for', () => {
    expect(retryDelay({ cause: 'restart', attempt: 1, elapsedMs: 0, random: 0.5 })).toBe(500);
    expect(retryDelay({ cause: 'restart', attempt: 1, elapsedMs: 0, random: 0 })).toBe(250);
    expect(retryDelay({ cause: 'restart', attempt: 1, elapsedMs: 0, random: 0.999999 })).toBe(750);
    expect(retryDelay({ cause: 'restart', attempt: 1, elapsedMs: 0, random: 0.5, retryAfterMs: 800 })).toBe(800);
    // A server asking for a long wait is capped to the quick cadence.
    expect(retryDelay({ cause: 'restart', attempt: 1, elapsedMs: 0, random: 0.5, retryAfterMs: 60000 })).toBe(
      RESTART_CAP_MS,
    );
    expect(retryDelay({ cause: 'restart', attempt: 1, elapsedMs: 0, random: 0, retryAfterMs: 0 })).toBe(0);
  });

  it('keeps the tries of a restart under 2 s apart for two minutes', () => {
    for (const random of RANDOMS) {
      const delays = schedule('restart', 40, random);
      expect(delays[0]).toBeLessThan(1000);
      for (const d of delays) expect(d).toBeLessThanOrEqual(RESTART_CAP_MS * 1.25);
      // Growing, not constant: 500, 750, 1125, then the cap.
      if (random === 0.5) expect(delays.slice(0, 6)).toEqual([500, 750, 1125, 1500, 1500, 1500]);
    }
  });

  it('falls back to the usual backoff when a restarting server is not back after its window', () => {
    const late = retryDelay({ cause: 'restart', attempt: 60, elapsedMs: RESTART_WINDOW_MS, random: 0.5 });
    expect(late).toBe(DROPPED_CAP_MS);
  });

  it('tries within a second after a drop, then doubles up to 2 s for the first 30 s', () => {
    for (const random of RANDOMS) {
      const first = retryDelay({ cause: 'dropped', attempt: 1, elapsedMs: 0, random });
      expect(first).toBeGreaterThanOrEqual(250);
      expect(first).toBeLessThanOrEqual(750);
      for (let attempt = 2; attempt < 30; attempt++) {
        const d = retryDelay({ cause: 'dropped', attempt, elapsedMs: DROPPED_FAST_WINDOW_MS - 1, random });
        expect(d).toBeLessThanOrEqual(DROPPED_FAST_CAP_MS * 1.25);
        expect(d).toBeGreaterThanOrEqual(750 * 0.99);
      }
    }
    expect(schedule('dropped', 6, 0.5)).toEqual([500, 1000, 2000, 2000, 2000, 2000]);
  });

  it('backs off to 15 s (jittered) after the first 30 s of a drop, never more', () => {
    for (const random of RANDOMS) {
      for (const attempt of [2, 5, 10, 100, 10000]) {
        const d = retryDelay({ cause: 'dropped', attempt, elapsedMs: DROPPED_FAST_WINDOW_MS, random });
        expect(d).toBeLessThanOrEqual(DROPPED_CAP_MS * 1.25);
      }
    }
    expect(retryDelay({ cause: 'dropped', attempt: 5, elapsedMs: DROPPED_FAST_WINDOW_MS, random: 0.5 })).toBe(8000);
    expect(retryDelay({ cause: 'dropped', attempt: 50, elapsedMs: 600_000, random: 0.5 })).toBe(DROPPED_CAP_MS);
  });

  it('spreads the clients of a room: different random numbers give different delays', () => {
    const delays = new Set(RANDOMS.map((random) => retryDelay({ cause: 'restart', attempt: 3, elapsedMs: 0, random })));
    expect(delays.size).toBe(RANDOMS.length);
    // Out-of-range inputs are clamped, never negative or unbounded.
    expect(retryDelay({ cause: 'dropped', attempt: 0, elapsedMs: -5, random: -1 })).toBe(250);
    expect(retryDelay({ cause: 'dropped', attempt: 4, elapsedMs: 0, random: 7 })).toBe(2500);
  });
});
