/**
 * Compares two dictionaries by the directions of their atoms: for each atom of A the best
 * |cos| over B's atoms, the histogram of those best values, a greedy one-to-one matching
 * (the pair with the largest |cos| first, each atom used once), and the atoms of either side
 * whose best match stays below the threshold. Atoms are rows (features x dimensions).
 * Time O(M_A M_B L); memory O(M_A + M_B + candidate pairs above the threshold).
 */
import type { DictionaryComparison, FeatureMatch } from '../../shared/contract';
import { inputError } from '../../shared/errors';

/** Two atoms count as the same feature above this |cos|. */
export const MATCH_THRESHOLD = 0.7;
const HISTOGRAM_BINS = 20;

export interface Dictionary {
  runId: number;
  features: number;
  dimensions: number;
  atoms: Float32Array;
}

export function compareDictionaries(
  a: Dictionary,
  b: Dictionary,
  threshold = MATCH_THRESHOLD,
): DictionaryComparison {
  if (a.dimensions !== b.dimensions) {
    throw inputError(
      `runs ${a.runId} and ${b.runId} have atoms of ${a.dimensions} and ${b.dimensions} ` +
        `dimensions: compare runs on the same data`,
    );
  }
  const unitA = unitRows(a);
  const unitB = unitRows(b);
  const bestA = new Float64Array(a.features);
  const bestB = new Float64Array(b.features);
  const candidates: FeatureMatch[] = [];

  // All pairs: best |cos| per atom, and candidate pairs above the threshold.
  for (let i = 0; i < a.features; i++) {
    for (let j = 0; j < b.features; j++) {
      let cosine = 0;
      for (let d = 0; d < a.dimensions; d++) {
        cosine += unitA[i * a.dimensions + d]! * unitB[j * b.dimensions + d]!;
      }
      const magnitude = Math.abs(cosine);
      if (magnitude > bestA[i]!) bestA[i] = magnitude;
      if (magnitude > bestB[j]!) bestB[j] = magnitude;
      if (magnitude >= threshold) candidates.push({ featureA: i, featureB: j, cosine });
    }
  }

  // Greedy one-to-one matching, strongest pairs first.
  candidates.sort(
    (x, y) =>
      Math.abs(y.cosine) - Math.abs(x.cosine) || x.featureA - y.featureA || x.featureB - y.featureB,
  );
  const usedA = new Uint8Array(a.features);
  const usedB = new Uint8Array(b.features);
  const matches: FeatureMatch[] = [];
  for (const pair of candidates) {
    if (usedA[pair.featureA] || usedB[pair.featureB]) continue;
    usedA[pair.featureA] = 1;
    usedB[pair.featureB] = 1;
    matches.push(pair);
  }

  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  let sum = 0;
  for (const value of bestA) {
    counts[Math.min(HISTOGRAM_BINS - 1, Math.floor(value * HISTOGRAM_BINS))]!++;
    sum += value;
  }
  return {
    runA: a.runId,
    runB: b.runId,
    bestCosineHistogram: {
      edges: Array.from({ length: HISTOGRAM_BINS + 1 }, (_, i) => i / HISTOGRAM_BINS),
      counts,
    },
    meanBestCosine: a.features === 0 ? 0 : sum / a.features,
    matches,
    unmatchedA: indicesBelow(bestA, threshold),
    unmatchedB: indicesBelow(bestB, threshold),
    threshold,
  };
}

/** Rows scaled to unit norm in float64; zero rows stay zero (|cos| 0 with everything). */
function unitRows(dictionary: Dictionary): Float64Array {
  const { features, dimensions, atoms } = dictionary;
  const unit = new Float64Array(features * dimensions);
  for (let i = 0; i < features; i++) {
    let norm = 0;
    for (let d = 0; d < dimensions; d++) norm += atoms[i * dimensions + d]! ** 2;
    norm = Math.sqrt(norm);
    if (!(norm > 0) || !Number.isFinite(norm)) continue;
    for (let d = 0; d < dimensions; d++)
      unit[i * dimensions + d] = atoms[i * dimensions + d]! / norm;
  }
  return unit;
}

function indicesBelow(values: Float64Array, threshold: number): number[] {
  const result: number[] = [];
  values.forEach((value, index) => {
    if (value < threshold) result.push(index);
  });
  return result;
}
