/**
 * One SAE training step at d = 512, 4096 features, batch 1024, Basis against the same dense
 * model in PyTorch (/usr/bin/python3 with torch), as PyTorch time / Basis time:
 *   - sae-topk (k = 32);
 *   - sae-relu at initialisation (encoder = decoder transpose, zero encoder bias: about half
 *     the codes active, so Basis takes the dense route);
 *   - sae-relu at a trained density: every encoder bias set, on both sides, to minus the
 *     pre-activation quantile that leaves L0 = 32 per row (0.8% of the codes, as in a trained
 *     ReLU SAE with L0 in the tens); Basis takes the sparse route.
 * Adam's rate is 1e-6 on both sides so that the density stays as set; each side prints the
 * range of L0 over its timed steps.
 * Each at the default thread counts of both sides (Basis: computeThreads(); PyTorch:
 * torch.get_num_threads()) and at SAE_BENCH_THREADS each (comma-separated, default "1").
 * The machine is shared, so Basis and PyTorch steps alternate one by one (PyTorch in a
 * process that waits for each step) and the ratio is the median over SAE_BENCH_PAIRS
 * (default 10) pairs of neighbouring steps, which see about the same load:
 *   npx vitest run --config bench/sae-vitest.config.ts sae-step
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { test } from 'vitest';
import type { RunConfig } from '../src/shared/methods';
import { Random } from '../src/shared/random';
import { initializeBackend } from '../src/worker/backend';
import type { MethodDefinition, Trainer } from '../src/worker/methods/method';
import { saeReluMethod, saeTopkMethod } from '../src/worker/sae/methods';
import { computeThreads, setComputeThreads, startComputeThreads } from '../src/worker/sae/threads';
import { configFor, contextFor } from '../test/unit/sae/helpers';

const DIMENSIONS = Number(process.env.SAE_BENCH_D ?? 512);
const FEATURES = Number(process.env.SAE_BENCH_F ?? 4096);
const BATCH = Number(process.env.SAE_BENCH_B ?? 1024);
const K = 32;
const WARMUP_STEPS = 2;
const PAIRS = Number(process.env.SAE_BENCH_PAIRS ?? 10);
/**
 * Adam's rate on both sides: small, so that the model, and with it the code density, stays
 * where it was set for every timed step (the work of a step does not depend on the rate).
 */
const LEARNING_RATE = 1e-6;
const THREADS = (process.env.SAE_BENCH_THREADS ?? '1').split(',').map(Number);

const PYTORCH = `
import sys, time, json
import torch
d, F, B, k = (int(value) for value in sys.argv[1:5])
arch = sys.argv[5]
steps, threads, bias = int(sys.argv[6]), int(sys.argv[7]), float(sys.argv[8])
if threads > 0:
    torch.set_num_threads(threads)
torch.manual_seed(0)
x = torch.randn(B, d)
W_dec = torch.nn.Parameter(torch.nn.functional.normalize(torch.randn(F, d), dim=1))
W_enc = torch.nn.Parameter(W_dec.detach().t().clone())
b_enc = torch.nn.Parameter(torch.full((F,), bias))
b_dec = torch.nn.Parameter(torch.zeros(d))
opt = torch.optim.Adam([W_enc, b_enc, W_dec, b_dec], lr=${LEARNING_RATE})
def step():
    pre = (x - b_dec) @ W_enc + b_enc
    if arch == 'topk':
        values, indices = torch.topk(torch.relu(pre), k, dim=1)
        f = torch.zeros_like(pre).scatter(1, indices, values)
        loss = ((f @ W_dec + b_dec - x) ** 2).sum(1).mean()
    else:
        f = torch.relu(pre)
        penalty = (f * W_dec.norm(dim=1)).sum(1).mean()
        loss = ((f @ W_dec + b_dec - x) ** 2).sum(1).mean() + 5 * penalty
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_([W_enc, b_enc, W_dec, b_dec], 1.0)
    opt.step()
    if arch == 'topk':
        with torch.no_grad():
            W_dec.data = torch.nn.functional.normalize(W_dec.data, dim=1)
    return f
# L0 of the first step only: the timed steps do nothing but train.
l0 = (step() > 0).sum().item() / B
for _ in range(${WARMUP_STEPS} - 1):
    step()
print(json.dumps({'threads': torch.get_num_threads(), 'l0': l0}), flush=True)
for line in sys.stdin:
    if line.strip() != 'step':
        break
    start, cpu = time.perf_counter(), time.process_time()
    f = step()
    wall, cpu = (time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000
    print(json.dumps({'ms': wall, 'cpuMs': cpu, 'l0': (f > 0).sum().item() / B}), flush=True)
`;

interface Timing {
  ms: number;
  cpuMs: number;
  /** Active codes per row in this step. */
  l0: number;
}

/** Median wall times of one case, for the summary lines that bench/run-all.mjs reads. */
interface Summary {
  basisMs: number;
  pytorchMs: number;
  basisThreads: number;
  pytorchThreads: number;
}

interface Case {
  name: string;
  method: 'sae-topk' | 'sae-relu';
  /** Encoder biases at the trained-density value (else 0, as initialised). */
  trainedDensity: boolean;
}

const CASES: Case[] = [
  { name: 'sae-topk (k = 32)', method: 'sae-topk', trainedDensity: false },
  { name: 'sae-relu at initialisation (dense codes)', method: 'sae-relu', trainedDensity: false },
  { name: 'sae-relu at a trained density (L0 = 32)', method: 'sae-relu', trainedDensity: true },
];

/** A PyTorch process holding the model, warmed up, that trains one step per request. */
class PytorchPeer {
  private buffered = '';
  private waiting: ((line: string) => void)[] = [];
  private lines: string[] = [];
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(method: Case['method'], threads: number, bias: number) {
    const architecture = method === 'sae-topk' ? 'topk' : 'relu';
    const args = [DIMENSIONS, FEATURES, BATCH, K, architecture, 0, threads, bias].map(String);
    this.child = spawn('/usr/bin/python3', ['-u', '-c', PYTORCH, ...args]);
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (text: string) => {
      this.buffered += text;
      let newline = this.buffered.indexOf('\n');
      while (newline >= 0) {
        this.deliver(this.buffered.slice(0, newline));
        this.buffered = this.buffered.slice(newline + 1);
        newline = this.buffered.indexOf('\n');
      }
    });
    let errors = '';
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (text: string) => (errors += text));
    this.child.on('close', () => this.deliver(`failed: ${errors.trim().split('\n').pop()}`));
  }

  /** The first line: threads and L0 after the warm-up steps, or why PyTorch did not run. */
  async ready(): Promise<{ threads: number; l0: number } | string> {
    const line = await this.nextLine();
    return line.startsWith('{') ? (JSON.parse(line) as { threads: number; l0: number }) : line;
  }

  async step(): Promise<Timing> {
    this.child.stdin.write('step\n');
    return JSON.parse(await this.nextLine()) as Timing;
  }

  stop(): void {
    this.child.stdin.end('quit\n');
  }

  private deliver(line: string): void {
    const waiter = this.waiting.shift();
    if (waiter === undefined) this.lines.push(line);
    else waiter(line);
  }

  private nextLine(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

function pytorchDefaultThreads(): number {
  const script = 'import torch; print(torch.get_num_threads())';
  const run = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' });
  return run.status === 0 ? Number(run.stdout.trim()) : Number.NaN;
}

/** A fresh trainer; with `bias` other than 0, every encoder bias set to it. */
function basisTrainer(method: Case['method'], values: Float32Array, bias: number): Trainer {
  const overrides: Record<string, unknown> = {
    features: FEATURES,
    batchSize: BATCH,
    steps: 1000,
    warmupSteps: 0,
    learningRate: LEARNING_RATE,
  };
  if (method === 'sae-topk') overrides.k = K;
  const config = configFor(method, DIMENSIONS, overrides as never);
  const definition = (method === 'sae-topk'
    ? saeTopkMethod
    : saeReluMethod) as unknown as MethodDefinition<RunConfig>;
  const context = contextFor(config, values, BATCH, DIMENSIONS);
  const trainer = definition.create(context);
  if (bias === 0) return trainer;
  const checkpoint = trainer.checkpoint();
  checkpoint.b_enc!.values.fill(bias);
  return definition.restore(context, checkpoint);
}

function timedStep(trainer: Trainer, values: Float32Array, step: number): Timing {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const { losses } = trainer.step(values, BATCH, step);
  const used = process.cpuUsage(cpu);
  return {
    ms: performance.now() - started,
    cpuMs: (used.user + used.system) / 1000,
    l0: losses.l0!,
  };
}

/** Minus the pre-activation value exceeded by K of the FEATURES codes of a row on average. */
function trainedBias(values: Float32Array): number {
  const checkpoint = basisTrainer('sae-relu', values, 0).checkpoint();
  const encoder = checkpoint.W_enc!.values;
  const decoderBias = checkpoint.b_dec!.values;
  const scale = checkpoint.input_scale!.values[0]!;
  const sampleRows = 64;
  const pre = new Float32Array(sampleRows * FEATURES);
  const centred = new Float32Array(DIMENSIONS);
  for (let r = 0; r < sampleRows; r++) {
    for (let c = 0; c < DIMENSIONS; c++) {
      centred[c] = scale * values[r * DIMENSIONS + c]! - decoderBias[c]!;
    }
    const target = pre.subarray(r * FEATURES, (r + 1) * FEATURES);
    for (let c = 0; c < DIMENSIONS; c++) {
      const x = centred[c]!;
      const row = encoder.subarray(c * FEATURES, (c + 1) * FEATURES);
      for (let j = 0; j < FEATURES; j++) target[j] = target[j]! + x * row[j]!;
    }
  }
  pre.sort();
  return -pre[Math.floor((1 - K / FEATURES) * pre.length)]!;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Alternating steps of both sides; prints best times and the median ratio of the pairs. */
async function compare(
  head: string,
  c: Case,
  values: Float32Array,
  bias: number,
  basisThreads: number,
  pytorchThreads: number,
): Promise<Summary | null> {
  const peer = new PytorchPeer(c.method, pytorchThreads, bias);
  const trainer = basisTrainer(c.method, values, bias);
  for (let s = 0; s < WARMUP_STEPS; s++) trainer.step(values, BATCH, s);
  const peerState = await peer.ready();
  if (typeof peerState === 'string') {
    console.log(`${head}: PyTorch unavailable: ${peerState}`);
    return null;
  }
  const basis: Timing[] = [];
  const pytorch: Timing[] = [];
  for (let pair = 0; pair < PAIRS; pair++) {
    basis.push(timedStep(trainer, values, WARMUP_STEPS + pair));
    pytorch.push(await peer.step());
  }
  peer.stop();
  const best = (timings: Timing[], key: keyof Timing): number =>
    Math.min(...timings.map((timing) => timing[key]));
  const l0Range = (timings: Timing[]): string => {
    const l0 = timings.map((timing) => timing.l0);
    return `L0 ${Math.min(...l0).toFixed(1)}-${Math.max(...l0).toFixed(1)}`;
  };
  const ratio = (key: keyof Timing): number =>
    median(basis.map((timing, i) => pytorch[i]![key] / timing[key]));
  const ratios = basis.map((timing, i) => pytorch[i]!.ms / timing.ms);
  console.log(
    `${head}: Basis ${best(basis, 'ms').toFixed(0)} ms wall, ${best(basis, 'cpuMs').toFixed(0)} ` +
      `ms CPU (best; ${basisThreads} threads, ${l0Range(basis)}); PyTorch ` +
      `${best(pytorch, 'ms').toFixed(0)} ms wall, ${best(pytorch, 'cpuMs').toFixed(0)} ms CPU ` +
      `(${peerState.threads} threads, ${l0Range(pytorch)}); PyTorch / Basis, median ` +
      `of ${PAIRS} pairs: ${ratio('ms').toFixed(2)} wall (pairs ` +
      `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}), ` +
      `${ratio('cpuMs').toFixed(2)} CPU`,
  );
  return {
    basisMs: median(basis.map((timing) => timing.ms)),
    pytorchMs: median(pytorch.map((timing) => timing.ms)),
    basisThreads,
    pytorchThreads: peerState.threads,
  };
}

test('SAE training step: Basis against PyTorch', async () => {
  const backend = await initializeBackend();
  const random = new Random(0);
  const values = Float32Array.from({ length: BATCH * DIMENSIONS }, () => random.gaussian());
  const bias = trainedBias(values);
  const basisDefault = computeThreads();
  const pytorchDefault = pytorchDefaultThreads();
  console.log(
    `d = ${DIMENSIONS}, features = ${FEATURES}, batch = ${BATCH}, k = ${K}; ` +
      `${availableParallelism()} cores; Basis backend ${backend}; default threads: Basis ` +
      `${basisDefault}, PyTorch ${pytorchDefault}; trained-density encoder bias ${bias.toFixed(3)}`,
  );
  const settings: { label: string; basis: number; pytorch: number }[] = [
    { label: 'default threads', basis: basisDefault, pytorch: 0 },
  ];
  for (const threads of THREADS) {
    if (threads !== basisDefault || threads !== pytorchDefault) {
      settings.push({ label: `${threads} thread(s) each`, basis: threads, pytorch: threads });
    }
  }
  const summaries: string[] = [];
  for (const setting of settings) {
    setComputeThreads(setting.basis);
    await startComputeThreads();
    for (const c of CASES) {
      const head = `${c.name}, ${setting.label}`;
      const caseBias = c.trainedDensity ? bias : 0;
      const summary = await compare(head, c, values, caseBias, setting.basis, setting.pytorch);
      if (summary === null || setting !== settings[0]) continue;
      // At the defaults, one line per case in the form bench/run-all.mjs reads.
      const label = c.trainedDensity ? `${c.method} (trained density, L0 ${K})` : c.method;
      summaries.push(
        `${label}: Basis ${summary.basisMs.toFixed(0)} ms/step wall ` +
          `(${summary.basisThreads} threads); PyTorch ${summary.pytorchMs.toFixed(0)} ms wall ` +
          `(${summary.pytorchThreads} threads); medians of ${PAIRS} alternating steps`,
      );
    }
  }
  console.log(summaries.join('\n'));
});
