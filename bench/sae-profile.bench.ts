/**
 * Steps of one SAE method at the sae-step shape, for profiling (SAE_PROFILE_METHOD, default
 * sae-topk):
 *   npx vitest run --config bench/sae-vitest.config.ts sae-profile
 */
import { test } from 'vitest';
import type { RunConfig } from '../src/shared/methods';
import { initializeBackend } from '../src/worker/backend';
import type { MethodDefinition } from '../src/worker/methods/method';
import { saeReluMethod, saeTopkMethod } from '../src/worker/sae/methods';
import { configFor, contextFor } from '../test/unit/sae/helpers';
import { Random } from '../src/shared/random';

const DIMENSIONS = Number(process.env.SAE_BENCH_D ?? 512);
const FEATURES = Number(process.env.SAE_BENCH_F ?? 4096);
const BATCH = Number(process.env.SAE_BENCH_B ?? 1024);
const STEPS = Number(process.env.SAE_BENCH_STEPS ?? 5);
const METHOD = process.env.SAE_PROFILE_METHOD ?? 'sae-topk';

test(`profile ${METHOD}`, async () => {
  await initializeBackend();
  const overrides: Record<string, unknown> = {
    features: FEATURES,
    batchSize: BATCH,
    steps: 1000,
    warmupSteps: 0,
  };
  if (METHOD === 'sae-topk') overrides.k = 32;
  const config = configFor(METHOD as never, DIMENSIONS, overrides as never);
  const random = new Random(0);
  const values = Float32Array.from({ length: BATCH * DIMENSIONS }, () => random.gaussian());
  const definition = (METHOD === 'sae-topk'
    ? saeTopkMethod
    : saeReluMethod) as unknown as MethodDefinition<RunConfig>;
  const trainer = definition.create(contextFor(config, values, BATCH, DIMENSIONS));
  trainer.step(values, BATCH, 0);
  for (let s = 1; s <= STEPS; s++) {
    const started = performance.now();
    const cpu = process.cpuUsage();
    trainer.step(values, BATCH, s);
    const used = process.cpuUsage(cpu);
    console.log(
      `step ${s}: ${(performance.now() - started).toFixed(0)} ms wall, ` +
        `${((used.user + used.system) / 1000).toFixed(0)} ms CPU`,
    );
  }
  trainer.dispose();
});
