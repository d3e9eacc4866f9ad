/**
 * The CLI's commands. To add one: write src/cli/commands/NAME.ts exporting a `Command`
 * (src/cli/command.ts):
 *
 *   export const nameCommand: Command = {
 *     name: 'name',                    // what follows `basis`
 *     summary: 'one line for basis --help',
 *     usage: 'basis name ARG [--flag V]',
 *     options: { flag: { type: 'string', value: 'V', description: '...' } },
 *     positionals: { names: ['ARG'], required: 1 },
 *     async run(context) {            // context.service(), context.options, context.json, ...
 *       ...; return 0;                 // exit code; throw BasisError for failures
 *     },
 *   };
 *
 * then list it below. --db, --json and --help are added to every command by the entry.
 */
import type { Command } from './command';
import { cancelCommand } from './commands/cancel';
import { compareCommand } from './commands/compare';
import { deleteCommand } from './commands/delete';
import { demoCommand } from './commands/demo';
import { exportCommand } from './commands/export';
import { generateCommand } from './commands/generate';
import { importCommand } from './commands/import';
import { inspectCommand } from './commands/inspect';
import { resumeCommand } from './commands/resume';
import { runsCommand } from './commands/runs';
import { serveCommand } from './commands/serve';
import { showCommand } from './commands/show';
import { trainCommand } from './commands/train';

export const COMMANDS: readonly Command[] = [
  inspectCommand,
  trainCommand,
  runsCommand,
  showCommand,
  compareCommand,
  exportCommand,
  importCommand,
  resumeCommand,
  cancelCommand,
  deleteCommand,
  generateCommand,
  demoCommand,
  serveCommand,
];

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((command) => command.name === name);
}
