// Runs the ICA benchmarks (bench/ica-*.run.ts), which `npm test` leaves out:
//   npx vitest run --config bench/ica.vitest.config.ts [bench/ica-inference.run.ts]
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['bench/ica-*.run.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 3_600_000,
  },
});
