/**
 * Hugging Face datasets folders (and single Arrow IPC files): one record per context window,
 * with a column holding a (context, d_in) array as a list of lists of floats (fixed-size or
 * variable lists of equal lengths), flattened to context rows of d_in per record.
 *
 * The file is not decoded as a table: its IPC messages are indexed once (metadata only, via
 * apache-arrow's flatbuffer decoder), and each record batch's float values buffer, which
 * holds that batch's rows contiguously, is read in place by positioned reads.
 */
import { promises as fs } from 'node:fs';
import { basename, join } from 'node:path';

import { Message, MessageHeader, Precision, Type, type DataType, type Field } from 'apache-arrow';
import { Footer } from 'apache-arrow/ipc/metadata/file';

import type { OpenOptions } from '../../shared/contract';
import { BasisError, inputError } from '../../shared/errors';
import { checkFooterMetadata, checkMessageMetadata } from './arrowMetadata';
import { elementType, type ElementType } from './elements';
import { RandomAccessFile } from './fileAccess';
import { MatrixSource } from './matrixSource';
import { ConcatenatedSource, naturalCompare } from './shards';
import type { ActivationSource } from './source';

const MAX_METADATA_BYTES = 100_000_000;
const CONTINUATION = 0xffffffff;

/** A record batch's metadata, as checked plain numbers. */
interface BatchHeader {
  length: number;
  nodes: { length: number; nullCount: number }[];
  buffers: { offset: number; length: number }[];
  compressed: boolean;
}

interface BatchLocation {
  /** File offset of the message body. */
  bodyOffset: number;
  bodyLength: number;
  header: BatchHeader;
}

interface DecodedMessage {
  bodyLength: number;
  fields?: Field[];
  batch?: BatchHeader;
}

/** A count or offset from the metadata; refused unless a non-negative safe integer. */
function checkedNumber(value: unknown, what: string): number {
  const number = typeof value === 'bigint' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0) {
    throw new Error(`${what} ${String(value)} is out of range`);
  }
  return number;
}

/** Decodes one message's metadata; throws on anything damaged. */
function decodeMessage(metadata: Uint8Array): DecodedMessage {
  checkMessageMetadata(metadata);
  const message = Message.decode(metadata);
  const bodyLength = checkedNumber(message.bodyLength, 'body length');
  if (message.headerType === MessageHeader.Schema) {
    return { bodyLength, fields: (message.header() as unknown as { fields: Field[] }).fields };
  }
  if (message.headerType !== MessageHeader.RecordBatch) return { bodyLength };
  const batch = message.header() as unknown as {
    length: unknown;
    nodes: { length: unknown; nullCount: unknown }[];
    buffers: { offset: unknown; length: unknown }[];
    compression: unknown;
  };
  return {
    bodyLength,
    batch: {
      length: checkedNumber(batch.length, 'record count'),
      nodes: batch.nodes.map((node) => ({
        length: checkedNumber(node.length, 'node length'),
        nullCount: checkedNumber(node.nullCount, 'null count'),
      })),
      buffers: batch.buffers.map((buffer) => ({
        offset: checkedNumber(buffer.offset, 'buffer offset'),
        length: checkedNumber(buffer.length, 'buffer length'),
      })),
      compressed: Boolean(batch.compression),
    },
  };
}

interface IndexedFile {
  file: RandomAccessFile;
  fields: Field[];
  batches: BatchLocation[];
}

/** Reads the schema and the record batch locations of an Arrow IPC stream or file. */
async function indexArrowFile(file: RandomAccessFile): Promise<IndexedFile> {
  const name = file.name;
  const damaged = (what: string) =>
    inputError(`${name}: ${what}: the Arrow file is truncated or damaged`);
  let position = 0;
  let end = file.size;
  let fields: Field[] | undefined;
  // The file format wraps a stream in magic bytes and ends with a footer holding the schema.
  if (file.size >= 8) {
    const magic = await file.read(0, 6, 'the Arrow magic');
    if (new TextDecoder().decode(magic) === 'ARROW1') {
      if (file.size < 18) throw damaged('the file is too short for its footer');
      const tail = await file.read(file.size - 10, 10, 'the Arrow footer length');
      const footerLength = new DataView(tail.buffer).getInt32(0, true);
      end = file.size - 10 - footerLength;
      if (footerLength <= 0 || footerLength > MAX_METADATA_BYTES || end < 8) {
        throw damaged(`the footer claims ${footerLength} bytes`);
      }
      try {
        const footerBytes = await file.read(end, footerLength, 'the Arrow footer');
        checkFooterMetadata(footerBytes);
        const footer = Footer.decode(footerBytes);
        fields = footer.schema.fields;
      } catch (error) {
        if (error instanceof BasisError) throw error;
        throw damaged(`the footer does not decode (${(error as Error).message})`);
      }
      position = 8;
    }
  }
  const batches: BatchLocation[] = [];
  while (position + 4 <= end) {
    const prefix = await file.read(position, Math.min(8, end - position), 'a message length');
    const view = new DataView(prefix.buffer);
    let prefixBytes = 4;
    let metadataLength = view.getUint32(0, true);
    if (metadataLength === CONTINUATION) {
      if (prefix.length < 8) throw damaged('a message is cut short');
      metadataLength = view.getUint32(4, true);
      prefixBytes = 8;
    }
    if (metadataLength === 0) break;
    if (metadataLength > MAX_METADATA_BYTES || position + prefixBytes + metadataLength > end) {
      throw damaged(`a message at byte ${position} claims ${metadataLength} bytes of metadata`);
    }
    const metadata = await file.read(position + prefixBytes, metadataLength, 'message metadata');
    // apache-arrow's decoder throws plain errors (and RangeErrors) on damaged flatbuffers.
    let decoded: DecodedMessage;
    try {
      decoded = decodeMessage(metadata);
    } catch (error) {
      throw damaged(
        `the message at byte ${position} does not decode (${(error as Error).message})`,
      );
    }
    const bodyOffset = position + prefixBytes + metadataLength;
    const { bodyLength } = decoded;
    if (bodyOffset + bodyLength > end) {
      throw damaged(`the message at byte ${position} claims a ${bodyLength}-byte body`);
    }
    if (decoded.fields) fields ??= decoded.fields;
    if (decoded.batch) batches.push({ bodyOffset, bodyLength, header: decoded.batch });
    position = bodyOffset + bodyLength;
  }
  if (!fields) throw damaged('no schema found');
  return { file, fields, batches };
}

/** Buffers each node of a type occupies in a record batch, children not included. */
function ownBufferCount(type: DataType, where: string): number {
  switch (type.typeId) {
    case Type.Null:
      return 0;
    case Type.Int:
    case Type.Float:
    case Type.Bool:
    case Type.Decimal:
    case Type.Date:
    case Type.Time:
    case Type.Timestamp:
    case Type.Interval:
    case Type.FixedSizeBinary:
    case Type.Duration:
    case Type.Dictionary:
      return 2;
    case Type.Binary:
    case Type.Utf8:
    case Type.LargeBinary:
    case Type.LargeUtf8:
      return 3;
    case Type.List:
    case Type.Map:
    case Type.LargeList:
      return 2;
    case Type.FixedSizeList:
    case Type.Struct:
      return 1;
    default:
      throw inputError(
        `${where}: column type ${String(type)} is not supported by the Arrow reader`,
      );
  }
}

/** Nodes and buffers a field occupies, its descendants included (depth first). */
function footprint(field: Field, where: string): { nodes: number; buffers: number } {
  if (!field?.type)
    throw inputError(`${where}: the Arrow schema is damaged (a field without a type)`);
  let nodes = 1;
  let buffers = ownBufferCount(field.type, where);
  if (field.type.typeId !== Type.Dictionary) {
    for (const child of (field.type.children ?? []) as Field[]) {
      const inner = footprint(child, where);
      nodes += inner.nodes;
      buffers += inner.buffers;
    }
  }
  return { nodes, buffers };
}

const isList = (type: DataType) => type.typeId === Type.List || type.typeId === Type.FixedSizeList;

function floatElement(type: DataType): ElementType | undefined {
  if (type.typeId !== Type.Float) return undefined;
  const precision = (type as unknown as { precision: Precision }).precision;
  return precision === Precision.HALF
    ? elementType('f16')
    : precision === Precision.SINGLE
      ? elementType('f32')
      : elementType('f64');
}

/** The list levels of an activations column: [outer list, inner list?] and the float type. */
function columnLevels(field: Field): { levels: DataType[]; element: ElementType } | undefined {
  const levels: DataType[] = [];
  let type: DataType = field.type;
  while (isList(type) && levels.length < 2) {
    const child = type.children?.[0] as Field | undefined;
    if (!child) return undefined;
    levels.push(type);
    type = child.type;
  }
  const element = floatElement(type);
  return levels.length > 0 && element ? { levels, element } : undefined;
}

function chooseColumn(fields: Field[], requested: string | undefined, where: string): Field {
  if (!fields.every((field) => field?.type)) {
    throw inputError(`${where}: the Arrow schema is damaged (a field without a type)`);
  }
  const describe = () => fields.map((field) => `${field.name} (${String(field.type)})`).join(', ');
  if (requested !== undefined) {
    const found = fields.find((field) => field.name === requested);
    if (!found)
      throw inputError(`${where}: no column named '${requested}'; it holds ${describe()}`);
    if (!columnLevels(found)) {
      throw inputError(`${where}: column '${requested}' is not a list of float arrays`);
    }
    return found;
  }
  const candidates = fields.filter((field) => columnLevels(field));
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length === 0) {
    throw inputError(`${where}: no column holds float arrays; it holds ${describe()}`);
  }
  throw inputError(
    `${where}: several columns hold float arrays ` +
      `(${candidates.map((field) => field.name).join(', ')}); choose one with the tensor option ` +
      `(--tensor NAME)`,
  );
}

/** Checks a list level's int32 offsets are evenly spaced; returns (first offset, step). */
async function regularOffsets(
  file: RandomAccessFile,
  offset: number,
  length: number,
  where: string,
): Promise<{ first: number; step: number }> {
  const bytes = await file.read(offset, 4 * (length + 1), 'list offsets');
  const offsets = new Int32Array(bytes.buffer, 0, length + 1);
  const first = offsets[0]!;
  const step = length > 0 ? offsets[1]! - first : 0;
  for (let i = 0; i <= length; i++) {
    if (offsets[i] !== first + i * step) {
      throw inputError(
        `${where}: the arrays in the column have different lengths; Basis needs one (context, ` +
          `d_in) shape for every record`,
      );
    }
  }
  return { first, step };
}

interface BatchMatrix {
  source: MatrixSource;
  records: number;
  context: number;
}

/** A record batch's column as a matrix in place. */
async function batchMatrix(
  indexed: IndexedFile,
  batch: BatchLocation,
  field: Field,
  levels: { levels: DataType[]; element: ElementType },
  where: string,
): Promise<BatchMatrix> {
  const header = batch.header;
  if (header.compressed) {
    throw inputError(
      `${where}: the Arrow data is compressed; save the dataset without compression`,
    );
  }
  let nodeIndex = 0;
  let bufferIndex = 0;
  for (const other of indexed.fields) {
    if (other === field) break;
    const size = footprint(other, where);
    nodeIndex += size.nodes;
    bufferIndex += size.buffers;
  }
  const records = header.length;
  const bufferAt = (index: number) => {
    const region = header.buffers[index];
    if (!region)
      throw inputError(`${where}: a record batch lacks the column's buffers: it is damaged`);
    const offset = region.offset;
    const length = region.length;
    if (offset < 0 || offset + length > batch.bodyLength) {
      throw inputError(`${where}: a buffer lies outside its record batch: the file is damaged`);
    }
    return { offset: batch.bodyOffset + offset, length };
  };

  // Walk the list levels: each has a node, a validity buffer and (variable lists) offsets.
  let count = records;
  let start = 0;
  const extents: number[] = [];
  for (const level of levels.levels) {
    const node = header.nodes[nodeIndex];
    if (!node || node.nullCount !== 0) {
      throw inputError(
        `${where}: the column holds missing values (nulls); Basis needs every array`,
      );
    }
    if (level.typeId === Type.FixedSizeList) {
      const size = (level as unknown as { listSize: number }).listSize;
      extents.push(size);
      start *= size;
      bufferIndex += 1;
    } else {
      const offsets = bufferAt(bufferIndex + 1);
      if (offsets.length < 4 * (start + count + 1)) {
        throw inputError(`${where}: list offsets run past their buffer: the file is damaged`);
      }
      const regular = await regularOffsets(indexed.file, offsets.offset + 4 * start, count, where);
      extents.push(regular.step);
      start = regular.first;
      bufferIndex += 2;
    }
    count *= extents[extents.length - 1]!;
    nodeIndex++;
  }
  const valuesNode = header.nodes[nodeIndex];
  if (!valuesNode || valuesNode.nullCount !== 0) {
    throw inputError(`${where}: the column holds missing values (nulls); Basis needs every value`);
  }
  const values = bufferAt(bufferIndex + 1);
  const bytes = levels.element.bytes;
  if ((start + count) * bytes > values.length) {
    throw inputError(
      `${where}: a record batch holds fewer values than its arrays need: it is damaged`,
    );
  }
  if (extents.some((extent) => extent <= 0)) {
    throw inputError(`${where}: the column holds empty arrays; there is nothing to analyse`);
  }
  const columns = extents[extents.length - 1]!;
  const context = extents.length === 2 ? extents[0]! : 1;
  const rows = records * context;
  return {
    records,
    context,
    source: new MatrixSource(
      indexed.file,
      {
        dataOffset: values.offset + start * bytes,
        type: levels.element,
        rows,
        columns,
        order: 'C',
      },
      { format: 'arrow', tensor: field.name, dtype: levels.element.name, shape: [rows, columns] },
    ),
  };
}

/** The .arrow files of a datasets folder, in the order state.json lists them. */
async function arrowFiles(folder: string): Promise<string[]> {
  try {
    const state = JSON.parse(await fs.readFile(join(folder, 'state.json'), 'utf8')) as {
      _data_files?: { filename?: unknown }[];
    };
    const listed = (state._data_files ?? [])
      .map((entry) => entry.filename)
      .filter((name): name is string => typeof name === 'string' && !name.includes('/'));
    if (listed.length > 0) return listed.map((name) => join(folder, name));
  } catch {
    // No usable state.json: fall back to the .arrow files in name order.
  }
  const names = (await fs.readdir(folder)).filter((name) => name.endsWith('.arrow'));
  names.sort(naturalCompare);
  return names.map((name) => join(folder, name));
}

/** Opens a Hugging Face datasets folder or a single .arrow file. */
export async function openArrowDataset(
  path: string,
  options: OpenOptions = {},
): Promise<ActivationSource> {
  const isFolder = (await fs.stat(path)).isDirectory();
  const paths = isFolder ? await arrowFiles(path) : [path];
  if (paths.length === 0) throw inputError(`${path}: the datasets folder holds no .arrow files`);

  const files: RandomAccessFile[] = [];
  const parts: MatrixSource[] = [];
  try {
    let chosen: { name: string; columns: number; context: number; dtype: string } | undefined;
    let records = 0;
    for (const filePath of paths) {
      const file = await RandomAccessFile.open(filePath);
      files.push(file);
      const indexed = await indexArrowFile(file);
      const field = chooseColumn(indexed.fields, options.tensor ?? chosen?.name, file.name);
      const levels = columnLevels(field)!;
      for (const batch of indexed.batches) {
        const matrix = await batchMatrix(indexed, batch, field, levels, file.name);
        if (matrix.records === 0) continue;
        const { columns, dtype } = matrix.source.description;
        chosen ??= { name: field.name, columns, context: matrix.context, dtype };
        if (
          columns !== chosen.columns ||
          matrix.context !== chosen.context ||
          dtype !== chosen.dtype
        ) {
          throw inputError(
            `${file.name}: column '${field.name}' holds (${matrix.context}, ${columns}) ` +
              `${dtype} arrays here but (${chosen.context}, ${chosen.columns}) ${chosen.dtype} ` +
              `earlier; every record needs the same shape`,
          );
        }
        records += matrix.records;
        parts.push(matrix.source);
      }
    }
    if (!chosen || parts.length === 0)
      throw inputError(`${basename(path)}: the dataset holds no records`);
    // Files without records serve no part; the parts close the others.
    await Promise.all(
      files
        .filter((file) => !parts.some((part) => part.description.path === file.path))
        .map((file) => file.close()),
    );
    return new ConcatenatedSource(parts, {
      path,
      format: 'arrow',
      tensor: chosen.name,
      dtype: chosen.dtype,
      shape:
        chosen.context > 1 ? [records, chosen.context, chosen.columns] : [records, chosen.columns],
      columns: chosen.columns,
    });
  } catch (error) {
    await Promise.all(files.map((file) => file.close()));
    // Damaged metadata can make apache-arrow's decoded objects inconsistent in ways its
    // decoder does not check; at this boundary that is bad input, not a Basis bug.
    if (error instanceof TypeError || error instanceof RangeError) {
      throw inputError(`${basename(path)}: the Arrow metadata is damaged (${error.message})`);
    }
    throw error;
  }
}
