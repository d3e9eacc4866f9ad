/**
 * Trains an SAE on the stories260K MLP activations and prints wall time and metrics.
 * Run: SAE_BENCH_ARGS='sae-topk 2000 1024 0.001' npx vitest run --config bench/sae-vitest.config.ts stories
 */
import { test } from 'vitest';
import { readFloat32Npy } from '../test/support/npy';
import { ReconstructionMetrics } from '../src/main/analysis/metrics';
import { initializeBackend } from '../src/worker/backend';
import {
  saeBatchTopkMethod,
  saeJumpReluMethod,
  saeReluMethod,
  saeTopkMethod,
} from '../src/worker/sae/methods';
import type { MethodDefinition } from '../src/worker/methods/method';
import type { RunConfig } from '../src/shared/methods';
import { STORIES_MLP, batches, configFor, contextFor, dropBosRows } from '../test/unit/sae/helpers';

const definitions: Record<string, MethodDefinition<never>> = {
  'sae-relu': saeReluMethod as MethodDefinition<never>,
  'sae-topk': saeTopkMethod as MethodDefinition<never>,
  'sae-batchtopk': saeBatchTopkMethod as MethodDefinition<never>,
  'sae-jumprelu': saeJumpReluMethod as MethodDefinition<never>,
};

async function main(): Promise<void> {
  const args = (process.env.SAE_BENCH_ARGS ?? '').split(/\s+/).filter((a) => a !== '');
  const method = (args[0] ?? 'sae-topk') as RunConfig['method'];
  const backend = await initializeBackend();
  const file = readFloat32Npy(STORIES_MLP);
  const data = dropBosRows(file.data, file.rows, file.columns);
  const d = file.columns;
  const evaluationRows = 2048;
  const trainRows = data.rows - evaluationRows;
  const train = data.values.subarray(0, trainRows * d);
  const evaluation = data.values.subarray(trainRows * d);
  const overrides: Record<string, unknown> = { features: 688 };
  if (method === 'sae-topk' || method === 'sae-batchtopk') overrides.k = 16;
  if (args[1] !== undefined) overrides.steps = Number(args[1]);
  if (args[2] !== undefined) overrides.batchSize = Number(args[2]);
  if (args[3] !== undefined) overrides.learningRate = Number(args[3]);
  for (const extra of args.slice(4)) {
    const [key, value] = extra.split('=');
    overrides[key!] = Number(value);
  }
  const config = configFor(method, d, overrides as never);
  const context = contextFor(config, train, trainRows, d);
  const trainer = (definitions[method] as MethodDefinition<typeof config>).create(context as never);
  const started = performance.now();
  const stream = batches(train, trainRows, d, config.batchSize, 1);
  let last: Record<string, number> = {};
  for (let step = 0; step < config.steps; step++) {
    last = trainer.step(stream.next().value as Float32Array, config.batchSize, step).losses;
    if (step % Math.max(1, Math.floor(config.steps / 10)) === 0)
      console.log(step, JSON.stringify(last));
  }
  const seconds = (performance.now() - started) / 1000;
  const model = trainer.model();
  const codes = model.encode(evaluation, evaluationRows);
  const metrics = new ReconstructionMetrics(d, config.features);
  metrics.add(evaluation, model.decode(codes, evaluationRows), codes, evaluationRows);
  const result = metrics.result();
  console.log(
    JSON.stringify({
      method,
      backend,
      steps: config.steps,
      batch: config.batchSize,
      lr: config.learningRate,
      seconds: +seconds.toFixed(1),
      l0: +result.l0.toFixed(2),
      explainedVariance: +result.explainedVariance.toFixed(4),
      mse: result.mse,
      dead: result.deadFeatures,
      dense: result.denseFeatures,
      warnings: trainer.warnings(),
    }),
  );
}

test('stories260K MLP activations', main);
