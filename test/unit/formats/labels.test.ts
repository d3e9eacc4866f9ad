import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readLabels } from '../../../src/main/formats/labels';
import { writeNpy } from '../../../src/main/formats/npyWrite';
import { readTokenLabels } from '../../../src/main/formats/tokenLabels';

let folder: string;

function write(name: string, text: string): string {
  const path = join(folder, name);
  writeFileSync(path, text);
  return path;
}

describe('label files', () => {
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'basis-labels-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('read the context column of the real stories260K labels', async () => {
    const labels = await readLabels('../shared/data/stories260K/labels_64x256.tsv', 16384);
    expect(labels.count).toBe(16384);
    expect(labels.get(0)).toBe('[[<s>]]');
    expect(labels.get(1)).toBe('<s>[[upon]]');
    expect(labels.get(16383)).toMatch(/\[\[.*\]\]$/);
  });

  it('fall back to the token column, then to the last column', async () => {
    const tokens = await readLabels(
      write('words.tsv', 'token\tcategory\none\tnumbers\ntwo\tnumbers\n'),
      2,
    );
    expect([tokens.get(0), tokens.get(1)]).toEqual(['one', 'two']);
    const last = await readLabels(write('other.tsv', 'id\tword\n0\talpha\n1\t"be""ta"\n'), 2);
    expect([last.get(0), last.get(1)]).toEqual(['alpha', 'be"ta']);
  });

  it('read JSONL text, context or token fields', async () => {
    const path = write(
      'labels.jsonl',
      '{"text": "héllo"}\n{"context": "a [[b]]"}\r\n{"token": 42}\n',
    );
    const labels = await readLabels(path, 3);
    expect([labels.get(0), labels.get(1), labels.get(2)]).toEqual(['héllo', 'a [[b]]', '42']);
  });

  it('refuse a JSONL line without a label field, naming the line', async () => {
    const path = write('bad.jsonl', '{"text": "a"}\n{"other": 1}\n');
    await expect(readLabels(path, 2)).rejects.toMatchObject({
      kind: 'input',
      message: expect.stringMatching(/bad\.jsonl line 2: not a JSON object/),
    });
  });

  it('read plain lines, ignoring trailing blank lines and carriage returns', async () => {
    const labels = await readLabels(write('plain.txt', 'the\r\ncat\r\n\r\n\n'), 2);
    expect([labels.get(0), labels.get(1)]).toEqual(['the', 'cat']);
  });

  it('refuse a row-count mismatch, naming both counts', async () => {
    await expect(readLabels(write('short.txt', 'a\nb\nc\n'), 4)).rejects.toMatchObject({
      kind: 'input',
      message: expect.stringMatching(/short\.txt: holds 3 labels but the activations have 4 rows/),
    });
  });

  it('refuse a missing label file, naming it', async () => {
    const path = join(folder, 'missing.tsv');
    await expect(readLabels(path, 1)).rejects.toMatchObject({
      kind: 'input',
      message: expect.stringContaining(path),
    });
  });
});

describe('labels from token ids and a vocabulary', () => {
  it('rebuild the stories260K label contexts from its token ids and tok512.bin', async () => {
    const data = '../shared/data/stories260K';
    const fromTokens = await readTokenLabels(
      `${data}/tokens_64x256_uint16.npy`,
      `${data}/tok512.bin`,
      16384,
    );
    const fromFile = await readLabels(`${data}/labels_64x256.tsv`, 16384);
    // The sidecar keeps a shorter context, so it must be a suffix of the rebuilt label; it
    // writes a start token inside a sequence as "\n<s>\n" where Basis writes "<s>".
    let matching = 0;
    for (let row = 0; row < 16384; row++) {
      const sidecar = fromFile.get(row).replaceAll('\\n<s>\\n', '<s>');
      if (fromTokens.get(row).endsWith(sidecar)) matching++;
    }
    expect(fromTokens.get(3)).toBe('<s>upon a[[ time]]');
    expect(fromTokens.get(88)).toMatch(/ it was attach water\. \[\[\\n\]\]$/);
    expect(matching).toBe(16384);
  });

  it('read a tokenizer.json vocabulary and refuse ids outside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'basis-token-labels-'));
    try {
      const vocabulary = join(dir, 'tokenizer.json');
      writeFileSync(
        vocabulary,
        JSON.stringify({
          model: { vocab: { hello: 0, '\u0120world': 1 } },
          added_tokens: [{ id: 2, content: '<eos>' }],
        }),
      );
      const ids = join(dir, 'ids.npy');
      await writeNpy(ids, [1, 3], Float32Array.from([0, 1, 2]));
      const labels = await readTokenLabels(ids, vocabulary, 3);
      expect([labels.get(0), labels.get(1), labels.get(2)]).toEqual([
        '[[hello]]',
        'hello[[ world]]',
        'hello world[[<eos>]]',
      ]);
      await writeNpy(ids, [3], Float32Array.from([0, 1, 7]));
      await expect(readTokenLabels(ids, vocabulary, 3)).rejects.toMatchObject({
        kind: 'input',
        message: expect.stringMatching(/token id 7 at row 2 is outside the vocabulary of 3 tokens/),
      });
      await expect(readTokenLabels(ids, vocabulary, 4)).rejects.toMatchObject({
        message: expect.stringMatching(/holds 3 token ids but the activations have 4 rows/),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
