/** Records each run's peak worker memory (the largest seen over all its workers). */
import type { Migration } from './migration';

export const migration0002: Migration = {
  version: 2,
  name: 'peak memory of runs',
  sql: 'ALTER TABLE runs ADD COLUMN peak_memory_bytes INTEGER;',
};
