/**
 * Every migration, in order. Append new ones; never edit or reorder a released migration:
 * databases in the field have already run it.
 */
import { migration0001 } from './0001_initial';
import { migration0002 } from './0002_peak_memory';
import type { Migration } from './migration';

export const MIGRATIONS: readonly Migration[] = [migration0001, migration0002];
