/**
 * Labels from token ids and a tokenizer vocabulary: the row's token marked [[like this]]
 * after the tokens before it in the same sequence. The ids are an array whose last axis is
 * the sequence (e.g. (stories, positions) of uint16); rows follow it row-major, like the
 * activations. Vocabularies: llama2.c tokenizer .bin, Hugging Face tokenizer.json, a JSON
 * list or {token: id} object, or a text file with one token per line.
 */
import { promises as fs } from 'node:fs';
import { basename, extname } from 'node:path';

import { assert, inputError } from '../../shared/errors';
import type { Labels } from './labels';
import { openActivations } from './open';

/** Context kept before the marked token, in characters. */
const MAX_CONTEXT_CHARACTERS = 2000;
const MAX_VOCABULARY_BYTES = 200_000_000;

/**
 * Readable text of a vocabulary entry: byte tokens, SentencePiece and GPT-2 space marks;
 * newlines, tabs and carriage returns are escaped so that a label stays on one line.
 */
function readableToken(token: string): string {
  const byte = /^<0x([0-9A-Fa-f]{2})>$/.exec(token);
  const text = byte
    ? String.fromCharCode(parseInt(byte[1]!, 16))
    : /^\s*<\/?s>\s*$/.test(token)
      ? token.trim()
      : token
          .replace(/\u2581/g, ' ')
          .replace(/\u0120/g, ' ')
          .replace(/\u010a/g, '\n');
  return text.replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r');
}

/** llama2.c tokenizer: i32 max length, then per token f32 score, i32 length, bytes. */
function parseLlama2cVocabulary(bytes: Buffer, name: string): string[] {
  const tokens: string[] = [];
  let at = 4;
  while (at + 8 <= bytes.length) {
    const length = bytes.readInt32LE(at + 4);
    if (length < 0 || at + 8 + length > bytes.length) {
      throw inputError(`${name}: token ${tokens.length} runs past the end of the tokenizer file`);
    }
    tokens.push(bytes.toString('utf8', at + 8, at + 8 + length));
    at += 8 + length;
  }
  return tokens;
}

function parseJsonVocabulary(bytes: Buffer, name: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw inputError(`${name}: not valid JSON (${(error as Error).message})`);
  }
  if (Array.isArray(value)) return value.map(String);
  const object = value as {
    model?: { vocab?: Record<string, number> };
    added_tokens?: { id: number; content: string }[];
  } | null;
  const table = object?.model?.vocab ?? (object as Record<string, number> | null);
  if (!table || typeof table !== 'object') {
    throw inputError(
      `${name}: no vocabulary found (expected tokenizer.json, a list or {token: id})`,
    );
  }
  const tokens: string[] = [];
  for (const [token, id] of Object.entries(table)) {
    if (Number.isInteger(id) && id >= 0 && id < 10_000_000) tokens[id] = token;
  }
  for (const added of object?.added_tokens ?? []) {
    if (Number.isInteger(added.id) && added.id >= 0 && added.id < 10_000_000) {
      tokens[added.id] = added.content;
    }
  }
  return Array.from(tokens, (token) => token ?? '');
}

export async function readVocabulary(path: string): Promise<string[]> {
  const name = basename(path);
  const stats = await fs.stat(path).catch(() => {
    throw inputError(`${path}: no such vocabulary file; check the path`);
  });
  if (stats.size > MAX_VOCABULARY_BYTES) throw inputError(`${name}: too large for a vocabulary`);
  const bytes = await fs.readFile(path);
  const extension = extname(path).toLowerCase();
  if (extension === '.bin' || extension === '.model') return parseLlama2cVocabulary(bytes, name);
  if (extension === '.json') return parseJsonVocabulary(bytes, name);
  return bytes.toString('utf8').split(/\r?\n/);
}

/** Labels for `expectedRows` activation rows from token ids and a vocabulary. */
export async function readTokenLabels(
  tokenIdsPath: string,
  vocabularyPath: string,
  expectedRows: number,
): Promise<Labels> {
  const vocabulary = (await readVocabulary(vocabularyPath)).map(readableToken);
  const source = await openActivations(tokenIdsPath);
  let ids: Uint32Array;
  let sequenceLength: number;
  try {
    const { rows, columns } = source.description;
    const count = rows * columns;
    if (count !== expectedRows) {
      throw inputError(
        `${basename(tokenIdsPath)}: holds ${count} token ids but the activations have ` +
          `${expectedRows} rows; they must match one to one`,
      );
    }
    const values = await source.readRows(0, rows);
    ids = new Uint32Array(count);
    for (let i = 0; i < count; i++) {
      const id = values[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= vocabulary.length) {
        throw inputError(
          `${basename(tokenIdsPath)}: token id ${id} at row ${i} is outside the vocabulary of ` +
            `${vocabulary.length} tokens in ${basename(vocabularyPath)}`,
        );
      }
      ids[i] = id;
    }
    sequenceLength = columns;
  } finally {
    await source.close();
  }

  const text = (row: number, afterStart: boolean) => {
    const token = vocabulary[ids[row]!]!;
    // SentencePiece drops the space of the first word after the start token.
    return afterStart ? token.replace(/^ /, '') : token;
  };
  const isStart = (row: number) => vocabulary[ids[row]!] === '<s>';
  return {
    count: expectedRows,
    get(row: number): string {
      assert(Number.isInteger(row) && row >= 0 && row < expectedRows, () => `label row ${row}`);
      const sequenceStart = row - (row % sequenceLength);
      const marked = `[[${text(row, row > sequenceStart && isStart(row - 1))}]]`;
      let context = '';
      for (let at = row - 1; at >= sequenceStart && context.length < MAX_CONTEXT_CHARACTERS; at--) {
        context = text(at, at > sequenceStart && isStart(at - 1)) + context;
      }
      return context + marked;
    },
  };
}
