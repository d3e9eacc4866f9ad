// Lets the ICA benchmarks code on every core, as the worker process does: the helper
// threads run the built out/main/codingThread.js (`npm run bench` builds it first), and
// are started and listening before the first timed batch.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

import { codingThreadsReady, useCodingThreads } from '../src/worker/ica/codingThreads';

const script = resolve('out/main/codingThread.js');
if (!existsSync(script)) {
  throw new Error('out/main/codingThread.js is missing: run "npm run build" first');
}
useCodingThreads(script);
await codingThreadsReady();
