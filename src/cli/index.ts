/**
 * The `basis` command line: `basis COMMAND [arguments] [--db PATH] [--json]`. It runs the
 * same service as the desktop app over the same database. Errors end as one line on stderr,
 * `basis: <message>`, with exit code 2 for wrong input, 130 for a cancellation and 1 for
 * anything else.
 */
import { parseArgs } from 'node:util';
import { BasisError, isBasisError } from '../shared/errors';
import { createService, type BasisService } from '../main/service/service';
import { resolveDatabasePath } from '../main/store/paths';
import type { Command, CommandContext } from './command';
import { COMMANDS, findCommand } from './registry';

const GLOBAL_OPTIONS = {
  db: {
    type: 'string',
    value: 'PATH',
    description: 'database file (default: $BASIS_DB or the app data folder)',
  },
  json: { type: 'boolean', description: 'print results as JSON on stdout' },
  help: { type: 'boolean', description: 'show help for the command' },
} as const;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(generalHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    process.stdout.write('basis 0.1.0\n');
    return 0;
  }
  const command = findCommand(name);
  if (!command) {
    return fail(new BasisError('input', `unknown command "${name}": see "basis --help"`));
  }

  let service: BasisService | undefined;
  const abort = new AbortController();
  let interrupts = 0;
  const onInterrupt = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    abort.abort();
  };
  process.on('SIGINT', onInterrupt);
  try {
    const { values, positionals } = parseFlags(command, rest);
    if (values.help) {
      process.stdout.write(commandHelp(command));
      return 0;
    }
    if (positionals.length < command.positionals.required) {
      throw new BasisError(
        'input',
        `${command.name} needs ` +
          command.positionals.names
            .slice(positionals.length, command.positionals.required)
            .join(' ') +
          `: ${command.usage.split('\n')[0]}`,
      );
    }
    const databasePath = resolveDatabasePath(typeof values.db === 'string' ? values.db : undefined);
    const context: CommandContext = {
      positionals,
      options: values,
      json: values.json === true,
      databasePath,
      service: () => (service ??= createService({ databasePath })),
      signal: abort.signal,
      stdout: process.stdout,
      stderr: process.stderr,
    };
    return (await command.run(context)) ?? 0;
  } catch (error) {
    return fail(error);
  } finally {
    process.off('SIGINT', onInterrupt);
    if (service) await service.close().catch(() => undefined);
  }
}

function parseFlags(
  command: Command,
  args: string[],
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const [name, spec] of Object.entries({ ...command.options, ...GLOBAL_OPTIONS })) {
    options[name] = { type: spec.type };
  }
  try {
    const parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
    const maximum = command.positionals.names.length;
    if (parsed.positionals.length > maximum) {
      throw new BasisError(
        'input',
        `${command.name} takes ${maximum === 0 ? 'no' : `at most ${maximum}`} argument(s), ` +
          `got "${parsed.positionals.join(' ')}": see "basis ${command.name} --help"`,
      );
    }
    return {
      values: parsed.values as Record<string, string | boolean | undefined>,
      positionals: parsed.positionals,
    };
  } catch (error) {
    if (isBasisError(error)) throw error;
    throw new BasisError(
      'input',
      `${(error as Error).message.split('\n')[0]} (see "basis ${command.name} --help")`,
    );
  }
}

function fail(error: unknown): number {
  const kind = isBasisError(error) ? error.kind : 'bug';
  const message = error instanceof Error ? error.message : String(error);
  const firstLine = kind === 'bug' ? message : message.split('\n')[0];
  process.stderr.write(`basis: ${firstLine}\n`);
  if (
    kind === 'bug' &&
    !isBasisError(error) &&
    error instanceof Error &&
    process.env.BASIS_LOG === 'debug'
  ) {
    process.stderr.write(`${error.stack}\n`);
  }
  return kind === 'input' || kind === 'not-found' ? 2 : kind === 'cancelled' ? 130 : 1;
}

function generalHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    'basis: find features in neural-network activations with overcomplete ICA and sparse ' +
      'autoencoders',
    '',
    'Usage: basis COMMAND [arguments] [--db PATH] [--json]',
    '',
    'Commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'Every command takes --db PATH (or $BASIS_DB), --json and --help.',
    'Start with: basis demo',
    '',
  ].join('\n');
}

function commandHelp(command: Command): string {
  const options = { ...command.options, ...GLOBAL_OPTIONS };
  const flags = Object.entries(options).map(([name, spec]) => [
    `--${name}${'value' in spec && spec.value ? ` ${spec.value}` : ''}`,
    spec.description,
  ]);
  const width = Math.max(...flags.map(([flag]) => flag!.length));
  return [
    `${command.summary}`,
    '',
    `Usage: ${command.usage}`,
    '',
    'Options:',
    ...flags.map(([flag, description]) => `  ${flag!.padEnd(width)}  ${description}`),
    ...(command.details ? ['', command.details] : []),
    '',
  ].join('\n');
}

void main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`basis: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
