/**
 * Learning speed on the section-6 medium benchmark (L = 256, 512 planted features, 5 active
 * per row, Laplacian magnitudes, a little noise): wall time until MMCS >= 0.95 for `ica`
 * (unit-norm) and for sklearn's MiniBatchDictionaryLearning at the same alpha (so the same
 * lasso objective and comparable mean L0), both on the same centred, globally scaled rows.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'vitest';
import { generatePlanted } from '../src/main/generate/planted';
import { recoveryScores } from '../src/main/analysis/recovery';
import { defaultRunConfig } from '../src/shared/runConfig';
import type { IcaConfig } from '../src/shared/methods';
import { Random } from '../src/shared/random';
import { icaMethod } from '../src/worker/ica/method';
import { scalingFromSummary, toScaled } from '../src/worker/ica/scaling';
import { summarise } from './ica-data';
import { writeFloat64Npy } from './ica-npy';

// ALPHA, ROWS and MAX_STEPS may be set in the environment to bound a run.
const TARGET = 0.95;
const ALPHA = Number(process.env.ALPHA ?? 0.35);
const MAX_STEPS = Number(process.env.MAX_STEPS ?? 3000);

it('reaches MMCS 0.95 on the medium planted benchmark', () => {
  const l = 256;
  const m = 512;
  const rows = Number(process.env.ROWS ?? 50000);
  const planted = generatePlanted({
    dimensions: l,
    features: m,
    activePerRow: 5,
    rows,
    magnitudes: 'laplacian',
    probabilities: 'uniform',
    noise: 0.01,
    seed: 3,
  });
  const scaling = scalingFromSummary(summarise(planted.data, rows, l));
  const scaled = toScaled(planted.data, rows, scaling);
  const data = Float32Array.from(scaled);

  // Basis: train in chunks of 25 updates and stop at the target.
  const config: IcaConfig = {
    ...(defaultRunConfig('ica', l) as IcaConfig),
    features: m,
    alpha: ALPHA,
    steps: 25,
  };
  let basisSeconds: number | undefined;
  let elapsed = 0;
  let score = 0;
  let steps = 0;
  const trainer = icaMethod.create({
    config,
    data: summarise(data, rows, l),
    initialRows: data.subarray(0, 4096 * l),
    initialRowCount: 4096,
    random: new Random(0),
  });
  const batch = new Float32Array(256 * l);
  const start = performance.now();
  for (steps = 0; steps < MAX_STEPS; steps++) {
    for (let b = 0; b < 256; b++) {
      const row = (steps * 256 + b * 7919) % rows;
      batch.set(data.subarray(row * l, (row + 1) * l), b * l);
    }
    trainer.step(batch, 256, steps);
    if ((steps + 1) % 25 === 0) {
      score = recoveryScores(planted.truth, m, trainer.model().atoms(), m, l).mmcs;
      process.stderr.write(`update ${steps + 1}: MMCS ${score.toFixed(4)}\n`);
      if (score >= TARGET) {
        basisSeconds = (performance.now() - start) / 1000;
        steps++;
        break;
      }
    }
  }
  elapsed = (performance.now() - start) / 1000;
  const codes = trainer.model().encode(data.subarray(0, 1000 * l), 1000);
  let active = 0;
  for (const value of codes) if (value !== 0) active++;

  const folder = mkdtempSync(join(tmpdir(), 'basis-ica-learning-'));
  let peer: {
    seconds: number | null;
    elapsed: number;
    steps: number;
    mmcs: number;
    meanActive: number;
  };
  try {
    writeFloat64Npy(join(folder, 'rows.npy'), scaled, [rows, l]);
    writeFloat64Npy(join(folder, 'truth.npy'), Float64Array.from(planted.truth), [m, l]);
    const output = execFileSync(
      '/usr/bin/python3',
      [
        'bench/ica-learning.py',
        join(folder, 'rows.npy'),
        join(folder, 'truth.npy'),
        String(ALPHA),
        String(TARGET),
        String(MAX_STEPS),
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    ).toString();
    peer = JSON.parse(output.trim().split('\n').pop()!);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }

  console.log(
    `L = ${l}, ${m} planted features, 5 active per row, alpha ${ALPHA}, batch 256, ` +
      `${cpus().length} cores`,
  );
  console.log(
    `basis ica unit-norm: ${basisSeconds?.toFixed(1) ?? `not reached (MMCS ${score.toFixed(3)})`} s to MMCS ${TARGET} ` +
      `after ${steps} updates (${elapsed.toFixed(1)} s run), mean L0 ${(active / 1000).toFixed(1)}`,
  );
  console.log(
    `sklearn MiniBatchDictionaryLearning: ${peer.seconds?.toFixed(1) ?? `not reached (MMCS ${peer.mmcs.toFixed(3)})`} s ` +
      `after ${peer.steps} batches (${peer.elapsed.toFixed(1)} s run), mean L0 ` +
      `${peer.meanActive.toFixed(1)}`,
  );
  if (basisSeconds !== undefined && peer.seconds !== null) {
    console.log(`peer time / basis time: ${(peer.seconds / basisSeconds).toFixed(2)}`);
  }
});
