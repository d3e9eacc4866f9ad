/**
 * Exports that cannot be written: a path under a regular file (ENOTDIR), a read-only file
 * system (EROFS), a full disk (ENOSPC, a 64 KiB tmpfs filled up) and a folder the user may
 * not write (EACCES, the CLI run as `nobody`). Each must give one clear error and leave no
 * file, partial or temporary, behind. The tmpfs and `nobody` cases need root (as CI runs);
 * elsewhere they are skipped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/shared/contract';
import { BIN, json, ROOT, runCli, smallRunFlags } from '../integration/cliHarness';
import { createWorkspace, type Workspace } from './harness';

const FORMATS = ['npy', 'saelens', 'csv'] as const;
const TARGET = { npy: 'atoms.npy', saelens: 'sae-folder', csv: 'features.csv' } as const;

let workspace: Workspace;
let runId: number;
const mounts: string[] = [];

function tryMount(path: string, options: string): boolean {
  mkdirSync(path, { recursive: true });
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', path]);
  if (result.status === 0) {
    mounts.push(path);
    return true;
  }
  return false;
}

const isRoot = process.getuid?.() === 0;

beforeAll(async () => {
  workspace = await createWorkspace('export');
  const trained = json<RunSummary>(
    await runCli(
      [
        'train',
        workspace.data,
        ...smallRunFlags({ method: 'sae-relu', k: undefined, steps: 20 }),
        '--json',
      ],
      workspace.database,
    ),
  );
  expect(trained.status).toBe('completed');
  runId = trained.id;
});

afterAll(() => {
  for (const mount of mounts.reverse()) spawnSync('umount', [mount]);
  workspace.remove();
});

async function exportTo(format: (typeof FORMATS)[number], out: string) {
  return runCli(['export', String(runId), '--format', format, '--out', out], workspace.database);
}

/** One line of error on stderr, naming the path and what to do, and exit code 1 or 2. */
function expectOneClearError(
  result: { code: number | null; stderr: string },
  reason: RegExp,
): void {
  expect(result.code === 1 || result.code === 2).toBe(true);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^basis: cannot write /);
  expect(lines[0]).toMatch(reason);
  expect(lines[0]).not.toMatch(/at .*\.js:\d+/);
}

describe('export to a place that cannot take it', () => {
  it('under a regular file (ENOTDIR): one clear error, nothing written', async () => {
    const file = join(workspace.folder, 'a-file');
    writeFileSync(file, 'not a folder');
    for (const format of FORMATS) {
      const result = await exportTo(format, join(file, TARGET[format]));
      expectOneClearError(result, /is a file, not a folder/);
    }
  });

  it.skipIf(!isRoot)('on a read-only file system (EROFS): one clear error', async (context) => {
    const readOnly = join(workspace.folder, 'read-only');
    if (!tryMount(readOnly, 'size=64k,ro')) context.skip('mount -t tmpfs is not permitted here');
    for (const format of FORMATS) {
      const result = await exportTo(format, join(readOnly, TARGET[format]));
      expectOneClearError(result, /read-only file system/);
    }
    expect(readdirSync(readOnly)).toEqual([]);
  });

  it.skipIf(!isRoot)(
    'on a full disk (ENOSPC): one clear error, and no partial or temporary file left',
    async (context) => {
      const full = join(workspace.folder, 'full');
      if (!tryMount(full, 'size=64k')) context.skip('mount -t tmpfs is not permitted here');
      // Fill the disk to the last byte; dd stops with "No space left on device".
      spawnSync('dd', ['if=/dev/zero', `of=${join(full, 'filler')}`, 'bs=4096']);
      for (const format of FORMATS) {
        const result = await exportTo(format, join(full, TARGET[format]));
        expectOneClearError(result, /disk is full/);
        expect(readdirSync(full)).toEqual(['filler']);
      }
    },
  );

  it.skipIf(!isRoot)(
    'to a folder the user may not write (EACCES, run as nobody): one clear error',
    async (context) => {
      try {
        execFileSync('setpriv', ['--version']);
      } catch {
        context.skip('setpriv is not installed');
      }
      // nobody may read the database and data, but not write the export folder.
      const closed = join(workspace.folder, 'closed');
      mkdirSync(closed);
      chmodSync(closed, 0o555);
      chmodSync(workspace.folder, 0o777);
      chmodSync(workspace.database, 0o666);
      for (const name of readdirSync(workspace.folder)) {
        if (name.startsWith('basis.sqlite')) chmodSync(join(workspace.folder, name), 0o666);
      }
      for (const format of FORMATS) {
        const result = spawnSync(
          'setpriv',
          [
            '--reuid=nobody',
            '--regid=nogroup',
            '--clear-groups',
            process.execPath,
            BIN,
            'export',
            String(runId),
            '--format',
            format,
            '--out',
            join(closed, TARGET[format]),
            '--db',
            workspace.database,
          ],
          { cwd: ROOT, encoding: 'utf8', env: { ...process.env, HOME: '/tmp', BASIS_LOG: 'warn' } },
        );
        expectOneClearError(
          { code: result.status, stderr: result.stderr },
          /permission denied in .*closed/,
        );
      }
      expect(readdirSync(closed)).toEqual([]);
      rmdirSync(closed);
    },
  );
});
