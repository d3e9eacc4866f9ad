/**
 * What the analysis pass produces for one run: the run's metrics, every feature's statistics
 * and top rows, and a few reconstruction samples. The worker computes it; the store keeps it.
 */
import type { FeatureSummary, Histogram, RunMetrics } from '../../shared/contract';

export interface FeatureRecord extends FeatureSummary {
  /** Histogram of the nonzero activations on this feature's stored edges. */
  histogram: Histogram;
  quantiles: { q: number; value: number }[];
  /** The atom in data units, length = dataset columns. */
  atom: Float32Array;
  /** Rows of the evaluation set that activate the feature most, strongest first. */
  topExamples: { row: number; value: number }[];
}

export interface ReconstructionSample {
  row: number;
  original: Float32Array;
  reconstruction: Float32Array;
  squaredError: number;
  activeFeatures: number;
}

export interface AnalysisResult {
  metrics: RunMetrics;
  features: FeatureRecord[];
  reconstructions: ReconstructionSample[];
}
