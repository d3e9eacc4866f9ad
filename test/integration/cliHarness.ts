/**
 * Runs the built CLI (`node bin/basis.mjs`, from `npm run build`) the way a user does, with
 * a temporary database, and captures its exit code and output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'basis.mjs');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function assertBuilt(): void {
  if (!existsSync(join(ROOT, 'out', 'main', 'cli.js'))) {
    throw new Error('out/main/cli.js is missing: run "npm run build" (npm test does it first)');
  }
}

export function startCli(
  args: string[],
  database: string,
): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [BIN, ...args, '--db', database], {
    cwd: ROOT,
    env: { ...process.env, BASIS_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CliResult>((resolvePromise) =>
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

export function runCli(args: string[], database: string): Promise<CliResult> {
  return startCli(args, database).done;
}

/** The flags of a small, quick SAE run (TopK, 32 features, k 4, batch 64, 200 eval rows). */
const SMALL_RUN: Record<string, string | number | undefined> = {
  method: 'sae-topk',
  features: 32,
  k: 4,
  batch: 64,
  'eval-rows': 200,
};

/**
 * `basis train` flags for a small run: SMALL_RUN with `changes` applied (an undefined value
 * drops the flag, e.g. `k` for a ReLU SAE).
 */
export function smallRunFlags(changes: Record<string, string | number | undefined> = {}): string[] {
  const flags: string[] = [];
  for (const [name, value] of Object.entries({ ...SMALL_RUN, ...changes })) {
    if (value !== undefined) flags.push(`--${name}`, String(value));
  }
  return flags;
}

/** Parses --json output. */
export function json<T>(result: CliResult): T {
  if (result.code !== 0) {
    throw new Error(`basis exited ${result.code}: ${result.stderr}`);
  }
  return JSON.parse(result.stdout) as T;
}

/** Resolves once `predicate` holds for the text seen so far on the stream. */
export function waitForOutput(
  stream: NodeJS.ReadableStream,
  predicate: (text: string) => boolean,
  timeoutMs = 60_000,
): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting; saw: ${seen}`)), timeoutMs);
    stream.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (predicate(seen)) {
        clearTimeout(timer);
        resolvePromise(seen);
      }
    });
  });
}
