/**
 * Opens the one SQLite database: WAL so the app and the CLI can read while a run writes,
 * a busy timeout so they wait for each other instead of failing, foreign keys on, the schema
 * migrated, and runs left 'running' by a process that is gone marked 'interrupted'.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { BasisError } from '../../shared/errors';
import { createLogger } from '../service/log';
import { migrate } from './migrate';
import { markOrphanedRuns } from './recovery';

const log = createLogger('store');
const BUSY_TIMEOUT_MS = 10_000;

export function openDatabase(path: string): Database.Database {
  let database: Database.Database;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    database = new Database(path);
  } catch (error) {
    throw new BasisError(
      'io',
      `cannot open the database ${path}: ${(error as Error).message} (choose another with --db)`,
    );
  }
  try {
    database.pragma('journal_mode = WAL');
    database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    database.pragma('foreign_keys = ON');
    database.pragma('synchronous = NORMAL');
    migrate(database);
  } catch (error) {
    database.close();
    if (error instanceof BasisError) throw error;
    throw new BasisError(
      'io',
      `${path} is not a usable Basis database: ${(error as Error).message} (choose another ` +
        `with --db)`,
    );
  }
  const interrupted = markOrphanedRuns(database);
  if (interrupted.length > 0) {
    log.info(`marked runs ${interrupted.join(', ')} interrupted: their process is gone`);
  }
  return database;
}
