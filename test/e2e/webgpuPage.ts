/// <reference lib="dom" />
/**
 * A page in Debian's Chromium that runs the WebGPU SAE worker (src/gpu), for the
 * WebGPU test and bench. The worker is bundled with Vite into a temporary folder, served on
 * 127.0.0.1 (a secure context, which WebGPU requires), and driven through `call`, which posts
 * one GpuRequest and resolves with its GpuReply.
 *
 * Without a supported GPU, Chromium's only WebGPU adapter is SwiftShader, a software (CPU)
 * Vulkan implementation, and it offers it only under --enable-unsafe-webgpu.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import type { GpuReply, GpuRequest } from '../../src/gpu/protocol';
import { CHROMIUM, HEADLESS_FLAGS } from './chromium';

const ROOT = resolve(__dirname, '..', '..');
export { CHROMIUM };
/** The project's headless flags plus the one that exposes the software adapter. */
export const CHROMIUM_FLAGS = [...HEADLESS_FLAGS, '--enable-unsafe-webgpu'];

const PAGE = `<!doctype html><meta charset="utf-8"><title>Basis WebGPU</title><script>
const worker = new Worker('/saeWorker.js', { type: 'module' });
const pending = new Map();
worker.onmessage = (event) => {
  const settle = pending.get(event.data.id);
  pending.delete(event.data.id);
  settle(event.data);
};
worker.onerror = (event) => {
  for (const settle of pending.values()) {
    settle({ type: 'failed', id: -1, message: 'worker error: ' + event.message, noAdapter: false });
  }
  pending.clear();
};
window.call = (request) =>
  new Promise((settle) => {
    pending.set(request.id, settle);
    worker.postMessage(request);
  });
</script>`;

export interface WebGpuPage {
  page: Page;
  /** Posts one request to the worker and resolves with its reply. */
  call(request: GpuRequest): Promise<GpuReply>;
  close(): Promise<void>;
}

/** Bundles the worker, serves it and opens it in headless Chromium. */
export async function openWebGpuPage(): Promise<WebGpuPage> {
  const folder = mkdtempSync(join(tmpdir(), 'basis-webgpu-'));
  let server: Server | undefined;
  let browser: Browser | undefined;
  try {
    await build({
      configFile: false,
      logLevel: 'warn',
      root: ROOT,
      build: {
        outDir: folder,
        emptyOutDir: false,
        minify: false,
        lib: {
          entry: join(ROOT, 'src', 'gpu', 'saeWorker.ts'),
          formats: ['es'],
          fileName: () => 'saeWorker.js',
        },
      },
    });
    const worker = readFileSync(join(folder, 'saeWorker.js'));
    server = createServer((request, response) => {
      const isWorker = request.url === '/saeWorker.js';
      response.setHeader('Content-Type', isWorker ? 'text/javascript' : 'text/html');
      response.end(isWorker ? worker : PAGE);
    });
    const listening = server;
    await new Promise<void>((done) => listening.listen(0, '127.0.0.1', done));
    const address = listening.address();
    if (address === null || typeof address === 'string') throw new Error('no port');

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${address.port}/`);
    const opened = browser;
    return {
      page,
      call: (request) =>
        page.evaluate(
          (message) => (window as unknown as { call(m: GpuRequest): GpuReply }).call(message),
          request,
        ),
      close: async () => {
        await opened.close();
        listening.close();
        rmSync(folder, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await browser?.close();
    server?.close();
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
}
