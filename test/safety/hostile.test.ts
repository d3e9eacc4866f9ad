/**
 * Hostile input beyond the format fuzzing of test/fuzz: imported SAE configurations (absurd
 * sizes, wrong types, garbage, huge files), label files (binary garbage, huge lines, wrong
 * counts), and random JSON arguments to every API method (what the IPC and HTTP transports
 * pass on). Each case ends in a value or an input error (a missing thing may say not-found);
 * none may crash, report a bug, or take long.
 */
import { execFileSync } from 'node:child_process';
import {
  constants,
  cpSync,
  mkdirSync,
  openSync,
  closeSync,
  ftruncateSync,
  rmSync,
  writeFileSync,
  existsSync,
  readFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLabels } from '../../src/main/formats/labels';
import { createService, type BasisService } from '../../src/main/service/service';
import { API_METHOD_NAMES, type ApiMethodName } from '../../src/shared/contract';
import { parseArguments } from '../../src/shared/contractArguments';
import { BasisError, serializeError, type ErrorKind } from '../../src/shared/errors';
import { Random } from '../../src/shared/random';
import { json, ROOT, runCli, smallRunFlags } from '../integration/cliHarness';
import { createWorkspace, type Workspace } from './harness';

/** Any single hostile case must settle within this (a loaded 2-core machine). */
const CASE_BUDGET_MS = 5_000;
const FUZZ_SEED = Number(process.env.BASIS_FUZZ_SEED ?? 8);
const FUZZ_CASES_PER_METHOD = Number(process.env.BASIS_FUZZ_CASES ?? 250);

let workspace: Workspace;
let service: BasisService;
let datasetId: number;
let saeFolder: string;

beforeAll(async () => {
  workspace = await createWorkspace('hostile');
  const trained = json<{ id: number; status: string }>(
    await runCli(
      ['train', workspace.data, ...smallRunFlags({ steps: 20 }), '--json'],
      workspace.database,
    ),
  );
  expect(trained.status).toBe('completed');
  saeFolder = join(workspace.folder, 'good-sae');
  const exported = await runCli(
    ['export', String(trained.id), '--format', 'saelens', '--out', saeFolder],
    workspace.database,
  );
  expect(exported.code, exported.stderr).toBe(0);
  service = createService({
    databasePath: workspace.database,
    workerPath: join(ROOT, 'out', 'main', 'worker.js'),
    sampleFolder: join(ROOT, 'resources', 'sample'),
  });
  datasetId = (await service.openDataset(workspace.data, {})).id;
});

afterAll(async () => {
  await service?.close();
  workspace.remove();
});

/** Runs `work`; returns the error kind it failed with, or null when it succeeded. */
async function outcome(work: () => Promise<unknown>): Promise<ErrorKind | null> {
  const startedMs = performance.now();
  try {
    await work();
    return null;
  } catch (error) {
    return serializeError(error).kind;
  } finally {
    expect(performance.now() - startedMs).toBeLessThan(CASE_BUDGET_MS);
  }
}

/** A copy of the good SAELens folder whose cfg.json holds `content`. */
function folderWithConfig(name: string, content: string | Buffer | null): string {
  const folder = join(workspace.folder, `sae-${name}`);
  cpSync(saeFolder, folder, { recursive: true });
  const config = join(folder, 'cfg.json');
  if (content !== null) writeFileSync(config, content);
  return folder;
}

describe('an imported SAE configuration', () => {
  const good = (): Record<string, unknown> =>
    JSON.parse(readFileSync(join(saeFolder, 'cfg.json'), 'utf8')) as Record<string, unknown>;

  it('with wrong types or absurd sizes is refused as input, or imported with the sizes of its weights', async () => {
    const variants: Record<string, Record<string, unknown>> = {
      'absurd-d-sae': { d_sae: 1e12, d_in: -5 },
      'k-text': { architecture: 'topk', k: 'many', activation_fn_kwargs: { k: 'many' } },
      'k-huge': { architecture: 'topk', k: 1e9, activation_fn_kwargs: { k: 1e9 } },
      'k-fraction': { architecture: 'topk', k: 2.5, activation_fn_kwargs: { k: 2.5 } },
      'k-negative': { architecture: 'topk', k: -4, activation_fn_kwargs: { k: -4 } },
      'architecture-number': { architecture: 42 },
      'architecture-object': { architecture: { toString: 'x' } },
      'k-object': { architecture: 'topk', k: { toString: 1 }, activation_fn_kwargs: {} },
      'activation-object': { activation_fn: { valueOf: 'x', toString: 'y' } },
      'kwargs-null': { activation_fn_kwargs: null },
      'kwargs-text': { activation_fn_kwargs: 'k=4' },
      'normalize-object': { normalize_activations: { scale: 'x' } },
      'proto-pollution': JSON.parse(
        '{"__proto__": {"polluted": true}, "constructor": 1}',
      ) as Record<string, unknown>,
    };
    for (const [name, change] of Object.entries(variants)) {
      const folder = folderWithConfig(name, JSON.stringify({ ...good(), ...change }));
      let features: number | undefined;
      const kind = await outcome(async () => {
        features = (await service.importDictionary(folder, datasetId)).config.features;
      });
      expect(kind === null || kind === 'input', `${name}: ${kind}`).toBe(true);
      if (kind === null) expect(features, name).toBe(32);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
  });

  it('that is not a JSON object, garbage, or huge is refused as input', async () => {
    const random = new Random(3);
    const garbage = Buffer.alloc(64 * 1024);
    for (let i = 0; i < garbage.length; i++) garbage[i] = random.integer(256);
    const variants: Record<string, string | Buffer> = {
      array: '[1, 2, 3]',
      null: 'null',
      number: '1e999',
      string: '"cfg"',
      truncated: '{"architecture": "topk", "k": ',
      binary: garbage,
      'deeply-nested': '['.repeat(1_000_000),
      'huge-garbage': Buffer.alloc(32 * 1024 * 1024, 0x7b),
    };
    for (const [name, content] of Object.entries(variants)) {
      const folder = folderWithConfig(name, content);
      const kind = await outcome(() => service.importDictionary(folder, datasetId));
      expect(kind, name).toBe('input');
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('that is a folder is refused as input', async () => {
    const folder = folderWithConfig('folder', null);
    rmSync(join(folder, 'cfg.json'));
    mkdirSync(join(folder, 'cfg.json'));
    expect(await outcome(() => service.importDictionary(folder, datasetId))).toBe('input');
  });

  it('that is too large to read is refused as input', async () => {
    // A sparse 3 GB file: nothing is allocated, Node refuses to read it whole.
    const large = folderWithConfig('large', null);
    const descriptor = openSync(join(large, 'cfg.json'), 'w');
    ftruncateSync(descriptor, 3 * 1024 ** 3);
    closeSync(descriptor);
    expect(await outcome(() => service.importDictionary(large, datasetId))).toBe('input');
  });
});

describe('a label file', () => {
  function labelFile(name: string, content: string | Buffer): string {
    const path = join(workspace.folder, name);
    writeFileSync(path, content);
    return path;
  }

  it('of binary garbage, wrong counts or broken encodings is refused as input or read as text', async () => {
    const random = new Random(4);
    const garbage = Buffer.alloc(256 * 1024);
    for (let i = 0; i < garbage.length; i++) garbage[i] = random.integer(256);
    const cases: [string, string | Buffer, number][] = [
      ['garbage.tsv', garbage, 2000],
      ['garbage.txt', garbage, 2000],
      ['garbage.jsonl', garbage, 2000],
      ['too-few.txt', 'a\nb\nc\n', 2000],
      ['too-many.txt', 'x\n'.repeat(2001), 2000],
      ['empty.txt', '', 2000],
      ['only-newlines.txt', '\n'.repeat(5000), 2000],
      ['nul.txt', '\0\n'.repeat(2000), 2000],
      ['invalid-utf8.txt', Buffer.from('\xff\xfe\xc0\x80\n'.repeat(2000), 'latin1'), 2000],
      ['header-only.tsv', 'token\tcontext\n', 2000],
      ['ragged.tsv', 'token\tcontext\n' + 'a\n'.repeat(2000), 2000],
      ['not-objects.jsonl', '[1]\n'.repeat(2000), 2000],
      ['proto.jsonl', '{"__proto__": {"text": "x"}}\n'.repeat(2000), 2000],
      ['crlf.txt', 'a\r\n'.repeat(2000), 2000],
    ];
    for (const [name, content, rows] of cases) {
      const path = labelFile(name, content);
      let count: number | undefined;
      const kind = await outcome(async () => {
        const labels = await readLabels(path, rows);
        count = labels.count;
        // Every label decodes to a string.
        for (let row = 0; row < labels.count; row += 97)
          expect(typeof labels.get(row)).toBe('string');
      });
      expect(kind === null || kind === 'input', `${name}: ${kind}`).toBe(true);
      if (kind === null) expect(count, name).toBe(rows);
    }
  });

  it('with one huge line is read without trouble, and a folder or missing file is refused', async () => {
    const huge = labelFile('huge-line.txt', 'x'.repeat(16 * 1024 * 1024) + '\n');
    const labels = await readLabels(huge, 1);
    expect(labels.get(0).length).toBe(16 * 1024 * 1024);
    expect(await outcome(() => readLabels(workspace.folder, 1))).toBe('input');
    expect(await outcome(() => readLabels(join(workspace.folder, 'missing.tsv'), 1))).toBe('input');
  });

  it('given to openDataset that does not match is refused with the file named', async () => {
    const path = labelFile('short.tsv', 'token\ta\n');
    await expect(service.openDataset(workspace.data, { labels: path })).rejects.toThrow(
      /short\.tsv/,
    );
  });
});

/** A random JSON value: the shapes a hostile page or HTTP client could send. */
function randomValue(random: Random, depth = 0): unknown {
  const choice = random.integer(depth > 2 ? 9 : 12);
  switch (choice) {
    case 0:
      return null;
    case 1:
      return random.uniform() < 0.5;
    case 2:
      return random.integer(5);
    case 3:
      return [0, -1, 1.5, 1e308, -1e308, 2 ** 53, 2 ** 31, Number.MAX_SAFE_INTEGER + 2][
        random.integer(8)
      ];
    case 4:
      return String(random.integer(5));
    case 5:
      return ['', ' ', '..', '/', '\0', 'NaN', 'Infinity', '1e9', '-0', '0x10', 'ica', 'npy'][
        random.integer(12)
      ];
    case 6:
      return 'x'.repeat(random.integer(3) === 0 ? 5000 : 10);
    case 7:
      return `/nonexistent-basis-fuzz/${random.integer(1000)}`;
    case 8:
      return ['sae-topk', 'sae-relu', 'ica', 'saelens', 'features-csv', 'f16'][random.integer(6)];
    case 9:
    case 10: {
      const length = random.integer(4);
      return Array.from({ length }, () => randomValue(random, depth + 1));
    }
    default: {
      const keys = [
        'method',
        'features',
        'k',
        'steps',
        'datasetId',
        'config',
        'labels',
        'dtype',
        'columns',
        'transpose',
        '__proto__',
        'constructor',
        'seed',
        'batchSize',
        'tensor',
      ];
      const object: Record<string, unknown> = {};
      const count = random.integer(5);
      for (let i = 0; i < count; i++)
        object[keys[random.integer(keys.length)]!] = randomValue(random, depth + 1);
      return object;
    }
  }
}

/** Methods whose real call would start training or write files: only their parsing is fuzzed. */
const PARSE_ONLY: readonly ApiMethodName[] = ['startRun', 'resumeRun', 'exportRun', 'openSample'];

function namesExistingPath(value: unknown): boolean {
  if (typeof value === 'string') return value !== '' && existsSync(resolve(value));
  if (Array.isArray(value)) return value.some(namesExistingPath);
  if (value !== null && typeof value === 'object')
    return Object.values(value).some(namesExistingPath);
  return false;
}

describe('random JSON arguments to every API method', () => {
  it('end in a value or an input or not-found error, never a crash or a bug', async () => {
    const random = new Random(FUZZ_SEED);
    const outcomes = new Map<string, number>();
    for (const method of API_METHOD_NAMES) {
      for (let index = 0; index < FUZZ_CASES_PER_METHOD; index++) {
        const args =
          random.integer(6) === 0
            ? randomValue(random)
            : Array.from({ length: random.integer(4) }, () => randomValue(random));
        let parsed: unknown[];
        try {
          parsed = parseArguments(method, args);
        } catch (error) {
          expect(error, `${method}(${JSON.stringify(args)})`).toBeInstanceOf(BasisError);
          expect((error as BasisError).kind, `${method}(${JSON.stringify(args)})`).toBe('input');
          continue;
        }
        if (PARSE_ONLY.includes(method) || namesExistingPath(parsed)) continue;
        const call = service[method] as (...values: unknown[]) => Promise<unknown>;
        const kind = await outcome(() => call.apply(service, parsed));
        const key = `${method}:${kind ?? 'ok'}`;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        expect(
          ['input', 'not-found', null],
          `${method}(${JSON.stringify(args)}) -> ${kind}`,
        ).toContain(kind);
      }
    }
    // The fuzzing reached the service, not only the parser.
    expect([...outcomes.keys()].some((key) => key.endsWith(':not-found'))).toBe(true);
  });
});

describe('a named pipe given as a file', () => {
  it('is refused at once as activations, labels or an SAE folder, instead of waiting for a writer', async () => {
    const fifo = join(workspace.folder, 'pipe.npy');
    execFileSync('mkfifo', [fifo]);
    const sae = folderWithConfig('fifo', null);
    rmSync(join(sae, 'cfg.json'));
    execFileSync('mkfifo', [join(sae, 'cfg.json')]);
    try {
      for (const [what, work] of [
        ['activations', () => service.openDataset(fifo, {})],
        ['labels', () => readLabels(fifo, 1)],
        ['SAE configuration', () => service.importDictionary(sae, datasetId)],
      ] as const) {
        const settled = await Promise.race([
          outcome(work),
          new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), CASE_BUDGET_MS)),
        ]);
        expect(settled, what).toBe('input');
      }
    } finally {
      // Release any reader still blocked in open(): open the pipes for writing, then close.
      for (const pipe of [fifo, join(sae, 'cfg.json')]) {
        try {
          closeSync(openSync(pipe, constants.O_WRONLY | constants.O_NONBLOCK));
        } catch {
          // ENXIO: nobody is reading it, as it should be.
        }
      }
    }
  });
});
