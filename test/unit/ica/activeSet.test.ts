/**
 * The active-set lasso solver (activeSet.ts) and the incremental Cholesky factor it shares
 * with the homotopy path: same minimiser as the homotopy, on its own (no fallback), from
 * cold and warm starts, at the exact and the loose tolerance.
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/shared/random';
import { ActiveCholesky } from '../../../src/worker/linalg/activeCholesky';
import { gramOfRows, multiplyTransposed } from '../../../src/worker/linalg/dense';
import { ActiveSetSolver } from '../../../src/worker/ica/activeSet';
import { HomotopySolver } from '../../../src/worker/ica/homotopy';
import { kktResidual, sparseCode } from '../../../src/worker/ica/inference';
import { normaliseRows } from '../../../src/worker/ica/learning';

function problem(seed: number, n: number, m: number, l: number, coherence: number) {
  const random = new Random(seed);
  const dictionary = new Float64Array(m * l);
  for (let i = 0; i < dictionary.length; i++) dictionary[i] = random.gaussian();
  // A shared direction makes the atoms correlated, as atoms learned from data are.
  for (let j = 0; j < m; j++) dictionary[j * l] = dictionary[j * l]! + coherence;
  normaliseRows(dictionary, m, l);
  const rows = new Float64Array(n * l);
  for (let i = 0; i < rows.length; i++) rows[i] = random.laplacian(1);
  const gram = gramOfRows(dictionary, m, l);
  return { gram, correlations: multiplyTransposed(rows, n, dictionary, m, l) };
}

/** Exact codes by the homotopy path, row by row. */
function homotopyCodes(gram: Float64Array, correlations: Float64Array, n: number, m: number) {
  const solver = new HomotopySolver(m);
  solver.prepare(gram);
  const codes = new Float64Array(n * m);
  for (let row = 0; row < n; row++) {
    const s = new Float64Array(m);
    solver.solve(gram, correlations.subarray(row * m, row * m + m), s, 0.2);
    codes.set(s, row * m);
  }
  return codes;
}

describe('active-set lasso solver', () => {
  for (const coherence of [0, 3]) {
    const name = `reaches the homotopy minimiser on its own (coherence ${coherence})`;
    it(`${name} unless its support fills all L dimensions`, () => {
      const n = 80;
      const m = 96;
      const l = 32;
      const alpha = 0.2;
      const { gram, correlations } = problem(13, n, m, l, coherence);
      const exact = homotopyCodes(gram, correlations, n, m);
      const solver = new ActiveSetSolver(m);
      const codes = new Float64Array(n * m);
      let active = 0;
      let saturated = 0;
      for (let row = 0; row < n; row++) {
        const s = codes.subarray(row * m, row * m + m);
        const c = correlations.subarray(row * m, row * m + m);
        const residual = solver.solve(gram, c, s, alpha, 1e-9, 8 * m);
        let support = 0;
        for (const value of s) if (value !== 0) support++;
        active += support;
        if (residual <= 1e-9) continue;
        // The one way to stop short: every entering atom depends on L active ones.
        expect(support).toBe(l);
        saturated++;
        s.set(exact.subarray(row * m, row * m + m));
      }
      expect(saturated).toBeLessThanOrEqual(n / 20);
      // Enough active atoms per row for the support search to matter.
      expect(active / n).toBeGreaterThan(8);
      const problemSpec = { gram, features: m, alpha };
      expect(kktResidual(problemSpec, correlations, n, codes)).toBeLessThanOrEqual(1e-9);
      for (let i = 0; i < codes.length; i++) expect(codes[i]).toBeCloseTo(exact[i]!, 8);
    });
  }

  it('stops at a loose tolerance with codes that pass it, and warm-starts to the minimiser', () => {
    // Well below L active atoms per row: a support that spans all L dimensions leaves no
    // room for an entering atom, and such rows go to the homotopy (inference.test.ts).
    const n = 40;
    const m = 64;
    const l = 40;
    const alpha = 0.2;
    const { gram, correlations } = problem(17, n, m, l, 2);
    const problemSpec = { gram, features: m, alpha };
    const codes = new Float64Array(n * m);
    const activeSetTo = (tolerance: number) =>
      sparseCode(problemSpec, correlations, n, codes, {
        tolerance,
        maxSweeps: 100,
        polish: false,
        solver: 'active-set',
      });
    const loose = activeSetTo(1e-2);
    expect(loose.fallbackRows).toBe(0);
    expect(kktResidual(problemSpec, correlations, n, codes)).toBeLessThanOrEqual(1e-2);

    // From the loose codes (and from a perturbed copy with wrong signs) to the exact ones.
    const random = new Random(4);
    for (let i = 0; i < codes.length; i += 7) codes[i] = random.gaussian();
    const exact = activeSetTo(1e-10);
    expect(exact.fallbackRows).toBe(0);
    expect(kktResidual(problemSpec, correlations, n, codes)).toBeLessThanOrEqual(1e-10);
    const reference = homotopyCodes(gram, correlations, n, m);
    for (let i = 0; i < codes.length; i++) expect(codes[i]).toBeCloseTo(reference[i]!, 8);
  });
});

describe('incremental Cholesky factor of G_aa', () => {
  for (const compact of [false, true]) {
    it(`matches G_aa after appends and removals (compact columns: ${compact})`, () => {
      const m = 12;
      const l = 10;
      const random = new Random(2);
      const atoms = new Float64Array(m * l);
      for (let i = 0; i < atoms.length; i++) atoms[i] = random.gaussian();
      const gram = gramOfRows(atoms, m, l);
      const cholesky = new ActiveCholesky(m, 1e-10, compact);
      for (const j of [3, 7, 0, 9, 5, 11]) expect(cholesky.append(gram, j)).toBe(true);
      cholesky.remove(0);
      cholesky.remove(11);
      expect(cholesky.append(gram, 1)).toBe(true);
      const active = [...cholesky.active.subarray(0, cholesky.size)];
      expect(active).toEqual([3, 7, 9, 5, 1]);
      const k = active.length;
      // L L^T = G_aa entry by entry.
      for (let a = 0; a < k; a++) {
        for (let b = 0; b < k; b++) {
          let product = 0;
          for (let c = 0; c < k; c++) {
            product += cholesky.factor[a * m + c]! * cholesky.factor[b * m + c]!;
          }
          expect(product).toBeCloseTo(gram[active[a]! * m + active[b]!]!, 10);
        }
      }
      // The solve inverts G_aa.
      const b = Float64Array.from({ length: m }, (_, i) => i - 2);
      const x = Float64Array.from(b);
      cholesky.solve(x);
      for (let a = 0; a < k; a++) {
        let row = 0;
        for (let c = 0; c < k; c++) row += gram[active[a]! * m + active[c]!]! * x[c]!;
        expect(row).toBeCloseTo(b[a]!, 9);
      }
      if (compact) {
        for (let i = 0; i < m; i++) {
          for (let a = 0; a < k; a++) {
            expect(cholesky.columns[i * m + a]).toBe(gram[i * m + active[a]!]);
          }
        }
      }
    });
  }

  it('refuses an atom that depends on the active ones', () => {
    const m = 3;
    const atoms = Float64Array.of(1, 0, 0, 1, 1, 1);
    const gram = gramOfRows(atoms, m, 2);
    const cholesky = new ActiveCholesky(m, 1e-10, false);
    expect(cholesky.append(gram, 0)).toBe(true);
    expect(cholesky.append(gram, 1)).toBe(true);
    expect(cholesky.append(gram, 2)).toBe(false);
    expect(cholesky.size).toBe(2);
    expect(cholesky.position[2]).toBe(-1);
  });
});
