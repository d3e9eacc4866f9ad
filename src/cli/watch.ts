/**
 * Follows a run this process started until it ends: a progress bar on stderr, Ctrl-C
 * cancels it (the worker saves a checkpoint and the run is marked cancelled), and the end
 * becomes an exit: 0 completed, an error for failed, a cancellation for cancelled.
 */
import type { RunSummary } from '../shared/contract';
import { BasisError, CancelledError } from '../shared/errors';
import type { CommandContext } from './command';
import { ProgressBar } from './progress';

export async function watchRun(context: CommandContext, run: RunSummary): Promise<RunSummary> {
  const service = context.service();
  const bar = new ProgressBar(context.stderr, `run ${run.id} ${run.method}`);
  const unsubscribe = service.onProgress((progress) => {
    if (progress.runId === run.id) bar.update(progress);
  });
  const cancel = (): void => {
    bar.finish();
    context.stderr.write(`basis: cancelling run ${run.id}...\n`);
    void service.cancelRun(run.id).catch(() => undefined);
  };
  if (context.signal.aborted) cancel();
  else context.signal.addEventListener('abort', cancel, { once: true });
  let finished: RunSummary;
  try {
    finished = await service.waitForRun(run.id);
  } finally {
    unsubscribe();
    context.signal.removeEventListener('abort', cancel);
    bar.finish();
  }
  if (finished.status === 'cancelled') {
    throw new CancelledError(
      `run ${run.id} cancelled at step ${finished.step}; continue it with "basis resume ${run.id}"`,
    );
  }
  if (finished.status !== 'completed') {
    const reason = finished.error?.message ?? finished.status;
    const kind = finished.error?.kind === 'input' ? 'input' : 'bug';
    throw new BasisError(kind, `run ${run.id} ${finished.status}: ${reason}`);
  }
  return finished;
}
