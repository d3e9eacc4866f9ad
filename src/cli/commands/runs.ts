/** basis runs: the table of runs in the database. */
import type { Command } from '../command';
import { print, runsTable } from '../output';

export const runsCommand: Command = {
  name: 'runs',
  summary: 'list the runs in the database with their metrics',
  usage: 'basis runs',
  options: {},
  positionals: { names: [], required: 0 },
  async run(context) {
    const runs = await context.service().listRuns();
    print(context, runs, () => runsTable(runs));
  },
};
