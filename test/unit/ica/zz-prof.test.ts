import { it } from 'vitest';
import { generatePlanted } from '../../../src/main/generate/planted';
import { gramOfRows, multiplyTransposed } from '../../../src/worker/linalg/dense';
import { sparseCode } from '../../../src/worker/ica/inference';
import { normaliseRows } from '../../../src/worker/ica/learning';
import { Random } from '../../../src/shared/random';

it('profile', () => {
  const planted = generatePlanted({ dimensions: 32, features: 64, activePerRow: 3, rows: 2048, magnitudes: 'laplacian', probabilities: 'uniform', noise: 0, seed: 1 });
  const rows = Float64Array.from(planted.data);
  const random = new Random(3);
  for (const kind of ['truth', 'random', 'data']) {
    const m = 64, l = 32;
    const d = new Float64Array(m * l);
    if (kind === 'truth') d.set(planted.truth);
    else if (kind === 'random') for (let i = 0; i < d.length; i++) d[i] = random.gaussian();
    else d.set(rows.subarray(0, m * l));
    normaliseRows(d, m, l);
    const gram = gramOfRows(d, m, l);
    const corr = multiplyTransposed(rows, 2048, d, m, l);
    for (const tol of [1e-3, 1e-6]) {
      const codes = new Float64Array(2048 * m);
      const t = performance.now();
      const stats = sparseCode({ gram, features: m, alpha: 0.05 }, corr, 2048, codes, { tolerance: tol, maxSweeps: 200, polish: tol < 1e-4 });
      let nnz = 0; for (const v of codes) if (v !== 0) nnz++;
      console.log(kind, tol, (performance.now() - t).toFixed(1), 'ms', JSON.stringify(stats), 'l0', nnz / 2048);
    }
  }
});
