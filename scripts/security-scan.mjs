#!/usr/bin/env node
/**
 * Static security scan of the Electron app with electronegativity: scans the sources (src/,
 * main, preload and renderer together, so that checks about the whole app see all of it) and
 * the built app (out/, when `npm run build` has made it), prints every finding, and exits 1
 * on any HIGH or CRITICAL finding that is not a reviewed false positive whose evidence still
 * holds. Exits 2 when the scanner itself fails, so that a broken scan never passes.
 *
 *   node scripts/security-scan.mjs            scan src/ and out/
 *   node scripts/security-scan.mjs --json     the findings as JSON on stdout
 *   node scripts/security-scan.mjs --input DIR   scan DIR (relative to the project) instead
 *
 * Note: electronegativity tries to download the list of Electron releases at start; without
 * network it says "No connectivity?" and goes on. The Electron version is passed explicitly
 * (-e), from node_modules/electron, so the checks judge defaults of the version we ship.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCANNER = join(ROOT, 'node_modules', '.bin', 'electronegativity');
const BLOCKING = new Set(['HIGH', 'CRITICAL']);

const read = (path) => readFileSync(join(ROOT, path), 'utf8');

/** The window is built by mainWindowOptions(); these must hold in its source. */
function windowOptionsSay(...settings) {
  const options = read('src/main/electron/windowOptions.ts');
  const main = read('src/main/index.ts');
  return (
    settings.every((setting) => options.includes(setting)) &&
    /new BrowserWindow\(mainWindowOptions\(/.test(main) &&
    !/new BrowserWindow\((?!mainWindowOptions\()/.test(main)
  );
}

/**
 * Findings reviewed and judged false: `check` and `file` say which, `why` is the review, and
 * `evidence` re-checks the reason on every scan, so a change that makes a finding true again
 * makes the scan fail again.
 */
const FALSE_POSITIVES = [
  {
    check: /^(CONTEXT_ISOLATION|NODE_INTEGRATION|SANDBOX|REMOTE_MODULE|AUXCLICK)_JS_CHECK$/,
    file: /(^|\/)main\/index\.(ts|js)$/,
    why:
      'the window options come from mainWindowOptions() (src/main/electron/windowOptions.ts), ' +
      'which the scanner cannot follow; it sets contextIsolation: true, sandbox: true, ' +
      "nodeIntegration: false, disableBlinkFeatures: 'Auxclick' (test/safety/electron.test.ts " +
      'checks them), and Electron 14+ has no remote module',
    evidence: () =>
      windowOptionsSay(
        'contextIsolation: true',
        'sandbox: true',
        'nodeIntegration: false',
        "disableBlinkFeatures: 'Auxclick'",
      ),
  },
  {
    check: /^CSP_GLOBAL_CHECK$/,
    file: /(^|\/)main\/index\.(ts|js)$/,
    why:
      'the header policy is CONTENT_SECURITY_POLICY (src/shared/contentSecurityPolicy.ts), joined ' +
      "from an array the scanner does not evaluate; it allows scripts from 'self' only",
    evidence: () => {
      const options = read('src/shared/contentSecurityPolicy.ts');
      return (
        options.includes(`"script-src 'self'"`) &&
        !/unsafe-eval/.test(options) &&
        !/script-src[^"]*unsafe-inline/.test(options)
      );
    },
  },
];

/** Parses electronegativity's CSV: quoted fields may hold commas. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const character = text[i];
    if (quoted) {
      if (character === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (character === '"') quoted = false;
      else field += character;
    } else if (character === '"') quoted = true;
    else if (character === ',') {
      row.push(field.trim());
      field = '';
    } else if (character === '\n') {
      row.push(field.trim());
      rows.push(row);
      row = [];
      field = '';
    } else if (character !== '\r') field += character;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field.trim()]);
  return rows.filter((cells) => cells.length > 1);
}

function scan(input, electronVersion, folder) {
  const output = join(folder, `${input.replace(/\W/g, '_')}.csv`);
  const result = spawnSync(
    SCANNER,
    ['-i', join(ROOT, input), '-o', output, '-r', '-v', 'false', '-e', electronVersion],
    { encoding: 'utf8', timeout: 300_000 },
  );
  if (result.status !== 0 || !existsSync(output)) {
    throw new Error(
      `electronegativity failed on ${input} (exit ${result.status}): ${result.stderr || result.stdout}`,
    );
  }
  const [header, ...rows] = parseCsv(readFileSync(output, 'utf8'));
  const column = (name) => header.findIndex((cell) => cell.toLowerCase() === name);
  const at = {
    issue: column('issue'),
    severity: column('severity'),
    confidence: column('confidence'),
    file: column('filename'),
    location: column('location'),
    description: column('description'),
  };
  if (Object.values(at).some((index) => index < 0)) {
    throw new Error(`unexpected electronegativity CSV header: ${header.join(', ')}`);
  }
  return rows.map((cells) => {
    const file = cells[at.file] === 'N/A' ? 'N/A' : `${input}/${cells[at.file]}`;
    return {
      input,
      check: cells[at.issue],
      severity: cells[at.severity].toUpperCase(),
      confidence: cells[at.confidence],
      file,
      location: cells[at.location],
      description: cells[at.description],
    };
  });
}

function review(finding) {
  const known = FALSE_POSITIVES.find(
    (entry) => entry.check.test(finding.check) && entry.file.test(finding.file),
  );
  if (known === undefined) return { ...finding, verdict: 'open' };
  if (!known.evidence())
    return {
      ...finding,
      verdict: 'open',
      note: `was a false positive, but no longer: ${known.why}`,
    };
  return { ...finding, verdict: 'false positive', note: known.why };
}

function main() {
  const asJson = process.argv.includes('--json');
  if (!existsSync(SCANNER)) {
    console.error('security-scan: node_modules/.bin/electronegativity is missing: run npm ci');
    return 2;
  }
  const electronVersion = JSON.parse(read('node_modules/electron/package.json')).version;
  const given = process.argv.flatMap((argument, index) =>
    argument === '--input' && process.argv[index + 1] !== undefined
      ? [process.argv[index + 1]]
      : [],
  );
  const inputs =
    given.length > 0 ? given : ['src', ...(existsSync(join(ROOT, 'out', 'main')) ? ['out'] : [])];
  const folder = mkdtempSync(join(tmpdir(), 'basis-security-scan-'));
  let findings;
  try {
    findings = inputs.flatMap((input) => scan(input, electronVersion, folder)).map(review);
  } catch (error) {
    console.error(`security-scan: ${error.message}`);
    return 2;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }

  const blocking = findings.filter(
    (finding) => finding.verdict === 'open' && BLOCKING.has(finding.severity),
  );
  if (asJson) {
    console.log(
      JSON.stringify({ electronVersion, inputs, findings, blocking: blocking.length }, null, 2),
    );
  } else {
    console.log(
      `electronegativity on ${inputs.join(', ')} (Electron ${electronVersion}): ${findings.length} finding(s)`,
    );
    for (const finding of findings) {
      console.log(
        `  ${finding.severity.padEnd(8)} ${finding.check.padEnd(40)} ${finding.file}:${finding.location}  [${finding.verdict}]`,
      );
      if (finding.note) console.log(`           ${finding.note}`);
      else if (finding.verdict === 'open') console.log(`           ${finding.description}`);
    }
    console.log(
      blocking.length === 0
        ? 'security-scan: no open HIGH or CRITICAL finding'
        : `security-scan: ${blocking.length} open HIGH or CRITICAL finding(s)`,
    );
  }
  return blocking.length === 0 ? 0 : 1;
}

process.exitCode = main();
