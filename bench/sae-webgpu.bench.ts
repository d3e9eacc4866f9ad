/**
 * One SAE training step on tfjs's WebGPU backend in a browser worker (src/gpu)
 * against the CPU path (src/worker/sae on the Node backend of src/worker/backend.ts), at a
 * small size and at the issue's size (d = 512, 4096 features, batch 1024), sae-topk (k = 32)
 * and sae-relu. Here Chromium has no GPU: its WebGPU adapter is SwiftShader, a software
 * (CPU) implementation, so these figures say nothing of a real GPU. Rounds of the two
 * engines alternate and the best round of each counts. Environment: SAE_BENCH_SIZES
 * ("small,issue"), SAE_BENCH_METHODS ("sae-topk,sae-relu"), SAE_BENCH_ROUNDS and
 * SAE_BENCH_STEPS (per size by default, see SIZES).
 *   npx vitest run --config bench/sae-vitest.config.ts sae-webgpu
 */
import { performance } from 'node:perf_hooks';
import { availableParallelism, loadavg } from 'node:os';
import { test } from 'vitest';
import type { GpuReply, GpuSaeParameters } from '../src/gpu/protocol';
import { Random } from '../src/shared/random';
import { initializeBackend } from '../src/worker/backend';
import { saeReluMethod, saeTopkMethod } from '../src/worker/sae/methods';
import { openWebGpuPage } from '../test/e2e/webgpuPage';
import { configFor, contextFor } from '../test/unit/sae/helpers';
import { transpose } from '../src/worker/sae/transpose';

/** Sizes, with their default rounds of steps: a software-adapter step at the issue's size
 *  takes about two minutes, so it gets one warm-up step and two rounds of one step. */
const SIZES = {
  small: { dimensions: 64, features: 256, rows: 256, warmup: 2, rounds: 3, steps: 3 },
  issue: { dimensions: 512, features: 4096, rows: 1024, warmup: 1, rounds: 2, steps: 1 },
};
const CHOSEN = (process.env.SAE_BENCH_SIZES ?? 'small,issue').split(',') as (keyof typeof SIZES)[];
const METHODS = (process.env.SAE_BENCH_METHODS ?? 'sae-topk,sae-relu').split(',') as (
  'sae-topk' | 'sae-relu'
)[];

test(
  'SAE step: WebGPU (software adapter) against the CPU path',
  { timeout: 3_600_000 },
  async () => {
    const cpuBackend = await initializeBackend();
    const page = await openWebGpuPage();
    let id = 0;
    const call = async (request: Parameters<typeof page.call>[0]): Promise<GpuReply> => {
      const reply = await page.call(request);
      if (reply.type === 'failed') throw new Error(`WebGPU worker: ${reply.message}`);
      return reply;
    };
    const lines: string[] = [];
    try {
      for (const sizeName of CHOSEN) {
        const { dimensions, features, rows, warmup } = SIZES[sizeName];
        const rounds = Number(process.env.SAE_BENCH_ROUNDS ?? SIZES[sizeName].rounds);
        const steps = Number(process.env.SAE_BENCH_STEPS ?? SIZES[sizeName].steps);
        const random = new Random(1);
        const data = Float32Array.from({ length: rows * dimensions }, () => random.gaussian());
        for (const method of METHODS) {
          const config =
            method === 'sae-topk'
              ? configFor('sae-topk', dimensions, { features, batchSize: rows, k: 32 })
              : configFor('sae-relu', dimensions, { features, batchSize: rows });
          const definition = method === 'sae-topk' ? saeTopkMethod : saeReluMethod;
          const cpu = definition.create(
            contextFor(config as never, data, rows, dimensions) as never,
          );
          const checkpoint = cpu.checkpoint();
          const parameters: GpuSaeParameters = {
            dimensions,
            features,
            encoderT: transpose(checkpoint.W_enc!.values, dimensions, features),
            encoderBias: checkpoint.b_enc!.values,
            decoder: checkpoint.W_dec!.values,
            decoderBias: checkpoint.b_dec!.values,
          };
          const started = await call({
            type: 'start',
            id: ++id,
            config,
            parameters,
            inputScale: checkpoint.input_scale!.values[0]!,
          });
          const adapter = started.type === 'started' ? started.adapter : undefined;

          let step = 0;
          const gpuRound = async (count: number): Promise<{ wallMs: number; workerMs: number }> => {
            const begin = performance.now();
            let workerMs = 0;
            for (let s = 0; s < count; s++) {
              const reply = await call({ type: 'step', id: ++id, batch: data, rows, step: step++ });
              if (reply.type === 'stepped') workerMs += reply.elapsedMs;
            }
            return { wallMs: (performance.now() - begin) / count, workerMs: workerMs / count };
          };
          const cpuRound = (count: number): number => {
            const begin = performance.now();
            for (let s = 0; s < count; s++) cpu.step(data, rows, step++);
            return (performance.now() - begin) / count;
          };
          await gpuRound(warmup);
          cpuRound(warmup);
          let bestGpu = { wallMs: Infinity, workerMs: Infinity };
          let bestCpu = Infinity;
          for (let round = 0; round < rounds; round++) {
            const gpu = await gpuRound(steps);
            if (gpu.workerMs < bestGpu.workerMs) bestGpu = gpu;
            bestCpu = Math.min(bestCpu, cpuRound(steps));
          }
          await call({ type: 'stop', id: ++id });
          cpu.dispose();
          lines.push(
            `${sizeName} (d ${dimensions}, ${features} features, batch ${rows}) ${method}, ` +
              `best of ${rounds} rounds of ${steps} steps: ` +
              `WebGPU ${bestGpu.workerMs.toFixed(0)} ms per step in the worker ` +
              `(${bestGpu.wallMs.toFixed(0)} ms with the transfer from Node), ` +
              `CPU path (${cpuBackend}) ${bestCpu.toFixed(0)} ms; ` +
              `adapter ${JSON.stringify(adapter)}`,
          );
          console.log(lines.at(-1));
        }
      }
    } finally {
      await page.close();
    }
    console.log(
      [
        `SAE step, ${availableParallelism()} cores, ` +
          `load average ${loadavg()
            .map((load) => load.toFixed(2))
            .join(' ')}; the WebGPU ` +
          `adapter is SwiftShader, a software implementation on the CPU:`,
        ...lines,
      ].join('\n'),
    );
  },
);
