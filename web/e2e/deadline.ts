/**
 * The deadline of every wait in the browser tests. Each waits for an event or a condition (an
 * element, a roster, a counter going up), never for a fixed time, and the deadline is far above
 * what any of them needs on an idle machine: on a busy one (2 cores shared with compilers) a test
 * only gets slower, it does not fail. vitest.e2e.config.ts gives expect.poll() the same deadline.
 */
export const WAIT_MS = 60_000;
