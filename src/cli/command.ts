/**
 * The shape of a CLI command. Every command is one file in src/cli/commands/ exporting a
 * `Command`, listed in src/cli/registry.ts. The entry (src/cli/index.ts) adds --db, --json
 * and --help to every command, parses the flags with the command's `options`, turns thrown
 * errors into one line on stderr and an exit code, and cancels long work on Ctrl-C through
 * `context.signal`.
 */
import type { BasisService } from '../main/service/service';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** Shown by --help. */
  description: string;
  /** The value's name in --help, e.g. 'N' or 'FILE'. */
  value?: string;
}

export interface CommandContext {
  positionals: string[];
  /** Parsed flags by name: a string for string options, true for boolean ones. */
  options: Record<string, string | boolean | undefined>;
  /** --json: print machine-readable results on stdout. */
  json: boolean;
  databasePath: string;
  /** The service over the database, opened on first use and closed by the entry. */
  service(): BasisService;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
}

export interface Command {
  name: string;
  /** One line for `basis --help`. */
  summary: string;
  /** Usage line(s) without the global flags, e.g. 'basis runs'. */
  usage: string;
  /** More text for `basis NAME --help` (examples, notes). */
  details?: string;
  options: Record<string, OptionSpec>;
  /** Positional arguments: their names for --help, and how many are required. */
  positionals: { names: string[]; required: number };
  /** Does the work; the resolved number is the exit code (default 0). */
  run(context: CommandContext): Promise<number | void>;
}
