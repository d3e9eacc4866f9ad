// Runs the SAE benchmarks (bench/sae-*.bench.ts) through vitest, which compiles TypeScript:
//   npx vitest run --config bench/sae-vitest.config.ts [file filter]
// Arguments for a benchmark go through environment variables (SAE_BENCH_*).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: '.',
    include: ['bench/sae-*.bench.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 1_800_000,
  },
});
