/**
 * What the analysis pass found about a run: metrics, per-feature statistics (a narrow
 * sortable table plus a details table), top examples and reconstruction samples. Written in
 * one transaction, so a run has either all of it or none.
 */
import type Database from 'better-sqlite3';
import type { FeatureSummary, Histogram, RunMetrics } from '../../shared/contract';
import { notFound } from '../../shared/errors';
import type {
  AnalysisResult,
  FeatureRecord,
  ReconstructionSample,
} from '../analysis/analysisResult';
import { blobToFloats, floatsToBlob, fromJson, toJson } from './encoding';

interface FeatureRow {
  feature_index: number;
  density: number;
  mean: number;
  max: number;
  kurtosis: number;
  laplace_kind: 'two-sided' | 'one-sided';
  laplace_location: number;
  laplace_scale: number;
  ks_distance: number;
  log_likelihood_ratio: number;
  atom_norm: number;
}

export type FeatureOrder = 'index' | 'density' | 'kurtosis' | 'ks';

const ORDER_BY: Record<FeatureOrder, string> = {
  index: 'feature_index',
  density: 'density DESC, feature_index',
  kurtosis: 'kurtosis DESC, feature_index',
  ks: 'ks_distance ASC, feature_index',
};

export class AnalysisRepository {
  constructor(private readonly database: Database.Database) {}

  /** Replaces the run's analysis with `result`. */
  save(runId: number, result: AnalysisResult): void {
    const insertFeature = this.database.prepare(
      `INSERT INTO features (run_id, feature_index, density, mean, max, kurtosis, laplace_kind,
         laplace_location, laplace_scale, ks_distance, log_likelihood_ratio, atom_norm)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertDetail = this.database.prepare(
      `INSERT INTO feature_details (run_id, feature_index, histogram, quantiles, atom)
       VALUES (?, ?, ?, ?, ?)`,
    );
    const insertExample = this.database.prepare(
      'INSERT INTO top_examples (run_id, feature_index, rank, row, value) VALUES (?, ?, ?, ?, ?)',
    );
    const insertSample = this.database.prepare(
      `INSERT INTO reconstruction_samples (run_id, row, original, reconstruction, squared_error,
         active_features) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.database.transaction(() => {
      this.clear(runId);
      this.database
        .prepare('INSERT INTO run_metrics (run_id, metrics) VALUES (?, ?)')
        .run(runId, toJson(result.metrics));
      for (const feature of result.features) {
        insertFeature.run(
          runId,
          feature.index,
          finite(feature.density),
          finite(feature.mean),
          finite(feature.max),
          finite(feature.kurtosis),
          feature.laplace.kind,
          finite(feature.laplace.location),
          finite(feature.laplace.scale),
          finite(feature.laplace.ksDistance),
          finite(feature.laplace.logLikelihoodRatio),
          finite(feature.atomNorm),
        );
        insertDetail.run(
          runId,
          feature.index,
          toJson(feature.histogram),
          toJson(feature.quantiles),
          floatsToBlob(feature.atom),
        );
        feature.topExamples.forEach((example, rank) => {
          insertExample.run(runId, feature.index, rank, example.row, example.value);
        });
      }
      for (const sample of result.reconstructions) {
        insertSample.run(
          runId,
          sample.row,
          floatsToBlob(sample.original),
          floatsToBlob(sample.reconstruction),
          sample.squaredError,
          sample.activeFeatures,
        );
      }
    })();
  }

  clear(runId: number): void {
    for (const table of [
      'run_metrics',
      'features',
      'feature_details',
      'top_examples',
      'reconstruction_samples',
    ]) {
      this.database.prepare(`DELETE FROM ${table} WHERE run_id = ?`).run(runId);
    }
  }

  metrics(runId: number): RunMetrics | null {
    const row = this.database
      .prepare('SELECT metrics FROM run_metrics WHERE run_id = ?')
      .get(runId) as { metrics: string } | undefined;
    return row === undefined ? null : fromJson<RunMetrics>(row.metrics);
  }

  listFeatures(runId: number, order: FeatureOrder = 'index', limit = -1): FeatureSummary[] {
    const rows = this.database
      .prepare(`SELECT * FROM features WHERE run_id = ? ORDER BY ${ORDER_BY[order]} LIMIT ?`)
      .all(runId, limit) as FeatureRow[];
    return rows.map(toSummary);
  }

  featureCount(runId: number): number {
    const row = this.database
      .prepare('SELECT COUNT(*) AS count FROM features WHERE run_id = ?')
      .get(runId) as { count: number };
    return row.count;
  }

  /** The feature's full record; top examples carry rows and values (labels come later). */
  getFeature(runId: number, index: number): FeatureRecord {
    const row = this.database
      .prepare('SELECT * FROM features WHERE run_id = ? AND feature_index = ?')
      .get(runId, index) as FeatureRow | undefined;
    const detail = this.database
      .prepare('SELECT * FROM feature_details WHERE run_id = ? AND feature_index = ?')
      .get(runId, index) as { histogram: string; quantiles: string; atom: Buffer } | undefined;
    if (row === undefined || detail === undefined) {
      throw notFound(
        `run ${runId} has no feature ${index}: features are numbered from 0 and exist once the ` +
          `run completed`,
      );
    }
    const examples = this.database
      .prepare(
        'SELECT row, value FROM top_examples WHERE run_id = ? AND feature_index = ? ORDER BY rank',
      )
      .all(runId, index) as { row: number; value: number }[];
    return {
      ...toSummary(row),
      histogram: fromJson<Histogram>(detail.histogram),
      quantiles: fromJson<{ q: number; value: number }[]>(detail.quantiles),
      atom: blobToFloats(detail.atom),
      topExamples: examples,
    };
  }

  /** All atoms as rows (features x columns), for comparing dictionaries. */
  atoms(runId: number): { features: number; columns: number; values: Float32Array } {
    const rows = this.database
      .prepare('SELECT atom FROM feature_details WHERE run_id = ? ORDER BY feature_index')
      .all(runId) as { atom: Buffer }[];
    const columns = rows.length === 0 ? 0 : rows[0]!.atom.byteLength / 4;
    const values = new Float32Array(rows.length * columns);
    rows.forEach((row, index) => values.set(blobToFloats(row.atom), index * columns));
    return { features: rows.length, columns, values };
  }

  reconstructionSamples(runId: number): ReconstructionSample[] {
    const rows = this.database
      .prepare('SELECT * FROM reconstruction_samples WHERE run_id = ? ORDER BY row')
      .all(runId) as {
      row: number;
      original: Buffer;
      reconstruction: Buffer;
      squared_error: number;
      active_features: number;
    }[];
    return rows.map((row) => ({
      row: row.row,
      original: blobToFloats(row.original),
      reconstruction: blobToFloats(row.reconstruction),
      squaredError: row.squared_error,
      activeFeatures: row.active_features,
    }));
  }
}

/** SQLite stores NaN as NULL, which the NOT NULL columns refuse; keep them as Infinity-free. */
function finite(value: number): number {
  return Number.isNaN(value) ? 0 : value;
}

function toSummary(row: FeatureRow): FeatureSummary {
  return {
    index: row.feature_index,
    density: row.density,
    mean: row.mean,
    max: row.max,
    kurtosis: row.kurtosis,
    laplace: {
      kind: row.laplace_kind,
      location: row.laplace_location,
      scale: row.laplace_scale,
      ksDistance: row.ks_distance,
      logLikelihoodRatio: row.log_likelihood_ratio,
    },
    atomNorm: row.atom_norm,
  };
}
