#!/usr/bin/env node
// The `basis` command: runs the built CLI (npm run build produces out/main/cli.js).
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'out', 'main', 'cli.js');
if (!existsSync(entry)) {
  console.error(`basis: ${entry} is missing: run "npm run build" in ${root} first`);
  process.exit(1);
}
createRequire(import.meta.url)(entry);
