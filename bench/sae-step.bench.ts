/**
 * One SAE training step at d = 512, 4096 features, batch 1024: sae-topk (k = 32) and
 * sae-relu, Basis against the same dense model in PyTorch (/usr/bin/python3 with torch),
 * printing peer time / Basis time and the core count. Rounds of Basis and PyTorch steps
 * alternate and the best round of each side counts (SAE_BENCH_ROUNDS, default 3).
 *   npx vitest run --config bench/sae-vitest.config.ts sae-step
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { test } from 'vitest';
import type { RunConfig } from '../src/shared/methods';
import { initializeBackend } from '../src/worker/backend';
import type { MethodDefinition } from '../src/worker/methods/method';
import { saeReluMethod, saeTopkMethod } from '../src/worker/sae/methods';
import { computeThreads } from '../src/worker/sae/threads';
import { configFor, contextFor } from '../test/unit/sae/helpers';
import { Random } from '../src/shared/random';

const DIMENSIONS = Number(process.env.SAE_BENCH_D ?? 512);
const FEATURES = Number(process.env.SAE_BENCH_F ?? 4096);
const BATCH = Number(process.env.SAE_BENCH_B ?? 1024);
const K = 32;
const WARMUP_STEPS = 2;
const TIMED_STEPS = Number(process.env.SAE_BENCH_STEPS ?? 5);
const ROUNDS = Number(process.env.SAE_BENCH_ROUNDS ?? 3);

const PYTORCH = `
import sys, time, json
import torch
torch.manual_seed(0)
d, F, B, k, arch, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
x = torch.randn(B, d)
W_dec = torch.nn.Parameter(torch.nn.functional.normalize(torch.randn(F, d), dim=1))
W_enc = torch.nn.Parameter(W_dec.detach().t().clone())
b_enc = torch.nn.Parameter(torch.zeros(F))
b_dec = torch.nn.Parameter(torch.zeros(d))
opt = torch.optim.Adam([W_enc, b_enc, W_dec, b_dec], lr=1e-3)
def step():
    pre = (x - b_dec) @ W_enc + b_enc
    if arch == 'topk':
        values, indices = torch.topk(torch.relu(pre), k, dim=1)
        f = torch.zeros_like(pre).scatter(1, indices, values)
        loss = ((f @ W_dec + b_dec - x) ** 2).sum(1).mean()
    else:
        f = torch.relu(pre)
        loss = ((f @ W_dec + b_dec - x) ** 2).sum(1).mean() + 5 * (f * W_dec.norm(dim=1)).sum(1).mean()
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_([W_enc, b_enc, W_dec, b_dec], 1.0)
    opt.step()
    if arch == 'topk':
        with torch.no_grad():
            W_dec.data = torch.nn.functional.normalize(W_dec.data, dim=1)
for _ in range(${WARMUP_STEPS}):
    step()
start = time.perf_counter()
cpu = time.process_time()
for _ in range(steps):
    step()
print(json.dumps({'ms': (time.perf_counter() - start) / steps * 1000, 'cpuMs': (time.process_time() - cpu) / steps * 1000, 'threads': torch.get_num_threads()}))
`;

interface Timing {
  ms: number;
  cpuMs: number;
}

function pytorchStepMs(architecture: 'topk' | 'relu'): (Timing & { threads: number }) | string {
  const run = spawnSync(
    '/usr/bin/python3',
    [
      '-c',
      PYTORCH,
      String(DIMENSIONS),
      String(FEATURES),
      String(BATCH),
      String(K),
      architecture,
      String(TIMED_STEPS),
    ],
    { encoding: 'utf8' },
  );
  if (run.status !== 0)
    return `PyTorch unavailable: ${(run.stderr || run.error?.message || '').trim().split('\n').pop()}`;
  return JSON.parse(run.stdout) as Timing & { threads: number };
}

function basisStepMs(method: 'sae-topk' | 'sae-relu'): Timing {
  const overrides: Record<string, unknown> = {
    features: FEATURES,
    batchSize: BATCH,
    steps: 1000,
    warmupSteps: 0,
  };
  if (method === 'sae-topk') overrides.k = K;
  const config = configFor(method, DIMENSIONS, overrides as never);
  const random = new Random(0);
  const rows = BATCH;
  const values = Float32Array.from({ length: rows * DIMENSIONS }, () => random.gaussian());
  const definition = (method === 'sae-topk'
    ? saeTopkMethod
    : saeReluMethod) as unknown as MethodDefinition<RunConfig>;
  const trainer = definition.create(contextFor(config, values, rows, DIMENSIONS));
  for (let s = 0; s < WARMUP_STEPS; s++) trainer.step(values, rows, s);
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let s = 0; s < TIMED_STEPS; s++) trainer.step(values, rows, WARMUP_STEPS + s);
  const used = process.cpuUsage(cpu);
  return {
    ms: (performance.now() - started) / TIMED_STEPS,
    cpuMs: (used.user + used.system) / 1000 / TIMED_STEPS,
  };
}

test('SAE training step: Basis against PyTorch', async () => {
  const backend = await initializeBackend();
  const cores = availableParallelism();
  console.log(
    `d = ${DIMENSIONS}, features = ${FEATURES}, batch = ${BATCH}, k = ${K}; ${cores} cores; ` +
      `Basis backend ${backend}`,
  );
  console.log(
    `best of ${ROUNDS} interleaved rounds of ${TIMED_STEPS} steps per side (the machine is ` +
      `shared: the best round is the least disturbed)`,
  );
  for (const [method, architecture] of [
    ['sae-topk', 'topk'],
    ['sae-relu', 'relu'],
  ] as const) {
    let basis: Timing = { ms: Infinity, cpuMs: Infinity };
    let peer: (Timing & { threads: number }) | string = 'PyTorch not run';
    for (let round = 0; round < ROUNDS; round++) {
      const basisRound = basisStepMs(method);
      basis = {
        ms: Math.min(basis.ms, basisRound.ms),
        cpuMs: Math.min(basis.cpuMs, basisRound.cpuMs),
      };
      const peerRound = pytorchStepMs(architecture);
      if (typeof peerRound === 'string') {
        peer = peerRound;
        break;
      }
      peer =
        typeof peer === 'string'
          ? peerRound
          : {
              ms: Math.min(peer.ms, peerRound.ms),
              cpuMs: Math.min(peer.cpuMs, peerRound.cpuMs),
              threads: peerRound.threads,
            };
    }
    // CPU time is steadier than wall time on a machine others share; both are printed.
    const basisText = `Basis ${basis.ms.toFixed(0)} ms/step wall, ${basis.cpuMs.toFixed(0)} ms CPU (${computeThreads()} threads)`;
    if (typeof peer === 'string') {
      console.log(`${method}: ${basisText}; ${peer}`);
    } else {
      console.log(
        `${method}: ${basisText}; PyTorch ${peer.ms.toFixed(0)} ms wall, ` +
          `${peer.cpuMs.toFixed(0)} ms CPU (${peer.threads} threads); peer / Basis = ` +
          `${(peer.ms / basis.ms).toFixed(2)} wall, ${(peer.cpuMs / basis.cpuMs).toFixed(2)} CPU`,
      );
    }
  }
});
