import { afterAll, expect, test } from 'vitest';
import { Random } from '../../../src/shared/random';
import { ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON } from '../../../src/shared/saeSchedule';
import type { RunConfig } from '../../../src/shared/methods';
import { initializeBackend } from '../../../src/worker/backend';
import type { MethodDefinition } from '../../../src/worker/methods/method';
import { zeroMoments } from '../../../src/worker/sae/adam';
import { saeReluMethod, saeTopkMethod } from '../../../src/worker/sae/methods';
import { applyGradients } from '../../../src/worker/sae/optimizer';
import type { ParameterName, SaeParameters } from '../../../src/worker/sae/parameters';
import { PARAMETER_NAMES, zeroParameters } from '../../../src/worker/sae/parameters';
import {
  failedPartCount,
  setComputeThreads,
  splitCount,
  startComputeThreads,
  stopComputeThreads,
} from '../../../src/worker/sae/threads';
import { configFor, contextFor, plantedData, sameBits } from './helpers';

afterAll(async () => {
  await stopComputeThreads();
});

function randomParameters(random: Random, dimensions: number, features: number, shared: boolean) {
  const parameters = zeroParameters(dimensions, features, shared);
  for (const name of PARAMETER_NAMES) {
    const values = parameters[name];
    for (let i = 0; i < values.length; i++) values[i] = random.gaussian();
  }
  return parameters;
}

/**
 * The update written out in float64, one element at a time: tangent projection of decoder
 * rows, global norm, clip, Adam with bias correction, row renormalisation.
 */
function straightforwardUpdate(
  parameters: SaeParameters,
  gradients: SaeParameters,
  trained: ParameterName[],
  clip: number,
  rate: number,
  t: number,
): { values: Record<string, number[]>; norm: number } {
  const d = parameters.dimensions;
  const projected: Record<string, number[]> = {};
  let squared = 0;
  for (const name of trained) {
    const g = Array.from(gradients[name]);
    if (name === 'decoder') {
      for (let j = 0; j < parameters.features; j++) {
        let dot = 0;
        let norm = 0;
        for (let c = 0; c < d; c++) {
          dot += g[j * d + c]! * parameters.decoder[j * d + c]!;
          norm += parameters.decoder[j * d + c]! ** 2;
        }
        for (let c = 0; c < d; c++)
          g[j * d + c] = g[j * d + c]! - (dot / norm) * parameters.decoder[j * d + c]!;
      }
    }
    for (const v of g) squared += v * v;
    projected[name] = g;
  }
  const norm = Math.sqrt(squared);
  const scale = norm > clip ? clip / norm : 1;
  const values: Record<string, number[]> = {};
  for (const name of trained) {
    // From zero moments: m = (1 - b1) g, v = (1 - b2) g^2, then bias correction.
    values[name] = Array.from(parameters[name], (p, i) => {
      const g = projected[name]![i]! * scale;
      const m = ((1 - ADAM_BETA1) * g) / (1 - ADAM_BETA1 ** t);
      const v = ((1 - ADAM_BETA2) * g * g) / (1 - ADAM_BETA2 ** t);
      return p - (rate * m) / (Math.sqrt(v) + ADAM_EPSILON);
    });
  }
  const decoder = values.decoder!;
  for (let j = 0; j < parameters.features; j++) {
    let rowNorm = 0;
    for (let c = 0; c < d; c++) rowNorm += decoder[j * d + c]! ** 2;
    for (let c = 0; c < d; c++) decoder[j * d + c] = decoder[j * d + c]! / Math.sqrt(rowNorm);
  }
  return { values, norm };
}

test('the update equals Adam written out (tangent, clip, unit rows), 1 or 2 threads', async () => {
  // Large enough for the update to be split over threads (threads.ts PARALLEL_MINIMUM_WORK).
  const dimensions = 256;
  const features = 4096;
  const trained: ParameterName[] = ['encoderT', 'encoderBias', 'decoder', 'decoderBias'];
  const random = new Random(3);
  const start = randomParameters(random, dimensions, features, true);
  const gradients = randomParameters(random, dimensions, features, true);
  const rate = 1e-3;
  const t = 3;
  const clip = 1;
  const expected = straightforwardUpdate(start, gradients, trained, clip, rate, t);
  expect(expected.norm).toBeGreaterThan(clip);

  const results: SaeParameters[] = [];
  const failedBefore = failedPartCount();
  for (const threads of [1, 2]) {
    setComputeThreads(threads);
    await startComputeThreads();
    const parameters = randomParameters(new Random(3), dimensions, features, true);
    // The update projects the decoder gradient in place: each run gets its own copy.
    const ownGradients = zeroParameters(dimensions, features, true);
    for (const name of PARAMETER_NAMES) ownGradients[name].set(gradients[name]);
    const moments = Object.fromEntries(
      PARAMETER_NAMES.map((name) => [name, zeroMoments(parameters[name].length, true)]),
    ) as Record<ParameterName, ReturnType<typeof zeroMoments>>;
    // The first moments are (1 - b1) g after one update of a zero start; t = 3 tests the
    // bias correction with a count other than 1.
    const splitBefore = splitCount();
    const norm = applyGradients(parameters, ownGradients, moments, trained, {
      unitDecoderRows: true,
      gradientClip: clip,
      rate,
      update: t,
    });
    // Norms and updates of both matrices split over the threads; biases stay on this one.
    expect(splitCount() - splitBefore).toBe(threads === 1 ? 0 : 4);
    // float32 sums of 1e6 squares: relative 1e-5.
    expect(Math.abs(norm - expected.norm)).toBeLessThan(1e-5 * expected.norm);
    for (const name of trained) {
      const want = expected.values[name]!;
      const got = parameters[name];
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      // Each element moves by about rate; float32 parameters of order 1 (unit rows: 1/16).
      expect(worst, name).toBeLessThan(2e-6);
    }
    results.push(parameters);
  }
  for (const name of PARAMETER_NAMES) {
    expect(sameBits(results[0]![name], results[1]![name]), name).toBe(true);
  }
  expect(failedPartCount()).toBe(failedBefore);
});

test('training steps give the same bits on 1, 2 and 3 threads (topk and relu)', async () => {
  await initializeBackend();
  const dimensions = 256;
  const features = 4096;
  const rows = 256;
  const { values } = plantedData(9, rows, dimensions, 512, 5);
  for (const method of ['sae-topk', 'sae-relu'] as const) {
    const definition = (method === 'sae-topk'
      ? saeTopkMethod
      : saeReluMethod) as unknown as MethodDefinition<RunConfig>;
    const config = configFor(method, dimensions, {
      features,
      batchSize: rows,
      steps: 10,
      warmupSteps: 0,
    } as never);
    const finals: Float32Array[][] = [];
    const failedBefore = failedPartCount();
    for (const threads of [1, 2, 3]) {
      setComputeThreads(threads);
      await startComputeThreads();
      const trainer = definition.create(contextFor(config, values, rows, dimensions));
      for (let step = 0; step < 3; step++) trainer.step(values, rows, step);
      const checkpoint = trainer.checkpoint();
      finals.push(['W_enc', 'W_dec', 'b_enc', 'b_dec'].map((name) => checkpoint[name]!.values));
      trainer.dispose();
    }
    for (const other of finals.slice(1)) {
      other.forEach((values, i) => expect(sameBits(values, finals[0]![i]!), method).toBe(true));
    }
    // Every part ran where it was sent (a helper's failure would be hidden by the caller).
    expect(failedPartCount(), method).toBe(failedBefore);
  }
});
