/**
 * Learning speed on the section-6 medium benchmark (L = 256, 512 planted features, 5 active
 * per row, Laplacian magnitudes, a little noise): training time until MMCS >= 0.95 for `ica`
 * (unit-norm) and for sklearn's MiniBatchDictionaryLearning, on the same centred, globally
 * scaled rows, at the same alpha (the same lasso objective per row), each started from
 * distinct random rows at unit norm. Both sides' MMCS checks (every 25 batches) are left
 * out of the timed training. The mean L0 of both sides' codes (lasso at alpha, 1000 rows)
 * at the end is printed side by side.
 *
 * Each sklearn configuration (PEER_CONFIGS, FIT_ALGORITHM:BATCH:ALPHA, comma-separated) is
 * capped at PEER_CAP training seconds; one that does not reach the target is reported as
 * "not reached" and the ratio as ">= cap / Basis time" (if Basis, capped at BASIS_CAP, does
 * not reach it: "<= peer time / Basis's cap"). The default configurations: 'cd' at Basis's
 * alpha, and 'cd' at alpha 0.2, to bring sklearn's L0 nearer Basis's (at equal alpha its
 * codes are sparser: L0 7.8-10 against 42.6; at 0.25, 12.5; at 0.2, 22.8; at 0.15, 96). 'lars'
 * spent 97 s on its first batch of 256 rows (lasso_lars on 512 coherent atoms in 256 dimensions)
 * and batch 1024 reached a lower MMCS than 256 in the same time, so neither is a default. ROWS and
 * ALPHA may be set in the environment; ALPHA=1.0 matches the two L0s (about 5).
 *
 * Diagnostics, also from the environment: TARGET (another MMCS to stop at; above 1 never
 * stops before the cap), BATCH, VARIANT (literal, unit-norm, activity) and ETA (eta_0).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
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

const TARGET = Number(process.env.TARGET ?? 0.95);
const ALPHA = Number(process.env.ALPHA ?? 0.35);
const ROWS = Number(process.env.ROWS ?? 20000);
const BATCH = Number(process.env.BATCH ?? 256);
const BASIS_CAP = Number(process.env.BASIS_CAP ?? 150);
const PEER_CAP = Number(process.env.PEER_CAP ?? 150);
const PEER_CONFIGS = (process.env.PEER_CONFIGS ?? `cd:256:${ALPHA},cd:256:0.2`).split(',');

interface PeerResult {
  config: string;
  seconds: number | null;
  elapsed: number;
  steps: number;
  mmcs: number;
  meanActive: number;
}

it('reaches MMCS 0.95 on the medium planted benchmark', () => {
  const l = 256;
  const m = 512;
  const planted = generatePlanted({
    dimensions: l,
    features: m,
    activePerRow: 5,
    rows: ROWS,
    magnitudes: 'laplacian',
    probabilities: 'uniform',
    noise: 0.01,
    seed: 3,
  });
  const scaling = scalingFromSummary(summarise(planted.data, ROWS, l));
  const scaled = toScaled(planted.data, ROWS, scaling);
  const data = Float32Array.from(scaled);

  const config: IcaConfig = {
    ...(defaultRunConfig('ica', l) as IcaConfig),
    features: m,
    alpha: ALPHA,
    batchSize: BATCH,
    ...(process.env.VARIANT ? { variant: process.env.VARIANT as IcaConfig['variant'] } : {}),
    ...(process.env.ETA ? { learningRate: Number(process.env.ETA) } : {}),
  };
  const trainer = icaMethod.create({
    config,
    data: summarise(data, ROWS, l),
    initialRows: data.subarray(0, 4096 * l),
    initialRowCount: 4096,
    random: new Random(0),
  });
  const batch = new Float32Array(BATCH * l);
  let basisSeconds: number | undefined;
  let trained = 0;
  let score = 0;
  let steps = 0;
  while (basisSeconds === undefined && trained < BASIS_CAP) {
    for (let b = 0; b < BATCH; b++) {
      const row = (steps * BATCH + b * 7919) % ROWS;
      batch.set(data.subarray(row * l, (row + 1) * l), b * l);
    }
    const start = performance.now();
    trainer.step(batch, BATCH, steps);
    trained += (performance.now() - start) / 1000;
    steps++;
    if (steps % 25 === 0) {
      const full = recoveryScores(planted.truth, m, trainer.model().atoms(), m, l);
      score = full.mmcs;
      process.stderr.write(
        `update ${steps}: ${trained.toFixed(1)} s, MMCS ${score.toFixed(4)}, recovered at ` +
          `0.9 / 0.99: ${full.recovered90.toFixed(3)} / ${full.recovered99.toFixed(3)}\n`,
      );
      if (score >= TARGET) basisSeconds = trained;
    }
  }
  const codes = trainer.model().encode(data.subarray(0, 1000 * l), 1000);
  let active = 0;
  for (const value of codes) if (value !== 0) active++;

  const folder = mkdtempSync(join(tmpdir(), 'basis-ica-learning-'));
  let peers: PeerResult[];
  try {
    writeFloat64Npy(join(folder, 'rows.npy'), scaled, [ROWS, l]);
    writeFloat64Npy(join(folder, 'truth.npy'), Float64Array.from(planted.truth), [m, l]);
    const output = execFileSync(
      '/usr/bin/python3',
      [
        'bench/ica-learning.py',
        join(folder, 'rows.npy'),
        join(folder, 'truth.npy'),
        String(TARGET),
        String(PEER_CAP),
        ...PEER_CONFIGS,
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    ).toString();
    peers = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as PeerResult);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }

  console.log(
    `L = ${l}, ${m} planted features, 5 active per row, ${ROWS} rows, alpha ${ALPHA}, ` +
      `batch ${BATCH}, ${cpus().length} cores, load average ${loadavg()
        .map((load) => load.toFixed(1))
        .join(' ')}`,
  );
  console.log(
    `basis ica unit-norm: ${basisSeconds?.toFixed(1) ?? `not reached in ${BASIS_CAP}`} s ` +
      `to MMCS ${TARGET} after ${steps} updates (MMCS ${score.toFixed(3)}), mean L0 ` +
      `${(active / 1000).toFixed(1)}`,
  );
  for (const peer of peers) {
    console.log(
      `sklearn MiniBatchDictionaryLearning (${peer.config}): ` +
        `${peer.seconds?.toFixed(1) ?? `not reached in ${PEER_CAP}`} s to MMCS ${TARGET} ` +
        `after ${peer.steps} batches (MMCS ${peer.mmcs.toFixed(3)}), mean L0 ` +
        `${peer.meanActive.toFixed(1)}`,
    );
  }
  // The peer's best: the fastest to reach the target, else a lower bound from the cap.
  const reached = peers.filter((peer) => peer.seconds !== null);
  const fastest = Math.min(...reached.map((peer) => peer.seconds!));
  // A side that does not reach the target within its cap bounds the ratio from one side.
  if (basisSeconds !== undefined) {
    const ratio =
      reached.length > 0
        ? `${(fastest / basisSeconds).toFixed(2)}`
        : `>= ${(PEER_CAP / basisSeconds).toFixed(2)} (no configuration reached ${TARGET})`;
    console.log(`peer time / basis time: ${ratio}`);
  } else if (reached.length > 0) {
    console.log(
      `peer time / basis time: <= ${(fastest / BASIS_CAP).toFixed(2)} (Basis did not reach ` +
        `${TARGET})`,
    );
  }
});
