/**
 * Entry of a coding helper thread (bundled as out/main/codingThread.js; started by
 * codingThreads.ts). It waits for jobs on its port: a block of rows to code on shared
 * memory, solved by the same single-thread solver the caller uses, with the statistics
 * written back beside the codes. It counts the rows it codes, so that the caller can tell a
 * slow helper from a dead one, and on its way out it fails the job in hand, so that a
 * caller blocked on it wakes.
 */
import { parentPort, workerData } from 'node:worker_threads';

import { codeRows } from './inference';
import {
  CODING_STATE,
  CONTROL,
  readCodingJob,
  type CodingJob,
  writeCodingStats,
} from './codingJob';

const control = new Int32Array((workerData as { control: SharedArrayBuffer }).control);
const rowDone = () => void Atomics.add(control, CONTROL.progress, 1);

function finish(state: number): void {
  Atomics.store(control, CONTROL.state, state);
  Atomics.notify(control, CONTROL.state);
}

parentPort!.on('message', (job: CodingJob) => {
  let state: number = CODING_STATE.failed;
  try {
    const { problem, correlations, rows, codes, options } = readCodingJob(job);
    writeCodingStats(job, codeRows(problem, correlations, rows, codes, options, rowDone));
    state = CODING_STATE.done;
  } catch {
    // The caller codes the block itself; this thread stays for the next one.
  }
  finish(state);
});
process.on('exit', () => {
  Atomics.store(control, CONTROL.ready, -1);
  if (Atomics.load(control, CONTROL.state) === CODING_STATE.busy) finish(CODING_STATE.failed);
});
Atomics.store(control, CONTROL.ready, 1);
Atomics.notify(control, CONTROL.ready);
parentPort!.postMessage('ready');
