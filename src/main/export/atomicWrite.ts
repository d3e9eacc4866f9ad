/**
 * Atomic writes for exports: a file is written under a temporary name in its target folder,
 * synced and then linked into place; a folder is built under a temporary name beside its
 * target and renamed. A reader never sees a half-written export, a failure leaves nothing
 * behind, and an existing target is never replaced.
 */
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BasisError, inputError } from '../../shared/errors';

export type FileContent = Uint8Array | string | readonly Uint8Array[];

/** Writes `content` to a new file at `path`; refuses when `path` exists. */
export async function writeFileAtomic(path: string, content: FileContent): Promise<void> {
  await refuseExisting(path);
  const temporary = temporaryName(path);
  try {
    await writeSynced(temporary, content);
    await linkIntoPlace(temporary, path);
  } catch (error) {
    throw explain(error, path);
  } finally {
    await fs.rm(temporary, { force: true });
  }
}

/** Writes `content` to `path` atomically, replacing a file that is there (outputs Basis owns). */
export async function replaceFileAtomic(path: string, content: FileContent): Promise<void> {
  const temporary = temporaryName(path);
  try {
    await writeSynced(temporary, content);
    await fs.rename(temporary, path);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw explain(error, path);
  }
}

/**
 * Puts a finished temporary file in place without replacing anything: link() fails with
 * EEXIST on a file that appeared meanwhile. File systems without hard links (FAT, exFAT,
 * some network shares) refuse link(); there the existence check and a rename do it, with a
 * small window in which a file created by another program could be replaced.
 */
async function linkIntoPlace(temporary: string, path: string): Promise<void> {
  try {
    await fs.link(temporary, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') {
      throw error;
    }
    await refuseExisting(path);
    await fs.rename(temporary, path);
  }
}

/** Writes a new folder at `path` holding `files` (name -> content); refuses when it exists. */
export async function writeFolderAtomic(
  path: string,
  files: Record<string, FileContent>,
): Promise<void> {
  await refuseExisting(path);
  const temporary = temporaryName(path);
  try {
    await fs.mkdir(temporary);
    for (const [name, content] of Object.entries(files)) {
      await writeSynced(join(temporary, name), content);
    }
    await syncFolder(temporary);
    await refuseExisting(path);
    await fs.rename(temporary, path);
    await syncFolder(dirname(path));
  } catch (error) {
    await fs.rm(temporary, { recursive: true, force: true });
    throw explain(error, path);
  }
}

async function writeSynced(path: string, content: FileContent): Promise<void> {
  const parts =
    typeof content === 'string'
      ? [Buffer.from(content, 'utf8')]
      : content instanceof Uint8Array
        ? [content]
        : content;
  const handle = await fs.open(path, 'wx');
  try {
    for (const part of parts) {
      let written = 0;
      while (written < part.byteLength) {
        const { bytesWritten } = await handle.write(part, written, part.byteLength - written);
        written += bytesWritten;
      }
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncFolder(path: string): Promise<void> {
  // Makes the rename durable; some file systems refuse to sync folders, which is harmless.
  try {
    const handle = await fs.open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Not every platform can open a folder for syncing.
  }
}

function temporaryName(path: string): string {
  const random = Math.floor(Math.random() * 0x100000000).toString(16);
  return join(dirname(path), `.${basename(path)}.${process.pid}.${random}.partial`);
}

async function refuseExisting(path: string): Promise<void> {
  try {
    await fs.lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw explain(error, path);
  }
  throw existsError(path);
}

function existsError(path: string): BasisError {
  return inputError(
    `${path} exists already: choose another path (for example ${suggestion(path)}) or delete ` +
      `it first`,
  );
}

function suggestion(path: string): string {
  const name = basename(path);
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const extension = dot > 0 ? name.slice(dot) : '';
  return join(dirname(path), `${stem}-2${extension}`);
}

/** Turns an operating-system error into a message that says what happened and what to do. */
export function explain(error: unknown, path: string): Error {
  if (error instanceof BasisError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const folder = dirname(path);
  switch (code) {
    case 'EEXIST':
    case 'ENOTEMPTY':
      return existsError(path);
    case 'ENOENT':
      return new BasisError(
        'io',
        `cannot write ${path}: the folder ${folder} does not exist; create it or choose ` +
          `another folder`,
      );
    case 'EACCES':
    case 'EPERM':
      return new BasisError(
        'io',
        `cannot write ${path}: permission denied in ${folder}; choose a folder you can write to`,
      );
    case 'EROFS':
      return new BasisError(
        'io',
        `cannot write ${path}: ${folder} is on a read-only file system; choose another folder`,
      );
    case 'ENOSPC':
    case 'EDQUOT':
      return new BasisError(
        'io',
        `cannot write ${path}: the disk is full (or over quota); free some space or choose a ` +
          `folder on another disk`,
      );
    case 'ENOTDIR':
      return new BasisError(
        'io',
        `cannot write ${path}: part of the path is a file, not a folder; choose another path`,
      );
    default:
      return error instanceof Error ? error : new Error(String(error));
  }
}
