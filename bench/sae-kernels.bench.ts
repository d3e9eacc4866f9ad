/**
 * CPU time of the hand-written kernels of a sae-topk pass at the sae-step shape (one thread),
 * best of SAE_BENCH_REPEATS (default 10), for tuning them on a shared machine:
 *   BASIS_THREADS=1 npx vitest run --config bench/sae-vitest.config.ts sae-kernels
 */
import { test } from 'vitest';
import { Random } from '../src/shared/random';
import { compress, reluCodes, topKPerRow, topKPerRowCodes } from '../src/worker/sae/codes';
import { zeroMoments } from '../src/worker/sae/adam';
import { transpose } from '../src/worker/sae/transpose';
import { adamRows, applyGradients } from '../src/worker/sae/optimizer';
import type { ParameterName } from '../src/worker/sae/parameters';
import { PARAMETER_NAMES, zeroParameters } from '../src/worker/sae/parameters';
import { sparseBackward, sparseTimesDense } from '../src/worker/sae/passes';

const D = 512;
const F = 4096;
const B = 1024;
const K = 32;
const REPEATS = Number(process.env.SAE_BENCH_REPEATS ?? 10);

test('kernels of a sae-topk pass', () => {
  const random = new Random(0);
  const gaussians = (length: number): Float32Array =>
    Float32Array.from({ length }, () => random.gaussian());
  const pre = gaussians(B * F);
  const decoder = gaussians(F * D);
  const g = gaussians(B * D);
  const centred = gaussians(B * D);
  const codes = topKPerRowCodes(pre, B, F, K);
  const shifted = pre.map((v) => v - 2.4);
  const gradients = zeroParameters(D, F, true);
  const preGradient = new Float32Array(new SharedArrayBuffer(codes.value.length * 4));
  const moments = zeroMoments(F * D);
  const plainGradient = gaussians(F * D);
  const parameters = zeroParameters(D, F);
  parameters.decoder.set(decoder);
  parameters.encoderT.set(decoder);
  // stepSize, epsilon, beta1, beta2, gradient scale
  const adam = [1e-3, 1e-8, 0.9, 0.999, 0.5];
  const update = (unitDecoderRows: boolean) => () =>
    applyGradients(parameters, gradients, allMoments, trained, {
      unitDecoderRows,
      gradientClip: 1,
      rate: 1e-3,
      update: 10,
    });
  const trained = PARAMETER_NAMES.filter((name) => name !== 'threshold');
  const allMoments = Object.fromEntries(
    PARAMETER_NAMES.map((name) => [name, zeroMoments(parameters[name].length)]),
  ) as Record<ParameterName, ReturnType<typeof zeroMoments>>;
  const kernels: Record<string, () => unknown> = {
    'topK (dense, then compress)': () => compress(topKPerRow(pre, B, F, K), B, F),
    'topK codes (block cut)': () => topKPerRowCodes(pre, B, F, K),
    'relu codes (bias -2.4)': () => reluCodes(shifted.slice(), B, F),
    'sparse decoder product': () => sparseTimesDense(codes, decoder, D),
    'sparse backward': () =>
      sparseBackward(codes, g, decoder, null, centred, D, preGradient, gradients),
    'transpose F x D': () => transpose(decoder, F, D),
    'update, unit-norm decoder rows': update(true),
    'update, free decoder rows': update(false),
    'adam on W_dec (shared gradient)': () =>
      adamRows(0, F, D, false, decoder, gradients.decoder, moments.first, moments.second, adam),
    'adam on W_dec (plain gradient)': () =>
      adamRows(0, F, D, false, decoder, plainGradient, moments.first, moments.second, adam),
  };
  const best = new Map<string, number>();
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    for (const [name, kernel] of Object.entries(kernels)) {
      const started = process.cpuUsage();
      kernel();
      const used = process.cpuUsage(started);
      const ms = (used.user + used.system) / 1000;
      best.set(name, Math.min(best.get(name) ?? Infinity, ms));
    }
  }
  for (const [name, ms] of best) console.log(`${name}: ${ms.toFixed(1)} ms CPU (best)`);
});
