/** A small grayscale PNG encoder (node:zlib) for pictures of atoms. */
import { writeFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), Buffer.from(data)]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** Writes an 8-bit grayscale image (height x width, row-major) as PNG. */
export function writeGrayPng(
  path: string,
  pixels: Uint8Array,
  width: number,
  height: number,
): void {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // grayscale
  const raw = Buffer.alloc(height * (width + 1));
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0; // filter: none
    raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  writeFileSync(
    path,
    Buffer.concat([
      signature,
      chunk('IHDR', header),
      chunk('IDAT', deflateSync(raw)),
      chunk('IEND', new Uint8Array(0)),
    ]),
  );
}

/**
 * Atoms (count x side*side) as a grid of side x side tiles, each scaled to its own largest
 * |value| (mid-gray is zero), enlarged `zoom` times, with a one-pixel dark border.
 */
export function atomTiles(
  atoms: Float32Array,
  count: number,
  side: number,
  columns: number,
  zoom: number,
) {
  const rows = Math.ceil(count / columns);
  const cell = side * zoom + 1;
  const width = columns * cell + 1;
  const height = rows * cell + 1;
  const pixels = new Uint8Array(width * height);
  for (let index = 0; index < count; index++) {
    let largest = 0;
    for (let p = 0; p < side * side; p++)
      largest = Math.max(largest, Math.abs(atoms[index * side * side + p]!));
    const x0 = (index % columns) * cell + 1;
    const y0 = Math.floor(index / columns) * cell + 1;
    for (let y = 0; y < side * zoom; y++) {
      for (let x = 0; x < side * zoom; x++) {
        const value =
          atoms[index * side * side + Math.floor(y / zoom) * side + Math.floor(x / zoom)]!;
        const gray = largest > 0 ? 128 + (127 * value) / largest : 128;
        pixels[(y0 + y) * width + x0 + x] = Math.round(gray);
      }
    }
  }
  return { pixels, width, height };
}
