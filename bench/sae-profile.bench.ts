import { test } from 'vitest';
import { Random } from '../src/shared/random';
import { initializeBackend } from '../src/worker/backend';
import { compress, topKPerRow, reluInPlace } from '../src/worker/sae/codes';
import { matMul, transpose } from '../src/worker/sae/dense';
import { zeroParameters } from '../src/worker/sae/parameters';
import { lossAndGradients, preActivations } from '../src/worker/sae/passes';
import { adamUpdate, zeroMoments } from '../src/worker/sae/adam';

test('profile', async () => {
  await initializeBackend();
  const d = 512, F = 4096, B = 1024, k = 32;
  const r = new Random(0);
  const p = zeroParameters(d, F);
  for (let i = 0; i < p.decoder.length; i++) p.decoder[i] = r.gaussian() / Math.sqrt(d);
  p.encoderT.set(p.decoder);
  const x = Float32Array.from({ length: B * d }, () => r.gaussian());
  const time = (name: string, f: () => unknown) => { const t = process.cpuUsage(); const v = f(); const u = process.cpuUsage(t); console.log(name, ((u.user + u.system) / 1000).toFixed(1)); return v; };
  for (let rep = 0; rep < 2; rep++) {
    const enc = time('transpose enc', () => transpose(p.encoderT, F, d)) as Float32Array;
    const { pre } = time('pre', () => preActivations(p, enc, x, B)) as { pre: Float32Array };
    const dense = time('topk', () => topKPerRow(pre, B, F, k)) as Float32Array;
    time('compress', () => compress(dense, B, F));
    time('relu', () => reluInPlace(pre.slice()));
    time('matmul BxdxF', () => matMul(x, B, d, enc, F));
    time('matmul FxBxd', () => matMul(pre, F, B, x, d));
    time('transpose BxF', () => transpose(pre, B, F));
    const m = zeroMoments(F * d);
    time('adam', () => adamUpdate(p.decoder, p.encoderT, m, 1e-3, 1));
    time('topk pass', () => lossAndGradients(p, x, B, { architecture: 'topk', k, l1: 0, sparsity: 0, bandwidth: 1, auxK: 256, auxCoefficient: 1 / 32, dead: null }));
    const dead = new Uint8Array(F); for (let j = 0; j < F; j += 2) dead[j] = 1;
    time('topk pass + aux', () => lossAndGradients(p, x, B, { architecture: 'topk', k, l1: 0, sparsity: 0, bandwidth: 1, auxK: 256, auxCoefficient: 1 / 32, dead }));
    time('relu pass', () => lossAndGradients(p, x, B, { architecture: 'relu', k, l1: 5, sparsity: 0, bandwidth: 1, auxK: 0, auxCoefficient: 0, dead: null }));
  }
});
