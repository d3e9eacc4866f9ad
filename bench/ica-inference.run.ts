/**
 * MAP inference speed: Basis's homotopy solver against sklearn's SparseCoder (lasso_lars,
 * lasso_cd) on 10000 stories260K MLP rows (L = 172) and a fixed 2x dictionary (344 unit
 * atoms drawn from other rows), in ICA's scaled units. Prints peer time / Basis time and
 * the KKT residual each reached (relative to alpha).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'vitest';
import { Random } from '../src/shared/random';
import { gramOfRows, multiplyTransposed } from '../src/worker/linalg/dense';
import { sparseCode } from '../src/worker/ica/inference';
import { normaliseRows } from '../src/worker/ica/learning';
import { scalingFromSummary, toScaled } from '../src/worker/ica/scaling';
import { readFloat32Npy, summarise } from './ica-data';
import { writeFloat64Npy } from './ica-npy';

const PATH = '../shared/data/stories260K/acts_mlp_hidden_L2_16384x172_f32.npy';
const ROWS = 10000;
const ALPHA = 0.35;

it('codes 10000 rows against a 2x dictionary faster than sklearn', () => {
  const { data, rows, columns: l } = readFloat32Npy(PATH);
  const m = 2 * l;
  const scaling = scalingFromSummary(summarise(data, rows, l));
  const scaled = toScaled(data, rows, scaling);
  const order = new Random(0).permutation(rows);
  const dictionary = new Float64Array(m * l);
  for (let j = 0; j < m; j++) {
    dictionary.set(scaled.subarray(order[ROWS + j]! * l, (order[ROWS + j]! + 1) * l), j * l);
  }
  normaliseRows(dictionary, m, l);
  const batch = new Float64Array(ROWS * l);
  for (let r = 0; r < ROWS; r++)
    batch.set(scaled.subarray(order[r]! * l, (order[r]! + 1) * l), r * l);

  const results: Record<string, { seconds: number; kkt: number; meanActive: number }> = {};
  for (const [name, tolerance, polish] of [
    ['basis (learning, 1e-3)', 1e-3, false],
    ['basis (evaluation, 1e-6 + polish)', 1e-6, true],
  ] as const) {
    const start = performance.now();
    const gram = gramOfRows(dictionary, m, l);
    const correlations = multiplyTransposed(batch, ROWS, dictionary, m, l);
    const codes = new Float64Array(ROWS * m);
    const stats = sparseCode({ gram, features: m, alpha: ALPHA }, correlations, ROWS, codes, {
      tolerance,
      maxSweeps: 1000,
      polish,
    });
    const seconds = (performance.now() - start) / 1000;
    let active = 0;
    for (const value of codes) if (value !== 0) active++;
    results[name] = { seconds, kkt: stats.maxResidual, meanActive: active / ROWS };
  }

  const folder = mkdtempSync(join(tmpdir(), 'basis-ica-bench-'));
  try {
    writeFloat64Npy(join(folder, 'rows.npy'), batch, [ROWS, l]);
    writeFloat64Npy(join(folder, 'dictionary.npy'), dictionary, [m, l]);
    const output = execFileSync(
      '/usr/bin/python3',
      [
        'bench/ica-inference.py',
        join(folder, 'rows.npy'),
        join(folder, 'dictionary.npy'),
        String(ALPHA),
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    ).toString();
    for (const line of output.trim().split('\n')) {
      const parsed = JSON.parse(line) as {
        algorithm: string;
        seconds: number;
        kkt: number;
        meanActive: number;
      };
      results[`sklearn ${parsed.algorithm}`] = parsed;
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }

  const basis = results['basis (learning, 1e-3)']!.seconds;
  console.log(`${ROWS} rows, L = ${l}, M = ${m}, alpha = ${ALPHA}, ${cpus().length} cores`);
  for (const [name, result] of Object.entries(results)) {
    console.log(
      `${name.padEnd(36)} ${result.seconds.toFixed(2).padStart(7)} s  KKT/alpha ${result.kkt.toExponential(1)}  ` +
        `mean active ${result.meanActive.toFixed(1)}  peer/basis ` +
        `${(result.seconds / basis).toFixed(2)}`,
    );
  }
});
