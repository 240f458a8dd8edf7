// When to try again after the signaling connection went away. Pure arithmetic over the attempt
// number, the time since the connection was lost and a random number, so the unit tests pin
// every delay down; MeetingSession owns the timers.
//
// - restart: the server said `goodbye` (`server-restart`): it is coming back, so the first try
//   comes after about its `retryAfterMs` (within a second), then every 0.6–1.9 s for two minutes:
//   the call is back about a second after the server is.
// - dropped: the connection broke without a word (a crash, a network drop): the first try within
//   a second too, then doubling up to 2 s for the first 30 s (most crash restarts and network
//   blips end by then), then doubling up to 15 s.
// A restart whose server is not back after its window is treated as `dropped`.
// Jitter (each delay ×0.5–1.5 for the first try, ×0.75–1.25 after) keeps a room's clients from
// arriving all at once.

export type ReconnectCause = 'restart' | 'dropped';

export const RESTART_FIRST_MS = 500;
export const RESTART_CAP_MS = 1500;
export const RESTART_WINDOW_MS = 120_000;
export const DROPPED_FIRST_MS = 500;
export const DROPPED_FAST_CAP_MS = 2000;
export const DROPPED_FAST_WINDOW_MS = 30_000;
export const DROPPED_CAP_MS = 15_000;

export interface RetryInput {
  cause: ReconnectCause;
  /** 1 for the first try after the connection was lost. */
  attempt: number;
  /** Time since the connection was lost (ms). */
  elapsedMs: number;
  /** Random number in [0, 1). */
  random: number;
  /** The server's `goodbye.retryAfterMs`, if it said one. */
  retryAfterMs?: number | null;
}

/** The delay (ms) before try number `attempt`. */
export function retryDelay(input: RetryInput): number {
  const random = Math.min(Math.max(input.random, 0), 1);
  const attempt = Math.max(1, Math.floor(input.attempt));
  const restarting = input.cause === 'restart' && input.elapsedMs < RESTART_WINDOW_MS;
  if (attempt === 1) {
    const first = restarting ? Math.min(input.retryAfterMs ?? RESTART_FIRST_MS, RESTART_CAP_MS) : DROPPED_FIRST_MS;
    return Math.round(first * (0.5 + random));
  }
  let cap: number;
  let base: number;
  if (restarting) {
    cap = RESTART_CAP_MS;
    base = RESTART_FIRST_MS * 1.5 ** (attempt - 1);
  } else {
    cap = input.elapsedMs < DROPPED_FAST_WINDOW_MS ? DROPPED_FAST_CAP_MS : DROPPED_CAP_MS;
    base = 1000 * 2 ** Math.min(attempt - 2, 20);
  }
  return Math.round(Math.min(cap, base) * (0.75 + 0.5 * random));
}
