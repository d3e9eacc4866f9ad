/** basis resume RUN: continues an interrupted, failed or cancelled run from its checkpoint. */
import type { Command } from '../command';
import { describeRun, parseRunId, print } from '../output';
import { watchRun } from '../watch';

export const resumeCommand: Command = {
  name: 'resume',
  summary: 'continue an interrupted, failed or cancelled run from its last checkpoint',
  usage: 'basis resume RUN',
  options: {},
  positionals: { names: ['RUN'], required: 1 },
  async run(context) {
    const service = context.service();
    const run = await service.resumeRun(parseRunId(context.positionals[0]));
    if (!context.json) context.stderr.write(`run ${run.id}: resuming at step ${run.step}\n`);
    const finished = await watchRun(context, run);
    print(context, finished, () => describeRun(finished));
  },
};
