import { defineConfig } from 'vitest/config';
export default defineConfig({
  test: {
    root: '.',
    include: ['bench/sae-*.bench.ts'],
    environment: 'node',
    pool: 'forks',
    execArgv: ['--cpu-prof', '--cpu-prof-dir=/tmp/perfprof'],
    testTimeout: 1_800_000,
  },
});
