/** The store: the open database and one repository per table family. */
import type Database from 'better-sqlite3';
import { AnalysisRepository } from './analysis';
import { CheckpointRepository } from './checkpoints';
import { openDatabase } from './database';
import { DatasetRepository } from './datasets';
import { RunRepository } from './runs';
import { StepRepository } from './steps';

export class Store {
  readonly datasets: DatasetRepository;
  readonly runs: RunRepository;
  readonly steps: StepRepository;
  readonly checkpoints: CheckpointRepository;
  readonly analysis: AnalysisRepository;

  constructor(readonly database: Database.Database) {
    this.datasets = new DatasetRepository(database);
    this.runs = new RunRepository(database);
    this.steps = new StepRepository(database);
    this.checkpoints = new CheckpointRepository(database);
    this.analysis = new AnalysisRepository(database);
  }

  static open(path: string): Store {
    return new Store(openDatabase(path));
  }

  /** Runs `work` in one transaction. */
  transaction<T>(work: () => T): T {
    return this.database.transaction(work)();
  }

  close(): void {
    if (this.database.open) this.database.close();
  }
}
