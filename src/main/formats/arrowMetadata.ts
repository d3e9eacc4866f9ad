/**
 * Bounds checks for Arrow IPC flatbuffer metadata before apache-arrow decodes it. The
 * decoder trusts vector lengths, so a damaged length (up to 2^32) makes it loop and allocate
 * without bound. Here every table, vector and string the decoder will visit is checked to lie
 * inside the metadata bytes; the decoder then does work proportional to the bytes given.
 * Layout: https://arrow.apache.org/docs/format/Columnar.html (Message.fbs, Schema.fbs,
 * File.fbs); flatbuffers tables hold a signed offset to a vtable of u16 field offsets.
 */

/** Nesting deeper than this is not a real Arrow schema. */
const MAX_DEPTH = 64;

class FlatbufferReader {
  private readonly view: DataView;
  /** Tables visited so far: shared references must not multiply the decoder's work. */
  private visits = 0;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private check(position: number, length: number): void {
    if (!Number.isInteger(position) || position < 0 || position + length > this.bytes.length) {
      throw new Error(
        `metadata reference ${position}+${length} lies outside ${this.bytes.length} bytes`,
      );
    }
  }

  u8(position: number): number {
    this.check(position, 1);
    return this.view.getUint8(position);
  }

  u16(position: number): number {
    this.check(position, 2);
    return this.view.getUint16(position, true);
  }

  u32(position: number): number {
    this.check(position, 4);
    return this.view.getUint32(position, true);
  }

  /** The table referenced by the u32 offset at `position`. */
  table(position: number): number {
    if (++this.visits > this.bytes.length) throw new Error('metadata references repeat');
    const table = position + this.u32(position);
    const vtable = table - this.view.getInt32(this.checked(table, 4), true);
    const vtableSize = this.u16(vtable);
    this.check(vtable, vtableSize);
    return table;
  }

  /** Absolute position of field `index` of a table, or undefined when absent. */
  field(table: number, index: number): number | undefined {
    const vtable = table - this.view.getInt32(table, true);
    const vtableSize = this.u16(vtable);
    const slot = 4 + 2 * index;
    if (slot + 2 > vtableSize) return undefined;
    const offset = this.u16(vtable + slot);
    if (offset === 0) return undefined;
    this.check(table + offset, 1);
    return table + offset;
  }

  /** Start and length of the vector referenced at `position`, checked to fit. */
  vector(position: number, elementBytes: number): { start: number; length: number } {
    const vector = position + this.u32(position);
    const length = this.u32(vector);
    this.check(vector + 4, length * elementBytes);
    return { start: vector + 4, length };
  }

  private checked(position: number, length: number): number {
    this.check(position, length);
    return position;
  }
}

function checkString(reader: FlatbufferReader, position: number | undefined): void {
  if (position !== undefined) reader.vector(position, 1);
}

/** A vector of tables: each element is a u32 offset to a table, checked by `visit`. */
function checkTables(
  reader: FlatbufferReader,
  position: number | undefined,
  visit: (table: number) => void,
): void {
  if (position === undefined) return;
  const { start, length } = reader.vector(position, 4);
  for (let i = 0; i < length; i++) visit(reader.table(start + 4 * i));
}

function checkKeyValues(reader: FlatbufferReader, position: number | undefined): void {
  checkTables(reader, position, (keyValue) => {
    checkString(reader, reader.field(keyValue, 0));
    checkString(reader, reader.field(keyValue, 1));
  });
}

function checkField(reader: FlatbufferReader, field: number, depth: number): void {
  if (depth > MAX_DEPTH) throw new Error('schema nesting is too deep');
  checkString(reader, reader.field(field, 0));
  const type = reader.field(field, 3);
  if (type !== undefined) {
    const typeTable = reader.table(type);
    // Union types carry a vector of type ids (field 1 of the Union table).
    const typeIds = reader.field(typeTable, 1);
    const typeType = reader.field(field, 2);
    if (typeIds !== undefined && typeType !== undefined && reader.u8(typeType) === UNION_TYPE) {
      reader.vector(typeIds, 4);
    }
  }
  const dictionary = reader.field(field, 4);
  if (dictionary !== undefined) {
    const encoding = reader.table(dictionary);
    const indexType = reader.field(encoding, 1);
    if (indexType !== undefined) reader.table(indexType);
  }
  checkTables(reader, reader.field(field, 5), (child) => checkField(reader, child, depth + 1));
  checkKeyValues(reader, reader.field(field, 6));
}

function checkSchema(reader: FlatbufferReader, schema: number): void {
  checkTables(reader, reader.field(schema, 1), (field) => checkField(reader, field, 0));
  checkKeyValues(reader, reader.field(schema, 2));
  const features = reader.field(schema, 3);
  if (features !== undefined) reader.vector(features, 8);
}

function checkRecordBatch(reader: FlatbufferReader, batch: number): void {
  const nodes = reader.field(batch, 1);
  if (nodes !== undefined) reader.vector(nodes, 16);
  const buffers = reader.field(batch, 2);
  if (buffers !== undefined) reader.vector(buffers, 16);
  const compression = reader.field(batch, 3);
  if (compression !== undefined) reader.table(compression);
  const variadic = reader.field(batch, 4);
  if (variadic !== undefined) reader.vector(variadic, 8);
}

const UNION_TYPE = 14;
const SCHEMA_HEADER = 1;
const DICTIONARY_BATCH_HEADER = 2;
const RECORD_BATCH_HEADER = 3;

/** Throws when a Message flatbuffer references anything outside its bytes. */
export function checkMessageMetadata(bytes: Uint8Array): void {
  const reader = new FlatbufferReader(bytes);
  const message = reader.table(0);
  const headerTypeAt = reader.field(message, 1);
  const headerAt = reader.field(message, 2);
  checkKeyValues(reader, reader.field(message, 4));
  if (headerTypeAt === undefined || headerAt === undefined) return;
  const header = reader.table(headerAt);
  switch (reader.u8(headerTypeAt)) {
    case SCHEMA_HEADER:
      checkSchema(reader, header);
      return;
    case RECORD_BATCH_HEADER:
      checkRecordBatch(reader, header);
      return;
    case DICTIONARY_BATCH_HEADER: {
      const data = reader.field(header, 1);
      if (data !== undefined) checkRecordBatch(reader, reader.table(data));
      return;
    }
    default:
      return;
  }
}

/** Throws when a file Footer flatbuffer references anything outside its bytes. */
export function checkFooterMetadata(bytes: Uint8Array): void {
  const reader = new FlatbufferReader(bytes);
  const footer = reader.table(0);
  const schema = reader.field(footer, 1);
  if (schema !== undefined) checkSchema(reader, reader.table(schema));
  for (const index of [2, 3]) {
    const blocks = reader.field(footer, index);
    if (blocks !== undefined) reader.vector(blocks, 24);
  }
  checkKeyValues(reader, reader.field(footer, 4));
}
