import { defineConfig } from 'vitest/config';
import { WAIT_MS } from './e2e/deadline';

// Browser end-to-end tests against the real server binary (see e2e/server.ts). Every wait in them
// is for an event or a condition with the deadline WAIT_MS (e2e/deadline.ts); expect.poll() gets the
// same deadline instead of Vitest's 1 s. A test may chain many such waits, so the test and hook
// timeouts are only a backstop against a hang.
export default defineConfig({
  test: {
    include: ['e2e/**/*.test.ts'],
    environment: 'node',
    testTimeout: 15 * 60_000,
    hookTimeout: 3 * 60_000,
    expect: { poll: { timeout: WAIT_MS, interval: 100 } },
    fileParallelism: false,
    maxWorkers: 1,
    pool: 'forks',
  },
});
