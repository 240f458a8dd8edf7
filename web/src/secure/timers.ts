// Time as a parameter: the E2EE state machines take their clock and timers from here, so the unit
// tests drive them with a manual clock.

/** What setTimeout returned: a number in browsers, an object in Node (and so never null). */
export type TimerHandle = number | object;

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const REAL_TIMERS: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};
