/**
 * Messages between a page and the WebGPU SAE worker (saeWorker.ts). Every request carries an
 * id; the worker answers each with exactly one reply of the same id, `failed` when it could
 * not do it. Typed arrays travel by structured clone (batches are transferred).
 */
import type { SaeReluConfig, SaeTopkConfig } from '../shared/methods';

/** SAE parameters in training units; the encoder transposed, features x dimensions. */
export interface GpuSaeParameters {
  dimensions: number;
  features: number;
  encoderT: Float32Array;
  encoderBias: Float32Array;
  decoder: Float32Array;
  decoderBias: Float32Array;
}

/** A step's losses, named as the CPU trainer reports them (docs/sae.md). */
export interface GpuStepLosses {
  loss: number;
  mse: number;
  l0: number;
  l1?: number;
  aux?: number;
  deadFeatures: number;
  gradientNorm: number;
  learningRate: number;
  [name: string]: number | undefined;
}

/** What the worker learnt of the adapter; a fallback adapter is a software one. */
export interface GpuAdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  isFallbackAdapter: boolean;
}

export type GpuRequest =
  | {
      type: 'start';
      id: number;
      config: SaeReluConfig | SaeTopkConfig;
      parameters: GpuSaeParameters;
      inputScale: number;
    }
  | { type: 'step'; id: number; batch: Float32Array; rows: number; step: number }
  | { type: 'parameters'; id: number }
  | { type: 'stop'; id: number };

export type GpuReply =
  | { type: 'started'; id: number; backend: string; adapter: GpuAdapterInfo }
  | { type: 'stepped'; id: number; losses: GpuStepLosses; elapsedMs: number }
  | { type: 'parameters'; id: number; parameters: GpuSaeParameters }
  | { type: 'stopped'; id: number }
  /** `noAdapter`: the browser offers no WebGPU adapter (not an error of the request). */
  | { type: 'failed'; id: number; message: string; noAdapter: boolean };
