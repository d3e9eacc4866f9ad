/**
 * Nobody let in through `basis serve`, tried from outside as an attacker would: the real CLI
 * process, raw HTTP requests. It must listen on 127.0.0.1 only, want the token on every
 * request, serve nothing but the built renderer and the API (whatever the path encoding),
 * and refuse cross-origin and rebinding requests without granting any CORS header.
 * (test/unit/serve covers the same server in-process, including symbolic links.)
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendRaw, type RawReply, type RawRequest } from '../support/rawHttp';
import { startCli, waitForOutput } from '../integration/cliHarness';
import { createWorkspace, type Workspace } from './harness';

let workspace: Workspace;
let server: ChildProcess;
let port: number;
let token: string;

beforeAll(async () => {
  workspace = await createWorkspace('serve');
  const started = startCli(['serve', '--json'], workspace.database);
  server = started.child;
  const line = await waitForOutput(server.stdout!, (text) => text.includes('\n'));
  const printed = JSON.parse(line.split('\n')[0]!) as {
    origin: string;
    token: string;
    port: number;
  };
  expect(printed.origin).toBe(`http://127.0.0.1:${printed.port}`);
  port = printed.port;
  token = printed.token;
});

afterAll(async () => {
  if (server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGINT');
    await exited;
  }
  workspace.remove();
});

/** A raw request: the path is sent byte for byte, and every header is ours to choose. */
function send(path: string, options: RawRequest = {}): Promise<RawReply> {
  return sendRaw(port, path, options);
}

const bearer = (): Record<string, string> => ({ Authorization: `Bearer ${token}` });

function expectNoCorsGrant(reply: RawReply): void {
  for (const name of Object.keys(reply.headers)) {
    expect(name.toLowerCase()).not.toMatch(/^access-control-allow/);
  }
}

describe('basis serve, from outside', () => {
  it('listens on 127.0.0.1 only, not on any other address', async () => {
    // /proc/net/tcp lists listening sockets (state 0A) as hex address:port, little-endian IPv4.
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
    const listening = ['/proc/net/tcp', '/proc/net/tcp6']
      .flatMap((file) => {
        try {
          return readFileSync(file, 'utf8').split('\n').slice(1);
        } catch {
          return [];
        }
      })
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[3] === '0A' && fields[1]?.endsWith(`:${hexPort}`))
      .map((fields) => fields[1]!.split(':')[0]);
    expect(listening).toEqual(['0100007F']);

    // Any other address of this machine refuses the connection.
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((address) => address !== undefined && address.family === 'IPv4' && !address.internal)
      .map((address) => address!.address);
    for (const address of others) {
      const refused = await new Promise<boolean>((resolve) => {
        const socket = connect({ host: address, port });
        socket.once('connect', () => {
          socket.destroy();
          resolve(false);
        });
        socket.once('error', () => resolve(true));
      });
      expect(refused, `connection to ${address}:${port}`).toBe(true);
    }
  });

  it('wants the token on every request: pages, assets, API, wrong tokens, wrong cookies', async () => {
    const unauthenticated: [string, string][] = [
      ['GET', '/'],
      ['GET', '/index.html'],
      ['GET', '/assets/'],
      ['HEAD', '/'],
      ['POST', '/api/listRuns'],
      ['GET', '/api/listRuns'],
      ['OPTIONS', '/api/listRuns'],
    ];
    for (const [method, path] of unauthenticated) {
      const attempts: Record<string, string>[] = [
        {},
        { Authorization: 'Bearer wrong' },
        { Authorization: `Bearer ${token}x` },
        { Authorization: `Basic ${token}` },
        { Cookie: `basis-token-${port + 1}=${token}` },
        { Cookie: `basis-token-${port}=${token.slice(0, -1)}` },
      ];
      for (const headers of attempts) {
        const reply = await send(path, {
          method,
          headers: { ...headers, 'Content-Type': 'application/json' },
          ...(method === 'POST' ? { body: '[]' } : {}),
        });
        expect(reply.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(reply.body).not.toMatch(/<script|"ok":true/);
      }
    }
    const wrongQuery = await send('/?token=not-the-token');
    expect(wrongQuery.status).toBe(401);
    expect(wrongQuery.headers['set-cookie']).toBeUndefined();

    const allowed = await send('/', { headers: bearer() });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toMatch(/<html/i);
  });

  it('serves nothing outside the built renderer, however the path is written', async () => {
    const secret = readFileSync('package.json', 'utf8');
    const attempts = [
      '/../package.json',
      '/../../package.json',
      '/%2e%2e/package.json',
      '/%2E%2E/%2E%2E/package.json',
      '/..%2fpackage.json',
      '/..%2f..%2fpackage.json',
      '/%2e%2e%2f%2e%2e%2fpackage.json',
      '/..%5cpackage.json',
      '/..%5c..%5cpackage.json',
      '/%5c..%5c..%5cpackage.json',
      '/.%2e/package.json',
      '/%252e%252e/package.json',
      '/assets/../../package.json',
      '/assets/%2e%2e/%2e%2e/package.json',
      '//etc/passwd',
      '/%2fetc%2fpasswd',
      '/..%00/package.json',
      '/index.html%00.js',
      '/%c0%ae%c0%ae/package.json',
      '/%',
      '/main/cli.js',
      '/../main/cli.js',
      '/..%2fmain%2fcli.js',
      '/proc/self/environ',
      '/%2fproc%2fself%2fenviron',
    ];
    for (const path of attempts) {
      const reply = await send(path, { headers: bearer() });
      expect([400, 404], path).toContain(reply.status);
      expect(reply.body, path).not.toContain(secret.slice(0, 40));
      expect(reply.body, path).not.toMatch(/root:x:0:0|BASIS|PATH=|require\(/);
    }
  });

  it('refuses cross-origin requests even with the right token, and grants no CORS header', async () => {
    const evil = [
      { Origin: 'http://evil.example' },
      { Origin: 'null' },
      { Origin: `http://127.0.0.1:${port}.evil.example` },
      { Origin: `https://127.0.0.1:${port}` },
      { Origin: `http://127.0.0.1:${port + 1}` },
    ];
    for (const headers of evil) {
      for (const [method, path] of [
        ['POST', '/api/listRuns'],
        ['GET', '/'],
        ['OPTIONS', '/api/listRuns'],
      ] as const) {
        const reply = await send(path, {
          method,
          headers: {
            ...bearer(),
            ...headers,
            'Content-Type': 'application/json',
            'Access-Control-Request-Method': 'POST',
          },
          ...(method === 'POST' ? { body: '[]' } : {}),
        });
        expect(reply.status, `${method} ${path} from ${headers.Origin}`).toBe(403);
        expectNoCorsGrant(reply);
      }
    }
    // The token-in-address exchange is refused to other origins too: no cookie is set.
    const exchange = await send(`/?token=${token}`, { headers: { Origin: 'http://evil.example' } });
    expect(exchange.status).toBe(403);
    expect(exchange.headers['set-cookie']).toBeUndefined();

    // A same-origin call works, and still grants no CORS header.
    const own = await send('/api/listRuns', {
      method: 'POST',
      headers: {
        ...bearer(),
        Origin: `http://127.0.0.1:${port}`,
        'Content-Type': 'application/json',
      },
      body: '[]',
    });
    expect(own.status).toBe(200);
    expect(JSON.parse(own.body)).toEqual({ ok: true, value: [] });
    expectNoCorsGrant(own);
  });

  it('refuses DNS-rebinding requests (a foreign Host) and HTML-form posts', async () => {
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`]) {
      const reply = await send('/api/listRuns', {
        method: 'POST',
        headers: { ...bearer(), Host: host, 'Content-Type': 'application/json' },
        body: '[]',
      });
      expect(reply.status, host).toBe(403);
    }
    // A cross-site form can only send simple content types: the API wants JSON.
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']) {
      const reply = await send('/api/listRuns', {
        method: 'POST',
        headers: { ...bearer(), 'Content-Type': type },
        body: '[]',
      });
      expect(reply.status, type).toBe(415);
    }
  });
});
