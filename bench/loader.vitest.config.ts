import { defineConfig } from 'vitest/config';

// Runs the loader benchmark (not part of `npm test`):
//   npx vitest run --config bench/loader.vitest.config.ts
export default defineConfig({
  test: {
    include: ['bench/loader.measure.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 1_800_000,
  },
});
