/**
 * A Web Worker (module) that trains an SAE on tensorflow.js's WebGPU backend: the page posts
 * GpuRequests (protocol.ts), the worker answers each with one GpuReply. Requests run one at a
 * time in arrival order, so a step never overlaps another step or a parameter read.
 *
 * Start it with `new Worker(new URL('./saeWorker.ts', import.meta.url), { type: 'module' })`.
 * Chromium offers a WebGPU adapter only with a GPU it supports, or, without one, the
 * SwiftShader software adapter when started with --enable-unsafe-webgpu (docs/gpu.md).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import type { GpuAdapterInfo, GpuReply, GpuRequest } from './protocol';
import { TensorSaeTrainer } from './saeTensorTrainer';

/**
 * The parts of the worker's global scope used here (it compiles with and without the DOM
 * library).
 */
interface WorkerScope {
  onmessage: ((event: { data: GpuRequest }) => void) | null;
  postMessage(message: GpuReply): void;
  navigator: { gpu?: { requestAdapter(): Promise<AdapterLike | null> } };
}

interface AdapterLike {
  isFallbackAdapter?: boolean;
  info?: {
    vendor?: string;
    architecture?: string;
    description?: string;
    isFallbackAdapter?: boolean;
  };
}

class NoAdapterError extends Error {}

const scope = globalThis as unknown as WorkerScope;
let trainer: TensorSaeTrainer | null = null;
let queue: Promise<void> = Promise.resolve();

scope.onmessage = (event) => {
  const request = event.data;
  queue = queue.then(() => handle(request));
};

async function handle(request: GpuRequest): Promise<void> {
  try {
    scope.postMessage(await answer(request));
  } catch (error) {
    scope.postMessage({
      type: 'failed',
      id: request.id,
      message: error instanceof Error ? error.message : String(error),
      noAdapter: error instanceof NoAdapterError,
    });
  }
}

async function answer(request: GpuRequest): Promise<GpuReply> {
  switch (request.type) {
    case 'start': {
      const adapter = await adapterInfo();
      if (!(await tf.setBackend('webgpu'))) {
        throw new NoAdapterError('tensorflow.js could not start its WebGPU backend');
      }
      await tf.ready();
      trainer?.dispose();
      trainer = new TensorSaeTrainer(request.config, request.parameters, request.inputScale);
      return { type: 'started', id: request.id, backend: tf.getBackend(), adapter };
    }
    case 'step': {
      const started = performance.now();
      const losses = await currentTrainer(request.id).step(
        request.batch,
        request.rows,
        request.step,
      );
      return { type: 'stepped', id: request.id, losses, elapsedMs: performance.now() - started };
    }
    case 'parameters':
      return {
        type: 'parameters',
        id: request.id,
        parameters: await currentTrainer(request.id).parameters(),
      };
    case 'stop':
      trainer?.dispose();
      trainer = null;
      return { type: 'stopped', id: request.id };
    default: {
      const unknown: never = request;
      throw new Error(`unknown request ${JSON.stringify(unknown)}`);
    }
  }
}

function currentTrainer(id: number): TensorSaeTrainer {
  if (trainer === null) throw new Error(`request ${id}: no training started (send start first)`);
  return trainer;
}

/** The adapter the browser offers, or NoAdapterError saying why there is none. */
async function adapterInfo(): Promise<GpuAdapterInfo> {
  const gpu = scope.navigator.gpu;
  if (gpu === undefined) {
    throw new NoAdapterError(
      'this browser exposes no navigator.gpu in workers (WebGPU is off; Chromium without a ' +
        'supported GPU needs --enable-unsafe-webgpu)',
    );
  }
  const adapter = await gpu.requestAdapter();
  if (adapter === null) {
    throw new NoAdapterError('navigator.gpu.requestAdapter() gave no adapter');
  }
  const info = adapter.info ?? {};
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    description: info.description ?? '',
    isFallbackAdapter: info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false,
  };
}
