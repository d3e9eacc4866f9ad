#!/usr/bin/env node
// Builds resources/sample/ (the bundled sample) from the stories260K activations in
// ../shared/data: drops the BOS rows (position 0 of each story; every story's first row is
// the same vector), keeps float32 .npy + a label TSV with matching rows.
// Usage: node scripts/make-sample.mjs [DATA_FOLDER] [OUT_FOLDER]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dataFolder = process.argv[2] ?? join(root, '..', 'shared', 'data', 'stories260K');
const outFolder = process.argv[3] ?? join(root, 'resources', 'sample');
const STORY_LENGTH = 256;

// The .npy: a v1 header with '<f4', C order, (16384, 172).
const bytes = readFileSync(join(dataFolder, 'acts_mlp_hidden_L2_16384x172_f32.npy'));
const headerLength = bytes.readUInt16LE(8);
const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
const shape = /'shape': \((\d+), (\d+)\)/.exec(header);
if (
  bytes[6] !== 1 ||
  !header.includes("'<f4'") ||
  !header.includes("'fortran_order': False") ||
  !shape
) {
  throw new Error(`unexpected .npy header: ${header}`);
}
const rows = Number(shape[1]);
const columns = Number(shape[2]);
const data = bytes.subarray(10 + headerLength);
if (data.length !== rows * columns * 4) throw new Error('data size does not match the header');

// Labels: header + one line per row (row, story, position, token, context).
const lines = readFileSync(join(dataFolder, 'labels_64x256.tsv'), 'utf8').split('\n');
if (lines[lines.length - 1] === '') lines.pop();
if (lines.length !== rows + 1)
  throw new Error(`labels hold ${lines.length - 1} rows, expected ${rows}`);

const kept = [];
for (let row = 0; row < rows; row++) if (row % STORY_LENGTH !== 0) kept.push(row);
const out = Buffer.alloc(kept.length * columns * 4);
const labelLines = ['row\tsource_row\tstory\tposition\ttoken\tcontext'];
kept.forEach((row, index) => {
  data.copy(out, index * columns * 4, row * columns * 4, (row + 1) * columns * 4);
  const fields = lines[row + 1].split('\t');
  if (Number(fields[0]) !== row || fields[2] === '0')
    throw new Error(`label line ${row + 1} is out of order`);
  labelLines.push([index, ...fields].join('\t'));
});

let npyHeader = `{'descr': '<f4', 'fortran_order': False, 'shape': (${kept.length}, ${columns}), }`;
npyHeader += ' '.repeat(64 - ((10 + npyHeader.length + 1) % 64)) + '\n';
const prefix = Buffer.alloc(10);
Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(prefix);
prefix.writeUInt16LE(npyHeader.length, 8);

mkdirSync(outFolder, { recursive: true });
writeFileSync(
  join(outFolder, 'activations.npy'),
  Buffer.concat([prefix, Buffer.from(npyHeader, 'latin1'), out]),
);
writeFileSync(join(outFolder, 'labels.tsv'), `${labelLines.join('\n')}\n`);
console.log(`wrote ${kept.length} x ${columns} to ${outFolder}`);
