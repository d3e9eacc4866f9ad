/**
 * Wall time of each phase of a sae-topk pass at the sae-step shape (one thread), for profiling:
 *   BASIS_THREADS=1 npx vitest run --config bench/sae-vitest.config.ts sae-phases
 */
import { test } from 'vitest';
import { B, benchModel, D, F } from './sae-model';
import { initializeBackend } from '../src/worker/backend';
import { topKPerRowCodes } from '../src/worker/sae/codes';
import { zeroParameters } from '../src/worker/sae/parameters';
import {
  decodeCodes,
  lossAndGradients,
  preActivations,
  sparseBackward,
} from '../src/worker/sae/passes';

test('phases of a sae-topk pass', async () => {
  await initializeBackend();
  const { parameters, batch } = benchModel();
  const totals = new Map<string, number>();
  const time = <T>(name: string, work: () => T): T => {
    const started = performance.now();
    const result = work();
    totals.set(name, (totals.get(name) ?? 0) + performance.now() - started);
    return result;
  };
  const repeats = 4;
  for (let repeat = 0; repeat <= repeats; repeat++) {
    if (repeat === 1) totals.clear();
    const { centred, pre } = time('preActivations', () => preActivations(parameters, batch, B));
    const codes = time('topK', () => topKPerRowCodes(pre, B, F, 32));
    const reconstruction = time('decode', () => decodeCodes(parameters, codes));
    const g = new Float32Array(B * D);
    for (let i = 0; i < g.length; i++) g[i] = (2 * (reconstruction[i]! - batch[i]!)) / B;
    const gradients = zeroParameters(D, F, true);
    const preGradient = new Float32Array(new SharedArrayBuffer(codes.value.length * 4));
    time('sparseBackward', () =>
      sparseBackward(codes, g, parameters.decoder, null, centred, D, preGradient, gradients),
    );
    time('whole lossAndGradients', () =>
      lossAndGradients(parameters, batch, B, {
        architecture: 'topk',
        k: 32,
        l1: 0,
        sparsity: 0,
        bandwidth: 0,
        auxK: 0,
        auxCoefficient: 0,
        dead: null,
      }),
    );
  }
  for (const [name, total] of totals)
    console.log(`${name}: ${(total / repeats).toFixed(1)} ms wall`);
});
