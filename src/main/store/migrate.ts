/**
 * Brings a database to the newest schema: each pending migration runs in its own transaction
 * and bumps `PRAGMA user_version`, so a failure leaves the database at the previous version.
 */
import type Database from 'better-sqlite3';
import { BasisError } from '../../shared/errors';
import { MIGRATIONS } from './migrations';
import type { Migration } from './migrations/migration';

export function schemaVersion(database: Database.Database): number {
  return database.pragma('user_version', { simple: true }) as number;
}

/** Applies the migrations above the current version, up to `target` (default: all). */
export function migrate(
  database: Database.Database,
  migrations: readonly Migration[] = MIGRATIONS,
  target: number = migrations.length,
): number {
  const current = schemaVersion(database);
  if (current > migrations.length) {
    throw new BasisError(
      'input',
      `${database.name}: the database has schema version ${current}, newer than this Basis ` +
        `(${migrations.length}): use a newer Basis or another --db`,
    );
  }
  for (const migration of migrations) {
    if (migration.version <= current || migration.version > target) continue;
    database.transaction(() => {
      database.exec(migration.sql);
      database.pragma(`user_version = ${migration.version}`);
    })();
  }
  return schemaVersion(database);
}
