/**
 * Positioned reads from a file whose size is known up front. Every read is checked against
 * the file size before a byte is allocated, so a hostile header can never make Basis
 * allocate more than the file holds. All buffers the readers allocate go through
 * `allocateBytes`, which records the largest request (the fuzz test checks it).
 */
import { constants as fsConstants, fstatSync, promises as fs, readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';

import { inputError } from '../../shared/errors';

/** Largest single positioned read: Node refuses reads over 2 GiB. */
const MAX_READ_BYTES = 1 << 30;

/** The largest buffer requested through `allocateBytes` since the last reset, in bytes. */
export const allocationProbe = {
  largestBytes: 0,
  reset(): void {
    this.largestBytes = 0;
  },
};

/** Allocates a zero-offset byte array (aligned for any typed view) and records its size. */
export function allocateBytes(bytes: number): Uint8Array {
  if (bytes > allocationProbe.largestBytes) allocationProbe.largestBytes = bytes;
  return new Uint8Array(new ArrayBuffer(bytes));
}

/** Formats a byte count for messages: "11.3 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} bytes`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Opens a file for reading; a missing path is an input error that names it. */
export async function openFileHandle(path: string): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    // Non-blocking, so that a named pipe is refused below instead of waiting for a writer;
    // the flag changes nothing for regular files (and Windows has none).
    handle = await fs.open(path, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT') throw inputError(`${path}: no such file or folder; check the path`);
    if (code === 'EACCES' || code === 'EPERM') {
      throw inputError(`${path}: permission denied; check the file's permissions`);
    }
    throw error;
  }
  const stats = await handle.stat();
  if (!stats.isFile()) {
    await handle.close();
    throw inputError(`${path}: not a regular file`);
  }
  return { handle, size: stats.size };
}

export class RandomAccessFile {
  readonly path: string;
  /** The file name, used in messages. */
  readonly name: string;
  readonly size: number;
  private readonly handle: FileHandle;
  private closed = false;

  private constructor(path: string, handle: FileHandle, size: number) {
    this.path = path;
    this.name = basename(path);
    this.handle = handle;
    this.size = size;
  }

  /** The file descriptor, for positioned reads on other threads while the file is open. */
  get descriptor(): number {
    return this.handle.fd;
  }

  static async open(path: string): Promise<RandomAccessFile> {
    const { handle, size } = await openFileHandle(path);
    return new RandomAccessFile(path, handle, size);
  }

  /** Reads exactly `length` bytes at `offset` into a new buffer; `what` names them in errors. */
  async read(offset: number, length: number, what: string): Promise<Uint8Array> {
    this.checkRange(offset, length, what);
    const bytes = allocateBytes(length);
    await this.readInto(bytes, offset);
    return bytes;
  }

  /** Fills `target` completely from `offset`; the range must lie inside the file. */
  async readInto(target: Uint8Array, offset: number): Promise<void> {
    this.checkRange(offset, target.byteLength, 'data');
    let done = 0;
    while (done < target.byteLength) {
      const length = Math.min(MAX_READ_BYTES, target.byteLength - done);
      const { bytesRead } = await this.handle.read(target, done, length, offset + done);
      if (bytesRead === 0) throw this.shrunk(offset + done, (await this.handle.stat()).size);
      done += bytesRead;
    }
  }

  /** As readInto, blocking this thread: for callers that keep other threads busy meanwhile. */
  readIntoSync(target: Uint8Array, offset: number): void {
    this.checkRange(offset, target.byteLength, 'data');
    let done = 0;
    while (done < target.byteLength) {
      const length = Math.min(MAX_READ_BYTES, target.byteLength - done);
      const bytesRead = readSync(this.handle.fd, target, done, length, offset + done);
      if (bytesRead === 0) throw this.shrunk(offset + done, fstatSync(this.handle.fd).size);
      done += bytesRead;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }

  /** The error for a read that found no bytes at `byte`: the file is now `size` long. */
  private shrunk(byte: number, size: number): Error {
    return inputError(
      `${this.name}: the file now ends at byte ${size}, before byte ${byte} being read (it ` +
        `held ${this.size} bytes when opened); it was truncated or is being written`,
    );
  }

  private checkRange(offset: number, length: number, what: string): void {
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset + length > this.size
    ) {
      throw inputError(
        `${this.name}: ${what} at bytes ${offset}..${offset + length} lies beyond the end of ` +
          `the file (${this.size} bytes): the file is truncated or damaged`,
      );
    }
  }
}
