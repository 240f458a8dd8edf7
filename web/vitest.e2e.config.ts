import { defineConfig } from 'vitest/config';

// Browser end-to-end tests against the real server binary (see e2e/server.ts).
export default defineConfig({
  test: {
    include: ['e2e/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120000,
    hookTimeout: 60000,
    fileParallelism: false,
    maxWorkers: 1,
    pool: 'forks',
  },
});
