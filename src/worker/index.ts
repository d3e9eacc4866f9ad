/**
 * Compute worker entry: a child process forked by main (src/main/jobs/workerProcess.ts) with
 * an IPC channel. It waits for one task (src/worker/protocol.ts), runs it, reports back and
 * exits. It exits too when main goes away, so a killed app leaves no orphan computing.
 */
import { bundledFile } from '../main/service/resources';
import { isCancelled, serializeError } from '../shared/errors';
import { useCodingThreads } from './ica/codingThreads';
import type { MainToWorker, WorkerToMain } from './protocol';
import { CancelledAtStep, type Channel, type Outgoing } from './training/channel';
import { runTraining } from './training/train';
import { runAnalysis, runReconstruction, runWeights } from './training/tasks';

let cancelRequested = false;
let taskStarted = false;

function post(message: WorkerToMain): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || !process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

async function runTask(task: Exclude<MainToWorker, { type: 'cancel' }>): Promise<void> {
  const channel: Channel = {
    send: (message: Outgoing) =>
      void post({ ...message, requestId: task.requestId } as WorkerToMain),
    cancelled: () => cancelRequested,
  };
  try {
    switch (task.type) {
      case 'train':
        await runTraining(task, channel);
        break;
      case 'analyze':
        await runAnalysis(task, channel);
        break;
      case 'reconstruct':
        await runReconstruction(task, channel);
        break;
      case 'export-weights':
        await runWeights(task, channel);
        break;
    }
  } catch (error) {
    if (isCancelled(error)) {
      const step = error instanceof CancelledAtStep ? error.step : 0;
      await post({ type: 'cancelled', requestId: task.requestId, step });
    } else {
      await post({ type: 'error', requestId: task.requestId, error: serializeError(error) });
    }
  }
  // Let queued messages flush, then leave.
  await post({ type: 'log', requestId: task.requestId, level: 'info', message: 'worker exiting' });
  process.disconnect?.();
  process.exit(0);
}

if (process.send) {
  // A missing script only leaves coding on this thread (its helpers never start).
  useCodingThreads(bundledFile('codingThread.js'));
  process.on('message', (message: MainToWorker) => {
    if (message.type === 'cancel') {
      cancelRequested = true;
      return;
    }
    if (taskStarted) return;
    taskStarted = true;
    void runTask(message);
  });
  process.on('disconnect', () => process.exit(0));
  // Ctrl-C in a terminal reaches the whole process group; main decides what it means (a
  // clean cancel), so the worker must not die of it.
  process.on('SIGINT', () => undefined);
}
