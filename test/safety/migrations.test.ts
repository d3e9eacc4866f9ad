/**
 * Migrations with real rows (test/unit/store/migrations.test.ts covers empty files): a
 * database filled by a real run (dataset, run, steps, checkpoints, features, examples)
 * reopens without a changed row, and every migration from version 2 on upgrades a database
 * holding those rows at the previous version without losing one. The rows at version N-1 are
 * the real ones, copied column by column into a file migrated only that far.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/main/store/store';
import { migrate, schemaVersion } from '../../src/main/store/migrate';
import { MIGRATIONS } from '../../src/main/store/migrations';
import { json, runCli, smallRunFlags } from '../integration/cliHarness';
import { createWorkspace, type Workspace } from './harness';

let workspace: Workspace;

beforeAll(async () => {
  workspace = await createWorkspace('migrations');
  const run = json<{ status: string }>(
    await runCli(
      ['train', workspace.data, ...smallRunFlags({ steps: 30, 'checkpoint-every': 10 }), '--json'],
      workspace.database,
    ),
  );
  expect(run.status).toBe('completed');
});

afterAll(() => workspace.remove());

function tableNames(database: Database.Database): string[] {
  return (
    database
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .all() as { name: string }[]
  ).map((row) => row.name);
}

function columnNames(database: Database.Database, table: string, schema = 'main'): string[] {
  return (
    database.prepare(`PRAGMA ${schema}.table_info(${table})`).all() as { name: string }[]
  ).map((column) => column.name);
}

/** Every row of every table, as text (blobs as hex), sorted. */
function contents(database: Database.Database): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const table of tableNames(database)) {
    const rows = database.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[];
    // Some tables are WITHOUT ROWID: sort the rows' text instead of by rowid.
    result[table] = rows
      .map((row) =>
        JSON.stringify(row, (_key, value: unknown) =>
          Buffer.isBuffer(value) ? value.toString('hex') : value,
        ),
      )
      .sort();
  }
  return result;
}

describe('a database holding real rows', () => {
  it('has rows in every table after a real run', () => {
    const database = new Database(workspace.database, { readonly: true });
    const counts = Object.fromEntries(
      tableNames(database).map((table) => [
        table,
        (database.prepare(`SELECT COUNT(*) AS count FROM ${table}`).get() as { count: number })
          .count,
      ]),
    );
    database.close();
    for (const table of ['datasets', 'runs', 'steps', 'checkpoints', 'run_metrics', 'features']) {
      expect(counts[table], table).toBeGreaterThan(0);
    }
  });

  it('reopens at the newest version without a changed row, intact and with valid references', () => {
    const copy = join(workspace.folder, 'reopened.sqlite');
    const source = new Database(workspace.database);
    source.pragma('wal_checkpoint(TRUNCATE)');
    const before = contents(source);
    source.close();
    copyFileSync(workspace.database, copy);

    const store = Store.open(copy);
    expect(schemaVersion(store.database)).toBe(MIGRATIONS.length);
    expect(store.runs.list()).toHaveLength(1);
    expect(store.checkpoints.latest(1)?.step).toBe(30);
    store.close();

    const reopened = new Database(copy);
    expect(contents(reopened)).toEqual(before);
    expect(reopened.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(reopened.pragma('foreign_key_check')).toEqual([]);
    reopened.close();
  });

  it('upgrades through every migration from version 2 on, from the previous version, losing no row', () => {
    // With a single migration there is no earlier version that can hold rows: this loop
    // guards each migration added from now on.
    const source = new Database(workspace.database, { readonly: true });
    const sourceCounts = new Map(
      tableNames(source).map((table) => [
        table,
        (source.prepare(`SELECT COUNT(*) AS count FROM ${table}`).get() as { count: number }).count,
      ]),
    );
    source.close();

    for (const migration of MIGRATIONS.filter((candidate) => candidate.version >= 2)) {
      const path = join(workspace.folder, `v${migration.version - 1}.sqlite`);
      const database = new Database(path);
      migrate(database, MIGRATIONS, migration.version - 1);

      // Copy the real rows into the older schema, column by column.
      database.exec(`ATTACH DATABASE '${workspace.database.replace(/'/g, "''")}' AS real`);
      database.pragma('foreign_keys = OFF');
      const copied = new Map<string, number>();
      database.transaction(() => {
        for (const table of tableNames(database)) {
          const shared = columnNames(database, table).filter((column) =>
            columnNames(database, table, 'real').includes(column),
          );
          if (shared.length === 0) continue;
          const list = shared.join(', ');
          database.exec(`INSERT INTO main.${table} (${list}) SELECT ${list} FROM real.${table}`);
          copied.set(table, sourceCounts.get(table) ?? 0);
        }
      })();
      database.exec('DETACH DATABASE real');
      database.pragma('foreign_keys = ON');
      expect(copied.size, `tables filled at version ${migration.version - 1}`).toBeGreaterThan(0);
      database.close();

      const upgraded = new Database(path);
      upgraded.pragma('foreign_keys = ON');
      expect(migrate(upgraded, MIGRATIONS, migration.version)).toBe(migration.version);
      for (const [table, count] of copied) {
        if (!tableNames(upgraded).includes(table)) continue;
        const after = (
          upgraded.prepare(`SELECT COUNT(*) AS count FROM ${table}`).get() as { count: number }
        ).count;
        expect(after, `${table} after migration ${migration.version}`).toBe(count);
      }
      expect(upgraded.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(upgraded.pragma('foreign_key_check')).toEqual([]);
      upgraded.close();
    }
  });
});
