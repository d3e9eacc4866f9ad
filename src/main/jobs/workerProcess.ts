/**
 * One compute worker as a child process: forked with an IPC channel and the 'advanced'
 * serialization (typed arrays pass as they are), in its own process so a crash or an
 * out-of-memory kill cannot take the app or the CLI down. Under Electron, fork runs the
 * same file with ELECTRON_RUN_AS_NODE so it is a plain Node process.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { MainToWorker, WorkerToMain } from '../../worker/protocol';
import { createLogger } from '../service/log';

const log = createLogger('worker');
/** Bytes of the worker's stderr kept to explain a crash. */
const STDERR_TAIL_BYTES = 4000;

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The end of what the worker wrote to stderr. */
  stderrTail: string;
}

export class WorkerProcess {
  readonly exited: Promise<WorkerExit>;
  private readonly child: ChildProcess;
  private stderrTail = '';

  constructor(workerPath: string, onMessage: (message: WorkerToMain) => void) {
    this.child = fork(workerPath, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    this.child.on('message', (message) => onMessage(message as WorkerToMain));
    // The worker's own prints (tfjs banners, crash traces) go to the log, never to stdout.
    this.child.stdout?.on('data', (chunk: Buffer) => log.debug(chunk.toString().trimEnd()));
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-STDERR_TAIL_BYTES);
      log.debug(chunk.toString().trimEnd());
    });
    this.exited = new Promise((resolve) => {
      this.child.on('error', (error) => {
        this.stderrTail += `\n${error.message}`;
      });
      this.child.on('exit', (code, signal) =>
        resolve({ code, signal, stderrTail: this.stderrTail.trim() }),
      );
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  send(message: MainToWorker): void {
    if (this.child.connected) this.child.send(message);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}
