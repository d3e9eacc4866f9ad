import { describe, expect, it } from 'vitest';
import { codingCostRows } from '../../../src/worker/training/analysis';

describe('rows scored for the coding cost', () => {
  it('scores the full sample for dictionaries of a few hundred atoms', () => {
    expect(codingCostRows(344)).toBe(1024);
  });

  it('scores fewer rows as the per-row Cholesky cost (M^3 / 3) grows', () => {
    const counts = [344, 688, 1024, 2048].map(codingCostRows);
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeLessThan(counts[i - 1]!);
  });

  it('affords no row for a 16384-atom dictionary, whose Hessian alone is 2 GB', () => {
    expect(codingCostRows(16384)).toBe(0);
  });
});
