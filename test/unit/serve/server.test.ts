import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendRaw, type RawReply, type RawRequest } from '../../support/rawHttp';
import { startServer, type RunningServer } from '../../../src/main/serve/server';
import { createService, type BasisService } from '../../../src/main/service/service';
import type { ApiReply, DatasetInfo } from '../../../src/shared/contract';
import { tokenCookieName } from '../../../src/main/serve/security';

/** The real npy file of the shared data, small enough to record quickly. */
const GLOVE = join(process.cwd(), '..', 'shared', 'data', 'glove');

function send(server: RunningServer, path: string, options: RawRequest = {}): Promise<RawReply> {
  return sendRaw(server.port, path, options);
}

function call(
  server: RunningServer,
  method: string,
  args: unknown,
  headers: Record<string, string> = {},
) {
  return send(server, `/api/${method}`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${server.token}`,
      'Content-Type': 'application/json',
      ...headers,
    },
    body: typeof args === 'string' ? args : JSON.stringify(args),
  });
}

describe('loopback HTTP transport', () => {
  let folder: string;
  let service: BasisService;
  let server: RunningServer;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'basis-serve-'));
    const renderer = join(folder, 'renderer');
    mkdirSync(join(renderer, 'assets'), { recursive: true });
    writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>Basis</title>');
    writeFileSync(join(renderer, 'assets', 'app.js'), 'console.log(1);');
    writeFileSync(join(renderer, 'assets', 'style.css'), 'body{}');
    writeFileSync(join(folder, 'secret.txt'), 'outside the renderer folder');
    symlinkSync(join(folder, 'secret.txt'), join(renderer, 'assets', 'escape.txt'));
    service = createService({ databasePath: join(folder, 'basis.sqlite') });
    server = await startServer(service, { rendererFolder: renderer });
  });

  afterAll(async () => {
    await server.close();
    await service.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 and prints an address carrying the token', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    expect(server.url).toContain(server.token);
  });

  it('answers an API call carrying the bearer token with the service value', async () => {
    const reply = await call(server, 'listDatasets', []);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ ok: true, value: [] });
  });

  it('records a real dataset through the transport and returns plain arrays', async () => {
    const reply = await call(server, 'openDataset', [
      join(GLOVE, 'glove6B100d_top20k_f32.npy'),
      {},
    ]);
    const parsed = JSON.parse(reply.body) as ApiReply<DatasetInfo>;
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.shape).toEqual([20000, 100]);
    expect(Array.isArray(parsed.value.statistics.mean)).toBe(true);
    expect(parsed.value.statistics.mean).toHaveLength(100);
  });

  it('refuses API calls without a token or with a wrong one', async () => {
    const missing = await send(server, '/api/listDatasets', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '[]',
    });
    expect(missing.status).toBe(401);
    const wrong = await call(server, 'listDatasets', [], { Authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    const wrongCookie = await send(server, '/', {
      headers: { Cookie: `${tokenCookieName(server.port)}=${'x'.repeat(43)}` },
    });
    expect(wrongCookie.status).toBe(401);
  });

  it('exchanges the token in the address for an HttpOnly, same-site cookie', async () => {
    const opened = await send(server, `/?token=${server.token}`);
    expect(opened.status).toBe(303);
    expect(opened.headers.location).toBe('/');
    const cookie = String(opened.headers['set-cookie']);
    expect(cookie).toContain(`${tokenCookieName(server.port)}=${server.token}`);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');

    const page = await send(server, '/', {
      headers: { Cookie: `${tokenCookieName(server.port)}=${server.token}` },
    });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Basis</title>');
    expect((await send(server, '/?token=wrong')).status).toBe(401);
  });

  it('serves the renderer with MIME types and a content security policy', async () => {
    const auth = { Authorization: `Bearer ${server.token}` };
    const index = await send(server, '/', { headers: auth });
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    const script = await send(server, '/assets/app.js', { headers: auth });
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.body).toBe('console.log(1);');
    const style = await send(server, '/assets/style.css', { headers: auth });
    expect(style.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('serves nothing outside the renderer folder: traversal, encoded traversal, symlinks', async () => {
    const auth = { Authorization: `Bearer ${server.token}` };
    for (const path of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/assets/..%5c..%5csecret.txt',
      '/assets/escape.txt',
      '/%00index.html',
      '/assets',
      '/missing.js',
    ]) {
      const reply = await send(server, path, { headers: auth });
      expect(reply.status, path).toBe(404);
      expect(reply.body).not.toContain('outside the renderer folder');
    }
  });

  it('refuses cross-origin and rebinding requests', async () => {
    const crossOrigin = await call(server, 'listDatasets', [], { Origin: 'http://evil.example' });
    expect(crossOrigin.status).toBe(403);
    const otherPort = await call(server, 'listDatasets', [], { Origin: 'http://127.0.0.1:1' });
    expect(otherPort.status).toBe(403);
    const sameOrigin = await call(server, 'listDatasets', [], {
      Origin: `http://127.0.0.1:${server.port}`,
    });
    expect(sameOrigin.status).toBe(200);
    const rebound = await call(server, 'listDatasets', [], { Host: `evil.example:${server.port}` });
    expect(rebound.status).toBe(403);
    // An SSH tunnel may forward another local port: the loopback name is what counts.
    const tunnel = await call(server, 'listDatasets', [], {
      Host: 'localhost:9000',
      Origin: 'http://localhost:9000',
    });
    expect(tunnel.status).toBe(200);
  });

  it('refuses unknown methods, wrong verbs, non-JSON bodies and bad arguments with input errors', async () => {
    const unknown = await call(server, 'dropEverything', []);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toMatchObject({ ok: false, error: { kind: 'not-found' } });
    expect((await call(server, 'constructor', [])).status).toBe(404);
    expect((await call(server, '__proto__', [])).status).toBe(404);

    const get = await send(server, '/api/listRuns', {
      headers: { Authorization: `Bearer ${server.token}` },
    });
    expect(get.status).toBe(405);

    const form = await call(server, 'listRuns', '[]', { 'Content-Type': 'text/plain' });
    expect(form.status).toBe(415);

    const notJson = await call(server, 'getRun', '[1,');
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.body)).toMatchObject({ ok: false, error: { kind: 'input' } });

    const badArgument = await call(server, 'getRun', [-1]);
    expect(badArgument.status).toBe(400);
    const error = (JSON.parse(badArgument.body) as ApiReply<never> & { ok: false }).error;
    expect(error.kind).toBe('input');
    expect(error.message).toMatch(/getRun argument 1 \(runId\)/);

    const tooBig = await call(server, 'openDataset', JSON.stringify(['x'.repeat(2 << 20), {}]));
    expect(tooBig.status).toBe(400);
  });

  it('passes the service errors through with their kind', async () => {
    const missing = await call(server, 'getRun', [999]);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ ok: false, error: { kind: 'not-found' } });
    const noFile = await call(server, 'openDataset', [join(folder, 'nothing.npy'), {}]);
    expect(JSON.parse(noFile.body)).toMatchObject({ ok: false });
    expect(noFile.status).toBeGreaterThanOrEqual(400);
  });
});
