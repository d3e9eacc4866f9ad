/**
 * The central directory of a ZIP archive (with ZIP64), read by positioned reads and checked
 * against the file size. Enough to find .npz members; no writing, no encryption.
 */
import { inputError } from '../../shared/errors';
import type { RandomAccessFile } from './fileAccess';

export interface ZipMember {
  name: string;
  /** 0: stored, 8: deflated. */
  method: number;
  compressedBytes: number;
  uncompressedBytes: number;
  /** File offset of the member's (compressed) data. */
  dataOffset: number;
}

const END_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_END_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const U32_MAX = 0xffffffff;

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function u64(data: DataView, offset: number, what: string, fileName: string): number {
  const value = data.getBigUint64(offset, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw inputError(`${fileName}: the ZIP ${what} is impossibly large: the archive is damaged`);
  }
  return Number(value);
}

export async function readZipMembers(file: RandomAccessFile): Promise<ZipMember[]> {
  const name = file.name;
  const damaged = (what: string) =>
    inputError(`${name}: ${what}: the archive is truncated or damaged`);

  // The end record sits in the last 22 + 65535 (comment) bytes.
  const tailLength = Math.min(file.size, 22 + 65535);
  const tailStart = file.size - tailLength;
  const tail = await file.read(tailStart, tailLength, 'the ZIP end record');
  const tailView = view(tail);
  let endAt = -1;
  for (let i = tailLength - 22; i >= 0; i--) {
    if (tailView.getUint32(i, true) === END_SIGNATURE) {
      endAt = i;
      break;
    }
  }
  if (endAt < 0) throw damaged('no ZIP end-of-directory record found');

  let entryCount = tailView.getUint16(endAt + 10, true);
  let directoryBytes = tailView.getUint32(endAt + 12, true);
  let directoryOffset = tailView.getUint32(endAt + 16, true);
  if (entryCount === 0xffff || directoryBytes === U32_MAX || directoryOffset === U32_MAX) {
    const locatorAt = tailStart + endAt - 20;
    if (locatorAt < 0) throw damaged('a ZIP64 archive without its locator');
    const locator = view(await file.read(locatorAt, 20, 'the ZIP64 locator'));
    if (locator.getUint32(0, true) !== ZIP64_LOCATOR_SIGNATURE) {
      throw damaged('a ZIP64 archive without its locator');
    }
    const recordAt = u64(locator, 8, 'ZIP64 record offset', name);
    const record = view(await file.read(recordAt, 56, 'the ZIP64 end record'));
    if (record.getUint32(0, true) !== ZIP64_END_SIGNATURE) throw damaged('a bad ZIP64 end record');
    entryCount = u64(record, 32, 'entry count', name);
    directoryBytes = u64(record, 40, 'directory size', name);
    directoryOffset = u64(record, 48, 'directory offset', name);
  }
  if (directoryOffset + directoryBytes > file.size || entryCount * 46 > directoryBytes) {
    throw damaged(
      `the ZIP directory (${entryCount} entries, ${directoryBytes} bytes) does not fit`,
    );
  }

  const directory = await file.read(directoryOffset, directoryBytes, 'the ZIP directory');
  const data = view(directory);
  const members: ZipMember[] = [];
  let at = 0;
  for (let index = 0; index < entryCount; index++) {
    if (at + 46 > directoryBytes || data.getUint32(at, true) !== CENTRAL_SIGNATURE) {
      throw damaged(`ZIP directory entry ${index} is malformed`);
    }
    const method = data.getUint16(at + 10, true);
    let compressedBytes = data.getUint32(at + 20, true);
    let uncompressedBytes = data.getUint32(at + 24, true);
    const nameLength = data.getUint16(at + 28, true);
    const extraLength = data.getUint16(at + 30, true);
    const commentLength = data.getUint16(at + 32, true);
    let localOffset = data.getUint32(at + 42, true);
    const end = at + 46 + nameLength + extraLength + commentLength;
    if (end > directoryBytes) throw damaged(`ZIP directory entry ${index} runs past the directory`);
    const memberName = new TextDecoder().decode(directory.subarray(at + 46, at + 46 + nameLength));

    // ZIP64 extra field (id 1): the 64-bit values of the fields saturated above, in order.
    let extraAt = at + 46 + nameLength;
    const extraEnd = extraAt + extraLength;
    while (extraAt + 4 <= extraEnd) {
      const id = data.getUint16(extraAt, true);
      const size = data.getUint16(extraAt + 2, true);
      if (extraAt + 4 + size > extraEnd) break;
      if (id === 1) {
        let field = extraAt + 4;
        const next = (): number => {
          if (field + 8 > extraAt + 4 + size)
            throw damaged(`ZIP64 field of '${memberName}' is short`);
          const value = u64(data, field, 'member size', name);
          field += 8;
          return value;
        };
        if (uncompressedBytes === U32_MAX) uncompressedBytes = next();
        if (compressedBytes === U32_MAX) compressedBytes = next();
        if (localOffset === U32_MAX) localOffset = next();
      }
      extraAt += 4 + size;
    }

    // The local header repeats name and extra field with its own lengths.
    if (localOffset + 30 > file.size) throw damaged(`member '${memberName}' starts beyond the end`);
    const local = view(await file.read(localOffset, 30, `the local header of '${memberName}'`));
    if (local.getUint32(0, true) !== LOCAL_SIGNATURE) {
      throw damaged(`member '${memberName}' has no local header`);
    }
    const dataOffset = localOffset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
    if (dataOffset + compressedBytes > file.size) {
      throw damaged(
        `member '${memberName}' claims ${compressedBytes} bytes at offset ${dataOffset} of a ` +
          `${file.size}-byte file`,
      );
    }
    members.push({ name: memberName, method, compressedBytes, uncompressedBytes, dataOffset });
    at = end;
  }
  return members;
}
