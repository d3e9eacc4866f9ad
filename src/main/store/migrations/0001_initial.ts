/**
 * Migration 1: the first schema. Released: never edit it; add a new numbered migration.
 *
 * JSON columns hold values whose shape the contract defines (src/shared/contract.ts); float
 * arrays that can be large (atoms, checkpoints, reconstruction rows) are BLOBs of float32.
 */
import type { Migration } from './migration';

export const migration0001: Migration = {
  version: 1,
  name: 'initial schema',
  sql: `
    CREATE TABLE datasets (
      id            INTEGER PRIMARY KEY AUTOINCREMENT,
      path          TEXT    NOT NULL,
      format        TEXT    NOT NULL,
      -- tensor or member read; '' when the file holds one (so the unique key works)
      tensor        TEXT    NOT NULL DEFAULT '',
      dtype         TEXT    NOT NULL,
      shape         TEXT    NOT NULL,          -- JSON number[]
      rows          INTEGER NOT NULL,
      columns       INTEGER NOT NULL,
      bytes         INTEGER NOT NULL,
      fingerprint   TEXT    NOT NULL,
      open_options  TEXT    NOT NULL,          -- JSON OpenOptions used to open it
      labels_path   TEXT,
      image_shape   TEXT,                      -- JSON [height, width] or NULL
      statistics    TEXT    NOT NULL,          -- JSON DatasetStatistics
      created_at    TEXT    NOT NULL,
      UNIQUE (fingerprint, path, tensor)
    );

    CREATE TABLE runs (
      id               INTEGER PRIMARY KEY AUTOINCREMENT,
      dataset_id       INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
      method           TEXT    NOT NULL,
      origin           TEXT    NOT NULL DEFAULT 'trained' CHECK (origin IN ('trained', 'imported')),
      config           TEXT    NOT NULL,       -- JSON RunConfig
      backend          TEXT,
      seed             INTEGER NOT NULL,
      status           TEXT    NOT NULL CHECK (status IN
                         ('queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted')),
      step             INTEGER NOT NULL DEFAULT 0,
      total_steps      INTEGER NOT NULL,
      created_at       TEXT    NOT NULL,
      started_at       TEXT,
      finished_at      TEXT,
      elapsed_ms       REAL,
      error            TEXT,                   -- JSON SerializedError
      warnings         TEXT    NOT NULL DEFAULT '[]',
      owner_pid        INTEGER,                -- process supervising the worker while running
      heartbeat_at     TEXT,
      cancel_requested INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX runs_by_dataset ON runs (dataset_id);
    CREATE INDEX runs_by_status ON runs (status);

    CREATE TABLE steps (
      run_id          INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      step            INTEGER NOT NULL,
      losses          TEXT    NOT NULL,        -- JSON Record<string, number>
      rows_per_second REAL    NOT NULL,
      elapsed_ms      REAL    NOT NULL,
      PRIMARY KEY (run_id, step)
    ) WITHOUT ROWID;

    CREATE TABLE checkpoints (
      run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      step        INTEGER NOT NULL,
      tensors     BLOB    NOT NULL,            -- safetensors bytes (encodeSafetensors)
      created_at  TEXT    NOT NULL,
      PRIMARY KEY (run_id, step)
    );

    CREATE TABLE run_metrics (
      run_id   INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
      metrics  TEXT NOT NULL                   -- JSON RunMetrics
    );

    CREATE TABLE features (
      run_id               INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      feature_index        INTEGER NOT NULL,
      density              REAL    NOT NULL,
      mean                 REAL    NOT NULL,
      max                  REAL    NOT NULL,
      kurtosis             REAL    NOT NULL,
      laplace_kind         TEXT    NOT NULL CHECK (laplace_kind IN ('two-sided', 'one-sided')),
      laplace_location     REAL    NOT NULL,
      laplace_scale        REAL    NOT NULL,
      ks_distance          REAL    NOT NULL,
      log_likelihood_ratio REAL    NOT NULL,
      atom_norm            REAL    NOT NULL,
      PRIMARY KEY (run_id, feature_index)
    ) WITHOUT ROWID;
    CREATE INDEX features_by_density ON features (run_id, density);
    CREATE INDEX features_by_kurtosis ON features (run_id, kurtosis);
    CREATE INDEX features_by_ks ON features (run_id, ks_distance);

    CREATE TABLE feature_details (
      run_id         INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      feature_index  INTEGER NOT NULL,
      histogram      TEXT    NOT NULL,         -- JSON Histogram of the nonzero activations
      quantiles      TEXT    NOT NULL,         -- JSON { q, value }[]
      atom           BLOB    NOT NULL,         -- float32 x columns
      PRIMARY KEY (run_id, feature_index)
    );

    CREATE TABLE top_examples (
      run_id         INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      feature_index  INTEGER NOT NULL,
      rank           INTEGER NOT NULL,
      row            INTEGER NOT NULL,
      value          REAL    NOT NULL,
      PRIMARY KEY (run_id, feature_index, rank)
    ) WITHOUT ROWID;

    CREATE TABLE reconstruction_samples (
      run_id           INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      row              INTEGER NOT NULL,
      original         BLOB    NOT NULL,       -- float32 x columns
      reconstruction   BLOB    NOT NULL,       -- float32 x columns
      squared_error    REAL    NOT NULL,
      active_features  INTEGER NOT NULL,
      PRIMARY KEY (run_id, row)
    );
  `,
};
