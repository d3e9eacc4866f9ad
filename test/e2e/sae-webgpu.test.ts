/**
 * The WebGPU SAE worker (src/gpu/saeWorker.ts) in Debian's headless Chromium
 * against the CPU trainer (src/worker/sae): a few sae-topk and sae-relu steps from the same
 * initial parameters on the same batches give the same losses and parameters within the
 * float32 tolerances of test/unit/gpu/reference.ts. Here Chromium's adapter is the
 * SwiftShader software one; the test skips, saying why, when Chromium or an adapter is missing.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuReply, GpuStepLosses } from '../../src/gpu/protocol';
import { expectMatches, referenceRun } from '../unit/gpu/reference';
import { CHROMIUM, openWebGpuPage, type WebGpuPage } from './webgpuPage';

const SIZES = { dimensions: 12, features: 48, rows: 40, steps: 6 };

let opened: WebGpuPage | undefined;
/** Why the comparison cannot run here, or null when it can. */
let unavailable: string | null = null;
let requestId = 0;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    unavailable = `${CHROMIUM} is not installed`;
    return;
  }
  opened = await openWebGpuPage();
});

afterAll(async () => {
  await opened?.close();
});

function expectReply<T extends GpuReply['type']>(
  reply: GpuReply,
  type: T,
): Extract<GpuReply, { type: T }> {
  if (reply.type === 'failed') throw new Error(`the worker failed: ${reply.message}`);
  expect(reply.type).toBe(type);
  return reply as Extract<GpuReply, { type: T }>;
}

describe('the WebGPU SAE worker in headless Chromium', () => {
  for (const method of ['sae-topk', 'sae-relu'] as const) {
    it(`${method}: equals the CPU trainer within float32 tolerances`, async (context) => {
      if (unavailable !== null || opened === undefined) {
        console.warn(`skipped: no WebGPU comparison: ${unavailable}`);
        context.skip(`no WebGPU comparison: ${unavailable}`);
        return;
      }
      const page = opened;
      const reference = referenceRun(method, SIZES);

      const start = await page.call({
        type: 'start',
        id: ++requestId,
        config: reference.config,
        parameters: reference.initial,
        inputScale: reference.inputScale,
      });
      if (start.type === 'failed' && start.noAdapter) {
        // Skipped, not passed: the reporter counts it and the note says why.
        console.warn(`skipped: Chromium offers no WebGPU adapter: ${start.message}`);
        context.skip(`Chromium offers no WebGPU adapter: ${start.message}`);
        return;
      }
      const started = expectReply(start, 'started');
      expect(started.backend).toBe('webgpu');
      console.log(`WebGPU adapter: ${JSON.stringify(started.adapter)}`);

      const losses: GpuStepLosses[] = [];
      for (const [step, batch] of reference.batches.entries()) {
        const reply = await page.call({
          type: 'step',
          id: ++requestId,
          batch,
          rows: reference.rows,
          step,
        });
        losses.push(expectReply(reply, 'stepped').losses);
      }
      const read = await page.call({ type: 'parameters', id: ++requestId });
      expectMatches(reference, losses, expectReply(read, 'parameters').parameters);
      expectReply(await page.call({ type: 'stop', id: ++requestId }), 'stopped');
    });
  }
});
