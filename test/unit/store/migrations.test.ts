import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../../src/main/store/migrate';
import { MIGRATIONS } from '../../../src/main/store/migrations';
import { openDatabase } from '../../../src/main/store/database';

let folder: string;

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'basis-migrations-'));
});

afterEach(() => {
  rmSync(folder, { recursive: true, force: true });
});

function tables(database: Database.Database): string[] {
  return (
    database
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .all() as {
      name: string;
    }[]
  ).map((row) => row.name);
}

describe('migrations', () => {
  it('are numbered 1, 2, 3, ... in order', () => {
    MIGRATIONS.forEach((migration, index) => expect(migration.version).toBe(index + 1));
  });

  it('migration 1 upgrades an empty database file to the first schema', () => {
    const path = join(folder, 'v0.sqlite');
    const empty = new Database(path);
    expect(schemaVersion(empty)).toBe(0);
    expect(migrate(empty, MIGRATIONS, 1)).toBe(1);
    empty.close();

    const reopened = new Database(path);
    expect(schemaVersion(reopened)).toBe(1);
    expect(tables(reopened)).toEqual([
      'checkpoints',
      'datasets',
      'feature_details',
      'features',
      'reconstruction_samples',
      'run_metrics',
      'runs',
      'steps',
      'top_examples',
    ]);
    reopened.close();
  });

  it('every migration upgrades a real file written at the previous version', () => {
    for (const migration of MIGRATIONS) {
      const path = join(folder, `v${migration.version - 1}.sqlite`);
      const database = new Database(path);
      migrate(database, MIGRATIONS, migration.version - 1);
      expect(schemaVersion(database)).toBe(migration.version - 1);
      database.close();

      const upgraded = new Database(path);
      expect(migrate(upgraded, MIGRATIONS, migration.version)).toBe(migration.version);
      expect(upgraded.pragma('integrity_check', { simple: true })).toBe('ok');
      upgraded.close();
    }
  });

  it('leaves the database at the previous version when a migration fails', () => {
    const path = join(folder, 'broken.sqlite');
    const database = new Database(path);
    const broken = [
      ...MIGRATIONS,
      {
        version: MIGRATIONS.length + 1,
        name: 'broken',
        sql: 'CREATE TABLE extra (x); SELECT * FROM missing;',
      },
    ];
    expect(() => migrate(database, broken)).toThrow(/missing/);
    expect(schemaVersion(database)).toBe(MIGRATIONS.length);
    expect(tables(database)).not.toContain('extra');
    database.close();
  });

  it('refuses a database written by a newer Basis', () => {
    const path = join(folder, 'newer.sqlite');
    const database = new Database(path);
    database.pragma(`user_version = ${MIGRATIONS.length + 5}`);
    database.close();
    expect(() => openDatabase(path)).toThrow(/newer than this Basis/);
  });

  it('opens with WAL, foreign keys and a busy timeout', () => {
    const database = openDatabase(join(folder, 'settings.sqlite'));
    expect(database.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(database.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(database.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
    database.close();
  });

  it('refuses a file that is not a database with a clear error', async () => {
    const path = join(folder, 'not-a-database.sqlite');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, 'hello, this is text and not SQLite at all'.repeat(100));
    expect(() => openDatabase(path)).toThrow(/not a usable Basis database/);
  });
});
