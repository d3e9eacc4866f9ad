/**
 * .npz reader: a ZIP of .npy members. Stored members (numpy.savez) are read in place by
 * offset. Deflated members (numpy.savez_compressed) cannot be read at an offset, so the
 * header is inflated on open and, on the first row read, the member is streamed once through
 * node:zlib inflateRaw into a temporary .npy file next to the system's temp folder, read in
 * place from then on and deleted on close. Memory stays bounded by the stream's chunks.
 */
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { createInflateRaw } from 'node:zlib';

import type { OpenOptions } from '../../shared/contract';
import { inputError } from '../../shared/errors';
import { allocateBytes, formatBytes, RandomAccessFile } from './fileAccess';
import { MatrixSource, rowsAndColumns } from './matrixSource';
import { openNpyAt, readNpyHeader, MAX_NPY_HEADER_BYTES } from './npy';
import type { ActivationSource, SourceDescription } from './source';
import { readZipMembers, type ZipMember } from './zip';

function memberLabel(member: ZipMember): string {
  return member.name.replace(/\.npy$/, '');
}

function chooseMember(members: ZipMember[], requested: string | undefined, fileName: string) {
  const arrays = members.filter((member) => member.name.endsWith('.npy'));
  const listing = arrays.map((member) => memberLabel(member)).join(', ');
  if (requested !== undefined) {
    const found = arrays.find(
      (member) => member.name === requested || memberLabel(member) === requested,
    );
    if (!found) {
      throw inputError(
        `${fileName}: no member named '${requested}'; it holds ${listing || 'none'}`,
      );
    }
    return found;
  }
  if (arrays.length === 1) return arrays[0]!;
  if (arrays.length === 0) throw inputError(`${fileName}: the archive holds no .npy arrays`);
  throw inputError(
    `${fileName}: holds several arrays (${listing}); choose one with the member option ` +
      `(--member NAME)`,
  );
}

export async function openNpz(path: string, options: OpenOptions = {}): Promise<ActivationSource> {
  const file = await RandomAccessFile.open(path);
  try {
    const members = await readZipMembers(file);
    const member = chooseMember(members, options.member, file.name);
    const name = `${file.name}:${memberLabel(member)}`;
    const description = { format: 'npz' as const, tensor: memberLabel(member) };
    if (member.method === 0) {
      return await openNpyAt(
        file,
        member.dataOffset,
        member.compressedBytes,
        name,
        options,
        description,
      );
    }
    if (member.method !== 8) {
      throw inputError(
        `${name}: compression method ${member.method} is not supported (stored and deflated ` +
          `are); re-save with numpy.savez`,
      );
    }
    return await DeflatedMemberSource.open(file, member, name, options, description);
  } catch (error) {
    await file.close();
    throw error;
  }
}

/** Fails a stream that yields more bytes than the member declares (a zip bomb or damage). */
function byteLimit(limit: number, name: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > limit) {
        callback(
          inputError(
            `${name}: inflates to more than the ${limit} bytes its header declares: the ` +
              `archive is damaged`,
          ),
        );
      } else {
        callback(null, chunk);
      }
    },
  });
}

/** Inflates the first `length` bytes of a deflated member. */
async function inflatePrefix(
  file: RandomAccessFile,
  member: ZipMember,
  length: number,
  name: string,
): Promise<Uint8Array> {
  const wanted = Math.min(length, member.uncompressedBytes);
  const chunks: Buffer[] = [];
  let collected = 0;
  if (member.compressedBytes === 0) return new Uint8Array(0);
  const input = createReadStream(file.path, {
    start: member.dataOffset,
    end: member.dataOffset + member.compressedBytes - 1,
  });
  const inflater = createInflateRaw();
  try {
    await new Promise<void>((resolve, reject) => {
      const finish = () => {
        input.destroy();
        inflater.destroy();
        resolve();
      };
      inflater.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        collected += chunk.length;
        if (collected >= wanted) finish();
      });
      inflater.on('end', finish);
      inflater.on('error', (error) =>
        reject(inputError(`${name}: the compressed data is damaged (${error.message})`)),
      );
      input.on('error', reject);
      input.pipe(inflater);
    });
  } finally {
    input.destroy();
    inflater.destroy();
  }
  const joined = Buffer.concat(chunks).subarray(0, wanted);
  const bytes = allocateBytes(joined.length);
  bytes.set(joined);
  return bytes;
}

class DeflatedMemberSource implements ActivationSource {
  readonly description: SourceDescription;
  private inner: Promise<MatrixSource> | undefined;
  private temporaryFolder: string | undefined;

  private constructor(
    private readonly file: RandomAccessFile,
    private readonly member: ZipMember,
    private readonly name: string,
    private readonly options: OpenOptions,
    description: SourceDescription,
  ) {
    this.description = description;
  }

  static async open(
    file: RandomAccessFile,
    member: ZipMember,
    name: string,
    options: OpenOptions,
    base: { format: 'npz'; tensor: string },
  ): Promise<DeflatedMemberSource> {
    const prefixLength = Math.min(member.uncompressedBytes, 12 + MAX_NPY_HEADER_BYTES);
    // Read the preamble first, then exactly the header it announces.
    const preamble = await inflatePrefix(file, member, 12, name);
    const preambleView = new DataView(preamble.buffer, preamble.byteOffset, preamble.byteLength);
    const announced =
      preamble.length < 12
        ? 12
        : preamble[6] === 1
          ? preambleView.getUint16(8, true) + 10
          : preambleView.getUint32(8, true) + 12;
    const prefix = await inflatePrefix(file, member, Math.min(prefixLength, announced), name);
    const read = async (offset: number, length: number, what: string) => {
      if (offset + length > prefix.length) {
        throw inputError(`${name}: ${what} runs past the end of the member: it is truncated`);
      }
      return prefix.subarray(offset, offset + length);
    };
    const header = await readNpyHeader(read, member.uncompressedBytes, name, options);
    if (header.fortranOrder && header.shape.length > 1) {
      throw inputError(
        `${name}: a compressed Fortran-order array is not supported; re-save it with ` +
          `numpy.savez(path, numpy.ascontiguousarray(array))`,
      );
    }
    const { rows, columns } = rowsAndColumns(header.shape, name);
    const dataBytes = rows * columns * header.type.bytes;
    if (header.dataOffset + dataBytes > member.uncompressedBytes) {
      throw inputError(
        `${name}: header says ${header.shape.join(' x ')} ${header.type.name} ` +
          `(${formatBytes(dataBytes)} of data) but the member holds ` +
          `${formatBytes(member.uncompressedBytes - header.dataOffset)} after the header: the ` +
          `archive is truncated`,
      );
    }
    return new DeflatedMemberSource(file, member, name, options, {
      path: file.path,
      format: 'npz',
      tensor: base.tensor,
      dtype: header.type.name,
      shape: header.shape,
      rows,
      columns,
      dataBytes,
    });
  }

  async readRows(firstRow: number, rowCount: number, target?: Float32Array): Promise<Float32Array> {
    this.inner ??= this.inflateToTemporaryFile();
    return (await this.inner).readRows(firstRow, rowCount, target);
  }

  async close(): Promise<void> {
    const inner = this.inner;
    this.inner = undefined;
    if (inner) await (await inner.catch(() => undefined))?.close();
    await this.file.close();
    if (this.temporaryFolder) await fs.rm(this.temporaryFolder, { recursive: true, force: true });
  }

  private async inflateToTemporaryFile(): Promise<MatrixSource> {
    const needed = this.member.uncompressedBytes;
    const free = await fs.statfs(tmpdir()).then((stats) => stats.bavail * stats.bsize);
    if (free < needed * 1.1) {
      throw inputError(
        `${this.name}: reading a compressed member needs ${formatBytes(needed)} of temporary ` +
          `space but ${tmpdir()} has ${formatBytes(free)} free; extract it once with numpy ` +
          `(numpy.save('x.npy', numpy.load(path)['${this.description.tensor}'])) and open the ` +
          `.npy`,
      );
    }
    this.temporaryFolder = await fs.mkdtemp(join(tmpdir(), 'basis-npz-'));
    const target = join(this.temporaryFolder, 'member.npy');
    try {
      await pipeline(
        createReadStream(this.file.path, {
          start: this.member.dataOffset,
          end: this.member.dataOffset + this.member.compressedBytes - 1,
        }),
        createInflateRaw(),
        byteLimit(needed, this.name),
        createWriteStream(target),
      );
    } catch (error) {
      if (error instanceof Error && !('kind' in error)) {
        throw inputError(`${this.name}: the compressed data is damaged (${error.message})`);
      }
      throw error;
    }
    const inflated = await RandomAccessFile.open(target);
    try {
      if (inflated.size !== needed) {
        throw inputError(
          `${this.name}: inflated to ${inflated.size} bytes but the archive declares ` +
            `${needed}: it is damaged`,
        );
      }
      const source = await openNpyAt(inflated, 0, inflated.size, this.name, this.options, {
        format: 'npz',
        tensor: this.description.tensor,
      });
      return source;
    } catch (error) {
      await inflated.close();
      throw error;
    }
  }
}
