// Runs the suite's speed comparisons in sequence, each in its own vitest process, and prints
// one table: benchmark, Basis time, peer time, peer time / Basis time, target, met?
//   npm run bench                      (all)
//   npm run bench -- sae loader        (only the named groups: sae, ica-learning, ica-inference, loader)
// The same table goes to bench/results/summary.md. Each benchmark's full output goes to
// bench/results/<group>.log. Environment variables reach the benchmarks unchanged (for
// example BASIS_BENCH_GB=1 for smaller loader files, BASIS_THREADS for the SAE threads).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const resultsFolder = join(root, 'bench', 'results');

/** A number after `pattern` in `text` (the first capture group), or undefined. */
function numberAfter(text, pattern) {
  const match = pattern.exec(text);
  return match === null ? undefined : Number(match[1]);
}

/**
 * Each group: the vitest command and a parser from its output to rows of
 * { name, basis, peer, ratio, target } (times as printed text, ratio = peer time / Basis time).
 */
const GROUPS = [
  {
    name: 'sae',
    args: ['--config', 'bench/sae-vitest.config.ts', 'bench/sae-step.bench.ts'],
    parse(output) {
      const rows = [];
      for (const method of ['sae-topk', 'sae-relu', 'sae-relu (trained density, L0 32)']) {
        const line = output.split('\n').find((text) => text.startsWith(`${method}:`));
        if (line === undefined) continue;
        const basis = numberAfter(line, /Basis (\d+(?:\.\d+)?) ms\/step wall/);
        const peer = numberAfter(line, /PyTorch (\d+(?:\.\d+)?) ms wall/);
        const basisThreads = numberAfter(line, /Basis [^;]*\((\d+) threads?\)/);
        const threads = numberAfter(line, /PyTorch [^;]*\((\d+) threads?\)/);
        const count = (n) => (n === undefined ? '' : ` (${n} thread${n === 1 ? '' : 's'})`);
        rows.push({
          name: `${method} step (d 512, 4096 features, batch 1024)${count(basisThreads)} vs PyTorch${count(threads)}`,
          basis: basis === undefined ? undefined : `${basis} ms`,
          peer: peer === undefined ? undefined : `${peer} ms`,
          ratio: basis && peer ? peer / basis : undefined,
          target: 1,
        });
      }
      return rows;
    },
  },
  {
    name: 'ica-learning',
    args: ['--config', 'bench/ica.vitest.config.ts', 'bench/ica-learning.run.ts'],
    parse(output) {
      // Basis's time against the fastest sklearn configuration that reached the target; when
      // none did, the ratio is a lower bound (">=", cap / Basis time) and the peer column
      // says so; when Basis did not, an upper bound ("<=", peer time / Basis's cap).
      const basis = numberAfter(output, /basis ica unit-norm: (\d+(?:\.\d+)?) s to MMCS/);
      const basisCap = numberAfter(output, /basis ica unit-norm: not reached in (\d+(?:\.\d+)?) s/);
      const basisL0 = numberAfter(output, /basis ica unit-norm: .*mean L0 (\d+(?:\.\d+)?)/);
      const peers = output
        .split('\n')
        .filter((line) => line.startsWith('sklearn MiniBatchDictionaryLearning'))
        .map((line) => ({
          seconds: numberAfter(line, /\): (\d+(?:\.\d+)?) s to MMCS/),
          l0: numberAfter(line, /mean L0 (\d+(?:\.\d+)?)/),
        }))
        .filter((peer) => peer.seconds !== undefined)
        .sort((a, b) => a.seconds - b.seconds);
      const cap = numberAfter(output, /\): not reached in (\d+(?:\.\d+)?) s to MMCS/);
      const bound = /peer time \/ basis time: (>=|<=) /.exec(output)?.[1];
      const peer = peers.length > 0 ? `${peers[0].seconds} s` : cap && `> ${cap} s (cap)`;
      // The two sides' code densities, since the comparison is not at matched L0.
      const l0 = peers.length > 0 ? `, mean L0 Basis ${basisL0} / sklearn ${peers[0].l0}` : '';
      return [
        {
          name:
            `ica learning to MMCS 0.95 (L 256, 512 planted${l0}) vs sklearn ` +
            'MiniBatchDictionaryLearning' +
            (bound ? ` (ratio is ${bound === '>=' ? 'a lower' : 'an upper'} bound)` : ''),
          basis: basis !== undefined ? `${basis} s` : basisCap && `> ${basisCap} s (cap)`,
          peer,
          ratio: numberAfter(output, /peer time \/ basis time: (?:[<>]= )?(\d+(?:\.\d+)?)/),
          target: 2,
        },
      ];
    },
  },
  {
    name: 'ica-inference',
    args: ['--config', 'bench/ica.vitest.config.ts', 'bench/ica-inference.run.ts'],
    parse(output) {
      // One line per comparison at equal KKT tolerance:
      //   sklearn NAME  T s  KKT/alpha K  mean active A
      //     | basis (tolerance X)  T s  KKT/alpha K  mean active A | peer/basis R
      const rows = [];
      for (const line of output.split('\n').filter((text) => text.startsWith('sklearn '))) {
        const [theirs = '', ours = ''] = line.split(' | ');
        const name = /^sklearn (.+?)\s{2,}/.exec(theirs)?.[1] ?? 'sklearn';
        const tolerance = /^basis \(tolerance ([^)]+)\)/.exec(ours)?.[1] ?? '?';
        const peer = numberAfter(theirs, /\s(\d+(?:\.\d+)?) s\s/);
        const basis = numberAfter(ours, /\s(\d+(?:\.\d+)?) s\s/);
        rows.push({
          name:
            `ica inference, 10000 rows, 2x dictionary, Basis at KKT ${tolerance} ` +
            `vs sklearn ${name}`,
          basis: basis === undefined ? undefined : `${basis} s`,
          peer: peer === undefined ? undefined : `${peer} s`,
          ratio: numberAfter(line, /peer\/basis (\d+(?:\.\d+)?)/),
          target: 2,
        });
      }
      return rows;
    },
  },
  {
    name: 'loader',
    args: ['--config', 'bench/loader.vitest.config.ts'],
    parse(output) {
      // Reading the same bytes: time ratio = Basis rate / cat rate.
      const rows = [];
      for (const dtype of ['float16', 'float32']) {
        const section = output.split(`${dtype} file:`)[1]?.split(/float32 file:|peak RSS/)[0] ?? '';
        const cat = numberAfter(section, /cat > \/dev\/null: (\d+(?:\.\d+)?) MB\/s/);
        const basis = numberAfter(section, /readRows, 4 MB float32 blocks: (\d+(?:\.\d+)?) MB\/s/);
        rows.push({
          name: `loader, ${dtype} .npy to float32 rows vs cat (page-cache hot)`,
          basis: basis === undefined ? undefined : `${basis} MB/s`,
          peer: cat === undefined ? undefined : `${cat} MB/s`,
          ratio: basis && cat ? basis / cat : undefined,
          target: 0.5,
        });
      }
      return rows;
    },
  },
];

function runGroup(group) {
  const started = Date.now();
  const run = spawnSync('npx', ['vitest', 'run', ...group.args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
    maxBuffer: 256 * 1024 * 1024,
  });
  const output = `${run.stdout ?? ''}\n${run.stderr ?? ''}`;
  writeFileSync(join(resultsFolder, `${group.name}.log`), output);
  const seconds = (Date.now() - started) / 1000;
  let rows = group.parse(output);
  if (rows.length === 0) rows = [{ name: group.name, target: undefined }];
  const failed = run.status !== 0;
  console.log(
    `${group.name}: ${failed ? `exit ${run.status ?? run.signal}` : 'done'} in ${seconds.toFixed(0)} s (log: bench/results/${group.name}.log)`,
  );
  return rows.map((row) => ({ ...row, failed }));
}

function table(rows) {
  const lines = [
    '| benchmark | Basis | peer | peer / Basis (time) | target | met? |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of rows) {
    const ratio = row.ratio === undefined || Number.isNaN(row.ratio) ? undefined : row.ratio;
    const met =
      ratio === undefined || row.target === undefined
        ? row.failed
          ? 'failed (see log)'
          : 'no result'
        : ratio >= row.target
          ? 'yes'
          : 'no';
    lines.push(
      `| ${row.name} | ${row.basis ?? '-'} | ${row.peer ?? '-'} | ${ratio === undefined ? '-' : ratio.toFixed(2)} | ${row.target === undefined ? '-' : `>= ${row.target}`} | ${met} |`,
    );
  }
  return lines.join('\n');
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !GROUPS.some((group) => group.name === name));
if (unknown.length > 0) {
  console.error(
    `unknown benchmark group ${unknown.join(', ')}: choose from ${GROUPS.map((g) => g.name).join(', ')}`,
  );
  process.exit(2);
}
mkdirSync(resultsFolder, { recursive: true });
const header = [
  `Date: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
  `CPU: ${cpus()[0]?.model ?? 'unknown'}, ${availableParallelism()} cores; load average at start ${loadavg()
    .map((load) => load.toFixed(1))
    .join(', ')}`,
  `Node ${process.version}; peers: /usr/bin/python3 (PyTorch, scikit-learn), cat`,
].join('\n');
console.log(header);
// The ICA benchmarks' helper threads run the built out/main/codingThread.js.
const build = spawnSync('npx', ['electron-vite', 'build'], { cwd: root, encoding: 'utf8' });
if (build.status !== 0) {
  console.error(`electron-vite build failed:\n${build.stdout}\n${build.stderr}`);
  process.exit(1);
}
const rows = [];
let summary = '';
for (const group of GROUPS) {
  if (wanted.length > 0 && !wanted.includes(group.name)) continue;
  rows.push(...runGroup(group));
  // Written after every group, so an interrupted run still leaves the finished rows.
  summary = `${header}\n\n${table(rows)}\n`;
  writeFileSync(join(resultsFolder, 'summary.md'), summary);
}
console.log(`\n${summary}\nwritten to bench/results/summary.md`);
process.exit(rows.some((row) => row.failed) ? 1 : 0);
