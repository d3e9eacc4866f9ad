/** basis delete RUN --yes: deletes a run and everything recorded about it. */
import { createInterface } from 'node:readline/promises';
import { inputError } from '../../shared/errors';
import type { Command } from '../command';
import { parseRunId, print } from '../output';

export const deleteCommand: Command = {
  name: 'delete',
  summary: 'delete a run, its checkpoints and its analysis',
  usage: 'basis delete RUN [--yes]',
  details: 'Without --yes, asks for confirmation on a terminal and refuses otherwise.',
  options: { yes: { type: 'boolean', description: 'do not ask for confirmation' } },
  positionals: { names: ['RUN'], required: 1 },
  async run(context) {
    const service = context.service();
    const runId = parseRunId(context.positionals[0]);
    const run = await service.getRun(runId);
    if (context.options.yes !== true) {
      if (!process.stdin.isTTY) {
        throw inputError(`deleting run ${runId} needs confirmation: add --yes`);
      }
      const prompt = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await prompt.question(
        `Delete run ${runId} (${run.method}, ${run.status}, ${run.config.features} features)? ` +
          `[y/N] `,
      );
      prompt.close();
      if (!/^y(es)?$/i.test(answer.trim())) {
        context.stderr.write('not deleted\n');
        return 1;
      }
    }
    await service.deleteRun(runId);
    print(context, { runId, deleted: true }, () => `run ${runId} deleted`);
  },
};
