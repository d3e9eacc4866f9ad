/**
 * Entry of a coding helper thread (bundled as out/main/codingThread.js; started by
 * codingThreads.ts). It waits for jobs on its port: a block of rows to code on shared
 * memory, solved by the same single-thread solver the caller uses, with the statistics
 * written back beside the codes.
 */
import { parentPort, workerData } from 'node:worker_threads';

import { codeRows } from './inference';
import { CODING_STATE, readCodingJob, type CodingJob, writeCodingStats } from './codingJob';

const control = new Int32Array((workerData as { control: SharedArrayBuffer }).control);

parentPort!.on('message', (job: CodingJob) => {
  let state: number = CODING_STATE.failed;
  try {
    const { problem, correlations, rows, codes, options } = readCodingJob(job);
    writeCodingStats(job, codeRows(problem, correlations, rows, codes, options));
    state = CODING_STATE.done;
  } catch {
    // The caller codes the block itself; this thread stays for the next one.
  }
  Atomics.store(control, 0, state);
  Atomics.notify(control, 0);
});
Atomics.store(control, 1, 1);
Atomics.notify(control, 1);
