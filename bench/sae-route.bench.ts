/**
 * Where the sparse kernels stop paying: one sae-relu pass (d = 512, 4096 features, batch 1024,
 * one thread) through the sparse and the dense route at a range of code densities, set by one
 * encoder bias for every feature (the (1 - density) quantile of the pre-activations, negated).
 * CPU time, best of SAE_BENCH_REPEATS (default 3), the routes interleaved:
 *   BASIS_THREADS=1 npx vitest run --config bench/sae-vitest.config.ts sae-route
 */
import { test } from 'vitest';
import { B, benchModel, F } from './sae-model';
import { initializeBackend } from '../src/worker/backend';
import type { PassSettings } from '../src/worker/sae/passes';
import { SPARSE_DENSITY_LIMIT, lossAndGradients, preActivations } from '../src/worker/sae/passes';

const DENSITIES = [0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.12];
const REPEATS = Number(process.env.SAE_BENCH_REPEATS ?? 3);

function cpuMs(work: () => unknown): number {
  const started = process.cpuUsage();
  work();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000;
}

test('sparse against dense route of a sae-relu pass', async () => {
  await initializeBackend();
  const { parameters, batch } = benchModel();
  const { pre } = preActivations(parameters, batch, B);
  const sorted = Float32Array.from(pre).sort();
  const settings: PassSettings = {
    architecture: 'relu',
    k: 0,
    l1: 1,
    sparsity: 0,
    bandwidth: 0,
    auxK: 0,
    auxCoefficient: 0,
    dead: null,
  };
  console.log(`route switch now at density ${SPARSE_DENSITY_LIMIT}`);
  for (const density of DENSITIES) {
    parameters.encoderBias.fill(-sorted[Math.floor((1 - density) * sorted.length)]!);
    const best = { sparse: Infinity, dense: Infinity };
    let measured = 0;
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      for (const route of ['sparse', 'dense'] as const) {
        const ms = cpuMs(() => {
          const result = lossAndGradients(parameters, batch, B, { ...settings, route });
          measured = result.codes.value.length / (B * F);
        });
        best[route] = Math.min(best[route], ms);
      }
    }
    console.log(
      `density ${(100 * measured).toFixed(2)}%: sparse ${best.sparse.toFixed(0)} ms, dense ` +
        `${best.dense.toFixed(0)} ms CPU (sparse / dense ${(best.sparse / best.dense).toFixed(2)})`,
    );
  }
});
