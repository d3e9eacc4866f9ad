// Runs the ICA benchmarks (bench/ica-*.run.ts), which `npm test` leaves out, with the coding
// helper threads of the build (run `npm run build` first):
//   npx vitest run --config bench/ica.vitest.config.ts [bench/ica-inference.run.ts]
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['bench/ica-*.run.ts'],
    setupFiles: ['bench/ica-threads.setup.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 3_600_000,
  },
});
