/** The shape of a numbered schema migration. */
export interface Migration {
  /** 1, 2, 3, ...: the `PRAGMA user_version` the database has after it. */
  version: number;
  name: string;
  sql: string;
}
