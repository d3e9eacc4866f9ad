/**
 * The table of docs/sae.md: every SAE architecture on the stories260K MLP activations and on
 * planted data (src/main/generate/planted.ts: 32 dimensions, 64 planted unit features, 3
 * active per row on average, signed Laplacian magnitudes, no noise; 128 SAE features),
 * with default settings apart from the dictionary size and k. Prints one JSON line per run.
 *   npx vitest run --config bench/sae-vitest.config.ts sae-table
 * SAE_BENCH_METHODS (comma list) and SAE_BENCH_DATA ('stories', 'planted' or both) narrow it.
 */
import { test } from 'vitest';
import { readFloat32Npy } from '../test/support/npy';
import { ReconstructionMetrics } from '../src/main/analysis/metrics';
import { generatePlanted } from '../src/main/generate/planted';
import type { RunConfig } from '../src/shared/methods';
import { initializeBackend } from '../src/worker/backend';
import type { MethodDefinition } from '../src/worker/methods/method';
import {
  saeBatchTopkMethod,
  saeJumpReluMethod,
  saeReluMethod,
  saeTopkMethod,
} from '../src/worker/sae/methods';
import {
  STORIES_MLP,
  batches,
  configFor,
  contextFor,
  dropBosRows,
  meanMaxCosine,
} from '../test/unit/sae/helpers';

const definitions = {
  'sae-relu': saeReluMethod,
  'sae-topk': saeTopkMethod,
  'sae-batchtopk': saeBatchTopkMethod,
  'sae-jumprelu': saeJumpReluMethod,
} as unknown as Record<string, MethodDefinition<RunConfig>>;

const METHODS = (
  process.env.SAE_BENCH_METHODS ?? 'sae-topk,sae-batchtopk,sae-relu,sae-jumprelu'
).split(',');
const DATA = (process.env.SAE_BENCH_DATA ?? 'stories,planted').split(',');
const EVALUATION_ROWS = 2048;

interface Dataset {
  name: string;
  values: Float32Array;
  rows: number;
  dimensions: number;
  features: number;
  k: number;
  atoms: Float32Array | null;
}

function datasets(): Dataset[] {
  const out: Dataset[] = [];
  if (DATA.includes('stories')) {
    const file = readFloat32Npy(STORIES_MLP);
    const data = dropBosRows(file.data, file.rows, file.columns);
    out.push({
      name: 'stories260K MLP L2',
      ...data,
      dimensions: file.columns,
      features: 688,
      k: 16,
      atoms: null,
    });
  }
  if (DATA.includes('planted')) {
    const planted = generatePlanted({
      dimensions: 32,
      features: 64,
      activePerRow: 3,
      rows: 20000,
      magnitudes: 'laplacian',
      probabilities: 'uniform',
      noise: 0,
      seed: 42,
    });
    out.push({
      name: 'planted 32-d, 64 features, 3 active',
      values: planted.data,
      rows: 20000,
      dimensions: 32,
      features: 128,
      k: 3,
      atoms: planted.truth,
    });
  }
  return out;
}

test('SAE architectures: L0, explained variance, dead features, wall time', async () => {
  const backend = await initializeBackend();
  for (const dataset of datasets()) {
    const d = dataset.dimensions;
    const trainRows = dataset.rows - EVALUATION_ROWS;
    const train = dataset.values.subarray(0, trainRows * d);
    const evaluation = dataset.values.subarray(trainRows * d);
    for (const method of METHODS) {
      const overrides: Record<string, unknown> = { features: dataset.features };
      if (method === 'sae-topk' || method === 'sae-batchtopk') overrides.k = dataset.k;
      for (const extra of (process.env.SAE_BENCH_OVERRIDES ?? '').split(',').filter(Boolean)) {
        const [key, value] = extra.split('=');
        overrides[key!] = Number(value);
      }
      const config = configFor(method as RunConfig['method'], d, overrides as never);
      const trainer = definitions[method]!.create(contextFor(config, train, trainRows, d));
      const stream = batches(train, trainRows, d, config.batchSize, 1);
      const started = performance.now();
      const cpu = process.cpuUsage();
      for (let step = 0; step < config.steps; step++) {
        trainer.step(stream.next().value!, config.batchSize, step);
      }
      const used = process.cpuUsage(cpu);
      const seconds = (performance.now() - started) / 1000;
      const model = trainer.model();
      const codes = model.encode(evaluation, EVALUATION_ROWS);
      const metrics = new ReconstructionMetrics(d, config.features);
      metrics.add(evaluation, model.decode(codes, EVALUATION_ROWS), codes, EVALUATION_ROWS);
      const result = metrics.result();
      console.log(
        JSON.stringify({
          data: dataset.name,
          method,
          backend,
          steps: config.steps,
          batch: config.batchSize,
          learningRate: config.learningRate,
          wallSeconds: +seconds.toFixed(1),
          cpuSeconds: +((used.user + used.system) / 1e6).toFixed(1),
          l0: +result.l0.toFixed(2),
          explainedVariance: +result.explainedVariance.toFixed(4),
          dead: result.deadFeatures,
          dense: result.denseFeatures,
          mmcs:
            dataset.atoms === null
              ? null
              : +meanMaxCosine(dataset.atoms, model.atoms(), d).toFixed(4),
        }),
      );
    }
  }
});
