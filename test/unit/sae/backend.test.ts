import * as tf from '@tensorflow/tfjs';
import { expect, test } from 'vitest';
import { initializeBackend } from '../../../src/worker/backend';

test('picks WebAssembly when native TensorFlow is absent, once, and computes with it', async () => {
  const first = initializeBackend();
  expect(initializeBackend()).toBe(first);
  const name = await first;
  // The native packages are optional peers that this checkout does not install.
  expect(name).toBe('wasm');
  expect(tf.getBackend()).toBe('wasm');
  const product = tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]));
  expect(Array.from(product.dataSync())).toEqual([19, 22, 43, 50]);
  product.dispose();
});
