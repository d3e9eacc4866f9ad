/**
 * SAELens export: the exact files (golden), the round trip through import, and an
 * independent numpy reader that must compute the same MSE as the model.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { exportSaeLens, saeLensConfig } from '../../../src/main/export/saelens';
import { importDictionary } from '../../../src/main/export/import';
import { encodeSafetensors } from '../../../src/main/formats/safetensorsCodec';
import type { RunConfig } from '../../../src/shared/methods';
import type {
  FeatureModel,
  MethodDefinition,
  SaeLensWeights,
} from '../../../src/worker/methods/method';
import { initializeBackend } from '../../../src/worker/backend';
import {
  saeBatchTopkMethod,
  saeJumpReluMethod,
  saeReluMethod,
  saeTopkMethod,
} from '../../../src/worker/sae/methods';
import { batches, configFor, contextFor, plantedData } from '../sae/helpers';

const ROUND_TRIP_TOLERANCE = 1e-5;
const NUMPY_RELATIVE_TOLERANCE = 1e-4;

let folder: string;
beforeAll(async () => {
  await initializeBackend();
  folder = mkdtempSync(join(tmpdir(), 'basis-saelens-'));
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const definitions = {
  'sae-relu': saeReluMethod,
  'sae-topk': saeTopkMethod,
  'sae-batchtopk': saeBatchTopkMethod,
  'sae-jumprelu': saeJumpReluMethod,
} as unknown as Record<string, MethodDefinition<RunConfig>>;

const DIMENSIONS = 12;
const ROWS = 1500;
const data = plantedData(3, ROWS, DIMENSIONS, 24, 3).values.map((v, i) => 5 * v + (i % 7));

function trained(method: RunConfig['method']): { config: RunConfig; model: FeatureModel } {
  const overrides: Record<string, unknown> = { features: 32, steps: 30, batchSize: 64, seed: 2 };
  if (method === 'sae-topk' || method === 'sae-batchtopk') overrides.k = 3;
  if (method === 'sae-jumprelu')
    Object.assign(overrides, { bandwidth: 0.05, initialThreshold: 0.1 });
  const config = configFor(method, DIMENSIONS, overrides as never);
  const trainer = definitions[method]!.create(contextFor(config, data, ROWS, DIMENSIONS));
  const stream = batches(data, ROWS, DIMENSIONS, 64, 4);
  for (let s = 0; s < 30; s++) trainer.step(stream.next().value!, 64, s);
  return { config, model: trainer.model() };
}

function reconstruct(model: FeatureModel, rows: number): Float32Array {
  return model.decode(model.encode(data, rows), rows);
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

const tiny: SaeLensWeights = {
  architecture: 'topk',
  W_enc: Float32Array.of(1, 0, 0.5, -1, 0, 1, 0.25, 2),
  b_enc: Float32Array.of(0, 0.5, -0.5, 1),
  W_dec: Float32Array.of(1, 0, 0, 1, 0.5, 0.5, -1, 0),
  b_dec: Float32Array.of(0.125, -0.25),
  k: 2,
  approximateEncoder: false,
};

describe('SAELens export', () => {
  test('writes exactly the pinned cfg.json and safetensors header', async () => {
    const target = join(folder, 'golden');
    await exportSaeLens(target, tiny, { sparsity: Float32Array.of(0, 0.5, 1e-3, 1) });
    expect(readdirSync(target).sort()).toEqual([
      'cfg.json',
      'sae_weights.safetensors',
      'sparsity.safetensors',
    ]);
    expect(readFileSync(join(target, 'cfg.json'), 'utf8')).toBe(
      [
        '{',
        '  "architecture": "topk",',
        '  "d_in": 2,',
        '  "d_sae": 4,',
        '  "dtype": "float32",',
        '  "device": "cpu",',
        '  "apply_b_dec_to_input": true,',
        '  "normalize_activations": "none",',
        '  "reshape_activations": "none",',
        '  "k": 2,',
        '  "rescale_acts_by_decoder_norm": false,',
        '  "metadata": {',
        '    "sae_lens_version": "6.0.0",',
        '    "sae_lens_training_version": null,',
        '    "exported_by": "basis"',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    const bytes = readFileSync(join(target, 'sae_weights.safetensors'));
    const headerLength = Number(bytes.readBigUInt64LE(0));
    expect(headerLength % 8).toBe(0);
    expect(
      bytes
        .subarray(8, 8 + headerLength)
        .toString('utf8')
        .trimEnd(),
    ).toBe(
      '{"W_dec":{"dtype":"F32","shape":[4,2],"data_offsets":[0,32]},' +
        '"W_enc":{"dtype":"F32","shape":[2,4],"data_offsets":[32,64]},' +
        '"b_dec":{"dtype":"F32","shape":[2],"data_offsets":[64,72]},' +
        '"b_enc":{"dtype":"F32","shape":[4],"data_offsets":[72,88]}}',
    );
    expect(bytes.length).toBe(8 + headerLength + 88);
    expect(bytes.readFloatLE(8 + headerLength + 64)).toBe(0.125);
    const sparsity = readFileSync(join(target, 'sparsity.safetensors'));
    const sparsityHeader = Number(sparsity.readBigUInt64LE(0));
    const values = new Float32Array(
      sparsity.buffer.slice(sparsity.byteOffset + 8 + sparsityHeader),
    );
    expect(values[0]).toBeCloseTo(-10, 5);
    expect(values[1]).toBeCloseTo(Math.log10(0.5), 6);
    expect(values[3]).toBeCloseTo(0, 6);
  });

  test('states an approximate encoder in the metadata', () => {
    const config = saeLensConfig(
      { ...tiny, architecture: 'standard', approximateEncoder: true },
      { run: 4 },
    );
    const metadata = config.metadata as Record<string, unknown>;
    expect(metadata.approximate_encoder).toBe(true);
    expect(metadata.run).toBe(4);
    expect(config.k).toBeUndefined();
  });

  test('refuses an existing folder and densities outside [0, 1], leaving nothing behind', async () => {
    const target = join(folder, 'golden-exists');
    await exportSaeLens(target, tiny, {});
    await expect(exportSaeLens(target, tiny, {})).rejects.toThrow(
      /exists already: choose another path/,
    );
    const bad = join(folder, 'bad-sparsity');
    await expect(
      exportSaeLens(bad, tiny, { sparsity: Float32Array.of(0, 2, 0, 0) }),
    ).rejects.toThrow(/density 2/);
    await expect(
      exportSaeLens(join(folder, 'nan'), tiny, { sparsity: Float32Array.of(0, NaN, 0, 0) }),
    ).rejects.toThrow(/density NaN/);
    expect(readdirSync(folder).filter((name) => name.includes('partial'))).toEqual([]);
  });
});

describe.each(['sae-relu', 'sae-topk', 'sae-batchtopk', 'sae-jumprelu'] as const)(
  '%s',
  (method) => {
    test('export then import gives the same reconstructions', async () => {
      const { config, model } = trained(method);
      const target = join(folder, `round-trip-${method}`);
      await exportSaeLens(target, model.saeLens(), {});
      const imported = await importDictionary(target);
      expect(imported.source).toBe('saelens');
      expect(imported.dimensions).toBe(DIMENSIONS);
      expect(imported.config.features).toBe(config.features);
      const importedConfig = {
        ...configFor(imported.config.method, DIMENSIONS),
        ...imported.config,
      } as RunConfig;
      const rebuilt = definitions[imported.config.method]!.modelFromCheckpoint(
        importedConfig,
        DIMENSIONS,
        imported.checkpoint,
      );
      const rows = 200;
      expect(maxDifference(reconstruct(rebuilt, rows), reconstruct(model, rows))).toBeLessThan(
        ROUND_TRIP_TOLERANCE,
      );
      if (method === 'sae-topk') {
        expect(imported.config).toMatchObject({ method: 'sae-topk', k: 3 });
        const codes = rebuilt.encode(data, rows);
        expect(codes.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0) / rows).toBe(3);
      }
    });
  },
);

test('an independent numpy reader computes the same MSE as the model', async (context) => {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    context.skip('numpy is not available to /usr/bin/python3: the cross-check needs it');
    return;
  }
  const script = `
import json, struct, sys
import numpy as np

def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, entry in header.items():
        if name == '__metadata__':
            continue
        assert entry['dtype'] == 'F32'
        begin, end = entry['data_offsets']
        out[name] = np.frombuffer(data[begin:end], dtype='<f4').reshape(entry['shape']).astype(np.float64)
    return out

folder, data_path, rows, dims = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
cfg = json.load(open(folder + '/cfg.json'))
w = read_safetensors(folder + '/sae_weights.safetensors')
x = np.fromfile(data_path, dtype='<f4').reshape(rows, dims).astype(np.float64)
pre = (x - w['b_dec']) @ w['W_enc'] + w['b_enc']
arch = cfg['architecture']
if arch == 'standard':
    f = np.maximum(pre, 0)
elif arch == 'topk':
    f = np.maximum(pre, 0)
    drop = np.argsort(-f, axis=1)[:, cfg['k']:]
    np.put_along_axis(f, drop, 0, axis=1)
elif arch == 'jumprelu':
    f = np.where((pre > w['threshold']) & (pre > 0), pre, 0)
xhat = f @ w['W_dec'] + w['b_dec']
print(json.dumps({'mse': float(np.mean(np.sum((x - xhat) ** 2, axis=1) / dims)), 'l0': float(np.mean(np.sum(f != 0, axis=1)))}))
`;
  const rows = 300;
  const dataPath = join(folder, 'rows.f32');
  writeFileSync(dataPath, Buffer.from(data.buffer, data.byteOffset, rows * DIMENSIONS * 4));
  for (const method of ['sae-relu', 'sae-topk', 'sae-jumprelu', 'sae-batchtopk'] as const) {
    const { model } = trained(method);
    const target = join(folder, `numpy-${method}`);
    await exportSaeLens(target, model.saeLens(), {});
    const output = execFileSync(
      '/usr/bin/python3',
      ['-c', script, target, dataPath, String(rows), String(DIMENSIONS)],
      {
        encoding: 'utf8',
      },
    );
    const fromNumpy = JSON.parse(output) as { mse: number; l0: number };
    const reconstruction = reconstruct(model, rows);
    let squared = 0;
    for (let i = 0; i < rows * DIMENSIONS; i++) squared += (data[i]! - reconstruction[i]!) ** 2;
    const mse = squared / (rows * DIMENSIONS);
    expect(Math.abs(fromNumpy.mse - mse) / mse, method).toBeLessThan(NUMPY_RELATIVE_TOLERANCE);
  }
});

describe('import of other layouts', () => {
  test('a pre-6.0 SAELens config with activation_fn "topk" is a TopK SAE', async () => {
    const target = join(folder, 'old-topk');
    await exportSaeLens(target, tiny, {});
    writeFileSync(
      join(target, 'cfg.json'),
      JSON.stringify({
        d_in: 2,
        d_sae: 4,
        activation_fn: 'topk',
        activation_fn_kwargs: { k: 2 },
        apply_b_dec_to_input: true,
      }),
    );
    const imported = await importDictionary(target);
    expect(imported.config).toEqual({ method: 'sae-topk', features: 4, k: 2 });
  });

  test('bfloat16 weights without a config are read, a threshold meaning JumpReLU', async () => {
    // bfloat16 is the upper half of a float32; these values are exact in it.
    const bf16 = (values: number[]) => {
      const bytes = Buffer.alloc(values.length * 2);
      values.forEach((v, i) => {
        const f = Buffer.alloc(4);
        f.writeFloatLE(v, 0);
        bytes.writeUInt16LE(f.readUInt16LE(2), 2 * i);
      });
      return bytes;
    };
    const parts: [string, number[], number[]][] = [
      ['W_dec', [1, 2], [0.5, -2]],
      ['W_enc', [2, 1], [1, 0.25]],
      ['b_dec', [2], [0, 1]],
      ['b_enc', [1], [-0.5]],
      ['threshold', [1], [0.125]],
    ];
    const header: Record<string, unknown> = {};
    let offset = 0;
    for (const [name, shape, values] of parts) {
      header[name] = { dtype: 'BF16', shape, data_offsets: [offset, offset + 2 * values.length] };
      offset += 2 * values.length;
    }
    let json = JSON.stringify(header);
    json += ' '.repeat((8 - (json.length % 8)) % 8);
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(json.length));
    const file = join(folder, 'bf16.safetensors');
    writeFileSync(
      file,
      Buffer.concat([length, Buffer.from(json), ...parts.map(([, , values]) => bf16(values))]),
    );
    const imported = await importDictionary(file);
    expect(imported.config).toEqual({ method: 'sae-jumprelu', features: 1 });
    expect(Array.from(imported.checkpoint.W_dec!.values)).toEqual([0.5, -2]);
    expect(Array.from(imported.checkpoint.threshold!.values)).toEqual([0.125]);
  });

  test('apply_b_dec_to_input = false is folded into the encoder bias', async () => {
    const target = join(folder, 'no-b-dec-input');
    await exportSaeLens(target, { ...tiny, architecture: 'standard' }, {});
    writeFileSync(
      join(target, 'cfg.json'),
      JSON.stringify({ architecture: 'standard', apply_b_dec_to_input: false }),
    );
    const imported = await importDictionary(target);
    // b_enc' = b_enc + b_dec W_enc: feature 0 gets 0 + 0.125 * 1 + (-0.25) * 0 = 0.125.
    expect(imported.checkpoint.b_enc!.values[0]).toBeCloseTo(0.125, 7);
    expect(imported.checkpoint.b_enc!.values[3]).toBeCloseTo(1 + 0.125 * -1 + -0.25 * 2, 7);
  });

  test('sparsify and dictionary_learning layouts give the same model as SAELens', async () => {
    const { model } = trained('sae-topk');
    const w = model.saeLens();
    const d = DIMENSIONS;
    const F = w.b_enc.length;
    const transposed = (values: Float32Array, rows: number, columns: number) => {
      const out = new Float32Array(values.length);
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < columns; c++) out[c * rows + r] = values[r * columns + c]!;
      return out;
    };
    const sparsifyFolder = join(folder, 'sparsify');
    await exportSaeLens(sparsifyFolder, w, {});
    rmSync(join(sparsifyFolder, 'sae_weights.safetensors'));
    writeFileSync(
      join(sparsifyFolder, 'cfg.json'),
      JSON.stringify({ k: 3, num_latents: F, normalize_decoder: true }),
    );
    writeFileSync(
      join(sparsifyFolder, 'sae.safetensors'),
      encodeSafetensors({
        'encoder.weight': { shape: [F, d], values: transposed(w.W_enc, d, F) },
        'encoder.bias': { shape: [F], values: w.b_enc },
        W_dec: { shape: [F, d], values: w.W_dec },
        b_dec: { shape: [d], values: w.b_dec },
      }),
    );
    const fromSparsify = await importDictionary(sparsifyFolder);
    expect(fromSparsify.source).toBe('sparsify');
    expect(fromSparsify.config).toEqual({ method: 'sae-topk', features: F, k: 3 });

    const dictionaryFile = join(folder, 'ae.safetensors');
    writeFileSync(
      dictionaryFile,
      encodeSafetensors({
        'encoder.weight': { shape: [F, d], values: transposed(w.W_enc, d, F) },
        'encoder.bias': { shape: [F], values: w.b_enc },
        'decoder.weight': { shape: [d, F], values: transposed(w.W_dec, F, d) },
        bias: { shape: [d], values: w.b_dec },
        k: { shape: [], values: Float32Array.of(3) },
      }),
    );
    const fromDictionaryLearning = await importDictionary(dictionaryFile);
    expect(fromDictionaryLearning.source).toBe('dictionary_learning');
    expect(fromDictionaryLearning.config).toEqual({ method: 'sae-topk', features: F, k: 3 });

    const rows = 100;
    const config = configFor('sae-topk', d, { features: F, k: 3 });
    for (const imported of [fromSparsify, fromDictionaryLearning]) {
      const rebuilt = saeTopkMethod.modelFromCheckpoint(config, d, imported.checkpoint);
      expect(maxDifference(reconstruct(rebuilt, rows), reconstruct(model, rows))).toBeLessThan(
        ROUND_TRIP_TOLERANCE,
      );
    }
  });

  test('refuses pickles, unknown layouts, missing paths and bad shapes with what to do', async () => {
    const pickle = join(folder, 'ae.pt');
    writeFileSync(pickle, 'not really');
    await expect(importDictionary(pickle)).rejects.toThrow(/pickle.*safetensors/);
    const unknown = join(folder, 'unknown.safetensors');
    writeFileSync(
      unknown,
      encodeSafetensors({ weights: { shape: [2], values: Float32Array.of(1, 2) } }),
    );
    await expect(importDictionary(unknown)).rejects.toThrow(
      /not a known SAE layout; it holds weights/,
    );
    await expect(importDictionary(join(folder, 'missing'))).rejects.toThrow(/does not exist/);
    const badShape = join(folder, 'bad-shape.safetensors');
    writeFileSync(
      badShape,
      encodeSafetensors({
        W_enc: { shape: [2, 3], values: new Float32Array(6) },
        W_dec: { shape: [2, 3], values: new Float32Array(6) },
        b_enc: { shape: [3], values: new Float32Array(3) },
        b_dec: { shape: [2], values: new Float32Array(2) },
      }),
    );
    await expect(importDictionary(badShape)).rejects.toThrow(
      /W_dec has shape \[2, 3\], expected \[3, 2\]/,
    );
    const nan = join(folder, 'nan.safetensors');
    writeFileSync(
      nan,
      encodeSafetensors({
        W_enc: { shape: [1, 1], values: Float32Array.of(NaN) },
        W_dec: { shape: [1, 1], values: Float32Array.of(1) },
        b_enc: { shape: [1], values: Float32Array.of(0) },
        b_dec: { shape: [1], values: Float32Array.of(0) },
      }),
    );
    await expect(importDictionary(nan)).rejects.toThrow(/W_enc holds NaN/);
  });
});
