import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // e2e suites start real servers on port 0; files run in parallel workers, tests inside a file in order.
    pool: 'forks',
    reporters: ['default'],
  },
});
