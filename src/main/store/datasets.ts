/** The datasets table: one row per (file, tensor, fingerprint) opened. */
import type Database from 'better-sqlite3';
import type {
  DatasetFormat,
  DatasetInfo,
  DatasetStatistics,
  OpenOptions,
} from '../../shared/contract';
import { notFound } from '../../shared/errors';
import { fromJson, now, toJson } from './encoding';

export interface DatasetRecord extends DatasetInfo {
  /** How the file was opened: what a worker needs to open it again. */
  openOptions: OpenOptions;
}

export type NewDataset = Omit<DatasetRecord, 'id' | 'createdAt'>;

interface DatasetRow {
  id: number;
  path: string;
  format: string;
  tensor: string;
  dtype: string;
  shape: string;
  rows: number;
  columns: number;
  bytes: number;
  fingerprint: string;
  open_options: string;
  labels_path: string | null;
  image_shape: string | null;
  statistics: string;
  created_at: string;
}

export class DatasetRepository {
  constructor(private readonly database: Database.Database) {}

  /** Records a dataset, or refreshes labels and options of the one with the same identity. */
  save(dataset: NewDataset): DatasetRecord {
    const tensor = dataset.tensor ?? '';
    const record = this.database.transaction(() => {
      const existing = this.database
        .prepare('SELECT id FROM datasets WHERE fingerprint = ? AND path = ? AND tensor = ?')
        .get(dataset.fingerprint, dataset.path, tensor) as { id: number } | undefined;
      if (existing !== undefined) {
        this.database
          .prepare(
            `UPDATE datasets SET labels_path = ?, image_shape = ?, open_options = ?, statistics = ?
             WHERE id = ?`,
          )
          .run(
            dataset.labelsPath,
            dataset.imageShape === null ? null : toJson(dataset.imageShape),
            toJson(dataset.openOptions),
            toJson(dataset.statistics),
            existing.id,
          );
        return this.get(existing.id);
      }
      const result = this.database
        .prepare(
          `INSERT INTO datasets (path, format, tensor, dtype, shape, rows, columns, bytes,
             fingerprint, open_options, labels_path, image_shape, statistics, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          dataset.path,
          dataset.format,
          tensor,
          dataset.dtype,
          toJson(dataset.shape),
          dataset.rows,
          dataset.columns,
          dataset.bytes,
          dataset.fingerprint,
          toJson(dataset.openOptions),
          dataset.labelsPath,
          dataset.imageShape === null ? null : toJson(dataset.imageShape),
          toJson(dataset.statistics),
          now(),
        );
      return this.get(Number(result.lastInsertRowid));
    });
    // IMMEDIATE: this reads before it writes, and a deferred transaction whose snapshot another
    // process has overtaken fails with SQLITE_BUSY at once instead of waiting its turn.
    return record.immediate();
  }

  get(id: number): DatasetRecord {
    const row = this.database.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as
      DatasetRow | undefined;
    if (row === undefined) throw notFound(`no dataset ${id}: list them with "basis runs"`);
    return toRecord(row);
  }

  /** The most recently recorded dataset at `path`, if any. */
  findByPath(path: string): DatasetRecord | undefined {
    const row = this.database
      .prepare('SELECT * FROM datasets WHERE path = ? ORDER BY id DESC LIMIT 1')
      .get(path) as DatasetRow | undefined;
    return row === undefined ? undefined : toRecord(row);
  }

  list(): DatasetRecord[] {
    const rows = this.database.prepare('SELECT * FROM datasets ORDER BY id').all() as DatasetRow[];
    return rows.map(toRecord);
  }
}

function toRecord(row: DatasetRow): DatasetRecord {
  return {
    id: row.id,
    path: row.path,
    format: row.format as DatasetFormat,
    tensor: row.tensor === '' ? null : row.tensor,
    dtype: row.dtype,
    shape: fromJson<number[]>(row.shape),
    rows: row.rows,
    columns: row.columns,
    bytes: row.bytes,
    fingerprint: row.fingerprint,
    openOptions: fromJson<OpenOptions>(row.open_options),
    labelsPath: row.labels_path,
    imageShape: row.image_shape === null ? null : fromJson<[number, number]>(row.image_shape),
    statistics: fromJson<DatasetStatistics>(row.statistics),
    createdAt: row.created_at,
  };
}
