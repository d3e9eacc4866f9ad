/**
 * How a task talks back to main: `send` posts a protocol message (with the task's request
 * id), `cancelled` says whether main asked to stop. Tests can run tasks with an in-memory
 * channel; the worker entry wires it to process.send.
 */
import { CancelledError } from '../../shared/errors';
import type { WorkerToMain } from '../protocol';

/** A message without its request id (the channel adds it). */
export type Outgoing = WorkerToMain extends infer M
  ? M extends WorkerToMain
    ? Omit<M, 'requestId'>
    : never
  : never;

export interface Channel {
  send(message: Outgoing): void;
  /** True once main asked to cancel; checked between steps and chunks. */
  cancelled(): boolean;
}

/** Cancellation that knows how many steps had completed (the cancelled run's step). */
export class CancelledAtStep extends CancelledError {
  constructor(readonly step: number) {
    super(`cancelled at step ${step}`);
  }
}
