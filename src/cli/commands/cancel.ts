/** basis cancel RUN: asks the process training a run to stop it. */
import type { Command } from '../command';
import { parseRunId, print } from '../output';

export const cancelCommand: Command = {
  name: 'cancel',
  summary: 'cancel a running run (the process training it stops at its next step)',
  usage: 'basis cancel RUN',
  options: {},
  positionals: { names: ['RUN'], required: 1 },
  async run(context) {
    const runId = parseRunId(context.positionals[0]);
    await context.service().cancelRun(runId);
    print(context, { runId, cancelRequested: true }, () => `run ${runId}: cancellation requested`);
  },
};
