/**
 * Chooses the tensorflow.js backend once per process, by the ladder of DESIGN.md: native
 * TensorFlow with CUDA, native TensorFlow, WebAssembly (SIMD), plain JavaScript. The native
 * packages are optional peers the user adds with one command; they are looked up at run time
 * with a guarded require, so their absence is normal and silent.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

let chosen: Promise<string> | undefined;

/** Sets up the best available backend and returns its name ('tensorflow', 'wasm', 'cpu'). */
export function initializeBackend(): Promise<string> {
  chosen ??= chooseBackend();
  return chosen;
}

async function chooseBackend(): Promise<string> {
  const requireHere = nodeRequire();

  // Native TensorFlow registers itself as 'tensorflow' when its package loads.
  for (const name of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    if (tryRequire(requireHere, name) && (await trySetBackend('tensorflow')))
      return tf.getBackend();
  }

  if (await setUpWasm(requireHere)) return tf.getBackend();

  await tf.setBackend('cpu');
  await tf.ready();
  return tf.getBackend();
}

async function setUpWasm(requireHere: NodeRequire): Promise<boolean> {
  try {
    const wasm = requireHere('@tensorflow/tfjs-backend-wasm') as {
      setWasmPaths(prefix: string): void;
    };
    // The .wasm binaries sit beside the package's JavaScript in dist/; locating them through
    // the package itself works from sources (vitest) and from the bundle in out/main alike.
    const packageFolder = dirname(
      requireHere.resolve('@tensorflow/tfjs-backend-wasm/package.json'),
    );
    wasm.setWasmPaths(join(packageFolder, 'dist') + '/');
    return await trySetBackend('wasm');
  } catch {
    return false;
  }
}

function tryRequire(requireHere: NodeRequire, name: string): boolean {
  try {
    requireHere(name);
    return true;
  } catch {
    return false;
  }
}

async function trySetBackend(name: string): Promise<boolean> {
  try {
    if (!(await tf.setBackend(name))) return false;
    await tf.ready();
    return true;
  } catch {
    return false;
  }
}

function nodeRequire(): NodeRequire {
  // CommonJS bundles have `require`; ES modules (vitest on sources) build one from their URL.
  return typeof require === 'function' ? require : createRequire(import.meta.url);
}
