/**
 * MAP inference speed at equal KKT tolerance: Basis's active-set solver against sklearn's
 * SparseCoder (lasso_cd, lasso_lars) on 10000 stories260K MLP rows (L = 172) and a fixed 2x
 * dictionary (344 unit atoms drawn from other rows), in ICA's scaled units, alpha 0.35.
 *
 * Every solver's codes get the same KKT test (largest residual relative to alpha, computed
 * from scratch), and each comparison is at a tolerance both sides reach:
 *   - lasso_cd as SparseCoder ships it (tol 1e-4) against Basis stopped at the KKT residual
 *     lasso_cd reached;
 *   - lasso_cd with tol tightened until it reaches 1e-3 (the spec's learning tolerance)
 *     against Basis at 1e-3;
 *   - lasso_lars (which ends far from the minimiser on this coherent dictionary, and took
 *     144 s for the 10000 rows) on the first LARS_ROWS rows (default 1000) against Basis
 *     at 1e-3 on the same rows, more accurate than the peer.
 * Rounds alternate Basis and peer in one run (ROUNDS, default 3; lasso_lars only in the
 * first); each figure is the best round. Prints one line per comparison:
 *   sklearn NAME  PEER s  KKT/alpha K  mean active A | basis ... | peer/basis RATIO
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'vitest';
import { Random } from '../src/shared/random';
import { gramOfRows, multiplyTransposed } from '../src/worker/linalg/dense';
import { kktResidual, sparseCode } from '../src/worker/ica/inference';
import { normaliseRows } from '../src/worker/ica/learning';
import { scalingFromSummary, toScaled } from '../src/worker/ica/scaling';
import { computeThreads } from '../src/worker/sae/threads';
import { readFloat32Npy, summarise } from './ica-data';
import { writeFloat64Npy } from './ica-npy';

const PATH = '../shared/data/stories260K/acts_mlp_hidden_L2_16384x172_f32.npy';
const ROWS = 10000;
const ALPHA = 0.35;
/** The spec's learning tolerance: KKT residual <= 1e-3 alpha. */
const LEARNING_TOLERANCE = 1e-3;
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const LARS_ROWS = Number(process.env.LARS_ROWS ?? 1000);

interface Result {
  seconds: number;
  kkt: number;
  meanActive: number;
  tol?: number;
}

/** Keeps the faster of two results for the same configuration. */
function best(previous: Result | undefined, next: Result): Result {
  return previous === undefined || next.seconds < previous.seconds ? next : previous;
}

function describe(result: Result): string {
  return (
    `${result.seconds.toFixed(2).padStart(7)} s  KKT/alpha ${result.kkt.toExponential(1)}  ` +
    `mean active ${result.meanActive.toFixed(1)}`
  );
}

it('codes 10000 rows against a 2x dictionary faster than sklearn at equal KKT tolerance', () => {
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
  for (let r = 0; r < ROWS; r++) {
    batch.set(scaled.subarray(order[r]! * l, (order[r]! + 1) * l), r * l);
  }

  /** Basis end to end: Gram matrix, correlations, codes; KKT measured afterwards. */
  const basis = (tolerance: number, count = ROWS): Result => {
    const start = performance.now();
    const gram = gramOfRows(dictionary, m, l);
    const correlations = multiplyTransposed(batch, count, dictionary, m, l);
    const codes = new Float64Array(count * m);
    const problem = { gram, features: m, alpha: ALPHA };
    sparseCode(problem, correlations, count, codes, { tolerance, maxSweeps: 1000, polish: false });
    const seconds = (performance.now() - start) / 1000;
    let active = 0;
    for (const value of codes) if (value !== 0) active++;
    const kkt = kktResidual(problem, correlations, count, codes);
    return { seconds, kkt, meanActive: active / count };
  };

  const folder = mkdtempSync(join(tmpdir(), 'basis-ica-bench-'));
  const peer: Record<string, Result> = {};
  const ours: Record<string, Result> = {};
  try {
    writeFloat64Npy(join(folder, 'rows.npy'), batch, [ROWS, l]);
    writeFloat64Npy(join(folder, 'dictionary.npy'), dictionary, [m, l]);
    writeFloat64Npy(join(folder, 'lars-rows.npy'), batch.subarray(0, LARS_ROWS * l), [
      LARS_ROWS,
      l,
    ]);
    const sklearn = (
      jobs: string[],
      rowsFile = 'rows.npy',
    ): Array<Result & { algorithm: string }> =>
      execFileSync(
        '/usr/bin/python3',
        [
          'bench/ica-inference.py',
          join(folder, rowsFile),
          join(folder, 'dictionary.npy'),
          String(ALPHA),
          String(LEARNING_TOLERANCE),
          ...jobs,
        ],
        { maxBuffer: 64 * 1024 * 1024 },
      )
        .toString()
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Result & { algorithm: string });

    let tightTol = 'auto';
    for (let round = 0; round < ROUNDS; round++) {
      const [shipped, tight] = sklearn(['lasso_cd', `lasso_cd:${tightTol}`]);
      peer.shipped = best(peer.shipped, shipped!);
      peer.tight = best(peer.tight, tight!);
      if (round === 0) {
        peer.lars = sklearn(['lasso_lars'], 'lars-rows.npy')[0]!;
        ours.lars = basis(LEARNING_TOLERANCE, LARS_ROWS);
      }
      tightTol = String(tight!.tol);
      process.stderr.write(`round ${round + 1}: sklearn ${JSON.stringify([shipped, tight])}\n`);

      // Basis at the residual lasso_cd reached as shipped (never looser than it reached),
      // and at the learning tolerance.
      ours.matched = best(ours.matched, basis(peer.shipped.kkt));
      ours.learning = best(ours.learning, basis(LEARNING_TOLERANCE));
      process.stderr.write(`round ${round + 1}: basis ${JSON.stringify(ours)}\n`);
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }

  console.log(
    `${ROWS} rows, L = ${l}, M = ${m}, alpha = ${ALPHA}, ${cpus().length} cores ` +
      `(Basis codes on ${computeThreads()} threads), ` +
      `load average ${loadavg()
        .map((load) => load.toFixed(1))
        .join(' ')}, best of ${ROUNDS} rounds`,
  );
  const comparisons: Array<[string, Result, Result, string]> = [
    [
      'lasso_cd (tol 1e-4, as shipped)',
      peer.shipped!,
      ours.matched!,
      peer.shipped!.kkt.toExponential(1),
    ],
    [
      `lasso_cd (tol ${peer.tight!.tol!.toExponential(0)}, KKT <= 1e-3)`,
      peer.tight!,
      ours.learning!,
      '1e-3',
    ],
    [`lasso_lars (first ${LARS_ROWS} rows)`, peer.lars!, ours.lars!, '1e-3'],
  ];
  for (const [name, theirs, mine, tolerance] of comparisons) {
    console.log(
      `sklearn ${name.padEnd(34)} ${describe(theirs)} | basis (tolerance ${tolerance}) ` +
        `${describe(mine)} | peer/basis ${(theirs.seconds / mine.seconds).toFixed(2)}`,
    );
  }
});
